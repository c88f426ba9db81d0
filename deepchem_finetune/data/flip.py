"""Protein datasets from CSV files, and the FLIP fitness benchmarks (Dallago et al., 2021) from local splits.

``load_flip`` reads the published split files of the FLIP repository (https://github.com/J-SNACKKB/FLIP,
``splits/<task>/splits.zip``), stored as ``<data_dir>/flip_<task>/<split>.csv.gz``. Nothing is downloaded:
fetch and unzip them yourself when online, then pass ``data_dir`` or set ``$DEEPCHEM_FINETUNE_PROTEIN_DIR``.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np
import pandas as pd

from deepchem_finetune._compat import import_deepchem_quietly, sanitize_labels

dc = import_deepchem_quietly()
logger = logging.getLogger(__name__)

__all__ = ["load_flip", "load_sequence_csv", "protein_data_dir", "PROTEIN_DIR_ENV", "FLIP_URL"]

PROTEIN_DIR_ENV = "DEEPCHEM_FINETUNE_PROTEIN_DIR"
FLIP_URL = "https://github.com/J-SNACKKB/FLIP"


def protein_data_dir(data_dir: Optional[Union[str, os.PathLike]] = None) -> Path:
    """``data_dir``, else ``$DEEPCHEM_FINETUNE_PROTEIN_DIR``.

    Raises
    ------
    FileNotFoundError
        Neither is given, or the folder does not exist.
    """
    chosen = data_dir if data_dir is not None else os.environ.get(PROTEIN_DIR_ENV)
    if not chosen:
        raise FileNotFoundError(f"no protein data folder: pass data_dir=... (the folder holding flip_gb1/, ...) "
                                f"or set ${PROTEIN_DIR_ENV}. The FLIP split files come from {FLIP_URL} "
                                "(splits/<task>/splits.zip); they are not downloaded automatically")
    path = Path(chosen).expanduser()
    if not path.is_dir():
        raise FileNotFoundError(f"protein data folder {str(path)!r} does not exist")
    return path


def load_sequence_csv(path: Union[str, os.PathLike], sequence_column: str = "sequence",
                      label_columns: Sequence[str] = ("target",), featurizer=None) -> "dc.data.NumpyDataset":
    """Featurize the sequences of a CSV file into a ``NumpyDataset`` (ids = the sequences).

    Parameters
    ----------
    path: str
        CSV file (``.csv`` or ``.csv.gz``).
    sequence_column: str, optional (default "sequence")
    label_columns: sequence of str, optional (default ("target",))
        Numeric label columns; ``y`` has shape ``(n, len(label_columns))``. A missing label gets
        ``y = 0, w = 0`` (DeepChem's convention). Empty: no labels (``y`` is None).
    featurizer: sequence tokenizer, optional
        Default ``ProteinTokenizer(max_length=512)``; use ``model.get_featurizer()``.

    Returns
    -------
    dc.data.NumpyDataset

    Raises
    ------
    ValueError
        A column is missing (the message lists the file's columns) or a label is not numeric.
    FeaturizationError
        A sequence is empty, unknown or too long; the index is the data row (0-based, header excluded).

    Examples
    --------
    >>> ds = load_sequence_csv("flip_gb1/three_vs_rest.csv.gz")  # doctest: +SKIP
    >>> ds.X.shape, ds.y.shape  # doctest: +SKIP
    ((8733, 512), (8733, 1))
    """
    from deepchem_finetune.featurizers import ProteinTokenizer
    featurizer = featurizer if featurizer is not None else ProteinTokenizer(max_length=512)
    if isinstance(label_columns, str):
        label_columns = [label_columns]
    df = pd.read_csv(path)
    missing = [c for c in [sequence_column, *label_columns] if c not in df.columns]
    if missing:
        raise ValueError(f"{os.fspath(path)!r} has no column(s) {missing}; its columns are {list(df.columns)}")
    sequences = df[sequence_column].tolist()
    X = featurizer.featurize(sequences)
    ids = np.array([str(s) for s in sequences], dtype=object)
    if not label_columns:
        return dc.data.NumpyDataset(X, ids=ids)
    y = np.empty((len(df), len(label_columns)), dtype=np.float64)
    for j, col in enumerate(label_columns):
        values = pd.to_numeric(df[col], errors="coerce")
        bad = values.isna() & df[col].notna()
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise ValueError(f"label column {col!r} row {row} is not a number: {df[col].iloc[row]!r}")
        y[:, j] = values.to_numpy(dtype=np.float64, na_value=np.nan)
    y, w = sanitize_labels(y, np.ones_like(y))
    if (w == 0).any():
        logger.info("%s: %d missing label(s) get weight 0", os.fspath(path), int((w == 0).sum()))
    return dc.data.NumpyDataset(X, y, w, ids=ids)


def _is_true(value) -> bool:
    return str(value).strip().lower() in ("true", "1", "1.0", "yes")


def load_flip(task: str = "gb1", split: str = "three_vs_rest", featurizer=None,
              data_dir: Optional[Union[str, os.PathLike]] = None) -> Tuple[List[str], Tuple, List]:
    """Load a FLIP split as ``(tasks, (train, valid, test), transformers)``, like ``dc.molnet``.

    Rows with ``set == "train"`` form the training set, except those with ``validation == True``, which
    form the validation set; ``set == "test"`` rows the test set. ``y`` (fitness) is normalised with a
    ``NormalizationTransformer`` fitted on the training set and applied to all three; pass the returned
    transformers to ``predict`` / ``evaluate`` to get the original units.

    Parameters
    ----------
    task: str, optional (default "gb1")
        Folder ``flip_<task>`` under ``data_dir``.
    split: str, optional (default "three_vs_rest")
        File ``<split>.csv.gz`` (gb1: one_vs_rest, two_vs_rest, three_vs_rest, low_vs_high, sampled).
    featurizer: sequence tokenizer, optional
        Default ``ProteinTokenizer(max_length=512)`` (GB1 sequences have 265 residues).
    data_dir: str, optional
        Default ``$DEEPCHEM_FINETUNE_PROTEIN_DIR``.

    Returns
    -------
    tuple
        ``(["target"], (train, valid, test), [NormalizationTransformer])``; ``NumpyDataset``s with
        ``X`` ``(n, max_length)`` token ids, ``y`` ``(n, 1)``, ids = the sequences. For gb1 /
        three_vs_rest: 2,691 / 299 / 5,743 rows.

    Examples
    --------
    >>> tasks, (train, valid, test), transformers = load_flip(
    ...     "gb1", "three_vs_rest", data_dir="../shared/data/protein")  # doctest: +SKIP
    >>> len(train), len(valid), len(test)  # doctest: +SKIP
    (2691, 299, 5743)

    References
    ----------
    Dallago, C. et al. FLIP: Benchmark tasks in fitness landscape inference for proteins. NeurIPS
    Datasets and Benchmarks 2021.
    """
    folder = protein_data_dir(data_dir) / f"flip_{task}"
    path = folder / f"{split}.csv.gz"
    if not path.is_file():
        have = sorted(p.name.split(".")[0] for p in folder.glob("*.csv*")) if folder.is_dir() else []
        raise FileNotFoundError(f"FLIP split file {str(path)!r} not found; splits present for {task!r}: "
                                f"{have or 'none'}. The files come from {FLIP_URL} (splits/{task}/splits.zip)")
    dataset = load_sequence_csv(path, "sequence", ["target"], featurizer)
    meta = pd.read_csv(path, usecols=["set", "validation"])
    sets = meta["set"].astype(str).str.strip().str.lower().to_numpy()
    unknown = ~np.isin(sets, ("train", "test"))
    if unknown.any():
        row = int(np.flatnonzero(unknown)[0])
        raise ValueError(f"{str(path)!r} row {row}: column 'set' is {meta['set'].iloc[row]!r}, expected "
                         "'train' or 'test'")
    is_valid = meta["validation"].map(_is_true).to_numpy(dtype=bool)
    if (is_valid & (sets == "test")).any():
        row = int(np.flatnonzero(is_valid & (sets == "test"))[0])
        raise ValueError(f"{str(path)!r} row {row} is a test row marked validation=True")
    parts = [np.flatnonzero((sets == "train") & ~is_valid), np.flatnonzero(is_valid),
             np.flatnonzero(sets == "test")]
    train, valid, test = (dataset.select(idx) for idx in parts)
    transformer = dc.trans.NormalizationTransformer(transform_y=True, dataset=train)
    train, valid, test = (transformer.transform(d) for d in (train, valid, test))
    return ["target"], (train, valid, test), [transformer]
