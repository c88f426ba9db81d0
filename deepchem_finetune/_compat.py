"""Compatibility layer for DeepChem 2.8 on today's numpy / pandas / torch.

Every work-around for a DeepChem behaviour that bites our code paths lives here, each with a test in
``tests/test_compat.py`` that fails without it.

1. ``import deepchem`` prints ~20 lines through the logging *last-resort* handler: "Skipped loading ..."
   from ``deepchem.models`` (optional TensorFlow / JAX / DGL / Lightning / transformers back-ends
   missing) and "No normalization for ..." from ``deepchem.feat.molecule_featurizers.rdkit_descriptors``
   (an ``RDKitDescriptors`` built at import time), and "Skipped loading some PyTorch models" from
   ``deepchem.metalearning``. :func:`import_deepchem_quietly` raises exactly those
   two loggers to ERROR *for the duration of the import only*, then restores them, so the same warnings
   still appear when a user triggers them later. Other loggers and Python warnings are untouched.
2. ``CSVLoader`` can leave NaN in ``y`` for missing labels, and ``dc.metrics.Metric`` ignores ``w``
   unless asked. :func:`sanitize_labels` turns every non-finite label into ``y=0, w=0`` (DeepChem's own
   convention for a missing label). For scores, use ``model.evaluate(..., use_sample_weights=True)`` or
   :func:`deepchem_finetune.metrics.score`, which average per-task ROC-AUC over labelled entries.
3. Under numpy 2 a failed featurization returns an object array with empty entries, and a later
   ``np.array`` raises an "inhomogeneous shape" error naming no row. Our featurizers return such arrays only
   when asked to, with ``on_error="skip"`` (so that DeepChem's ``CSVLoader`` drops the bad rows, each named in
   the featurizer's ``skipped`` list); by default they raise an error naming the row. :func:`find_failed_features`
   names the rows of one produced by any DeepChem featurizer.
"""
from __future__ import annotations

import contextlib
import logging
from typing import Iterator, List

import numpy as np

_NOISY_IMPORT_LOGGERS = (
    "deepchem.models",
    "deepchem.metalearning",
    "deepchem.feat.molecule_featurizers.rdkit_descriptors",
)


@contextlib.contextmanager
def _quiet_loggers(names=_NOISY_IMPORT_LOGGERS, level=logging.ERROR) -> Iterator[None]:
    loggers = [logging.getLogger(n) for n in names]
    saved = [lg.level for lg in loggers]
    try:
        for lg in loggers:
            lg.setLevel(level)
        yield
    finally:
        for lg, lvl in zip(loggers, saved):
            lg.setLevel(lvl)


def import_deepchem_quietly():
    """Import and return ``deepchem`` without its import-time chatter.

    Returns
    -------
    module
        The ``deepchem`` module.

    Examples
    --------
    >>> dc = import_deepchem_quietly()
    >>> hasattr(dc, "models")
    True
    """
    import sys
    if "deepchem" in sys.modules:
        return sys.modules["deepchem"]
    from rdkit import RDLogger
    with _quiet_loggers():
        RDLogger.DisableLog("rdApp.warning")
        try:
            import deepchem
        finally:
            RDLogger.EnableLog("rdApp.warning")
    return deepchem


_RDKIT_QUIET_DEPTH = [0]


@contextlib.contextmanager
def rdkit_errors_silenced() -> Iterator[None]:
    """Silence RDKit's per-molecule parse errors and sanitisation warnings while *we* featurize.

    Failures are then reported once by our code, with their index and SMILES. Re-entrant: RDKit's
    logging comes back when the outermost block exits.
    """
    from rdkit import RDLogger
    if _RDKIT_QUIET_DEPTH[0] == 0:
        RDLogger.DisableLog("rdApp.error")
        RDLogger.DisableLog("rdApp.warning")
    _RDKIT_QUIET_DEPTH[0] += 1
    try:
        yield
    finally:
        _RDKIT_QUIET_DEPTH[0] -= 1
        if _RDKIT_QUIET_DEPTH[0] == 0:
            RDLogger.EnableLog("rdApp.error")
            RDLogger.EnableLog("rdApp.warning")


#: DeepChem 2.8's ``fit_generator`` sums the (grad-carrying) batch losses and calls ``float()`` on the
#: sum, which makes torch >= 2.x warn once per log interval. The value is right; the warning is noise.
GRAD_SCALAR_WARNING = "Converting a tensor with requires_grad=True to a scalar"


def sanitize_labels(y: np.ndarray, w: np.ndarray):
    """Return copies of ``(y, w)`` where every non-finite label has ``y = 0`` and ``w = 0``.

    Parameters
    ----------
    y: np.ndarray
        Labels, shape ``(n_samples, n_tasks)``.
    w: np.ndarray
        Weights of the same shape (or broadcastable to it).

    Returns
    -------
    tuple of np.ndarray
        ``(y, w)`` with missing labels expressed only through ``w == 0``.

    Examples
    --------
    >>> y, w = sanitize_labels(np.array([[1.0, np.nan]]), np.ones((1, 2)))
    >>> y.tolist(), w.tolist()
    ([[1.0, 0.0]], [[1.0, 0.0]])
    """
    y = np.array(y, dtype=np.float64, copy=True)
    w = np.array(np.broadcast_to(w, y.shape), dtype=np.float64, copy=True)
    bad = ~np.isfinite(y)
    y[bad] = 0.0
    w[bad] = 0.0
    return y, w


def find_failed_features(features: np.ndarray) -> List[int]:
    """Indices of rows a DeepChem featurizer left empty (its way of signalling a failure).

    Examples
    --------
    >>> find_failed_features(np.array([np.zeros(3), np.array([]), np.ones(3)], dtype=object))
    [1]
    """
    failed = []
    for i, f in enumerate(features):
        if isinstance(f, np.ndarray) and f.size == 0:
            failed.append(i)
    return failed
