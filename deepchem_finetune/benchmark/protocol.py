"""The protocol stamped on every benchmark row: what decides its number, so rows from different schedules never
merge silently.

Three groups of fields:

* the **recipe** (:data:`RECIPE`): max epochs, patience, learning rate and schedule, batch size, how the epoch is
  selected. All arms we train (``gnn``, ``seqcnn`` and their twins) must share it within a dataset; peers
  (chemprop, forests) record their own and are exempt;
* the **arm** (:data:`ARM`): strategy options, featurizer, backbone config hash, pretrained weights sha256, dropout,
  head (hidden widths and dropout of the prediction head);
* the **run** (:data:`RUN`): split name and a hash of its ids, torch threads, package version, git commit, date.

:func:`check_protocols` lists every disagreement (recipe within a dataset, split ids within a (dataset, split,
seed) cell); the report refuses to merge such rows unless told to, and then labels them.
"""
from __future__ import annotations

import functools
import hashlib
import json
import subprocess
from datetime import datetime, timezone
from typing import Dict, List, Sequence

import pandas as pd

from deepchem_finetune._version import __version__

RECIPE = ("max_epochs", "patience", "learning_rate", "lr_schedule", "batch_size", "selection")
ARM = ("strategy_options", "featurizer", "backbone_hash", "pretrained_sha256", "dropout", "head")
RUN = ("split_hash", "n_train", "n_valid", "n_test", "torch_threads", "package_version", "git_commit", "date")
FIELDS = RECIPE + ARM + RUN
#: arms trained with our recipe (the others are peers with their own)
TRAINED_FAMILIES = ("gnn", "seqcnn", "mlp")


class ProtocolMismatch(ValueError):
    """Rows to be merged were produced under different protocols; the message names the fields."""


def short_hash(obj) -> str:
    """First 12 hex digits of the sha256 of ``obj`` as sorted JSON.

    Examples
    --------
    >>> short_hash({"b": 1, "a": [1, 2]}) == short_hash({"a": [1, 2], "b": 1})
    True
    """
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:12]


def split_hash(parts) -> str:
    """Hash of the ids of a (train, valid, test) split: equal hashes mean the very same rows in each part."""
    return short_hash([[str(i) for i in p.ids] for p in parts])


@functools.lru_cache(maxsize=1)
def git_commit() -> str:
    """HEAD of the git repository around the working directory (``+dirty`` with uncommitted changes), or ''."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True, timeout=10)
        if head.returncode != 0:
            return ""
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True,
                               text=True, timeout=10).stdout.strip()
        return head.stdout.strip() + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return ""


def run_fields(parts) -> Dict:
    """The run group of the stamp for a cell trained on ``parts``."""
    import torch
    return {"split_hash": split_hash(parts), "n_train": len(parts[0]), "n_valid": len(parts[1]),
            "n_test": len(parts[2]), "torch_threads": torch.get_num_threads(), "package_version": __version__,
            "git_commit": git_commit(), "date": datetime.now(timezone.utc).strftime("%Y-%m-%d")}


def model_fields(model, max_epochs: int, patience: int) -> Dict:
    """Recipe and arm fields of one of our models (:class:`~deepchem_finetune.models.BackboneModel`)."""
    from deepchem_finetune.hub import architecture
    lr = model.optimizer.learning_rate
    schedule = type(lr).__name__ if not isinstance(lr, (int, float)) else "constant"
    recipe = getattr(model, "recipe", None)
    if recipe is not None and not recipe.is_default:  # the fine-tuning recipe decides the schedule
        schedule = "recipe " + json.dumps(recipe.config, sort_keys=True)
    sha = model.pretrained_sha256 or ""
    return {"max_epochs": max_epochs, "patience": patience, "learning_rate": float(getattr(lr, "initial_rate", lr)),
            "lr_schedule": schedule,
            "batch_size": model.batch_size, "selection": "best_valid",
            "strategy_options": json.dumps(model.strategy.options, sort_keys=True),
            "featurizer": f"{model.featurizer_spec['name']}:{short_hash(model.featurizer_spec)}",
            "backbone_hash": short_hash({"name": type(model.backbone).__name__,
                                         "config": architecture(model.backbone.config)}),
            "pretrained_sha256": sha, "dropout": model.backbone.config.get("dropout"),
            "head": json.dumps(model.head_config, sort_keys=True)}


def trained(model_name: str) -> bool:
    """Whether a benchmark model name is one of the arms trained with our recipe (incl. ``scratch:`` twins)."""
    name = model_name[len("scratch:"):] if model_name.startswith("scratch:") else model_name
    return name.split(":", 1)[0].split("+")[0] in TRAINED_FAMILIES


def stamp_text(value) -> str:
    """A stamp value as text; a whole float (a column that also holds NaN) as an integer: 40.0 -> '40'."""
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def check_protocols(df: pd.DataFrame, fields: Sequence[str] = RECIPE, every_arm: bool = False) -> List[str]:
    """Every protocol disagreement among benchmark rows, as readable lines (empty when the rows may be merged).

    * rows without the stamp (written before it existed) are one problem;
    * within a dataset, rows of trained arms (of every arm with ``every_arm``, e.g. rows comparing recipes) must agree
      on every field of ``fields`` (default :data:`RECIPE`; a comparison of recipes passes the fields its arms share);
    * within a (dataset, split, seed) cell, every row must have the same ``split_hash``;
    * rows of one trained arm on one dataset must have one ``head`` stamp (when the column exists).

    Examples
    --------
    >>> rows = pd.DataFrame({"dataset": ["bbbp", "bbbp"], "model": ["gnn", "gnn:zoo"], "split": "scaffold",
    ...                      "seed": 0, "split_hash": "a", **{f: [30, 50] if f == "max_epochs" else 1 for f in RECIPE}})
    >>> check_protocols(rows)
    ['bbbp: trained arms differ in max_epochs: 30 (gnn), 50 (gnn:zoo)']
    """
    problems: List[str] = []
    ours = df if every_arm else df[df["model"].map(trained)]
    missing = [f for f in ("split_hash",) + (tuple(fields) if len(ours) else ()) if f not in df.columns]
    if missing:
        return [f"rows carry no protocol stamp (columns {missing} are missing): they were written before rows were "
                f"stamped; rerun them"]
    unstamped = df["split_hash"].isna()
    if unstamped.any():
        problems.append(f"{int(unstamped.sum())} row(s) carry no protocol stamp (e.g. "
                        f"{df[unstamped].iloc[0][['dataset', 'model', 'seed']].to_dict()}); rerun them")
    for dataset, g in ours.groupby("dataset", sort=True):
        for field in fields:
            values = g.groupby(g[field].map(stamp_text))["model"].apply(lambda m: sorted(set(m)))
            if len(values) > 1:
                shown = ", ".join(f"{v} ({', '.join(models)})" for v, models in values.items())
                problems.append(f"{dataset}: trained arms differ in {field}: {shown}")
    if "head" in ours.columns:  # one arm, one head: rows resumed across a change of head never mix silently
        for (dataset, model), g in ours.groupby(["dataset", "model"], sort=True):
            heads = sorted(set(g["head"].map(stamp_text)))
            if len(heads) > 1:
                problems.append(f"{dataset} / {model}: rows with different heads: {', '.join(heads)}")
    for (dataset, split, seed), g in df[~unstamped].groupby(["dataset", "split", "seed"], sort=True):
        hashes = g.groupby("split_hash")["model"].apply(lambda m: sorted(set(m)))
        if len(hashes) > 1:
            shown = "; ".join(f"{h}: {', '.join(models)}" for h, models in hashes.items())
            problems.append(f"{dataset} / {split} / seed {seed}: arms were trained on different split ids ({shown})")
    return problems


def protocol_label(df: pd.DataFrame, fields: Sequence[str] = RECIPE) -> pd.Series:
    """A short label per row naming its recipe (for reports of rows merged with ``allow_mixed``)."""
    present = [f for f in fields if f in df.columns]
    return df[present].astype(str).apply(lambda r: "p" + short_hash(list(r))[:6], axis=1)
