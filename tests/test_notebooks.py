"""The notebooks run end to end (quick parameters) in the test suite."""
import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from conftest import MOLECULENET_DIR, REPO, SHARED_DATA, require_shared

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("name", ["molecules.ipynb", "proteins.ipynb", "genes.ipynb"])
def test_notebook_executes(name, tmp_path, monkeypatch, cache_dir):
    require_shared(MOLECULENET_DIR / "BBBP.csv")
    monkeypatch.setenv("DCFT_QUICK", "1")
    monkeypatch.setenv("DEEPCHEM_DATA_DIR", str(MOLECULENET_DIR))
    monkeypatch.setenv("DCFT_CORPUS", str(SHARED_DATA / "corpora" / "zinc250k_rndm_zinc_drugs_clean.smi.gz"))
    monkeypatch.setenv("DCFT_PROTEIN_DIR", str(SHARED_DATA / "protein"))
    monkeypatch.setenv("DCFT_DNA_DIR", str(SHARED_DATA / "dna"))
    nb = nbformat.read(REPO / "notebooks" / name, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
