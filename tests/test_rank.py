"""#26: transferability estimates that rank the zoo (deepchem_finetune.transfer, ``deepchem-finetune rank``)."""
import json

import numpy as np
import pandas as pd
import pytest
from scipy.stats import multivariate_normal

from deepchem_finetune import cli
from deepchem_finetune.transfer import (DEFAULT_ESTIMATOR, ESTIMATORS, Ranking, best_entry, rank_csv, rank_zoo,
                                        resolve_candidates)
from deepchem_finetune.transfer.estimators import logme_evidence, score_features
from deepchem_finetune.workflow.folder import MARKER

MOLECULES = ["CCO", "CCCO", "CCCCO", "CCCCCO", "OCCO", "CC(C)O", "CCN", "CCCN", "CCCCN", "NCCN", "CC(C)N", "CCOC",
             "c1ccccc1", "Cc1ccccc1", "CCc1ccccc1", "Oc1ccccc1", "Nc1ccccc1", "Clc1ccccc1", "c1ccncc1", "Cc1ccncc1",
             "c1ccc2ccccc2c1", "c1ccoc1", "c1ccsc1", "Cc1ccco1", "C1CCCCC1", "CC1CCCCC1", "OC1CCCCC1", "C1CCNCC1",
             "C1CCOC1", "CC(=O)O", "CCC(=O)O", "CC(=O)N", "CC(=O)OC", "ClCCl", "BrCCBr", "CCCl"]
AROMATIC = [1.0 if "c" in s else 0.0 for s in MOLECULES]


def _synthetic(task_type: str, n: int = 300, seed: int = 0):
    """(label-carrying embedding, noise embedding, labels with missing entries) for two tasks."""
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(n, 2))
    y = (latent > 0).astype(float) if task_type == "classification" else latent.copy()
    y[rng.random((n, 2)) < 0.2] = np.nan                                   # missing labels, masked per task
    signal = np.c_[latent + 0.3 * rng.normal(size=(n, 2)), rng.normal(size=(n, 30))]
    return signal, rng.normal(size=(n, 32)), y


@pytest.mark.parametrize("task_type", ["classification", "regression"])
@pytest.mark.parametrize("estimator", sorted(ESTIMATORS))
def test_label_carrying_embedding_outranks_noise(estimator, task_type):
    signal, noise, y = _synthetic(task_type)
    assert score_features(estimator, signal, y, task_type) > score_features(estimator, noise, y, task_type)


def test_logme_is_the_maximised_marginal_likelihood():
    """The fixed point gives the evidence log N(y | 0, F F^T / alpha + I / beta) at its maximum over (alpha, beta)."""
    rng = np.random.default_rng(3)
    F = rng.normal(size=(60, 4))
    y = F @ rng.normal(size=4) + 0.5 * rng.normal(size=60)
    Fc, yc = F - F.mean(0), y - y.mean()
    yc = yc / yc.std()
    best = max(multivariate_normal(np.zeros(60), Fc @ Fc.T / a + np.eye(60) / b).logpdf(yc) / 60
               for a in np.logspace(-3, 3, 61) for b in np.logspace(-2, 3, 51))
    value = logme_evidence(F, y)
    assert best <= value + 1e-6 and value - best < 5e-3
    assert np.isfinite(logme_evidence(rng.normal(size=(20, 50)), rng.normal(size=20)))   # n < d works too


def test_incompatible_entries_are_skipped_with_a_reason():
    c = {x.name: x.skipped for x in resolve_candidates(["seqcnn_uniprot_mt", "gin_zinc60k_desc30", "ecfp4",
                                                        "no_such_entry"], "smiles")}
    assert c["seqcnn_uniprot_mt"] == "reads ProteinTokenizer inputs (protein), not smiles"
    assert c["gin_zinc60k_desc30"] is None and c["ecfp4"] is None
    assert c["no_such_entry"].startswith("cannot be read")
    protein = {x.name: x.skipped for x in resolve_candidates(["gin_zinc60k_desc30", "ecfp4", "scratch"], "protein")}
    assert protein["gin_zinc60k_desc30"] == "reads MolGraphFeaturizer inputs (smiles), not protein"
    assert protein["ecfp4"] == "ECFP4 needs SMILES, not protein" and protein["scratch"] is None


def test_rank_zoo_ranks_and_times_every_entry():
    r = rank_zoo(MOLECULES, AROMATIC, candidates=["gin_zinc60k_desc30", "scratch", "seqcnn_zinc250k_smiles_mt",
                                                  "ecfp4", "seqcnn_uniprot_mt"], estimator=["logme", "knn"])
    scored = [row for row in r.rows if row["rank"] is not None]
    assert [row["rank"] for row in scored] == [1, 2, 3, 4] and r.rows[-1]["entry"] == "seqcnn_uniprot_mt"
    assert [row["score"] for row in scored] == sorted((row["score"] for row in scored), reverse=True)
    assert all(set(row["scores"]) == {"logme", "knn"} and row["embed_s"] is not None for row in scored)
    # featurized once per spec: the scratch twin (of the default entry) shares gin_zinc60k_desc30's featurizer
    assert [row["featurize_s"] is not None for row in r.rows if row["kind"] == "pretrained"].count(True) == 2
    assert r.task_type == "classification" and r.n_molecules == len(MOLECULES)
    assert r.best in ("gin_zinc60k_desc30", "scratch", "seqcnn_zinc250k_smiles_mt")
    json.dumps(r.to_dict())


def test_auto_pick_never_takes_the_fingerprint_and_maps_scratch_to_none():
    rows = [{"entry": "ecfp4", "kind": "fingerprint", "rank": 1}, {"entry": "scratch", "kind": "scratch", "rank": 2},
            {"entry": "gin_zinc60k_desc30", "kind": "pretrained", "rank": 3},
            {"entry": "seqcnn_uniprot_mt", "kind": "pretrained", "rank": None}]
    r = Ranking(estimator="logme", task_type="regression", rows=rows, n_molecules=10, n_given=10, n_targets=1)
    assert (r.best, r.best_pretrained) == ("scratch", None)
    r.rows = rows[2:]
    assert r.best_pretrained == "gin_zinc60k_desc30"
    pick, ranking = best_entry(MOLECULES, AROMATIC, candidates=["gin_zinc60k_am_desc"])
    assert pick == "gin_zinc60k_am_desc" and ranking.rows[0]["entry"] == pick


def test_rank_uses_finetunes_training_part_only(tmp_path):
    from deepchem_finetune.workflow.prepare import prepare
    path = tmp_path / "d.csv"
    pd.DataFrame({"smiles": MOLECULES + ["C1CC", "CCO"], "y": AROMATIC + [1.0, ""]}).to_csv(path, index=False)
    train = prepare(str(path), "smiles", "smiles", ["y"], pretrained="none", skip_invalid=True).parts["train"]
    r = rank_csv(str(path), ["y"], smiles_column="smiles", candidates=["scratch"])
    assert r.n_molecules == r.data["train_rows"] == len(train) < len(MOLECULES)
    assert r.data["rows_left_out"] == 2 and r.data["split"] == "scaffold" and r.task_type == "classification"
    with pytest.raises(ValueError, match="cannot be used"):  # finetune's own row checks, unless skip_invalid
        rank_csv(str(path), ["y"], smiles_column="smiles", candidates=["scratch"], skip_invalid=False)


def test_cli_rank_on_a_small_csv(tmp_path, capsys):
    path, out = tmp_path / "mols.csv", tmp_path / "ranking.json"
    pd.DataFrame({"smiles": MOLECULES, "logp_like": [len(s) / 3.0 for s in MOLECULES]}).to_csv(path, index=False)
    assert cli.main(["rank", str(path), "--smiles-column", "smiles", "--target-columns", "logp_like",
                     "--entries", "gin_zinc60k_desc30", "scratch", "ecfp4", "seqcnn_uniprot_mt",
                     "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "seqcnn_uniprot_mt" in text and "skipped" in text and "reads ProteinTokenizer inputs" in text
    assert "score: LogME" in text and "--pretrained auto would use:" in text and "regression" in text
    saved = json.loads(out.read_text())
    assert saved["estimator"] == "logme" and len(saved["rows"]) == 4
    assert saved["n_molecules"] == saved["data"]["train_rows"] < len(MOLECULES)
    with pytest.raises(SystemExit, match="not in"):
        cli.main(["rank", str(path), "--smiles-column", "smiles", "--target-columns", "nope"])


def test_finetune_pretrained_auto_records_the_ranking(tmp_path, one_thread):
    from deepchem_finetune.workflow import finetune_csv
    path, out = tmp_path / "mols.csv", tmp_path / "model"
    pd.DataFrame({"smiles": MOLECULES, "y": [len(m) / 3.0 for m in MOLECULES]}).to_csv(path, index=False)
    lines = []
    finetune_csv(str(path), str(out), ["y"], smiles_column="smiles", pretrained="auto", ensemble=1, max_epochs=1,
                 patience=None, progress=False, echo=lines.append)
    ranking = json.loads((out / "ranking.json").read_text())
    assert (out / "ranking.txt").read_text().startswith("rank") and "--pretrained auto ranked" in "\n".join(lines)
    assert ranking["best_pretrained"] in [r["entry"] for r in ranking["rows"]] + [None]
    assert ranking["n_molecules"] == ranking["data"]["train_rows"]
    used = next(line for line in lines if line.startswith("backbone: "))
    assert used.startswith(f"backbone: {ranking['best_pretrained'] or 'none'}")
    marker = json.loads((out / MARKER).read_text())
    assert marker["training"]["pretrained"] == ranking["best_pretrained"]


def test_cli_estimator_choices_match_the_package():
    assert set(cli._RANK_ESTIMATORS) == set(ESTIMATORS) and cli._RANK_DEFAULT == DEFAULT_ESTIMATOR
