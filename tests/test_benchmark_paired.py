"""The paired benchmark: scratch twins, paired gains with confidence intervals, the protocol stamp and its check,
peers on the same split ids, and test molecules counted in a pretraining corpus."""
import gzip
import json

import numpy as np
import pandas as pd
import pytest
import torch

from deepchem_finetune import MolGNNModel, MolGraphFeaturizer
from deepchem_finetune.benchmark.arms import _build, family, is_twin, source, twin_of
from deepchem_finetune.benchmark.leakage import corpus_overlap
from deepchem_finetune.benchmark.pairing import paired_rows, paired_summary, t_interval
from deepchem_finetune.benchmark.protocol import RECIPE, ProtocolMismatch, check_protocols
from deepchem_finetune.benchmark.report import checked_rows, reference_arm
from deepchem_finetune.benchmark.runner import head_widths, with_twins
from deepchem_finetune.hub import architecture, read_pretrained

from conftest import MOLECULENET_DIR, require_shared


def test_twin_gets_the_pretrained_architecture_and_featurizer_but_not_its_weights(tmp_path):
    pre = MolGNNModel(n_tasks=1, featurizer=MolGraphFeaturizer("hu2020"), conv="gcn", num_layers=2, hidden_dim=16,
                      jk="concat", dropout=0.3, seed=5)
    path = pre.save_pretrained(str(tmp_path / "gcn"))
    assert with_twins([f"gnn:{path}", "rf"]) == [f"gnn:{path}", f"scratch:gnn:{path}", "rf"]
    assert family(twin_of(f"gnn:{path}")) == "gnn" and is_twin(twin_of("gnn:x")) and source("scratch:gnn:x") == "x"
    artifact = read_pretrained(path)
    cell = {"model": f"scratch:gnn:{path}", "seed": 0, "strategy": "-"}
    twin = _build(MolGNNModel, cell, artifact, 3, "regression", {}, {})
    tuned = _build(MolGNNModel, {**cell, "model": f"gnn:{path}", "strategy": "full"}, artifact, 3, "regression", {}, {})
    assert architecture(twin.backbone.config) == architecture(pre.backbone.config) == architecture(tuned.backbone.config)
    assert twin.featurizer_spec == pre.featurizer_spec == tuned.featurizer_spec
    assert twin.backbone.config["dropout"] == 0.3 and twin.pretrained_sha256 is None
    assert tuned.pretrained_sha256 == artifact.config["weights_sha256"]
    w_pre = pre.backbone.state_dict()["layers.0.linear.weight"]
    assert np.allclose(tuned.backbone.state_dict()["layers.0.linear.weight"], w_pre)
    assert not np.allclose(twin.backbone.state_dict()["layers.0.linear.weight"], w_pre)
    # same seed, same head initialisation: the arms differ only in the backbone's starting weights
    assert all(np.allclose(a, b) for a, b in zip(twin.head.state_dict().values(), tuned.head.state_dict().values()))


def test_a_hidden_head_option_reaches_the_pretrained_arm_and_its_twin_and_is_stamped(tmp_path):
    """``--model-option head_hidden=8`` (read as the int 8, listed by the runner) gives both arms the same hidden head,
    and each row's stamp names it, so linear-head and hidden-head rows never merge silently."""
    from deepchem_finetune.benchmark.protocol import model_fields
    from deepchem_finetune.cli_values import parse_value
    pre = MolGNNModel(n_tasks=1, featurizer=MolGraphFeaturizer("hu2020"), num_layers=2, hidden_dim=16, seed=5)
    artifact = read_pretrained(pre.save_pretrained(str(tmp_path / "gin")))
    assert parse_value("8") == 8 and parse_value("8,4") == [8, 4]
    cell = {"model": f"gnn:{tmp_path / 'gin'}", "seed": 0, "strategy": "full"}
    options = {"head_hidden": [8], "head_dropout": 0.1}
    arms = [_build(MolGNNModel, {**cell, "model": m}, artifact, 2, "regression", {}, options)
            for m in (cell["model"], twin_of(cell["model"]))]
    heads = [model_fields(m, 5, 2)["head"] for m in arms]
    assert heads[0] == heads[1] == json.dumps({"dropout": 0.1, "hidden_dims": [8]})
    assert model_fields(pre, 5, 2)["head"] == json.dumps({"dropout": 0.0, "hidden_dims": []})
    assert [m.head(torch.zeros(3, pre.backbone.output_dim)).shape for m in arms] == [(3, 2)] * 2
    assert [head_widths(parse_value(v)) for v in ("8", "8,4", "")] == [[8], [8, 4], []]  # --model-option head_hidden=
    with pytest.raises(ValueError, match="head_hidden must be hidden widths"):
        head_widths("wide")


def test_arms_of_one_architecture_share_one_twin(tmp_path):
    """Two snapshots of one pretraining run (same architecture and inputs) get one twin; the report pairs both
    with it through the stamped architecture; another architecture or other molecule features get their own."""
    def save(name, seed, conv="gin"):
        m = MolGNNModel(n_tasks=1, featurizer=MolGraphFeaturizer("rich"), conv=conv, num_layers=2, hidden_dim=16,
                        seed=seed)
        return "gnn:" + m.save_pretrained(str(tmp_path / name))
    a, b, c = save("leg30", 0), save("leg60", 1), save("gcn", 0, conv="gcn")
    b_feat = "gnn+ecfp4:" + b.split(":", 1)[1]
    assert with_twins([a, b, c, b_feat, "rf"]) == [a, twin_of(a), b, c, twin_of(c), b_feat, twin_of(b_feat), "rf"]
    # a rerun naming b first keeps the twin already written for a (its rows), rather than training twin_of(b)
    assert with_twins([b, a], existing=["rf", twin_of(a)]) == [b, twin_of(a), a]
    assert with_twins([b], existing=[twin_of(a), twin_of(b)]) == [b, twin_of(b)]  # its own written twin first
    rows = pd.DataFrame({"model": [a, twin_of(a), b, c, twin_of(c)], "backbone_hash": ["g", "g", "g", "k", "k"],
                         "featurizer": ["f"] * 5})
    assert [reference_arm(m, set(rows["model"]), rows) for m in (a, b, c)] == [twin_of(a), twin_of(a), twin_of(c)]


def _table():
    rows = []
    rng = np.random.default_rng(0)
    for dataset, metric, base in (("bbbp", "roc_auc", 0.70), ("bace", "roc_auc", 0.75), ("esol", "rmse", 1.2)):
        for seed in range(3):
            ref = base + rng.normal(0, 0.01)
            gain = 0.02 + 0.005 * seed if metric == "roc_auc" else -0.1
            rows += [{"dataset": dataset, "split": "scaffold", "seed": seed, "metric": metric, "model": "gnn:zoo",
                      "strategy": "full", "test": ref + gain},
                     {"dataset": dataset, "split": "scaffold", "seed": seed, "metric": metric,
                      "model": "scratch:gnn:zoo", "strategy": "-", "test": ref}]
    return pd.DataFrame(rows)


def test_paired_differences_and_confidence_interval_on_a_synthetic_table():
    df = _table()
    pairs = paired_rows(df, "gnn:zoo", "scratch:gnn:zoo")
    assert len(pairs) == 9
    bbbp = pairs[pairs["dataset"] == "bbbp"]["diff"].to_numpy()
    np.testing.assert_allclose(bbbp, [0.02, 0.025, 0.03])
    esol = pairs[pairs["dataset"] == "esol"]
    np.testing.assert_allclose(esol["diff"], 0.1)  # lower RMSE is a positive (better) difference
    assert (esol["rel_pct"] < 0).all()
    summary = paired_summary(pairs).set_index("dataset")
    mean, low, high = t_interval([0.02, 0.025, 0.03])
    assert summary.loc["bbbp", "diff"] == pytest.approx(0.025) and summary.loc["bbbp", "ci_low"] == pytest.approx(low)
    assert high - mean == pytest.approx(4.303 * 0.005 / np.sqrt(3), rel=1e-3)  # t(0.975, 2) = 4.303
    assert summary.loc["bbbp", ["wins", "ties", "losses"]].tolist() == [3, 0, 0]
    avg = summary.loc["average (2 datasets)"]  # bbbp and bace, paired per seed
    assert avg["n"] == 3 and avg["wins"] == 6
    assert reference_arm("gnn:zoo", df["model"]) == "scratch:gnn:zoo"


def test_protocol_mismatch_is_refused_and_named():
    df = _table().assign(split_hash="abc", **{f: 1 for f in RECIPE})
    assert check_protocols(df) == []
    checked_rows(df)  # no error
    df.loc[(df["model"] == "gnn:zoo") & (df["dataset"] == "bbbp"), "max_epochs"] = 50
    problems = check_protocols(df)
    assert problems == ["bbbp: trained arms differ in max_epochs: 1 (scratch:gnn:zoo), 50 (gnn:zoo)"]
    with pytest.raises(ProtocolMismatch, match="max_epochs"):
        checked_rows(df)
    merged, listed = checked_rows(df, allow_mixed=True)
    assert listed == problems and merged["protocol"].nunique() == 2
    df.loc[0, "split_hash"] = "other"
    assert any("different split ids" in p for p in check_protocols(df))
    heads = _table().assign(split_hash="abc", head='{"hidden_dims": []}', **{f: 1 for f in RECIPE})
    assert check_protocols(heads) == []
    heads.loc[(heads["model"] == "gnn:zoo") & (heads["dataset"] == "bbbp") & (heads["seed"] == 0), "head"] = None
    assert check_protocols(heads) == ['bbbp / gnn:zoo: rows with different heads: nan, {"hidden_dims": []}']
    assert "no protocol stamp" in check_protocols(_table())[0]


def test_test_molecules_in_a_toy_corpus_are_counted(tmp_path, monkeypatch):
    from deepchem_finetune.hub import file_sha256
    corpus = tmp_path / "corpora" / "toy.smi.gz"
    corpus.parent.mkdir()
    with gzip.open(corpus, "wt") as fh:
        fh.write("CCO\nc1ccccc1\nOCC\nCCN\n")  # OCC is ethanol again
    monkeypatch.setenv("DEEPCHEM_FINETUNE_CORPUS_DIR", str(corpus.parent))
    monkeypatch.setenv("DEEPCHEM_FINETUNE_CACHE", str(tmp_path / "cache" / "molnet"))
    prov = {"data": {"name": "toy.smi.gz", "sha256": file_sha256(corpus)}}
    count, note = corpus_overlap(prov, ["C(O)C", "c1ccccc1", "CCCl"])
    assert count == 2 and "toy.smi.gz" in note
    count, note = corpus_overlap({"data": {"name": "toy.smi.gz", "sha256": file_sha256(corpus), "limit": 1}}, ["c1ccccc1"])
    assert count == 0  # only the first molecule was pretrained on
    count, note = corpus_overlap({"data": {"name": "toy.smi.gz", "sha256": "0" * 64}}, ["CCO"])
    assert count is None and "not found" in note  # another file of that name is not taken for the corpus


@pytest.mark.slow
def test_peers_run_on_the_same_split_ids_as_our_arm(tmp_path, cache_dir):
    from deepchem_finetune.benchmark import run_benchmark
    from deepchem_finetune.benchmark.arms import _load
    from deepchem_finetune.benchmark.peers import chemprop_available, run_chemprop
    require_shared(MOLECULENET_DIR / "delaney-processed.csv")
    if not chemprop_available():
        pytest.fail("chemprop is part of the dev extra: pip install -e '.[dev]'")
    df = run_benchmark(["delaney"], ["gnn", "rf_desc", "chemprop"], seeds=[0], quick=True, out_dir=str(tmp_path / "b"),
                       data_dir=str(MOLECULENET_DIR), progress=False)
    assert set(df["model"]) == {"gnn", "rf_desc", "chemprop"} and df["test"].notna().all()
    assert df["split_hash"].nunique() == 1 and (df["n_test"] == 113).all()
    assert df.set_index("model").loc["chemprop", "selection"].startswith("chemprop")
    # the files chemprop trains on hold exactly our arm's ids, part by part, with labels in the data's own units
    cell = {"dataset": "delaney", "model": "gnn", "split": "scaffold", "seed": 0}
    tasks, parts, tr = _load(cell, MolGraphFeaturizer("rich"), str(MOLECULENET_DIR), None)
    res = run_chemprop({**cell, "model": "chemprop"}, parts, tr, "regression", tasks,
                       model_options={"chemprop": {"epochs": 3}}, workdir=str(tmp_path / "cp"))
    for name, part in zip(("train", "val", "test"), parts):
        written = pd.read_csv(tmp_path / "cp" / f"{name}.csv")
        assert written["smiles"].tolist() == [str(i) for i in part.ids]
    raw = pd.read_csv(MOLECULENET_DIR / "delaney-processed.csv").set_index("smiles")
    first = written.iloc[0]
    assert first["t0"] == pytest.approx(raw.loc[first["smiles"], "measured log solubility in mols per litre"])
    assert res["test"] == pytest.approx(df.set_index("model").loc["chemprop", "test"], rel=1e-6)
