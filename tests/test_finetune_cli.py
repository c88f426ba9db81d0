"""``deepchem-finetune finetune`` / ``predict`` / ``example`` on small CSVs (the package's own examples), and the model
folder they share with ``EnsembleModel``. Tiny models, 2-3 epochs: the pipeline, not the scores."""
import json
import types

import numpy as np
import pandas as pd
import pytest

import deepchem as dc
from deepchem_finetune import MolGNNModel, MolGraphFeaturizer, examples
from deepchem_finetune.cli import main
from deepchem_finetune.workflow import EnsembleModel
from deepchem_finetune.workflow import finetune as finetune_module
from deepchem_finetune.workflow.folder import MARKER, ModelFolderError
from deepchem_finetune.workflow.table import InputError

pytestmark = pytest.mark.usefixtures("one_thread")  # tiny models: see conftest.one_thread

TINY_GNN = ["--pretrained", "none", "--num-layers", "2", "--hidden-dim", "16", "--max-epochs", "2",
            "--no-progress"]


@pytest.fixture
def esol(tmp_path):
    """The first 60 molecules of the shipped ESOL example, with a made-up second target and a class label."""
    df = pd.read_csv(examples.path("esol")).head(60)
    df["logS2"] = (df["logS"] * 0.5).round(3).astype(str)
    df.loc[::4, "logS2"] = ""  # missing labels of the second target
    df["soluble"] = (df["logS"] > -3).astype(int)
    df["part"] = ["train"] * 40 + ["valid"] * 10 + ["test"] * 10
    path = tmp_path / "esol.csv"
    df.to_csv(path, index=False)
    return path


def run(*argv) -> int:
    return main([str(a) for a in argv])


def test_smiles_round_trip_from_scratch(esol, tmp_path, capsys):
    out = tmp_path / "model"
    assert run("finetune", esol, "--out", out, "--smiles-column", "smiles", "--target-columns", "logS", "logS2",
               "--ensemble", "2", *TINY_GNN) == 0
    console = capsys.readouterr().out
    assert "regression, inferred" in console and "Spearman(|error|, std)" in console
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["task_type"] == "regression" and metrics["ensemble_size"] == 2
    assert set(metrics["ensemble"]["test"]) == {"logS", "logS2"}
    assert metrics["ensemble"]["test"]["logS2"]["n"] < metrics["ensemble"]["test"]["logS"]["n"]  # masked labels
    assert (out / "calibration.png").stat().st_size > 0 and (out / "command.txt").read_text().startswith(
        "deepchem-finetune finetune")
    split = json.loads((out / "split.json").read_text())["rows"]
    assert sorted(split["train"] + split["valid"] + split["test"]) == list(range(60))
    marker = json.loads((out / MARKER).read_text())
    assert marker["transformers"][0]["name"] == "normalization_y" and len(marker["transformers"][0]["mean"]) == 2
    assert not list(out.rglob("*.pt")) and not list(out.rglob("*.pkl"))  # safetensors and JSON only

    new = tmp_path / "new.csv"
    pd.DataFrame({"id": ["a", "b", "c"], "smiles": ["CCO", "C1CC", "c1ccccc1"]}).to_csv(new, index=False)
    assert run("predict", out, new, "--out", tmp_path / "pred.csv") == 0
    pred = pd.read_csv(tmp_path / "pred.csv")
    assert pred.columns.tolist() == ["id", "smiles", "logS_pred", "logS_std", "logS2_pred", "logS2_std", "status"]
    assert pred["id"].tolist() == ["a", "b", "c"] and pred["status"].tolist()[0] == "ok"
    assert "could not be parsed" in pred["status"][1] and np.isnan(pred["logS_pred"][1])
    assert (pred.loc[[0, 2], ["logS_std", "logS2_std"]] > 0).all().all()  # two members disagree

    ensemble = EnsembleModel.load(out)  # the same numbers through the Python API
    mean, std = ensemble.predict_smiles(["CCO", "c1ccccc1"], return_std=True)
    np.testing.assert_allclose(mean[:, 0], pred.loc[[0, 2], "logS_pred"], rtol=1e-9)
    np.testing.assert_allclose(std[:, 1], pred.loc[[0, 2], "logS2_std"], rtol=1e-9)


def test_classification_from_a_zoo_backbone_with_a_column_split(esol, tmp_path, capsys):
    out = tmp_path / "model"
    assert run("finetune", esol, "--out", out, "--smiles-column", "smiles", "--target-columns", "soluble",
               "--split", "column:part", "--ensemble", "1", "--max-epochs", "1", "--no-progress") == 0
    console = capsys.readouterr().out
    assert "classification, inferred" in console and "expected calibration error" in console
    assert "backbone: gin_zinc250k_am_desc" in console and "head lr 0.001, backbone lr 0.0002" in console  # stable
    split = json.loads((out / "split.json").read_text())["rows"]
    assert split == {"train": list(range(40)), "valid": list(range(40, 50)), "test": list(range(50, 60))}
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["uncertainty"]["test"]["soluble"]["ece"] is not None
    marker = json.loads((out / MARKER).read_text())
    assert marker["training"]["pretrained"] == "gin_zinc250k_am_desc" and marker["training"]["pretrained_sha256"]
    pred = EnsembleModel.load(out).predict_smiles(["CCO"])
    assert pred.shape == (1, 1, 2) and np.allclose(pred.sum(axis=-1), 1)


def test_backbone_lr_ratio_sets_the_backbones_learning_rate(esol, tmp_path, capsys, monkeypatch):
    assert run("finetune", esol, "--out", tmp_path / "m", "--smiles-column", "smiles", "--target-columns", "logS",
               "--backbone-lr-ratio", "1.5", "--no-progress") == 2
    assert "backbone_lr_ratio must be in [0.001, 1], got 1.5" in capsys.readouterr().err
    built, member = [], finetune_module._member
    monkeypatch.setattr(finetune_module, "_member", lambda *a, **k: built.append(member(*a, **k)) or built[-1])
    assert run("finetune", esol, "--out", tmp_path / "m", "--smiles-column", "smiles", "--target-columns", "logS",
               "--split", "column:part", "--backbone-lr-ratio", "1", "--ensemble", "1", "--max-epochs", "1",
               "--no-progress") == 0
    assert "head lr 0.001, backbone lr 0.001" in capsys.readouterr().out
    assert built[0].learning_rate == pytest.approx(1e-3) and built[0].strategy.options["head_lr_mult"] == 1.0
    training = json.loads((tmp_path / "m" / MARKER).read_text())["training"]
    assert training["backbone_lr_ratio"] == 1.0 and training["head_lr"] == pytest.approx(1e-3)
    for extra, reason in ((["--pretrained", "none"], "does not apply with --pretrained none"),
                          (["--strategy-option", "head_lr_mult=5"], "not both")):
        assert run("finetune", esol, "--out", tmp_path / "m2", "--smiles-column", "smiles", "--target-columns",
                   "logS", "--backbone-lr-ratio", "0.5", *extra, "--no-progress") == 2
        assert reason in capsys.readouterr().err


def test_protein_round_trip_with_a_tiny_seqcnn(tmp_path, capsys):
    data = examples.copy("gb1", tmp_path)
    out = tmp_path / "model"
    assert run("finetune", data, "--out", out, "--sequence-column", "sequence", "--target-columns", "fitness",
               "--split", "column:split", "--pretrained", "none", "--width", "8", "--depth", "1", "--ensemble", "2",
               "--max-epochs", "2", "--no-progress") == 0
    assert "split column:split: train 140 / valid 20 / test 40" in capsys.readouterr().out
    new = tmp_path / "new.csv"
    pd.DataFrame({"sequence": ["MQYKLILNGKTLKGETTTEAVD", "MQYK1LIL"]}).to_csv(new, index=False)
    assert run("predict", out, new, "--out", tmp_path / "pred.csv") == 0
    pred = pd.read_csv(tmp_path / "pred.csv")
    assert pred["status"][0] == "ok" and "unknown token '1'" in pred["status"][1]


def test_bad_row_stops_the_run_naming_its_row_and_line(esol, tmp_path, capsys):
    df = pd.read_csv(esol, dtype=str)
    df.loc[7, "smiles"] = "C1CC(("
    df.loc[11, "logS"] = "n.d."
    df.to_csv(esol, index=False)
    assert run("finetune", esol, "--out", tmp_path / "m", "--smiles-column", "smiles", "--target-columns", "logS",
               *TINY_GNN) == 2
    err = capsys.readouterr().err
    assert "row 7 (line 9): SMILES at index 7 could not be parsed by RDKit: 'C1CC(('" in err
    assert "row 11 (line 13) '" in err and "label 'n.d.' in column 'logS' is not a number" in err
    assert not (tmp_path / "m").exists()

    assert run("finetune", esol, "--out", tmp_path / "m", "--smiles-column", "smiles", "--target-columns", "logS",
               "--skip-invalid", "--ensemble", "1", *TINY_GNN) == 0
    assert "skipped 2 row(s)" in capsys.readouterr().out
    skipped = pd.read_csv(tmp_path / "m" / "skipped_rows.csv")
    assert skipped["row"].tolist() == [7, 11] and skipped["line"].tolist() == [9, 13]
    assert run("predict", tmp_path / "m", esol, "--out", tmp_path / "pred.csv") == 0
    pred = pd.read_csv(tmp_path / "pred.csv")
    assert len(pred) == 60 and (pred["status"] == "ok").sum() == 59 and "index 7" in pred["status"][7]
    assert pred["logS"].astype(str)[11] == "n.d."  # other columns as written


def test_foreign_folders_are_refused(tmp_path, capsys):
    from deepchem_finetune.hub import ZOO_DIR
    new = tmp_path / "new.csv"
    pd.DataFrame({"smiles": ["CCO"]}).to_csv(new, index=False)
    for folder in (ZOO_DIR / "gin_zinc60k_desc30", tmp_path):
        assert run("predict", folder, new, "--out", tmp_path / "p.csv") == 2
        assert "was not written by deepchem-finetune finetune" in capsys.readouterr().err
    (tmp_path / MARKER).write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(ModelFolderError, match="not 'deepchem-finetune-model'"):
        EnsembleModel.load(tmp_path)
    (tmp_path / MARKER).write_text(json.dumps({"format": "deepchem-finetune-model", "format_version": 99}))
    with pytest.raises(ModelFolderError, match="newer"):
        EnsembleModel.load(tmp_path)
    with pytest.raises(InputError, match="not a model folder"):  # finetune never writes over a foreign folder
        finetune_module.finetune_csv(new, tmp_path, ["y"], smiles_column="smiles")


def _trained(seed, ds, recipe="stable"):
    m = MolGNNModel(n_tasks=1, mode="regression", featurizer=MolGraphFeaturizer("rich"), num_layers=2,
                    hidden_dim=16, seed=seed, batch_size=8, recipe=recipe)
    m.fit(ds, nb_epoch=3)
    return m


def test_one_member_ensemble_is_the_member_and_save_load_is_exact(tmp_path):
    df = pd.read_csv(examples.path("esol")).head(40)
    feat = MolGraphFeaturizer("rich")
    ds = dc.data.NumpyDataset(feat.featurize(df["smiles"].tolist()), df[["logS"]].to_numpy())
    norm = dc.trans.NormalizationTransformer(transform_y=True, dataset=ds)
    ds = norm.transform(ds)
    member = _trained(0, ds)  # stable recipe: predicts with its averaged weights
    assert member.recipe.ema is not None
    one = EnsembleModel([member], [norm], ["logS"])
    np.testing.assert_array_equal(one.predict(ds, [norm]), member.predict(ds, [norm]))
    mean, std = one.predict_uncertainty(ds, [norm])
    assert (std == 0).all()
    np.testing.assert_array_equal(one.predict_smiles(df["smiles"]), member.predict_smiles(df["smiles"], [norm]))
    score = one.evaluate(ds, [dc.metrics.Metric(dc.metrics.mean_absolute_error)], [norm])
    assert score["mean_absolute_error"] == pytest.approx(
        member.evaluate(ds, [dc.metrics.Metric(dc.metrics.mean_absolute_error)], [norm])["mean_absolute_error"])

    two = EnsembleModel([member, _trained(1, ds)], [norm], ["logS"])
    loaded = EnsembleModel.load(two.save(str(tmp_path / "ens")))
    np.testing.assert_array_equal(loaded.predict(ds, loaded.transformers), two.predict(ds, [norm]))
    mean, std = loaded.predict_uncertainty(ds, loaded.transformers)
    assert (std > 0).all()
    again = EnsembleModel.load(loaded.save(str(tmp_path / "again")))
    np.testing.assert_array_equal(again.predict_members(ds), loaded.predict_members(ds))


def test_time_budget_reports_members_not_started(esol, tmp_path, monkeypatch, capsys):
    clock = iter([0.0, 0.0, 0.0])  # start, member 1 check, its time limit; then the budget is spent
    monkeypatch.setattr(finetune_module, "time", types.SimpleNamespace(time=lambda: next(clock, 1e6)))
    metrics = finetune_module.finetune_csv(esol, tmp_path / "m", ["logS"], smiles_column="smiles", pretrained="none",
                                           ensemble=3, max_epochs=1, time_budget=1.0, progress=False,
                                           model_options={"num_layers": 1, "hidden_dim": 8})
    assert metrics["ensemble_size"] == 1 and metrics["members_not_started"] == [1, 2]
    assert "member(s) [2, 3] not started" in capsys.readouterr().out


def test_example_command(tmp_path, capsys):
    assert run("example") == 0 and "esol" in capsys.readouterr().out
    assert run("example", "esol", "--out", tmp_path / "e.csv") == 0
    assert pd.read_csv(tmp_path / "e.csv").shape == (1128, 2)
    assert (examples.path("esol").endswith("esol.csv"))


@pytest.mark.parametrize("pretrained", ["none", "gin_zinc60k_desc30", "seqcnn_zinc250k_smiles_mt"])
def test_extra_features_travel_from_finetune_to_predict(esol, tmp_path, pretrained):
    from deepchem_finetune.featurizers.molecule import FEATURE_KINDS
    out, new, pred = tmp_path / "model", tmp_path / "new.csv", tmp_path / "pred.csv"
    options = TINY_GNN[2:] if pretrained == "none" else ["--max-epochs", "2", "--no-progress"]
    assert run("finetune", esol, "--out", out, "--smiles-column", "smiles", "--target-columns", "logS",
               "--ensemble", "1", "--pretrained", pretrained, "--extra-features", *FEATURE_KINDS, *options) == 0
    model = EnsembleModel.load(out)
    member = model.members[0]
    assert member.featurizer_spec["config"]["extra_features"] == list(FEATURE_KINDS) and member.extra_dim > 2048
    smiles = ["CCO", "c1ccccc1O", "CC(=O)Nc1ccc(O)cc1"]
    pd.DataFrame({"smiles": smiles}).to_csv(new, index=False)
    assert run("predict", out, new, "--out", pred) == 0
    written = pd.read_csv(pred)
    assert (written["status"] == "ok").all()
    # the reloaded ensemble (features recomputed from the saved spec, the saved scaler) predicts what predict wrote
    np.testing.assert_allclose(written["logS_pred"], model.predict_smiles(smiles).ravel(), rtol=1e-5)


def test_extra_features_need_smiles(tmp_path):
    gb1 = pd.read_csv(examples.path("gb1")).head(30)
    path = tmp_path / "gb1.csv"
    gb1.to_csv(path, index=False)
    assert run("finetune", path, "--out", tmp_path / "m", "--sequence-column", "sequence", "--target-columns",
               "fitness", "--extra-features", "ecfp4", "--no-progress") != 0
