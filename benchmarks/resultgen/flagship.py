"""Flagship pretraining (#25): the cost of each committed leg, read from its provenance, and, once fine-tuned, its
paired gain over the scratch twin of its architecture (the paired grid's) and over chemprop: the gain-vs-budget table.

Legs are committed under ``benchmarks/checkpoints/flagship_legs/<run>/<N>min/`` (pretrained folders written by
``benchmarks/flagship_pretrain.sh``); their fine-tuning rows in ``flagship_legs.csv`` (``deepchem-finetune
benchmark ... --no-twins``: a leg shares the twin of its architecture, already in ``paired_moleculenet.csv``).
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import List

import pandas as pd

from deepchem_finetune.benchmark.budget import objective_label, pretraining_budget
from deepchem_finetune.benchmark.pairing import paired_rows, paired_summary
from deepchem_finetune.benchmark.protocol import ProtocolMismatch, check_protocols
from deepchem_finetune.benchmark.report import reference_arm

from resultgen import paired
from resultgen.common import RESULTS_DIR, ResultsError, gain_cell, source, table

CSV = "flagship_legs.csv"
LEGS_DIR = "checkpoints/flagship_legs"  # beside results/, under benchmarks/
COMMAND = ("`deepchem-finetune benchmark --datasets bbbp bace_classification clintox delaney freesolv lipo tox21 "
           f"--models gnn:benchmarks/{LEGS_DIR}/<run>/<N>min ... --no-twins --seeds 0 1 2 --max-epochs 40 "
           "--patience 10 --model-option dropout=0.2 --out benchmarks/out/flagship_legs`, then `cp "
           f"benchmarks/out/flagship_legs/results.csv {RESULTS_DIR}/{CSV}`; twins and chemprop: the paired grid's rows")


def legs(results_dir: Path) -> pd.DataFrame:
    """One row per committed leg (a ``<N>min`` folder of a run): ``model`` (its benchmark name, ``gnn:`` or ``seqcnn:``
    by its backbone), run, minutes (nominal), objective and budget."""
    root = results_dir.parent / LEGS_DIR
    rows = []
    for run in sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []:
        for leg in sorted(p.name for p in (root / run).iterdir() if p.is_dir() and re.fullmatch(r"\d+min", p.name)):
            config = json.loads((root / run / leg / "config.json").read_text())
            family = "gnn" if config["backbone"]["name"] == "MolGNN" else "seqcnn"
            rows.append({"model": f"{family}:benchmarks/{LEGS_DIR}/{run}/{leg}", "run": run, "leg": int(leg[:-3]),
                         "objective": objective_label(config["objective"]), **pretraining_budget(config["provenance"])})
    return pd.DataFrame(rows).sort_values(["run", "leg"]).reset_index(drop=True) if rows else pd.DataFrame()


def _count(value) -> str:
    """``4,662``; ``—`` when not recorded."""
    return "—" if value is None or pd.isna(value) else f"{int(value):,}"


def cost_lines(budgets: pd.DataFrame) -> List[str]:
    header = ["run", "leg (nominal min)", "objective", "steps", "molecules seen", "training min (one core)"]
    body = [[r.run, str(r.leg), r.objective, _count(r.steps), _count(r.molecules_seen),
             "—" if r.minutes is None or pd.isna(r.minutes)
             else f"{r.minutes:.1f}" + ("" if r.minutes_exact else " (lower bound)")] for r in budgets.itertuples()]
    return table(header, body)


def gain_lines(df: pd.DataFrame, budgets: pd.DataFrame) -> List[str]:
    """Per leg: paired averages vs its twin and vs chemprop, over the datasets every leg with rows was run on (so the
    legs are compared on the same datasets); the count of those datasets is the last column."""
    models = set(df["model"])
    done = budgets[budgets["model"].isin(models)]
    sets = [set(df.loc[df["model"] == m, "dataset"]) for m in done["model"]]
    common = set.intersection(*sets) if sets else set()
    df = df[df["dataset"].isin(common)]
    header = ["run", "leg", "molecules seen", "vs twin, ROC-AUC", "vs twin, RMSE", "vs chemprop, ROC-AUC",
              "vs chemprop, RMSE", "datasets"]
    body = []
    for r in done.itertuples():
        cells = []
        for ref in (reference_arm(r.model, models, df), "chemprop"):
            summary = paired_summary(paired_rows(df, r.model, ref)) if ref in models else pd.DataFrame()
            for metric in ("roc_auc", "rmse"):
                rows = summary[summary["metric"] == metric] if len(summary) else summary
                avg = rows[rows["dataset"].str.startswith("average")] if len(rows) else rows
                pick = avg if len(avg) else rows
                cells.append(gain_cell(pick.iloc[0]) if len(pick) == 1 and pick.iloc[0]["n"] > 0 else "—")
        body.append([r.run, str(r.leg), _count(r.molecules_seen), *cells, str(len(common))])
    return table(header, body)


def flagship_legs(results_dir: Path) -> str:
    """RESULTS.md: leg costs, then (with fine-tuning rows) the gain of each leg over its twin and over chemprop."""
    budgets = legs(results_dir)
    if budgets.empty:
        raise ResultsError(f"no committed flagship legs under benchmarks/{LEGS_DIR}")
    lines = ["Cost of each committed leg, from its provenance (training time excludes featurization; legs of one run "
             "are snapshots of one continued pretraining):", ""] + cost_lines(budgets)
    made = (f"_Leg costs generated by `make results` from the provenance of the legs committed under "
            f"`benchmarks/{LEGS_DIR}/`; the legs were made by: `bash benchmarks/flagship_pretrain.sh` (see its header "
            "for the runs and their environment)._")
    if not (results_dir / CSV).is_file():
        return "\n".join(lines + ["", f"No fine-tuning rows of the legs yet ({CSV} is not committed): the "
                                  f"gain-vs-budget table appears here once they are. They are made by: {COMMAND}.",
                                  "", made])
    legs_rows = pd.read_csv(results_dir / CSV)
    grid = paired.load(results_dir)
    df = pd.concat([legs_rows, grid[grid["model"].str.startswith("scratch:") | (grid["model"] == "chemprop")]],
                   ignore_index=True)
    problems = check_protocols(df)
    if problems:
        raise ProtocolMismatch(f"{CSV} + {paired.CSV}: rows made under different protocols:\n  "
                               + "\n  ".join(problems))
    lines += ["", "Paired gain of each leg (same split ids and seeds; ROC-AUC difference, or RMSE change in %, "
              "averaged over the datasets with rows, 95% CI over seeds, wins/ties/losses):", ""]
    lines += gain_lines(df, budgets)
    return "\n".join(lines + ["", source([CSV, paired.CSV], len(legs_rows), COMMAND), "", made])
