"""The user's CSV: reading it as written, naming rows, parsing labels and split assignments, featurizing inputs.

Row convention
--------------
A row is named by its **0-based data row** (the first row under the header is row 0; ``pandas.read_csv(path)
.iloc[row]`` is that row), the convention of :mod:`deepchem_finetune.featurizers.on_error`, and by its **line** in
the file (1-based, the header is line 1), found with the ``csv`` module so that quoted line breaks and blank lines
count. Messages read ``row 3 (line 5)``.
"""
from __future__ import annotations

import csv
import gzip
import io
import math
import os
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import pandas as pd

from deepchem_finetune.exceptions import FeaturizationError

__all__ = ["InputError", "read_table", "line_numbers", "row_label", "parse_labels", "parse_split_column",
           "featurize_column", "INPUT_KINDS", "MISSING"]

#: input kinds: SMILES, or sequences of a given alphabet
INPUT_KINDS = ("smiles", "protein", "dna", "rna")
#: cell texts read as a missing label
MISSING = ("", "nan", "na", "n/a", "none", "null", "?")
SPLIT_NAMES = {"train": "train", "training": "train", "valid": "valid", "validation": "valid", "val": "valid",
               "test": "test", "testing": "test"}


class InputError(ValueError):
    """Rows of the input that cannot be used; ``problems`` maps each row to its reason."""

    def __init__(self, message: str, problems: Optional[Dict[int, str]] = None):
        super().__init__(message)
        self.problems = dict(problems or {})


def _open_text(path: str):
    if str(path).endswith(".gz"):
        return gzip.open(path, "rt", newline="", encoding="utf-8-sig")
    return open(path, newline="", encoding="utf-8-sig")


def read_table(path) -> pd.DataFrame:
    """Every cell as the text written in the file (nothing parsed, nothing dropped), so other columns are written
    back unchanged."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no such file: {path}")
    df = pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False, encoding="utf-8-sig")
    if len(df) == 0:
        raise InputError(f"{path} has a header but no data rows")
    return df


def line_numbers(path, n_rows: int) -> Optional[List[int]]:
    """The 1-based file line on which each of the ``n_rows`` data rows starts, or None if the ``csv`` module reads
    another number of records than pandas did (then messages give the data row only).

    Examples
    --------
    >>> import tempfile
    >>> p = tempfile.mktemp(suffix=".csv"); _ = open(p, "w").write('smiles,y\\nC,1\\n\\n"C\\nC",2\\nCC,3\\n')
    >>> line_numbers(p, 3)
    [2, 4, 6]
    """
    starts, previous, header = [], 0, True
    with _open_text(os.fspath(path)) as fh:
        reader = csv.reader(fh)
        for record in reader:
            start, previous = previous + 1, reader.line_num
            if not record:  # a blank line, which pandas skips too
                continue
            if header:
                header = False
                continue
            starts.append(start)
    return starts if len(starts) == n_rows else None


def row_label(row: int, lines: Optional[Sequence[int]]) -> str:
    """``row 3 (line 5)``, or ``row 3`` without line numbers."""
    return f"row {row}" if lines is None else f"row {row} (line {lines[row]})"


def _number(text: str) -> float:
    t = text.strip().lower()
    if t in MISSING:
        return math.nan
    if t in ("true", "false"):
        return 1.0 if t == "true" else 0.0
    return float(t)  # ValueError for anything else


def task_type_of(y: np.ndarray, task_type: str = "auto") -> str:
    """``task_type`` checked, or for ``"auto"`` inferred from the labels ``y`` (NaN = missing): classification when
    every given label is 0 or 1, else regression.

    Examples
    --------
    >>> task_type_of(np.array([[0.0, np.nan], [1.0, 1.0]])), task_type_of(np.array([0.5, 1.0]))
    ('classification', 'regression')
    """
    if task_type == "auto":
        given = y[np.isfinite(y)]
        return "classification" if len(given) and np.isin(given, (0.0, 1.0)).all() else "regression"
    if task_type not in ("classification", "regression"):
        raise ValueError(f"task_type must be 'auto', 'classification' or 'regression', got {task_type!r}")
    return task_type


def parse_labels(df: pd.DataFrame, targets: Sequence[str], task_type: str = "auto"
                 ) -> Tuple[np.ndarray, str, Dict[int, str]]:
    """Labels ``(n_rows, n_targets)`` with NaN for missing ones, the task type and the rows that cannot be used.

    ``task_type="auto"``: classification when every given label is 0 or 1 (``true``/``false`` count as 1/0),
    else regression. A row is a problem when a label is not a number, when (classification) it is not 0 or 1, and
    when it has no label in any target column.

    Examples
    --------
    >>> df = pd.DataFrame({"a": ["1", "0", "", "x"], "b": ["0", "", "", "1"]})
    >>> y, kind, problems = parse_labels(df, ["a", "b"])
    >>> kind, y[1].tolist(), sorted(problems)
    ('classification', [0.0, nan], [2, 3])
    """
    y = np.full((len(df), len(targets)), np.nan)
    problems: Dict[int, str] = {}
    for t, column in enumerate(targets):
        for row, text in enumerate(df[column].tolist()):
            try:
                y[row, t] = _number(text)
            except ValueError:
                problems.setdefault(row, f"label {text!r} in column {column!r} is not a number")
            if not math.isfinite(y[row, t]) and not np.isnan(y[row, t]):
                problems.setdefault(row, f"label {text!r} in column {column!r} is not finite")
                y[row, t] = np.nan
    task_type = task_type_of(y, task_type)
    if task_type == "classification":
        for row, t in zip(*np.nonzero(np.isfinite(y) & ~np.isin(y, (0.0, 1.0)))):
            problems.setdefault(int(row), f"label {df[targets[t]].iloc[row]!r} in column {targets[t]!r} is not 0 or "
                                          "1 (classification)")
    for row in np.nonzero(~np.isfinite(y).any(axis=1))[0]:
        problems.setdefault(int(row), f"no label in any target column {list(targets)}")
    return y, task_type, problems


def parse_split_column(df: pd.DataFrame, column: str) -> Tuple[np.ndarray, Dict[int, str]]:
    """The part of each row (``train``, ``valid`` or ``test``; also ``training``, ``validation``, ``val``,
    ``testing``, any case) and the rows with another value."""
    if column not in df.columns:
        raise InputError(f"split column {column!r} is not in the file; columns: {list(df.columns)}")
    parts = np.empty(len(df), dtype=object)
    problems = {}
    for row, text in enumerate(df[column].tolist()):
        parts[row] = SPLIT_NAMES.get(text.strip().lower())
        if parts[row] is None:
            problems[row] = f"split column {column!r} holds {text!r}, expected train, valid or test"
    return parts, problems


def featurize_column(values: Sequence[str], featurizer) -> Tuple[np.ndarray, np.ndarray, Dict[int, str]]:
    """Featurize every cell (SMILES or sequences): ``(features of the kept rows, their rows, {row: reason})``; token
    rows come back as one integer array. The whole column is passed to the featurizer, so ``index`` in its messages
    is the data row.

    Examples
    --------
    >>> from deepchem_finetune.featurizers import MolGraphFeaturizer
    >>> features, rows, problems = featurize_column(["CCO", "", "C1CC", "c1ccccc1"], MolGraphFeaturizer())
    >>> rows.tolist(), problems[1], problems[2]
    ([0, 3], 'empty cell', "SMILES at index 2 could not be parsed by RDKit: 'C1CC'")
    """
    from deepchem_finetune.featurizers import featurize_smiles
    values = [str(v).strip() for v in values]
    problems = {row: "empty cell" for row, v in enumerate(values) if not v}
    if len(problems) == len(values):
        return np.empty(0, dtype=object), np.empty(0, dtype=np.int64), problems
    try:
        fb = featurize_smiles(values, featurizer, skip_invalid=True, warn=False)
    except FeaturizationError as err:  # nothing could be featurized
        raise InputError(str(err)) from err
    for row, _, reason in fb.errors:
        problems.setdefault(int(row), reason)
    keep = np.array([i for i, row in enumerate(fb.indices) if int(row) not in problems], dtype=np.int64)
    features = fb.features[keep] if len(keep) else fb.features[:0]
    if hasattr(featurizer, "encode_one") and not getattr(featurizer, "extra_features", ()):  # token rows: one array
        features = (np.stack(list(features)) if len(features) else np.zeros((0, featurizer.max_length))).astype(
            np.int64)
    return features, fb.indices[keep], problems


def problems_text(problems: Dict[int, str], lines: Optional[Sequence[int]], values: Sequence[str],
                  limit: int = 20) -> str:
    """One line per problem row (the first ``limit``), with the input, then how many more."""
    shown = []
    for row in sorted(problems)[:limit]:
        text = str(values[row])
        text = "" if repr(text) in problems[row] else f" {text if len(text) <= 60 else text[:57] + '...'!r}"
        shown.append(f"  {row_label(row, lines)}{text}: {problems[row]}")
    more = len(problems) - limit
    return "\n".join(shown + ([f"  ... and {more} more"] if more > 0 else []))


def skipped_rows_csv(problems: Dict[int, str], lines: Optional[Sequence[int]], values: Sequence[str]) -> str:
    """The skipped rows as CSV text: ``row,line,input,reason``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["row", "line", "input", "reason"])
    for row in sorted(problems):
        writer.writerow([row, "" if lines is None else lines[row], values[row], problems[row]])
    return buffer.getvalue()
