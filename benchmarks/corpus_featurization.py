"""Corpus featurization benchmark: SMILES file -> cached DiskDataset with ``featurize_corpus``.

Run from the repository root:

    .venv/bin/python benchmarks/corpus_featurization.py --limit 20000 --workers 2 --preset hu2020
    .venv/bin/python benchmarks/corpus_featurization.py --workers 2 --preset rich --targets descriptors

Featurizes into a fresh cache (a temporary directory unless ``--cache-dir``), then calls again to time the cache
hit. Prints molecules/s (wall clock, worker start-up included), peak RSS of this process and of the largest
worker (``resource.getrusage``), the cache size on disk and the 1-minute load average (the figures are only
comparable on an otherwise idle machine). Ends with one greppable ``metric: value`` line per figure.
"""
import argparse
import os
import resource
import shutil
import sys
import tempfile
import time

import deepchem_finetune  # noqa: F401  (before deepchem: silences DeepChem's import chatter)
from deepchem_finetune.data import featurize_corpus
from deepchem_finetune.featurizers import MolGraphFeaturizer


def peak_rss_mib(who):
    kib = resource.getrusage(who).ru_maxrss  # KiB on Linux, bytes on macOS
    return kib / (1024 ** 2 if sys.platform == "darwin" else 1024)


def du_mib(path):
    total = 0
    for root, _, files in os.walk(path):
        total += sum(os.path.getsize(os.path.join(root, f)) for f in files)
    return total / 2 ** 20


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default="../shared/data/corpora/zinc250k_rndm_zinc_drugs_clean.smi.gz")
    parser.add_argument("--limit", type=int, default=None, help="first N SMILES only (default: all)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--preset", default="hu2020", choices=["hu2020", "rich"])
    parser.add_argument("--shard-size", type=int, default=10000)
    parser.add_argument("--targets", default=None, choices=["descriptors"],
                        help="also compute RDKit 2D descriptor targets in the same pass (as descriptor pretraining does)")
    parser.add_argument("--cache-dir", default=None, help="default: a temporary directory, removed afterwards")
    parser.add_argument("--progress", action="store_true", help="show the tqdm bar")
    args = parser.parse_args()

    cache = args.cache_dir or tempfile.mkdtemp(prefix="corpus_bench_")
    try:
        kwargs = dict(cache_dir=cache, shard_size=args.shard_size, workers=args.workers, limit=args.limit,
                      progress=args.progress, targets=args.targets)
        featurizer = MolGraphFeaturizer(args.preset)
        t0 = time.perf_counter()
        res = featurize_corpus(args.corpus, featurizer, **kwargs)
        elapsed = time.perf_counter() - t0
        t0 = time.perf_counter()
        again = featurize_corpus(args.corpus, featurizer, **kwargs)
        hit_s = time.perf_counter() - t0
        metrics = {
            "molecules": res.n_total,
            "valid": res.n_valid,
            "invalid": res.n_invalid,
            "first_call_cache_hit": res.cache_hit,
            "featurize_s": round(elapsed, 2),
            "molecules_per_s": round(res.n_total / elapsed, 1),
            "cache_hit_s": round(hit_s, 3),
            "second_call_cache_hit": again.cache_hit,
            "peak_rss_main_mib": round(peak_rss_mib(resource.RUSAGE_SELF), 1),
            "peak_rss_largest_worker_mib": round(peak_rss_mib(resource.RUSAGE_CHILDREN), 1),
            "dataset_mib": round(du_mib(os.path.join(res.cache_dir, "dataset")), 1),
            "load_avg_1min": round(os.getloadavg()[0], 2),
            "cpu_count": os.cpu_count(),
        }
    finally:
        if args.cache_dir is None:
            shutil.rmtree(cache, ignore_errors=True)
    print(f"## featurize_corpus: {args.corpus} (limit={args.limit}, workers={args.workers}, "
          f"preset={args.preset}, targets={args.targets}, shard_size={args.shard_size})")
    for name, value in metrics.items():
        print(f"{name}: {value}")


if __name__ == "__main__":
    main()
