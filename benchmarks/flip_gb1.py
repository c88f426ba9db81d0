"""FLIP GB1: ridge on one-hot sequences vs SeqCNN from scratch vs SeqCNN after masked-token pretraining.

Usage (from the repository root):
    .venv/bin/python benchmarks/flip_gb1.py --protein-dir ../shared/data/protein \
        --splits two_vs_rest three_vs_rest low_vs_high --seeds 0 1 2 --pretrained CKPT

``--pretrained`` is a SeqCNN checkpoint folder (``deepchem-finetune pretrain --backbone seq_cnn ...``); without
it only ridge and scratch run. Model selection: Spearman on FLIP's validation rows (early stopping with
patience); the reported test Spearman is the one at the best-validation epoch. Writes a CSV and prints
mean +/- std per (split, model).
"""
import argparse
import os
import platform
import time

import pandas as pd
import torch

from deepchem_finetune import ProteinTokenizer, SeqCNNModel
from deepchem_finetune.benchmark.baselines import ridge_one_hot
from deepchem_finetune.benchmark.references import FLIP_REFERENCES
from deepchem_finetune.data.flip import load_flip
from deepchem_finetune.training import fit_with_early_stopping

PUBLISHED = {split: {name: ref[f"flip_gb1:{split}"] for name, ref in FLIP_REFERENCES.items()}
             for split in ("one_vs_rest", "two_vs_rest", "three_vs_rest", "low_vs_high", "sampled")}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--protein-dir", default=os.environ.get("DEEPCHEM_FINETUNE_PROTEIN_DIR"))
    p.add_argument("--splits", nargs="+", default=["two_vs_rest", "three_vs_rest", "low_vs_high"])
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--pretrained", help="SeqCNN checkpoint folder (masked-token pretraining)")
    p.add_argument("--strategy", default="full")
    p.add_argument("--width", type=int, default=64)
    p.add_argument("--depth", type=int, default=4)
    p.add_argument("--max-epochs", type=int, default=40)
    p.add_argument("--patience", type=int, default=8)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", default="benchmarks/out/flip_gb1.csv")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    tokenizer = ProteinTokenizer(max_length=265)  # GB1 sequences: 265 residues, no padding needed
    enc = tokenizer.input_encoding()
    rows = []
    if os.path.exists(args.out):
        rows = pd.read_csv(args.out).to_dict("records")
    done = {(r["split"], r["model"], int(r["seed"])) for r in rows}
    t0 = time.time()
    for split in args.splits:
        tasks, (train, valid, test), tr = load_flip("gb1", split, tokenizer, data_dir=args.protein_dir)
        models = ["ridge_onehot", "seqcnn_scratch"] + (["seqcnn_pretrained"] if args.pretrained else [])
        for name in models:
            for seed in args.seeds if name != "ridge_onehot" else [0]:
                if (split, name, seed) in done:
                    continue
                t = time.time()
                if name == "ridge_onehot":
                    res = ridge_one_hot(train, valid, test, enc["vocab_size"], enc["pad_id"])
                    row = {"valid": res["valid_spearman"], "test": res["test_spearman"], "best_epoch": None}
                else:
                    common = dict(n_tasks=1, mode="regression", seed=seed, learning_rate=args.lr, batch_size=32)
                    if name == "seqcnn_scratch":
                        model = SeqCNNModel(featurizer=tokenizer, width=args.width, depth=args.depth, **common)
                    else:
                        model = SeqCNNModel.from_pretrained(args.pretrained, strategy=args.strategy, **common)
                    out = fit_with_early_stopping(model, train, valid, test, tr, max_epochs=args.max_epochs,
                                                  patience=args.patience, progress=False, metric="spearman")
                    row = {"valid": out["valid_score"], "test": out["test_score"], "best_epoch": out["best_epoch"]}
                row = {"split": split, "model": name, "seed": seed, "n_train": len(train), **row,
                       "seconds": round(time.time() - t, 1)}
                print(row, flush=True)
                rows.append(row)
                os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
                pd.DataFrame(rows).to_csv(args.out, index=False)
    df = pd.DataFrame(rows)
    table = df.groupby(["split", "model"])["test"].agg(["mean", "std", "count"])
    print(f"\nmachine: {platform.machine()}, torch threads {args.threads}, total {time.time() - t0:.0f}s")
    print(table.to_string(float_format=lambda v: f"{v:.3f}"))
    print("\npublished (FLIP GB1 baselines):", {k: PUBLISHED[k] for k in args.splits if k in PUBLISHED})


if __name__ == "__main__":
    main()
