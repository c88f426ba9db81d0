"""Paired benchmark of the fine-tuning recipe and of ensembles (#24), on MoleculeNet with DeepChem's scaffold split.

For every (dataset, seed) cell, the same pretrained backbone (default: ``gin_zinc60k_desc30``, ``finetune``'s SMILES
backbone when the committed rows were made; ``--pretrained`` for another), split and head:

(a) ``recipe:constant`` (today's behaviour: constant learning rate 1e-3 for backbone and head, no clipping, no
    averaging) against ``recipe:<name>`` (``--recipe``, default ``stable``, with the learning rates of
    :data:`deepchem_finetune.recipe.PRESETS`), both one model with seed ``seed``: the paired test-metric difference
    and, per arm, the mean and std over seeds;
(b) ``ensemble<N>`` (the mean of N members of the ``--recipe`` arm, member k with seed ``seed + 100 k``; member 0 is
    the ``recipe:<name>`` model) against that single member: the paired difference, and the ensemble's
    Spearman(|error|, std) on the test set (mean over tasks).

(c) with ``--ablation``: single models of the ``--recipe`` arm with one component removed (:data:`ABLATIONS`: the
    warm-up and decay, the clipping, the weight averaging, or the backbone's lower learning rate), each compared with
    the whole recipe's rows of ``--reference`` (same cells): which components earn their place in the default.

Rows (one per cell and arm) are appended to ``--out`` with the protocol stamp of
:mod:`deepchem_finetune.benchmark.protocol` (``lr_schedule`` holds the recipe). A rerun skips rows already in the
CSV; members' test/valid predictions are kept in ``<out>.members/`` so a killed ensemble resumes member by member.
Every selection is at the best validation epoch (patience ``--patience``, at most ``--max-epochs``).

    python benchmarks/recipe_and_ensemble.py --out benchmarks/results/recipe_ensemble.csv      # hours on 2 cores
    python benchmarks/recipe_and_ensemble.py --ablation --datasets delaney freesolv bbbp clintox --max-epochs 40 \
        --patience 10 --out benchmarks/out/recipe_ablation.csv                                  # (c), as committed
    python benchmarks/recipe_and_ensemble.py --quick                                           # ~1 min smoke test
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np
import pandas as pd

import deepchem_finetune  # noqa: F401  (before deepchem: quiet import)
import deepchem as dc
from deepchem_finetune import storage
from deepchem_finetune._compat import rdkit_errors_silenced
from deepchem_finetune.benchmark.pairing import format_summary, paired_rows, paired_summary
from deepchem_finetune.benchmark.protocol import model_fields, run_fields
from deepchem_finetune.data import dataset_mode, load_moleculenet
from deepchem_finetune.featurizers import MolGraphFeaturizer, featurizer_from_spec
from deepchem_finetune.hub import read_pretrained
from deepchem_finetune.metrics import masked_rmse, masked_roc_auc
from deepchem_finetune.models import MolGNNModel
from deepchem_finetune.recipe import get_recipe, preset
from deepchem_finetune.training import fit_with_early_stopping
from deepchem_finetune.workflow.evaluation import uncertainty_metrics

DATASETS = ("bbbp", "bace_classification", "clintox", "delaney", "freesolv", "lipo")
#: one component of a recipe removed: recipe options overridden, and the backbone's learning rate as a fraction of
#: the head's (None: the recipe's preset)
ABLATIONS = {
    "no-schedule": ({"warmup": 0.0, "decay": "constant", "min_lr_ratio": 0.0}, None),
    "no-clip": ({"clip_norm": None}, None),
    "no-ema": ({"ema_decay": None}, None),
    "same-lr": ({}, 1.0),
}
KEY = ["dataset", "split", "seed", "model"]

#: the backbone the committed rows were measured with (``finetune``'s SMILES default before #25 made it the flagship)
MEASURED_BACKBONE = "gin_zinc60k_desc30"


def _labels(part, transformers, mode):
    y = part.y if mode == "classification" else dc.trans.undo_transforms(part.y, transformers)
    return np.asarray(y, dtype=float), part.w


def _score(mode, y, w, pred) -> float:
    return masked_roc_auc(y, w, pred) if mode == "classification" else masked_rmse(y, w, pred)


def arm_options(arm: str, pretrained: bool) -> dict:
    """Model options of an arm: a named recipe with its :func:`~deepchem_finetune.recipe.preset` learning rates, or
    ``<recipe>-<ablation>`` (:data:`ABLATIONS`): that recipe with one component removed.

    Examples
    --------
    >>> o = arm_options("stable-same-lr", pretrained=True)
    >>> o["learning_rate"], o["head_lr_mult"], o["recipe"].ema_decay
    (0.001, 1.0, 0.99)
    >>> arm_options("stable-no-ema", pretrained=True)["recipe"].ema_decay is None
    True
    """
    name, _, ablation = arm.partition("-")
    if ablation and ablation not in ABLATIONS:
        raise ValueError(f"unknown ablation {ablation!r} in {arm!r}; choose one of {sorted(ABLATIONS)}")
    overrides, ratio = ABLATIONS[ablation] if ablation else ({}, None)
    opts = preset(name, pretrained=pretrained, backbone_lr_ratio=ratio)
    return {**opts, "recipe": get_recipe(name, **overrides)}


def _build(args, recipe: str, seed: int, n_tasks: int, mode: str, artifact):
    opts = arm_options(recipe, pretrained=artifact is not None)
    common = dict(n_tasks=n_tasks, mode=mode, seed=seed, learning_rate=opts["learning_rate"], recipe=opts["recipe"],
                  strategy_options={"head_lr_mult": opts["head_lr_mult"]}, batch_size=args.batch_size)
    if artifact is not None:
        return MolGNNModel.from_pretrained(artifact, **common)
    return MolGNNModel(featurizer=MolGraphFeaturizer("rich"), num_layers=args.num_layers, hidden_dim=args.hidden_dim,
                       **common)


def _member(args, cache: str, recipe: str, seed: int, data, artifact) -> dict:
    """Train (or read back from ``cache``) one model: its test/valid predictions, scores and protocol fields."""
    if os.path.exists(cache):
        with np.load(cache, allow_pickle=False) as z:
            return {"test_pred": z["test_pred"], "valid_pred": z["valid_pred"], **json.loads(str(z["info"]))}
    tasks, parts, transformers, mode = data
    model = _build(args, recipe, seed, len(tasks), mode, artifact)
    start = time.time()
    out = fit_with_early_stopping(model, parts[0], parts[1], parts[2], transformers, max_epochs=args.max_epochs,
                                  patience=args.patience, progress=not args.no_progress,
                                  desc=f"{recipe} seed {seed}")
    fields = model_fields(model, args.max_epochs, args.patience)
    fields["lr_schedule"] = json.dumps({"recipe": recipe, **model.recipe.config}, sort_keys=True)
    info = {"test": out["test_score"], "valid": out["valid_score"], "best_epoch": out["best_epoch"],
            "epochs": out["epochs_run"], "seconds": round(time.time() - start, 1), **fields}
    preds = {name: model.predict(part, transformers) for name, part in (("test_pred", parts[2]),
                                                                          ("valid_pred", parts[1]))}
    os.makedirs(os.path.dirname(cache), exist_ok=True)
    with storage.atomic_file(cache, "wb") as fh:
        np.savez(fh, info=json.dumps(info), **preds)
    return {**preds, **info}


def _rows_of_cell(args, dataset: str, seed: int, done: set, artifact) -> list:
    singles = ([f"{args.recipe}-{a}" for a in args.ablation] if args.ablation is not None
               else ["constant", args.recipe])
    wanted = [f"recipe:{r}" for r in singles] + ([f"ensemble{args.members}"] if args.ablation is None else [])
    if all((dataset, "scaffold", seed, name) in done for name in wanted):
        return []  # a rerun of a finished cell loads nothing
    mode = dataset_mode(dataset)
    featurizer = (featurizer_from_spec(artifact.featurizer) if artifact is not None else MolGraphFeaturizer("rich"))
    with rdkit_errors_silenced():  # DeepChem's scaffold splitter parses every SMILES again, warning per molecule
        tasks, parts, transformers = load_moleculenet(dataset, featurizer, "scaffold", data_dir=args.data_dir)
    data = (tasks, parts, transformers, mode)
    base = {"dataset": dataset, "split": "scaffold", "seed": seed, "metric": "roc_auc" if mode == "classification"
            else "rmse", "pretrained": args.pretrained, **run_fields(parts)}
    cache = lambda recipe, k: os.path.join(args.out + ".members", f"{dataset}_seed{seed}_{recipe}_m{k}.npz")  # noqa
    rows = []
    for recipe in singles:
        name = f"recipe:{recipe}"
        if (dataset, "scaffold", seed, name) not in done:
            m = _member(args, cache(recipe, 0), recipe, seed, data, artifact)
            rows.append({**base, "model": name, "members": 1, **{k: v for k, v in m.items() if "pred" not in k}})
    name = f"ensemble{args.members}"
    if args.ablation is None and (dataset, "scaffold", seed, name) not in done:
        members = [_member(args, cache(args.recipe, k), args.recipe, seed + 100 * k, data, artifact)
                   for k in range(args.members)]
        y_test, w_test = _labels(parts[2], transformers, mode)
        y_valid, w_valid = _labels(parts[1], transformers, mode)
        test_stack = np.stack([m["test_pred"] for m in members])
        mean, std = test_stack.mean(axis=0), test_stack.std(axis=0)
        valid_mean = np.stack([m["valid_pred"] for m in members]).mean(axis=0)
        unc = uncertainty_metrics(y_test, w_test, mean, std, mode, list(tasks))
        rhos = [u["spearman_abs_error_std"] for u in unc.values() if u["spearman_abs_error_std"] is not None]
        eces = [u["ece"] for u in unc.values() if u.get("ece") is not None]
        fields = {k: v for k, v in members[0].items() if "pred" not in k and k not in ("test", "valid", "best_epoch",
                                                                                        "epochs", "seconds")}
        rows.append({**base, "model": name, "members": args.members, **fields,
                     "test": _score(mode, y_test, w_test, mean), "valid": _score(mode, y_valid, w_valid, valid_mean),
                     "best_epoch": np.nan, "epochs": sum(m["epochs"] for m in members),
                     "seconds": sum(m["seconds"] for m in members),
                     "spearman_abs_error_std": float(np.mean(rhos)) if rhos else np.nan,
                     "ece": float(np.mean(eces)) if eces else np.nan})
    return rows


def _append(path: str, rows: list) -> None:
    with storage.lock(path + ".lock"):
        old = pd.read_csv(path) if os.path.exists(path) else pd.DataFrame()
        new = pd.concat([old, pd.DataFrame(rows)], ignore_index=True)
        with storage.atomic_file(path, newline="") as fh:
            new.to_csv(fh, index=False)


def summary(df: pd.DataFrame, recipe: str, members: int) -> str:
    """Per dataset and arm: mean and std over seeds; the two paired comparisons with 95% CIs (and each ablation of
    the recipe against the whole recipe)."""
    df = df.assign(strategy="-")
    agg = df.groupby(["dataset", "model"])["test"].agg(["mean", "std", "count"]).reset_index()
    lines = ["test metric per arm (mean, std over seeds, n):"]
    lines += [f"  {r.dataset:20s} {r.model:18s} {r.mean:.4f} ± {r.std:.4f} (n={r.count})" for r in agg.itertuples()]
    ablated = [(f"recipe:{recipe}-{a}", f"recipe:{recipe}", f"recipe {recipe}, ablation {a}, vs the whole recipe")
               for a in ABLATIONS]
    for arm, ref, what in ((f"recipe:{recipe}", "recipe:constant", f"(a) recipe {recipe} vs constant"),
                           (f"ensemble{members}", f"recipe:{recipe}", f"(b) ensemble of {members} vs one member"),
                           *ablated):
        pairs = paired_rows(df, arm, ref)
        if len(pairs):
            lines += ["", f"{what} (positive = {arm} better):", *format_summary(paired_summary(pairs))]
    ens = df[df["model"] == f"ensemble{members}"]
    if "spearman_abs_error_std" in df.columns and len(ens):
        rho = ens.groupby("dataset")["spearman_abs_error_std"].agg(["mean", "std", "count"])
        lines += ["", "ensemble Spearman(|error|, std) on test (mean over tasks), mean ± std over seeds:"]
        lines += [f"  {d:20s} {r['mean']:.3f} ± {r['std']:.3f} (n={int(r['count'])})" for d, r in rho.iterrows()]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--recipe", default="stable", help="the recipe compared with 'constant'")
    parser.add_argument("--members", type=int, default=5)
    parser.add_argument("--pretrained", default=MEASURED_BACKBONE, help="zoo name, folder or none")
    parser.add_argument("--max-epochs", type=int, default=100)
    parser.add_argument("--patience", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--num-layers", type=int, default=5, help="from-scratch GNN (--pretrained none)")
    parser.add_argument("--hidden-dim", type=int, default=300, help="from-scratch GNN (--pretrained none)")
    parser.add_argument("--data-dir", default=os.environ.get("DEEPCHEM_DATA_DIR", "../shared/data/moleculenet"))
    parser.add_argument("--out", help="CSV of rows (default benchmarks/results/recipe_ensemble.csv; with --quick "
                                      "benchmarks/out/recipe_ensemble_quick.csv)")
    parser.add_argument("--quick", action="store_true", help="ESOL and BBBP, seed 0, 3 members, 2 epochs, a tiny "
                                                             "GNN from scratch: checks the pipeline in about a minute")
    parser.add_argument("--ablation", nargs="*", choices=sorted(ABLATIONS),
                        help="instead of (a) and (b): single models of --recipe with one component removed (all "
                             "when none is named), compared with the whole recipe's rows in --reference")
    parser.add_argument("--reference", default="benchmarks/results/recipe_ensemble.csv",
                        help="with --ablation: the CSV holding the whole recipe's rows")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    if args.ablation == []:  # all of them (from scratch there is no backbone learning rate to ablate)
        args.ablation = sorted(set(ABLATIONS) - ({"same-lr"} if args.quick or args.pretrained.lower() == "none"
                                                  else set()))
    if get_recipe(args.recipe).is_default and args.ablation is not None:  # (an unknown recipe fails here)
        parser.error(f"--ablation removes parts of a recipe; {args.recipe!r} has none: use --recipe stable")
    if args.quick:
        args.datasets, args.seeds, args.members, args.max_epochs, args.patience = ["delaney", "bbbp"], [0], 3, 2, None
        args.pretrained, args.num_layers, args.hidden_dim = "none", 2, 32
    args.out = args.out or ("benchmarks/out/recipe_ensemble_quick.csv" if args.quick
                            else "benchmarks/results/recipe_ablation.csv" if args.ablation is not None
                            else "benchmarks/results/recipe_ensemble.csv")
    artifact = None if args.pretrained.lower() == "none" else read_pretrained(args.pretrained)
    if artifact is None and "same-lr" in (args.ablation or ()):
        parser.error("the same-lr ablation needs a pretrained backbone (from scratch there is one learning rate)")
    start = time.time()
    for dataset in args.datasets:
        for seed in args.seeds:
            done = set()
            if os.path.exists(args.out):
                old = pd.read_csv(args.out)
                done = set(map(tuple, old[KEY].itertuples(index=False, name=None)))
            rows = _rows_of_cell(args, dataset, seed, done, artifact)
            if rows:
                _append(args.out, rows)
                print(f"{dataset} seed {seed}: " + ", ".join(f"{r['model']} {r['test']:.4f}" for r in rows),
                      flush=True)
    df = pd.read_csv(args.out)
    if args.ablation is not None and os.path.exists(args.reference):
        from resultgen.recipe import check_shared_protocol  # benchmarks/ is this script's folder
        ref = pd.read_csv(args.reference)
        df = pd.concat([df, ref[(ref["model"] == f"recipe:{args.recipe}") & ref["dataset"].isin(df["dataset"])]],
                       ignore_index=True)
        check_shared_protocol(df)  # refuses to pair rows of other epochs, patience, backbone or split
    print(f"\n{summary(df, args.recipe, args.members)}\n\nrows in {args.out} "
          f"({time.time() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
