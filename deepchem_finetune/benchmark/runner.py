"""The benchmark grid: datasets x models x strategies x splits x seeds, one CSV row per cell, resumable.

Model names: ``gnn`` (MolGNN from scratch), ``gnn:<zoo name | checkpoint folder | .pth>`` (pretrained,
fine-tuned with each strategy), ``rf`` (DeepChem random forest on ECFP4, the classical baseline).
Dataset names: any ``dc.molnet`` name known to :func:`~deepchem_finetune.data.load_moleculenet`, or
``flip_gb1:<split>`` (GNN models do not apply there). Splits: ``scaffold`` (DeepChem's), ``hu2020_scaffold``,
``random_scaffold`` (seeded by the cell's seed). Each cell trains with early stopping and reports the test
score at the best-validation epoch.
"""
from __future__ import annotations

import json
import os
import time
from typing import Dict, Iterable, List, Optional

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from deepchem_finetune._compat import import_deepchem_quietly, rdkit_errors_silenced
from deepchem_finetune.benchmark.leakage import leaked
from deepchem_finetune.data import dataset_mode, load_moleculenet
from deepchem_finetune.featurizers import MolGraphFeaturizer
from deepchem_finetune.metrics import masked_rmse, masked_roc_auc
from deepchem_finetune.models import MolGNNModel
from deepchem_finetune.models.pretrained import read_pretrained
from deepchem_finetune.splits import Hu2020ScaffoldSplitter, RandomScaffoldSplitter
from deepchem_finetune.training import fit_with_early_stopping

dc = import_deepchem_quietly()

KEY = ["dataset", "model", "strategy", "split", "seed"]
QUICK = {"max_epochs": 3, "patience": 3, "model_options": {"num_layers": 2, "hidden_dim": 32}}


def _splitter(name: str, seed: int):
    if name == "scaffold":
        return "scaffold"
    if name == "hu2020_scaffold":
        return Hu2020ScaffoldSplitter()
    if name == "random_scaffold":
        return RandomScaffoldSplitter(seed)
    raise ValueError(f"unknown split {name!r}; choose scaffold, hu2020_scaffold or random_scaffold")


def _cells(datasets, models, strategies, splits, seeds):
    for d in datasets:
        for m in models:
            for strategy in (strategies if ":" in m else ["-"]):
                for split in splits:
                    for seed in seeds:
                        yield {"dataset": d, "model": m, "strategy": strategy, "split": split, "seed": seed}


def _run_rf(cell, data_dir, mode):
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
    ecfp = dc.feat.CircularFingerprint(size=2048, radius=2)
    with rdkit_errors_silenced():
        tasks, (train, valid, test), tr = load_moleculenet(cell["dataset"], ecfp, _splitter(cell["split"], cell["seed"]),
                                                           data_dir=data_dir)
    if len(tasks) > 1:
        raise ValueError("the rf baseline is single-task here; use it on single-task datasets")
    est = (RandomForestClassifier if mode == "classification" else RandomForestRegressor)(
        n_estimators=500, n_jobs=2, random_state=cell["seed"])
    model = dc.models.SklearnModel(est)
    model.fit(train)

    def score(ds):
        pred = model.predict(ds, tr)
        if mode == "classification":
            return masked_roc_auc(ds.y, ds.w, np.asarray(pred).reshape(len(ds), -1, 2))
        return masked_rmse(dc.trans.undo_transforms(ds.y, tr), ds.w, pred)
    return {"test": score(test), "valid": score(valid), "best_epoch": None, "epochs": None}, (train, valid, test)


def _run_gnn(cell, data_dir, mode, max_epochs, patience, model_options, allow_leakage):
    source = cell["model"].split(":", 1)[1] if ":" in cell["model"] else None
    flag = ""
    if source is not None:
        ckpt = read_pretrained(source)
        overlap = leaked(ckpt.provenance, cell["dataset"])
        if overlap and not allow_leakage:
            raise ValueError(f"{source} was pretrained on {overlap}, which overlaps {cell['dataset']}: refusing "
                             "(pass allow_leakage=True to run it anyway, flagged in the results)")
        flag = ",".join(overlap)
        featurizer = None
    else:
        featurizer = MolGraphFeaturizer(model_options.get("featurizer", "rich"))
    feat = featurizer if source is None else MolGNNModel.from_pretrained(ckpt, n_tasks=1).get_featurizer()
    tasks, (train, valid, test), tr = load_moleculenet(cell["dataset"], feat, _splitter(cell["split"], cell["seed"]),
                                                       data_dir=data_dir)
    opts = {k: v for k, v in model_options.items() if k != "featurizer"}
    if source is None:
        model = MolGNNModel(len(tasks), mode=mode, featurizer=featurizer, seed=cell["seed"], **opts)
    else:
        arch_free = {k: v for k, v in opts.items() if k in ("dropout", "batch_size", "learning_rate")}
        model = MolGNNModel.from_pretrained(ckpt, n_tasks=len(tasks), mode=mode, strategy=cell["strategy"],
                                            seed=cell["seed"], **arch_free)
    out = fit_with_early_stopping(model, train, valid, test, tr, max_epochs=max_epochs, patience=patience,
                                  progress=False)
    return {"test": out["test_score"], "valid": out["valid_score"], "best_epoch": out["best_epoch"],
            "epochs": out["epochs_run"], "leakage": flag}, (train, valid, test)


def run_benchmark(datasets: Iterable[str], models: Iterable[str] = ("gnn", "rf"), strategies=("full",),
                  splits=("scaffold",), seeds=(0, 1, 2), out_dir: str = "benchmarks/out/benchmark",
                  data_dir: Optional[str] = None, max_epochs: int = 100, patience: int = 20, quick: bool = False,
                  time_budget_min: Optional[float] = None, model_options: Optional[Dict] = None,
                  allow_leakage: bool = False, progress: bool = True) -> pd.DataFrame:
    """Run (or resume) the grid and return all result rows as a DataFrame; writes ``results.csv``,
    ``summary.md``, ``summary.png`` and ``splits/`` under ``out_dir``.

    Parameters
    ----------
    datasets, models, strategies, splits, seeds:
        The grid (see the module docstring for names).
    quick: bool
        3 epochs, a 2 x 32 GNN: a smoke test of the whole pipeline.
    time_budget_min: float, optional
        Start no new cell after this many minutes (finished cells are kept; rerun to continue).
    model_options: dict, optional
        MolGNNModel options for scratch models (``featurizer`` preset, ``num_layers``, ``hidden_dim``,
        ``dropout``, ...); ``dropout``/``batch_size``/``learning_rate`` also apply to pretrained ones.
    allow_leakage: bool
        Run cells whose checkpoint saw the dataset in pretraining (flagged in column ``leakage``).

    Examples
    --------
    >>> df = run_benchmark(["bbbp"], ["gnn", "rf"], seeds=[0], quick=True)  # doctest: +SKIP
    """
    from deepchem_finetune.benchmark.report import write_report
    if quick:
        max_epochs, patience = QUICK["max_epochs"], QUICK["patience"]
        model_options = {**QUICK["model_options"], **(model_options or {})}
    model_options = dict(model_options or {})
    os.makedirs(os.path.join(out_dir, "splits"), exist_ok=True)
    csv = os.path.join(out_dir, "results.csv")
    rows: List[Dict] = pd.read_csv(csv).to_dict("records") if os.path.exists(csv) else []
    done = {tuple(str(r[k]) for k in KEY) for r in rows}
    cells = [c for c in _cells(list(datasets), list(models), list(strategies), list(splits), list(seeds))
             if tuple(str(c[k]) for k in KEY) not in done]
    deadline = None if time_budget_min is None else time.time() + 60 * time_budget_min
    for cell in tqdm(cells, desc="benchmark", disable=not progress):
        if deadline is not None and time.time() > deadline:
            break
        mode = dataset_mode(cell["dataset"])
        t = time.time()
        if cell["model"] == "rf":
            res, parts = _run_rf(cell, data_dir, mode)
        else:
            res, parts = _run_gnn(cell, data_dir, mode, max_epochs, patience, model_options, allow_leakage)
        _save_split(out_dir, cell, parts)
        rows.append({**cell, "metric": "roc_auc" if mode == "classification" else "rmse", **res,
                     "seconds": round(time.time() - t, 1)})
        pd.DataFrame(rows).to_csv(csv, index=False)
    df = pd.DataFrame(rows)
    if len(df):
        write_report(df, out_dir)
    return df


def _save_split(out_dir, cell, parts):
    path = os.path.join(out_dir, "splits", f"{cell['dataset']}_{cell['split']}_seed{cell['seed']}.json")
    if not os.path.exists(path):
        with open(path, "w") as fh:
            json.dump({k: list(map(str, d.ids)) for k, d in zip(("train", "valid", "test"), parts)}, fh)
