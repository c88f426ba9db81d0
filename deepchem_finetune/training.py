"""Fine-tuning with model selection on a validation set, through DeepChem's own ``fit``.

``fit_with_early_stopping`` calls ``model.fit(train, nb_epoch=1)`` once per epoch, scores the
validation set, keeps the best weights in memory and stops after ``patience`` epochs without
improvement. The returned test score is the one at the best-validation epoch.
"""
from __future__ import annotations

import copy
import time
from typing import Dict, Optional, Sequence

from tqdm.auto import tqdm

from deepchem_finetune.metrics import higher_is_better, score


def fit_with_early_stopping(model, train, valid, test=None, transformers: Sequence = (), max_epochs: int = 100,
                            patience: int = 20, progress: bool = True, desc: Optional[str] = None,
                            metric: Optional[str] = None) -> Dict:
    """Train epoch by epoch, select the best-validation epoch and restore its weights.

    Parameters
    ----------
    model: BackboneModel
        Any model of this package (or a DeepChem model with ``mode``).
    train, valid: dc.data.Dataset
    test: dc.data.Dataset, optional
        Scored once, at the end, with the selected weights.
    transformers: sequence
        Transformers applied to the datasets (undone for scoring).
    max_epochs: int, optional (default 100)
    patience: int, optional (default 20)
        Epochs without validation improvement before stopping.
    progress: bool, optional (default True)
        Show a tqdm bar with the running scores.
    metric: str, optional
        Selection (and test) metric: 'roc_auc', 'rmse' or 'spearman'; default ROC-AUC for classification,
        RMSE for regression (:func:`deepchem_finetune.metrics.score`).

    Returns
    -------
    dict
        ``best_epoch`` (1-based), ``valid_score``, ``test_score`` (or None), ``epochs_run``,
        ``history`` (validation score per epoch), ``seconds``.

    Examples
    --------
    >>> out = fit_with_early_stopping(model, train, valid, test, max_epochs=5)  # doctest: +SKIP
    """
    better = higher_is_better(model.mode, metric)
    best, best_epoch, best_state = None, 0, None
    history = []
    start = time.time()
    bar = tqdm(range(1, max_epochs + 1), desc=desc or type(model).__name__, disable=not progress, leave=False)
    for epoch in bar:
        model.fit(train, nb_epoch=1, checkpoint_interval=0)
        s = score(model, valid, transformers, metric=metric)
        history.append(s)
        if best is None or (s > best if better else s < best):
            best, best_epoch = s, epoch
            best_state = copy.deepcopy(model.model.state_dict())
        bar.set_postfix(valid=f"{s:.3f}", best=f"{best:.3f}@{best_epoch}")
        if epoch - best_epoch >= patience:
            break
    bar.close()
    model.model.load_state_dict(best_state)
    test_score = score(model, test, transformers, metric=metric) if test is not None else None
    return {"best_epoch": best_epoch, "valid_score": best, "test_score": test_score, "epochs_run": len(history),
            "history": history, "seconds": time.time() - start}
