"""MolGNNModel from scratch on MoleculeNet, DeepChem scaffold split, several seeds.

Usage (from the repository root):
    .venv/bin/python benchmarks/molnet_scratch.py --datasets bbbp bace --seeds 0 1 2 \
        --data-dir ../shared/data/moleculenet

Prints one line per (dataset, seed) and a mean +/- std table of the test score at the
best-validation epoch (ROC-AUC for classification, RMSE for regression).
"""
import argparse
import os
import platform
import time

import numpy as np
import pandas as pd
import torch

from deepchem_finetune import MolGNNModel
from deepchem_finetune.data import dataset_mode, load_moleculenet
from deepchem_finetune.training import fit_with_early_stopping


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--datasets", nargs="+", default=["bbbp", "bace"])
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--data-dir", default=os.environ.get("DEEPCHEM_DATA_DIR"))
    p.add_argument("--max-epochs", type=int, default=100)
    p.add_argument("--patience", type=int, default=20)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", default="benchmarks/out/molnet_scratch.csv")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    rows = []
    for name in args.datasets:
        mode = dataset_mode(name)
        probe = MolGNNModel(n_tasks=1, mode=mode)
        tasks, (train, valid, test), transformers = load_moleculenet(name, probe.get_featurizer(),
                                                                     data_dir=args.data_dir)
        for seed in args.seeds:
            model = MolGNNModel(n_tasks=len(tasks), mode=mode, seed=seed)
            t = time.time()
            out = fit_with_early_stopping(model, train, valid, test, transformers=transformers,
                                          max_epochs=args.max_epochs, patience=args.patience, progress=False)
            row = {"dataset": name, "seed": seed, "test": out["test_score"], "valid": out["valid_score"],
                   "best_epoch": out["best_epoch"], "epochs": out["epochs_run"], "seconds": time.time() - t}
            print(row, flush=True)
            rows.append(row)
    df = pd.DataFrame(rows)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    df.to_csv(args.out, index=False)
    summary = df.groupby("dataset")["test"].agg(["mean", "std", "count"])
    print(f"\nmachine: {platform.processor() or platform.machine()}, torch threads {args.threads}")
    print(summary.to_string(float_format=lambda v: f"{v:.4f}"))


if __name__ == "__main__":
    main()
