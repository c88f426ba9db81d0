"""Scores per target and what the ensemble's spread is worth: Spearman(|error|, std), expected calibration error and
the calibration picture (regression: error against predicted std in bins; classification: reliability diagram).

All functions take labels ``y`` and weights ``w`` ``(n, n_targets)`` (``w == 0``: missing label), the ensemble mean
``pred`` (``(n, n_targets)`` values, or ``(n, n_targets, 2)`` class probabilities) and its std of the same shape.
"""
from __future__ import annotations

import logging
from typing import Dict, List, Optional, Sequence

import numpy as np

logger = logging.getLogger(__name__)

__all__ = ["target_metrics", "uncertainty_metrics", "expected_calibration_error", "plot_calibration"]


def _positive(a: np.ndarray) -> np.ndarray:
    """Regression values or the positive-class probability, ``(n, n_targets)``."""
    a = np.asarray(a, dtype=float)
    return a[..., 1] if a.ndim == 3 else a.reshape(len(a), -1)


def _labelled(y, w, t):
    return (np.asarray(w)[:, t] != 0) & np.isfinite(np.asarray(y, dtype=float)[:, t])


def _none_if_nan(x) -> Optional[float]:
    return None if x is None or not np.isfinite(x) else float(x)


def target_metrics(y, w, pred, mode: str, targets: Sequence[str]) -> Dict[str, Dict[str, Optional[float]]]:
    """Per target: ``n`` and ROC-AUC, PRC-AUC (classification) or RMSE, MAE, R², Spearman (regression); None where
    undefined (e.g. one class only).

    Examples
    --------
    >>> y = np.array([[1.0], [2.0], [3.0]]); w = np.ones_like(y)
    >>> target_metrics(y, w, np.array([[1.0], [2.5], [2.5]]), "regression", ["a"])["a"]["mae"]
    0.3333333333333333
    """
    from scipy.stats import spearmanr
    from sklearn.metrics import average_precision_score, r2_score, roc_auc_score
    p = _positive(pred)
    out = {}
    for t, name in enumerate(targets):
        m = _labelled(y, w, t)
        yt, pt = np.asarray(y, dtype=float)[m, t], p[m, t]
        row: Dict[str, Optional[float]] = {"n": int(m.sum())}
        if mode == "classification":
            both = len(np.unique(yt)) == 2
            row["roc_auc"] = float(roc_auc_score(yt, pt)) if both else None
            row["prc_auc"] = float(average_precision_score(yt, pt)) if both else None
        elif len(yt):
            row["rmse"] = float(np.sqrt(np.mean((pt - yt) ** 2)))
            row["mae"] = float(np.mean(np.abs(pt - yt)))
            row["r2"] = _none_if_nan(r2_score(yt, pt)) if len(yt) > 1 else None
            row["spearman"] = _none_if_nan(spearmanr(yt, pt).statistic) if len(yt) > 2 else None
        out[name] = row
    return out


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = 10) -> Optional[float]:
    """Expected calibration error of positive-class probabilities: ``sum_b n_b / N * |mean(y)_b - mean(p)_b|`` over
    ``bins`` equal-width probability bins.

    Examples
    --------
    >>> expected_calibration_error(np.array([0, 1, 1, 0]), np.array([0.0, 1.0, 1.0, 0.0]))
    0.0
    """
    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    if len(y) == 0:
        return None
    which = np.minimum((p * bins).astype(int), bins - 1)
    return float(sum(np.sum(which == b) / len(y) * abs(y[which == b].mean() - p[which == b].mean())
                     for b in range(bins) if np.any(which == b)))


def uncertainty_metrics(y, w, pred, std, mode: str, targets: Sequence[str]) -> Dict[str, Dict]:
    """Per target: Spearman(|error|, std) (None when the std is constant, e.g. one member) and, for classification,
    the expected calibration error of the mean probability."""
    from scipy.stats import spearmanr
    p, s = _positive(pred), _positive(std)
    out = {}
    for t, name in enumerate(targets):
        m = _labelled(y, w, t)
        error = np.abs(p[m, t] - np.asarray(y, dtype=float)[m, t])
        constant = m.sum() < 3 or np.ptp(s[m, t]) == 0 or np.ptp(error) == 0
        row = {"n": int(m.sum()), "mean_std": _none_if_nan(s[m, t].mean()) if m.any() else None,
               "spearman_abs_error_std": None if constant else _none_if_nan(spearmanr(error, s[m, t]).statistic)}
        if mode == "classification":
            row["ece"] = expected_calibration_error(np.asarray(y, dtype=float)[m, t], p[m, t])
        out[name] = row
    return out


def _bins_by_std(error: np.ndarray, std: np.ndarray, n_bins: int) -> List[tuple]:
    """(mean std, RMSE, count) of ``n_bins`` equal-count bins of rows sorted by std."""
    order = np.argsort(std, kind="stable")
    return [(float(std[b].mean()), float(np.sqrt(np.mean(error[b] ** 2))), len(b))
            for b in np.array_split(order, min(n_bins, len(order))) if len(b)]


def plot_calibration(path: str, y, w, pred, std, mode: str, targets: Sequence[str], title: str = "",
                     max_panels: int = 6) -> bool:
    """Write the calibration picture (PNG, matplotlib's Agg backend) of the first ``max_panels`` targets; False
    (nothing written, logged) without matplotlib or without labelled rows."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        logger.warning("matplotlib is not installed: %s not written (pip install matplotlib)", path)
        return False
    p, s = _positive(pred), _positive(std)
    names = list(targets)[:max_panels]
    if not any(_labelled(y, w, t).any() for t in range(len(names))):
        return False
    fig, axes = plt.subplots(1, len(names), figsize=(4.2 * len(names), 3.8), squeeze=False)
    for t, (ax, name) in enumerate(zip(axes[0], names)):
        m = _labelled(y, w, t)
        yt = np.asarray(y, dtype=float)[m, t]
        if mode == "classification":
            edges = np.linspace(0, 1, 11)
            which = np.minimum((p[m, t] * 10).astype(int), 9)
            xs = [p[m, t][which == b].mean() for b in range(10) if np.any(which == b)]
            ys = [yt[which == b].mean() for b in range(10) if np.any(which == b)]
            ax.plot([0, 1], [0, 1], "--", color="grey", lw=1, label="perfect calibration")
            ax.plot(xs, ys, "o-", label="ensemble")
            ax.hist(p[m, t], bins=edges, weights=np.full(m.sum(), 0.3 / max(1, m.sum())), color="C0", alpha=0.3,
                    label="share of predictions (x0.3)")
            ax.set(xlabel="mean predicted probability", ylabel="observed fraction positive", xlim=(0, 1),
                   ylim=(0, 1), title=f"{name}: ECE {expected_calibration_error(yt, p[m, t]):.3f}")
        else:
            error = p[m, t] - yt
            bins = _bins_by_std(error, s[m, t], 5)
            ax.scatter(s[m, t], np.abs(error), s=6, alpha=0.3, color="grey", label="|error| per molecule")
            ax.plot([b[0] for b in bins], [b[1] for b in bins], "o-", color="C0", label="RMSE in std bin")
            top = max([b[0] for b in bins] + [b[1] for b in bins] + [1e-9])
            ax.plot([0, top], [0, top], "--", color="C1", lw=1, label="RMSE = std")
            ax.set(xlabel="ensemble std", ylabel="error", title=name)
        ax.legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True
