"""The pretraining budget of benchmarked backbones (read from their provenance by
:func:`deepchem_finetune.hub.budget.pretraining_budget`) and the fine-tuning gain per unit of budget.
"""
from __future__ import annotations

import json
import os
from typing import Dict, List, Optional, Tuple

import pandas as pd

from deepchem_finetune.hub.budget import minutes_text, pretraining_budget


def objective_label(objective: Dict) -> str:
    """``attr_masking+descriptors`` style name of a pretrained backbone's objective spec.

    Examples
    --------
    >>> objective_label({"name": "multi", "config": {"parts": [{"name": "attr_masking"}, {"name": "descriptors"}]}})
    'attr_masking+descriptors'
    """
    parts = (objective.get("config") or {}).get("parts")
    if parts:
        return "+".join(p["name"] for p in parts)
    return str(objective.get("name", "?"))


def pretrained_budgets(models: List[str]) -> Tuple[pd.DataFrame, List[str]]:
    """Budget and objective of each pretrained benchmark model (``gnn:<source>``, ``seqcnn:<source>``).

    Returns
    -------
    (pd.DataFrame, list of str)
        One row per readable model (``model, objective, minutes, minutes_exact, molecules_seen, steps, runs``),
        and one line per model whose pretrained backbone could not be read or has no recorded time (never dropped silently).

    Examples
    --------
    >>> budgets, unknown = pretrained_budgets(["gnn:no/such/pretrained"])
    >>> len(budgets), unknown[0].split(":")[:2]
    (0, ['gnn', 'no/such/pretrained'])
    """
    from deepchem_finetune.hub.format import CONFIG_FILE
    from deepchem_finetune.hub import resolve_source
    rows, unknown = [], []
    for model in models:
        try:  # the config alone: no weights read, no .pth imported
            with open(os.path.join(resolve_source(model.split(":", 1)[1]), CONFIG_FILE)) as fh:
                config = json.load(fh)
        except (OSError, ValueError) as err:  # a pretrained folder from another machine, a .pth file, ...
            unknown.append(f"{model}: pretrained backbone not readable here ({type(err).__name__}: {err})")
            continue
        budget = pretraining_budget(config.get("provenance", {}))
        if budget["minutes"] is None:
            unknown.append(f"{model}: its provenance records no training time")
            continue
        rows.append({"model": model, "objective": objective_label(config["objective"]), **budget})
    return pd.DataFrame(rows), unknown


def gain_vs_budget(table: pd.DataFrame, budgets: pd.DataFrame) -> pd.DataFrame:
    """Average gain over scratch of each budgeted model, on the datasets every budgeted model was run on.

    Parameters
    ----------
    table: pd.DataFrame
        :func:`deepchem_finetune.benchmark.report.summary_table` output.
    budgets: pd.DataFrame
        :func:`pretrained_budgets` output.

    Returns
    -------
    pd.DataFrame
        One row per (model, strategy, split): the budget columns, ``roc_auc_gain`` (mean ROC-AUC gain),
        ``rmse_change_pct`` (mean relative RMSE change, negative = better), and the dataset counts. Empty when no
        budgeted model has a scratch row to compare with.

    Examples
    --------
    >>> curve = gain_vs_budget(summary_table(df), pretrained_budgets(models)[0])  # doctest: +SKIP
    """
    from deepchem_finetune.benchmark.pairing import rmse_change_pct
    if budgets.empty:
        return pd.DataFrame()
    pre = table[table["model"].isin(budgets["model"]) & table["gain_vs_scratch"].notna()]
    rows = []
    for (split, strategy), g in pre.groupby(["split", "strategy"]):
        common = set.intersection(*(set(s["dataset"]) for _, s in g.groupby("model")))
        for model, s in g[g["dataset"].isin(common)].groupby("model"):
            cls, reg = s[s["metric"] == "roc_auc"], s[s["metric"] == "rmse"]
            rows.append({**budgets[budgets["model"] == model].iloc[0].to_dict(), "strategy": strategy,
                         "split": split,
                         "roc_auc_gain": cls["gain_vs_scratch"].mean() if len(cls) else float("nan"),
                         "n_classification": len(cls),
                         "rmse_change_pct": rmse_change_pct(reg) if len(reg) else float("nan"),
                         "n_regression": len(reg)})
    if not rows:  # e.g. one pretrained model benchmarked alone
        return pd.DataFrame()
    return pd.DataFrame(rows).sort_values(["split", "strategy", "objective", "minutes"]).reset_index(drop=True)


def budget_markdown(curve: pd.DataFrame, unknown: Optional[List[str]] = None) -> str:
    """Markdown table of :func:`gain_vs_budget` (and the models left out, with the reason).

    Examples
    --------
    >>> print(budget_markdown(curve, unknown))  # doctest: +SKIP
    """
    lines = ["| model | objective | pretraining min | molecules seen | strategy | split | ROC-AUC gain (n) | "
             "RMSE change (n) |", "|---|---|---|---|---|---|---|---|"]
    for r in curve.itertuples():
        minutes = minutes_text(r._asdict())
        auc = "" if pd.isna(r.roc_auc_gain) else f"{r.roc_auc_gain:+.3f} ({r.n_classification})"
        rmse = "" if pd.isna(r.rmse_change_pct) else f"{r.rmse_change_pct:+.1f}% ({r.n_regression})"
        lines.append(f"| {r.model} | {r.objective} | {minutes} | {r.molecules_seen} | {r.strategy} | {r.split} | "
                     f"{auc} | {rmse} |")
    text = "\n".join(lines) + "\n"
    if unknown:
        text += "\nNo budget for: " + "; ".join(unknown) + "\n"
    return text


def plot_gain_vs_budget(curve: pd.DataFrame, path: str) -> None:
    """Two panels: mean ROC-AUC gain and mean RMSE change vs pretraining minutes, one line per objective.

    Examples
    --------
    >>> plot_gain_vs_budget(curve, "gain_vs_budget.png")  # doctest: +SKIP
    """
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
    for ax, column, label in ((axes[0], "roc_auc_gain", "mean ROC-AUC gain vs scratch"),
                              (axes[1], "rmse_change_pct", "mean RMSE change vs scratch (%)")):
        for (objective, strategy, split), g in curve.groupby(["objective", "strategy", "split"]):
            g = g.dropna(subset=[column]).sort_values("minutes")
            if len(g):
                ax.plot(g["minutes"], g[column], marker="o", label=f"{objective} ({strategy}, {split})")
        ax.axhline(0, color="grey", lw=0.8)
        ax.set_xlabel("pretraining min (training time x data-parallel processes)")
        ax.set_ylabel(label)
    axes[0].legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
