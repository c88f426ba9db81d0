"""The ``on_error`` option of our featurizers: raise on a failing input (default), or skip it DeepChem's way.

DeepChem's loaders featurize a file shard after shard (``dc.data.CSVLoader`` calls
``featurizer(shard[feature_field])`` on each ``pandas`` chunk of ``shard_size`` rows) and drop every datapoint
whose features are an empty array (``valid_inds`` in ``CSVLoader._featurize_shard``), together with its label
and id. With ``on_error="skip"``, :class:`~deepchem_finetune.featurizers.MolGraphFeaturizer` and the sequence
tokenizers return exactly that empty array for an input that fails, so the loader drops it, and they report
it: one logged warning per input, and ``(row, input, reason)`` appended to ``featurizer.skipped``.

Row convention
--------------
``row`` names the input the way its container does:

* ``featurize`` given a ``pandas.Series`` (what ``CSVLoader`` and ``JsonLoader`` pass): the Series' index
  label. ``pandas.read_csv(path, chunksize=n)`` numbers rows continuously across chunks, so under
  ``CSVLoader`` ``row`` is the **0-based data row of the CSV file, the header not counted**: the first
  molecule under the header is row 0, and ``pandas.read_csv(path).iloc[row]`` is the failing row (in a file
  without blank lines or quoted line breaks, that is line ``row + 2`` counting the header as line 1). It
  does not depend on ``shard_size``. With several files in one ``create_dataset`` call, rows restart at 0
  in each file; the recorded input tells them apart.
* any other sequence (list, array, ``dc.data.InMemoryLoader`` shards): the 0-based position in that call.

The same row is the ``index`` of the :class:`~deepchem_finetune.exceptions.FeaturizationError` raised with
the default ``on_error="raise"``. ``skipped`` grows over calls (one per shard); clear it with
``featurizer.skipped.clear()`` before reusing the featurizer for another file.

``on_error`` is an ``__init__`` argument stored under the same name (DeepChem's ``str(featurizer)`` cache key
and ``repr`` read init arguments back as attributes), but it is not part of the featurizer's spec
(:func:`~deepchem_finetune.featurizers.featurizer_spec`): it decides what happens to bad inputs, not what the
features of good ones are.
"""
from __future__ import annotations

import logging
from typing import Callable, List, Optional, Tuple

import numpy as np
import pandas as pd

from deepchem_finetune.exceptions import FeaturizationError

logger = logging.getLogger(__name__)

__all__ = ["ON_ERROR", "OnErrorMixin", "row_labels"]

ON_ERROR = ("raise", "skip")


def row_labels(datapoints, n: int) -> list:
    """Row of each of the ``n`` datapoints: a ``pandas.Series``' index labels, else ``0 .. n-1``.

    Examples
    --------
    >>> chunk = pd.read_csv(__import__("io").StringIO("smiles\\nC\\nCC\\nCCC\\n"), chunksize=2)
    >>> [row_labels(c["smiles"], len(c)) for c in chunk]
    [[0, 1], [2]]
    >>> row_labels(["C", "CC"], 2)
    [0, 1]
    """
    if isinstance(datapoints, pd.Series):
        return [int(x) if isinstance(x, (int, np.integer)) else x for x in datapoints.index]
    return list(range(n))


class OnErrorMixin:
    """``on_error`` handling shared by :class:`MolGraphFeaturizer` and the sequence tokenizers.

    Subclasses call :meth:`_init_on_error` in ``__init__`` and :meth:`_featurize_rows` in ``featurize``.

    Attributes
    ----------
    on_error: str
        ``"raise"`` or ``"skip"``.
    skipped: list of (row, input, reason)
        Every input skipped under ``on_error="skip"`` since construction (see the module's row convention).
    """

    def _init_on_error(self, on_error: str) -> None:
        if on_error not in ON_ERROR:
            raise ValueError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
        self.on_error = on_error
        self.skipped: List[Tuple[object, object, str]] = []

    def _featurize_rows(self, datapoints, featurize_one: Callable) -> Tuple[list, int]:
        """``featurize_one(datapoint, row)`` for each datapoint, ``None`` for a skipped one; and how many.

        ``row`` follows the module's row convention. A :class:`FeaturizationError` is raised unless
        ``on_error="skip"``, where it is logged and recorded in :attr:`skipped` instead.
        """
        points = list(datapoints)
        rows = row_labels(datapoints, len(points))
        out: List[Optional[object]] = []
        n_skipped = 0
        for row, point in zip(rows, points):
            try:
                out.append(featurize_one(point, row))
            except FeaturizationError as err:
                if self.on_error != "skip":
                    raise
                out.append(None)
                n_skipped += 1
                self.skipped.append((row, point, str(err)))
                logger.warning("%s (on_error='skip'): skipped row %s %r: %s", type(self).__name__, row, point, err)
        return out, n_skipped

    @staticmethod
    def _failed() -> np.ndarray:
        """What DeepChem's loaders take for a failed datapoint (``np.array(elt).size == 0``)."""
        return np.array([])
