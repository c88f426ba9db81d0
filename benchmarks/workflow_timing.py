"""Wall time of the main job as a user meets it (#24): `deepchem-finetune finetune --ensemble 5` on a 1,000-molecule
CSV, then `deepchem-finetune predict` on 10,000 SMILES, each as a fresh command-line process (imports, featurization,
training, writing included).

Usage (from the repository root; give the run the whole machine, nothing else running):
    .venv/bin/python benchmarks/workflow_timing.py --out benchmarks/results/workflow_timing.csv

The 1,000 molecules are the first 1,000 rows of the ESOL example that ships in the package
(`deepchem-finetune example esol`); the 10,000 SMILES are the first 10,000 of ZINC250k (``--smiles-file``, any file
with one SMILES first on each line, or a CSV with a ``smiles`` column). Defaults are the CLI's own (5 members, the
zoo's recommended backbone, recipe ``stable``, at most 100 epochs, patience 20); ``--finetune-option`` adds CLI
options. One row per command is appended to ``--out``: wall seconds, molecules, threads, the CPU, and for
``finetune`` the ensemble's test RMSE and each member's epochs, with the package version, git commit and date.
"""
import argparse
import csv
import gzip
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from deepchem_finetune import __version__, storage  # noqa: E402
from deepchem_finetune.benchmark.protocol import git_commit  # noqa: E402
from deepchem_finetune.examples import path as example_path  # noqa: E402
from deepchem_finetune.workflow.folder import MARKER  # noqa: E402
from throughput import cpu_model  # noqa: E402  (benchmarks/throughput.py, beside this script)

CLI = [sys.executable, "-m", "deepchem_finetune.cli"]


def read_smiles(path: str, n: int) -> list:
    if path.endswith((".csv", ".csv.gz")):
        return pd.read_csv(path, nrows=n)["smiles"].astype(str).tolist()
    opener = gzip.open if path.endswith(".gz") else open
    out = []
    with opener(path, "rt") as fh:
        for line in fh:
            if line.strip() and not line.startswith(("smiles", "SMILES")):
                out.append(line.split()[0])
            if len(out) == n:
                break
    return out


def timed(cmd, log) -> float:
    print("$", " ".join(shlex.quote(c) for c in cmd), flush=True)
    t0 = time.time()
    run = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT)
    seconds = time.time() - t0
    if run.returncode != 0:
        raise SystemExit(f"command failed (exit {run.returncode}); see {log.name}")
    return seconds


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--molecules", type=int, default=1000, help="rows of the fine-tuning CSV")
    p.add_argument("--predict-molecules", type=int, default=10000)
    p.add_argument("--smiles-file", default="../shared/data/corpora/zinc250k_rndm_zinc_drugs_clean.smi.gz")
    p.add_argument("--ensemble", type=int, default=5)
    p.add_argument("--finetune-option", action="append", default=[],
                   help="extra finetune CLI text, e.g. '--max-epochs 30' (repeatable)")
    p.add_argument("--work", help="folder for the CSVs and the model (default: a temporary one)")
    p.add_argument("--out", default="benchmarks/results/workflow_timing.csv")
    args = p.parse_args(argv)

    work = Path(args.work or tempfile.mkdtemp(prefix="workflow_timing_"))
    work.mkdir(parents=True, exist_ok=True)
    train_csv, predict_csv, model_dir = work / "train.csv", work / "predict.csv", work / "model"
    esol = pd.read_csv(example_path("esol"))
    if len(esol) < args.molecules:
        raise SystemExit(f"the ESOL example has {len(esol)} rows, fewer than --molecules {args.molecules}")
    esol.head(args.molecules).to_csv(train_csv, index=False)
    smiles = read_smiles(args.smiles_file, args.predict_molecules)
    if len(smiles) < args.predict_molecules:
        raise SystemExit(f"{args.smiles_file} has only {len(smiles)} SMILES")
    pd.DataFrame({"smiles": smiles}).to_csv(predict_csv, index=False)
    extra = [tok for opt in args.finetune_option for tok in shlex.split(opt)]
    common = {"package_version": __version__, "git_commit": git_commit(), "date": datetime.now(timezone.utc)
              .strftime("%Y-%m-%dT%H:%M:%SZ"), "cpu": cpu_model(), "cpu_count": os.cpu_count(),
              "torch_threads_env": os.environ.get("OMP_NUM_THREADS", "")}
    rows = []
    with open(work / "commands.log", "w") as log:
        finetune = CLI + ["finetune", str(train_csv), "--smiles-column", "smiles", "--target-columns", "logS",
                          "--ensemble", str(args.ensemble), "--out", str(model_dir), "--overwrite", "--no-progress",
                          *extra]
        seconds = timed(finetune, log)
        metrics = json.loads((model_dir / "metrics.json").read_text())
        info = json.loads((model_dir / MARKER).read_text())
        training = info.get("training", {})
        rows.append({"command": "finetune", "molecules": args.molecules, "wall_seconds": round(seconds, 1),
                     "ensemble": metrics["ensemble_size"],
                     "member_epochs": " ".join(str(m["epochs_run"]) for m in metrics["members"]),
                     "member_best_epochs": " ".join(str(m["best_epoch"]) for m in metrics["members"]),
                     "test_rmse": metrics["ensemble"]["test"]["logS"]["rmse"],
                     "pretrained": training.get("pretrained", ""), "recipe": training.get("recipe", ""),
                     "max_epochs": training.get("max_epochs", ""), "patience": training.get("patience", ""),
                     "options": " ".join(extra), **common})
        predictions = work / "predictions.csv"
        seconds = timed(CLI + ["predict", str(model_dir), str(predict_csv), "--out", str(predictions)], log)
        pred = pd.read_csv(predictions)
        rows.append({"command": "predict", "molecules": len(smiles), "wall_seconds": round(seconds, 1),
                     "ensemble": metrics["ensemble_size"], "rows_ok": int((pred["status"] == "ok").sum()),
                     "smiles_file": os.path.basename(args.smiles_file),
                     **common})
    for row in rows:
        print(row)
    out = Path(args.out)
    old = pd.read_csv(out) if out.exists() else pd.DataFrame()
    with storage.atomic_file(out) as fh:
        pd.concat([old, pd.DataFrame(rows)], ignore_index=True).to_csv(fh, index=False, quoting=csv.QUOTE_MINIMAL)
    print(f"appended {len(rows)} rows to {out}")


if __name__ == "__main__":
    main()
