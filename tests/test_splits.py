import gzip
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import deepchem as dc
from deepchem_finetune.featurizers import MolGraphFeaturizer, featurize_smiles
from deepchem_finetune.splits import Hu2020ScaffoldSplitter, RandomScaffoldSplitter, save_split, scaffold_groups

from conftest import MOLECULENET_DIR, require_shared

# Enantiomeric ring scaffolds (chirality inside the ring system) plus achiral ones.
SMILES = (["C[C@H]1CC[C@@H](C)CC1c1ccccc1"] * 3 + ["C[C@@H]1CC[C@@H](C)CC1c1ccccc1"] * 2 +
          ["c1ccccc1CC"] * 4 + ["C1CCNCC1"] * 3 + ["CCO", "CCN", "CC(=O)O"] +
          ["O=C1CC[C@H]2CCCC[C@@H]2C1", "O=C1CC[C@@H]2CCCC[C@@H]2C1"])


def ds(smiles=SMILES):
    return dc.data.NumpyDataset(np.zeros((len(smiles), 1)), ids=np.array(smiles))


def test_chirality_creates_distinct_scaffolds():
    with_chir = scaffold_groups(SMILES, include_chirality=True)
    without = scaffold_groups(SMILES, include_chirality=False)
    assert len(with_chir) > len(without)


def test_hu_split_is_deterministic_and_ordered():
    s = Hu2020ScaffoldSplitter()
    a = s.split(ds(), 0.6, 0.2, 0.2, seed=0)
    b = s.split(ds(), 0.6, 0.2, 0.2, seed=123)  # the seed does not matter
    assert a == b
    train, valid, test = a
    assert sorted(train + valid + test) == list(range(len(SMILES)))
    # largest group (the 4 phenethyl-like 'c1ccccc1CC') goes to train first
    assert set(range(5, 9)) <= set(train)


def test_hu_split_differs_from_deepchem_where_chirality_matters():
    ours = Hu2020ScaffoldSplitter().split(ds(), 0.6, 0.2, 0.2)
    theirs = dc.splits.ScaffoldSplitter().split(ds(), 0.6, 0.2, 0.2)
    assert [sorted(x) for x in ours] != [sorted(x) for x in theirs]


def test_hu_splitter_is_deepchems_with_chiral_scaffolds():
    assert issubclass(Hu2020ScaffoldSplitter, dc.splits.ScaffoldSplitter)
    assert Hu2020ScaffoldSplitter.split is dc.splits.ScaffoldSplitter.split  # DeepChem's fill of train/valid/test
    # without chirality in the ring system DeepChem's scaffold sets are ours
    achiral = ["c1ccccc1CC", "C1CCNCC1", "c1ccccc1CO", "CCO", "CCN", "C1CCNCC1C", "c1ccncc1"]
    assert (Hu2020ScaffoldSplitter().generate_scaffolds(ds(achiral)) ==
            dc.splits.ScaffoldSplitter().generate_scaffolds(ds(achiral)))


def test_random_scaffold_split_seeded_and_keeps_groups_together(tmp_path):
    r = RandomScaffoldSplitter()
    assert r.split(ds(), 0.6, 0.2, 0.2, seed=1) == r.split(ds(), 0.6, 0.2, 0.2, seed=1)
    splits = {str(r.split(ds(), 0.6, 0.2, 0.2, seed=s)) for s in range(6)}
    assert len(splits) > 1
    groups = scaffold_groups(SMILES)
    train, valid, test = r.split(ds(), 0.6, 0.2, 0.2, seed=3)
    where = {i: k for k, part in enumerate((train, valid, test)) for i in part}
    for members in groups.values():
        assert len({where[i] for i in members}) == 1
    save_split(str(tmp_path / "split.json"), train, valid, test, ids=SMILES, meta={"seed": 3})
    saved = json.load(open(tmp_path / "split.json"))
    assert saved["train"] == list(train) and saved["ids"]["test"] == [SMILES[i] for i in test]


def test_bad_smiles_named():
    with pytest.raises(ValueError, match="index 1"):
        Hu2020ScaffoldSplitter().split(ds(["CCO", "C1CC", "CC"]), 0.8, 0.1, 0.1)


# Committed splits of the Hu et al. benchmark (benchmarks/hu2020_finetune.py wrote them through dc.molnet with
# MolGraphFeaturizer("hu2020"), which leaves out the molecules it cannot featurize): the splitter must keep
# reproducing them id for id, in order.
COMMITTED = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "hu2020_splits"


def _committed_split(name):
    path = COMMITTED / f"{name}_hu2020_scaffold.json"
    if path.exists():
        return json.loads(path.read_text())
    with gzip.open(f"{path}.gz", "rt") as fh:
        return json.load(fh)


@pytest.mark.parametrize("name, csv, column", [
    ("bbbp", "BBBP.csv", "smiles"),
    ("bace", "bace.csv", "mol"),
    ("clintox", "clintox.csv.gz", "smiles"),
    ("tox21", "tox21.csv.gz", "smiles"),
    pytest.param("hiv", "HIV.csv", "smiles", marks=pytest.mark.slow),  # 41k molecules, ~30 s
])
def test_hu_split_reproduces_the_committed_split(name, csv, column):
    smiles = pd.read_csv(require_shared(MOLECULENET_DIR / csv))[column].tolist()
    kept = featurize_smiles(smiles, MolGraphFeaturizer("hu2020"), skip_invalid=True, warn=False).indices
    ids = np.array([smiles[i] for i in kept])
    committed = _committed_split(name)
    assert committed["splitter"] == "Hu2020ScaffoldSplitter"
    parts = Hu2020ScaffoldSplitter().split(ds(ids), 0.8, 0.1, 0.1)
    for part, indices in zip(("train", "valid", "test"), parts):
        assert [str(s) for s in ids[indices]] == committed[part], f"{name} {part} differs from the committed split"
