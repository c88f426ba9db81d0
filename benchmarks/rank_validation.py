"""Does the transferability estimate pick the backbone that fine-tunes best? (#26)

For every dataset of the committed paired fine-tuning rows, the estimators of ``deepchem_finetune.transfer`` score
each measured arm's frozen backbone (``scratch``: the random-init twin) on **the same training split** those rows
used; their ranking is compared with the measured mean paired gain over the protocol's scratch arm (scratch = 0):
Spearman per dataset, and whether the top-ranked arm is the measured best or within the 95% CI of the best (the
paired t-interval of best minus pick over seeds contains 0, ``deepchem_finetune.benchmark.pairing``). Fixed policies
("always X") are scored the same way; the default policy is ``always gin_zinc60k_desc30``
(``finetune``'s SMILES default when these rows were made).

Protocols (rows stamped in ``protocol``):

* ``ablation``: ``benchmarks/results/descriptor_ablation.csv`` (#10; DeepChem scaffold split, seeds 0-2, max 25
  epochs, patience 6; HIV max 5 epochs). Readable arms: scratch, zoo ``gin_zinc60k_desc30`` (= ``abl/desc30``: same
  pretraining command, output folder, 1,939 steps and 248,192 molecules in its provenance; RESULTS.md names them the
  same checkpoint; the ablation rows store no sha256), ``gin_zinc60k_am_desc``, ``benchmarks/checkpoints/abl_*_run2``.
  The ``am30`` / ``both30`` / ``desc15`` weights of the first block were not kept and are left out.
* ``hu2020``: ``benchmarks/results/hu2020_gcn.csv`` (their chirality-aware scaffold split, 100 epochs): scratch GCN,
  zoo ``hu2020_gcn_contextpred``, ``hu2020_gcn_supervised_contextpred`` (converted from the same ``.pth`` files: their
  provenance ``source_sha256`` is the sha256 of the files in ``../shared/data/pretrain_gnns``).
* ``paired``: the twin grid: ``benchmarks/results/paired_moleculenet.csv`` plus the running grid's
  ``benchmarks/out/paired/results.csv`` (newer rows win); datasets whose four arms all have >= 2 seeds. The Hu GCN arm
  is the zoo's ``hu2020_gcn_supervised_contextpred`` (its rows' pretrained_sha256 is that entry's source_sha256).

``--short-finetune E`` adds the signal "fine-tune each candidate E epochs on a random 80% of (at most 2,000 molecules
of) the training part, score the other 20%" as estimator ``finetune<E>``. The committed rows were made by

    OMP_NUM_THREADS=1 python benchmarks/rank_validation.py --short-finetune 2 --data-dir ../shared/data/moleculenet
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import time

import numpy as np
import pandas as pd
from scipy import stats

import deepchem_finetune  # noqa: F401  (quiet DeepChem import)
from deepchem_finetune.benchmark.pairing import paired_rows, t_interval
from deepchem_finetune.data import dataset_mode, load_moleculenet
from deepchem_finetune.featurizers import MolGraphFeaturizer
from deepchem_finetune.splits import Hu2020ScaffoldSplitter
from deepchem_finetune.transfer import ESTIMATORS, rank_zoo

DEFAULT = "gin_zinc60k_desc30"
HU_PTH = "gnn:../shared/data/pretrain_gnns/chem_model_architecture/gcn_supervised_contextpred.pth"
ARMS = {
    "ablation": {"gnn": "scratch", "gnn:benchmarks/out/abl/desc30": DEFAULT, "gnn:gin_zinc60k_desc30": DEFAULT,
                 "gnn:gin_zinc60k_am_desc": "gin_zinc60k_am_desc",
                 "gnn:benchmarks/checkpoints/abl_am30_run2": "benchmarks/checkpoints/abl_am30_run2",
                 "gnn:benchmarks/checkpoints/abl_both30_run2": "benchmarks/checkpoints/abl_both30_run2"},
    "hu2020": {"scratch": "scratch:hu2020_gcn_contextpred", "gcn_contextpred": "hu2020_gcn_contextpred",
               "gcn_supervised_contextpred": "hu2020_gcn_supervised_contextpred"},
    "paired": {"scratch:gnn:gin_zinc60k_am_desc": "scratch:gin_zinc60k_am_desc",
               "gnn:gin_zinc60k_am_desc": "gin_zinc60k_am_desc",
               HU_PTH: "hu2020_gcn_supervised_contextpred",
               "scratch:" + HU_PTH: "scratch:hu2020_gcn_supervised_contextpred"},
}
REFERENCE = {"ablation": "gnn", "hu2020": "scratch", "paired": "scratch:gnn:gin_zinc60k_am_desc"}
NOTES = {"ablation": "descriptor_ablation.csv: DeepChem scaffold, seeds 0-2, max 25 epochs (HIV 5), patience 6",
         "hu2020": "hu2020_gcn.csv: Hu et al. scaffold split, 100 epochs, test at best valid",
         "paired": "paired twin grid: DeepChem scaffold, max 40 epochs, patience 10"}
SPLIT = {"ablation": "scaffold", "hu2020": "hu2020", "paired": "scaffold"}


def measured_rows(protocol: str) -> pd.DataFrame:
    """Benchmark-shaped rows (dataset, split, seed, model, strategy, metric, test) of a protocol's readable arms."""
    if protocol == "ablation":
        df = pd.read_csv("benchmarks/results/descriptor_ablation.csv")
        df = df[df["model"].isin(ARMS[protocol])]
        run = df[df["model"] != "gnn"].groupby("dataset")["run"].max()          # scratch from the arms' session
        return df[df["run"] == df["dataset"].map(run)]
    if protocol == "hu2020":
        df = pd.read_csv("benchmarks/results/hu2020_gcn.csv")
        return df.assign(model=df["weights"], strategy="-", metric="roc_auc", test=df["test_at_best_valid"])
    paths = [p for p in ("benchmarks/results/paired_moleculenet.csv", "benchmarks/out/paired/results.csv")
             if os.path.exists(p)]                              # the committed copy, then the running grid's rows
    if not paths:
        return pd.DataFrame(columns=["dataset", "split", "seed", "model", "strategy", "metric", "test"])
    df = pd.concat([pd.read_csv(p) for p in paths]).drop_duplicates(["dataset", "model", "strategy", "split", "seed"],
                                                                     keep="last")
    df = df[df["model"].isin(ARMS[protocol])]
    seeds = df.groupby(["dataset", "model"])["seed"].nunique().unstack()
    complete = seeds.index[(seeds.reindex(columns=list(ARMS[protocol])) >= 2).all(axis=1)]
    return df[df["dataset"].isin(complete)]


def gains(df: pd.DataFrame, protocol: str) -> dict:
    """arm -> (mean paired gain over the reference arm, CI low, CI high, seeds); the reference arm: (0, 0, 0, n)."""
    ref = REFERENCE[protocol]
    out = {ref: (0.0, 0.0, 0.0, int(df[df["model"] == ref]["seed"].nunique()))}
    for arm in sorted(set(df["model"]) - {ref}):
        diff = paired_rows(df, arm, ref)["diff"]
        out[arm] = (*t_interval(diff), len(diff))
    return out


def within_ci(df: pd.DataFrame, best: str, pick: str) -> bool:
    """The pick is the best, or best - pick (paired over seeds) has a 95% CI reaching 0."""
    if pick == best:
        return True
    low = t_interval(paired_rows(df, best, pick)["diff"])[1]
    return bool(np.isfinite(low) and low <= 0)


def training_part(split: str, dataset: str, data_dir: str):
    """The training part of the split the rows used, as a featurized DeepChem dataset."""
    if split == "hu2020":
        _, (train, _, _), _ = load_moleculenet(dataset, MolGraphFeaturizer("hu2020"), Hu2020ScaffoldSplitter(),
                                               data_dir=data_dir, transformers=[])
        path = f"benchmarks/results/hu2020_splits/{dataset}_hu2020_scaffold.json"
        path = path if os.path.exists(path) else path + ".gz"
        saved = json.load(gzip.open(path, "rt") if path.endswith(".gz") else open(path))["train"]
    else:
        _, (train, _, _), _ = load_moleculenet(dataset, MolGraphFeaturizer("rich"), "scaffold", data_dir=data_dir)
        path = f"benchmarks/out/paired/splits/{dataset}_scaffold_seed0.json"
        saved = json.load(open(path))["train"] if os.path.exists(path) else None
    if saved is not None and [str(i) for i in train.ids] != [str(i) for i in saved]:
        raise RuntimeError(f"{dataset}: the {split} training part differs from the one the rows used")
    return train


def labels(train) -> np.ndarray:
    y = np.asarray(train.y, dtype=float).reshape(len(train), -1).copy()
    y[np.asarray(train.w).reshape(y.shape) == 0] = np.nan
    return y


def short_finetune(train, entries, mode: str, epochs: int, max_molecules: int, seed: int = 0) -> dict:
    """entry -> (inner-validation score, seconds) after ``epochs`` epochs of full fine-tuning on a seeded random 80%
    of a seeded subset of the training part, scored on the other 20%; -RMSE for regression (higher is better)."""
    import deepchem as dc
    from deepchem_finetune import hub
    from deepchem_finetune.featurizers import featurize_smiles, featurizer_from_spec
    from deepchem_finetune.metrics import score
    from deepchem_finetune.models import MolGNNModel
    rng = np.random.default_rng(seed)
    idx = np.arange(len(train))
    if len(idx) > max_molecules:
        idx = np.sort(rng.choice(idx, max_molecules, replace=False))
    # random, not scaffold: the scaffold split's small-scaffold tail of BBBP's training part is all one class
    inner = np.zeros(len(idx), dtype=bool)
    inner[rng.permutation(len(idx))[:int(0.8 * len(idx))]] = True

    def part(featurizer, rows):  # the rows featurized with the candidate's own featurizer
        fb = featurize_smiles([str(i) for i in train.ids[rows]], featurizer, skip_invalid=True, warn=False)
        kept = rows[fb.indices]
        return dc.data.NumpyDataset(fb.features, train.y[kept], train.w[kept], train.ids[kept])

    out = {}
    for entry in entries:
        start = time.perf_counter()
        twin = entry.startswith("scratch")
        source = {"scratch": DEFAULT}.get(entry, entry[len("scratch:"):] if twin else entry)
        artifact = hub.read_pretrained(source)
        featurizer = featurizer_from_spec(artifact.featurizer)
        fit_part, held = part(featurizer, idx[inner]), part(featurizer, idx[~inner])
        kwargs = dict(n_tasks=train.y.shape[1], mode=mode, seed=seed, batch_size=32, learning_rate=1e-3)
        model = (MolGNNModel._from_backbone_spec(artifact.backbone, artifact.featurizer, **kwargs) if twin
                 else MolGNNModel.from_pretrained(artifact, strategy="full", **kwargs))
        model.fit(fit_part, nb_epoch=epochs)
        value = score(model, held, mode=mode)
        out[entry] = (value if mode == "classification" else -value, time.perf_counter() - start)
    return out


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--summary":  # the table of committed rows, nothing recomputed
        print("\n".join(summary_markdown(pd.read_csv(sys.argv[2]))))
        return
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data-dir", default=os.environ.get("DEEPCHEM_DATA_DIR", "../shared/data/moleculenet"))
    p.add_argument("--protocols", nargs="+", default=list(ARMS))
    p.add_argument("--datasets", nargs="+", help="only these datasets (default: every dataset of the rows)")
    p.add_argument("--max-molecules", type=int, default=5000)
    p.add_argument("--short-finetune", type=int, default=0, metavar="EPOCHS")
    p.add_argument("--finetune-molecules", type=int, default=2000)
    p.add_argument("--out", default="benchmarks/results/rank_validation.csv",
                   help="rows of the other protocols already in it are kept")
    args = p.parse_args()
    tables = {proto: measured_rows(proto) for proto in args.protocols}
    tables = {proto: df[df["dataset"].isin(args.datasets)] if args.datasets else df for proto, df in tables.items()}
    needed = {}                                           # (split, dataset) -> candidates of every protocol
    for proto, df in tables.items():
        for ds in sorted(df["dataset"].unique()):
            needed.setdefault((SPLIT[proto], ds), set()).update(ARMS[proto][m] for m in df[df.dataset == ds].model)
    estimators = list(ESTIMATORS)
    scores, info = {}, {}
    for (split, ds), entries in sorted(needed.items()):
        start = time.perf_counter()
        train = training_part(split, ds, args.data_dir)
        mode = dataset_mode(ds)
        ranking = rank_zoo([str(i) for i in train.ids], labels(train), task_type=mode, candidates=sorted(entries),
                           estimator=estimators, max_molecules=args.max_molecules)
        for row in ranking.rows:
            scores[(split, ds, row["entry"])] = dict(row["scores"], _seconds=(row["featurize_s"] or 0)
                                                     + (row["embed_s"] or 0) + (row["score_s"] or 0))
        if args.short_finetune:
            for entry, (value, secs) in short_finetune(train, sorted(entries), mode, args.short_finetune,
                                                       args.finetune_molecules).items():
                scores[(split, ds, entry)][f"finetune{args.short_finetune}"] = value
                scores[(split, ds, entry)][f"_finetune_seconds"] = secs
        info[(split, ds)] = (len(train), ranking.n_molecules)
        print(f"{split} {ds}: {len(entries)} candidates, {ranking.n_molecules} of {len(train)} molecules, "
              f"{time.perf_counter() - start:.0f} s", flush=True)
    if args.short_finetune:
        estimators.append(f"finetune{args.short_finetune}")
    rows = []
    for proto, df in tables.items():
        for ds, g in df.groupby("dataset"):
            measured = gains(g, proto)
            best = max(measured, key=lambda a: measured[a][0])
            order = sorted(measured, key=lambda a: -measured[a][0])
            for arm, (gain, low, high, n) in measured.items():
                entry = ARMS[proto][arm]
                s = scores[(SPLIT[proto], ds, entry)]
                for est in estimators:
                    rows.append({"protocol": proto, "protocol_note": NOTES[proto], "dataset": ds,
                                 "metric": g["metric"].iloc[0], "arm": arm, "entry": entry, "estimator": est,
                                 "estimate": s.get(est), "gain": gain, "gain_ci_low": low, "gain_ci_high": high,
                                 "n_seeds": n, "measured_rank": order.index(arm) + 1, "is_best": arm == best,
                                 "within_ci_of_best": within_ci(g, best, arm),
                                 "n_train": info[(SPLIT[proto], ds)][0], "n_scored": info[(SPLIT[proto], ds)][1],
                                 "seconds": s["_finetune_seconds"] if est.startswith("finetune") else s["_seconds"]})
    out = pd.DataFrame(rows)
    out["estimate_rank"] = out.groupby(["protocol", "dataset", "estimator"])["estimate"].rank(ascending=False,
                                                                                                method="first")
    if os.path.exists(args.out):  # rows of the protocols not rerun now are kept
        kept = pd.read_csv(args.out)
        out = pd.concat([kept[~kept["protocol"].isin(args.protocols)], out], ignore_index=True)
    out.to_csv(args.out, index=False)
    print("\n".join(summary_markdown(out)))


def summary_markdown(rows: pd.DataFrame) -> list:
    """Per protocol: each estimator's mean Spearman and hits; each fixed policy's hits."""
    lines = ["| protocol | datasets | policy | mean Spearman (estimate vs gain) | picks the best | best or within CI |",
             "|---|---|---|---|---|---|"]
    groups = list(rows.groupby("protocol", sort=False))
    if len(groups) > 1:
        groups.append(("all", rows.assign(dataset=rows["protocol"] + ":" + rows["dataset"])))
    for proto, g in groups:
        n = g["dataset"].nunique()
        for est, e in g.groupby("estimator", sort=False):
            rhos, best, ci = [], 0, 0
            for _, d in e.groupby("dataset"):
                rho = stats.spearmanr(d["estimate"], d["gain"]).statistic if d["estimate"].nunique() > 1 else np.nan
                rhos.append(rho)
                top = d.sort_values("estimate_rank").iloc[0]
                best += bool(top["is_best"])
                ci += bool(top["within_ci_of_best"])
            lines.append(f"| {proto} | {n} | auto ({est}) | {np.nanmean(rhos):+.2f} | {best}/{n} | {ci}/{n} |")
        first = g[g["estimator"] == g["estimator"].iloc[0]]
        # "always <entry>", over the datasets where that entry was measured
        for entry, e in first.groupby("entry") if proto != "all" else []:
            k = e["dataset"].nunique()
            lines.append(f"| {proto} | {k} | always {entry} | | {int(e['is_best'].sum())}/{k} | "
                         f"{int(e['within_ci_of_best'].sum())}/{k} |")
    return lines


if __name__ == "__main__":
    main()
