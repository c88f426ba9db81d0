"""The published Hu et al. (2020) GCN weights fine-tuned with their protocol (#5), from ``hu2020_gcn.csv`` (one row
per dataset, weights and seed) and the per-epoch curves of ``hu2020_curves/``."""
from __future__ import annotations

from pathlib import Path
from typing import List

import pandas as pd

from deepchem_finetune.benchmark.pairing import paired_rows, paired_summary
from deepchem_finetune.benchmark.references import references_for

from resultgen.common import (ResultsError, anchor_lines, best_index, bold, dataset_name, gain_cell, mean_std,
                              ordered, read_csv, source, table)

CSV = "hu2020_gcn.csv"
CURVES = "hu2020_curves"
COMMAND = ("`python benchmarks/hu2020_finetune.py --datasets DATASET --weights scratch gcn_contextpred "
           "gcn_supervised_contextpred --seeds SEEDS --epochs 100 --threads 1 --out benchmarks/out/...` (one process "
           "per dataset, or per weights and seed, over several sessions, as listed in the #5 section of "
           "`benchmarks/RESULTS.md`; their rows appended to the CSV)")
DATASETS = ["bbbp", "bace", "clintox", "tox21", "hiv"]
WEIGHTS = {"scratch": "GCN from scratch", "gcn_contextpred": "`gcn_contextpred`",
           "gcn_supervised_contextpred": "`gcn_supervised_contextpred`"}
SEEDS = (0, 1, 2)
#: dataset names of references.py
REFERENCE_NAME = {"bace": "bace_classification"}


def load(results_dir: Path) -> pd.DataFrame:
    """The rows, checked to share one protocol (split, number of epochs)."""
    df = read_csv(results_dir, CSV)
    for col in ("split", "epochs"):
        if df[col].nunique() > 1:
            raise ResultsError(f"{CSV}: rows of different {col} ({sorted(df[col].astype(str).unique())}) would be "
                               f"mixed in one table")
    return df


def as_benchmark_rows(df: pd.DataFrame, column: str) -> pd.DataFrame:
    """Rows in the benchmark's shape (model = weights, test = ``column`` x 100) for the pairing functions."""
    return df.assign(model=df["weights"], strategy="-", metric="roc_auc", test=100 * df[column])


def main_table(df: pd.DataFrame) -> List[str]:
    epochs = int(df["epochs"].iloc[0])
    rows = []
    for dataset in ordered(df["dataset"], DATASETS):
        sub = df[df["dataset"] == dataset]
        weights = ordered(sub["weights"], list(WEIGHTS))
        groups = [sub[sub["weights"] == w].sort_values("seed") for w in weights]
        best = {c: best_index([g[c].mean() for g in groups], "roc_auc") for c in ("test_at_best_valid", "test_last")}
        for i, (w, g) in enumerate(zip(weights, groups)):
            cells = {c: mean_std(g[c], 1, 100) for c in best}
            cells = {c: bold(v) if i in best[c] else v for c, v in cells.items()}
            minutes = g["seconds"] / 60
            rows.append([dataset_name(dataset), WEIGHTS.get(w, w), cells["test_at_best_valid"],
                         ", ".join(str(int(e)) for e in g["best_epoch"]), cells["test_last"], len(g),
                         span(minutes)])
    return table(["dataset", "weights", "test at best valid (x100)", "best epochs", f"test after epoch {epochs} (x100)",
                  "n", "minutes a run"], rows)


def gains(df: pd.DataFrame, column: str, weights: str) -> pd.DataFrame:
    """Paired gain (x100 points) of ``weights`` over scratch per dataset, on ``column``."""
    return paired_summary(paired_rows(as_benchmark_rows(df, column), weights, "scratch"))


def gain_table(df: pd.DataFrame) -> List[str]:
    epochs = int(df["epochs"].iloc[0])
    pretrained = [w for w in ordered(df["weights"], list(WEIGHTS)) if w != "scratch"]
    columns = [(w, c) for w in pretrained for c in ("test_at_best_valid", "test_last")]
    summaries = {key: gains(df, key[1], key[0]) for key in columns}
    rows = []
    for dataset in ordered(df["dataset"], DATASETS):
        cells = []
        for key in columns:
            s = summaries[key]
            hit = s[s["dataset"] == dataset]
            cells.append(gain_cell(hit.iloc[0], 1) if len(hit) else "—")
        rows.append([dataset_name(dataset)] + cells)
    header = [f"{WEIGHTS[w]} − scratch, {'at best valid' if c == 'test_at_best_valid' else f'after epoch {epochs}'}"
              for w, c in columns]
    return table(["dataset"] + header, rows)


def anchors(df: pd.DataFrame) -> List[str]:
    """Hu et al.'s GIN numbers (their Table 1) from references.py, x100."""
    def hu(dataset):
        refs = references_for(REFERENCE_NAME.get(dataset, dataset), "roc_auc")
        return [(n.replace("Hu2020 ", ""), v) for n, v in refs if n.startswith("Hu2020")]
    return anchor_lines(((dataset_name(d), hu(d)) for d in ordered(df["dataset"], DATASETS)), 100, 1)


def hu2020(results_dir: Path) -> str:
    """RESULTS.md: every dataset x weights, the paired gains over scratch, Hu et al.'s GIN anchors."""
    df = load(results_dir)
    lines = main_table(df)
    lines += ["", "Paired gain over the same GCN from scratch (same split and seed), ROC-AUC points (x100), 95% "
              "t-interval over seeds, (wins/ties/losses):", ""] + gain_table(df)
    lines += ["", "Published anchors: Hu et al.'s **GIN** (not GCN) numbers of their Table 1, x100, from "
              "`deepchem_finetune/benchmark/references.py` (no stored source gives their per-dataset GCN numbers):",
              ""] + anchors(df)
    return "\n".join(lines + ["", source([CSV], len(df), COMMAND)])


def epoch_seconds(results_dir: Path, dataset: str, weights: str, seed: int) -> str:
    """``min-max`` seconds an epoch from a run's committed curve, ``—`` without one."""
    path = Path(results_dir) / CURVES / f"{dataset}_{weights}_s{seed}.csv"
    if not path.is_file():
        return "—"
    return span(pd.read_csv(path)["seconds"])


def span(values: pd.Series) -> str:
    """``7-17`` (or ``8`` when all round alike)."""
    low, high = f"{values.min():.0f}", f"{values.max():.0f}"
    return low if low == high else f"{low}-{high}"


def hu2020_hiv_runs(results_dir: Path) -> str:
    """RESULTS.md: the HIV runs one by one, with their cost, and the runs not finished yet."""
    df = load(results_dir)
    hiv = df[df["dataset"] == "hiv"]
    rows = []
    for w in ordered(hiv["weights"], list(WEIGHTS)):
        for r in hiv[hiv["weights"] == w].sort_values("seed").itertuples():
            rows.append([WEIGHTS.get(w, w), r.seed, f"{100 * r.test_at_best_valid:.1f}", r.best_epoch,
                         f"{100 * r.test_last:.1f}", f"{r.seconds / 3600:.1f}",
                         epoch_seconds(results_dir, "hiv", w, r.seed)])
    done = set(zip(hiv["weights"], hiv["seed"]))
    missing = [f"{WEIGHTS[w]} seed {s}" for w in WEIGHTS for s in SEEDS if (w, s) not in done]
    epochs = int(df["epochs"].iloc[0])
    lines = table(["weights", "seed", "test at best valid (x100)", "best epoch", f"test after epoch {epochs} (x100)",
                   "hours (one core)", "seconds an epoch"], rows)
    lines += ["", f"Finished: {len(done)} of {len(WEIGHTS) * len(SEEDS)} runs."
              + (f" Not finished yet: {', '.join(missing)}." if missing else "")]
    return "\n".join(lines + ["", source([CSV, CURVES + "/hiv_*.csv"], len(hiv), COMMAND.replace(
        "--datasets DATASET", "--datasets hiv").replace("--seeds SEEDS", "--seeds S --time-budget MINUTES"))])


def readme_hu2020(results_dir: Path) -> str:
    """README: test ROC-AUC of each weights per dataset and the gain of the supervised + ContextPred weights."""
    df = load(results_dir)
    weights = ordered(df["weights"], list(WEIGHTS))
    best = gains(df, "test_at_best_valid", "gcn_supervised_contextpred")
    rows = []
    for dataset in ordered(df["dataset"], DATASETS):
        sub = df[df["dataset"] == dataset]
        cells = [mean_std(sub[sub["weights"] == w]["test_at_best_valid"], 1, 100) for w in weights]
        n = [int((sub["weights"] == w).sum()) for w in weights]
        cells = [c if k == len(SEEDS) else f"{c} (n={k})" for c, k in zip(cells, n)]
        hit = best[best["dataset"] == dataset]
        rows.append([dataset_name(dataset)] + cells + [gain_cell(hit.iloc[0], 1) if len(hit) else "—"])
    lines = table(["dataset"] + [WEIGHTS[w] for w in weights]
                  + ["gain of `gcn_supervised_contextpred`, points [95% CI] (W/T/L)"], rows)
    lines += ["", f"Test ROC-AUC x100 at the best-validation epoch, mean ± std over seeds 0-2 (n where fewer), their "
              f"scaffold split and {int(df['epochs'].iloc[0])}-epoch protocol; the gain is paired by seed, with "
              f"wins/ties/losses over seeds."]
    return "\n".join(lines + ["", source([CSV], len(df), COMMAND)])
