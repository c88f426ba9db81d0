"""The fine-tuning recipe and ensembles (#24): benchmarks/recipe_and_ensemble.py's rows."""
from __future__ import annotations

from pathlib import Path

from deepchem_finetune.benchmark.pairing import paired_rows, paired_summary

from resultgen.common import gain_cell, label, mean_std, read_csv, source, table

CSV = "recipe_ensemble.csv"
COMMAND = ("`python benchmarks/recipe_and_ensemble.py --datasets delaney freesolv bbbp clintox bace_classification lipo "
           "--max-epochs 40 --patience 10 --out benchmarks/out/recipe_ensemble.csv`, then `cp "
           "benchmarks/out/recipe_ensemble.csv benchmarks/results/recipe_ensemble.csv`")


def recipe_ensemble(results_dir: Path) -> str:
    """RESULTS.md: per dataset the constant recipe, the stable recipe and the ensemble (mean ± std over seeds), the
    paired differences, and how well the ensemble's spread ranks its errors."""
    df = read_csv(results_dir, CSV).assign(strategy="-")
    ensemble = sorted(m for m in df["model"].unique() if m.startswith("ensemble"))
    recipe = sorted(m for m in df["model"].unique() if m.startswith("recipe:") and m != "recipe:constant")
    arms = ["recipe:constant"] + recipe + ensemble
    gains = {}
    for arm, ref in [(r, "recipe:constant") for r in recipe] + [(e, r) for e in ensemble for r in recipe]:
        pairs = paired_rows(df, arm, ref)
        if len(pairs):
            gains[(arm, ref)] = paired_summary(pairs)
    body = []
    for (dataset, metric), g in df.groupby(["dataset", "metric"], sort=False):
        cells = [mean_std(g[g["model"] == m]["test"]) + f" (n={int((g['model'] == m).sum())})" for m in arms]
        paired = []
        for key, s in gains.items():
            hit = s[(s["dataset"] == dataset) & (s["metric"] == metric)]
            paired.append(gain_cell(hit.iloc[0]) if len(hit) else "—")
        rho = g[g["model"].isin(ensemble)]["spearman_abs_error_std"] if "spearman_abs_error_std" in g else []
        body.append([label(dataset, metric)] + cells + paired + [mean_std(rho)])
    header = (["dataset (metric)"] + arms + [f"{a} vs {r}" for a, r in gains]
              + ["ensemble Spearman(|error|, std)"])
    lines = table(header, body)
    return "\n".join(lines + ["", source([CSV], len(df), COMMAND)]) + "\n"
