"""Classical baselines beside the neural models: random forests on fingerprints (MoleculeNet's classical
baseline) and ridge regression on one-hot sequences (FLIP's simplest).

``PerTaskForest`` fits one scikit-learn random forest per task on that task's labelled rows only (weight != 0),
the way DeepChem's ``SingletaskToMultitask`` does, without writing a dataset and a model folder per task;
a task whose training labels hold a single class predicts that class's frequency, and is reported.
``one_hot_tokens`` turns token-id arrays (what the sequence tokenizers produce) into flat one-hot features,
padding positions left at zero; ``ridge_one_hot`` fits scikit-learn's ``Ridge`` on them, chooses the
regularisation strength on the validation set and returns the test Spearman at that choice.
"""
from __future__ import annotations

import logging
from typing import Dict, List, Sequence

import numpy as np

from deepchem_finetune.metrics import spearman_corrcoef

logger = logging.getLogger(__name__)

ALPHAS = (0.1, 1.0, 10.0, 100.0, 1000.0)


class PerTaskForest:
    """One random forest per task, each trained on its task's labelled rows; missing labels are ``w == 0``.

    Parameters
    ----------
    mode: str
        'classification' (binary tasks; ``predict`` gives the positive-class probability) or 'regression'.
    n_estimators: int, optional (default 500)
    seed: int, optional (default 0)
        ``random_state`` of every forest.
    n_jobs: int, optional (default 1)

    Examples
    --------
    >>> X = np.random.RandomState(0).rand(40, 8); y = (X[:, :2] > 0.5).astype(float); w = np.ones_like(y)
    >>> w[0, 1] = 0  # a missing label
    >>> PerTaskForest("classification", n_estimators=10).fit(X, y, w).predict(X).shape
    (40, 2)
    """

    def __init__(self, mode: str, n_estimators: int = 500, seed: int = 0, n_jobs: int = 1):
        if mode not in ("classification", "regression"):
            raise ValueError(f"mode must be 'classification' or 'regression', got {mode!r}")
        self.mode, self.n_estimators, self.seed, self.n_jobs = mode, n_estimators, seed, n_jobs
        self.models: List = []
        self.constant_tasks: List[int] = []

    def fit(self, X: np.ndarray, y: np.ndarray, w: np.ndarray) -> "PerTaskForest":
        """Fit one forest per task on the rows where that task's weight is non-zero.

        Parameters
        ----------
        X: np.ndarray
            ``(n, n_features)`` features (e.g. ECFP bits).
        y, w: np.ndarray
            ``(n, n_tasks)`` labels and weights; ``w == 0`` marks a missing label.

        Returns
        -------
        PerTaskForest
            ``self``. Raises ``ValueError`` naming a task with no labelled row.
        """
        from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
        y = np.asarray(y).reshape(len(y), -1)
        w = np.broadcast_to(np.asarray(w).reshape(len(w), -1), y.shape)
        self.models, self.constant_tasks = [], []
        for t in range(y.shape[1]):
            keep = w[:, t] != 0
            yt = y[keep, t]
            if len(yt) == 0:
                raise ValueError(f"task {t} has no labelled training row")
            if self.mode == "classification" and len(np.unique(yt)) < 2:
                self.models.append(float(yt.mean()))
                self.constant_tasks.append(t)
                continue
            cls = RandomForestClassifier if self.mode == "classification" else RandomForestRegressor
            est = cls(n_estimators=self.n_estimators, n_jobs=self.n_jobs, random_state=self.seed)
            self.models.append(est.fit(X[keep], yt))
        if self.constant_tasks:
            logger.warning("%d task(s) have a single class in the training split and predict its frequency: "
                           "task indices %s", len(self.constant_tasks), self.constant_tasks[:20])
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        """``(n, n_tasks)`` positive-class probabilities (classification) or values (regression)."""
        cols = []
        for m in self.models:
            if isinstance(m, float):
                cols.append(np.full(len(X), m))
            elif self.mode == "classification":
                cols.append(m.predict_proba(X)[:, list(m.classes_).index(1.0)] if 1.0 in m.classes_
                            else np.zeros(len(X)))
            else:
                cols.append(m.predict(X))
        return np.stack(cols, axis=1)


def one_hot_tokens(X: np.ndarray, vocab_size: int, pad_id: int = 0) -> np.ndarray:
    """Flat one-hot encoding of token ids.

    Parameters
    ----------
    X: np.ndarray
        ``(n, length)`` integer token ids.
    vocab_size: int
    pad_id: int, optional (default 0)
        Padding positions get an all-zero block.

    Returns
    -------
    np.ndarray
        ``(n, length * vocab_size)`` float32.

    Examples
    --------
    >>> one_hot_tokens(np.array([[1, 0]]), vocab_size=3, pad_id=0).tolist()
    [[0.0, 1.0, 0.0, 0.0, 0.0, 0.0]]
    """
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"one_hot_tokens expects (n, length) token ids, got shape {X.shape}")
    if X.size and (X.min() < 0 or X.max() >= vocab_size):
        raise ValueError(f"token ids must lie in [0, {vocab_size}), got [{X.min()}, {X.max()}]")
    out = np.zeros((X.shape[0], X.shape[1], vocab_size), dtype=np.float32)
    rows, cols = np.nonzero(X != pad_id)
    out[rows, cols, X[rows, cols]] = 1.0
    return out.reshape(X.shape[0], -1)


def ridge_one_hot(train, valid, test, vocab_size: int, pad_id: int = 0,
                  alphas: Sequence[float] = ALPHAS) -> Dict:
    """Ridge regression on one-hot sequences, alpha chosen by validation Spearman.

    Parameters
    ----------
    train, valid, test: dc.data.Dataset
        ``X`` token ids, ``y`` ``(n, 1)``, ``w`` weights (zero = missing label).
    vocab_size, pad_id: int
        From the tokenizer (``tokenizer.input_encoding()``).

    Returns
    -------
    dict
        ``alpha``, ``valid_spearman``, ``test_spearman``, ``test_pred`` ``(n_test,)``.
    """
    from sklearn.linear_model import Ridge
    features = [one_hot_tokens(d.X, vocab_size, pad_id) for d in (train, valid, test)]
    keep = train.w[:, 0] > 0
    best = None
    for alpha in alphas:
        model = Ridge(alpha=alpha).fit(features[0][keep], train.y[keep, 0])
        s = spearman_corrcoef(valid.y[:, 0], model.predict(features[1]), sample_weight=valid.w[:, 0])
        if best is None or s > best[1]:
            best = (alpha, s, model)
    alpha, valid_s, model = best
    pred = model.predict(features[2])
    return {"alpha": alpha, "valid_spearman": valid_s,
            "test_spearman": spearman_corrcoef(test.y[:, 0], pred, sample_weight=test.w[:, 0]), "test_pred": pred}
