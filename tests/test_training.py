"""fit_with_early_stopping: epochs without a validation score (NaN) and the state_dir signature (seed, strategy,
pretrained weights), which refuses another run's state and never deletes it."""
import json
import logging
import math

import numpy as np
import pytest

from deepchem_finetune import MolGNNModel, MolGraphFeaturizer
from deepchem_finetune import training
from deepchem_finetune.training import PROGRESS_FILE, fit_with_early_stopping

from conftest import make_dataset

FEAT = MolGraphFeaturizer("rich")


def small_model(**kw):
    args = dict(n_tasks=1, mode="classification", featurizer=FEAT, num_layers=2, hidden_dim=16, dropout=0.0, seed=0,
                learning_rate=3e-3, batch_size=4)
    args.update(kw)
    return MolGNNModel(**args)


def data(valid_labels=None):
    train = make_dataset(FEAT, y=np.array([[i % 2] for i in range(10)], dtype=float))
    y = np.array([[(i + 1) % 2] for i in range(10)], dtype=float) if valid_labels is None else valid_labels
    return train, make_dataset(FEAT, y=y)


def scripted_scores(monkeypatch, values):
    """Validation scores ``values`` epoch by epoch, in place of the real ones."""
    queue = list(values)
    monkeypatch.setattr(training, "score", lambda model, dataset, *args, **kwargs: queue.pop(0))


# --------------------------------------------------------------------------------------- NaN scores
@pytest.mark.parametrize("metric, scores, best_epoch", [
    ("roc_auc", [math.nan, 0.6, 0.7, 0.65], 3),  # NaN first: it used to stay the "best" for ever
    ("spearman", [0.2, math.nan, 0.5, math.nan], 3),  # constant predictions in between
    ("rmse", [1.0, 0.8, math.nan, 0.9], 2),  # a diverged epoch
])
def test_a_nan_validation_score_does_not_freeze_the_selection(monkeypatch, metric, scores, best_epoch):
    train, valid = data()
    scripted_scores(monkeypatch, scores)
    out = fit_with_early_stopping(small_model(), train, valid, max_epochs=4, patience=None, progress=False,
                                  metric=metric)
    assert out["best_epoch"] == best_epoch and out["valid_score"] == scores[best_epoch - 1]
    assert out["epochs_without_score"] == [e for e, s in enumerate(scores, 1) if math.isnan(s)]


def test_nan_epochs_do_not_reset_patience(monkeypatch):
    train, valid = data()
    scripted_scores(monkeypatch, [0.7, math.nan, math.nan, 0.9])
    out = fit_with_early_stopping(small_model(), train, valid, max_epochs=4, patience=2, progress=False)
    assert out["epochs_run"] == 3 and out["best_epoch"] == 1 and out["epochs_without_score"] == [2, 3]


def test_validation_set_without_both_classes_has_no_score(caplog):
    # ROC-AUC of a validation set in which no task has both classes is NaN at every epoch: nothing is selected
    train, valid = data(valid_labels=np.ones((10, 1)))
    test = make_dataset(FEAT, y=np.array([[i % 2] for i in range(10)], dtype=float))
    with caplog.at_level(logging.WARNING, logger="deepchem_finetune.training"):
        out = fit_with_early_stopping(small_model(), train, valid, test, max_epochs=3, patience=2, progress=False)
    assert out["epochs_run"] == 2 and out["epochs_without_score"] == [1, 2]
    assert out["best_epoch"] == 0 and out["valid_score"] is None and out["test_score"] is None
    assert "2 of 2 epochs had no validation score" in caplog.text and "nothing selected" in caplog.text


def test_nan_epochs_survive_a_resume(tmp_path, monkeypatch):
    train, valid = data()
    state = str(tmp_path / "state")
    scripted_scores(monkeypatch, [math.nan, 0.6])
    first = fit_with_early_stopping(small_model(), train, valid, max_epochs=1, patience=None, progress=False,
                                    state_dir=state)
    assert first["best_epoch"] == 0 and first["epochs_without_score"] == [1]
    out = fit_with_early_stopping(small_model(), train, valid, max_epochs=2, patience=None, progress=False,
                                  state_dir=state)
    assert out["best_epoch"] == 2 and out["epochs_without_score"] == [1] and math.isnan(out["history"][0])
    # the first run's time up to its last state save (a few ms before its end, more on a loaded machine)
    assert first["earlier_seconds"] == 0 and first["seconds"] - 0.5 <= out["earlier_seconds"] <= first["seconds"]


# ---------------------------------------------------------------------------------- state signature
def state_of_one_epoch(tmp_path, **model_options):
    train, valid = data()
    state = tmp_path / "state"
    fit_with_early_stopping(small_model(**model_options), train, valid, max_epochs=1, patience=5, progress=False,
                            state_dir=str(state))
    return train, valid, state, (state / PROGRESS_FILE).read_text()


@pytest.mark.parametrize("other, differs", [
    ({"seed": 1}, "seed"),
    ({"strategy": "frozen"}, "strategy"),
    ({"strategy": "l2_sp", "strategy_options": {"alpha": 0.5}}, "strategy"),
])
def test_another_runs_state_is_refused_and_kept(tmp_path, other, differs):
    train, valid, state, saved = state_of_one_epoch(tmp_path)
    with pytest.raises(ValueError, match=rf"holds the state of another run.*{differs}: saved .*left as it is"):
        fit_with_early_stopping(small_model(**other), train, valid, max_epochs=2, patience=5, progress=False,
                                state_dir=str(state))
    assert (state / PROGRESS_FILE).read_text() == saved and (state / "epoch1").is_dir()
    out = fit_with_early_stopping(small_model(), train, valid, max_epochs=2, patience=5, progress=False,
                                  state_dir=str(state))
    assert out["epochs_run"] == 2  # the run it belongs to continues it


def test_state_of_other_pretrained_weights_is_refused(tmp_path):
    train, valid = data()
    sources = [str(small_model(seed=s).save_pretrained(tmp_path / f"pre{s}")) for s in (10, 11)]

    def from_source(k):
        return MolGNNModel.from_pretrained(sources[k], n_tasks=1, mode="classification", dropout=0.0, seed=0,
                                           batch_size=4)
    state = str(tmp_path / "state")
    fit_with_early_stopping(from_source(0), train, valid, max_epochs=1, patience=5, progress=False, state_dir=state)
    with pytest.raises(ValueError, match="pretrained_sha256"):
        fit_with_early_stopping(from_source(1), train, valid, max_epochs=2, patience=5, progress=False,
                                state_dir=state)
    out = fit_with_early_stopping(from_source(0), train, valid, max_epochs=2, patience=5, progress=False,
                                  state_dir=state)
    assert out["epochs_run"] == 2


def test_state_written_before_the_signature_had_seed_strategy_and_weights_is_refused(tmp_path):
    train, valid, state, saved = state_of_one_epoch(tmp_path)
    progress = json.loads(saved)
    for key in ("seed", "strategy", "pretrained_sha256"):
        del progress["signature"][key]
    (state / PROGRESS_FILE).write_text(json.dumps(progress))
    with pytest.raises(ValueError, match="seed: saved '<absent>', now 0"):
        fit_with_early_stopping(small_model(), train, valid, max_epochs=2, patience=5, progress=False,
                                state_dir=str(state))
    assert (state / "epoch1").is_dir()


def test_weights_taken_from_another_model_are_part_of_the_signature(tmp_path):
    train, valid = data()
    state = str(tmp_path / "state")
    fit_with_early_stopping(small_model().load_pretrained(small_model(seed=10)), train, valid, max_epochs=1,
                            patience=5, progress=False, state_dir=state)
    with pytest.raises(ValueError, match="pretrained_sha256"):
        fit_with_early_stopping(small_model().load_pretrained(small_model(seed=11)), train, valid, max_epochs=2,
                                patience=5, progress=False, state_dir=state)
    with pytest.raises(ValueError, match="pretrained_sha256: saved '[0-9a-f]{64}', now None"):
        fit_with_early_stopping(small_model(), train, valid, max_epochs=2, patience=5, progress=False,
                                state_dir=state)
    out = fit_with_early_stopping(small_model().load_pretrained(small_model(seed=10)), train, valid, max_epochs=2,
                                  patience=5, progress=False, state_dir=state)
    assert out["epochs_run"] == 2
