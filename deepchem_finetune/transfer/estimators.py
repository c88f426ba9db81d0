"""Transferability estimators: how well frozen features ``F (n, d)`` carry labels ``y (n, tasks)`` (NaN: missing),
computed without training the backbone. Every estimator scores each task on its labelled rows and averages the
tasks; higher is better for all of them.

=================  ==============================================================================================
``logme``          LogME (You et al. 2021): log marginal likelihood (evidence) per molecule of a Bayesian linear
                   model on the features, its prior and noise precisions set by evidence maximisation
``ridge_probe``    5-fold cross-validated ridge regression on the standardised features (regularisation chosen by
                   leave-one-out inside each fold); out-of-fold ROC-AUC (classification) or R^2 (regression)
``knn``            leave-one-out k-nearest-neighbour agreement (cosine on standardised features, k = 10): the
                   neighbours' mean label scored as ROC-AUC or R^2
=================  ==============================================================================================
"""
from __future__ import annotations

import math
from typing import Callable, Dict, Iterator, Tuple

import numpy as np

__all__ = ["ESTIMATORS", "MEANING", "logme", "logme_evidence", "ridge_probe", "knn_agreement", "score_features"]

_RIDGE_ALPHAS = np.logspace(-2, 4, 7)


def logme_evidence(F: np.ndarray, y: np.ndarray, tol: float = 1e-3, max_iter: int = 100) -> float:
    """Maximised log evidence per sample of ``y ~ N(F w, 1/beta)``, ``w ~ N(0, I/alpha)``, one target column.

    The features and the target are centred (a flat-prior intercept) and the target scaled to unit variance, so
    values of different tasks can be averaged. With the eigendecomposition ``F^T F = V diag(sigma) V^T`` (or of
    ``F F^T`` when ``n < d``) and ``z`` the target's coordinates in the features' column space, the fixed-point
    updates ``gamma = sum(beta sigma / (alpha + beta sigma))``, ``alpha = gamma / |m|^2``,
    ``beta = (n - gamma) / |F m - y|^2`` (``m`` the posterior mean) run until both change by less than ``tol``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = rng.normal(size=200)
    >>> signal = np.c_[y + 0.1 * rng.normal(size=200), rng.normal(size=(200, 5))]
    >>> noise = rng.normal(size=(200, 6))
    >>> logme_evidence(signal, y) > logme_evidence(noise, y)
    True
    """
    F = np.asarray(F, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    F = F - F.mean(axis=0)
    y = y - y.mean()
    if len(y) < 3 or y.std() == 0:
        return float("nan")
    y = y / y.std()
    n, d = F.shape
    if n >= d:
        sigma, V = np.linalg.eigh(F.T @ F)
        keep = sigma > 1e-10 * max(sigma.max(), 1e-300)
        sigma = sigma[keep]
        z = (V[:, keep].T @ (F.T @ y)) / np.sqrt(sigma)
    else:
        sigma, U = np.linalg.eigh(F @ F.T)
        keep = sigma > 1e-10 * max(sigma.max(), 1e-300)
        sigma = sigma[keep]
        z = U[:, keep].T @ y
    outside = max(float(y @ y - z @ z), 0.0)  # the part of y no linear function of F reaches
    tiny = 1e-12
    alpha, beta = 1.0, 1.0
    for _ in range(max_iter):
        t = alpha + beta * sigma
        gamma = float((beta * sigma / t).sum())
        m2 = float((beta ** 2 * sigma * z ** 2 / t ** 2).sum())
        res2 = float(((alpha * z / t) ** 2).sum()) + outside
        new_alpha, new_beta = gamma / max(m2, tiny), max(n - gamma, tiny) / max(res2, tiny)
        done = abs(new_alpha / alpha - 1) < tol and abs(new_beta / beta - 1) < tol
        alpha, beta = new_alpha, new_beta
        if done:
            break
    t = alpha + beta * sigma
    m2 = float((beta ** 2 * sigma * z ** 2 / t ** 2).sum())
    res2 = float(((alpha * z / t) ** 2).sum()) + outside
    # directions without variance add log(alpha) to both the prior term and log|A|: only the k kept ones remain
    k = len(sigma)
    evidence = 0.5 * (n * math.log(beta) + k * math.log(alpha) - n * math.log(2 * math.pi) - beta * res2
                      - alpha * m2 - float(np.log(t).sum()))
    return evidence / n


def _tasks(y: np.ndarray, task_type: str, min_rows: int) -> Iterator[Tuple[int, np.ndarray]]:
    """(task index, labelled rows) of the tasks that can be scored: enough rows, and both classes present."""
    for j in range(y.shape[1]):
        rows = np.nonzero(np.isfinite(y[:, j]))[0]
        if len(rows) < min_rows:
            continue
        values = y[rows, j]
        if task_type == "classification" and min((values > 0.5).sum(), (values <= 0.5).sum()) < 2:
            continue
        if np.ptp(values) == 0:
            continue
        yield j, rows


def _agreement(truth: np.ndarray, pred: np.ndarray, task_type: str) -> float:
    """ROC-AUC (classification) or R^2 (regression) of predictions."""
    if task_type == "classification":
        from sklearn.metrics import roc_auc_score
        return float(roc_auc_score(truth > 0.5, pred))
    return float(1.0 - ((truth - pred) ** 2).sum() / ((truth - truth.mean()) ** 2).sum())


def _mean(values) -> float:
    values = [v for v in values if np.isfinite(v)]
    return float(np.mean(values)) if values else float("nan")


def logme(F: np.ndarray, y: np.ndarray, task_type: str = "classification") -> float:
    """LogME of each task (:func:`logme_evidence` on its labelled rows), averaged over tasks.

    For two classes the label column is the target: once centred, the two one-hot columns of the paper are the
    same vector up to sign and give the same evidence.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> y = (rng.random((300, 2)) > 0.5).astype(float); y[:50, 1] = np.nan
    >>> good, bad = np.c_[y[:, :1], np.nan_to_num(y[:, 1:]), rng.normal(size=(300, 8))], rng.normal(size=(300, 10))
    >>> logme(good, y) > logme(bad, y)
    True
    """
    y = _as_2d(y)
    return _mean(logme_evidence(F[rows], y[rows, j]) for j, rows in _tasks(y, task_type, 3))


def ridge_probe(F: np.ndarray, y: np.ndarray, task_type: str = "classification", folds: int = 5,
                seed: int = 0) -> float:
    """Out-of-fold ROC-AUC / R^2 of a ridge regression on standardised features, averaged over tasks.

    Each of ``folds`` folds (stratified for classification) fits ``sklearn.linear_model.RidgeCV`` (alphas
    1e-2 ... 1e4, chosen by its efficient leave-one-out) on the other folds' rows.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = rng.normal(size=(120, 1))
    >>> round(ridge_probe(np.c_[y, rng.normal(size=(120, 3))], y, "regression"), 2)
    1.0
    """
    from sklearn.linear_model import RidgeCV
    from sklearn.model_selection import KFold, StratifiedKFold
    y = _as_2d(y)
    scores = []
    for j, rows in _tasks(y, task_type, 2 * folds):
        X, t = F[rows].astype(np.float64), y[rows, j]
        if task_type == "classification":
            k = int(min(folds, (t > 0.5).sum(), (t <= 0.5).sum()))
            parts = StratifiedKFold(k, shuffle=True, random_state=seed).split(X, t > 0.5)
        else:
            parts = KFold(folds, shuffle=True, random_state=seed).split(X)
        pred = np.empty(len(t))
        for train, test in parts:
            mean, std = X[train].mean(axis=0), X[train].std(axis=0)
            std[std == 0] = 1.0
            model = RidgeCV(alphas=_RIDGE_ALPHAS).fit((X[train] - mean) / std, t[train])
            pred[test] = model.predict((X[test] - mean) / std)
        scores.append(_agreement(t, pred, task_type))
    return _mean(scores)


def knn_agreement(F: np.ndarray, y: np.ndarray, task_type: str = "classification", k: int = 10,
                  pool: int = 50, chunk: int = 1024) -> float:
    """Leave-one-out kNN agreement: each molecule's ``k`` nearest labelled neighbours (cosine similarity of the
    standardised features, the molecule itself excluded) predict its label by their mean; ROC-AUC / R^2,
    averaged over tasks. Neighbours are searched once among all rows (``pool`` per molecule) and each task keeps
    the first ``k`` labelled ones.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = (rng.random((200, 1)) > 0.5).astype(float)
    >>> knn_agreement(np.c_[y, 0.1 * rng.normal(size=(200, 3))], y) > knn_agreement(rng.normal(size=(200, 4)), y)
    True
    """
    y = _as_2d(y)
    X = np.asarray(F, dtype=np.float32)
    std = X.std(axis=0)
    X = (X - X.mean(axis=0)) / np.where(std > 0, std, 1.0)
    X /= np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)
    n = len(X)
    pool = int(min(pool, n - 1))
    if pool < 1:
        return float("nan")
    order = np.empty((n, pool), dtype=np.int64)
    for start in range(0, n, chunk):
        sim = X[start:start + chunk] @ X.T
        sim[np.arange(len(sim)), np.arange(start, start + len(sim))] = -np.inf
        top = np.argpartition(-sim, pool - 1, axis=1)[:, :pool]
        ranks = np.argsort(-np.take_along_axis(sim, top, axis=1), axis=1)
        order[start:start + chunk] = np.take_along_axis(top, ranks, axis=1)
    scores = []
    for j, rows in _tasks(y, task_type, k + 2):
        labels = y[:, j]
        neighbour_labels = labels[order[rows]]                      # (rows, pool), NaN where unlabelled
        known = np.isfinite(neighbour_labels)
        first = known & (np.cumsum(known, axis=1) <= k)
        counts = first.sum(axis=1)
        pred = np.where(first, np.nan_to_num(neighbour_labels), 0.0).sum(axis=1) / np.maximum(counts, 1)
        ok = counts > 0
        if ok.sum() < k + 2:
            continue
        scores.append(_agreement(labels[rows][ok], pred[ok], task_type))
    return _mean(scores)


def _as_2d(y) -> np.ndarray:
    y = np.asarray(y, dtype=np.float64)
    return y.reshape(-1, 1) if y.ndim == 1 else y


ESTIMATORS: Dict[str, Callable[..., float]] = {"logme": logme, "ridge_probe": ridge_probe, "knn": knn_agreement}

#: what a score means, per estimator (printed under the ranking)
MEANING: Dict[str, str] = {
    "logme": "LogME: log evidence per molecule of a Bayesian linear model on the frozen embedding (You et al. 2021); "
             "higher = the labels are more linearly predictable; compare entries within one dataset only",
    "ridge_probe": "5-fold cross-validated ridge probe on the frozen embedding: out-of-fold ROC-AUC "
                   "(classification) or R^2 (regression), mean over targets",
    "knn": "leave-one-out 10-nearest-neighbour agreement in the frozen embedding (cosine): ROC-AUC "
           "(classification) or R^2 (regression), mean over targets",
}


def score_features(estimator: str, F: np.ndarray, y: np.ndarray, task_type: str) -> float:
    """Score ``F`` against ``y`` with the named estimator (:data:`ESTIMATORS`).

    Examples
    --------
    >>> round(score_features("ridge_probe", np.arange(20.0)[:, None], np.arange(20.0), "regression"), 3)
    1.0
    """
    if estimator not in ESTIMATORS:
        raise ValueError(f"unknown estimator {estimator!r}; choose from {sorted(ESTIMATORS)}")
    if task_type not in ("classification", "regression"):
        raise ValueError(f"task_type must be 'classification' or 'regression', got {task_type!r}")
    return ESTIMATORS[estimator](np.asarray(F), _as_2d(y), task_type)
