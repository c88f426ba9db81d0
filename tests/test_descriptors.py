"""Descriptor targets, robust scaling and the descriptor-prediction objective."""
import numpy as np
import pytest
import torch
from rdkit import Chem
from rdkit.Chem import Crippen, Descriptors
from rdkit.Chem.EState import EState

import deepchem as dc
from deepchem_finetune import MolGNNModel, MolGraphFeaturizer
from deepchem_finetune.featurizers.descriptors import RobustScaler, compute_descriptors, descriptor_names
from deepchem_finetune.objectives import DescriptorPrediction


def test_values_equal_rdkit_for_known_molecules():
    names = descriptor_names()
    for smi in ["CCO", "c1ccccc1O", "CC(=O)Oc1ccccc1C(=O)O"]:
        mol = Chem.MolFromSmiles(smi)
        v = dict(zip(names, compute_descriptors(mol)))
        assert v["MolWt"] == pytest.approx(Descriptors.MolWt(mol))
        assert v["MolLogP"] == pytest.approx(Crippen.MolLogP(mol))
        assert v["TPSA"] == pytest.approx(Descriptors.TPSA(mol))
        assert v["NumHDonors"] == Descriptors.NumHDonors(mol)


def test_whole_vector_equals_rdkit_calc_mol_descriptors():
    names = descriptor_names()
    for smi in ["CC(=O)Oc1ccccc1C(=O)O", "C[C@H](N)C(=O)O", "[Na+].[Cl-]", "C"]:
        mol = Chem.MolFromSmiles(smi)
        ref = Descriptors.CalcMolDescriptors(Chem.MolFromSmiles(smi))
        ours = compute_descriptors(mol)
        for name, value in zip(names, ours):
            expected = float("nan") if ref[name] is None else float(ref[name])
            if np.isfinite(expected) and abs(expected) <= 1e10:
                assert value == expected, (smi, name)  # bit-identical, the shared EState indices included
            else:
                assert np.isnan(value), (smi, name)


def test_estate_descriptors_are_fresh_for_each_molecule():
    names = ["MaxEStateIndex", "MinEStateIndex", "MaxAbsEStateIndex", "MinAbsEStateIndex"]
    for smi in ["CCO", "c1ccccc1O", "OC(=O)CCl"]:
        mol = Chem.MolFromSmiles(smi)
        mol._eStateIndices = np.array([99.0])  # a stale cache on the molecule must not be read
        got = compute_descriptors(mol, names)
        fresh = Chem.MolFromSmiles(smi)
        assert got.tolist() == [EState.MaxEStateIndex(fresh), EState.MinEStateIndex(fresh),
                                EState.MaxAbsEStateIndex(fresh), EState.MinAbsEStateIndex(fresh)]


def test_non_finite_values_are_masked_and_counted(monkeypatch):
    import deepchem_finetune.featurizers.descriptors as d
    monkeypatch.setitem(d._FUNCTIONS, "MolWt", lambda m: float("inf"))
    monkeypatch.setitem(d._FUNCTIONS, "TPSA", lambda m: 1e300)
    monkeypatch.setitem(d._FUNCTIONS, "MolLogP", lambda m: 1 / 0)
    v = compute_descriptors(Chem.MolFromSmiles("CCO"), ["MolWt", "TPSA", "MolLogP", "NumHDonors"])
    assert np.isnan(v[:3]).all() and v[3] == 1.0
    y = np.array([v, v, v])
    s = RobustScaler(["MolWt", "TPSA", "MolLogP", "NumHDonors"]).fit(y)
    assert s.invalid_counts == {"MolWt": 3, "TPSA": 3, "MolLogP": 3, "NumHDonors": 0}
    assert set(s.dropped) == {"MolWt", "TPSA", "MolLogP", "NumHDonors"}  # 3 failing + 1 constant


def test_scaler_round_trip_and_clipping():
    rng = np.random.default_rng(0)
    y = np.column_stack([rng.normal(5, 2, 500), rng.lognormal(0, 2, 500)])
    y[::7, 1] = np.nan
    s = RobustScaler(["a", "b"], clip=3.0).fit(y)
    again = RobustScaler.from_dict(s.to_dict())
    np.testing.assert_array_equal(np.nan_to_num(s.transform(y)), np.nan_to_num(again.transform(y)))
    z = s.transform(y)
    assert np.nanmax(np.abs(z)) <= 3.0 and abs(np.nanmedian(z[:, 0])) < 1e-9


def test_descriptor_objective_loss_decreases_and_masks(tmp_path):
    smiles = ["CCO", "c1ccccc1O", "CC(=O)O", "CCN", "CCCCCC", "c1ccncc1", "OCCO", "CC(C)Cl"] * 6
    y = np.array([compute_descriptors(Chem.MolFromSmiles(s)) for s in smiles])
    w = np.isfinite(y).astype(float)
    w[:, :3] = 0  # pretend the first three descriptors failed everywhere: never in the loss
    f = MolGraphFeaturizer("rich")
    ds = dc.data.NumpyDataset(f.featurize(smiles), np.nan_to_num(y), w)
    scaler = RobustScaler(descriptor_names()).fit(np.nan_to_num(y), w).to_dict()
    model = MolGNNModel(featurizer=f, objective="descriptors", objective_options={"scaler": scaler},
                        num_layers=2, hidden_dim=32, seed=0, learning_rate=3e-3, batch_size=16)
    first = model.fit(ds, nb_epoch=1, checkpoint_interval=0)
    model.fit(ds, nb_epoch=40, checkpoint_interval=0)
    last = model.fit(ds, nb_epoch=1, checkpoint_interval=0)
    assert last < 0.5 * first
    obj = model.model.objective
    assert not set(descriptor_names()[:3]) & set(obj.scaler.kept)  # dropped: no valid value
    _, labels, weights = obj.transform(None, torch.Generator().manual_seed(0), y=np.nan_to_num(y[:4]), w=w[:4])
    assert labels[0].shape == weights[0].shape == (4, obj.n_targets)
    dropped = DescriptorPrediction({}, scaler, target_dropout=0.5)
    _, _, wd = dropped.transform(None, torch.Generator().manual_seed(0), y=np.nan_to_num(y), w=w)
    assert 0.35 < float(wd[0].mean()) / float(torch.as_tensor(w[:, obj.scaler.columns()]).mean()) < 0.65


def test_descriptor_objective_needs_descriptor_labels():
    scaler = RobustScaler(["MolWt"]).fit(np.array([[1.0], [2.0], [4.0]])).to_dict()
    obj = DescriptorPrediction({}, scaler)
    with pytest.raises(ValueError, match="targets='descriptors'"):
        obj.transform(None, torch.Generator(), y=np.zeros((2, 0)), w=np.zeros((2, 0)))
