"""Scores used for model selection and benchmarks, computed over labelled entries only (``w != 0``).

Classification: ROC-AUC per task over labelled entries, averaged over tasks that have both classes
(MoleculeNet / Hu et al. convention). Regression: RMSE in the original units (transformers undone).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
from sklearn.metrics import roc_auc_score

from deepchem_finetune._compat import import_deepchem_quietly

dc = import_deepchem_quietly()


def masked_roc_auc(y: np.ndarray, w: np.ndarray, proba: np.ndarray) -> float:
    """Mean over tasks with both classes of the ROC-AUC over entries with ``w != 0``.

    Parameters
    ----------
    y, w: np.ndarray
        ``(n, n_tasks)`` labels (0/1) and weights.
    proba: np.ndarray
        ``(n, n_tasks, 2)`` probabilities or ``(n, n_tasks)`` positive-class scores.

    Returns
    -------
    float
        NaN if no task has both classes.

    Examples
    --------
    >>> masked_roc_auc(np.array([[0], [1], [1]]), np.ones((3, 1)), np.array([[0.1], [0.8], [0.3]]))
    1.0
    """
    y = np.asarray(y).reshape(len(y), -1)
    w = np.broadcast_to(np.asarray(w).reshape(len(w), -1), y.shape)
    p = np.asarray(proba)
    if p.ndim == 3:
        p = p[..., 1]
    p = p.reshape(len(p), -1)
    scores = []
    for t in range(y.shape[1]):
        m = (w[:, t] != 0) & np.isfinite(y[:, t])
        yt = y[m, t]
        if len(np.unique(yt)) == 2:
            scores.append(roc_auc_score(yt, p[m, t]))
    return float(np.mean(scores)) if scores else float("nan")


def masked_rmse(y: np.ndarray, w: np.ndarray, pred: np.ndarray) -> float:
    """RMSE over entries with ``w != 0`` (all tasks pooled).

    Examples
    --------
    >>> masked_rmse(np.array([[1.0], [2.0]]), np.ones((2, 1)), np.array([[1.0], [4.0]]))
    1.4142135623730951
    """
    y = np.asarray(y, dtype=float).reshape(len(y), -1)
    w = np.broadcast_to(np.asarray(w).reshape(len(w), -1), y.shape)
    pred = np.asarray(pred, dtype=float).reshape(y.shape)
    m = (w != 0) & np.isfinite(y)
    return float(np.sqrt(np.mean((pred[m] - y[m]) ** 2)))


METRICS = ("roc_auc", "rmse", "spearman")


def default_metric(mode: str) -> str:
    """'roc_auc' for classification, 'rmse' for regression."""
    return "roc_auc" if mode == "classification" else "rmse"


def score(model, dataset, transformers: Sequence = (), mode: str = None, metric: str = None) -> float:
    """Score ``model`` on ``dataset``.

    ``metric``: 'roc_auc' (classification; mean over tasks with both classes), 'rmse' or 'spearman'
    (regression; Spearman's rho averaged over tasks, as FLIP reports it); default by ``mode``.
    ``transformers`` are those applied to the dataset; they are undone on predictions and labels.
    """
    mode = mode or model.mode
    metric = metric or default_metric(mode)
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; choose from {list(METRICS)}")
    pred = model.predict(dataset, transformers=list(transformers))
    y = dataset.y
    if mode == "regression" and transformers:
        y = dc.trans.undo_transforms(y, list(transformers))
    if metric == "roc_auc":
        return masked_roc_auc(y, dataset.w, pred)
    if metric == "spearman":
        y = np.asarray(y, dtype=float).reshape(len(y), -1)
        pred = np.asarray(pred, dtype=float).reshape(y.shape)
        w = np.broadcast_to(np.asarray(dataset.w).reshape(len(y), -1), y.shape)
        return float(np.mean([spearman_corrcoef(y[:, t], pred[:, t], w[:, t]) for t in range(y.shape[1])]))
    return masked_rmse(y, dataset.w, pred)


def higher_is_better(mode: str, metric: str = None) -> bool:
    """Whether a larger ``metric`` (default by ``mode``) is better."""
    return (metric or default_metric(mode)) != "rmse"


def spearman_corrcoef(y_true: np.ndarray, y_pred: np.ndarray, sample_weight=None) -> float:
    """Spearman rank correlation of one task; entries with ``sample_weight == 0`` (missing labels) are left out.

    Examples
    --------
    >>> spearman_corrcoef(np.array([1.0, 2.0, 3.0]), np.array([0.1, 0.5, 0.2]))
    0.5
    """
    from scipy.stats import spearmanr
    y_true, y_pred = np.asarray(y_true, dtype=float).ravel(), np.asarray(y_pred, dtype=float).ravel()
    keep = np.isfinite(y_true)
    if sample_weight is not None:
        keep &= np.asarray(sample_weight).ravel() != 0
    return float(spearmanr(y_true[keep], y_pred[keep]).statistic)


def spearman_metric() -> "dc.metrics.Metric":
    """A regression ``dc.metrics.Metric`` named "spearman" (mean over tasks), e.g. for FLIP.

    Pass ``use_sample_weights=True`` to ``evaluate`` to leave missing labels out.

    Examples
    --------
    >>> m = spearman_metric()
    >>> float(m.compute_metric(np.array([[1.0], [2.0], [3.0]]), np.array([[0.1], [0.5], [0.2]])))
    0.5
    """
    return dc.metrics.Metric(spearman_corrcoef, np.mean, name="spearman", mode="regression")
