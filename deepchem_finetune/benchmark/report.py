"""The benchmark report: the protocol check, every arm's mean +/- std, paired gains with confidence intervals
(pretrained arm vs its scratch twin, and vs each peer), molecule-level leakage and a bar chart with published
references. Gains are always paired by (dataset, split, seed) (:mod:`deepchem_finetune.benchmark.pairing`).
"""
from __future__ import annotations

import os
from typing import List, Optional, Tuple

import numpy as np
import pandas as pd

from deepchem_finetune.benchmark.pairing import format_summary, paired_rows, paired_summary, rmse_change_pct  # noqa: F401
from deepchem_finetune.benchmark.protocol import ProtocolMismatch, check_protocols, protocol_label
from deepchem_finetune.benchmark.references import references_for

PEER_ARMS = ("chemprop", "rf", "rf_desc")


def reference_arm(model: str, models, df: Optional[pd.DataFrame] = None) -> Optional[str]:
    """What a pretrained arm is compared with: its scratch twin if present; else (given the rows ``df``) a twin of
    the same backbone architecture and inputs (stamped ``backbone_hash`` and ``featurizer``: arms that share both
    share one twin, see ``runner.with_twins``); else its family from scratch.

    Examples
    --------
    >>> reference_arm("gnn:zoo", ["gnn", "gnn:zoo", "scratch:gnn:zoo"]), reference_arm("gnn:zoo", ["gnn", "gnn:zoo"])
    ('scratch:gnn:zoo', 'gnn')
    >>> rows = pd.DataFrame({"model": ["gnn:a", "scratch:gnn:a", "gnn:b"], "backbone_hash": ["h", "h", "h"],
    ...                      "featurizer": ["f", "f", "f"]})
    >>> reference_arm("gnn:b", set(rows["model"]), rows)
    'scratch:gnn:a'
    """
    if ":" not in model or model.startswith("scratch:"):
        return None
    models = set(models)
    twin = "scratch:" + model
    if twin in models:
        return twin
    shared = _twin_of_same_architecture(model, df)
    if shared is not None:
        return shared
    family = model.split(":", 1)[0]
    return family if family in models else None


#: stamped columns a shared twin must agree on with the arm (the protocol label too, when rows were merged mixed)
_TWIN_MATCH = ("backbone_hash", "featurizer", "dropout", "protocol")


def _twin_of_same_architecture(model: str, df: Optional[pd.DataFrame]) -> Optional[str]:
    """The twin (``scratch:`` rows) of the same family and features, stamped architecture, inputs and dropout (and
    protocol label, if any) as ``model``'s rows; None when there is none or the rows carry no such stamp."""
    if df is None or not {"backbone_hash", "featurizer"} <= set(df.columns):
        return None
    cols = [c for c in _TWIN_MATCH if c in df.columns]
    stamped = df.dropna(subset=["backbone_hash", "featurizer"])
    stamped = stamped[(stamped["backbone_hash"].astype(str) != "") & (stamped["featurizer"].astype(str) != "")]
    keys = {tuple(map(str, k)) for k in stamped.loc[stamped["model"] == model, cols].itertuples(index=False)}
    kind = model.split(":", 1)[0]  # family and molecule features, e.g. gnn+ecfp4
    twins = stamped[stamped["model"].str.startswith(f"scratch:{kind}:")]
    found = sorted({t for t, k in zip(twins["model"], twins[cols].astype(str).itertuples(index=False))
                    if tuple(k) in keys})
    return found[0] if found else None


def comparisons(df: pd.DataFrame) -> List[Tuple[str, str, str]]:
    """``(arm, strategy, reference)`` for every pretrained arm and strategy that has a reference arm."""
    out = []
    models = set(df["model"])
    for (model, strategy), _ in df.groupby(["model", "strategy"], sort=True):
        ref = reference_arm(model, models, df)
        if ref is not None:
            out.append((model, strategy, ref))
    return out


def summary_table(df: pd.DataFrame) -> pd.DataFrame:
    """One row per (dataset, metric, model, strategy, split): mean, std, n, and for a pretrained arm the mean
    paired gain over its reference arm (``gain_vs_scratch``; positive = better, NaN without a reference)."""
    g = df.groupby(["dataset", "metric", "model", "strategy", "split"])["test"]
    table = g.agg(["mean", "std", "count"]).reset_index()
    gains = {}
    for arm, strategy, ref in comparisons(df):
        pairs = paired_rows(df, arm, ref, arm_strategy=strategy)
        for (dataset, split), p in pairs.groupby(["dataset", "split"]):
            gains[(dataset, arm, strategy, split)] = p["diff"].mean()
    table["gain_vs_scratch"] = [gains.get((r.dataset, r.model, r.strategy, r.split), float("nan"))
                                for r in table.itertuples()]
    return table


def checked_rows(df: pd.DataFrame, allow_mixed: bool = False) -> Tuple[pd.DataFrame, List[str]]:
    """``df`` after the protocol check: raises :class:`ProtocolMismatch` naming the fields unless ``allow_mixed``,
    in which case rows get a ``protocol`` label and the problems are returned to be printed."""
    problems = check_protocols(df)
    if problems and not allow_mixed:
        raise ProtocolMismatch("refusing to merge rows made under different protocols (pass --allow-mixed to merge "
                               "them anyway, labelled):\n  " + "\n  ".join(problems))
    if problems:
        df = df.assign(protocol=protocol_label(df))
    return df, problems


def markdown(df: pd.DataFrame, problems: Optional[List[str]] = None) -> str:
    """The report as markdown (without the budget section)."""
    table = summary_table(df)
    mixed = "protocol" in df.columns
    lines = ["| dataset | metric | model | strategy | split | test mean ± std | n | paired gain vs scratch |",
             "|---|---|---|---|---|---|---|---|"]
    for r in table.itertuples():
        std = "" if pd.isna(r.std) else f" ± {r.std:.3f}"
        gain = "" if pd.isna(r.gain_vs_scratch) else f"{r.gain_vs_scratch:+.3f}"
        lines.append(f"| {r.dataset} | {r.metric} | {r.model} | {r.strategy} | {r.split} | {r.mean:.3f}{std} | "
                     f"{r.count} | {gain} |")
    text = "\n".join(lines) + ("\n\nTest score at the selected epoch (best validation for our arms); paired gain = mean "
                               "over seeds of (arm - reference) on the same split and seed, positive = better.\n")
    if problems:
        text += "\n**Mixed protocols** (merged with --allow-mixed; rows labelled in column `protocol`):\n\n" + \
            "\n".join(f"- {p}" for p in problems) + "\n"
    for arm, strategy, ref in comparisons(df):
        pairs = paired_rows(df, arm, ref, arm_strategy=strategy)
        if len(pairs):
            text += f"\n### {arm} ({strategy}) vs {ref}\n\n" + "\n".join(format_summary(paired_summary(pairs))) + "\n"
    text += _peer_section(df)
    text += _leakage_section(df)
    anchors = []
    for (d, metric) in table[["dataset", "metric"]].drop_duplicates().itertuples(index=False):
        refs = references_for(d, metric)
        if refs:
            anchors.append(f"- {d} ({metric}): " + ", ".join(f"{n} {v:.3f}" for n, v in refs))
    if anchors:
        text += ("\nPublished anchors (other splits and protocols; see "
                 "`deepchem_finetune/benchmark/references.py` for sources):\n\n" + "\n".join(anchors) + "\n")
    if mixed:
        text += "\nProtocols: " + ", ".join(sorted(df["protocol"].unique())) + "\n"
    return text


def _peer_section(df: pd.DataFrame) -> str:
    """Each pretrained arm paired with each peer arm present (where we lose shows as a negative difference)."""
    peers = [p for p in PEER_ARMS if p in set(df["model"])]
    arms = [(a, s) for a, s, _ in comparisons(df)]
    if not peers or not arms:
        return ""
    text = "\n### Pretrained arms vs peers (paired on the same split ids)\n"
    for arm, strategy in arms:
        for peer in peers:
            pairs = paired_rows(df, arm, peer, arm_strategy=strategy)
            if len(pairs):
                text += f"\n{arm} ({strategy}) vs {peer}:\n\n" + "\n".join(format_summary(paired_summary(pairs))) + "\n"
    return text


def _leakage_section(df: pd.DataFrame) -> str:
    if "test_in_corpus" not in df.columns or df["test_in_corpus"].isna().all() and "corpus_check" not in df.columns:
        return ""
    rows = df[df["model"].str.contains(":") & ~df["model"].str.startswith("scratch:")]
    if "corpus_check" in rows.columns:
        rows = rows[rows["corpus_check"].notna()]
    if rows.empty:
        return ""
    lines = ["", "### Test molecules in the pretraining corpus (InChIKey)", "",
             "| dataset | model | test molecules in corpus | note |", "|---|---|---|---|"]
    for (dataset, model), g in rows.groupby(["dataset", "model"], sort=True):
        count = g["test_in_corpus"].dropna()
        shown = "not checked" if count.empty else f"{int(count.max())} of {int(g['n_test'].max()) if 'n_test' in g else '?'}"
        lines.append(f"| {dataset} | {model} | {shown} | {g['corpus_check'].iloc[0]} |")
    return "\n".join(lines) + "\n"


def write_report(df: pd.DataFrame, out_dir: str, allow_mixed: bool = False) -> None:
    """Write ``summary.md`` and ``summary.png`` under ``out_dir`` (raises :class:`ProtocolMismatch` on mixed
    protocols unless ``allow_mixed``)."""
    df, problems = checked_rows(df, allow_mixed)
    text = markdown(df, problems)
    curve = _budget_section(summary_table(df), out_dir)
    with open(os.path.join(out_dir, "summary.md"), "w") as fh:
        fh.write(text + (curve or ""))
    _plot(summary_table(df), os.path.join(out_dir, "summary.png"))


def _budget_section(table: pd.DataFrame, out_dir: str) -> str:
    """Gain vs pretraining budget (from each pretrained backbone's provenance) and ``gain_vs_budget.png``; '' if none."""
    from deepchem_finetune.benchmark.budget import (budget_markdown, pretrained_budgets, gain_vs_budget,
                                                    plot_gain_vs_budget)
    models = sorted(m for m in table["model"].unique() if ":" in m and not m.startswith("scratch:"))
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
        values, errors = list(sub["mean"]), list(np.nan_to_num(sub["std"].to_numpy(dtype=float)))
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
