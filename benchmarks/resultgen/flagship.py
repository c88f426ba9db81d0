"""Flagship pretraining (#25): the cost of each committed leg, read from its provenance, and, once fine-tuned, its
paired gain over the scratch twin of its architecture (the paired grid's) and over chemprop: the gain-vs-budget table
and plot; a run continued from imported weights is also paired with that parent's arm and the other runs' legs.

Legs are committed under ``benchmarks/checkpoints/flagship_legs/<run>/<N>min/`` (pretrained folders written by
``benchmarks/flagship_pretrain.sh``); their fine-tuning rows in ``flagship_legs.csv`` (``deepchem-finetune
benchmark ... --no-twins``: a leg shares the twin of its architecture, already in ``paired_moleculenet.csv``).
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import List

import numpy as np
import pandas as pd

from deepchem_finetune.benchmark.budget import objective_label
from deepchem_finetune.benchmark.pairing import paired_rows, paired_summary
from deepchem_finetune.benchmark.protocol import ProtocolMismatch, check_protocols
from deepchem_finetune.benchmark.report import reference_arm
from deepchem_finetune.hub.budget import minutes_text, pretraining_budget
from deepchem_finetune.hub.zoo import imported_ancestor

from resultgen import paired
from resultgen.common import METRICS, RESULTS_DIR, ResultsError, dataset_name, gain_cell, label, source, table

CSV = "flagship_legs.csv"
FIGURE = "flagship_gain_vs_budget.png"
LEGS_DIR = "checkpoints/flagship_legs"  # beside results/, under benchmarks/
COMMAND = ("`deepchem-finetune benchmark --datasets bbbp bace_classification clintox delaney freesolv lipo tox21 "
           f"--models gnn:benchmarks/{LEGS_DIR}/<run>/<N>min ... --no-twins --seeds 0 1 2 --max-epochs 40 "
           "--patience 10 --model-option dropout=0.2 --out benchmarks/out/flagship_legs`, then `cp "
           f"benchmarks/out/flagship_legs/results.csv {RESULTS_DIR}/{CSV}`; twins and chemprop: the paired grid's rows")


def legs(results_dir: Path) -> pd.DataFrame:
    """One row per committed leg (a ``<N>min`` folder of a run): ``model`` (its benchmark name, ``gnn:`` or ``seqcnn:``
    by its backbone), run, leg (the minutes in its name), objective, ``imported_parent`` (the source sha256 of the
    imported weights it was continued from, :func:`~deepchem_finetune.hub.zoo.imported_ancestor`; None when pretrained
    from scratch here) and budget (:func:`~deepchem_finetune.hub.budget.pretraining_budget`)."""
    root = results_dir.parent / LEGS_DIR
    rows = []
    for run in sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []:
        for leg in sorted(p.name for p in (root / run).iterdir() if p.is_dir() and re.fullmatch(r"\d+min", p.name)):
            config = json.loads((root / run / leg / "config.json").read_text())
            family = "gnn" if config["backbone"]["name"] == "MolGNN" else "seqcnn"
            rows.append({"model": f"{family}:benchmarks/{LEGS_DIR}/{run}/{leg}", "run": run, "leg": int(leg[:-3]),
                         "objective": objective_label(config["objective"]),
                         "imported_parent": (imported_ancestor(config["provenance"]) or {}).get("source_sha256"),
                         **pretraining_budget(config["provenance"])})
    return pd.DataFrame(rows).sort_values(["run", "leg"]).reset_index(drop=True) if rows else pd.DataFrame()


def _count(value) -> str:
    """``4,662``; ``—`` when not recorded."""
    return "—" if value is None or pd.isna(value) else f"{int(value):,}"


def cost_lines(budgets: pd.DataFrame) -> List[str]:
    """The cost of each leg: steps, molecules seen, training minutes times data-parallel processes (core-minutes: one
    core per process) and wall minutes, from each leg's provenance (:func:`legs`)."""
    header = ["run", "leg (min)", "objective", "steps", "molecules seen", "training min × processes", "wall min"]
    body = [[r.run, str(r.leg), r.objective, _count(r.steps), _count(r.molecules_seen),
             "—" if r.minutes is None or pd.isna(r.minutes) else minutes_text(r._asdict()),
             "—" if r.wall_minutes is None or pd.isna(r.wall_minutes) else f"{r.wall_minutes:.1f}"]
            for r in budgets.itertuples()]
    return table(header, body)


VERSUS = ("twin", "chemprop")


def _average(summary: pd.DataFrame, metric: str):
    """The row of :func:`~deepchem_finetune.benchmark.pairing.paired_summary` that sums up ``metric``: its average over
    datasets, or its single dataset's row; None when there is none or it has no pairs."""
    rows = summary[summary["metric"] == metric] if len(summary) else summary
    avg = rows[rows["dataset"].str.startswith("average")] if len(rows) else rows
    pick = avg if len(avg) else rows
    return pick.iloc[0] if len(pick) == 1 and pick.iloc[0]["n"] > 0 else None


def leg_gains(df: pd.DataFrame, budgets: pd.DataFrame) -> pd.DataFrame:
    """The paired gain of each leg with rows, versus its twin and versus chemprop, per metric.

    The legs of one run are compared on the same datasets: only those every leg of that run with rows was run on count
    (so a run's curve is not bent by a dataset one leg lacks; another run keeps its own datasets). Each output row is
    the average row of :func:`~deepchem_finetune.benchmark.pairing.paired_summary` (or its single dataset's row) with
    the leg's :func:`legs` columns, ``versus`` (``twin`` or ``chemprop``), ``datasets`` (how many datasets are common
    to its run) and ``missing`` (the names of the paired grid's datasets left out)."""
    models = set(df["model"])
    out = []
    for run, done in budgets[budgets["model"].isin(models)].groupby("run", sort=True):
        common = set.intersection(*[set(df.loc[df["model"] == m, "dataset"]) for m in done["model"]])
        rows = df[df["dataset"].isin(common)]
        missing = [dataset_name(d) for d in paired.DATASETS if d not in common]
        for r in done.itertuples(index=False):
            for versus, ref in zip(VERSUS, (reference_arm(r.model, models, rows), "chemprop")):
                summary = paired_summary(paired_rows(rows, r.model, ref)) if ref in models else pd.DataFrame()
                for metric in ("roc_auc", "rmse"):
                    row = _average(summary, metric)
                    if row is not None:
                        out.append({**r._asdict(), "versus": versus, "datasets": len(common),
                                    "missing": ", ".join(missing), **row.to_dict()})
    return pd.DataFrame(out)


def gain_lines(gains: pd.DataFrame, budgets: pd.DataFrame) -> List[str]:
    """The table of :func:`leg_gains` output ``gains``: one line per leg of ``budgets`` with gains; the count of
    datasets common to its run (and those of the paired grid it lacks) is the last column."""
    header = ["run", "leg", "molecules seen", "vs twin, ROC-AUC", "vs twin, RMSE", "vs chemprop, ROC-AUC",
              "vs chemprop, RMSE", "datasets"]
    body = []
    for r in budgets[budgets["model"].isin(set(gains["model"]) if len(gains) else set())].itertuples():
        mine = gains[gains["model"] == r.model]
        cells = []
        for versus in VERSUS:
            for metric in ("roc_auc", "rmse"):
                pick = mine[(mine["versus"] == versus) & (mine["metric"] == metric)]
                cells.append(gain_cell(pick.iloc[0]) if len(pick) else "—")
        missing = mine["missing"].iloc[0]
        body.append([r.run, str(r.leg), _count(r.molecules_seen), *cells,
                     str(int(mine["datasets"].iloc[0])) + (f" (without {missing})" if missing else "")])
    return table(header, body)


def parent_lines(df: pd.DataFrame, budgets: pd.DataFrame) -> List[str]:
    """Runs started from imported weights (``pretrain --init``, e.g. the Hu et al. GCN): each leg paired with that
    parent's own arm in the rows (found by the parent's source sha256 stamped as ``pretrained_sha256``) and with the
    leg of the same nominal minutes of every other run, per dataset and on average. Empty when no such run has rows."""
    lines = []
    for r in budgets[budgets["model"].isin(set(df["model"])) & budgets["imported_parent"].notna()].itertuples():
        arms = sorted(set(df.loc[df["pretrained_sha256"].astype(str) == str(r.imported_parent), "model"]) - {r.model})
        others = budgets[(budgets["run"] != r.run) & (budgets["leg"] == r.leg)]["model"]
        for ref in arms + [m for m in others if m in set(df["model"])]:
            summary = paired_summary(paired_rows(df, r.model, ref))
            for s in summary[summary["n"] > 0].itertuples(index=False):
                where = (f"{s.dataset}, {METRICS.get(s.metric, s.metric)}" if s.dataset.startswith("average")
                         else label(s.dataset, s.metric))
                lines.append([f"{r.run} {r.leg} min", _short(ref), where, gain_cell(s._asdict())])
    if not lines:
        return []
    return table(["leg", "versus (paired: same split ids and seeds)", "dataset", "difference [95% CI] (W/T/L)"],
                 lines)


def _short(model: str) -> str:
    """A readable arm name: the file or folder of a path, the leg of a flagship run."""
    source = model.split(":", 1)[1] if ":" in model else model
    if f"{LEGS_DIR}/" in source:
        return source.split(f"{LEGS_DIR}/", 1)[1]
    return Path(source).name


def plot_gain_vs_budget(results_dir: Path, path: Path) -> bool:
    """``path``: the paired gain of each leg vs the molecules it saw in pretraining (exact, from its step count; the
    cost table gives each leg's core-hours, some only as a lower bound), one line per run, versus the twin (solid,
    filled) and chemprop (dashed, open), 95% CI bars over seeds; ROC-AUC difference and RMSE change (%). Legs without
    a recorded count are left out. False, and no file (an earlier one is removed), while no leg has fine-tuning rows."""
    gains = _plotted(leg_gains(_rows(results_dir), legs(results_dir))) if (results_dir / CSV).is_file() else None
    if gains is None or gains.empty:
        Path(path).unlink(missing_ok=True)
        return False
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    cycle = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    colors = {run: cycle[i % len(cycle)] for i, run in enumerate(sorted(gains["run"].unique()))}
    for ax, metric, value, low, high, ylabel in (
            (axes[0], "roc_auc", "diff", "ci_low", "ci_high", "mean ROC-AUC difference"),
            (axes[1], "rmse", "rel_pct", "rel_ci_low", "rel_ci_high", "mean RMSE change (%)")):
        for (run, versus), g in gains[gains["metric"] == metric].groupby(["run", "versus"]):
            g = g.sort_values("molecules_seen")
            x = g["molecules_seen"].astype(float) / 1e6
            err = [(g[value] - g[low]).fillna(0), (g[high] - g[value]).fillna(0)]  # no CI (one seed): no bar
            twin = versus == "twin"
            ax.errorbar(x, g[value], yerr=err, color=colors[run], ls="-" if twin else "--", marker="o" if twin else "s",
                        mfc=None if twin else "white", capsize=3, label=f"{run} vs {versus}")
        ax.axhline(0, color="grey", lw=0.8)
        ax.set_xscale("log", base=2)  # the legs double
        ticks = sorted(set((gains["molecules_seen"].astype(float) / 1e6).round(2)))
        ax.set_xticks(ticks, [f"{t:g}" for t in ticks], fontsize=7)
        ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
        ax.set_xlabel("molecules seen in pretraining, millions (log scale)")
        ax.set_ylabel(ylabel)
    axes[0].legend(fontsize=6)
    fig.suptitle("Flagship legs: paired gain vs pretraining budget (DeepChem scaffold split)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)
    return True


def _plotted(gains: pd.DataFrame) -> pd.DataFrame:
    """The :func:`leg_gains` rows the plot draws: those of legs with a recorded molecule count."""
    return gains[gains["molecules_seen"].notna()] if len(gains) else gains


def _rows(results_dir: Path) -> pd.DataFrame:
    """The legs' rows with the paired grid's (twins, chemprop, the imported parents): an error when their protocols
    differ."""
    df = pd.concat([pd.read_csv(results_dir / CSV), paired.load(results_dir)], ignore_index=True)
    problems = check_protocols(df)
    if problems:
        raise ProtocolMismatch(f"{CSV} + {paired.CSV}: rows made under different protocols:\n  "
                               + "\n  ".join(problems))
    return df


def flagship_legs(results_dir: Path) -> str:
    """RESULTS.md: leg costs, then (with fine-tuning rows) the gain of each leg over its twin and over chemprop, the
    gain-vs-budget plot, and the runs continued from imported weights against their parents."""
    budgets = legs(results_dir)
    if budgets.empty:
        raise ResultsError(f"no committed flagship legs under benchmarks/{LEGS_DIR}")
    lines = ["Cost of each committed leg, from its provenance (training time excludes featurization; legs of one run "
             "are snapshots of one continued pretraining; a leg's name is minutes: nominal minutes of one core for a "
             "leg bounded by steps or time, the training minutes × processes it trained to for a leg bounded by "
             "recorded minutes (`LEG_BOUND=minutes`); for a SeqCNN run, molecules seen are sequences; the columns say "
             "what each leg did):", ""] + cost_lines(budgets)
    made = (f"_Leg costs generated by `make results` from the provenance of the legs committed under "
            f"`benchmarks/{LEGS_DIR}/`; the legs were made by: `bash benchmarks/flagship_pretrain.sh` (see its header "
            "for the runs and their environment)._")
    if not (results_dir / CSV).is_file():
        return "\n".join(lines + ["", f"No fine-tuning rows of the legs yet ({CSV} is not committed): the "
                                  f"gain-vs-budget table appears here once they are. They are made by: {COMMAND}.",
                                  "", made])
    legs_rows = pd.read_csv(results_dir / CSV)
    df = _rows(results_dir)
    lines += ["", "Paired gain of each leg (same split ids and seeds; ROC-AUC difference, or RMSE change in %, "
              "averaged over the datasets every fine-tuned leg of its run has rows on, 95% CI over seeds, "
              "wins/ties/losses):", ""]
    gains = leg_gains(df, budgets)
    lines += gain_lines(gains, budgets)
    if len(_plotted(gains)):
        lines += ["", f"Plot of this table against the molecules each leg saw (written by `make results`): "
                  f"`{RESULTS_DIR}/{FIGURE}`; each run's line averages over that run's datasets (last column), "
                  "which may differ between runs."]
    parents = parent_lines(df, budgets)
    if parents:
        lines += ["", "Runs continued from imported weights against their parent (the imported arm of the paired grid) "
                  "and against the other run's leg of the same nominal minutes (a nominal minute is a fixed number of "
                  "steps, not the same compute across architectures: see the cost table; positive ROC-AUC difference "
                  "/ negative RMSE change: the leg is better):", ""] + parents
    return "\n".join(lines + ["", source([CSV, paired.CSV], len(legs_rows), COMMAND), "", made])


#: the goals #25 sets for a flagship, against its scratch twin and chemprop v2 (paired, 3 seeds, scaffold split)
GOAL_ROC_AUC, GOAL_CI_SETS, GOAL_RMSE_PCT = 0.03, 3, -10.0


def goal_lines(df: pd.DataFrame, leg: str, twin: str) -> List[str]:
    """Whether ``leg`` meets the goals of #25, each with its measured value: mean ROC-AUC gain over the twin (>= +0.03),
    classification sets whose 95% CI of the paired gain is above 0 (>= 3), mean RMSE change (<= -10%), and the
    averages against chemprop v2 (a higher mean ROC-AUC and a lower RMSE)."""
    def verdict(ok: bool) -> str:
        return "met" if ok else "not met"
    vs_twin = paired_summary(paired_rows(df, leg, twin)) if twin else pd.DataFrame()
    vs_chemprop = paired_summary(paired_rows(df, leg, "chemprop"))
    lines = []
    auc = _average(vs_twin, "roc_auc")
    if auc is not None:
        per = vs_twin[(vs_twin["metric"] == "roc_auc") & ~vs_twin["dataset"].str.startswith("average")]
        above = [label(d, "roc_auc") for d, low in zip(per["dataset"], per["ci_low"]) if np.isfinite(low) and low > 0]
        lines += [f"- mean ROC-AUC gain over its scratch twin ≥ +{GOAL_ROC_AUC:.2f}: {gain_cell(auc)}, "
                  f"{verdict(auc['diff'] >= GOAL_ROC_AUC)}",
                  f"- classification sets with the 95% CI of the gain above 0 ≥ {GOAL_CI_SETS}: {len(above)} "
                  f"({', '.join(above) or 'none'}), {verdict(len(above) >= GOAL_CI_SETS)}"]
    rmse = _average(vs_twin, "rmse")
    if rmse is not None:
        lines += [f"- mean RMSE change against its scratch twin ≤ {GOAL_RMSE_PCT:.0f}%: {gain_cell(rmse)}, "
                  f"{verdict(rmse['rel_pct'] <= GOAL_RMSE_PCT)}"]
    auc, rmse = _average(vs_chemprop, "roc_auc"), _average(vs_chemprop, "rmse")
    if auc is not None and rmse is not None:
        lines += [f"- beats chemprop v2's average: ROC-AUC {gain_cell(auc)}, RMSE {gain_cell(rmse)}, "
                  f"{verdict(auc['diff'] > 0 and rmse['rel_pct'] < 0)}"]
    return lines


def flagship_goals(results_dir: Path) -> str:
    """RESULTS.md: the latest leg of each run fine-tuned on every dataset of the paired grid, as an arm of that grid:
    every arm's score, its paired gains over its twin, the grid's pretrained arms and the peers, and the goals of
    #25."""
    if not (results_dir / CSV).is_file():
        return f"No fine-tuning rows of the legs yet ({CSV} is not committed). They are made by: {COMMAND}."
    budgets = legs(results_dir)
    df = _rows(results_dir)
    wanted = set(paired.DATASETS)
    complete = budgets[[wanted <= set(df.loc[df["model"] == m, "dataset"]) for m in budgets["model"]]]
    models = set(df["model"])
    # the grid's pretrained arms (the earlier zoo GINs, the imported Hu et al. GCN): what a user had before
    earlier = [p for p in (paired.ZOO, paired.DESC30, paired.HU) if p in models]
    peers = [p for p in paired.PEER_ARMS if p in models]
    lines: List[str] = []
    for run, g in complete.groupby("run", sort=True):
        r = g.sort_values("leg").iloc[-1]
        twin = reference_arm(r["model"], models, df)
        arms = [r["model"]] + ([twin] if twin else []) + earlier + peers
        names = ([f"{run} {r['leg']} min"] + (["its scratch twin"] if twin else [])
                 + [paired.arm_name(p) for p in earlier + peers])
        lines += [f"**{run}, leg {r['leg']} min** ({_count(r['molecules_seen'])} molecules seen; "
                  f"objective {r['objective']}): test score, mean ± std (n = seeds), best of each row in bold.", ""]
        lines += paired.arm_table(df, arms, names, always_n=False)
        lines += ["", "Its paired gains (ROC-AUC: difference; RMSE: relative change; 95% CI over seeds; W/T/L):", ""]
        lines += paired.pairs_table(df, [(r["model"], ref) for ref in arms[1:]], [f"vs {n}" for n in names[1:]])
        lines += ["", "Goals of #25:", ""] + goal_lines(df, r["model"], twin) + [""]
    if not lines:
        return ("No leg has fine-tuning rows on every dataset of the paired grid yet; the gain-vs-budget table above "
                "covers the legs with rows. " + source([CSV, paired.CSV], 0, COMMAND))
    return "\n".join(lines + [source([CSV, paired.CSV], len(pd.read_csv(results_dir / CSV)), COMMAND)])

