"""Molecule-level features beside the graph embedding (#28): featurizer option, train-only scaler, checkpoints,
mismatches, NaN descriptors, the features-only MLP."""
import numpy as np
import pytest
import torch

import deepchem_finetune as dft
import deepchem as dc
from deepchem_finetune.exceptions import SpecMismatchError
from deepchem_finetune.featurizers import featurizer_from_spec
from deepchem_finetune.featurizers.molecule import feature_names
from deepchem_finetune.models import FeatureMLPModel

SMILES = ["CCO", "c1ccccc1", "CC(=O)O", "CCN", "CCCl", "OCCO", "c1ccncc1", "CC(C)O", "CCOC(=O)C", "NCCO"] * 3


def dataset(featurizer, smiles=SMILES, seed=0):
    y = np.random.default_rng(seed).normal(size=(len(smiles), 1))
    return dc.data.NumpyDataset(featurizer.featurize(smiles), y, ids=np.array(smiles))


def small(featurizer, **kw):
    return dft.MolGNNModel(1, mode="regression", featurizer=featurizer, num_layers=2, hidden_dim=16, seed=0, **kw)


def test_featurizer_spec_and_vectors():
    f = dft.MolGraphFeaturizer("rich", extra_features=["ecfp4", "rdkit2d"])
    g = f.featurize(["CCO"])[0]
    assert g.molecule_features.shape == (f.extra_dim,) == (len(feature_names(["ecfp4", "rdkit2d"])),)
    assert featurizer_from_spec(f.get_spec()).extra_features == ("ecfp4", "rdkit2d")
    assert "extra_features" not in dft.MolGraphFeaturizer("rich").get_spec()["config"]  # old specs unchanged
    with pytest.raises(ValueError, match="unknown molecule feature kind 'maccs'"):
        dft.MolGraphFeaturizer(extra_features=["maccs"])


def test_scaler_is_fitted_on_the_training_data_only_and_restored_exactly(tmp_path):
    f = dft.MolGraphFeaturizer("rich", extra_features=["rdkit2d"])
    train, other = dataset(f, SMILES[:20]), dataset(f, SMILES[20:] + ["CCCCCCCCCCCCCCCC"] * 5)
    model = small(f, model_dir=str(tmp_path / "m"))
    model.fit(train, nb_epoch=1)
    expected = torch.as_tensor(np.nanmedian(np.stack([g.molecule_features for g in train.X]).astype(np.float64), 0),
                               dtype=torch.float32)
    torch.testing.assert_close(model.head.scaler.center, expected)
    center = model.head.scaler.center.clone()
    model.fit(other, nb_epoch=1)  # later datasets never refit it
    torch.testing.assert_close(model.head.scaler.center, center)
    model.save_checkpoint(max_checkpoints_to_keep=1)
    restored = small(f, model_dir=str(tmp_path / "m"))
    restored.restore()
    assert bool(restored.head.scaler.fitted)
    for name in ("center", "scale", "nonfinite"):
        torch.testing.assert_close(getattr(restored.head.scaler, name), getattr(model.head.scaler, name))
    np.testing.assert_array_equal(restored.predict(other), model.predict(other))
    with pytest.raises(RuntimeError, match="scaler is not fitted"):
        small(f).predict(other)


def test_pretrained_backbone_with_features_predicts_identically_and_mismatch_is_named(tmp_path):
    f = dft.MolGraphFeaturizer("rich", extra_features=["ecfp4"])
    ds = dataset(f)
    model = small(f, model_dir=str(tmp_path / "m"))
    model.fit(ds, nb_epoch=2)
    path = model.save_pretrained(str(tmp_path / "pre"))
    tuned = dft.MolGNNModel.from_pretrained(path, n_tasks=1, mode="regression", seed=0)
    assert tuned.get_featurizer().extra_features == ("ecfp4",)  # the feature spec travels with the artifact
    tuned.load_from_pretrained(model, include_top=True)  # backbone and head (with its fitted scaler)
    np.testing.assert_allclose(tuned.predict(ds), model.predict(ds), rtol=1e-6)
    # a zoo backbone pretrained without features takes them at fine-tuning time
    zoo = dft.MolGNNModel.from_pretrained("gin_zinc60k_desc30", n_tasks=1, extra_features=["rdkit2d"], seed=0)
    assert zoo.extra_dim == len(feature_names(["rdkit2d"]))
    # a training checkpoint made with other features is refused, naming them
    model.save_checkpoint(max_checkpoints_to_keep=1)
    other = small(dft.MolGraphFeaturizer("rich", extra_features=["rdkit2d"]), model_dir=str(tmp_path / "m"))
    with pytest.raises(SpecMismatchError, match=r"extra_features=\['rdkit2d'\]"):
        other.restore()
    with pytest.raises(SpecMismatchError, match="molecule-level features"):
        other.predict(ds)  # inputs made with ecfp4 features, model built for rdkit2d
    with pytest.raises(ValueError, match="carry none"):
        small(f).predict(dataset(dft.MolGraphFeaturizer("rich")))


def test_nan_descriptors_are_masked_counted_and_never_reach_the_head():
    f = dft.MolGraphFeaturizer("rich", extra_features=["rdkit2d"])
    ds = dataset(f)
    X = np.stack([g.molecule_features for g in ds.X])
    col = feature_names(["rdkit2d"]).index("MolLogP")
    for i in range(0, len(ds), 3):  # pretend RDKit failed on a third of the molecules
        ds.X[i].molecule_features[col] = np.nan
    model = small(f)
    model.fit(ds, nb_epoch=2)
    assert int(model.head.scaler.nonfinite[col]) == 10 and int(model.head.scaler.nonfinite.sum()) >= 10
    z = model.head.scaler(torch.as_tensor(np.stack([g.molecule_features for g in ds.X])))
    assert torch.isfinite(z).all() and (z[::3, col] == 0).all()
    assert np.isfinite(model.predict(ds)).all() and X.shape[1] == f.extra_dim


def test_features_only_mlp_reads_no_graph():
    f = dft.MolGraphFeaturizer("hu2020", extra_features=["ecfp4"])
    y = np.array([[len(s)] for s in SMILES], dtype=float)
    ds = dc.data.NumpyDataset(f.featurize(SMILES), (y - y.mean()) / y.std())  # a function of the molecule
    model = FeatureMLPModel(1, featurizer=f, mode="regression", seed=0)
    assert model.backbone.output_dim == 0 and not list(model.backbone.parameters())
    losses = [model.fit(ds, nb_epoch=1) for _ in range(30)]
    assert losses[-1] < 0.2 * losses[0]
    with pytest.raises(ValueError, match="needs a featurizer with extra_features"):
        FeatureMLPModel(1, featurizer=dft.MolGraphFeaturizer())


# ------------------------------------------------------------------------- the SMILES SeqCNN takes them too
def smiles_tokenizer(**kw):
    return dft.SmilesTokenizer.build(SMILES, max_length=24, **kw)


def small_seq(tokenizer, **kw):
    return dft.SeqCNNModel(1, mode="regression", featurizer=tokenizer, width=16, depth=2, seed=0, **kw)


def test_smiles_tokenizer_rows_carry_molecule_features():
    tok = smiles_tokenizer(extra_features=["ecfp4", "rdkit2d"])
    X = tok.featurize(SMILES[:3])
    assert X.dtype == object and X.shape == (3,)
    np.testing.assert_array_equal(X[0].tokens, smiles_tokenizer().featurize(SMILES[:1])[0])  # same tokens as without
    np.testing.assert_array_equal(X[1].molecule_features,
                                  dft.MolGraphFeaturizer(extra_features=["ecfp4", "rdkit2d"]).featurize(
                                      [SMILES[1]])[0].molecule_features)  # same features as the graph featurizer's
    assert featurizer_from_spec(tok.get_spec()).extra_features == ("ecfp4", "rdkit2d")
    assert "extra_features" not in smiles_tokenizer().get_spec()["config"]  # old specs unchanged
    assert str(tok) != str(smiles_tokenizer(extra_features=["ecfp4"])) != str(smiles_tokenizer())  # cache keys
    skip = smiles_tokenizer(extra_features=["ecfp4"], on_error="skip")
    out = skip.featurize(["CCO", "C1CC"])
    assert out[1].size == 0 and skip.skipped[0][0] == 1  # DeepChem's failure marker, recorded
    with pytest.raises(ValueError, match="needs|feed a task head"):
        small_seq(tok, objective="masked_tokens")


def test_seqcnn_with_features_scaler_checkpoint_and_mismatches(tmp_path):
    tok = smiles_tokenizer(extra_features=["rdkit2d"])
    train, other = dataset(tok, SMILES[:20]), dataset(tok, SMILES[20:])
    model = small_seq(tok, model_dir=str(tmp_path / "m"))
    model.fit(train, nb_epoch=2)
    expected = np.nanmedian(np.stack([r.molecule_features for r in train.X]).astype(np.float64), 0)
    torch.testing.assert_close(model.head.scaler.center, torch.as_tensor(expected, dtype=torch.float32))
    model.save_checkpoint(max_checkpoints_to_keep=1)
    restored = small_seq(tok, model_dir=str(tmp_path / "m"))
    restored.restore()
    np.testing.assert_array_equal(restored.predict(other), model.predict(other))
    # the head sees the features: changing them changes the prediction, the tokens kept
    shifted = dataset(tok, SMILES[20:])
    for r in shifted.X:
        r.molecule_features = r.molecule_features + 5.0
    assert not np.allclose(model.predict(shifted), model.predict(other))
    # a pretrained SMILES backbone takes features at fine-tuning time; wrong inputs are named
    zoo = dft.SeqCNNModel.from_pretrained("seqcnn_zinc250k_smiles_mt", n_tasks=1, mode="regression",
                                          extra_features=["ecfp4"], seed=0)
    assert zoo.extra_dim == len(feature_names(["ecfp4"])) and zoo.get_featurizer().extra_features == ("ecfp4",)
    zoo_data = dataset(zoo.get_featurizer(), SMILES[:10])
    zoo.fit(zoo_data, nb_epoch=1)
    with pytest.raises(SpecMismatchError, match="molecule-level features"):
        zoo.predict(dataset(featurizer_from_spec({**zoo.featurizer_spec, "config": {
            **zoo.featurizer_spec["config"], "extra_features": ["rdkit2d"]}}), SMILES[:10]))
    plain = dft.SeqCNNModel.from_pretrained("seqcnn_zinc250k_smiles_mt", n_tasks=1, mode="regression", seed=0)
    with pytest.raises(SpecMismatchError, match="built without them"):
        plain.predict(zoo_data)
    with pytest.raises(ValueError, match="carry none"):
        zoo.predict(dataset(plain.get_featurizer(), SMILES[:10]))
    # predict_sequences featurizes with the features and keeps invalid rows as NaN
    pred = model.predict_sequences(["CCO", "C1CC"], skip_invalid=True)
    assert np.isfinite(pred[0]).all() and np.isnan(pred[1]).all()


def test_fingerprint_bits_pass_unscaled_and_features_get_a_hidden_head_by_default(tmp_path):
    """Bits stay 0/1 (a rare bit divided by its small std would reach the clip); with molecule features the default
    head has one hidden layer (FEATURES_HEAD_HIDDEN), without them it stays linear; both survive save -> load."""
    from deepchem_finetune.heads import FEATURES_HEAD_HIDDEN
    f = dft.MolGraphFeaturizer("rich", extra_features=["ecfp4", "rdkit2d"])
    train = dataset(f)
    model = small(f, model_dir=str(tmp_path / "m"))
    model.fit(train, nb_epoch=1)
    bits = slice(0, 2048)
    assert torch.all(model.head.scaler.center[bits] == 0) and torch.all(model.head.scaler.scale[bits] == 1)
    x = torch.as_tensor(np.stack([g.molecule_features for g in train.X]), dtype=torch.float32)
    torch.testing.assert_close(model.head.scaler(x)[:, bits], x[:, bits])
    assert model.head_config["hidden_dims"] == list(FEATURES_HEAD_HIDDEN)
    assert small(dft.MolGraphFeaturizer("rich")).head_config["hidden_dims"] == []
    assert small(f, head_hidden=()).head_config["hidden_dims"] == []
    model.save_checkpoint(max_checkpoints_to_keep=1)
    restored = small(f, model_dir=str(tmp_path / "m"))
    restored.restore()
    np.testing.assert_array_equal(restored.predict(train), model.predict(train))
    with pytest.raises(SpecMismatchError, match=r"other layers than this model's \(head_hidden=\[\]\)"):
        small(f, model_dir=str(tmp_path / "m"), head_hidden=()).restore()  # e.g. one saved before the default
