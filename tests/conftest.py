"""Shared fixtures. Real data is read from ../shared/data (or $DEEPCHEM_DATA_DIR); it is never copied here."""
import os
from pathlib import Path

import numpy as np
import pytest
import torch

import deepchem_finetune  # noqa: F401  (silences DeepChem's import chatter before deepchem is imported)
import deepchem as dc

torch.set_num_threads(2)

# a torchrun script, not a test module: never import it during collection (--doctest-modules would)
collect_ignore = ["ddp_worker.py"]

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("DEEPCHEM_FINETUNE_SHARED", REPO.parent / "shared" / "data"))
MOLECULENET_DIR = Path(os.environ.get("DEEPCHEM_DATA_DIR", SHARED_DATA / "moleculenet"))

SMALL_SMILES = ["CCO", "c1ccccc1", "CC(=O)O", "CCN", "C[C@H](N)C(=O)O", "C/C=C/C", "O=C=O", "CC(C)Cl",
                "c1ccncc1", "CCCCCC"]


def require_shared(path: Path) -> Path:
    """Fail loudly (not skip) when the team's shared data is missing: these tests are part of the suite."""
    if not path.exists():
        pytest.fail(f"shared data file {path} is missing; set DEEPCHEM_DATA_DIR / DEEPCHEM_FINETUNE_SHARED")
    return path


@pytest.fixture
def one_thread():
    """One intra-op torch thread for the test (restored after it): for tiny models it is as fast, and on a busy 2-core
    machine two threads spinning against each other made such tests 30x slower (0.5 s -> 17-34 s a test)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    d = tmp_path / "cache"
    monkeypatch.setenv("DEEPCHEM_FINETUNE_CACHE", str(d))
    return d


def make_dataset(featurizer, smiles=SMALL_SMILES, y=None, n_tasks=1, seed=0):
    feats = featurizer.featurize(smiles)
    rng = np.random.default_rng(seed)
    if y is None:
        y = rng.integers(0, 2, size=(len(smiles), n_tasks)).astype(float)
    return dc.data.NumpyDataset(feats, y, ids=np.array(smiles))
