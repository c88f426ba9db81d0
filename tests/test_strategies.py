"""Fine-tuning strategies inside DeepChem's fit."""
import numpy as np
import pytest
import torch

from deepchem_finetune import MolGNNModel, MolGraphFeaturizer
from deepchem_finetune.strategies import get_strategy

from conftest import make_dataset


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    m = MolGNNModel(3, featurizer=MolGraphFeaturizer("hu2020"), num_layers=3, hidden_dim=16, seed=0)
    m.fit(make_dataset(m.get_featurizer(), n_tasks=3), nb_epoch=2, checkpoint_interval=0)
    return m.save_pretrained(tmp_path_factory.mktemp("s") / "ckpt")


def fine_tune(ckpt, strategy, **options):
    return MolGNNModel.from_pretrained(ckpt, n_tasks=1, mode="regression", strategy=strategy,
                                       strategy_options=options, seed=1, learning_rate=1e-2)


def snapshot(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def changed(before, module):
    after = module.state_dict()
    return {k for k in before if not torch.equal(before[k], after[k])}


def ds(model):
    return make_dataset(model.get_featurizer(), y=np.linspace(0, 1, 10).reshape(-1, 1))


def test_all_backbone_parameters_are_in_some_block():
    m = MolGNNModel(1, featurizer=MolGraphFeaturizer(), num_layers=3, hidden_dim=8, pooling="attention")
    in_blocks = {id(p) for block in m.backbone.layer_groups() for mod in block for p in mod.parameters()}
    assert in_blocks == {id(p) for p in m.backbone.parameters()}


def test_frozen_keeps_backbone_bit_identical_including_bn(ckpt):
    m = fine_tune(ckpt, "frozen")
    before_b, before_h = snapshot(m.backbone), snapshot(m.head)
    m.fit(ds(m), nb_epoch=2, checkpoint_interval=0)
    assert changed(before_b, m.backbone) == set()  # weights and BN running stats / counters
    assert changed(before_h, m.head) == {"net.0.weight", "net.0.bias"}
    assert all(not mod.training for mod in m.model.frozen_modules)  # BN of frozen blocks stays in eval


def test_gradual_unfreeze_changes_exactly_the_scheduled_blocks(ckpt):
    m = fine_tune(ckpt, "gradual_unfreeze", unfreeze_every=1)
    blocks = m.backbone.layer_groups()  # [atom_encoder], [layer0, norm0], [layer1, norm1], [layer2, norm2]
    names = {}
    for i, block in enumerate(blocks):
        for mod in block:
            prefix = [n for n, x in m.backbone.named_modules() if x is mod][0]
            names.setdefault(i, set()).update(f"{prefix}.{k}" for k in mod.state_dict())
    expected_trainable = {0: set(), 1: {3}, 2: {2, 3}, 3: {1, 2, 3}, 4: {0, 1, 2, 3}}
    for epoch in range(5):
        before = snapshot(m.backbone)
        m.fit(ds(m), nb_epoch=1, checkpoint_interval=0)
        touched = changed(before, m.backbone)
        touched_blocks = {i for i, keys in names.items() if keys & touched}
        assert touched_blocks == expected_trainable[epoch], (epoch, touched_blocks)


def test_layerwise_lr_groups(ckpt):
    m = fine_tune(ckpt, "layerwise_lr", decay=0.5)
    m._ensure_built()
    lrs = {g["name"]: g["lr"] for g in m._pytorch_optimizer.param_groups}
    assert lrs["head"] == pytest.approx(1e-2)
    assert lrs["backbone.3"] == pytest.approx(1e-2 * 0.5)
    assert lrs["backbone.2"] == pytest.approx(1e-2 * 0.25)
    assert lrs["backbone.0"] == pytest.approx(1e-2 * 0.5 ** 4)
    m.fit(ds(m), nb_epoch=1, checkpoint_interval=0)  # the lrs are really used by DeepChem's loop
    assert {g["name"]: g["lr"] for g in m._pytorch_optimizer.param_groups} == lrs


def test_full_with_head_lr(ckpt):
    m = fine_tune(ckpt, "full", head_lr_mult=10.0)
    m._ensure_built()
    lrs = {g["name"]: g["lr"] for g in m._pytorch_optimizer.param_groups}
    assert lrs["head"] == pytest.approx(0.1) and lrs["backbone.1"] == pytest.approx(0.01)


def test_l2_sp_penalty_zero_at_load_and_grows(ckpt):
    m = fine_tune(ckpt, "l2_sp", alpha=0.1, beta=0.01)
    assert float(m.strategy.penalty(m)) == 0.0
    m.fit(ds(m), nb_epoch=1, checkpoint_interval=0)
    p1 = float(m.strategy.penalty(m))
    m.fit(ds(m), nb_epoch=3, checkpoint_interval=0)
    p2 = float(m.strategy.penalty(m))
    assert 0.0 < p1 < p2
    m._ensure_built()
    assert [g.get("weight_decay") for g in m._pytorch_optimizer.param_groups if g["name"] == "head"] == [0.01]
    scratch = MolGNNModel(1, mode="regression", featurizer=MolGraphFeaturizer("hu2020"), num_layers=3,
                          hidden_dim=16, strategy="l2_sp")
    with pytest.raises(RuntimeError, match="pretrained"):
        scratch.fit(ds(scratch), nb_epoch=1)


def test_set_strategy_after_load_and_bad_names(ckpt):
    m = fine_tune(ckpt, "frozen")
    m.fit(ds(m), nb_epoch=1, checkpoint_interval=0)
    m.set_strategy("full")
    before = snapshot(m.backbone)
    m.fit(ds(m), nb_epoch=1, checkpoint_interval=0)
    assert changed(before, m.backbone)
    with pytest.raises(ValueError, match="unknown strategy"):
        get_strategy("freeze")
    with pytest.raises(TypeError):
        get_strategy("frozen", decay=0.3)
