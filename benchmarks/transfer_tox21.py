"""Supervised pretraining on Tox21, then fine-tuning on other MoleculeNet sets with several strategies.

Usage (from the repository root):
    .venv/bin/python benchmarks/transfer_tox21.py --data-dir ../shared/data/moleculenet \
        --targets bbbp clintox --strategies scratch full frozen l2_sp --seeds 0 1 2

Steps: (1) MolGNNModel (``--num-layers`` x ``--hidden-dim``, MolGraphFeaturizer('rich')) trained on all 12 Tox21 tasks (DeepChem
scaffold split; best-validation epoch) and saved with ``save_pretrained``; (2) for each target, strategy
and seed: ``MolGNNModel.from_pretrained`` (or the same architecture from scratch), early stopping on the
validation ROC-AUC, test ROC-AUC at the best-validation epoch. Writes a CSV and prints mean +/- std.
"""
import argparse
import os
import platform
import sys
import time

import pandas as pd
import torch

from deepchem_finetune import MolGNNModel, MolGraphFeaturizer
from deepchem_finetune.data import dataset_mode, load_moleculenet
from deepchem_finetune.training import fit_with_early_stopping



def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data-dir", default=os.environ.get("DEEPCHEM_DATA_DIR"))
    p.add_argument("--pretrain-on", default="tox21")
    p.add_argument("--pretrain-epochs", type=int, default=30)
    p.add_argument("--targets", nargs="+", default=["bbbp", "clintox"])
    p.add_argument("--strategies", nargs="+", default=["scratch", "full", "frozen", "l2_sp"])
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--max-epochs", type=int, default=30)
    p.add_argument("--patience", type=int, default=10)
    p.add_argument("--hidden-dim", type=int, default=300)
    p.add_argument("--num-layers", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", default="benchmarks/out/transfer_tox21")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    arch = dict(num_layers=args.num_layers, hidden_dim=args.hidden_dim)
    os.makedirs(args.out, exist_ok=True)
    featurizer = MolGraphFeaturizer("rich")
    ckpt = os.path.join(args.out, f"{args.pretrain_on}_supervised")
    t0 = time.time()
    if not os.path.exists(os.path.join(ckpt, "config.json")):
        tasks, (train, valid, test), tr = load_moleculenet(args.pretrain_on, featurizer, data_dir=args.data_dir)
        model = MolGNNModel(len(tasks), featurizer=featurizer, seed=0, dropout=0.2, **arch)
        out = fit_with_early_stopping(model, train, valid, test, tr, max_epochs=args.pretrain_epochs,
                                      patience=args.pretrain_epochs, progress=False)
        print(f"pretrained on {args.pretrain_on}: best epoch {out['best_epoch']}, valid {out['valid_score']:.4f}, "
              f"test {out['test_score']:.4f}, {time.time() - t0:.0f}s", flush=True)
        model.save_pretrained(ckpt, provenance={
            "data": {"name": args.pretrain_on, "size": len(train), "split": "deepchem scaffold, train part"},
            "command": " ".join([sys.executable] + sys.argv), "best_epoch": out["best_epoch"],
            "valid_roc_auc": out["valid_score"]})
    rows = []
    for target in args.targets:
        mode = dataset_mode(target)
        tasks, (train, valid, test), tr = load_moleculenet(target, featurizer, data_dir=args.data_dir)
        for strategy in args.strategies:
            for seed in args.seeds:
                if strategy == "scratch":
                    model = MolGNNModel(len(tasks), mode=mode, featurizer=featurizer, seed=seed, dropout=0.2, **arch)
                else:
                    model = MolGNNModel.from_pretrained(ckpt, n_tasks=len(tasks), mode=mode, strategy=strategy,
                                                        seed=seed, dropout=0.2)
                t = time.time()
                out = fit_with_early_stopping(model, train, valid, test, tr, max_epochs=args.max_epochs,
                                              patience=args.patience, progress=False)
                row = {"target": target, "strategy": strategy, "seed": seed, "test_roc_auc": out["test_score"],
                       "valid_roc_auc": out["valid_score"], "best_epoch": out["best_epoch"],
                       "seconds": round(time.time() - t, 1)}
                print(row, flush=True)
                rows.append(row)
                pd.DataFrame(rows).to_csv(os.path.join(args.out, "results.csv"), index=False)
    df = pd.DataFrame(rows)
    table = df.groupby(["target", "strategy"])["test_roc_auc"].agg(["mean", "std", "count"]).unstack(0)
    print(f"\nmachine: {platform.machine()}, torch threads {args.threads}, total {time.time() - t0:.0f}s")
    print(table.to_string(float_format=lambda v: f"{v:.4f}"))


if __name__ == "__main__":
    main()
