"""``predict_csv`` (``deepchem-finetune predict``): every row of a CSV with the ensemble's mean prediction and
standard deviation per target and a ``status`` column; nothing is dropped, other columns are kept as written."""
from __future__ import annotations

import os
from typing import Callable, Optional

import numpy as np
import pandas as pd

from deepchem_finetune import storage
from deepchem_finetune._compat import import_deepchem_quietly
from deepchem_finetune.workflow import table
from deepchem_finetune.workflow.ensemble import EnsembleModel
from deepchem_finetune.workflow.table import InputError

dc = import_deepchem_quietly()

__all__ = ["predict_csv", "prediction_columns"]


def prediction_columns(target: str) -> tuple:
    """Names of the mean and std columns of a target: ``<target>_pred``, ``<target>_std``."""
    return f"{target}_pred", f"{target}_std"


def predict_csv(model_dir: str, data: str, out: str, column: Optional[str] = None,
                echo: Callable[[str], None] = print) -> pd.DataFrame:
    """Predict every row of ``data`` with the ensemble in ``model_dir`` and write ``out``.

    Columns added after the input's own: ``<target>_pred`` (the members' mean; for classification the probability
    of class 1) and ``<target>_std`` (their standard deviation) for each target, then ``status``: ``ok``, or why the
    row could not be featurized (its predictions are then empty). The featurizer (and any vocabulary) comes from the
    model folder; ``column`` defaults to the input column the model was trained on.

    Raises
    ------
    ModelFolderError
        ``model_dir`` was not written by ``finetune``.
    InputError
        The input column is missing.
    """
    model = EnsembleModel.load(model_dir)
    df = table.read_table(data)
    column = column or model.info.get("input", {}).get("column")
    if column not in df.columns:
        raise InputError(f"input column {column!r} is not in {data}; columns: {list(df.columns)} (pass the column "
                         "name with --smiles-column / --sequence-column)")
    features, rows, problems = model.featurize(df[column].tolist())
    status = np.array(["ok"] * len(df), dtype=object)
    for row, reason in problems.items():
        status[row] = reason
    out_df = df.copy()
    mean = np.full((len(df), model.n_tasks), np.nan)
    std = np.full_like(mean, np.nan)
    if len(rows):
        m, s = model.predict_uncertainty(dc.data.NumpyDataset(features), model.transformers)
        if model.mode == "classification":
            m, s = m[..., 1], s[..., 1]
        mean[rows], std[rows] = m.reshape(len(rows), -1), s.reshape(len(rows), -1)
    for t, target in enumerate(model.tasks):
        for name, values in zip(prediction_columns(target), (mean[:, t], std[:, t])):
            if name in out_df.columns:
                echo(f"note: the input has a column {name!r}; it is replaced by the prediction")
            out_df[name] = values
    if "status" in out_df.columns:
        echo("note: the input has a column 'status'; it is replaced")
    out_df["status"] = status
    with storage.atomic_file(out, newline="") as fh:
        out_df.to_csv(fh, index=False)
    lines = table.line_numbers(data, len(df))
    echo(f"predicted {len(rows)} of {len(df)} rows with an ensemble of {len(model.members)} -> {os.fspath(out)}")
    if problems:
        echo(f"{len(problems)} row(s) could not be featurized (status column; predictions left empty):\n"
             f"{table.problems_text(problems, lines, df[column].tolist(), limit=10)}")
    return out_df
