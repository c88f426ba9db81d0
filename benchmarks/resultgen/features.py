"""Molecule features beside the graph (#28), from ``features.csv`` (the features grid) joined with the arms of
``paired_moleculenet.csv`` that it does not repeat (GNN scratch, forests, chemprop), on the same split ids."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from deepchem_finetune.benchmark.pairing import paired_rows, paired_summary
from deepchem_finetune.benchmark.protocol import ProtocolMismatch, check_protocols

from resultgen import paired
from resultgen.common import ResultsError, gain_cell, label, read_csv, source, table

CSV = "features.csv"
ZOO = "gin_zinc60k_am_desc"
FEATURES = f"gnn+ecfp4+rdkit2d:{ZOO}"
COMMAND = (f"`deepchem-finetune benchmark --datasets bbbp bace_classification clintox delaney freesolv lipo tox21 "
           f"--models {FEATURES} mlp+ecfp4+rdkit2d chemprop+rdkit2d --seeds 0 1 2 --max-epochs 40 --patience 10 "
           "--model-option dropout=0.2 --out benchmarks/out/features`, then `cp benchmarks/out/features/results.csv "
           "benchmarks/results/features.csv`; the other arms are the paired grid's rows")
#: columns of the table: (benchmark model name, header)
ARMS = [(f"scratch:gnn:{ZOO}", "GNN, scratch"), (f"gnn:{ZOO}", f"zoo GNN (`{ZOO}`)"),
        (f"scratch:{FEATURES}", "GNN + features, scratch"), (FEATURES, f"zoo GNN + features (`{ZOO}`)"),
        ("mlp+ecfp4+rdkit2d", "features MLP"), ("rf", "RF (ECFP4)"),
        ("rf_desc", "RF (descriptors)"), ("chemprop", "chemprop v2"), ("chemprop+rdkit2d", "chemprop v2 + RDKit 2D")]
FOREST = ["rf", "rf_desc"]
#: the same two GNN + features arms with one hidden layer of 300 in the head (the grid's head is linear)
HEAD_CSV = "features_head.csv"
HEAD_COMMAND = (f"`deepchem-finetune benchmark --datasets freesolv delaney bace_classification clintox bbbp --models "
                f"{FEATURES} --seeds 0 1 2 --max-epochs 40 --patience 10 --model-option dropout=0.2 "
                "--model-option head_hidden=300 --out benchmarks/out/features_head`, then `cp "
                "benchmarks/out/features_head/results.csv benchmarks/results/features_head.csv`")


def joined(results_dir: Path) -> pd.DataFrame:
    """The features grid's rows and the paired grid's rows of the other arms, after checking that both used the same
    split ids in every (dataset, split, seed) cell and one protocol."""
    feats = read_csv(results_dir, CSV)
    grid = paired.load(results_dir)
    names = [m for m, _ in ARMS]
    df = pd.concat([feats, grid[grid["model"].isin(names) & ~grid["model"].isin(set(feats["model"]))]],
                   ignore_index=True)
    df = df[df["model"].isin(names)]
    hashes = df.groupby(["dataset", "split", "seed"])["split_hash"].nunique()
    if (hashes > 1).any():
        cells = ", ".join(f"{d} seed {s} ({split} split)" for (d, split, s) in hashes[hashes > 1].index)
        raise ResultsError(f"rows of {CSV} / {paired.CSV} used different split ids in: {cells}")
    problems = check_protocols(df)
    if problems:
        raise ProtocolMismatch(f"{CSV} + {paired.CSV}: refusing to make one table from rows made under different "
                               "protocols:\n  " + "\n  ".join(problems))
    return df


def features(results_dir: Path) -> str:
    """RESULTS.md: every arm per dataset, then the paired gains of the zoo GNN + features arm."""
    df = joined(results_dir)
    lines = [paired.protocol_note(df), "",
             "Test score, mean ± std over seeds (n where fewer than 3); best mean of each row among the arms with all "
             "seeds in bold; 'partial': some arm has fewer than 3 seeds there.", ""]
    lines += paired.arm_table(df, [m for m, _ in ARMS], [n for _, n in ARMS], always_n=False)
    refs = [f"scratch:{FEATURES}", f"gnn:{ZOO}", "mlp+ecfp4+rdkit2d"] + FOREST + ["chemprop", "chemprop+rdkit2d"]
    lines += ["", f"Paired gains of the zoo GNN + features arm (ROC-AUC difference, or RMSE change in %; 95% CI; "
              "wins/ties/losses):", ""]
    lines += paired.gain_table(df, FEATURES, [r for r in refs if r in set(df["model"])])
    from_features = int(df["model"].isin(set(read_csv(results_dir, CSV)["model"])).sum())
    lines += ["", source([CSV, paired.CSV], len(df), COMMAND) + f" ({from_features} of them from `{CSV}`)"]
    if (results_dir / HEAD_CSV).exists():
        lines += [""] + head_ablation(read_csv(results_dir, HEAD_CSV), df)
    return "\n".join(lines) + "\n"


def head_ablation(hidden: pd.DataFrame, linear: pd.DataFrame) -> list:
    """Lines: the GNN + features arms with a hidden layer in the head against the same arms with the linear head,
    paired by (dataset, split, seed) on the same split ids."""
    models = [FEATURES, f"scratch:{FEATURES}"]
    both = pd.concat([linear[linear["model"].isin(models)],
                      hidden[hidden["model"].isin(models)].assign(model=lambda d: d["model"] + " [hidden]")])
    hashes = both.groupby(["dataset", "split", "seed"])["split_hash"].nunique()
    if (hashes > 1).any():
        raise ResultsError(f"rows of {HEAD_CSV} and {CSV} used different split ids in {list(hashes[hashes > 1].index)}")
    heads = sorted(set(hidden["head"]))
    summaries = [paired_summary(paired_rows(both, f"{m} [hidden]", m)) for m in models]
    keys = paired.datasets(hidden) + sorted({(r.dataset, r.metric) for s in summaries for r in s.itertuples()
                                             if r.dataset.startswith("average")})
    rows = []
    for dataset, metric in keys:
        hits = [s[(s["dataset"] == dataset) & (s["metric"] == metric)] for s in summaries]
        if any(len(h) for h in hits):
            rows.append([label(dataset, metric)] + [gain_cell(h.iloc[0]) if len(h) else "—" for h in hits])
    lines = [f"Head ablation: the two GNN + features arms with a hidden head (stamp {', '.join(heads)}) against the "
             "linear head above, on the same split ids; ROC-AUC difference or RMSE change in %, 95% CI, "
             "wins/ties/losses (positive ROC-AUC, negative RMSE: the hidden head is better).", ""]
    lines += table(["dataset (metric)", f"zoo GNN + features (`{ZOO}`)", "GNN + features, scratch"], rows)
    return lines + ["", source([HEAD_CSV], len(hidden), HEAD_COMMAND)]
