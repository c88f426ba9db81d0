"""Pretraining throughput per objective (molecules/s of training, featurization timed apart), CPU.

Run from the repository root:

    .venv/bin/python benchmarks/pretraining_throughput.py --limit 5000 --steps 60 --threads 2

For each objective it pretrains a fresh GIN on the first ``--limit`` ZINC250k molecules for ``--steps`` steps
through :func:`deepchem_finetune.pretraining.pretrain` (DeepChem's ``fit``), into a temporary folder, and
reports the training molecules/s (steps x batch / training seconds) and the data-preparation time (graph
featurization, plus descriptor computation for descriptor objectives; a fresh cache each time). Figures are only
comparable on an otherwise idle machine; the 1-minute load average is printed beside them.
"""
import argparse
import os
import shutil
import tempfile
import time

import torch

import deepchem_finetune  # noqa: F401  (before deepchem: silences DeepChem's import chatter)
from deepchem_finetune.pretraining import pretrain

OBJECTIVES = ["attr_masking", "context_pred", "descriptors", "attr_masking+descriptors"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default="../shared/data/corpora/zinc250k_rndm_zinc_drugs_clean.smi.gz")
    ap.add_argument("--limit", type=int, default=5000)
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--num-layers", type=int, default=5)
    ap.add_argument("--hidden-dim", type=int, default=300)
    ap.add_argument("--featurizer", default="rich", choices=["hu2020", "rich"])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--objectives", nargs="+", default=OBJECTIVES)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    rows = []
    for objective in args.objectives:
        tmp = tempfile.mkdtemp(prefix="pretrain_tp_")
        os.environ["DEEPCHEM_FINETUNE_CACHE"] = os.path.join(tmp, "cache")  # featurize afresh: time it
        try:
            res = pretrain(args.corpus, os.path.join(tmp, "ckpt"), objective=objective, featurizer=args.featurizer,
                           limit=args.limit, max_steps=args.steps, epochs=1000, batch_size=args.batch_size,
                           workers=args.workers, checkpoint_every=10 ** 9, progress=False,
                           num_layers=args.num_layers, hidden_dim=args.hidden_dim)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        seen = res["molecules_seen"]
        rows.append((objective, res["data_seconds"], args.limit / max(res["data_seconds"], 1e-9),
                     seen / res["training_seconds"], os.getloadavg()[0]))
    print(f"GIN {args.num_layers} x {args.hidden_dim}, MolGraphFeaturizer({args.featurizer!r}), batch "
          f"{args.batch_size}, {args.steps} steps, {args.threads} torch threads, first {args.limit} ZINC250k molecules\n")
    print("| objective | data preparation s (mol/s) | training mol/s | load avg |")
    print("|---|---|---|---|")
    for objective, data_s, data_rate, train_rate, load in rows:
        print(f"| {objective} | {data_s:.1f} ({data_rate:,.0f}) | {train_rate:,.0f} | {load:.1f} |")
    print()
    for objective, data_s, data_rate, train_rate, _ in rows:
        print(f"pretrain_{objective}_train_mol_per_s: {train_rate:.1f}")
        print(f"pretrain_{objective}_data_mol_per_s: {data_rate:.1f}")


if __name__ == "__main__":
    t0 = time.time()
    main()
    print(f"total_seconds: {time.time() - t0:.1f}")
