"""SeqCNN backbone and SeqCNNModel."""
import itertools
import json

import numpy as np
import pytest
import torch

import deepchem as dc
from deepchem_finetune import ProteinTokenizer, SeqCNN, SeqCNNModel, SmilesTokenizer
from deepchem_finetune.backbones import BACKBONES
from deepchem_finetune.exceptions import FeaturizationError, SpecMismatchError

from conftest import SMALL_SMILES

PROTEINS = ["MKTAYIAKQR", "MKTAHIAK", "GSHMLEDPVDAFQ", "MRTAYIAKQRQISFVK", "ACDEFGHIKL", "MKVLAAGIVG",
            "WYWYWYRRK", "PPGPPGPPGE", "MSTNPKPQRKTKRNTNRR", "GAGAGAGA"]


def small_model(**kw):
    args = dict(n_tasks=1, mode="regression", featurizer=ProteinTokenizer(max_length=24), width=32, depth=2,
                kernel_size=3, seed=0, learning_rate=3e-3, batch_size=16)
    args.update(kw)
    return SeqCNNModel(**args)


def dataset(model, y=None):
    if y is None:
        y = np.linspace(-1, 1, len(PROTEINS)).reshape(-1, 1)
    return dc.data.NumpyDataset(model.get_featurizer().featurize(PROTEINS), y, ids=np.array(PROTEINS))


def snapshot(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


# -------------------------------------------------------------------------------------- backbone
@pytest.mark.parametrize("width, depth, kernel_size, dilations, pooling, inner", [
    (w, d, k, dil, p, inner) for (w, d, k, dil, inner), p in itertools.product(
        [(8, 1, 1, (1,), None), (12, 3, 3, (1, 2), 4), (16, 2, 5, (1, 2, 4, 8), 16)], ["mean", "max", "attention"])])
def test_shapes_over_configs(width, depth, kernel_size, dilations, pooling, inner):
    cnn = SeqCNN(30, width=width, depth=depth, kernel_size=kernel_size, dilations=dilations, inner_width=inner,
                 pooling=pooling)
    tokens = torch.randint(3, 30, (4, 11))
    tokens[1, 6:] = 0
    h, mask = cnn.encode_tokens(tokens)
    assert h.shape == (4, 11, width) and mask.shape == (4, 11) and mask.sum() == 4 * 11 - 5
    assert (h[1, 6:] == 0).all()
    out = cnn(tokens)
    assert out.shape == (4, cnn.output_dim) and cnn.output_dim == width and torch.isfinite(out).all()
    out.sum().backward()
    assert cnn.embedding.weight.grad[0].abs().sum() == 0  # the pad embedding never learns


@pytest.mark.parametrize("pooling", ["mean", "max", "attention"])
def test_padding_does_not_change_outputs(pooling):
    torch.manual_seed(0)
    cnn = SeqCNN(28, width=16, depth=4, kernel_size=5, dilations=(1, 2, 4, 8), dropout=0.3, pooling=pooling).eval()
    seq = torch.randint(3, 28, (1, 9))
    padded = torch.cat([seq, torch.zeros(1, 23, dtype=torch.long)], dim=1)
    longer = torch.randint(3, 28, (1, 32))
    batch = torch.cat([padded, longer])  # next to a longer sequence, as in a real batch
    # float32 convolutions of different lengths take different kernel paths (they differ by ~1e-6 on some CPUs);
    # a pad position leaking into the real ones changes them by orders of magnitude more
    tol = dict(rtol=1e-5, atol=1e-5)
    with torch.no_grad():
        alone = cnn(seq)
        torch.testing.assert_close(cnn(padded), alone, **tol)
        torch.testing.assert_close(cnn(batch)[:1], alone, **tol)
        torch.testing.assert_close(cnn.encode_tokens(padded)[0][:, :9], cnn.encode_tokens(seq)[0], **tol)


def test_config_rebuilds_and_repr():
    cnn = SeqCNN(30, width=12, depth=3, kernel_size=3, dilations=(1, 3), inner_width=5, pooling="attention")
    config = json.loads(json.dumps(cnn.config))
    again = BACKBONES["SeqCNN"](**config)
    assert again.config == cnn.config
    again.load_state_dict(cnn.state_dict())  # strict: same names and shapes
    tokens = torch.randint(1, 30, (2, 7))
    torch.testing.assert_close(again(tokens), cnn(tokens))
    assert repr(cnn) == ("SeqCNN(vocab=30, width=12, depth=3, kernel=3, dilations=[1, 3], inner=5, "
                         "pooling=attention)")
    assert [b.conv.dilation[0] for b in cnn.blocks] == [1, 3, 1]


@pytest.mark.parametrize("pooling", ["mean", "attention"])
def test_layer_groups_cover_all_parameters(pooling):
    cnn = SeqCNN(30, width=8, depth=3, pooling=pooling)
    groups = cnn.layer_groups()
    assert len(groups) == 4 and groups[0] == [cnn.embedding]
    ids = [id(p) for g in groups for m in g for p in m.parameters()]
    assert len(ids) == len(set(ids)) and set(ids) == {id(p) for p in cnn.parameters()}


def test_bad_backbone_arguments():
    with pytest.raises(ValueError, match="kernel_size must be odd"):
        SeqCNN(30, kernel_size=4)
    with pytest.raises(ValueError, match="pooling"):
        SeqCNN(30, pooling="sum")
    with pytest.raises(ValueError, match="dilations"):
        SeqCNN(30, dilations=())


# ----------------------------------------------------------------------------------------- model
def test_overfit_tiny_regression():
    model = small_model()
    ds = dataset(model)
    model.fit(ds, nb_epoch=60, checkpoint_interval=0)
    pred = model.predict(ds)
    assert pred.shape == (10, 1)
    assert float(np.mean((pred - ds.y) ** 2)) < 1e-3


def test_smiles_classification_model():
    tok = SmilesTokenizer.build(SMALL_SMILES, max_length=20)
    model = small_model(featurizer=tok, mode="classification", n_tasks=2, pooling="max")
    y = np.array([[i % 2, (i // 2) % 2] for i in range(10)], dtype=float)
    ds = dc.data.NumpyDataset(tok.featurize(SMALL_SMILES), y)
    assert np.isfinite(model.fit(ds, nb_epoch=2, checkpoint_interval=0))
    assert model.predict(ds).shape == (10, 2, 2)


def test_save_pretrained_from_pretrained_identical_backbone(tmp_path):
    model = small_model(pooling="attention", dropout=0.1)
    ds = dataset(model)
    model.fit(ds, nb_epoch=2, checkpoint_interval=0)
    path = model.save_pretrained(tmp_path / "ckpt")
    loaded = SeqCNNModel.from_pretrained(path, n_tasks=3, mode="regression", seed=5)
    assert loaded.backbone.config == model.backbone.config
    assert loaded.get_featurizer().get_spec() == model.get_featurizer().get_spec()
    tokens = model.collate(ds.X)
    model.model.eval(), loaded.model.eval()
    with torch.no_grad():
        torch.testing.assert_close(loaded.backbone(tokens), model.backbone(tokens), rtol=0, atol=0)
    assert loaded.predict(ds).shape == (10, 3)
    with pytest.raises(ValueError, match="disagree"):
        SeqCNNModel.from_pretrained(path, n_tasks=1, depth=5)
    ok = SeqCNNModel.from_pretrained(path, n_tasks=1, dilations=[1, 2, 4, 8], dropout=0.0)  # same architecture
    assert ok.backbone.config["dropout"] == 0.0
    other = small_model(featurizer=ProteinTokenizer(max_length=30), pooling="attention")
    with pytest.raises(SpecMismatchError, match="featurizer"):
        other.load_pretrained(path)


def test_frozen_keeps_backbone_bit_identical(tmp_path):
    path = small_model().save_pretrained(tmp_path / "ckpt")
    m = SeqCNNModel.from_pretrained(path, n_tasks=1, mode="regression", strategy="frozen", seed=1,
                                    learning_rate=1e-2)
    before_b, before_h = snapshot(m.backbone), snapshot(m.head)
    m.fit(dataset(m), nb_epoch=2, checkpoint_interval=0)
    after_b, after_h = m.backbone.state_dict(), m.head.state_dict()
    assert all(torch.equal(before_b[k], after_b[k]) for k in before_b)
    assert any(not torch.equal(before_h[k], after_h[k]) for k in before_h)


def test_restore_gives_identical_predictions(tmp_path):
    model = small_model(model_dir=str(tmp_path / "m"))
    ds = dataset(model)
    model.fit(ds, nb_epoch=3)
    model.save_checkpoint()
    before = model.predict(ds)
    fresh = small_model(model_dir=str(tmp_path / "m"), seed=123)
    assert not np.allclose(fresh.predict(ds), before)
    fresh.restore()
    np.testing.assert_array_equal(fresh.predict(ds), before)


def test_collate_trims_padding_and_rejects_wrong_inputs():
    m = small_model()
    X = m.get_featurizer().featurize(["MKV", "MKVLA"])
    assert tuple(m.collate(X).shape) == (2, 5)
    with pytest.raises(ValueError, match="2-D integer token array.*model.get_featurizer"):
        m.collate(X.astype(np.float32))
    with pytest.raises(ValueError, match="outside \\[0, 28\\).*model.get_featurizer"):
        m.collate(X + 30)
    with pytest.raises(ValueError, match="batch row 1 holds only padding"):
        m.collate(np.array([[3, 4], [0, 0]]))
    from deepchem_finetune.featurizers import MolGraphFeaturizer
    graphs = dc.data.NumpyDataset(MolGraphFeaturizer().featurize(["CCO", "CC"]), np.zeros((2, 1)))
    with pytest.raises(ValueError, match="model.get_featurizer"):
        m.predict(graphs)
    with pytest.raises(TypeError, match="sequence tokenizer"):
        SeqCNNModel(1, featurizer=MolGraphFeaturizer())
    with pytest.raises(TypeError, match="unexpected keyword"):
        small_model(widht=3)


def test_predict_sequences_reports_invalid_rows_as_nan():
    m = small_model()
    out = m.predict_sequences(["MKV", "MKJ", "ACDE"], skip_invalid=True)
    assert out.shape == (3, 1) and np.isnan(out[1, 0]) and np.isfinite(out[[0, 2]]).all()
    with pytest.raises(FeaturizationError, match="index 1 has unknown token 'J' at position 2"):
        m.predict_sequences(["MKV", "MKJ"])
    fb = m.featurize(["MKV", ""], skip_invalid=True)
    assert fb.indices.tolist() == [0] and fb.errors[0][0] == 1


def test_seeded_runs_are_identical_and_seeds_differ():
    preds = []
    for seed in (7, 7, 8):
        m = small_model(seed=seed, dropout=0.3)
        m.fit(dataset(m), nb_epoch=2, checkpoint_interval=0)
        preds.append(m.predict(dataset(m)))
    np.testing.assert_array_equal(preds[0], preds[1])
    assert not np.allclose(preds[0], preds[2])
