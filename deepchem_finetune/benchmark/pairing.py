"""Paired comparisons: two arms scored on the same (dataset, split, seed) cells, their per-cell differences, the mean
difference with a 95% confidence interval (t over seeds) and wins / ties / losses. Never a difference of unpaired
means.

The sign convention makes a positive difference always mean "the first arm is better": ROC-AUC / Spearman
``a - b``, RMSE ``b - a`` (and, for RMSE, also the relative change ``a / b - 1`` in percent, negative = better).
"""
from __future__ import annotations

import math
from typing import Dict, List, Optional

import numpy as np
import pandas as pd

PAIR_KEY = ["dataset", "split", "seed"]
LOWER_IS_BETTER = ("rmse",)
#: two scores closer than this count as a tie
TIE = 1e-4


def t_interval(values, level: float = 0.95) -> tuple:
    """``(mean, low, high)`` of a Student-t confidence interval over ``values`` (NaN bounds for one value).

    Examples
    --------
    >>> [round(v, 3) for v in t_interval([0.01, 0.03, 0.02])]
    [0.02, -0.005, 0.045]
    """
    from scipy import stats
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if len(x) == 0:
        return (float("nan"),) * 3
    mean = float(x.mean())
    if len(x) < 2:
        return mean, float("nan"), float("nan")
    half = float(stats.t.ppf(0.5 + level / 2, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x)))
    return mean, mean - half, mean + half


def paired_rows(df: pd.DataFrame, arm: str, reference: str, arm_strategy: Optional[str] = None) -> pd.DataFrame:
    """One row per cell where both ``arm`` and ``reference`` have a score: ``diff`` (positive = ``arm`` better),
    ``rel_pct`` (RMSE only: ``arm / reference - 1`` in percent) and both scores.

    Parameters
    ----------
    df: pd.DataFrame
        Benchmark rows (columns ``dataset, split, seed, model, strategy, metric, test``).
    arm, reference: str
        Model names (e.g. ``gnn:gin_zinc60k_desc30`` and its twin ``scratch:gnn:gin_zinc60k_desc30``).
    arm_strategy: str, optional
        Only this fine-tuning strategy of ``arm`` (default: all rows of ``arm``; must then be one per cell).

    Examples
    --------
    >>> df = pd.DataFrame({"dataset": ["bbbp"] * 4, "split": ["scaffold"] * 4, "seed": [0, 0, 1, 1],
    ...                    "model": ["a", "b", "a", "b"], "strategy": "-", "metric": "roc_auc",
    ...                    "test": [0.71, 0.70, 0.68, 0.69]})
    >>> paired_rows(df, "a", "b")["diff"].round(3).tolist()
    [0.01, -0.01]
    """
    a = df[df["model"] == arm]
    if arm_strategy is not None:
        a = a[a["strategy"] == arm_strategy]
    b = df[df["model"] == reference]
    for name, part in ((arm, a), (reference, b)):
        dup = part.duplicated(PAIR_KEY)
        if dup.any():
            raise ValueError(f"{name} has several rows for the same (dataset, split, seed) cell, e.g. "
                             f"{part[dup].iloc[0][PAIR_KEY].to_dict()}; choose one strategy (arm_strategy=...)")
    m = a.merge(b, on=PAIR_KEY, suffixes=("", "_ref"))
    if m.empty:
        return pd.DataFrame(columns=PAIR_KEY + ["metric", "test", "test_ref", "diff", "rel_pct"])
    if (m["metric"] != m["metric_ref"]).any():
        raise ValueError(f"{arm} and {reference} were scored with different metrics")
    lower = m["metric"].isin(LOWER_IS_BETTER)
    m["diff"] = np.where(lower, m["test_ref"] - m["test"], m["test"] - m["test_ref"])
    m["rel_pct"] = np.where(lower, 100 * (m["test"] / m["test_ref"] - 1), np.nan)
    return m[PAIR_KEY + ["metric", "test", "test_ref", "diff", "rel_pct"]].reset_index(drop=True)


def paired_summary(pairs: pd.DataFrame) -> pd.DataFrame:
    """Per dataset and on average over datasets: n pairs, mean difference with its 95% CI, relative RMSE change
    (with CI) and wins / ties / losses of :func:`paired_rows` output.

    The average row pairs per seed: for each seed present in every dataset of that metric, the mean difference over
    those datasets; the CI is a t interval over those per-seed averages (so the datasets stay paired).
    """
    out: List[Dict] = []
    for (dataset, metric), g in pairs.groupby(["dataset", "metric"], sort=True):
        out.append(_summarise(dataset, metric, g["diff"], g["rel_pct"]))
    for metric, g in pairs.groupby("metric", sort=True):
        datasets = g["dataset"].nunique()
        if datasets < 2:
            continue
        per_seed = g.groupby("seed").agg(n=("dataset", "nunique"), diff=("diff", "mean"), rel_pct=("rel_pct", "mean"))
        per_seed = per_seed[per_seed["n"] == datasets]
        row = _summarise(f"average ({datasets} datasets)", metric, per_seed["diff"], per_seed["rel_pct"])
        row.update(wins=int((g["diff"] > TIE).sum()), ties=int((g["diff"].abs() <= TIE).sum()),
                   losses=int((g["diff"] < -TIE).sum()))
        out.append(row)
    return pd.DataFrame(out)


def _summarise(label: str, metric: str, diff: pd.Series, rel: pd.Series) -> Dict:
    mean, low, high = t_interval(diff)
    rel_mean, rel_low, rel_high = t_interval(rel) if metric in LOWER_IS_BETTER else (np.nan,) * 3
    return {"dataset": label, "metric": metric, "n": int(diff.notna().sum()), "diff": mean, "ci_low": low,
            "ci_high": high, "rel_pct": rel_mean, "rel_ci_low": rel_low, "rel_ci_high": rel_high,
            "wins": int((diff > TIE).sum()), "ties": int((diff.abs() <= TIE).sum()), "losses": int((diff < -TIE).sum())}


def format_summary(summary: pd.DataFrame) -> List[str]:
    """Markdown table lines of :func:`paired_summary` output."""
    lines = ["| dataset | metric | n | mean paired diff [95% CI] | RMSE change [95% CI] | W/T/L |",
             "|---|---|---|---|---|---|"]
    for r in summary.itertuples():
        ci = "" if np.isnan(r.ci_low) else f" [{r.ci_low:+.3f}, {r.ci_high:+.3f}]"
        rel = "" if np.isnan(r.rel_pct) else f"{r.rel_pct:+.1f}%" + (
            "" if np.isnan(r.rel_ci_low) else f" [{r.rel_ci_low:+.1f}, {r.rel_ci_high:+.1f}]")
        lines.append(f"| {r.dataset} | {r.metric} | {r.n} | {r.diff:+.3f}{ci} | {rel} | {r.wins}/{r.ties}/{r.losses} |")
    return lines


def rmse_change_pct(rows: pd.DataFrame) -> float:
    """Mean relative RMSE change vs scratch, in percent (negative = better), of :func:`summary_table` rows.

    Examples
    --------
    >>> round(rmse_change_pct(pd.DataFrame({"mean": [0.9], "gain_vs_scratch": [0.1]})), 6)
    -10.0
    """
    return float((100 * (rows["mean"] / (rows["mean"] + rows["gain_vs_scratch"]) - 1)).mean())
