"""DNA tasks: k-mer baseline vs SeqCNN from scratch vs SeqCNN pretrained, paired on identical split ids.

Usage (from the repository root):
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/dna_benchmark.py --tasks ecoli_promoters yeast_expression \
        --splits homology random --seeds 0 1 2 --pretrained benchmarks/out/dna/seqcnn_bacteria_mt \
        --max-train 8000 --max-valid 2000 --out benchmarks/results/dna.csv

Per (task, split, seed) the data are loaded once and every arm trains on the same rows: ``kmer`` (k-mer counts,
k = 3..6, ridge / logistic regression, k and alpha chosen on validation), the SeqCNN from scratch and, with
``--pretrained``, that backbone fine-tuned (``seqcnn:<name>``) and its scratch twin (``scratch:seqcnn:<name>``:
the pretrained backbone's config and tokenizer, random weights); without it the scratch arm is ``seqcnn``
(``--width``/``--depth``). CNNs are selected by validation RMSE (regression) or ROC-AUC; the test metrics are
Pearson r (``test``) and Spearman (``test_spearman``) for yeast, ROC-AUC for promoters. The split is seeded by
the seed, so the paired confidence intervals cover split-to-split variation too. ``--max-train`` /
``--max-valid`` subsample the training / validation part (seeded; stated in every row). ``test_leak_20mer`` is the
fraction of test sequences sharing a 20-mer with a training sequence (0 on the homology split; on a random split it
grows with the training set: yeast 10% with 4,000 training rows, 82% with all 55,392).

Rows (one per task, split, seed, model) carry the protocol stamp of
:mod:`deepchem_finetune.benchmark.protocol` and are appended to ``--out``; a rerun skips rows present and
continues a killed CNN cell from its last epoch. At the end the paired differences (95% t-CIs over seeds) and the
random-vs-homology overestimate per model are printed and written beside the CSV (``<out>.md``).
"""
import argparse
import os
import shutil
import sys
import time

import numpy as np
import pandas as pd
import torch

import deepchem_finetune  # noqa: F401  (before deepchem: quiet import)
import deepchem as dc
from deepchem_finetune import storage
from deepchem_finetune.benchmark.pairing import format_summary, paired_rows, paired_summary, t_interval
from deepchem_finetune.benchmark.protocol import model_fields, run_fields
from deepchem_finetune.data.dna_tasks import (constant_flanks, dna_scores, kmer_baseline, load_ecoli_promoters,
                                              load_yeast_expression)
from deepchem_finetune.featurizers import NucleotideTokenizer, featurizer_from_spec
from deepchem_finetune.models import SeqCNNModel
from deepchem_finetune.splits import sharing_kmers
from deepchem_finetune.training import fit_with_early_stopping

TASKS = {"ecoli_promoters": (load_ecoli_promoters, "classification", "roc_auc"),
         "yeast_expression": (load_yeast_expression, "regression", "pearson")}
KEY = ["dataset", "split", "seed", "model"]


def subsample(dataset, n, seed):
    """The first ``n`` rows of a seeded permutation (kept in dataset order); all rows when ``n`` is None."""
    if n is None or n >= len(dataset):
        return dataset
    return dataset.select(np.sort(np.random.default_rng(seed).permutation(len(dataset))[:n]))


def genome_text(artifact, dna_dir):
    """Both strands of the genomes a pretrained backbone saw (found by name under ``<dna_dir>/genomes``), or None."""
    from deepchem_finetune.data.genomes import reverse_complement
    from deepchem_finetune.data.readers import read_sequences
    genomes = artifact.provenance.get("data", {}).get("genome_windows", {}).get("genomes", [])
    paths = [os.path.join(dna_dir, "genomes", g["name"]) for g in genomes]
    if not paths or not all(os.path.isfile(p) for p in paths):
        return None
    seqs = [s.upper() for p in paths for s in read_sequences(p).sequences]
    return "|".join(seqs + [reverse_complement(s) for s in seqs])


def run_cnn(name, parts, transformers, mode, seed, args, artifact, tokenizer, state_dir):
    common = dict(n_tasks=1, mode=mode, seed=seed, batch_size=args.batch_size, learning_rate=args.lr)
    if artifact is None:
        model = SeqCNNModel(featurizer=tokenizer, width=args.width, depth=args.depth, **common)
    elif name.startswith("scratch:"):
        model = SeqCNNModel._from_backbone_spec(artifact.backbone, artifact.featurizer, **common)
    else:
        model = SeqCNNModel.from_pretrained(artifact, strategy=args.strategy, **common)
    train, valid, test = parts
    out = fit_with_early_stopping(model, train, valid, test, transformers, max_epochs=args.max_epochs,
                                  patience=args.patience, progress=False, state_dir=state_dir)
    pred = model.predict(test, transformers)
    return {"valid": out["valid_score"], "selection_metric": "roc_auc" if mode == "classification" else "rmse",
            "best_epoch": out["best_epoch"], "epochs": out["epochs_run"], "strategy": args.strategy
            if artifact is not None and not name.startswith("scratch:") else "-",
            **model_fields(model, args.max_epochs, args.patience)}, pred


def test_leak(parts):
    """Fraction of test sequences sharing a 20-mer with a training sequence (constant flanks ignored)."""
    ids = [str(i) for p in parts for i in p.ids]
    pre, suf = constant_flanks(ids)
    return float(sharing_kmers([str(i) for i in parts[2].ids], [str(i) for i in parts[0].ids], 20, pre, suf).mean())


def run_cell(task, split, seed, model, parts, transformers, args, artifact, tokenizer, corpus_text):
    loader, mode, metric = TASKS[task]
    t0 = time.time()
    if model == "kmer":
        res = kmer_baseline(*parts, mode, transformers)
        row = {"valid": res["valid"], "selection_metric": metric, "k": res["k"], "alpha": res["alpha"],
               "strategy": "-"}
        pred = res["test_pred"]
    else:
        state_dir = f"{args.out}.state/{task}-{split}-{seed}-{model.replace(':', '_').replace('/', '_')}"
        row, pred = run_cnn(model, parts, transformers, mode, seed, args, artifact, tokenizer, state_dir)
        shutil.rmtree(state_dir, ignore_errors=True)
    y = parts[2].y if mode == "classification" else dc.trans.undo_transforms(parts[2].y, transformers)
    scores = dna_scores(y, pred, mode)
    row = {"dataset": task, "split": split, "seed": seed, "model": model, "metric": metric, "test": scores[metric],
           "test_spearman": scores.get("spearman", np.nan), **row, "max_train": args.max_train,
           "max_valid": args.max_valid, "test_leak_20mer": test_leak(parts), "seconds": round(time.time() - t0, 1),
           **run_fields(parts)}
    if corpus_text is not None and model.startswith("seqcnn:"):
        row["test_in_corpus"] = int(sum(str(s) in corpus_text for s in parts[2].ids))
    return row


def write_rows(rows, path):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with storage.atomic_file(path) as fh:
        pd.DataFrame(rows).to_csv(fh, index=False)


def report(df):
    """Markdown lines: mean +/- std per arm, paired differences with CIs, random-vs-homology overestimate."""
    lines = ["## Test scores (mean ± std over seeds)", "", "| task | split | model | metric | mean ± std | n |",
             "|---|---|---|---|---|---|"]
    long = pd.concat([df, df[df["test_spearman"].notna()].assign(metric="spearman", test=lambda d: d["test_spearman"])])
    for (task, split, model, metric), g in long.groupby(["dataset", "split", "model", "metric"], sort=True):
        lines.append(f"| {task} | {split} | {model} | {metric} | {g['test'].mean():.3f} ± {g['test'].std():.3f} "
                     f"| {len(g)} |")
    models = sorted(df["model"].unique())
    pre = [m for m in models if m.startswith("seqcnn:")]
    scratch = [m for m in models if m.startswith("scratch:") or m == "seqcnn"]
    pairs = [(p, f"scratch:{p}") for p in pre] + [(m, "kmer") for m in pre + scratch]
    for split, part in long.groupby("split", sort=True):
        for arm, ref in pairs:
            rows = pd.concat([paired_rows(g, arm, ref) for _, g in part.groupby("metric")])
            if len(rows):
                lines += ["", f"## Paired, {split} split: {arm} − {ref} (positive = {arm} better)", ""]
                lines += format_summary(paired_summary(rows))
    lines += ["", "## Random split − homology split, same model and seed (positive = random split scores higher)", "",
              "| task | model | metric | mean diff [95% CI] | n |", "|---|---|---|---|---|"]
    for (task, model, metric), g in long.groupby(["dataset", "model", "metric"], sort=True):
        w = g.pivot_table(index="seed", columns="split", values="test")
        if {"random", "homology"} <= set(w.columns):
            d = (w["random"] - w["homology"]).dropna()
            mean, low, high = t_interval(d)
            ci = "" if np.isnan(low) else f" [{low:+.3f}, {high:+.3f}]"
            lines.append(f"| {task} | {model} | {metric} | {mean:+.3f}{ci} | {len(d)} |")
    return lines


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--tasks", nargs="+", default=list(TASKS), choices=list(TASKS))
    p.add_argument("--splits", nargs="+", default=["homology"], choices=["homology", "random"])
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--models", nargs="+", default=["kmer", "scratch", "pretrained"],
                   choices=["kmer", "scratch", "pretrained"], help="arms to run (pretrained needs --pretrained)")
    p.add_argument("--pretrained", help="SeqCNN pretrained folder or zoo name (its twin replaces the scratch arm)")
    p.add_argument("--data-dir", default=os.environ.get("DEEPCHEM_FINETUNE_DNA_DIR", "../shared/data/dna"))
    p.add_argument("--max-train", type=int, help="subsample the training part to N rows (seeded)")
    p.add_argument("--max-valid", type=int, help="subsample the validation part to N rows (seeded)")
    p.add_argument("--width", type=int, default=128, help="scratch SeqCNN without --pretrained")
    p.add_argument("--depth", type=int, default=6, help="scratch SeqCNN without --pretrained")
    p.add_argument("--strategy", default="full")
    p.add_argument("--max-epochs", type=int, default=20)
    p.add_argument("--patience", type=int, default=4)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", default="benchmarks/results/dna.csv")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    artifact = None
    if args.pretrained:
        from deepchem_finetune.hub import read_pretrained
        artifact = read_pretrained(args.pretrained)
        tag = os.path.basename(os.path.normpath(args.pretrained))
        tokenizer = featurizer_from_spec(artifact.featurizer)
    else:
        tokenizer = NucleotideTokenizer(max_length=128)
    names = {"kmer": "kmer", "scratch": f"scratch:seqcnn:{tag}" if artifact else "seqcnn",
             "pretrained": f"seqcnn:{tag}" if artifact else None}
    models = [names[m] for m in args.models if names[m]]
    rows = pd.read_csv(args.out).to_dict("records") if os.path.exists(args.out) else []
    done = {(r["dataset"], r["split"], int(r["seed"]), r["model"]) for r in rows}
    corpus_text = genome_text(artifact, args.data_dir) if artifact is not None else None
    for task in args.tasks:
        for split in args.splits:
            for seed in args.seeds:
                todo = [m for m in models if (task, split, seed, m) not in done]
                if not todo:
                    continue
                _, (train, valid, test), transformers = TASKS[task][0](tokenizer, split=split, data_dir=args.data_dir,
                                                                       seed=seed)
                parts = (subsample(train, args.max_train, seed), subsample(valid, args.max_valid, seed), test)
                for model in todo:
                    row = run_cell(task, split, seed, model, parts, transformers, args, artifact, tokenizer,
                                   corpus_text)
                    print({k: row[k] for k in ("dataset", "split", "seed", "model", "test", "test_spearman",
                                               "seconds")}, flush=True)
                    rows.append(row)
                    write_rows(rows, args.out)
    if not rows:
        return 0
    lines = report(pd.DataFrame(rows))
    with storage.atomic_file(os.path.splitext(args.out)[0] + ".md") as fh:
        fh.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
