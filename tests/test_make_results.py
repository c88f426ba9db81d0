"""benchmarks/make_results.py (`make results`): every results table of README.md and benchmarks/RESULTS.md is generated
from the per-seed CSVs committed under benchmarks/results/, so the documents cannot drift from their rows."""
import re
import shutil
import sys
from pathlib import Path

import pandas as pd
import pytest

from conftest import REPO

sys.path.insert(0, str(REPO / "benchmarks"))
import make_results  # noqa: E402
from make_results import BLOCKS, MarkerError, blocks_of, generate, main  # noqa: E402

from deepchem_finetune.benchmark.protocol import ProtocolMismatch  # noqa: E402

PAIRED = "benchmarks/results/paired_moleculenet.csv"
FEATURES = "benchmarks/results/features.csv"
VARIANT = "benchmarks/results/features_v1_hidden_stdbits.csv"


def _copy(tmp_path: Path) -> Path:
    """The two documents and the committed CSVs in a scratch repository root."""
    root = tmp_path / "repo"
    shutil.copytree(REPO / "benchmarks" / "results", root / "benchmarks" / "results")
    for config in (REPO / "benchmarks" / "checkpoints" / "flagship_legs").glob("*/*/config.json"):  # their provenance
        dest = root / config.relative_to(REPO)
        dest.parent.mkdir(parents=True)
        shutil.copy(config, dest)
    for doc in BLOCKS:
        shutil.copy(REPO / doc, root / doc)
    return root


def _block(root: Path, doc: str, name: str) -> str:
    text = (root / doc).read_text()
    start, end = blocks_of(doc, text)[name]
    return text[start:end]


def test_committed_documents_equal_what_the_committed_csvs_generate():
    stale = generate(REPO, write=False)
    assert stale == [], f"{stale} differ from their committed CSVs: run `make results` and commit the result"


def test_generation_is_idempotent_and_keeps_the_prose(tmp_path):
    root = _copy(tmp_path)
    readme = root / "README.md"
    start, end = blocks_of("README.md", readme.read_text())["headline"]
    text = readme.read_text()
    readme.write_text(text[:start] + "\nhand-edited numbers\n" + text[end:])
    assert main(["--root", str(root), "--check"]) == 1
    assert generate(root) == ["README.md"]
    first = {doc: (root / doc).read_text() for doc in BLOCKS}
    assert first["README.md"] == text  # the block is back, the prose around it untouched
    assert generate(root) == [] and main(["--root", str(root), "--check"]) == 0
    assert {doc: (root / doc).read_text() for doc in BLOCKS} == first


def test_every_generated_block_cites_an_existing_committed_csv_and_a_command():
    """Every block names what it is generated from (committed CSVs of per-seed rows, or committed pretrained folders
    whose provenance it reads) and the command that made them."""
    for doc, generators in BLOCKS.items():
        for name in generators:
            block = _block(REPO, doc, name)
            cited = re.findall(r"`benchmarks/results/([^`]+\.csv)`", block)
            folders = re.findall(r"`(benchmarks/checkpoints/[^`]+)`", block)
            assert cited or folders, f"{doc} block {name} names no CSV of benchmarks/results/ (nor committed folders)"
            for path in cited:
                assert list((REPO / "benchmarks" / "results").glob(path)), f"{doc} block {name}: {path} is not there"
            for path in folders:
                assert (REPO / path).is_dir(), f"{doc} block {name}: {path} is not there"
            assert "the rows were made by:" in block or (folders and "were made by:" in block), \
                f"{doc} block {name} names no command"


def test_mixed_protocols_are_refused(tmp_path, capsys):
    root = _copy(tmp_path)
    rows = pd.read_csv(root / PAIRED)
    trained = rows.index[rows["model"].str.startswith("gnn:")][0]
    rows.loc[trained, "max_epochs"] = 99
    rows.to_csv(root / PAIRED, index=False)
    with pytest.raises(ProtocolMismatch, match="max_epochs: 40 .*99"):
        generate(root, write=False)
    assert main(["--root", str(root)]) == 2
    assert "refusing to make one table" in capsys.readouterr().err


def test_missing_or_broken_markers_are_named(tmp_path):
    root = _copy(tmp_path)
    readme = root / "README.md"
    text = readme.read_text()
    readme.write_text(text.replace("<!-- /results:headline -->\n", ""))
    with pytest.raises(MarkerError, match=r"README.md: <!-- results:workflow_timing --> opens before "
                                          r"<!-- /results:headline --> closes"):
        generate(root, write=False)
    readme.write_text(text.replace("<!-- /results:headline -->\n", "").replace("<!-- results:headline -->\n", ""))
    with pytest.raises(MarkerError, match=r"README.md: no block for \['headline'\]; put the two lines"):
        generate(root, write=False)
    readme.write_text(text + "\n<!-- results:nonsense -->\n")
    with pytest.raises(MarkerError, match=r"README.md: <!-- results:nonsense --> is never closed"):
        generate(root, write=False)
    readme.write_text(text + "\n<!-- results:nonsense -->\n<!-- /results:nonsense -->\n")
    with pytest.raises(MarkerError, match=r"blocks \['nonsense'\] have no generator"):
        generate(root, write=False)


def _paired_rows(template: pd.Series, cells) -> pd.DataFrame:
    """Stamped benchmark rows from ``(dataset, metric, model, seeds, scores)``, the stamp copied from ``template``."""
    rows = []
    for dataset, metric, model, seeds, scores in cells:
        for seed, score in zip(seeds, scores):
            rows.append(dict(template, dataset=dataset, metric=metric, model=model, seed=seed, test=score,
                             strategy="full" if model.startswith("gnn:") else "-", split_hash=f"{dataset}{seed}"))
    return pd.DataFrame(rows)


def test_headline_shows_n_marks_partial_datasets_and_says_where_a_pretrained_arm_loses(tmp_path):
    root = _copy(tmp_path)
    zoo, twin, hu = "gnn:gin_zinc60k_am_desc", "scratch:gnn:gin_zinc60k_am_desc", make_results.paired.HU
    rows = _paired_rows(pd.read_csv(root / PAIRED).iloc[0], [
        ("bbbp", "roc_auc", zoo, [0, 1, 2], [0.72, 0.70, 0.71]),
        ("bbbp", "roc_auc", twin, [0, 1, 2], [0.66, 0.65, 0.67]),
        ("bbbp", "roc_auc", hu, [0, 1, 2], [0.70, 0.70, 0.70]),
        ("bbbp", "roc_auc", "chemprop", [0, 1, 2], [0.71, 0.72, 0.73]),
        ("bbbp", "roc_auc", "rf", [0, 1, 2], [0.69, 0.69, 0.70]),
        ("bbbp", "roc_auc", "rf_desc", [0, 1, 2], [0.60, 0.61, 0.62]),
        ("delaney", "rmse", zoo, [0, 1, 2], [1.10, 1.20, 1.15]),
        ("delaney", "rmse", twin, [0, 1, 2], [1.50, 1.40, 1.60]),
        ("delaney", "rmse", "rf_desc", [0, 1, 2], [0.90, 0.95, 0.92]),
        ("freesolv", "rmse", zoo, [0, 1], [2.5, 2.7]),
    ])
    rows.loc[rows["model"] == hu, "backbone_hash"] = "a GCN's"  # not the zoo GIN's architecture (nor its twin's)
    rows.to_csv(root / PAIRED, index=False)
    for csv in [FEATURES, "benchmarks/results/flagship_legs.csv"] + sorted(
            str(p.relative_to(root)) for p in root.glob("benchmarks/results/features_*.csv")):
        # their rows must keep the paired grid's split ids
        features = pd.read_csv(root / csv)
        features.assign(split_hash=[f"{d}{s}" for d, s in zip(features["dataset"], features["seed"])]).to_csv(
            root / csv, index=False)
    generate(root)
    block = _block(root, "README.md", "headline")
    assert ("| BBBP (ROC-AUC) | 0.710 ± 0.010 | 0.660 ± 0.010 | 0.700 ± 0.000 | **0.720 ± 0.010** | "
            "0.693 ± 0.006 | 0.610 ± 0.010 | 3 |") in block
    assert "| ESOL (RMSE) | 1.150 ± 0.050 | 1.500 ± 0.100 | — | — | — | **0.923 ± 0.025** | partial |" in block
    assert "| FreeSolv (RMSE) | 2.600 ± 0.141 (n=2) | — | — | — | — | — | partial |" in block
    assert "| BACE (ROC-AUC) | — | — | — | — | — | — | not run yet |" in block
    assert ("- zoo GNN `gin_zinc60k_am_desc` loses to chemprop v2 on: BBBP; to RF (RDKit descriptors) on: ESOL (the "
            "95% CI excludes a tie on: ESOL); it does not lose to its scratch twin or RF (ECFP4) on any dataset with "
            "paired rows.") in block
    assert "**Partial:** 1 of 7 datasets have every arm at 3 seeds" in block
    full = _block(root, "benchmarks/RESULTS.md", "paired_moleculenet")
    assert "| ESOL (RMSE) | -23.0% [-41.9, -4.1] (3/0/0) |" in full  # mean over seeds of zoo / twin - 1
    assert "no paired rows yet with its scratch twin" in full  # the Hu arm: its twin was not run
    assert generate(root) == []


def test_features_table_refuses_rows_on_other_split_ids(tmp_path):
    root = _copy(tmp_path)
    features = pd.read_csv(root / FEATURES)
    features.loc[features.index[(features["dataset"] == "bbbp") & (features["seed"] == 0)][0], "split_hash"] = "elsewhere"
    features.to_csv(root / FEATURES, index=False)
    with pytest.raises(ValueError, match="used different split ids in: bbbp seed 0"):
        generate(root, write=False)


def test_features_table_takes_a_datasets_every_arm_from_features_csv_and_states_its_shorter_schedule(tmp_path):
    """HIV is run on a shorter schedule with every arm (forests and chemprop too) into features.csv: its rows join the
    table without hiding the paired grid's forests and chemprop on the other datasets, and the schedule is stated."""
    root = _copy(tmp_path)
    from resultgen import features as block_of_features
    bbbp = block_of_features.joined(root / "benchmarks" / "results").query("dataset == 'bbbp'")
    assert set(bbbp["model"]) == {m for m, _ in block_of_features.ARMS}
    hiv = bbbp.assign(dataset="hiv", split_hash=lambda d: "hiv" + d["seed"].astype(str),
                      max_epochs=bbbp["max_epochs"].where(bbbp["max_epochs"].isna(), 10),
                      patience=bbbp["patience"].where(bbbp["patience"].isna(), 3))
    features = pd.read_csv(root / FEATURES).query("dataset != 'hiv'")  # the committed HIV rows replaced by these
    pd.concat([features, hiv[features.columns]], ignore_index=True).to_csv(root / FEATURES, index=False)
    generate(root)
    block = _block(root, "benchmarks/RESULTS.md", "features")
    rows = {}
    for line in block.splitlines():  # the first table: every arm per dataset
        if line.startswith("| "):
            rows.setdefault(line.split("|")[1].strip(), line)
    assert rows["HIV (ROC-AUC)"].count("—") == 0 and rows["HIV (ROC-AUC)"].rstrip(" |").endswith("3")
    assert rows["BBBP (ROC-AUC)"].count("—") == 0  # the grid's forests and chemprop still fill BBBP
    assert ("; HIV: max 10 epochs, patience 3 for our arms; chemprop 10 epochs." in block
            and "patience 10 for our arms; chemprop 50 epochs" in block)


def test_features_design_ablations_pair_with_the_grid_on_the_same_split_ids(tmp_path):
    root = _copy(tmp_path)
    generate(root)
    block = _block(root, "benchmarks/RESULTS.md", "features")
    assert block.count("Ablation: the grid's arms against the same arms with") == 3
    variant = pd.read_csv(root / VARIANT)
    variant.loc[variant["dataset"] == "bbbp", "split_hash"] = "elsewhere"
    variant.to_csv(root / VARIANT, index=False)
    with pytest.raises(ValueError, match="features_v1_hidden_stdbits.csv and features.csv used different split ids"):
        generate(root, write=False)


def test_flagship_legs_pair_with_the_twin_of_their_architecture(tmp_path):
    """Leg rows (benchmarked with --no-twins) are paired with the paired grid's twin of the same architecture and with
    chemprop, on the same split ids; the cost table comes from each committed leg's provenance."""
    root = _copy(tmp_path)
    grid = pd.read_csv(root / PAIRED)
    twin = grid[(grid["model"] == "scratch:gnn:gin_zinc60k_am_desc") & grid["dataset"].isin(["bbbp", "delaney"])]
    leg = "gnn:benchmarks/checkpoints/flagship_legs/gin_zinc250k_am_desc/30min"
    better = twin["test"] + twin["metric"].map({"roc_auc": 0.05, "rmse": -0.1})  # a leg 0.05 / 0.1 better than the twin
    hu = grid[grid["model"].str.startswith("gnn:") & grid["model"].str.endswith("gcn_supervised_contextpred.pth")
              & grid["dataset"].isin(["bbbp", "delaney"])]
    hu_leg = hu.assign(model="gnn:benchmarks/checkpoints/flagship_legs/gcn_hu_supcp_desc/30min", strategy="full",
                       pretrained_sha256="0" * 64, test=hu["test"] + hu["metric"].map({"roc_auc": 0.02, "rmse": 0.0}))
    pd.concat([twin.assign(model=leg, strategy="full", test=better), hu_leg]).to_csv(
        root / "benchmarks/results/flagship_legs.csv", index=False)
    assert main(["--root", str(root)]) == 0
    block = _block(root, "benchmarks/RESULTS.md", "flagship_legs")
    assert "| gin_zinc250k_am_desc | 30 | attr_masking+descriptors | 4,662 | 596,736 | 30.0 |" in block
    row = next(line for line in block.splitlines() if line.startswith("| gin_zinc250k_am_desc | 30 | 596,736 |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[3].startswith("+0.050") and cells[3].endswith("(3/0/0)")  # ROC-AUC vs the twin: one dataset
    assert cells[4].startswith("-") and cells[4].endswith("(3/0/0)")  # RMSE vs the twin: lower
    assert cells[5] != "—" and cells[6] != "—" and cells[7].startswith("2 (without BACE, ClinTox")  # on 2 datasets
    # the run continued from the Hu et al. GCN, against that parent's arm of the grid and the other run's 30-min leg
    assert "| gcn_hu_supcp_desc 30 min | gcn_supervised_contextpred.pth | BBBP (ROC-AUC) | +0.020" in block
    assert "| gcn_hu_supcp_desc 30 min | gin_zinc250k_am_desc/30min | ESOL (RMSE) |" in block
    figure = root / "benchmarks/results/flagship_gain_vs_budget.png"
    assert "flagship_gain_vs_budget.png" in block and figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_flagship_legs_of_one_run_compare_on_the_datasets_all_its_legs_have(tmp_path):
    """A later leg fine-tuned on fewer datasets narrows its own run's gain table to those (the curve compares like
    with like) and says which it lacks; another run keeps its datasets."""
    root = _copy(tmp_path)
    grid = pd.read_csv(root / PAIRED)
    twin = grid[(grid["model"] == "scratch:gnn:gin_zinc60k_am_desc") & grid["dataset"].isin(["bbbp", "delaney"])]
    legs = "gnn:benchmarks/checkpoints/flagship_legs/gin_zinc250k_am_desc/"
    better = twin["test"] + twin["metric"].map({"roc_auc": 0.05, "rmse": -0.1})
    hu = grid[grid["model"].str.endswith("gcn_supervised_contextpred.pth") & grid["model"].str.startswith("gnn:")
              & grid["dataset"].isin(["bbbp", "delaney"])]
    pd.concat([twin.assign(model=legs + "30min", strategy="full", test=better),
               twin[twin["dataset"] == "bbbp"].assign(model=legs + "60min", strategy="full", test=better),
               hu.assign(model="gnn:benchmarks/checkpoints/flagship_legs/gcn_hu_supcp_desc/30min", strategy="full",
                         pretrained_sha256="0" * 64)]).to_csv(root / "benchmarks/results/flagship_legs.csv",
                                                              index=False)
    assert main(["--root", str(root)]) == 0
    block = _block(root, "benchmarks/RESULTS.md", "flagship_legs")
    rows = {tuple(c.strip() for c in line.strip("|").split("|")[:2]): [c.strip() for c in line.strip("|").split("|")]
            for line in block.splitlines() if line.startswith("| ") and "min" not in line.split("|")[1]}
    for leg in ("30", "60"):  # both GIN legs on BBBP only: no RMSE column, one dataset
        cells = rows[("gin_zinc250k_am_desc", leg)]
        assert cells[3].startswith("+0.050") and cells[4] == "—" and cells[7].startswith("1 (without BACE, ClinTox")
        assert "ESOL" in cells[7] and "BBBP" not in cells[7]
    hu_cells = rows[("gcn_hu_supcp_desc", "30")]
    assert hu_cells[4] != "—" and hu_cells[7].startswith("2 (without ") and "ESOL" not in hu_cells[7]


def test_protein_flagship_pairs_each_pretrained_seqcnn_with_its_twin_and_the_others(tmp_path):
    """FLIP GB1 rows: each pretrained SeqCNN against its scratch twin and against the other pretrained SeqCNNs on the
    same seeds, its pretraining read from its config (here the zoo entry), the published baselines and the goal."""
    from resultgen.protein import CSV, protein_flagship
    results = tmp_path / "benchmarks" / "results"
    results.mkdir(parents=True)
    base = dict(dataset="flip_gb1:three_vs_rest", strategy="full", split="flip", metric="spearman", max_epochs=40,
                patience=10, learning_rate=1e-3, lr_schedule="constant", batch_size=32, selection="best_valid",
                featurizer="ProteinTokenizer:x", split_hash="h", dropout=0.0, valid=0.5)
    arms = [("seqcnn:seqcnn_uniprot_mt", 0.80, "a"), ("scratch:seqcnn:seqcnn_uniprot_mt", 0.78, "a"),
            ("seqcnn:seqcnn_bacteria_mt", 0.70, "b"), ("scratch:seqcnn:seqcnn_bacteria_mt", 0.75, "b"),
            ("ridge", 0.76, "")]
    pd.DataFrame([{**base, "model": m, "seed": seed, "test": v + 0.01 * seed, "backbone_hash": h}
                  for seed in range(3) for m, v, h in arms]).to_csv(results / CSV, index=False)
    text = protein_flagship(results)
    lines = text.splitlines()
    assert [line.split("|")[1].strip() for line in lines if line.startswith("| `")][:5] == [
        "`seqcnn:seqcnn_bacteria_mt`", "`scratch:seqcnn:seqcnn_bacteria_mt`", "`seqcnn:seqcnn_uniprot_mt`",
        "`scratch:seqcnn:seqcnn_uniprot_mt`", "`ridge`"]
    uniprot = next(line for line in lines if line.startswith("| `seqcnn:seqcnn_uniprot_mt` | width 64, depth 4;"))
    assert "**0.810 ± 0.010**" in uniprot and uniprot.endswith("| +0.020 [+0.020, +0.020] (3/0/0) |")
    assert "| `seqcnn:seqcnn_bacteria_mt` | `seqcnn:seqcnn_uniprot_mt` | -0.100 [-0.100, -0.100] (0/0/3) |" in text
    assert "FLIP CNN 0.83" in text and "best pretrained arm here: 0.810 (not met)" in text


def test_flagship_goals_take_the_latest_leg_with_every_dataset_and_say_which_goal_is_met(tmp_path):
    root = _copy(tmp_path)
    grid = pd.read_csv(root / PAIRED)
    twin = grid[grid["model"] == "scratch:gnn:gin_zinc60k_am_desc"]
    shift = twin["metric"].map({"roc_auc": 0.05, "rmse": -0.3})  # better than the twin by the same margin each seed
    legs = "gnn:benchmarks/checkpoints/flagship_legs/gin_zinc250k_am_desc/"
    pd.concat([twin.assign(model=legs + "30min", strategy="full", test=twin["test"] + shift),
               twin[twin["dataset"] == "bbbp"].assign(model=legs + "60min", strategy="full")]).to_csv(
        root / "benchmarks/results/flagship_legs.csv", index=False)
    generate(root, write=True)
    block = _block(root, "benchmarks/RESULTS.md", "flagship_goals")
    assert "**gin_zinc250k_am_desc, leg 30 min** (596,736 molecules seen" in block  # 60 min: BBBP only
    assert "- mean ROC-AUC gain over its scratch twin ≥ +0.03: +0.050 [+0.050, +0.050] (12/0/0), met" in block
    assert "- classification sets with the 95% CI of the gain above 0 ≥ 3: 4 (" in block
    assert re.search(r"- mean RMSE change against its scratch twin ≤ -10%: -\d+\.\d% .*\(9/0/0\), met", block)
    assert "- beats chemprop v2's average: ROC-AUC" in block
    # paired also against the grid's earlier pretrained arms (what a user had before the flagship)
    assert ("| dataset (metric) | vs its scratch twin | vs zoo GNN `gin_zinc60k_am_desc` | vs zoo GNN `gin_zinc60k_desc30` "
            "| vs Hu et al. GCN `gcn_supervised_contextpred` (imported) | vs chemprop v2 |") in block
