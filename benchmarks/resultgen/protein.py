"""The protein flagship (#25) on FLIP GB1: each pretrained SeqCNN against its scratch twin and against the other
pretrained SeqCNNs on the same split and seeds, with ridge and FLIP's published baselines, from
``flip_gb1_flagship.csv`` (rows of ``deepchem-finetune benchmark --datasets flip_gb1:<split> ...``).
"""
from __future__ import annotations

import json
from itertools import combinations
from pathlib import Path
from typing import Dict, List, Optional

import pandas as pd

from deepchem_finetune.hub.budget import minutes_text, pretraining_budget
from deepchem_finetune.benchmark.pairing import paired_rows, paired_summary
from deepchem_finetune.benchmark.protocol import ProtocolMismatch, check_protocols
from deepchem_finetune.benchmark.references import FLIP_REFERENCES
from deepchem_finetune.benchmark.report import reference_arm
from deepchem_finetune.hub.zoo import ZOO_DIR, zoo_names

from resultgen.common import best_index, bold, gain_cell, mean_std, read_csv, source, table

CSV = "flip_gb1_flagship.csv"
COMMAND = ("`bash benchmarks/flip_gb1_flagship.sh` (`LEG=<N>min`; it runs `deepchem-finetune benchmark --datasets "
           "flip_gb1:three_vs_rest --models seqcnn:benchmarks/checkpoints/flagship_legs/seqcnn_uniprot_wide/<N>min "
           "scratch:seqcnn:... seqcnn:seqcnn_uniprot_mt scratch:seqcnn:seqcnn_uniprot_mt ridge --no-twins --seeds 0 1 2 "
           "--max-epochs 40 --patience 10` as two processes), then `cp "
           f"benchmarks/out/flip_gb1_flagship/<N>min/results.csv benchmarks/results/{CSV}`")
#: the goal #25 sets for the protein flagship (Spearman on FLIP GB1 three_vs_rest)
GOAL = ("flip_gb1:three_vs_rest", 0.86)


def _config(results_dir: Path, model: str) -> Optional[Dict]:
    """The pretrained config of ``seqcnn:<source>`` (a folder under the repository root or a zoo name); None for a
    scratch arm or a peer, or when the folder is not here."""
    if model.startswith("scratch:") or ":" not in model:
        return None
    src = model.split(":", 1)[1]
    for folder in (results_dir.parent.parent / src, ZOO_DIR / src if src in zoo_names() else None):
        if folder is not None and (folder / "config.json").is_file():
            return json.loads((folder / "config.json").read_text())
    return None


def _describe(config: Optional[Dict]) -> str:
    """``width 128, depth 16; 9,000 steps, 288,000 sequences, 180.2 training min`` from a pretrained config."""
    if config is None:
        return "—"
    bb = config["backbone"]["config"]
    budget = pretraining_budget(config.get("provenance", {}))
    seen = budget["molecules_seen"]
    return (f"width {bb.get('width')}, depth {bb.get('depth')}; {budget['steps'] or 0:,} steps, "
            f"{'—' if seen is None else f'{int(seen):,}'} sequences, {minutes_text(budget, ' training min')}")


def _ordered(models) -> List[str]:
    """Pretrained arms (sorted), each followed by its scratch twin, then the rest (sorted)."""
    out: List[str] = []
    for m in sorted(m for m in models if ":" in m and not m.startswith("scratch:")):
        out += [m] + ([f"scratch:{m}"] if f"scratch:{m}" in models else [])
    return out + sorted(set(models) - set(out))


def protein_flagship(results_dir: Path) -> str:
    """RESULTS.md: per FLIP split, every arm's test Spearman (mean ± std over seeds), each pretrained arm's paired
    difference with its scratch twin, the pretrained arms against each other, and the published references."""
    df = read_csv(results_dir, CSV)
    problems = check_protocols(df)
    if problems:
        raise ProtocolMismatch(f"{CSV}: rows made under different protocols:\n  " + "\n  ".join(problems))
    models = set(df["model"])
    lines: List[str] = []
    for dataset, sub in df.groupby("dataset", sort=True):
        arms = _ordered(set(sub["model"]))
        configs = {m: _config(results_dir, m) for m in arms}
        means = [sub.loc[sub["model"] == m, "test"].mean() for m in arms]
        best = best_index(means, "spearman")
        body = []
        for i, m in enumerate(arms):
            ref = reference_arm(m, models, sub)
            summary = paired_summary(paired_rows(sub, m, ref)) if ref in models and ref != m else pd.DataFrame()
            cell = mean_std(sub.loc[sub["model"] == m, "test"])
            body.append([f"`{m}`", _describe(configs[m]), bold(cell) if i in best else cell,
                         str(sub.loc[sub["model"] == m, "seed"].nunique()),
                         gain_cell(summary.iloc[0]) if len(summary) else "—"])
        lines += [f"**{dataset}** (test Spearman; model selection on FLIP's validation rows):", ""]
        lines += table(["arm", "pretraining", "Spearman", "seeds", "vs its scratch twin [95% CI] (W/T/L)"], body)
        pretrained = [m for m in arms if configs[m] is not None]
        pairs = [(a, b, paired_summary(paired_rows(sub, a, b))) for a, b in combinations(pretrained, 2)]
        pairs = [(a, b, summary) for a, b, summary in pairs if len(summary)]
        if pairs:
            lines += ["", "Pretrained arms against each other (paired: same split and seeds):", ""]
            lines += table(["arm", "versus", "difference [95% CI] (W/T/L)"],
                           [[f"`{a}`", f"`{b}`", gain_cell(summary.iloc[0])] for a, b, summary in pairs])
        published = [f"{name} {ref[dataset]:.2f}" for name, ref in FLIP_REFERENCES.items() if dataset in ref]
        if published:
            lines += ["", "Published (FLIP, Dallago et al. 2021): " + ", ".join(published) + "."]
        if dataset == GOAL[0]:
            top = max(means[i] for i, m in enumerate(arms) if m in pretrained) if pretrained else float("nan")
            lines += [f"Goal of #25: the protein flagship at Spearman ≥ {GOAL[1]:.2f}; best pretrained arm here: "
                      f"{top:.3f} ({'met' if top >= GOAL[1] else 'not met'})."]
        lines += [""]
    return "\n".join(lines + [source([CSV], len(df), COMMAND)])
