"""Molecule features beside the graph (#28), from ``features.csv`` (the features grid) joined with the arms of
``paired_moleculenet.csv`` that it does not repeat (GNN scratch, forests, chemprop), on the same split ids."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from deepchem_finetune.benchmark.pairing import LOWER_IS_BETTER, paired_rows
from deepchem_finetune.benchmark.protocol import ProtocolMismatch, check_protocols

from resultgen import paired
from resultgen.common import ResultsError, label, read_csv, source

CSV = "features.csv"
ZOO = "gin_zinc60k_am_desc"
FEATURES = f"gnn+ecfp4+rdkit2d:{ZOO}"
COMMAND = (f"`deepchem-finetune benchmark --datasets bbbp bace_classification clintox delaney freesolv lipo tox21 "
           f"--models {FEATURES} mlp+ecfp4+rdkit2d chemprop+rdkit2d --seeds 0 1 2 --max-epochs 40 --patience 10 "
           "--model-option dropout=0.2 --out benchmarks/out/features`, then `cp benchmarks/out/features/results.csv "
           "benchmarks/results/features.csv` (run here as two out folders: the GNN and MLP arms into "
           "`benchmarks/out/features2` after commit 3e475d1 changed the feature scaling and d652969 the default head, "
           "the chemprop + RDKit 2D arm, which uses neither, into `benchmarks/out/features` before; their rows "
           "concatenated); the other arms are the paired grid's rows; HIV, on a shorter schedule for every arm, by "
           "`deepchem-finetune benchmark --datasets hiv --models gnn:gin_zinc60k_am_desc "
           f"{FEATURES} mlp+ecfp4+rdkit2d rf rf_desc chemprop chemprop+rdkit2d --seeds 0 1 2 --max-epochs 10 "
           "--patience 3 --model-option dropout=0.2 --model-option chemprop.epochs=10 --out benchmarks/out/features_hiv`"
           ", its rows appended to `benchmarks/results/features.csv`")
#: columns of the table: (benchmark model name, header)
ARMS = [(f"scratch:gnn:{ZOO}", "GNN, scratch"), (f"gnn:{ZOO}", f"zoo GNN (`{ZOO}`)"),
        (f"scratch:{FEATURES}", "GNN + features, scratch"), (FEATURES, f"zoo GNN + features (`{ZOO}`)"),
        ("mlp+ecfp4+rdkit2d", "features MLP"), ("rf", "RF (ECFP4)"),
        ("rf_desc", "RF (descriptors)"), ("chemprop", "chemprop v2"), ("chemprop+rdkit2d", "chemprop v2 + RDKit 2D")]
FOREST = ["rf", "rf_desc"]
BEST_FOREST = "best_forest"
#: earlier designs of the features arms, each against the grid's rows of the same arms: (csv, what differs, command)
VARIANTS = [
    ("features_linear_head.csv", "a linear head (fingerprint bits 0/1 as in the grid)",
     f"`deepchem-finetune benchmark --datasets bbbp bace_classification clintox delaney freesolv lipo tox21 --models "
     f"{FEATURES} --no-twins --seeds 0 1 2 --max-epochs 40 "
     "--patience 10 --model-option dropout=0.2 --model-option head_hidden= --out benchmarks/out/explore_lin`, then "
     "`cp benchmarks/out/explore_lin/results.csv benchmarks/results/features_linear_head.csv`"),
    ("features_v1_hidden_stdbits.csv", "a hidden head of 300, fingerprint bits divided by their standard deviation "
     "(the scaler before commit 3e475d1)",
     f"`deepchem-finetune benchmark --datasets freesolv delaney bace_classification clintox bbbp --models {FEATURES} "
     "--seeds 0 1 2 --max-epochs 40 --patience 10 --model-option dropout=0.2 --model-option head_hidden=300 --out "
     "benchmarks/out/features_head` at commit 637b081, then `cp benchmarks/out/features_head/results.csv "
     "benchmarks/results/features_v1_hidden_stdbits.csv`"),
    ("features_v1_linear_stdbits.csv", "the first design: fingerprint bits divided by their standard deviation and "
     "(GNN arms only; the MLP's head was always 300 wide) a linear head",
     "the grid's command at commits 7c47d52 / 637b081 (into `benchmarks/out/features`), its GNN + features and "
     "features MLP rows kept: `python -c \"import pandas as pd; d = pd.read_csv('benchmarks/out/features/results.csv'); "
     "d[~d.model.str.startswith('chemprop')].to_csv('benchmarks/results/features_v1_linear_stdbits.csv', "
     "index=False)\"`"),
]


def joined(results_dir: Path) -> pd.DataFrame:
    """The features grid's rows and the paired grid's rows of the other arms, after checking that both used the same
    split ids in every (dataset, split, seed) cell and one protocol."""
    feats = read_csv(results_dir, CSV)
    grid = paired.load(results_dir)
    names = [m for m, _ in ARMS]
    have = pd.MultiIndex.from_frame(feats[["dataset", "model"]])
    others = grid[grid["model"].isin(names) & ~pd.MultiIndex.from_frame(grid[["dataset", "model"]]).isin(have)]
    df = pd.concat([feats, others], ignore_index=True)
    df = df[df["model"].isin(names)]
    same_split_ids(df, f"{CSV} / {paired.CSV}")
    problems = check_protocols(df)
    if problems:
        raise ProtocolMismatch(f"{CSV} + {paired.CSV}: refusing to make one table from rows made under different "
                               "protocols:\n  " + "\n  ".join(problems))
    return df


def features(results_dir: Path) -> str:
    """RESULTS.md: every arm per dataset, then the paired gains of the zoo GNN + features arm."""
    df = joined(results_dir)
    lines = [paired.protocol_note(df)] + schedule_lines(df) + ["",
             "Test score, mean ± std over seeds (n where fewer than 3); best mean of each row among the arms with all "
             "seeds in bold; 'partial': some arm has fewer than 3 seeds there.", ""]
    lines += paired.arm_table(df, [m for m, _ in ARMS], [n for _, n in ARMS], always_n=False)
    refs = [f"scratch:{FEATURES}", f"gnn:{ZOO}", "mlp+ecfp4+rdkit2d"] + FOREST + ["chemprop", "chemprop+rdkit2d"]
    lines += ["", f"Paired gains of the zoo GNN + features arm (ROC-AUC difference, or RMSE change in %; 95% CI; "
              "wins/ties/losses):", ""]
    lines += paired.gain_table(df, FEATURES, [r for r in refs if r in set(df["model"])])
    lines += ["", "The issue's goal, against the better forest of each dataset (the forest with the better mean there):",
              ""] + paired.gain_table(with_best_forest(df), FEATURES, [BEST_FOREST])
    from_features = int(df["model"].isin(set(read_csv(results_dir, CSV)["model"])).sum())
    lines += ["", source([CSV, paired.CSV], len(df), COMMAND) + f" ({from_features} of them from `{CSV}`)"]
    for csv, what, command in VARIANTS:
        if (results_dir / csv).exists():
            lines += [""] + variant_lines(read_csv(results_dir, csv), df, csv, what, command)
    return "\n".join(lines) + "\n"


def schedule_lines(df: pd.DataFrame) -> list:
    """Where the datasets were trained on different schedules (HIV on a shorter one), one line per schedule, read from
    the stamps of every trained arm (ours and chemprop) of each dataset; nothing where there is one schedule."""
    trained = df[df["max_epochs"].notna()]
    per_dataset = {}
    for dataset, g in trained.groupby("dataset", sort=False):
        peers = g[g["model"].str.startswith("chemprop")]
        ours = g[~g.index.isin(peers.index)]
        per_dataset[dataset] = (f"max {paired.stamped(ours, 'max_epochs', ours_only=False)} epochs, patience "
                                f"{paired.stamped(ours, 'patience', ours_only=False)} for our arms; chemprop "
                                f"{paired.stamped(peers, 'max_epochs', ours_only=False)} "
                                "epochs")
    schedules = {}
    for dataset, metric in paired.datasets(trained):
        schedules.setdefault(per_dataset[dataset], []).append(label(dataset, metric).split(" (")[0])
    if len(schedules) < 2:
        return []
    return ["", "The schedule differs between datasets (the same for every arm within one): " + "; ".join(
        f"{', '.join(names)}: {text}" for text, names in schedules.items()) + "."]


def same_split_ids(df: pd.DataFrame, files: str) -> None:
    """Refuse rows of ``files`` that used different split ids (or none) in some (dataset, split, seed) cell."""
    hashes = df.groupby(["dataset", "split", "seed"])["split_hash"].nunique(dropna=False)
    if (hashes > 1).any():
        cells = ", ".join(f"{d} seed {s} ({split} split)" for (d, split, s) in hashes[hashes > 1].index)
        raise ResultsError(f"rows of {files} used different split ids in: {cells}")


def with_best_forest(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` plus, per dataset, the rows of the forest with the better mean test score, named :data:`BEST_FOREST`."""
    best = []
    for dataset, g in df[df["model"].isin(FOREST)].groupby("dataset"):
        means = g.groupby("model")["test"].mean()
        pick = means.idxmin() if g["metric"].iloc[0] in LOWER_IS_BETTER else means.idxmax()
        best.append(g[g["model"] == pick].assign(model=BEST_FOREST))
    return pd.concat([df] + best, ignore_index=True)


def variant_lines(variant: pd.DataFrame, grid: pd.DataFrame, csv: str, what: str, command: str) -> list:
    """Lines: the grid's features arms against the same arms built another way (``variant``), paired by (dataset,
    split, seed) on the same split ids; one column per arm present in both."""
    models = [m for m in (FEATURES, f"scratch:{FEATURES}", "mlp+ecfp4+rdkit2d")
              if m in set(variant["model"]) and m in set(grid["model"])]
    both = pd.concat([grid[grid["model"].isin(models)],
                      variant[variant["model"].isin(models)].assign(model=lambda d: d["model"] + " [variant]")])
    same_split_ids(both, f"{csv} and {CSV}")
    if "head" not in grid.columns or grid.loc[grid["model"].isin(models), "head"].isna().any():
        raise ResultsError(f"{CSV}: rows of the features arms without a head stamp were made before the current "
                           f"design; rerun them before comparing with {csv}")
    pairs = [(m, f"{m} [variant]") for m in models]
    diffs = [paired_rows(both, *pair)["diff"] for pair in pairs]
    if all(len(d) and (d == 0).all() for d in diffs):
        raise ResultsError(f"{csv} holds the very scores of {CSV}: the grid was not rerun with the current design")
    lines = [f"Ablation: the grid's arms against the same arms with {what}; paired on the same split ids: ROC-AUC "
             "difference or RMSE change in %, 95% CI, wins/ties/losses (positive ROC-AUC, negative RMSE: the grid's "
             "design is better).", ""]
    lines += paired.pairs_table(both, pairs, [paired.arm_name(m) for m in models])
    return lines + ["", source([csv], len(variant), command)]
