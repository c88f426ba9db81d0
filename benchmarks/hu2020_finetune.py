"""Fine-tune the published pretrain-gnns weights (Hu et al., 2020) with their protocol, vs from scratch.

Usage (from the repository root):
    .venv/bin/python benchmarks/hu2020_finetune.py --datasets bbbp bace clintox tox21 hiv \
        --weights scratch gcn_contextpred gcn_supervised_contextpred --seeds 0 1 2 --epochs 100 \
        --data-dir ../shared/data/moleculenet \
        --weights-dir ../shared/data/pretrain_gnns/chem_model_architecture

Protocol (Hu et al.; ../shared/data/pretrain_gnns/NOTES.md): inputs from MolGraphFeaturizer("hu2020");
the deterministic chirality-aware scaffold split 80/10/10 (Hu2020ScaffoldSplitter; ``--split
random_scaffold`` for the seeded variant); no class re-weighting; missing labels masked; 5 layers x 300,
JK last, mean pooling, dropout 0.5, batch 32, Adam lr 1e-3, ``--epochs`` epochs; the seed changes
initialisation and batch order. ROC-AUC per task over labelled entries, averaged over tasks with both
classes. Reported: test ROC-AUC at the best-validation epoch and at the last epoch. Split indices are
saved to ``<out>/splits/``.

Long runs (HIV: ~80 s an epoch on one core, 100 epochs a run) can be spread over several sessions: each run
goes through ``fit_with_early_stopping`` without early stopping (``patience=None``), the test set monitored after every epoch and its
training state in ``<out>/state/<dataset>_<weights>_s<seed>/``; rerunning the same command continues each
unfinished run from its last finished epoch, exactly as if uninterrupted (a larger ``--epochs`` extends it).
``--time-budget MIN`` stops starting epochs after MIN minutes. The per-epoch scores of an unfinished run are in its
``progress.json``; a finished run's go to ``<out>/curves/<same>.csv``. States written by the versions of this script
before commit a294fc1 (``checkpoint<N>.pt`` directly in the run's folder) are refused, not continued.
"""
import argparse
import json
import math
import os
import shutil
import sys
import time

import pandas as pd
import torch

from deepchem_finetune import MolGNNModel, MolGraphFeaturizer
from deepchem_finetune.data import load_moleculenet
from deepchem_finetune.splits import SPLITTERS
from deepchem_finetune.training import fit_with_early_stopping


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--datasets", nargs="+", default=["bbbp", "bace", "clintox", "tox21", "hiv"])
    p.add_argument("--weights", nargs="+", default=["scratch", "gcn_contextpred", "gcn_supervised_contextpred"])
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--epochs", type=int, default=100)
    p.add_argument("--split", default="hu2020_scaffold", choices=sorted(SPLITTERS))
    p.add_argument("--data-dir", default=os.environ.get("DEEPCHEM_DATA_DIR"))
    p.add_argument("--weights-dir", default="../shared/data/pretrain_gnns/chem_model_architecture")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", default="benchmarks/out/hu2020")
    p.add_argument("--time-budget", type=float, default=None, help="minutes; rerun to continue")
    p.add_argument("--stop-after-epochs", type=int, default=None,
                   help="train at most this many epochs of each run in this call, then stop it as if the time budget "
                        "were spent; rerun to continue")
    p.add_argument("--compile", action="store_true",
                   help="torch.compile the backbone (fewer kernel launches, meant for a GPU; no faster on a CPU)")
    args = p.parse_args()
    deadline = None if args.time_budget is None else time.time() + 60 * args.time_budget
    torch.set_num_threads(args.threads)
    os.makedirs(os.path.join(args.out, "splits"), exist_ok=True)
    csv = os.path.join(args.out, "results.csv")
    rows = pd.read_csv(csv).to_dict("records") if os.path.exists(csv) else []
    done = {(r["dataset"], r["weights"], int(r["seed"])) for r in rows}
    featurizer = MolGraphFeaturizer("hu2020")
    for name in args.datasets:
        splitter = SPLITTERS[args.split]()
        tasks, (train, valid, test), _ = load_moleculenet(name, featurizer, splitter=splitter,
                                                          data_dir=args.data_dir, transformers=[])
        with open(os.path.join(args.out, "splits", f"{name}_{args.split}.json"), "w") as fh:
            json.dump({"splitter": str(splitter), **{k: list(map(str, d.ids)) for k, d in
                                                     (("train", train), ("valid", valid), ("test", test))}}, fh)
        for weights in args.weights:
            conv = "gcn" if weights == "scratch" else weights.split("_")[0]
            for seed in args.seeds:
                run = f"{name}_{weights}_s{seed}"
                if (name, weights, seed) in done:
                    continue
                if deadline is not None and time.time() > deadline:
                    print(f"{run}: not started (time budget spent); rerun to continue", flush=True)
                    continue
                common = dict(n_tasks=len(tasks), mode="classification", dropout=0.5, batch_size=32,
                              learning_rate=1e-3, seed=seed, compile=args.compile)
                if weights == "scratch":
                    model = MolGNNModel(featurizer=featurizer, conv=conv, num_layers=5, hidden_dim=300, **common)
                else:
                    model = MolGNNModel.from_pretrained(os.path.join(args.weights_dir, weights + ".pth"), **common)
                state_dir = os.path.join(args.out, "state", run)
                if os.path.isdir(state_dir) and model.get_checkpoints(state_dir):
                    # checkpoint<N>.pt directly in the run's folder: the state of this script before it used
                    # fit_with_early_stopping (which keeps its checkpoints in epoch<k>/ under a progress.json)
                    raise RuntimeError(f"{state_dir} holds a state of an older version of this script, which "
                                       "cannot continue it; finish it with that version or delete it to start over")
                budget = None if deadline is None else max(0.0, deadline - time.time())
                out = fit_with_early_stopping(model, train, valid, max_epochs=args.epochs, patience=None,
                                              progress=False, state_dir=state_dir, monitor={"test": test},
                                              time_limit=budget, epoch_limit=args.stop_after_epochs)
                if not out["completed"]:
                    cause = {"time_limit": "time budget spent", "epoch_limit": "--stop-after-epochs reached"}
                    print(f"{run}: {cause[out['stopped_by']]} after epoch {out['epochs_run']}; rerun to continue",
                          flush=True)
                    continue
                test_curve = out["monitored"]["test"]
                curve = pd.DataFrame({"epoch": range(1, out["epochs_run"] + 1), "valid": out["history"],
                                      "test": test_curve, "seconds": out["epoch_seconds"]})
                os.makedirs(os.path.join(args.out, "curves"), exist_ok=True)
                curve.to_csv(os.path.join(args.out, "curves", run + ".csv"), index=False)
                best = out["best_epoch"]
                row = {"dataset": name, "weights": weights, "seed": seed, "split": args.split,
                       "test_at_best_valid": test_curve[best - 1], "best_epoch": best, "valid_best": out["valid_score"],
                       "test_last": test_curve[-1], "epochs": args.epochs, "device": _device_name(model),
                       "compile": args.compile,
                       "seconds": round(math.fsum(t for t in out["epoch_seconds"] if t == t), 1)}
                print(row, flush=True)
                rows.append(row)
                pd.DataFrame(rows).to_csv(csv, index=False)
                shutil.rmtree(state_dir, ignore_errors=True)  # the curve stays
    df = pd.DataFrame(rows)
    if not len(df):
        return
    for col in ("test_at_best_valid", "test_last"):
        t = (df.groupby(["dataset", "weights"])[col].agg(["mean", "std", "count"]) * [100, 100, 1]).round(1)
        print(f"\n{col} (ROC-AUC x 100, mean / std / seeds)\n{t.unstack(1).to_string()}")
    print("\ncommand:", " ".join([sys.executable] + sys.argv))


def _device_name(model) -> str:
    """'cpu' or the GPU's name ('cuda: NVIDIA H200'), for the results row."""
    device = model.device
    if device.type == "cuda":
        return f"cuda: {torch.cuda.get_device_name(device)}"
    return device.type


if __name__ == "__main__":
    main()
