"""benchmarks/hu2020_finetune.py (the Hu et al. fine-tuning protocol, #5) on real BACE, 2 epochs (slow)."""
import os
import re
import subprocess
import sys

import pandas as pd
import pytest

from conftest import MOLECULENET_DIR, REPO, SHARED_DATA, require_shared

pytestmark = pytest.mark.slow


def _run(out, *extra):
    cmd = [sys.executable, str(REPO / "benchmarks" / "hu2020_finetune.py"), "--datasets", "bace", "--weights",
           "gcn_supervised_contextpred", "--seeds", "0", "--epochs", "2", "--threads", "1", "--data-dir",
           str(MOLECULENET_DIR), "--weights-dir", str(SHARED_DATA / "pretrain_gnns" / "chem_model_architecture"),
           "--out", str(out), *extra]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=dict(os.environ, OMP_NUM_THREADS="1"))
    assert run.returncode == 0, run.stderr[-3000:]
    return run.stdout


def test_hu2020_script_stopped_and_resumed_equals_straight(tmp_path, cache_dir):
    require_shared(MOLECULENET_DIR / "bace.csv")
    require_shared(SHARED_DATA / "pretrain_gnns" / "chem_model_architecture" / "gcn_supervised_contextpred.pth")
    _run(tmp_path / "straight")
    # stopped after epoch 1 (deterministic, unlike a time budget on machines of unknown speed); the rerun continues it
    assert re.search(r"--stop-after-epochs reached after epoch 1;",
                     _run(tmp_path / "cut", "--stop-after-epochs", "1"))
    assert not (tmp_path / "cut" / "results.csv").exists()
    _run(tmp_path / "cut")
    straight, cut = (pd.read_csv(tmp_path / d / "results.csv") for d in ("straight", "cut"))
    assert len(straight) == 1 and straight.loc[0, "epochs"] == 2
    cols = ["test_at_best_valid", "best_epoch", "valid_best", "test_last"]
    pd.testing.assert_frame_equal(straight[cols], cut[cols])
    curves = [pd.read_csv(tmp_path / d / "curves" / "bace_gcn_supervised_contextpred_s0.csv")
              for d in ("straight", "cut")]
    pd.testing.assert_frame_equal(curves[0][["epoch", "valid", "test"]], curves[1][["epoch", "valid", "test"]])
    assert 0.5 < straight.loc[0, "test_last"] <= 1.0  # a pretrained GCN after 2 epochs is above chance on BACE
    assert not (tmp_path / "cut" / "state" / "bace_gcn_supervised_contextpred_s0").exists()  # removed when done
    split = (tmp_path / "cut" / "splits" / "bace_hu2020_scaffold.json").read_text()
    assert '"train"' in split and '"test"' in split
