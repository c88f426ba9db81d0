"""The pretraining runner and CLI: checkpoints, resume, chained recipes."""
import json

import pytest

from deepchem_finetune import MolGNNModel
from deepchem_finetune.cli import main

from conftest import MOLECULENET_DIR, SMALL_SMILES, require_shared

CORPUS = SMALL_SMILES * 6 + ["CC(C)Cc1ccc(cc1)C(C)C(=O)O", "CN1CCCC1c2cccnc2", "not-a-smiles"]


@pytest.fixture
def corpus(tmp_path, cache_dir):
    path = tmp_path / "corpus.smi"
    path.write_text("\n".join(CORPUS) + "\n")
    return str(path)


def run(*args):
    assert main(["pretrain", "--no-progress", "--num-layers", "2", "--hidden-dim", "16", "--batch-size", "16",
                 "--workers", "1", *args]) == 0


def config(path):
    return json.load(open(f"{path}/config.json"))


def test_pretrain_writes_checkpoint_with_provenance_and_resumes(corpus, tmp_path):
    out = str(tmp_path / "am")
    run("--corpus", corpus, "--out", out, "--objective", "attr_masking", "--max-steps", "4",
        "--checkpoint-every", "2")
    cfg = config(out)
    prov = cfg["provenance"]
    assert cfg["objective"]["name"] == "attr_masking"
    assert prov["steps"] == 4 and prov["resumed_from_step"] == 0
    assert prov["data"]["size"] == len(CORPUS) - 1 and prov["data"]["invalid"] == 1
    assert len(prov["data"]["sha256"]) == 64 and prov["command"].startswith("deepchem-finetune pretrain ")
    run("--corpus", corpus, "--out", out, "--objective", "attr_masking", "--max-steps", "7",
        "--checkpoint-every", "2", "--resume")
    prov = config(out)["provenance"]
    assert prov["resumed_from_step"] == 4 and prov["steps"] == 7
    first = prov["previous_runs"]
    assert len(first) == 1 and first[0]["steps"] == 4 and "--resume" not in first[0]["command"]
    assert prov["molecules_seen_total"] == first[0]["molecules_seen"] + prov["molecules_seen"]
    model = MolGNNModel.from_pretrained(out, n_tasks=1, mode="regression")
    assert model.predict_smiles(["CCO"]).shape == (1, 1)


def test_a_run_killed_after_a_checkpoint_keeps_its_training_time_in_the_next_runs_budget(corpus, tmp_path):
    """The training clock travels in the checkpoints: the run resuming a killed one (steps in the weights, no
    provenance written) goes on from the killed run's clock, so the budget stays exact; without the clock those steps
    are untimed and the minutes a lower bound."""
    import shutil
    import torch
    from deepchem_finetune.hub.budget import pretraining_budget
    out = str(tmp_path / "am")
    args = ("--corpus", corpus, "--out", out, "--objective", "attr_masking", "--checkpoint-every", "2",
            "--epochs", "20")
    run(*args, "--max-steps", "4")
    shutil.copy(f"{out}/config.json", tmp_path / "first.json")
    run(*args, "--max-steps", "40", "--resume")  # this run is "killed": its provenance is put back to the first's
    killed = torch.load(f"{out}.work/checkpoint1.pt", weights_only=True)
    assert killed["global_step"] == 40 and killed["clock_from_step"] == 0
    shutil.copy(tmp_path / "first.json", f"{out}/config.json")
    run(*args, "--max-steps", "42", "--resume")
    prov = config(out)["provenance"]
    assert prov["resumed_from_step"] == 40 and prov["unrecorded_steps"] == 36 and prov["clock"]["from_step"] == 0
    assert prov["clock"]["seconds"] >= round(killed["clock_seconds"], 1)  # went on from the killed run's clock
    budget = pretraining_budget(prov)
    assert budget["minutes_exact"] and budget["untimed_steps"] == 0 and budget["inexact"] == []
    without = pretraining_budget({k: v for k, v in prov.items() if k != "clock"})
    assert not without["minutes_exact"] and without["untimed_steps"] == 36 and without["inexact"] == ["untimed"]


def test_budget_with_a_clock_counts_each_run_once():
    """The runs that started before the clock add their recorded time; those after are in the clock; a run that ran
    past the clock's first step, or a 0-step run at it, is neither lost nor counted twice silently."""
    from deepchem_finetune.hub.budget import pretraining_budget
    a = {"training_seconds": 60.0, "steps": 100, "resumed_from_step": 0}
    b = {"training_seconds": 120.0, "steps": 300, "resumed_from_step": 100}
    idle = {"training_seconds": 6.0, "steps": 300, "resumed_from_step": 300, "clock": {"from_step": 300,
                                                                                    "seconds": 6.0}}
    last = {"training_seconds": 60.0, "steps": 400, "resumed_from_step": 300, "previous_runs": [a, b, idle],
            "clock": {"from_step": 300, "seconds": 66.0}}
    budget = pretraining_budget(last)  # a + b before the clock (180 s), idle and last in it (66 s)
    assert budget["minutes"] == round(246 / 60, 1) and budget["minutes_exact"]
    rewound = {**last, "resumed_from_step": 250, "clock": {"from_step": 250, "seconds": 60.0}, "previous_runs": [a, b]}
    budget = pretraining_budget(rewound)  # b ran to 300, the clock restarted at 250: b's last 50 steps overcount
    assert budget["minutes"] == 4.0 and budget["inexact"] == ["rewound"] and budget["untimed_steps"] == 0
    assert pretraining_budget({"seconds": 90.0, "steps": 5})["inexact"] == ["featurization"]


def test_budget_counts_data_parallel_processes():
    """A run of 2 processes (torchrun) counts its training time twice, on top of a one-process parent; the zoo line
    says so, with the wall time beside."""
    from deepchem_finetune.cli import _budget_line
    from deepchem_finetune.hub.budget import pretraining_budget
    first = {"training_seconds": 600.0, "molecules_seen": 1280, "steps": 10, "resumed_from_step": 0}
    killed = {"training_seconds": 60.0, "steps": 4, "resumed_from_step": 0, "processes": 2}
    ddp = {"training_seconds": 240.0, "processes": 2, "molecules_seen": 1024, "steps": 8, "resumed_from_step": 4,
           "previous_runs": [killed], "clock": {"from_step": 0, "seconds": 300.0}, "parent": first}
    budget = pretraining_budget(ddp)  # 10 min + 2 x 5 min of clock (the killed run's minute included)
    assert (budget["minutes"], budget["wall_minutes"], budget["molecules_seen"]) == (20.0, 15.0, 2304)
    line = _budget_line(budget, "MolGNN gin 5x300")
    assert "20.0 training min summed over data-parallel processes (15.0 min of wall time)" in line
    assert "wall" not in _budget_line(pretraining_budget(first), "MolGNN gin 5x300")
    # one process, then two on the same checkpoints: the clock's seconds count each run with its own processes
    one = {"training_seconds": 120.0, "steps": 10, "resumed_from_step": 0, "processes": 1}
    two = {"training_seconds": 60.0, "steps": 20, "resumed_from_step": 10, "processes": 2, "previous_runs": [one],
           "clock": {"from_step": 0, "seconds": 180.0}}
    assert (pretraining_budget(two)["minutes"], pretraining_budget(two)["wall_minutes"]) == (4.0, 3.0)
    # an earlier run's entry without its processes (written before previous_runs kept them) is taken as the last's
    unknown = {**two, "previous_runs": [{k: v for k, v in one.items() if k != "processes"}]}
    assert pretraining_budget(unknown)["minutes"] == 6.0


def test_previous_runs_keep_their_processes(tmp_path):
    from deepchem_finetune.pretraining import _previous_runs
    prov = {"steps": 8, "resumed_from_step": 0, "training_seconds": 60.0, "processes": 2, "threads_per_process": 1}
    (tmp_path / "config.json").write_text(json.dumps({"provenance": prov}))
    (run,) = _previous_runs(str(tmp_path))
    assert run["processes"] == 2 and run["threads_per_process"] == 1 and run["training_seconds"] == 60.0


def test_chained_recipe_context_then_masking(corpus, tmp_path):
    first = str(tmp_path / "ctx")
    run("--corpus", corpus, "--out", first, "--objective", "context_pred", "--max-steps", "3")
    second = str(tmp_path / "ctx_am")
    run("--corpus", corpus, "--out", second, "--objective", "attr_masking", "--init", first, "--max-steps", "3")
    prov = config(second)["provenance"]
    assert config(first)["objective"]["name"] == "context_pred"
    assert prov["parent"]["data"]["name"] == "corpus.smi" and prov["steps"] == 3


@pytest.mark.slow
def test_supervised_stage_from_moleculenet(corpus, tmp_path):
    require_shared(MOLECULENET_DIR / "tox21.csv.gz")
    first = str(tmp_path / "am")
    run("--corpus", corpus, "--out", first, "--objective", "attr_masking", "--max-steps", "2")
    sup = str(tmp_path / "sup")
    run("--corpus", "tox21", "--data-dir", str(MOLECULENET_DIR), "--objective", "supervised", "--init", first,
        "--out", sup, "--max-steps", "3")
    cfg = config(sup)
    assert cfg["objective"] == {"name": "supervised", "config": {"mode": "classification", "n_tasks": 12,
                                                                "n_classes": 2}}
    assert cfg["provenance"]["datasets"] == ["tox21"]


def test_descriptor_and_combined_objectives_store_the_scaler(corpus, tmp_path):
    out = str(tmp_path / "desc")
    run("--corpus", corpus, "--out", out, "--objective", "attr_masking+descriptors", "--max-steps", "3",
        "--target-dropout", "0.2")
    cfg = config(out)
    assert cfg["objective"]["name"] == "attr_masking+descriptors"
    desc = [p for p in cfg["objective"]["config"]["parts"] if p["name"] == "descriptors"][0]
    scaler = desc["config"]["scaler"]
    assert len(scaler["kept"]) > 100 and len(scaler["center"]) == len(scaler["kept"])
    assert desc["config"]["target_dropout"] == 0.2
    assert cfg["provenance"]["steps"] == 3
    model = MolGNNModel.from_pretrained(out, n_tasks=1)
    assert model.predict_smiles(["CCO"]).shape == (1, 1, 2)


def test_time_budget_counts_training_only(corpus, tmp_path, monkeypatch):
    """A budget shorter than featurization still trains: the clock starts when training does."""
    import time
    from deepchem_finetune import pretraining
    real = pretraining._load_data

    def slow_load(*a, **k):
        time.sleep(1.5)  # featurization longer than the whole budget below
        return real(*a, **k)
    monkeypatch.setattr(pretraining, "_load_data", slow_load)
    res = pretraining.pretrain(corpus, str(tmp_path / "tb"), objective="attr_masking", epochs=1000,
                               time_budget_min=1.0 / 60, num_layers=1, hidden_dim=8, batch_size=8, workers=1,
                               progress=False)
    assert res["steps"] >= 1
    assert res["data_seconds"] >= 1.5 and res["training_seconds"] < res["seconds"]
