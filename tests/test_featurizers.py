import numpy as np
import pytest
from rdkit import Chem

import deepchem as dc
from deepchem_finetune import FeaturizationError, MolGraphFeaturizer, featurize_smiles
from deepchem_finetune.featurizers import check_featurizer, featurizer_from_spec, featurizer_spec, input_encoding
from deepchem_finetune.exceptions import SpecMismatchError


def test_hu2020_indices_known_molecules():
    f = MolGraphFeaturizer("hu2020")
    # chiral centre: L-alanine; atomic number index = Z - 1
    g = f.featurize(["C[C@H](N)C(=O)O"])[0]
    mol = Chem.MolFromSmiles("C[C@H](N)C(=O)O")
    tags = [int(a.GetChiralTag()) for a in mol.GetAtoms()]
    assert g.node_features[:, 0].tolist() == [5, 5, 6, 5, 7, 7]
    assert g.node_features[1, 1] == tags[1] and g.node_features[1, 1] in (1, 2)
    assert g.node_features[[0, 2, 3, 4, 5], 1].tolist() == [0, 0, 0, 0, 0]
    # E double bond: directions on the single bonds, double bond type 1
    g = f.featurize(["C/C=C/C"])[0]
    types = g.edge_features[:, 0].tolist()
    dirs = g.edge_features[:, 1].tolist()
    assert sorted(set(types)) == [0, 1] and types.count(1) == 2
    assert set(dirs) <= {0, 1, 2} and any(d != 0 for d in dirs)
    # aromatic ring: 6 bonds -> 12 directed edges of type 3
    g = f.featurize(["c1ccccc1"])[0]
    assert g.edge_index.shape == (2, 12) and set(g.edge_features[:, 0].tolist()) == {3}
    # both directions present with identical features
    pairs = set(map(tuple, g.edge_index.T.tolist()))
    assert all((j, i) in pairs for i, j in pairs)


def test_single_atom_and_no_bond_molecules():
    f = MolGraphFeaturizer("rich")
    for smi in ["[Na+]", "C", "[Cl-]"]:
        g = f.featurize([smi])[0]
        assert g.node_features.shape == (1, 8)
        assert g.edge_index.shape == (2, 0) and g.edge_features.shape == (0, 5)


def test_invalid_smiles_raises_with_index_and_string():
    with pytest.raises(FeaturizationError, match=r"index 2 .*'C1CC'") as err:
        featurize_smiles(["CCO", "CC", "C1CC", "CCC"])
    assert err.value.index == 2 and err.value.value == "C1CC"


def test_skip_invalid_reports_count_and_indices(caplog):
    out = featurize_smiles(["CCO", "C1CC", "not a smiles", "c1ccccc1"], skip_invalid=True)
    assert out.indices.tolist() == [0, 3]
    assert [e[0] for e in out.errors] == [1, 2]
    assert len(out.features) == 2
    assert "skipped 2 of 4" in caplog.text


def test_empty_input_and_wrong_type():
    with pytest.raises(FeaturizationError, match="empty"):
        featurize_smiles([])
    with pytest.raises(FeaturizationError, match="index 1"):
        featurize_smiles(["CCO", 42])


def test_dummy_atom_is_a_clear_error():
    with pytest.raises(FeaturizationError, match="index 0.*atomic number 0"):
        featurize_smiles(["*CC"])


def test_deepchem_dense_featurizer_on_bondless_molecule_is_reported():
    # DeepChem 2.8's MolGraphConvFeaturizer(use_edges=True) fails on molecules without bonds; we name the row
    out = featurize_smiles(["CCO", "[Na+]"], dc.feat.MolGraphConvFeaturizer(use_edges=True), skip_invalid=True)
    assert out.indices.tolist() == [0] and out.errors[0][:2] == (1, "[Na+]")
    with pytest.raises(FeaturizationError, match=r"index 1 \('\[Na\+\]'\)"):
        featurize_smiles(["CCO", "[Na+]"], dc.feat.MolGraphConvFeaturizer(use_edges=True))


def test_deepchem_featurizer_failures_are_named():
    f = dc.feat.MolGraphConvFeaturizer(use_edges=True)
    out = featurize_smiles(["CCO", "C1CC", "CCN"], f, skip_invalid=True)
    assert out.indices.tolist() == [0, 2] and out.errors[0][0] == 1
    assert out.features[0].node_features.shape[1] == 30


def test_spec_round_trip_and_mismatch():
    for f in [MolGraphFeaturizer("hu2020"), MolGraphFeaturizer("rich"),
              dc.feat.MolGraphConvFeaturizer(use_edges=True)]:
        spec = featurizer_spec(f)
        again = featurizer_from_spec(spec)
        assert featurizer_spec(again) == spec
        check_featurizer(spec, again)
    with pytest.raises(SpecMismatchError, match="(?s)model expects.*you passed"):
        check_featurizer(featurizer_spec(MolGraphFeaturizer("hu2020")), MolGraphFeaturizer("rich"))


def test_deepchem_cache_key_reflects_configuration():
    # DeepChem's molnet cache folder is str(featurizer): it must differ between configurations
    assert str(MolGraphFeaturizer("hu2020")) != str(MolGraphFeaturizer("rich"))
    assert str(MolGraphFeaturizer("hu2020")) == str(MolGraphFeaturizer("hu2020"))


def test_input_encoding():
    enc = input_encoding(MolGraphFeaturizer("hu2020"))
    assert enc == {"kind": "categorical", "atom_cardinalities": [120, 3], "bond_cardinalities": [6, 3],
                   "bond_self_loop": [4, 0]}
    with pytest.raises(ValueError, match="use_edges=True"):
        input_encoding(dc.feat.MolGraphConvFeaturizer())


def test_featurizer_is_fast_relative_to_deepchem():
    # a loose, machine-independent check of the design goal (exact figures: benchmarks/throughput.py)
    import time
    smiles = ["CC(C)Cc1ccc(cc1)[C@@H](C)C(=O)O", "CN1CCC[C@H]1c2cccnc2", "c1ccc2c(c1)cccc2O"] * 40
    t = time.perf_counter()
    featurize_smiles(smiles, MolGraphFeaturizer("rich"))
    ours = time.perf_counter() - t
    t = time.perf_counter()
    dc.feat.MolGraphConvFeaturizer(use_edges=True).featurize(smiles)
    theirs = time.perf_counter() - t
    assert ours * 3 < theirs
