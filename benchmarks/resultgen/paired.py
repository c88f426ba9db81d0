"""The paired MoleculeNet benchmark (#23), from ``paired_moleculenet.csv``: rows written by ``deepchem-finetune
benchmark``, stamped with their protocol. Mixed protocols are refused. Gains are paired by (dataset, split, seed)
with :mod:`deepchem_finetune.benchmark.pairing`."""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Tuple

import numpy as np
import pandas as pd

from deepchem_finetune.benchmark.pairing import TIE, paired_rows, paired_summary
from deepchem_finetune.benchmark.protocol import ProtocolMismatch, check_protocols, stamp_text, trained
from deepchem_finetune.benchmark.references import references_for
from deepchem_finetune.benchmark.report import PEER_ARMS, reference_arm

from resultgen.common import (ResultsError, anchor_lines, best_index, bold, dataset_name, gain_cell, label,
                              mean_std, ordered, read_csv, source, table)

CSV = "paired_moleculenet.csv"
COMMAND = ("`deepchem-finetune benchmark --datasets bbbp bace_classification clintox delaney freesolv lipo tox21 "
           "--models gnn:gin_zinc60k_am_desc "
           "gnn:../shared/data/pretrain_gnns/chem_model_architecture/gcn_supervised_contextpred.pth "
           "chemprop rf rf_desc --seeds 0 1 2 --max-epochs 40 --patience 10 --model-option dropout=0.2 "
           "--out benchmarks/out/paired`, "
           "then `cp benchmarks/out/paired/results.csv benchmarks/results/paired_moleculenet.csv`; the arm "
           "`gnn:gin_zinc60k_desc30` was added later with the same options and `--models gnn:gin_zinc60k_desc30 "
           "--no-twins` (it shares the twin of `gin_zinc60k_am_desc`: same architecture and featurizer), its rows "
           "appended to the same file")
#: the grid of that command: a dataset with fewer seeds or arms than this is partial
DATASETS = ["bbbp", "bace_classification", "clintox", "tox21", "delaney", "freesolv", "lipo"]
SEEDS = 3
ZOO = "gnn:gin_zinc60k_am_desc"
HU = "gnn:../shared/data/pretrain_gnns/chem_model_architecture/gcn_supervised_contextpred.pth"
#: the zoo's descriptor-only GIN (#10), the backbone `finetune` started from before the flagship (#25)
DESC30 = "gnn:gin_zinc60k_desc30"
#: the README's headline columns
HEADLINE = [(ZOO, "pretrained GNN (zoo `gin_zinc60k_am_desc`)"), ("scratch:" + ZOO, "same GNN from scratch"),
            (HU, "Hu et al. GCN (imported)"), ("chemprop", "chemprop v2"), ("rf", "RF (ECFP4)"),
            ("rf_desc", "RF (descriptors)")]
PEER_NAMES = {"chemprop": "chemprop v2", "rf": "RF (ECFP4)", "rf_desc": "RF (RDKit descriptors)",
              "chemprop+rdkit2d": "chemprop v2 + RDKit 2D", "mlp+ecfp4+rdkit2d": "MLP on ECFP4 + RDKit 2D",
              "best_forest": "the better forest of each dataset"}


def arm_name(model: str) -> str:
    """A readable name for a benchmark model name."""
    if model.startswith("scratch:"):
        return f"scratch twin of {arm_name(model[len('scratch:'):])}"
    if model in PEER_NAMES:
        return PEER_NAMES[model]
    family, _, src = model.partition(":")
    if "+" in family:  # gnn+ecfp4+rdkit2d: the GNN with molecule features beside the graph
        return f"{arm_name(family.split('+')[0] + (':' + src if src else ''))} + {' + '.join(family.split('+')[1:])}"
    if src.endswith(".pth"):
        return f"Hu et al. GCN `{Path(src).stem}` (imported)"
    if not src:
        return f"{family.upper()} from scratch"
    return f"zoo {family.upper()} `{src}`" if "/" not in src else f"{family.upper()} `{Path(src).name}`"


def load(results_dir: Path) -> pd.DataFrame:
    """The committed rows, after the protocol check (:class:`ProtocolMismatch` names every disagreement)."""
    df = read_csv(results_dir, CSV)
    problems = check_protocols(df)
    if problems:
        raise ProtocolMismatch(f"{CSV}: refusing to make one table from rows made under different protocols; rerun "
                               f"or drop the odd rows:\n  " + "\n  ".join(problems))
    return df


def arms(df: pd.DataFrame) -> List[str]:
    """Every arm, each pretrained arm followed by its twin, then the peers."""
    models = set(df["model"])
    out: List[str] = []
    for m in ordered(models, [ZOO, "scratch:" + ZOO, DESC30, HU, "scratch:" + HU]):
        if m in PEER_ARMS or m in out:
            continue
        out.append(m)
        if "scratch:" + m in models and "scratch:" + m not in out:
            out.append("scratch:" + m)
    return out + [p for p in PEER_ARMS if p in models]


def datasets(df: pd.DataFrame) -> List[Tuple[str, str]]:
    """(dataset, metric) in the grid's order; datasets of the grid without rows yet get their usual metric."""
    metric = dict(zip(df["dataset"], df["metric"]))
    names = ordered(list(DATASETS) + list(metric), DATASETS)
    return [(d, metric.get(d, "rmse" if d in ("delaney", "freesolv", "lipo") else "roc_auc")) for d in names]


def partial(df: pd.DataFrame, dataset: str, models) -> bool:
    """Whether a dataset lacks any seed of any of ``models``."""
    counts = df[df["dataset"] == dataset].groupby("model")["seed"].nunique()
    return any(counts.get(m, 0) < SEEDS for m in models)


def stamped(df: pd.DataFrame, col: str, ours_only: bool = True) -> str:
    """The values of one stamp column (of our trained arms' rows by default), e.g. ``40`` or ``0.1, 0.2``."""
    frame = df[df["model"].map(trained)] if ours_only else df
    return ", ".join(sorted({stamp_text(v) for v in frame[col].dropna()})) or "?"


def protocol_note(df: pd.DataFrame) -> str:
    """The protocol, read from the stamps of the rows."""
    def ours(col):
        return stamped(df, col)

    def every(col):
        return stamped(df, col, ours_only=False)
    pretrained = df[df["model"].map(trained) & ~df["model"].str.startswith("scratch:") & df["model"].str.contains(":")]
    strategy = ", ".join(f"`{s}`" for s in sorted(pretrained["strategy"].astype(str).unique())) or "?"
    return (f"Protocol, read from the stamps of the rows: split `{every('split')}`, seeds {every('seed')}; our "
            f"pretrained GNNs fine-tuned with strategy {strategy}, their twins the same from random weights; max "
            f"{ours('max_epochs')} epochs, patience {ours('patience')}, learning rate {ours('learning_rate')} "
            f"({ours('lr_schedule')}), batch {ours('batch_size')}, dropout {ours('dropout')}, test score at the "
            f"`{ours('selection')}` epoch; chemprop and the forests with their own defaults on the same split ids. "
            f"Rows dated {every('date')}, package {every('package_version')}, commit {every('git_commit')}.")


def arm_cell(df: pd.DataFrame, dataset: str, model: str, always_n: bool = True) -> Tuple[str, float]:
    """``mean ± std (n)`` of one arm on one dataset, and its mean if it has every seed (else NaN: not ranked)."""
    x = df[(df["dataset"] == dataset) & (df["model"] == model)]["test"]
    if x.empty:
        return "—", float("nan")
    n = f" (n={len(x)})" if always_n or len(x) < SEEDS else ""
    return mean_std(x) + n, float(x.mean()) if len(x) >= SEEDS else float("nan")


def arm_table(df: pd.DataFrame, models: List[str], names: List[str], always_n: bool = True) -> List[str]:
    """Rows = datasets, columns = arms; the best mean of each row in bold."""
    rows = []
    for dataset, metric in datasets(df):
        cells = [arm_cell(df, dataset, m, always_n) for m in models]
        best = best_index([c[1] for c in cells], metric)
        shown = [bold(c[0]) if i in best else c[0] for i, c in enumerate(cells)]
        status = "not run yet" if not (df["dataset"] == dataset).any() else (
            "partial" if partial(df, dataset, models) else str(SEEDS))
        rows.append([label(dataset, metric)] + shown + [status])
    return table(["dataset (metric)"] + names + ["seeds"], rows)


def comparisons_of(df: pd.DataFrame) -> Dict[str, List[str]]:
    """Each pretrained arm -> what it is compared with: its twin (named even before it has rows), then every peer
    of the grid."""
    models = set(df["model"])
    pretrained = [m for m in arms(df) if not m.startswith("scratch:") and m not in PEER_ARMS and ":" in m]
    return {arm: [reference_arm(arm, models, df) or "scratch:" + arm] + list(PEER_ARMS) for arm in pretrained}


def lost_on(df: pd.DataFrame, arm: str, ref: str):
    """``(datasets where arm loses, those of them where the 95% CI of the paired difference is entirely below
    zero)``, or None without paired rows."""
    pairs = paired_rows(df, arm, ref)
    if pairs.empty:
        return None
    per = paired_summary(pairs)
    per = per[~per["dataset"].str.startswith("average")]
    lost = [dataset_name(d) for d, v in zip(per["dataset"], per["diff"]) if v < -TIE]
    sure = [dataset_name(d) for d, v in zip(per["dataset"], per["ci_high"]) if np.isfinite(v) and v < 0]
    return lost, sure


def loss_line(df: pd.DataFrame, arm: str, refs: List[str]) -> str:
    """One sentence: where ``arm`` loses to each reference (twin, peers), where it does not, what is not run."""
    def ref_name(ref):
        return "its scratch twin" if ref == "scratch:" + arm else arm_name(ref)
    found = {ref: lost_on(df, arm, ref) for ref in refs}
    parts = []
    for ref, hit in found.items():
        if hit and hit[0]:
            parts.append(f"to {ref_name(ref)} on: {', '.join(hit[0])}"
                         + (f" (the 95% CI excludes a tie on: {', '.join(hit[1])})" if hit[1] else ""))
    clean = [ref_name(r) for r, hit in found.items() if hit and not hit[0]]
    missing = [ref_name(r) for r, hit in found.items() if hit is None]
    clauses = (["loses " + "; ".join(parts)] if parts else []) + (
        [f"does not lose to {' or '.join(clean)} on any dataset with paired rows"] if clean else []) + (
        [f"has no paired rows yet with {', '.join(missing)}"] if missing else [])
    text = f"{arm_name(arm)} " + "; it ".join(clauses)
    return f"- {text}."


def loss_lines(df: pd.DataFrame) -> List[str]:
    """Per pretrained arm: where it loses to its twin or a peer (every peer of the grid, run or not)."""
    return [loss_line(df, arm, refs) for arm, refs in comparisons_of(df).items()]


def gain_table(df: pd.DataFrame, arm: str, refs: List[str]) -> List[str]:
    """Rows = datasets and the averages, columns = references; paired gains of ``arm``."""
    return pairs_table(df, [(arm, ref) for ref in refs], [f"vs {arm_name(r)}" for r in refs])


def pairs_table(df: pd.DataFrame, pairs: List[Tuple[str, str]], headers: List[str]) -> List[str]:
    """Rows = datasets and the averages over datasets, one column per ``(arm, reference)`` of ``pairs`` (headed by
    ``headers``): the paired gain of the arm over its reference ("—" where they share no cell)."""
    summaries = [paired_summary(paired_rows(df, arm, ref)) for arm, ref in pairs]
    keys = datasets(df) + sorted({(r.dataset, r.metric) for s in summaries for r in s.itertuples()
                                  if r.dataset.startswith("average")})
    rows = []
    for dataset, metric in keys:
        hits = [s[(s["dataset"] == dataset) & (s["metric"] == metric)] if len(s) else s for s in summaries]
        if any(len(h) for h in hits):
            rows.append([label(dataset, metric)] + [gain_cell(h.iloc[0]) if len(h) else "—" for h in hits])
    return table(["dataset (metric)"] + headers, rows)


def corpus_lines(df: pd.DataFrame) -> List[str]:
    """Test molecules (InChIKey) of each pretrained arm's cells that were in its pretraining corpus, per dataset."""
    if "corpus_check" not in df.columns:
        return []
    rows = df[df["corpus_check"].notna() & ~df["model"].str.startswith("scratch:")]
    if rows.empty:
        return []
    lines = ["", "Test molecules that were in the arm's pretraining corpus (InChIKey, counted per cell; the largest "
             "count over seeds):", "", "| arm | " + " | ".join(label(d, m) for d, m in datasets(df)) + " | corpus |",
             "|---|" + "---|" * (len(datasets(df)) + 1)]
    for arm, g in rows.groupby("model", sort=True):
        cells = []
        for d, _ in datasets(df):
            sub = g[g["dataset"] == d]
            count = sub["test_in_corpus"].dropna() if "test_in_corpus" in sub else sub["model"][:0]
            cells.append("—" if sub.empty else "not checked" if count.empty
                         else f"{int(count.max())} of {int(sub['n_test'].max())}")
        notes = "; ".join(sorted(set(g["corpus_check"].astype(str))))
        lines.append(f"| {arm_name(arm)} | " + " | ".join(cells) + f" | {notes} |")
    return lines


def anchors(df: pd.DataFrame) -> List[str]:
    return anchor_lines((label(d, m), references_for(d, m)) for d, m in datasets(df))


def paired_moleculenet(results_dir: Path) -> str:
    """RESULTS.md: every arm, the paired gains of each pretrained arm, where it loses, published anchors."""
    df = load(results_dir)
    models = arms(df)
    lines = [protocol_note(df), "", "Test score, mean ± std over seeds (n = seeds); best mean of each row among the "
             "arms with all seeds in bold; 'partial': some arm has fewer than 3 seeds there.", ""]
    lines += arm_table(df, models, [arm_name(m) for m in models])
    for arm, refs in comparisons_of(df).items():
        refs = [r for r in refs if r in set(df["model"])]
        if not refs:
            continue
        lines += ["", f"Paired gains of {arm_name(arm)} (same split and seed; ROC-AUC: arm − reference, positive = "
                  "the arm is better; RMSE: arm / reference − 1, negative = the arm is better; 95% t-interval over "
                  "seeds; wins/ties/losses):", ""]
        lines += gain_table(df, arm, refs)
    lines += ["", "Where a pretrained arm loses (mean paired difference in the reference's favour):", ""]
    lines += loss_lines(df)
    lines += corpus_lines(df)
    lines += ["", "Published anchors (other splits and protocols, so not like-for-like; sources in "
              "`deepchem_finetune/benchmark/references.py`):", ""] + anchors(df)
    return "\n".join(lines + ["", source([CSV], len(df), COMMAND)])


def headline(results_dir: Path) -> str:
    """README first screen: one table a chemist can read in a minute, and where the pretrained arms lose."""
    df = load(results_dir)
    check_names(df)
    shown = [m for m, _ in HEADLINE]
    lines = arm_table(df, shown, [n for _, n in HEADLINE], always_n=False)
    lines += ["", f"Test score at the best-validation epoch, mean ± std over seeds {stamped(df, 'seed', False)} "
              f"(n shown where fewer); best of each row (among arms with every seed) in bold; DeepChem "
              f"`{stamped(df, 'split', False)}` split, every arm on the same split ids; our GNNs max "
              f"{stamped(df, 'max_epochs')} epochs, patience {stamped(df, 'patience')}. ROC-AUC: higher is better; "
              "RMSE: lower is better. Paired gains with 95% CIs, all arms and the exact protocol: "
              "[benchmarks/RESULTS.md](benchmarks/RESULTS.md).", ""]
    lines += loss_lines(df)
    complete = [d for d, _ in datasets(df) if (df["dataset"] == d).any() and not partial(df, d, shown)]
    if len(complete) < len(datasets(df)):
        lines += ["", f"**Partial:** {len(complete)} of {len(datasets(df))} datasets have every arm at {SEEDS} seeds; "
                  f"the grid is still running."]
    return "\n".join(lines + ["", source([CSV], len(df), COMMAND)])


def check_names(df: pd.DataFrame) -> None:
    """The headline's arms must be the ones the command runs (a renamed arm would silently empty a column)."""
    missing = [m for m, _ in HEADLINE if m not in set(df["model"])]
    if len(missing) == len(HEADLINE):
        raise ResultsError(f"{CSV} has none of the headline arms {[m for m, _ in HEADLINE]}")

