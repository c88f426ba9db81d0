import numpy as np
import pytest
import torch

import deepchem as dc
from deepchem_finetune import MolGNNModel, MolGraphFeaturizer
from deepchem_finetune.metrics import masked_roc_auc

from conftest import SMALL_SMILES, make_dataset


def small_model(**kw):
    args = dict(n_tasks=1, mode="classification", featurizer=MolGraphFeaturizer("rich"), num_layers=2,
                hidden_dim=32, dropout=0.0, seed=0, learning_rate=3e-3, batch_size=16)
    args.update(kw)
    return MolGNNModel(**args)


def test_overfit_tiny_classification():
    model = small_model()
    ds = make_dataset(model.get_featurizer(), y=np.array([[i % 2] for i in range(10)], dtype=float))
    loss = model.fit(ds, nb_epoch=150, checkpoint_interval=0)
    assert loss < 0.05
    proba = model.predict(ds)
    assert proba.shape == (10, 1, 2)
    assert masked_roc_auc(ds.y, ds.w, proba) == 1.0


def test_overfit_tiny_regression_and_dense_featurizer():
    model = small_model(mode="regression", featurizer=dc.feat.MolGraphConvFeaturizer(use_edges=True))
    y = np.linspace(-1, 1, 10).reshape(-1, 1)
    ds = make_dataset(model.get_featurizer(), y=y)
    loss = model.fit(ds, nb_epoch=200, checkpoint_interval=0)
    assert loss < 0.01
    assert model.predict(ds).shape == (10, 1)


def test_evaluate_with_deepchem_metric():
    model = small_model(n_tasks=2)
    ds = make_dataset(model.get_featurizer(), y=np.array([[i % 2, (i // 2) % 2] for i in range(10)], float))
    model.fit(ds, nb_epoch=5, checkpoint_interval=0)
    scores = model.evaluate(ds, [dc.metrics.Metric(dc.metrics.roc_auc_score, np.mean)])
    assert 0.0 <= scores["mean-roc_auc_score"] <= 1.0


def test_restore_gives_identical_predictions(tmp_path):
    model = small_model(model_dir=str(tmp_path / "m"))
    ds = make_dataset(model.get_featurizer())
    model.fit(ds, nb_epoch=3)
    model.save_checkpoint()
    before = model.predict(ds)
    fresh = small_model(model_dir=str(tmp_path / "m"), seed=123)
    assert not np.allclose(fresh.predict(ds), before)
    fresh.restore()
    np.testing.assert_array_equal(fresh.predict(ds), before)


def test_restore_then_fit_continues_like_an_uninterrupted_run(tmp_path):
    # The seeded shuffle and dropout of epoch k depend on how many epochs ran before: a checkpoint carries that
    # count, so 2 epochs + restore + 2 epochs equals 4 epochs in one go (gradual unfreezing included).
    ds = make_dataset(MolGraphFeaturizer("rich"))
    options = dict(dropout=0.3, batch_size=4, strategy="gradual_unfreeze", strategy_options={"unfreeze_every": 1})
    straight = small_model(**options)
    straight.fit(ds, nb_epoch=4, checkpoint_interval=0)
    first = small_model(**options)
    first.fit(ds, nb_epoch=2, checkpoint_interval=0)
    first.save_checkpoint(max_checkpoints_to_keep=1, model_dir=str(tmp_path / "state"))
    second = small_model(**options)
    second.restore(model_dir=str(tmp_path / "state"))
    assert second.get_global_step() == first.get_global_step()
    second.fit(ds, nb_epoch=2, checkpoint_interval=0)
    np.testing.assert_array_equal(second.predict(ds), straight.predict(ds))
    # DeepChem's own idiom, fit(restore=True), gives the same
    third = small_model(model_dir=str(tmp_path / "state"), **options)
    third.fit(ds, nb_epoch=2, checkpoint_interval=0, restore=True)
    np.testing.assert_array_equal(third.predict(ds), straight.predict(ds))


def test_seeded_runs_are_identical_and_seeds_differ():
    ds = make_dataset(MolGraphFeaturizer("rich"))
    preds = []
    for seed in (7, 7, 8):
        m = small_model(seed=seed, dropout=0.3)
        m.fit(ds, nb_epoch=3, checkpoint_interval=0)
        preds.append(m.predict(ds))
    np.testing.assert_array_equal(preds[0], preds[1])
    assert not np.allclose(preds[0], preds[2])


def test_nan_labels_are_masked():
    f = MolGraphFeaturizer("rich")
    y = np.array([[i % 2, np.nan if i % 3 == 0 else (i // 2) % 2] for i in range(10)], dtype=float)
    w = np.ones_like(y)
    ds = dc.data.NumpyDataset(f.featurize(SMALL_SMILES), y, w)
    y_other = y.copy()
    y_other[np.isnan(y)] = 1.0
    ds_zero_w = dc.data.NumpyDataset(f.featurize(SMALL_SMILES), y_other, np.where(np.isnan(y), 0.0, 1.0))
    losses = []
    for data in (ds, ds_zero_w):
        m = small_model(n_tasks=2)
        (inputs, labels, weights) = m._prepare_batch(([data.X], [data.y], [data.w]))
        out = m.model(inputs[0])
        loss = m._loss_fn([out[1]], labels, weights)
        assert torch.isfinite(loss)
        losses.append(float(loss))
    # a NaN label behaves exactly like a missing label (w = 0), whatever y holds there
    assert losses[0] == pytest.approx(losses[1], rel=1e-6)
    m = small_model(n_tasks=2)
    assert np.isfinite(m.fit(ds, nb_epoch=3, checkpoint_interval=0))


def test_disk_dataset_and_single_molecule(tmp_path):
    f = MolGraphFeaturizer("rich")
    disk = dc.data.DiskDataset.from_numpy(f.featurize(SMALL_SMILES), np.ones((10, 1)) * 1.5,
                                          data_dir=str(tmp_path / "disk"))
    m = small_model(mode="regression")
    assert np.isfinite(m.fit(disk, nb_epoch=2, checkpoint_interval=0))
    assert m.predict(disk).shape == (10, 1)
    one = dc.data.NumpyDataset(f.featurize(["[Na+]"]), np.array([[0.5]]))
    assert np.isfinite(m.fit(one, nb_epoch=2, checkpoint_interval=0))
    assert m.predict(one).shape == (1, 1)


def test_wrong_featurizer_is_a_clear_error():
    m = small_model()  # built for MolGraphFeaturizer("rich")
    ds = make_dataset(dc.feat.MolGraphConvFeaturizer(use_edges=True))
    with pytest.raises(ValueError, match="model.get_featurizer"):
        m.predict(ds)
    ds2 = make_dataset(MolGraphFeaturizer("hu2020"))
    with pytest.raises(ValueError, match="2 atom / 2 bond.*expects 8 / 5"):
        m.predict(ds2)


def test_feature_index_out_of_range_is_rejected_before_the_model_runs():
    m = small_model(featurizer=MolGraphFeaturizer("hu2020"))
    graphs = m.get_featurizer().featurize(["CCO", "c1ccccc1"])
    graphs[1].node_features[0, 0] = 500  # atomic-number index past the 120-row table
    with pytest.raises(ValueError, match="atom feature index out of range.*120"):
        m.predict(dc.data.NumpyDataset(graphs))
    graphs[1].node_features[0, 0] = 5
    graphs[0].edge_features[0, 1] = -1
    with pytest.raises(ValueError, match="bond feature index out of range"):
        m.predict(dc.data.NumpyDataset(graphs))


@pytest.mark.slow
def test_compiled_backbone_matches_eager_and_keeps_parameter_names(tmp_path):
    # compile=True runs the same function through torch.compile (dynamic shapes): same outputs and training up
    # to float32 rounding, same checkpoint keys (a compiled model's checkpoint restores into a plain one)
    eager = small_model(featurizer=MolGraphFeaturizer("hu2020"), conv="gcn")
    compiled = small_model(featurizer=MolGraphFeaturizer("hu2020"), conv="gcn", compile=True,
                           model_dir=str(tmp_path / "c"))
    assert list(compiled.model.state_dict()) == list(eager.model.state_dict())
    ds = make_dataset(eager.get_featurizer(), y=np.array([[i % 2] for i in range(10)], dtype=float))
    np.testing.assert_allclose(compiled.predict(ds), eager.predict(ds), atol=1e-5)
    eager.fit(ds, nb_epoch=3, checkpoint_interval=0)
    compiled.fit(ds, nb_epoch=3, checkpoint_interval=0)
    np.testing.assert_allclose(compiled.predict(ds), eager.predict(ds), atol=1e-4)
    compiled.save_checkpoint(max_checkpoints_to_keep=1)
    plain = small_model(featurizer=MolGraphFeaturizer("hu2020"), conv="gcn", model_dir=str(tmp_path / "c"))
    plain.restore()
    np.testing.assert_allclose(plain.predict(ds), compiled.predict(ds), atol=1e-5)
    with pytest.raises(TypeError, match="compile must be True or False"):
        small_model(compile="no")


def test_bad_labels_and_arguments():
    m = small_model()
    ds = make_dataset(m.get_featurizer(), y=np.full((10, 1), 2.0))
    with pytest.raises(ValueError, match="not an integer class.*regression"):
        m.fit(ds, nb_epoch=1)
    ds3 = make_dataset(m.get_featurizer(), n_tasks=3)
    with pytest.raises(ValueError, match="3 task"):
        m.fit(ds3, nb_epoch=1)
    with pytest.raises(TypeError, match="unexpected keyword"):
        small_model(hiden_dim=3)
    with pytest.raises(ValueError, match="mode"):
        small_model(mode="ranking")


def test_predict_smiles_reports_invalid_rows_as_nan():
    m = small_model(mode="regression")
    out = m.predict_smiles(["CCO", "C1CC", "c1ccccc1"], skip_invalid=True)
    assert out.shape == (3, 1) and np.isnan(out[1, 0]) and np.isfinite(out[[0, 2]]).all()
    with pytest.raises(ValueError, match="index 1"):
        m.predict_smiles(["CCO", "C1CC"])


def test_early_stopping_run_resumes_from_its_state_dir(tmp_path):
    # 2 epochs (as if killed), then the same call with 5 epochs and the same state_dir, equals 5 epochs in one go:
    # same validation history, same selected epoch, same restored weights.
    from deepchem_finetune.training import fit_with_early_stopping
    feat = MolGraphFeaturizer("rich")
    train = make_dataset(feat, y=np.array([[i % 2] for i in range(10)], dtype=float))
    valid = make_dataset(feat, y=np.array([[(i + 1) % 2] for i in range(10)], dtype=float))
    options = dict(dropout=0.3, batch_size=4)
    reference = small_model(**options)
    straight = fit_with_early_stopping(reference, train, valid, max_epochs=5, patience=5, progress=False)
    state = str(tmp_path / "state")
    first = fit_with_early_stopping(small_model(**options), train, valid, max_epochs=2, patience=5, progress=False,
                                    state_dir=state)
    assert first["epochs_run"] == 2
    model = small_model(**options)
    epochs_trained, fit = [], model.fit
    model.fit = lambda *args, **kwargs: epochs_trained.append(1) or fit(*args, **kwargs)
    resumed = fit_with_early_stopping(model, train, valid, max_epochs=5, patience=5, progress=False, state_dir=state)
    assert len(epochs_trained) == 3  # epochs 3-5 only
    assert resumed["history"] == straight["history"] and resumed["best_epoch"] == straight["best_epoch"]
    np.testing.assert_array_equal(model.predict(valid), reference.predict(valid))
    assert sorted(p.name for p in (tmp_path / "state").iterdir()) == ["epoch5", "progress.json"]
    # the state of another model or schedule is not continued: it is refused and left as it is
    with pytest.raises(ValueError, match="holds the state of another run.*parameters.*left as it is"):
        fit_with_early_stopping(small_model(hidden_dim=16), train, valid, max_epochs=1, patience=5,
                                progress=False, state_dir=state)
    assert sorted(p.name for p in (tmp_path / "state").iterdir()) == ["epoch5", "progress.json"]


def test_early_stopping_monitors_extra_sets_and_stops_at_its_time_limit(tmp_path):
    # monitor: the test set is scored with each epoch's weights (the last entry equals predicting after the last
    # epoch); time_limit=0 stops before the next epoch (completed False) and a later call continues the run, with
    # the monitored scores of the earlier epochs kept in the state.
    from deepchem_finetune.metrics import score
    from deepchem_finetune.training import fit_with_early_stopping
    feat = MolGraphFeaturizer("rich")
    train = make_dataset(feat, y=np.array([[i % 2] for i in range(10)], dtype=float))
    valid = make_dataset(feat, y=np.array([[(i + 1) % 2] for i in range(10)], dtype=float))
    test = make_dataset(feat, y=np.array([[(i // 2) % 2] for i in range(10)], dtype=float))
    reference = small_model(dropout=0.3, batch_size=4)
    straight = fit_with_early_stopping(reference, train, valid, max_epochs=3, patience=3, progress=False,
                                       monitor={"test": test})
    assert straight["completed"] and len(straight["monitored"]["test"]) == len(straight["epoch_seconds"]) == 3
    model = small_model(dropout=0.3, batch_size=4)
    state = str(tmp_path / "state")
    cut = fit_with_early_stopping(model, train, valid, max_epochs=3, patience=3, progress=False,
                                  monitor={"test": test}, state_dir=state, time_limit=0)
    assert not cut["completed"] and cut["epochs_run"] == 0 and cut["test_score"] is None
    first = fit_with_early_stopping(model, train, valid, max_epochs=1, patience=3, progress=False,
                                    monitor={"test": test}, state_dir=state)
    assert first["completed"] and first["monitored"]["test"] == straight["monitored"]["test"][:1]
    last = small_model(dropout=0.3, batch_size=4)
    resumed = fit_with_early_stopping(last, train, valid, max_epochs=3, patience=3, progress=False,
                                      monitor={"test": test}, state_dir=state)
    assert resumed["monitored"] == straight["monitored"] and resumed["history"] == straight["history"]
    assert resumed["completed"] and len(resumed["epoch_seconds"]) == 3
    again = fit_with_early_stopping(small_model(dropout=0.3, batch_size=4), train, valid, max_epochs=3, patience=3,
                                    progress=False, monitor={"test": test}, state_dir=state)
    assert again["completed"] and again["epochs_run"] == 3 and again["history"] == straight["history"]
    # the last monitored score is the last epoch's weights, not the selected ones
    last_epoch = small_model(dropout=0.3, batch_size=4)
    for _ in range(3):
        last_epoch.fit(train, nb_epoch=1, checkpoint_interval=0)
    assert score(last_epoch, test) == straight["monitored"]["test"][-1]


def test_early_stopping_without_patience_and_state_written_before_epoch_seconds(tmp_path):
    # patience=None trains every epoch; a progress.json without the newer keys (monitored, epoch_seconds) still
    # resumes, with NaN seconds for its epochs.
    import json
    from deepchem_finetune.training import PROGRESS_FILE, fit_with_early_stopping
    feat = MolGraphFeaturizer("rich")
    train = make_dataset(feat, y=np.array([[i % 2] for i in range(10)], dtype=float))
    valid = make_dataset(feat, y=np.array([[(i + 1) % 2] for i in range(10)], dtype=float))
    state = tmp_path / "state"
    first = fit_with_early_stopping(small_model(), train, valid, max_epochs=1, patience=None, progress=False,
                                    state_dir=str(state))
    progress = json.loads((state / PROGRESS_FILE).read_text())
    del progress["monitored"], progress["epoch_seconds"]
    (state / PROGRESS_FILE).write_text(json.dumps(progress))
    out = fit_with_early_stopping(small_model(), train, valid, max_epochs=4, patience=None, progress=False,
                                  state_dir=str(state))
    assert out["epochs_run"] == 4 and out["history"][:1] == first["history"] and out["monitored"] == {}
    assert np.isnan(out["epoch_seconds"][0]) and np.isfinite(out["epoch_seconds"][1:]).all()


def test_epoch_limit_stops_after_that_many_epochs_of_a_call_and_a_later_call_continues(tmp_path):
    from deepchem_finetune.training import fit_with_early_stopping
    feat = MolGraphFeaturizer("rich")
    train = make_dataset(feat, y=np.array([[i % 2] for i in range(10)], dtype=float))
    valid = make_dataset(feat, y=np.array([[(i + 1) % 2] for i in range(10)], dtype=float))
    straight = fit_with_early_stopping(small_model(batch_size=4), train, valid, max_epochs=3, patience=None,
                                       progress=False)
    assert straight["completed"] and straight["stopped_by"] is None
    state = str(tmp_path / "state")
    history = []
    for call in range(2):  # epochs 1-2, then epoch 3 (the limit counts the epochs of one call)
        out = fit_with_early_stopping(small_model(batch_size=4), train, valid, max_epochs=3, patience=None,
                                      progress=False, state_dir=state, epoch_limit=2)
        history.append(out["epochs_run"])
    assert history == [2, 3] and out["completed"] and out["history"] == straight["history"]
    with pytest.raises(ValueError, match="epoch_limit must be >= 0"):
        fit_with_early_stopping(small_model(batch_size=4), train, valid, max_epochs=3, epoch_limit=-1)
