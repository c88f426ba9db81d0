"""Markdown summary (mean +/- std, gain over scratch) and a bar chart with published references."""
from __future__ import annotations

import os

import pandas as pd

from deepchem_finetune.benchmark.references import references_for


def summary_table(df: pd.DataFrame) -> pd.DataFrame:
    """One row per (dataset, metric, model, strategy, split): mean, std, n and the gain of a pretrained model
    (``gnn:<source>``, ``seqcnn:<source>``) over the same family from scratch (``gnn``, ``seqcnn``)."""
    g = df.groupby(["dataset", "metric", "model", "strategy", "split"])["test"]
    table = g.agg(["mean", "std", "count"]).reset_index()
    scratch = table[~table["model"].str.contains(":")].set_index(["dataset", "split", "model"])["mean"]
    gains = []
    for r in table.itertuples():
        base = r.model.split(":", 1)[0]
        ref = scratch.get((r.dataset, r.split, base), float("nan")) if ":" in r.model else float("nan")
        gains.append((r.mean - ref) * (-1 if r.metric == "rmse" else 1))
    table["gain_vs_scratch"] = gains
    return table


def rmse_change_pct(rows: pd.DataFrame) -> float:
    """Mean relative RMSE change vs scratch, in percent (negative = better), of :func:`summary_table` rows.

    Examples
    --------
    >>> round(rmse_change_pct(pd.DataFrame({"mean": [0.9], "gain_vs_scratch": [0.1]})), 6)
    -10.0
    """
    return float((100 * (rows["mean"] / (rows["mean"] + rows["gain_vs_scratch"]) - 1)).mean())


def write_report(df: pd.DataFrame, out_dir: str) -> None:
    """Write ``summary.md`` and ``summary.png`` under ``out_dir``."""
    table = summary_table(df)
    lines = ["| dataset | metric | model | strategy | split | test mean ± std | n | gain vs scratch |",
             "|---|---|---|---|---|---|---|---|"]
    for r in table.itertuples():
        std = "" if pd.isna(r.std) else f" ± {r.std:.3f}"
        gain = "" if pd.isna(r.gain_vs_scratch) else f"{r.gain_vs_scratch:+.3f}"
        lines.append(f"| {r.dataset} | {r.metric} | {r.model} | {r.strategy} | {r.split} | {r.mean:.3f}{std} | "
                     f"{r.count} | {gain} |")
    averages = []
    pre = table[table["gain_vs_scratch"].notna()]
    for (model, strategy, split, metric), g in pre.groupby(["model", "strategy", "split", "metric"]):
        rel = ""
        if metric == "rmse":  # relative RMSE change, the usual way to average regression gains across datasets
            rel = f" (RMSE {rmse_change_pct(g):+.1f}% vs scratch on average)"
        averages.append(f"- {model} / {strategy} / {split}, {metric}: average gain {g['gain_vs_scratch'].mean():+.3f} "
                        f"over {len(g)} dataset(s){rel}")
    anchors = []
    for (d, metric) in table[["dataset", "metric"]].drop_duplicates().itertuples(index=False):
        refs = references_for(d, metric)
        if refs:
            anchors.append(f"- {d} ({metric}): " + ", ".join(f"{n} {v:.3f}" for n, v in refs))
    with open(os.path.join(out_dir, "summary.md"), "w") as fh:
        fh.write("\n".join(lines) + "\n\nTest score at the best-validation epoch; gain is in the metric's "
                 "units (positive = better).\n")
        if averages:
            fh.write("\nAverage gain of each pretrained model over the same family from scratch:\n\n"
                     + "\n".join(averages) + "\n")
        if anchors:
            fh.write("\nPublished anchors (other splits and protocols; see "
                     "`deepchem_finetune/benchmark/references.py` for sources):\n\n" + "\n".join(anchors) + "\n")
        curve = _budget_section(table, out_dir)
        if curve:
            fh.write(curve)
    _plot(table, os.path.join(out_dir, "summary.png"))


def _budget_section(table: pd.DataFrame, out_dir: str) -> str:
    """Gain vs pretraining budget (from each pretrained backbone's provenance) and ``gain_vs_budget.png``; '' if none."""
    from deepchem_finetune.benchmark.budget import (budget_markdown, pretrained_budgets, gain_vs_budget,
                                                    plot_gain_vs_budget)
    models = sorted(m for m in table["model"].unique() if ":" in m)
    if not models:
        return ""
    budgets, unknown = pretrained_budgets(models)
    curve = gain_vs_budget(table, budgets)
    if curve.empty:
        return ""
    plot_gain_vs_budget(curve, os.path.join(out_dir, "gain_vs_budget.png"))
    return ("\nGain vs pretraining budget (read from each pretrained backbone's provenance; averaged over the datasets "
            "that every budgeted model was run on; plot: `gain_vs_budget.png`):\n\n" + budget_markdown(curve, unknown))


def _plot(table: pd.DataFrame, path: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    datasets = sorted(table["dataset"].unique())
    fig, axes = plt.subplots(1, len(datasets), figsize=(4 * len(datasets), 3.5), squeeze=False)
    for ax, d in zip(axes[0], datasets):
        sub = table[table["dataset"] == d]
        labels = [f"{m}\n{s}" if s != "-" else m for m, s in zip(sub["model"], sub["strategy"])]
        values, errors = list(sub["mean"]), list(sub["std"].fillna(0))
        colors = ["C0"] * len(values)
        metric = sub["metric"].iloc[0]
        for name, value in references_for(d, metric):  # published numbers, grey
            labels.append(name.replace(" ", "\n", 1))
            values.append(value)
            errors.append(0)
            colors.append("C7")
        ax.bar(range(len(values)), values, yerr=errors, color=colors)
        ax.set_xticks(range(len(values)), labels, fontsize=6, rotation=45, ha="right")
        ax.set_title(f"{d} ({sub['metric'].iloc[0]})")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
