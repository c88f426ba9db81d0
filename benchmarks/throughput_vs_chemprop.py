"""Training throughput side by side, in one run on the same BBBP split: our GNN at chemprop's default size
(3 layers x 300) and at 5 x 300, vs chemprop v2's default D-MPNN.

For each: molecules/s in training (training-set molecules x epochs / training wall time, validation scoring
excluded where it can be separated) and the wall time to its best validation epoch (the time a user waits for the
model they keep). Both sides train up to the same number of epochs with the same batch size; ours select the epoch
on validation ROC-AUC (``fit_with_early_stopping``), chemprop on validation loss (its own rule).

Run from the repository root (one core, as the other benchmarks):

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/throughput_vs_chemprop.py --epochs 30 \
        --out benchmarks/results/throughput_vs_chemprop.csv

Writes one CSV row per model with the protocol (split hash, threads, versions) and prints a markdown table.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import deepchem_finetune as dft  # before deepchem: silences DeepChem's import chatter
import numpy as np
import pandas as pd
import torch

from deepchem_finetune.benchmark.peers import _write_split_csv, chemprop_available
from deepchem_finetune.benchmark.protocol import git_commit, split_hash
from deepchem_finetune.data import load_moleculenet
from deepchem_finetune.training import fit_with_early_stopping


def ours(parts, transformers, layers: int, epochs: int, seed: int) -> dict:
    train, valid, test = parts
    model = dft.MolGNNModel(n_tasks=1, mode="classification", featurizer=dft.MolGraphFeaturizer("rich"),
                            num_layers=layers, hidden_dim=300, batch_size=32, seed=seed)
    t0 = time.perf_counter()
    out = fit_with_early_stopping(model, train, valid, test, transformers, max_epochs=epochs, patience=None,
                                  progress=False)
    total = time.perf_counter() - t0
    seconds = np.asarray(out["epoch_seconds"], dtype=float)
    best = int(out["best_epoch"])
    return {"model": f"MolGNN GIN {layers}x300 (rich)", "epochs": out["epochs_run"], "best_epoch": best,
            "wall_s": round(total, 1), "to_best_s": round(float(seconds[:best].sum()), 1),
            "train_mol_per_s": round(len(train) * out["epochs_run"] / float(seconds.sum()), 1),
            "test_roc_auc": out["test_score"], "note": "epoch time includes scoring valid + test"}


def chemprop(parts, transformers, epochs: int, seed: int) -> dict:
    folder = tempfile.mkdtemp(prefix="cp-throughput-")
    files = [os.path.join(folder, f"{n}.csv") for n in ("train", "val", "test")]
    for path, part in zip(files, parts):
        _write_split_csv(path, part, transformers, "classification", ["p_np"])
    cmd = [sys.executable, "-c", "from chemprop.cli.main import main; main()", "train", "-i", *files, "-s", "smiles",
           "--target-columns", "t0", "-t", "classification", "-o", os.path.join(folder, "out"), "--epochs",
           str(epochs), "--pytorch-seed", str(seed), "--data-seed", str(seed), "--num-workers", "0",
           "--accelerator", "cpu", "--devices", "1", "--batch-size", "32"]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    total = time.perf_counter() - t0
    if proc.returncode:
        raise RuntimeError(proc.stderr[-2000:])
    ckpts = os.listdir(os.path.join(folder, "out", "model_0", "checkpoints"))
    best = next(int(m.group(1)) for m in map(re.compile(r"best-epoch=(\d+)").match, ckpts) if m) + 1
    log = pd.read_csv(os.path.join(folder, "out", "model_0", "trainer_logs", "version_0", "metrics.csv"))
    pred = pd.read_csv(os.path.join(folder, "out", "model_0", "test_predictions.csv"))["t0"].to_numpy()
    from deepchem_finetune.benchmark.peers import raw_labels, score
    y, w = raw_labels(parts[2], transformers, "classification")
    shutil.rmtree(folder, ignore_errors=True)
    per_epoch = total / epochs  # chemprop logs no per-epoch wall time; includes its start-up and featurization
    return {"model": "chemprop v2 default D-MPNN (3 x 300)", "epochs": epochs, "best_epoch": best,
            "wall_s": round(total, 1), "to_best_s": round(per_epoch * best, 1),
            "train_mol_per_s": round(len(parts[0]) * epochs / total, 1),
            "test_roc_auc": score("classification", y, w, pred.reshape(-1, 1)),
            "note": f"whole command incl. start-up; {len(log)} logged steps"}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", default=os.environ.get("DEEPCHEM_DATA_DIR", "../shared/data/moleculenet"))
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", help="CSV to write (one row per model)")
    args = ap.parse_args()
    tasks, parts, transformers = load_moleculenet("bbbp", dft.MolGraphFeaturizer("rich"), "scaffold",
                                                  data_dir=args.data_dir)
    rows = [ours(parts, transformers, 3, args.epochs, args.seed), ours(parts, transformers, 5, args.epochs, args.seed)]
    if chemprop_available():
        rows.append(chemprop(parts, transformers, args.epochs, args.seed))
    else:
        print("chemprop not installed (pip install 'deepchem-finetune[peers]'): its row is missing")
    stamp = {"dataset": "bbbp", "split": "scaffold", "split_hash": split_hash(parts), "seed": args.seed,
             "batch_size": 32, "torch_threads": torch.get_num_threads(), "package_version": dft.__version__,
             "git_commit": git_commit(), "date": time.strftime("%Y-%m-%d")}
    df = pd.DataFrame([{**r, **stamp} for r in rows])
    print(df[["model", "epochs", "best_epoch", "train_mol_per_s", "wall_s", "to_best_s", "test_roc_auc"]]
          .to_string(index=False))
    if args.out:
        df.to_csv(args.out, index=False)


if __name__ == "__main__":
    main()
