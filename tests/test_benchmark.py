"""The benchmark command: quick run writes CSV / markdown / PNG, a rerun skips finished cells, leakage refused."""
import json

import pandas as pd
import pytest

from deepchem_finetune.benchmark import leaked, run_benchmark
from deepchem_finetune.cli import main

from conftest import MOLECULENET_DIR, require_shared

pytestmark = pytest.mark.slow


def test_quick_benchmark_outputs_and_resume(tmp_path, cache_dir, capsys):
    require_shared(MOLECULENET_DIR / "BBBP.csv")
    out = str(tmp_path / "bench")
    args = ["benchmark", "--datasets", "bbbp", "delaney", "--models", "gnn", "rf", "--seeds", "0", "--quick",
            "--out", out, "--data-dir", str(MOLECULENET_DIR), "--no-progress"]
    assert main(args) == 0
    df = pd.read_csv(f"{out}/results.csv")
    assert len(df) == 4 and set(df["metric"]) == {"roc_auc", "rmse"}
    assert df["test"].notna().all()
    summary = open(f"{out}/summary.md").read()
    assert "| bbbp | roc_auc | rf |" in summary and "gain vs scratch" in summary
    assert open(f"{out}/summary.png", "rb").read(8).startswith(b"\x89PNG")
    split = json.load(open(f"{out}/splits/bbbp_scaffold_seed0.json"))
    assert len(split["train"]) == 1631 and len(split["test"]) == 204
    capsys.readouterr()
    df2 = run_benchmark(["bbbp", "delaney"], ["gnn", "rf"], seeds=[0], quick=True, out_dir=out,
                        data_dir=str(MOLECULENET_DIR), progress=False)
    assert len(df2) == 4  # nothing re-run
    pd.testing.assert_frame_equal(df2, df)


def test_leaked_pretraining_data_is_refused(tmp_path, cache_dir):
    from deepchem_finetune import MolGNNModel, MolGraphFeaturizer
    m = MolGNNModel(12, featurizer=MolGraphFeaturizer(), num_layers=2, hidden_dim=8)
    ckpt = m.save_pretrained(str(tmp_path / "tox"), provenance={"datasets": ["toxcast"]})
    assert leaked({"datasets": ["toxcast"]}, "tox21") == ["toxcast"]
    with pytest.raises(ValueError, match="overlaps tox21"):
        run_benchmark(["tox21"], [f"gnn:{ckpt}"], seeds=[0], quick=True, out_dir=str(tmp_path / "b"),
                      data_dir=str(MOLECULENET_DIR), progress=False)
