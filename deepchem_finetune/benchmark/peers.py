"""Peer arms: what a chemist would use instead of us, trained on exactly our split ids.

* ``rf``: a random forest on ECFP4 (2048 bits), one forest per task on its labelled rows;
* ``rf_desc``: the same forest on RDKit 2D descriptors (the set our descriptor objective predicts);
* ``chemprop``: chemprop v2's D-MPNN with its own defaults (``pip install deepchem-finetune[peers]``), given our
  train / validation / test rows as three CSV files; it picks its epoch on validation by itself, and we score its
  test predictions with our metric code.

Every peer loads the split with the same loader and splitter as the GNN arms (``MolGraphFeaturizer("hu2020")``,
which featurizes every molecule RDKit parses, so the rows and ids are the GNN arms' own), then featurizes the
SMILES of each part itself.
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from typing import Dict, Optional, Tuple

import numpy as np
import pandas as pd

from deepchem_finetune._compat import import_deepchem_quietly
from deepchem_finetune.metrics import masked_rmse, masked_roc_auc

dc = import_deepchem_quietly()
logger = logging.getLogger(__name__)

CHEMPROP_DEFAULT_EPOCHS = 50  # chemprop v2's own default


class PeerNotInstalled(RuntimeError):
    """A peer's package is missing; the message says how to install it."""


def chemprop_available() -> bool:
    """Whether the ``chemprop`` command of chemprop v2 is importable here."""
    import importlib.util
    return importlib.util.find_spec("chemprop") is not None


def raw_labels(dataset, transformers, mode: str) -> Tuple[np.ndarray, np.ndarray]:
    """``(y, w)`` of a split in the dataset's own units (regression transformers undone); ``w == 0`` is missing."""
    y = np.asarray(dataset.y, dtype=np.float64).reshape(len(dataset), -1)
    if mode == "regression":
        y = dc.trans.undo_transforms(y, transformers)
    w = np.asarray(dataset.w).reshape(len(dataset), -1)
    return y, np.broadcast_to(w, y.shape)


def score(mode: str, y: np.ndarray, w: np.ndarray, pred: np.ndarray) -> float:
    """Masked ROC-AUC (mean over tasks with both classes) or RMSE, from raw labels and predictions."""
    return masked_roc_auc(y, w, pred) if mode == "classification" else masked_rmse(y, w, pred)


def _forest(kinds, cell, parts, transformers, mode, model_options) -> Dict:
    from deepchem_finetune.benchmark.baselines import PerTaskForest
    from deepchem_finetune.featurizers.molecule import molecule_features
    n_estimators = int((model_options or {}).get("rf", {}).get("n_estimators", 500))
    X = [molecule_features([str(s) for s in p.ids], kinds) for p in parts]
    if "rdkit2d" in kinds:  # forests take no NaN: a failed descriptor becomes the training median
        fill = np.nanmedian(np.where(np.isfinite(X[0]), X[0], np.nan), axis=0)
        fill = np.where(np.isfinite(fill), fill, 0.0)
        X = [np.where(np.isfinite(x), x, fill).astype(np.float32) for x in X]
    (y_tr, w_tr), *evals = [raw_labels(p, transformers, mode) for p in parts]
    forest = PerTaskForest(mode, n_estimators=n_estimators, seed=cell["seed"], n_jobs=1).fit(X[0], y_tr, w_tr)
    valid, test = (score(mode, y, w, forest.predict(x)) for (y, w), x in zip(evals, X[1:]))
    return {"test": test, "valid": valid, "best_epoch": None, "epochs": None, "selection": "none",
            "featurizer": "+".join(kinds), "strategy_options": json.dumps({"n_estimators": n_estimators})}


def run_rf(cell, parts, transformers, mode, model_options=None, **_) -> Dict:
    """Random forest on ECFP4; ``model_options['rf']['n_estimators']`` (default 500)."""
    return _forest(["ecfp4"], cell, parts, transformers, mode, model_options)


def run_rf_desc(cell, parts, transformers, mode, model_options=None, **_) -> Dict:
    """Random forest on RDKit 2D descriptors (failed values: the training median)."""
    return _forest(["rdkit2d"], cell, parts, transformers, mode, model_options)


def _write_split_csv(path: str, dataset, transformers, mode: str, tasks) -> None:
    y, w = raw_labels(dataset, transformers, mode)
    frame = pd.DataFrame(np.where(w != 0, y, np.nan), columns=[f"t{i}" for i in range(y.shape[1])])
    frame.insert(0, "smiles", [str(s) for s in dataset.ids])
    frame.to_csv(path, index=False)


def run_chemprop(cell, parts, transformers, mode, tasks, model_options=None, workdir: Optional[str] = None,
                 features=(), **_) -> Dict:
    """chemprop v2 with its defaults on our three splits; ``model_options['chemprop']`` passes CLI options
    (``epochs=...`` becomes ``--epochs ...``). ``features=["rdkit2d"]`` (the arm ``chemprop+rdkit2d``) adds chemprop's
    own molecule features, ``--molecule-featurizers v1_rdkit_2d_normalized``.

    Raises
    ------
    PeerNotInstalled
        chemprop is not installed here (how to install it is in the message).
    RuntimeError
        chemprop failed (its last output lines are in the message).
    """
    if not chemprop_available():
        raise PeerNotInstalled("chemprop is not installed: pip install 'deepchem-finetune[peers]' "
                               "(chemprop v2, e.g. chemprop==2.2.4)")
    options = dict((model_options or {}).get("chemprop", {}))
    epochs = int(options.pop("epochs", CHEMPROP_DEFAULT_EPOCHS))
    if list(features) == ["rdkit2d"]:
        options["molecule_featurizers"] = "v1_rdkit_2d_normalized"
    folder = workdir or tempfile.mkdtemp(prefix="chemprop-")
    os.makedirs(folder, exist_ok=True)
    files = [os.path.join(folder, f"{name}.csv") for name in ("train", "val", "test")]
    for path, part in zip(files, parts):
        _write_split_csv(path, part, transformers, mode, tasks)
    targets = [f"t{i}" for i in range(len(tasks))]
    out = os.path.join(folder, "out")
    shutil.rmtree(out, ignore_errors=True)
    cmd = [sys.executable, "-c", "from chemprop.cli.main import main; main()", "train", "-i", *files, "-s", "smiles",
           "--target-columns", *targets, "-t", "classification" if mode == "classification" else "regression",
           "-o", out, "--epochs", str(epochs), "--pytorch-seed", str(cell["seed"]), "--data-seed", str(cell["seed"]),
           "--num-workers", "0", "--accelerator", "cpu", "--devices", "1"]
    for key, value in options.items():
        flag = "--" + key.replace("_", "-")
        cmd += [flag] + ([] if value is True else [str(v) for v in (value if isinstance(value, list) else [value])])
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        raise RuntimeError(f"chemprop failed on {cell['dataset']} seed {cell['seed']} (exit {proc.returncode}):\n{tail}")
    pred = pd.read_csv(os.path.join(out, "model_0", "test_predictions.csv"))[targets].to_numpy(dtype=np.float64)
    y, w = raw_labels(parts[2], transformers, mode)
    if pred.shape != y.shape:
        raise RuntimeError(f"chemprop returned {pred.shape} test predictions for {y.shape} test labels")
    best_epoch = _chemprop_best_epoch(out)
    if workdir is None:
        shutil.rmtree(folder, ignore_errors=True)
    return {"test": score(mode, y, w, pred), "valid": float("nan"), "best_epoch": best_epoch, "epochs": epochs,
            "max_epochs": epochs, "selection": "chemprop: best validation loss", "batch_size": 64,
            "lr_schedule": "chemprop default (2 warm-up epochs, 1e-4 -> 1e-3 -> 1e-4)",
            "strategy_options": json.dumps(options, sort_keys=True),
            "featurizer": "chemprop v2 default" + (" + v1_rdkit_2d_normalized" if features else "")}


def _chemprop_best_epoch(out: str) -> Optional[int]:
    """The epoch chemprop kept (from its ``best-epoch=N-...ckpt`` file name), if it can be read."""
    import re
    folder = os.path.join(out, "model_0", "checkpoints")
    if not os.path.isdir(folder):
        return None
    for name in os.listdir(folder):
        m = re.match(r"best-epoch=(\d+)", name)
        if m:
            return int(m.group(1))
    return None


PEERS = {"rf": run_rf, "rf_desc": run_rf_desc, "chemprop": run_chemprop}
