"""The benchmark command: quick run writes CSV / markdown / PNG, a rerun skips finished cells, leakage refused."""
import json
import os

import pandas as pd
import pytest

from deepchem_finetune.benchmark import leaked, run_benchmark
from deepchem_finetune.cli import main

from conftest import MOLECULENET_DIR, SHARED_DATA, require_shared

pytestmark = pytest.mark.slow

#: the protocol stamp the runner writes on every row (the report refuses rows without one)
STAMP = {"split_hash": "s", "max_epochs": 30, "patience": 5, "learning_rate": 0.001, "lr_schedule": "constant",
         "batch_size": 32, "selection": "best_valid"}


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
    assert "- bbbp (roc_auc): Hu2020 GIN no pretrain 0.658" in summary  # published anchors listed
    assert open(f"{out}/summary.png", "rb").read(8).startswith(b"\x89PNG")
    split = json.load(open(f"{out}/splits/bbbp_scaffold_seed0.json"))
    assert len(split["train"]) == 1631 and len(split["test"]) == 204
    assert os.listdir(f"{out}/state") == []  # per-epoch training state is removed once a cell's row is written
    capsys.readouterr()
    df2 = run_benchmark(["bbbp", "delaney"], ["gnn", "rf"], seeds=[0], quick=True, out_dir=out,
                        data_dir=str(MOLECULENET_DIR), progress=False)
    assert len(df2) == 4  # nothing re-run
    pd.testing.assert_frame_equal(df2, df)


def test_a_resumed_cell_counts_the_training_seconds_of_the_runs_before_it(tmp_path, cache_dir, monkeypatch):
    """A cell resumed from its per-epoch state (after a kill) stamps the seconds of every run that trained it."""
    require_shared(MOLECULENET_DIR / "BBBP.csv")
    from deepchem_finetune.benchmark import arms
    real = arms.fit_with_early_stopping

    def resumed(*args, **kwargs):  # as if earlier processes had trained this cell for 500 s before a kill
        out = real(*args, **kwargs)
        return {**out, "seconds": out["seconds"] + 500.0, "earlier_seconds": out["earlier_seconds"] + 500.0}
    monkeypatch.setattr(arms, "fit_with_early_stopping", resumed)
    df = run_benchmark(["bbbp"], ["gnn"], seeds=[0], quick=True, out_dir=str(tmp_path / "b"),
                       data_dir=str(MOLECULENET_DIR), progress=False)
    assert len(df) == 1 and 500 < df["seconds"].iloc[0] < 500 + 600
    assert "earlier_seconds" not in df.columns


def test_multitask_random_forest_cell(tmp_path):
    """ClinTox has two tasks: the rf baseline fits one forest per task and scores the mean ROC-AUC."""
    require_shared(MOLECULENET_DIR / "clintox.csv.gz")
    df = run_benchmark(["clintox"], ["rf"], seeds=[0], quick=True, out_dir=str(tmp_path / "b"),
                       data_dir=str(MOLECULENET_DIR), progress=False)
    assert len(df) == 1 and 0.5 < df["test"].iloc[0] <= 1.0


def test_processes_sharing_an_out_dir_keep_each_others_rows(tmp_path):
    from deepchem_finetune.benchmark.runner import _append_row, _read_rows
    csv = str(tmp_path / "results.csv")
    a = {"dataset": "bbbp", "model": "gnn", "strategy": "-", "split": "scaffold", "seed": 0, "test": 0.7}
    b = {**a, "dataset": "bace_classification", "test": 0.8}
    _append_row(csv, a)
    _append_row(csv, b)  # as a second process would, after the first wrote its row
    _append_row(csv, {**a, "test": 0.71})  # the same cell again replaces its row
    rows = _read_rows(csv)
    assert sorted((r["dataset"], r["test"]) for r in rows) == [("bace_classification", 0.8), ("bbbp", 0.71)]


APPENDER = """
import os, sys, time
from deepchem_finetune.benchmark.runner import _append_row
csv, name, go = sys.argv[1:4]
open(csv + "." + name + ".ready", "w").close()
while not os.path.exists(go):
    time.sleep(0.005)
for seed in range(15):
    _append_row(csv, {"dataset": name, "model": "gnn", "strategy": "-", "split": "scaffold", "seed": seed,
                      "test": seed / 100})
"""


def test_two_processes_appending_rows_at_once_keep_all_of_them(tmp_path):
    import subprocess
    import sys
    import time
    from conftest import REPO
    from deepchem_finetune.benchmark.runner import _read_rows
    csv, go = str(tmp_path / "results.csv"), tmp_path / "go"
    procs = [subprocess.Popen([sys.executable, "-c", APPENDER, csv, name, str(go)], cwd=REPO)
             for name in ("bbbp", "tox21")]
    deadline = time.time() + 300
    while not all(os.path.exists(f"{csv}.{name}.ready") for name in ("bbbp", "tox21")):
        assert time.time() < deadline and all(p.poll() is None for p in procs)
        time.sleep(0.02)
    go.touch()
    assert [p.wait(300) for p in procs] == [0, 0]
    rows = _read_rows(csv)
    assert sorted((r["dataset"], r["seed"]) for r in rows) == [(d, s) for d in ("bbbp", "tox21") for s in range(15)]
    assert not [n for n in os.listdir(tmp_path) if n.startswith(".")]  # no temporary file left


def test_a_cell_another_process_is_running_is_skipped(tmp_path, caplog):
    import logging
    import subprocess
    import sys
    import time
    from deepchem_finetune.benchmark.runner import _cell_folder
    out = tmp_path / "bench"
    cell = {"dataset": "bbbp", "model": "rf", "strategy": "-", "split": "scaffold", "seed": 0}
    lock_file = out / "state" / (_cell_folder(cell) + ".lock")
    lock_file.parent.mkdir(parents=True)
    ready = tmp_path / "ready"
    holder = subprocess.Popen([sys.executable, "-c", "import filelock, sys, time\n"
                               "with filelock.FileLock(sys.argv[1]):\n"
                               "    open(sys.argv[2], 'w').close(); time.sleep(float(sys.argv[3]))",
                               str(lock_file), str(ready), "30"])
    try:
        while not ready.exists():
            assert holder.poll() is None
            time.sleep(0.02)
        with caplog.at_level(logging.INFO, logger="deepchem_finetune.benchmark.runner"):
            df = run_benchmark(["bbbp"], ["rf"], seeds=[0], out_dir=str(out), progress=False)
        assert len(df) == 0 and "another process sharing" in caplog.text
    finally:
        holder.kill()
        holder.wait()


def test_leaked_pretraining_data_is_refused(tmp_path, cache_dir):
    from deepchem_finetune import MolGNNModel, MolGraphFeaturizer
    m = MolGNNModel(12, featurizer=MolGraphFeaturizer(), num_layers=2, hidden_dim=8)
    ckpt = m.save_pretrained(str(tmp_path / "tox"), provenance={"datasets": ["toxcast"]})
    assert leaked({"datasets": ["toxcast"]}, "tox21") == ["toxcast"]
    with pytest.raises(ValueError, match="overlaps tox21"):
        run_benchmark(["tox21"], [f"gnn:{ckpt}"], seeds=[0], quick=True, out_dir=str(tmp_path / "b"),
                      data_dir=str(MOLECULENET_DIR), progress=False)


def test_grid_skips_models_that_do_not_apply(caplog):
    from deepchem_finetune.benchmark.runner import _cells
    cells = {(c["dataset"], c["model"], c["seed"])
             for c in _cells(["flip_gb1:two_vs_rest", "delaney"], ["gnn", "seqcnn", "ridge", "rf"], ["full"],
                             ["scaffold"], [0, 1])}
    # gnn and rf need molecules, ridge needs sequences; ridge/rf on FLIP are deterministic (one seed)
    assert cells == {("flip_gb1:two_vs_rest", "seqcnn", 0), ("flip_gb1:two_vs_rest", "seqcnn", 1),
                     ("flip_gb1:two_vs_rest", "ridge", 0), ("delaney", "gnn", 0), ("delaney", "gnn", 1),
                     ("delaney", "seqcnn", 0), ("delaney", "seqcnn", 1), ("delaney", "rf", 0), ("delaney", "rf", 1)}
    assert "skipping model gnn on flip_gb1:two_vs_rest" in caplog.text
    with pytest.raises(ValueError, match="unknown model 'mlp'"):
        run_benchmark(["bbbp"], ["mlp"], seeds=[0], quick=True, progress=False)


def test_quick_benchmark_sequence_models_on_flip_and_smiles(tmp_path, cache_dir):
    protein_dir = SHARED_DATA / "protein"
    require_shared(protein_dir / "flip_gb1" / "two_vs_rest.csv.gz")
    out = str(tmp_path / "bench")
    df = run_benchmark(["flip_gb1:two_vs_rest", "delaney"], ["seqcnn", "ridge"], seeds=[0], quick=True,
                       out_dir=out, data_dir=str(MOLECULENET_DIR), protein_dir=str(protein_dir), progress=False)
    assert set(zip(df["dataset"], df["model"])) == {("flip_gb1:two_vs_rest", "seqcnn"),
                                                    ("flip_gb1:two_vs_rest", "ridge"), ("delaney", "seqcnn")}
    flip = df[df["dataset"] == "flip_gb1:two_vs_rest"]
    assert set(flip["metric"]) == {"spearman"} and flip["test"].between(-1, 1).all()
    assert flip.loc[flip["model"] == "ridge", "test"].iloc[0] > 0.3  # one-hot ridge ranks GB1 variants
    esol = df[df["dataset"] == "delaney"]
    assert esol["metric"].iloc[0] == "rmse" and 0 < esol["test"].iloc[0] < 10
    assert set(flip["split"]) == {"flip"} and set(esol["split"]) == {"scaffold"}  # FLIP rows name FLIP's own split
    split = json.load(open(f"{out}/splits/flip_gb1_two_vs_rest_flip_seed0.json"))
    assert (len(split["train"]), len(split["valid"]), len(split["test"])) == (381, 43, 8309)
    assert open(f"{out}/summary.png", "rb").read(8).startswith(b"\x89PNG")


def test_flip_cells_take_flips_own_split_whatever_the_splits_of_the_molecule_sets():
    from deepchem_finetune.benchmark.runner import _cells
    cells = list(_cells(["flip_gb1:two_vs_rest", "bbbp"], ["ridge", "rf"], ["full"], ["scaffold", "random_scaffold"],
                        [0, 1]))
    assert [(c["dataset"], c["model"], c["split"], c["seed"]) for c in cells] == [
        ("flip_gb1:two_vs_rest", "ridge", "flip", 0),
        ("bbbp", "rf", "scaffold", 0), ("bbbp", "rf", "scaffold", 1),
        ("bbbp", "rf", "random_scaffold", 0), ("bbbp", "rf", "random_scaffold", 1)]


def test_report_merges_several_result_folders(tmp_path, capsys):
    from deepchem_finetune.benchmark.runner import _append_row
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    cell = {"dataset": "bbbp", "model": "gnn", "strategy": "-", "split": "scaffold", "metric": "roc_auc", **STAMP}
    for seed, score in enumerate([0.70, 0.72]):
        _append_row(str(a / "results.csv"), {**cell, "seed": seed, "test": score})
        _append_row(str(b / "results.csv"), {**cell, "model": "gnn:zoo", "strategy": "full", "seed": seed,
                                             "test": score + 0.03})
    reg = {**cell, "dataset": "delaney", "metric": "rmse", "seed": 0}
    _append_row(str(a / "results.csv"), {**reg, "test": 1.0})
    _append_row(str(b / "results.csv"), {**reg, "model": "gnn:zoo", "strategy": "full", "test": 0.9})
    assert main(["report", str(a), str(b / "results.csv"), "--out", str(tmp_path / "m")]) == 0
    summary = (tmp_path / "m" / "summary.md").read_text()
    assert "| bbbp | roc_auc | gnn:zoo | full | scaffold | 0.740 ± 0.014 | 2 | +0.030 |" in summary
    assert "### gnn:zoo (full) vs gnn" in summary  # no twin in these folders: paired with the plain scratch arm
    assert "| bbbp | roc_auc | 2 | +0.030 [+0.030, +0.030] |  | 2/0/0 |" in summary
    assert "| delaney | rmse | 1 | +0.100 | -10.0% | 1/0/0 |" in summary
    _append_row(str(a / "results.csv"), {**reg, "seed": 1, "test": 1.1, "max_epochs": 99})
    with pytest.raises(SystemExit, match="differ in max_epochs: 30 .*99"):  # another schedule is not merged
        main(["report", str(a), str(b), "--out", str(tmp_path / "m3")])
    assert main(["report", str(a), str(b), "--out", str(tmp_path / "m3"), "--allow-mixed"]) == 0
    assert "Mixed protocols" in (tmp_path / "m3" / "summary.md").read_text()
    assert (tmp_path / "m" / "summary.png").read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(SystemExit, match="not found"):
        main(["report", str(tmp_path / "missing"), "--out", str(tmp_path / "m2")])


def test_report_gain_vs_budget_reads_checkpoint_provenance(tmp_path):
    from deepchem_finetune import MolGNNModel, MolGraphFeaturizer
    from deepchem_finetune.hub.budget import pretraining_budget
    from deepchem_finetune.benchmark.runner import _append_row
    m = MolGNNModel(1, featurizer=MolGraphFeaturizer(), num_layers=2, hidden_dim=8)
    desc = {"name": "descriptors", "config": {}}
    both = {"name": "multi", "config": {"parts": [{"name": "attr_masking"}, {"name": "descriptors"}]}}
    short = m.save_pretrained(str(tmp_path / "short"), objective=desc, provenance={
        "training_seconds": 900.0, "seconds": 1500.0, "molecules_seen": 1000, "steps": 8})
    # a resumed run: 15 + 15 min of training; the first run also spent 10 min featurizing
    long = m.save_pretrained(str(tmp_path / "long"), objective=both, provenance={
        "training_seconds": 900.0, "seconds": 905.0, "molecules_seen": 1200, "molecules_seen_total": 2200,
        "steps": 17, "previous_runs": [{"training_seconds": 900.0, "seconds": 1500.0, "molecules_seen": 1000}]})
    assert pretraining_budget({"seconds": 120.0, "molecules_seen": 5})["minutes_exact"] is False
    rows = tmp_path / "r" / "results.csv"
    rows.parent.mkdir()
    for dataset, metric, scratch, gains in (("bbbp", "roc_auc", 0.70, (0.01, 0.03)),
                                             ("delaney", "rmse", 1.0, (-0.05, -0.2))):
        _append_row(str(rows), {"dataset": dataset, "model": "gnn", "strategy": "-", "split": "scaffold",
                                "metric": metric, "seed": 0, "test": scratch, **STAMP})
        for ckpt, gain in zip((short, long), gains):
            _append_row(str(rows), {"dataset": dataset, "model": f"gnn:{ckpt}", "strategy": "full",
                                    "split": "scaffold", "metric": metric, "seed": 0, "test": scratch + gain, **STAMP})
    # a checkpoint that is not on this machine is listed, not dropped silently
    _append_row(str(rows), {"dataset": "bbbp", "model": "gnn:elsewhere", "strategy": "full", "split": "scaffold",
                            "metric": "roc_auc", "seed": 0, "test": 0.8, **STAMP})
    assert main(["report", str(rows.parent), "--out", str(tmp_path / "m")]) == 0
    summary = (tmp_path / "m" / "summary.md").read_text()
    assert f"| gnn:{short} | descriptors | 15.0 | 1000 | full | scaffold | +0.010 (1) | -5.0% (1) |" in summary
    assert (f"| gnn:{long} | attr_masking+descriptors | 30.0 | 2200 | full | scaffold | +0.030 (1) | -20.0% (1) |"
            in summary)
    assert "No budget for: gnn:elsewhere: pretrained backbone not readable here" in summary
    assert (tmp_path / "m" / "gain_vs_budget.png").read_bytes()[:4] == b"\x89PNG"


def test_report_of_a_pretrained_model_alone_has_no_budget_section(tmp_path):
    # one benchmark process per model (no scratch rows in this folder) must still write its report
    from deepchem_finetune import MolGNNModel, MolGraphFeaturizer
    from deepchem_finetune.benchmark.runner import _append_row
    m = MolGNNModel(1, featurizer=MolGraphFeaturizer(), num_layers=2, hidden_dim=8)
    ckpt = m.save_pretrained(str(tmp_path / "ckpt"), objective={"name": "descriptors", "config": {}},
                             provenance={"training_seconds": 900.0, "molecules_seen": 1000, "steps": 8})
    rows = tmp_path / "r" / "results.csv"
    rows.parent.mkdir()
    for seed, test in ((0, 0.71), (1, 0.73)):
        _append_row(str(rows), {"dataset": "tox21", "model": f"gnn:{ckpt}", "strategy": "full",
                                "split": "scaffold", "metric": "roc_auc", "seed": seed, "test": test, **STAMP})
    assert main(["report", str(rows.parent), "--out", str(tmp_path / "m")]) == 0
    summary = (tmp_path / "m" / "summary.md").read_text()
    assert "| tox21 |" in summary and "0.720" in summary
    assert "Gain vs pretraining budget" not in summary


def test_quick_benchmark_feature_arms_share_the_split(tmp_path, cache_dir):
    """``gnn+``, ``seqcnn+`` (the twin of a pretrained SMILES backbone: its architecture and tokenizer, plus the
    features) and ``mlp+`` arms: molecule features beside the embedding, run on the same split ids as the plain arms.
    (The pretrained arm itself is left out here: its corpus-overlap count reads all of ZINC250k, ~2.5 min.)"""
    require_shared(MOLECULENET_DIR / "delaney-processed.csv")
    models = ["gnn+ecfp4", "mlp+ecfp4", "scratch:seqcnn+ecfp4:seqcnn_zinc250k_smiles_mt", "rf"]
    df = run_benchmark(["delaney"], models, seeds=[0], quick=True, out_dir=str(tmp_path / "b"),
                       data_dir=str(MOLECULENET_DIR), progress=False)
    assert sorted(df["model"]) == sorted(models)
    assert df["split_hash"].nunique() == 1 and df["test"].between(0, 10).all()
    from deepchem_finetune.benchmark.protocol import short_hash
    from deepchem_finetune.hub import read_pretrained, with_extra_features
    zoo = read_pretrained("seqcnn_zinc250k_smiles_mt").featurizer  # the twin: the zoo tokenizer plus ECFP4
    twin = df[df["model"] == "scratch:seqcnn+ecfp4:seqcnn_zinc250k_smiles_mt"].iloc[0]
    assert twin["featurizer"] == f"SmilesTokenizer:{short_hash(with_extra_features(zoo, ['ecfp4']))}"
    from deepchem_finetune.benchmark.arms import applies
    assert not applies("seqcnn+ecfp4", "flip_gb1:two_vs_rest")  # molecule features: skipped on proteins
    assert applies("seqcnn", "flip_gb1:two_vs_rest")


def test_benchmark_command_names_a_bad_model_or_head_before_any_cell(tmp_path):
    out = str(tmp_path / "b")
    with pytest.raises(SystemExit, match="head_hidden must be hidden widths.*got 'wide'"):
        main(["benchmark", "--datasets", "freesolv", "--models", "gnn", "--model-option", "head_hidden=wide",
              "--out", out])
    with pytest.raises(SystemExit, match="unknown model 'nope'"):
        main(["benchmark", "--datasets", "freesolv", "--models", "nope", "--out", out])
    assert not (tmp_path / "b").exists()
