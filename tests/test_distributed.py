"""Data-parallel training with torchrun + DDP (2 CPU processes, gloo) inside DeepChem's fit."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def test_ddp_two_gloo_processes(tmp_path):
    worker = Path(__file__).with_name("ddp_worker.py")
    env = dict(os.environ, OMP_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_port=29517",
           str(worker), str(tmp_path)]
    run = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    r0, r1 = (json.load(open(tmp_path / f"rank{r}.json")) for r in (0, 1))
    assert r0["world"] == r1["world"] == 2
    assert r0["digest"] == r1["digest"]  # DDP kept the replicas identical
    assert r0["steps"] == r1["steps"] == 6 * 4  # 64 molecules, batch 8, half the batches per rank
    assert r0["losses"][-1] < r0["losses"][0]
    assert r0["any_rank"] == r1["any_rank"] == [True, False]  # a stop decision taken on one rank reaches all
    assert r0["after_deadline"] == r1["after_deadline"] == 0  # a deadline passed on one rank stops both
    checkpoints = sorted(os.listdir(tmp_path / "work"))
    assert checkpoints and all(c.startswith("checkpoint") for c in checkpoints)  # written by rank 0 only
