"""Classical baselines beside the neural models: ridge regression on one-hot sequences (FLIP's simplest).

``one_hot_tokens`` turns token-id arrays (what the sequence tokenizers produce) into flat one-hot features,
padding positions left at zero; ``ridge_one_hot`` fits scikit-learn's ``Ridge`` on them, chooses the
regularisation strength on the validation set and returns the test Spearman at that choice.
"""
from __future__ import annotations

from typing import Dict, Sequence

import numpy as np

from deepchem_finetune.metrics import spearman_corrcoef

ALPHAS = (0.1, 1.0, 10.0, 100.0, 1000.0)


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
