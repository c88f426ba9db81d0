"""The fine-tuning recipe (deepchem_finetune.recipe) inside DeepChem's fit: the learning rate follows the schedule,
gradients are clipped, the averaged weights are what predict and fit_with_early_stopping use, and training
checkpoints carry the average and the schedule's position."""
import inspect

import numpy as np
import pytest
import torch

import deepchem as dc
from deepchem_finetune import MolGNNModel, MolGraphFeaturizer
from deepchem_finetune.metrics import score
from deepchem_finetune.recipe import Recipe, get_recipe, preset
from deepchem_finetune.training import fit_with_early_stopping

from conftest import SMALL_SMILES, make_dataset

FEAT = MolGraphFeaturizer("rich")

pytestmark = pytest.mark.usefixtures("one_thread")  # tiny models: see conftest.one_thread


def model(recipe=None, **kw):
    args = dict(n_tasks=1, mode="regression", featurizer=FEAT, num_layers=2, hidden_dim=16, dropout=0.0, seed=0,
                batch_size=4, learning_rate=3e-3, recipe=recipe)
    args.update(kw)
    return MolGNNModel(**args)


def data(seed=0):
    y = np.random.default_rng(seed).normal(size=(len(SMALL_SMILES), 1))
    return make_dataset(FEAT, y=y)


def test_default_recipe_is_todays_behaviour():
    m = model()
    assert m.recipe.is_default and m.recipe.config == Recipe().config
    m.fit(data(), nb_epoch=1)
    assert m._lr_schedule is None and m.recipe.ema is None
    assert [g["lr"] for g in m._pytorch_optimizer.param_groups] == [3e-3] * len(m._pytorch_optimizer.param_groups)


def test_learning_rate_at_each_step_is_the_schedules():
    recipe = {"warmup": 0.25, "decay": "cosine", "min_lr_ratio": 0.1, "total_steps": 12}
    m = model(recipe, strategy_options={"head_lr_mult": 5.0})
    seen = []
    m.fit(data(), nb_epoch=4, callbacks=lambda mod, step: seen.append(
        (step, [g["lr"] for g in mod._pytorch_optimizer.param_groups])))
    assert [s for s, _ in seen] == list(range(1, 13))  # 10 molecules, batch 4: 3 steps an epoch
    r = m.recipe
    for step, lrs in seen:  # after step k the optimizer holds the rate of step k (0-based), peak x factor
        expected = [3e-3 * r.lr_factor(step)] * (len(lrs) - 1) + [15e-3 * r.lr_factor(step)]
        np.testing.assert_allclose(lrs, expected, rtol=1e-12)
    assert r.lr_factor(0) == pytest.approx(1 / 3) and r.lr_factor(2) == 1.0 and r.lr_factor(12) == pytest.approx(0.1)


def test_steps_are_planned_by_fit_and_by_fit_with_early_stopping():
    m = model("stable")
    m.fit(data(), nb_epoch=2)
    assert m.recipe.total_steps == 2 * 3
    m = model("stable")
    fit_with_early_stopping(m, data(), data(1), max_epochs=5, patience=None, progress=False)
    assert m.recipe.total_steps == 5 * 3


def test_gradients_are_clipped_to_the_norm():
    m = model({"clip_norm": 1e-3})
    m.fit(data(), nb_epoch=1)
    grads = [p.grad for p in m.model.parameters() if p.grad is not None]
    norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))
    assert float(m.recipe.last_grad_norm) > 1e-3  # the last batch's gradient was above the norm ...
    assert float(norm) <= 1e-3 * (1 + 1e-4)  # ... and the step used it clipped


def test_predict_uses_the_averaged_weights():
    m = model({"ema_decay": 0.5})
    ds = data()
    m.fit(ds, nb_epoch=3)
    raw = {k: v.clone() for k, v in m.model.state_dict().items()}
    assert any(not torch.equal(raw[k], m.recipe.ema[k]) for k in raw if raw[k].is_floating_point())
    averaged = m.predict(ds)
    assert all(torch.equal(raw[k], v) for k, v in m.model.state_dict().items())  # its own weights are back
    plain = model()
    plain.fit(ds, nb_epoch=1)  # builds it
    plain.model.load_state_dict(m.recipe.ema)
    np.testing.assert_array_equal(averaged, plain.predict(ds))
    plain.model.load_state_dict(raw)
    assert not np.allclose(averaged, plain.predict(ds))


def test_frozen_backbone_stays_bit_identical_in_the_average():
    m = model({"ema_decay": 0.9}, strategy="frozen")
    before = {k: v.clone() for k, v in m.backbone.state_dict().items()}
    m.fit(data(), nb_epoch=2)
    assert all(torch.equal(before[k], m.recipe.ema[f"backbone.{k}"]) for k in before)


def test_fit_with_early_stopping_selects_and_keeps_the_averaged_weights():
    m = model({"ema_decay": 0.7, "warmup": 0.1, "decay": "linear"})
    train, valid = data(), data(1)
    out = fit_with_early_stopping(m, train, valid, max_epochs=4, patience=None, progress=False)
    assert all(torch.equal(v, m.recipe.ema[k]) for k, v in m.model.state_dict().items())
    assert score(m, valid) == pytest.approx(out["valid_score"], abs=1e-6)  # the scored weights are the kept ones


def _run(m, ds, epochs):
    m.fit(ds, nb_epoch=epochs, checkpoint_interval=0)


def test_checkpoint_keeps_average_and_schedule_position(tmp_path):
    recipe = {"warmup": 0.2, "decay": "cosine", "clip_norm": 0.5, "ema_decay": 0.8, "total_steps": 9}
    ds = data()
    straight = model(recipe)
    _run(straight, ds, 3)
    first = model(recipe)
    _run(first, ds, 2)
    first.save_checkpoint(max_checkpoints_to_keep=1, model_dir=str(tmp_path))
    resumed = model(recipe)
    resumed.restore(model_dir=str(tmp_path))
    assert resumed._lr_schedule.last_epoch == 6 and resumed.recipe.ema_updates == 6
    assert all(torch.equal(v, first.recipe.ema[k]) for k, v in resumed.recipe.ema.items())
    assert [g["lr"] for g in resumed._pytorch_optimizer.param_groups] == \
        [g["lr"] for g in first._pytorch_optimizer.param_groups]
    _run(resumed, ds, 1)
    for k, v in straight.model.state_dict().items():
        torch.testing.assert_close(resumed.model.state_dict()[k], v, rtol=0, atol=1e-6)
        torch.testing.assert_close(resumed.recipe.ema[k], straight.recipe.ema[k], rtol=0, atol=1e-6)


def test_recipe_is_part_of_the_state_signature(tmp_path):
    train, valid = data(), data(1)
    state = str(tmp_path / "state")
    fit_with_early_stopping(model("stable"), train, valid, max_epochs=1, patience=None, progress=False,
                            state_dir=state)
    with pytest.raises(ValueError, match="recipe"):
        fit_with_early_stopping(model({"ema_decay": 0.5}), train, valid, max_epochs=2, patience=None,
                                progress=False, state_dir=state)


def test_recipe_options_are_checked_and_presets_state_learning_rates():
    with pytest.raises(ValueError, match="decay"):
        Recipe(decay="step")
    with pytest.raises(ValueError, match="unknown recipe"):
        get_recipe("fast")
    with pytest.raises(ValueError, match="DeepChem learning-rate schedule"):
        model("stable", learning_rate=dc.models.optimizers.ExponentialDecay(1e-3, 0.9, 10)).fit(data(), nb_epoch=1)
    assert preset("constant", pretrained=True) == {"recipe": "constant", "learning_rate": 1e-3, "head_lr_mult": 1.0}


def test_deepchem_predict_internals_relied_on():
    """BackboneModel._predict wraps TorchModel._predict, which predict, predict_on_generator and evaluate go through."""
    params = list(inspect.signature(dc.models.TorchModel._predict).parameters)
    assert params[:3] == ["self", "generator", "transformers"]
    assert "self._predict(" in inspect.getsource(dc.models.TorchModel.predict_on_generator)


def test_a_killed_fit_with_early_stopping_resumes_with_its_average_and_schedule(tmp_path):
    recipe = {"warmup": 0.2, "decay": "cosine", "clip_norm": 1.0, "ema_decay": 0.8, "total_steps": 12}
    train, valid = data(), data(1)
    straight = fit_with_early_stopping(model(recipe), train, valid, max_epochs=4, patience=None, progress=False)
    state = str(tmp_path / "state")
    fit_with_early_stopping(model(recipe), train, valid, max_epochs=2, patience=None, progress=False, state_dir=state)
    resumed = model(recipe)
    out = fit_with_early_stopping(resumed, train, valid, max_epochs=4, patience=None, progress=False, state_dir=state)
    np.testing.assert_allclose(out["history"], straight["history"], rtol=1e-5)
    assert out["best_epoch"] == straight["best_epoch"]
