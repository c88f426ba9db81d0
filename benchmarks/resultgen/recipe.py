"""The fine-tuning recipe and ensembles (#24): benchmarks/recipe_and_ensemble.py's rows."""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Tuple

import pandas as pd

from deepchem_finetune.benchmark.pairing import paired_rows, paired_summary
from deepchem_finetune.benchmark.protocol import ProtocolMismatch, check_protocols

from resultgen.common import METRICS, gain_cell, label, mean_std, read_csv, source, table

#: protocol fields every arm of a recipe comparison shares (the learning rates and the recipe are what differ)
SHARED = ("max_epochs", "patience", "batch_size", "selection", "featurizer", "backbone_hash", "pretrained_sha256",
          "dropout")

CSV = "recipe_ensemble.csv"
ABLATION_CSV = "recipe_ablation.csv"
COMMAND = ("`python benchmarks/recipe_and_ensemble.py --datasets delaney freesolv bbbp clintox bace_classification lipo "
           "--max-epochs 40 --patience 10 --pretrained gin_zinc60k_desc30 --out benchmarks/out/recipe_ensemble.csv`, "
           "then `cp benchmarks/out/recipe_ensemble.csv benchmarks/results/recipe_ensemble.csv`")
ABLATION_COMMAND = ("`python benchmarks/recipe_and_ensemble.py --ablation --datasets delaney freesolv bbbp clintox "
                    "--max-epochs 40 --patience 10 --pretrained gin_zinc60k_desc30 --reference "
                    "benchmarks/results/recipe_ensemble.csv --out benchmarks/out/recipe_ablation.csv` and the same "
                    "with `--ablation same-lr --datasets bace_classification lipo`, then `cp "
                    "benchmarks/out/recipe_ablation.csv benchmarks/results/recipe_ablation.csv`")


def check_shared_protocol(df: pd.DataFrame) -> None:
    """Refuse rows of one dataset that differ in a :data:`SHARED` field, or cells whose rows were split differently
    (:func:`~deepchem_finetune.benchmark.protocol.check_protocols` over every arm).

    Examples
    --------
    >>> rows = pd.DataFrame({"dataset": "bbbp", "split": "scaffold", "seed": 0, "model": ["recipe:a", "recipe:b"],
    ...                      "split_hash": "h", **{f: 1 for f in SHARED}})
    >>> check_shared_protocol(rows.assign(patience=[10, 20]))
    Traceback (most recent call last):
    ...
    deepchem_finetune.benchmark.protocol.ProtocolMismatch: recipe rows made under different protocols: bbbp: trained arms differ in patience: 10 (recipe:a), 20 (recipe:b)
    """
    problems = check_protocols(df, fields=SHARED, every_arm=True)
    if problems:
        raise ProtocolMismatch("recipe rows made under different protocols: " + "; ".join(problems))


def _gains(df: pd.DataFrame, comparisons: List[Tuple[str, str]]) -> Dict[Tuple[str, str], pd.DataFrame]:
    """``(arm, reference) -> paired_summary`` (per dataset and the per-metric averages) where they share cells."""
    gains = {}
    for arm, ref in comparisons:
        pairs = paired_rows(df, arm, ref)
        if len(pairs):
            gains[(arm, ref)] = paired_summary(pairs)
    return gains


def _gain(gains, key, dataset: str, metric: str) -> str:
    s = gains[key]
    hit = s[(s["dataset"] == dataset) & (s["metric"] == metric)]
    return gain_cell(hit.iloc[0]) if len(hit) else "—"


def _average_rows(gains, width: int, keys: List[Tuple[str, str]]) -> List[List[str]]:
    """One row per metric with the paired averages over datasets of each comparison of ``keys`` ("—" where it has
    none; the arms' own ``width`` columns left empty)."""
    labels = sorted({(r.dataset, r.metric) for s in gains.values() for r in s.itertuples()
                     if r.dataset.startswith("average")}, key=lambda x: x[1])
    return [[f"{d} ({METRICS.get(m, m)})"] + [""] * width
            + [_gain(gains, k, d, m) if k in gains else "—" for k in keys] for d, m in labels]


def recipe_ensemble(results_dir: Path) -> str:
    """RESULTS.md: per dataset the constant recipe, the stable recipe and the ensemble (mean ± std over seeds), the
    paired differences (and their averages over datasets), and how well the ensemble's spread ranks its errors."""
    df = read_csv(results_dir, CSV).assign(strategy="-")
    check_shared_protocol(df)
    ensemble = sorted(m for m in df["model"].unique() if m.startswith("ensemble"))
    recipe = sorted(m for m in df["model"].unique() if m.startswith("recipe:") and m != "recipe:constant")
    arms = ["recipe:constant"] + recipe + ensemble
    gains = _gains(df, [(r, "recipe:constant") for r in recipe] + [(e, r) for e in ensemble for r in recipe])
    body = []
    for (dataset, metric), g in df.groupby(["dataset", "metric"], sort=False):
        cells = [mean_std(g[g["model"] == m]["test"]) + f" (n={int((g['model'] == m).sum())})" for m in arms]
        rho = g[g["model"].isin(ensemble)]["spearman_abs_error_std"] if "spearman_abs_error_std" in g else []
        body.append([label(dataset, metric)] + cells + [_gain(gains, k, dataset, metric) for k in gains]
                    + [mean_std(rho)])
    body += [row + [""] for row in _average_rows(gains, len(arms), list(gains))]
    header = (["dataset (metric)"] + arms + [f"{a} vs {r}" for a, r in gains]
              + ["ensemble Spearman(|error|, std)"])
    lines = table(header, body)
    return "\n".join(lines + ["", source([CSV], len(df), COMMAND)]) + "\n"


def recipe_ablation(results_dir: Path) -> str:
    """RESULTS.md: the recipe with one component removed at a time, against the whole recipe and against the constant
    learning rate on the same cells (their rows from the recipe benchmark): one row per arm and dataset, mean ± std over
    seeds and the paired changes, then the averages over datasets."""
    ablated = read_csv(results_dir, ABLATION_CSV)
    ref = read_csv(results_dir, CSV)
    arms = sorted(ablated["model"].unique())
    wholes = sorted({a.partition("-")[0] for a in arms})
    ref = ref[ref["model"].isin(wholes + ["recipe:constant"]) & ref["dataset"].isin(ablated["dataset"])]
    df = pd.concat([ablated, ref], ignore_index=True)
    df = df.assign(strategy="-")
    check_shared_protocol(df)
    body = []
    for arm in wholes + arms:
        keys = [(arm, arm.partition("-")[0]), (arm, "recipe:constant")]  # the whole recipe's first key is itself
        gains = _gains(df, [k for k in keys if k[0] != k[1]])
        for (dataset, metric), g in ablated.groupby(["dataset", "metric"], sort=False):
            rows = df[(df["dataset"] == dataset) & (df["model"] == arm)]["test"]
            if rows.empty:
                continue
            cells = ["" if a == r else _gain(gains, (a, r), dataset, metric) if (a, r) in gains else "—"
                     for a, r in keys]
            body.append([arm, label(dataset, metric), f"{mean_std(rows)} (n={len(rows)})"] + cells)
        for row in _average_rows(gains, 0, keys):
            body.append([arm, row[0], ""] + ["" if a == r else c for (a, r), c in zip(keys, row[1:])])
    header = ["arm", "dataset (metric)", "test", "vs the whole recipe", "vs recipe:constant"]
    lines = table(header, body)
    return "\n".join(lines + ["", source([ABLATION_CSV, CSV], len(df), ABLATION_COMMAND)]) + "\n"
