"""Fine-tuning with model selection on a validation set, through DeepChem's own ``fit``.

``fit_with_early_stopping`` calls ``model.fit(train, nb_epoch=1)`` once per epoch, scores the
validation set, keeps the best weights in memory and stops after ``patience`` epochs without
improvement. The returned test score is the one at the best-validation epoch.

An epoch whose validation score is not a number (NaN: Spearman of constant predictions, ROC-AUC of a validation
set without a task having both classes, a diverged RMSE) takes no part in the selection: it is listed in the
result's ``epochs_without_score`` and the best of the scored epochs is selected.

With ``state_dir`` a run survives being killed: after every epoch it writes the training state
(``model.save_checkpoint``: weights, optimizer, epoch counters), the best weights so far (``best.safetensors``)
and the scores (``progress.json``, written atomically), and a later call with the same arguments continues from
the last finished epoch, giving what the uninterrupted run gives. The state carries a signature of the run (network
shapes, data sizes, patience, metric, monitored sets, seed, strategy with its options, sha256 of the pretrained
weights); a ``state_dir`` holding another run's state is refused, never deleted, and one process at a time may use
a ``state_dir`` (a cross-process lock).

With a model whose recipe averages weights (:mod:`deepchem_finetune.recipe`), every epoch is scored with the averaged
weights, and those of the best epoch are the ones selected, kept and restored. A recipe with a learning-rate
schedule that has no planned steps yet plans ``max_epochs`` epochs of ``train``.
"""
from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import logging
import math
import os
import shutil
import time
from typing import Dict, List, Optional, Sequence

import torch
from tqdm.auto import tqdm

from deepchem_finetune import distributed, recipe, storage
from deepchem_finetune.metrics import higher_is_better, score

logger = logging.getLogger(__name__)


def fit_with_early_stopping(model, train, valid, test=None, transformers: Sequence = (), max_epochs: int = 100,
                            patience: Optional[int] = 20, progress: bool = True, desc: Optional[str] = None,
                            metric: Optional[str] = None, state_dir: Optional[str] = None,
                            monitor: Optional[Dict] = None, time_limit: Optional[float] = None,
                            epoch_limit: Optional[int] = None) -> Dict:
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
    patience: int or None, optional (default 20)
        Epochs without validation improvement before stopping; None trains all ``max_epochs`` (the selected epoch
        is still the best-validation one).
    progress: bool, optional (default True)
        Show a tqdm bar with the running scores.
    metric: str, optional
        Selection (and test) metric: 'roc_auc', 'rmse' or 'spearman'; default ROC-AUC for classification,
        RMSE for regression (:func:`deepchem_finetune.metrics.score`).
    state_dir: str, optional
        Folder for the per-epoch training state; if it holds the state of an earlier, interrupted call with the
        same model, data, seed, strategy and pretrained weights, training continues from there (see the module
        docstring). Delete it to start over.
    monitor: dict of str to dc.data.Dataset, optional
        Extra datasets scored after every epoch with that epoch's weights (not used for selection), e.g.
        ``{"test": test}`` for protocols that also report the last epoch's test score. Their scores are kept in
        the state, so a resumed run has them for every epoch.
    time_limit: float, optional
        Seconds, counted from after a saved state is restored, after which no new epoch is started (it is checked
        between epochs, so a call can overrun by one epoch and its scoring); the result then has ``completed``
        False and, with ``state_dir``, the same call later continues the run.
    epoch_limit: int, optional
        At most this many epochs in this call (a slot on a shared machine, or a deterministic interruption in a
        test); when it stops the run first, ``completed`` is False and a later call continues it, as with
        ``time_limit``.

    Returns
    -------
    dict
        ``best_epoch`` (1-based), ``valid_score``, ``test_score`` (or None), ``epochs_run``,
        ``history`` (validation score per epoch, NaN where there was none), ``epochs_without_score`` (1-based
        epochs whose validation score was NaN: not selectable), ``monitored`` (name -> score per epoch),
        ``epoch_seconds`` (wall time per epoch, training and scoring; NaN for epochs restored from a state written
        before this key existed), ``seconds`` (of every run of this ``state_dir``), ``earlier_seconds`` (those of
        the runs before this one, which it resumed; 0 for a fresh run), ``completed`` (False when ``time_limit`` or
        ``epoch_limit`` stopped the run before patience or ``max_epochs`` did), ``stopped_by`` (``"time_limit"``, ``"epoch_limit"``
        or None). When stopped before any epoch, ``best_epoch`` is 0, ``valid_score`` and
        ``test_score`` are None and the model's weights are left as they were; when no epoch had a validation
        score, ``best_epoch`` is 0, ``valid_score`` and ``test_score`` are None (nothing to select by, logged as a
        warning) and the model keeps the last epoch's weights.

    Raises
    ------
    ValueError
        ``state_dir`` holds the state of another run (the message names what differs); the folder is left as
        it is.
    TimeoutError
        Another process is using ``state_dir``.

    Examples
    --------
    >>> out = fit_with_early_stopping(model, train, valid, test, max_epochs=5)  # doctest: +SKIP
    >>> out = fit_with_early_stopping(model, train, valid, max_epochs=100, patience=None,
    ...                               monitor={"test": test}, state_dir="state/run0")  # doctest: +SKIP
    >>> last_test = out["monitored"]["test"][-1]  # doctest: +SKIP
    """
    with contextlib.ExitStack() as stack:
        if state_dir is not None and distributed.is_main_process():  # only rank 0 writes the state
            stack.enter_context(storage.lock(state_dir, timeout=0))
        return _fit(model, train, valid, test, transformers, max_epochs, patience, progress, desc, metric,
                    state_dir, dict(monitor or {}), time_limit, epoch_limit)


def _fit(model, train, valid, test, transformers, max_epochs, patience, progress, desc, metric, state_dir,
         monitor, time_limit, epoch_limit) -> Dict:
    better = higher_is_better(model.mode, metric)
    best, best_epoch, best_state = None, 0, None
    history, monitored, epoch_seconds = [], {name: [] for name in monitor}, []
    earlier_seconds = 0.0
    signature = None
    recipe.plan_steps(model, max_epochs, len(train))  # before a restore, which brings back the saved plan
    if state_dir is not None:
        signature = _signature(model, train, valid, patience, metric, monitor)
        if os.path.isfile(os.path.join(state_dir, PROGRESS_FILE)):
            history, monitored, epoch_seconds, best, best_epoch, best_state, earlier_seconds = _restore_state(
                model, state_dir, signature)
    if epoch_limit is not None and epoch_limit < 0:
        raise ValueError(f"epoch_limit must be >= 0, got {epoch_limit}")
    start = time.time()
    restored = len(history)
    completed, stopped_by = True, None
    bar = tqdm(range(len(history) + 1, max_epochs + 1), desc=desc or type(model).__name__, disable=not progress,
               leave=False)
    for epoch in bar:
        if history and patience is not None and epoch - 1 - best_epoch >= patience:
            break  # an interrupted run that had already stopped
        # every rank must take the same decision: a rank that stops while another starts fit would hang DDP
        if time_limit is not None and distributed.any_rank(time.time() - start >= time_limit):
            completed, stopped_by = False, "time_limit"
            break
        if epoch_limit is not None and epoch - 1 - restored >= epoch_limit:
            completed, stopped_by = False, "epoch_limit"
            break
        epoch_start = time.time()
        model.fit(train, nb_epoch=1, checkpoint_interval=0)
        s = score(model, valid, transformers, metric=metric)
        history.append(s)
        for name, dataset in monitor.items():
            monitored[name].append(score(model, dataset, transformers, metric=metric))
        epoch_seconds.append(round(time.time() - epoch_start, 2))
        if _has_score(s) and (best is None or (s > best if better else s < best)):
            best, best_epoch = s, epoch
            best_state = copy.deepcopy(recipe.selection_state(model))  # the averaged weights if the recipe averages
        if state_dir is not None:
            _save_state(model, state_dir, history, monitored, epoch_seconds, best, best_epoch, best_state,
                        earlier_seconds + time.time() - start, signature)
        bar.set_postfix(valid=f"{s:.3f}", best="-" if best is None else f"{best:.3f}@{best_epoch}")
        if patience is not None and epoch - best_epoch >= patience:
            break
    bar.close()
    test_score = None
    if best_state is not None:  # None when a limit stopped the run before its first epoch or no epoch scored
        model.model.load_state_dict(best_state)
        recipe.after_selection(model)
        test_score = score(model, test, transformers, metric=metric) if test is not None else None
    unscored = _epochs_without_score(history)
    if unscored:
        logger.warning("%s: %d of %d epochs had no validation score (NaN) and were not selectable (epochs %s)%s",
                       desc or type(model).__name__, len(unscored), len(history), _ranges(unscored),
                       "" if best_state is not None else "; no epoch had one: nothing selected, the model keeps "
                       "the last epoch's weights and there is no test score")
    return {"best_epoch": best_epoch, "valid_score": best, "test_score": test_score, "epochs_run": len(history),
            "history": history, "epochs_without_score": unscored, "monitored": monitored,
            "epoch_seconds": epoch_seconds, "seconds": earlier_seconds + time.time() - start,
            "earlier_seconds": earlier_seconds, "completed": completed, "stopped_by": stopped_by}


def _has_score(s) -> bool:
    return s is not None and math.isfinite(s)


def _epochs_without_score(history: Sequence) -> List[int]:
    return [epoch for epoch, s in enumerate(history, 1) if not _has_score(s)]


def _ranges(epochs: Sequence[int]) -> str:
    """``1-3, 7`` for ``[1, 2, 3, 7]``."""
    parts, first = [], None
    for k, e in enumerate(epochs):
        first = e if first is None else first
        if k + 1 == len(epochs) or epochs[k + 1] != e + 1:
            parts.append(str(e) if first == e else f"{first}-{e}")
            first = None
    return ", ".join(parts)


PROGRESS_FILE, BEST_FILE = "progress.json", "best.safetensors"


def _signature(model, train, valid, patience, metric, monitor) -> Dict:
    """What must match for a saved state to be continued: the network's parameter shapes, the data sizes, the
    patience, the metric, the monitored datasets, the seed, the strategy with its options and the sha256 of the
    pretrained weights the model was loaded with (``max_epochs`` may grow: a run can be extended). JSON
    round-tripped, so that it compares equal to the one read back from ``progress.json``."""
    shapes = ";".join(f"{k}:{tuple(v.shape)}" for k, v in model.model.state_dict().items())
    signature = {"parameters": hashlib.sha256(shapes.encode()).hexdigest()[:16], "n_train": len(train),
                 "n_valid": len(valid), "patience": patience, "metric": metric}
    if monitor:  # absent without monitored datasets, so states written before this option still match
        signature["monitor"] = {name: len(dataset) for name, dataset in monitor.items()}
    model_recipe = getattr(model, "recipe", None)
    if isinstance(model_recipe, recipe.Recipe) and not model_recipe.is_default:  # absent for the default, likewise
        signature["recipe"] = model_recipe.config
    strategy = getattr(model, "strategy", None)
    signature.update(seed=getattr(model, "seed", None),
                     strategy=None if strategy is None else {"name": getattr(strategy, "name", type(strategy).__name__),
                                                             "options": getattr(strategy, "options", {})},
                     pretrained_sha256=_pretrained_sha256(model))
    return json.loads(json.dumps(signature, default=repr))


def _pretrained_sha256(model) -> Optional[str]:
    """sha256 of the pretrained weights the model was loaded with: the model's ``pretrained_sha256`` (the
    artifact's checksum) if it has one, else that of the backbone weights as loaded (names, dtypes and bytes of
    ``model.pretrained_reference``, e.g. weights taken from another model); None for a model trained from scratch."""
    recorded = getattr(model, "pretrained_sha256", None)
    if recorded:
        return str(recorded)
    reference = getattr(model, "pretrained_reference", None)
    if not reference:
        return None
    digest = hashlib.sha256()
    for name in sorted(reference):
        tensor = reference[name].detach().cpu().contiguous().reshape(-1)
        digest.update(f"{name}:{tensor.dtype}:{tensor.numel()};".encode())
        digest.update(tensor.view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def _save_state(model, state_dir, history, monitored, epoch_seconds, best, best_epoch, best_state, seconds,
                signature) -> None:
    """Write epoch k's training state and best weights into ``state_dir/epoch<k>/``, then point ``progress.json``
    at it (an atomic replace), then delete older epoch folders: a run killed at any moment resumes from a
    consistent epoch."""
    from safetensors.torch import save_file
    if not distributed.is_main_process():
        return
    name = f"epoch{len(history)}"
    folder = os.path.join(state_dir, name)
    model.save_checkpoint(max_checkpoints_to_keep=1, model_dir=folder)
    if best_state is not None:  # None while no epoch had a validation score
        save_file({k: v.detach().cpu().contiguous() for k, v in best_state.items()}, os.path.join(folder, BEST_FILE))
    storage.atomic_write_json(os.path.join(state_dir, PROGRESS_FILE),
                              {"folder": name, "history": history, "monitored": monitored,
                               "epoch_seconds": epoch_seconds, "best": best, "best_epoch": best_epoch,
                               "seconds": seconds, "signature": signature})
    for old in os.listdir(state_dir):
        if old.startswith("epoch") and old != name:
            shutil.rmtree(os.path.join(state_dir, old), ignore_errors=True)


def _restore_state(model, state_dir, signature):
    """The saved run's scores (validation history, monitored scores, epoch seconds), best score, epoch and weights
    (None if no epoch was scored yet), and total seconds, with the model restored to its last epoch.

    Raises ``ValueError``, leaving the folder as it is, when the state belongs to another model, data, schedule,
    seed, strategy or pretrained weights (or was written before the signature held all of them)."""
    from safetensors.torch import load_file
    with open(os.path.join(state_dir, PROGRESS_FILE)) as fh:
        progress = json.load(fh)
    saved = progress.get("signature") or {}
    if saved != signature:
        differs = sorted(k for k in set(saved) | set(signature) if saved.get(k, "<absent>") != signature.get(k))
        shown = "; ".join(f"{k}: saved {saved.get(k, '<absent>')!r}, now {signature.get(k)!r}" for k in differs)
        raise ValueError(f"{state_dir} holds the state of another run, which is not continued ({shown}). It is left "
                         "as it is: delete it to start this run over, or pass another state_dir")
    folder = os.path.join(state_dir, progress["folder"])
    model.restore(model_dir=folder)
    best_path = os.path.join(folder, BEST_FILE)
    best_state = load_file(best_path) if os.path.exists(best_path) else None
    history = list(progress["history"])
    monitored = {name: list(values) for name, values in progress.get("monitored", {}).items()}
    for name in signature.get("monitor", {}):
        monitored.setdefault(name, [])
    epoch_seconds = list(progress.get("epoch_seconds", [float("nan")] * len(history)))
    return (history, monitored, epoch_seconds, progress["best"], int(progress["best_epoch"]), best_state,
            float(progress["seconds"]))
