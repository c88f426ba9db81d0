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
