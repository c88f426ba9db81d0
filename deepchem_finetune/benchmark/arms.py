"""Benchmark arms: how each model family (an arm) trains one cell on a MoleculeNet or FLIP dataset.

Model families: ``gnn`` / ``gnn:<source>`` (MolGNN; molecules), ``seqcnn`` / ``seqcnn:<source>`` (SeqCNN on
SMILES for MoleculeNet, on residues for FLIP), ``rf`` (random forest on ECFP4; molecules) and ``ridge``
(ridge on one-hot sequences; FLIP). Every runner returns the test and validation scores at the
best-validation epoch, and the three splits it used (their ids are saved beside the results).
"""
from __future__ import annotations

from typing import Dict, Optional, Tuple

import numpy as np
import pandas as pd

from deepchem_finetune._compat import import_deepchem_quietly, rdkit_errors_silenced
from deepchem_finetune.benchmark.leakage import leaked
from deepchem_finetune.data import dataset_mode, load_moleculenet
from deepchem_finetune.featurizers import MolGraphFeaturizer, ProteinTokenizer, featurizer_from_spec
from deepchem_finetune.metrics import masked_rmse, masked_roc_auc
from deepchem_finetune.models import MolGNNModel, SeqCNNModel
from deepchem_finetune.hub import read_pretrained
from deepchem_finetune.splits import Hu2020ScaffoldSplitter, RandomScaffoldSplitter
from deepchem_finetune.training import fit_with_early_stopping

dc = import_deepchem_quietly()

FAMILIES = ("gnn", "seqcnn", "rf", "ridge")
MOLECULE_ONLY = ("gnn", "rf")
SEQUENCE_ONLY = ("ridge",)
SMILES_MAX_LENGTH = 160  # tokens; longer SMILES are truncated (and counted in the log) for scratch SeqCNNs
#: options that do not change pretrained weights and may be set when fine-tuning a pretrained backbone
FINE_TUNE_OPTIONS = ("dropout", "batch_size", "learning_rate", "precision", "compile")
#: model families whose options travel as a nested dict (``--model-option seqcnn.width=64`` -> {"seqcnn": {...}})
NESTED_OPTIONS = ("seqcnn", "rf")


def family(model: str) -> str:
    """The family of a benchmark model name ('gnn:zoo_name' -> 'gnn'); unknown names raise ``ValueError``.

    Examples
    --------
    >>> family("seqcnn:protein_mt")
    'seqcnn'
    """
    name = model.split(":", 1)[0]
    if name not in FAMILIES:
        raise ValueError(f"unknown model {model!r}; use gnn, gnn:<source>, seqcnn, seqcnn:<source>, rf or ridge")
    return name


def is_flip(dataset: str) -> bool:
    """Whether a benchmark dataset name is a FLIP task (``flip_<task>:<split>``)."""
    return dataset.lower().startswith("flip_")


def applies(model: str, dataset: str) -> bool:
    """Whether a model can run on a dataset: molecule-only models skip FLIP, ridge skips molecules, and a
    ``seqcnn:<source>`` pretrained backbone runs where its tokenizer fits (SMILES on MoleculeNet, residues on FLIP)."""
    fam = family(model)
    if (is_flip(dataset) and fam in MOLECULE_ONLY) or (not is_flip(dataset) and fam in SEQUENCE_ONLY):
        return False
    if fam == "seqcnn" and ":" in model:
        tokenizer = read_pretrained(model.split(":", 1)[1]).featurizer["name"]
        return tokenizer == ("ProteinTokenizer" if is_flip(dataset) else "SmilesTokenizer")
    return True


def cell_mode_and_metric(dataset: str) -> Tuple[str, str]:
    """(mode, metric) of a dataset: ('regression', 'spearman') for FLIP, else by ``dataset_mode``."""
    if is_flip(dataset):
        return "regression", "spearman"
    mode = dataset_mode(dataset)
    return mode, "roc_auc" if mode == "classification" else "rmse"


def _splitter(name: str, seed: int):
    if name == "scaffold":
        return "scaffold"
    if name == "hu2020_scaffold":
        return Hu2020ScaffoldSplitter()
    if name == "random_scaffold":
        return RandomScaffoldSplitter(seed)
    raise ValueError(f"unknown split {name!r}; choose scaffold, hu2020_scaffold or random_scaffold")


def _load(cell: Dict, featurizer, data_dir: Optional[str], protein_dir: Optional[str]):
    if is_flip(cell["dataset"]):
        from deepchem_finetune.data.flip import load_flip
        task, _, split = cell["dataset"][len("flip_"):].partition(":")
        if cell["split"] != "scaffold":
            raise ValueError(f"{cell['dataset']}: FLIP datasets come with their own split; leave --splits at "
                             f"'scaffold' (got {cell['split']!r})")
        return load_flip(task, split or "three_vs_rest", featurizer, data_dir=protein_dir)
    return load_moleculenet(cell["dataset"], featurizer, _splitter(cell["split"], cell["seed"]), data_dir=data_dir)


def _pretrained(cell: Dict, allow_leakage: bool):
    """(pretrained artifact or None, leakage flag) of a ``family:<source>`` model."""
    if ":" not in cell["model"]:
        return None, ""
    source = cell["model"].split(":", 1)[1]
    ckpt = read_pretrained(source)
    overlap = leaked(ckpt.provenance, cell["dataset"].split(":")[0])
    if overlap and not allow_leakage:
        raise ValueError(f"{source} was pretrained on {overlap}, which overlaps {cell['dataset']}: refusing "
                         "(pass allow_leakage=True to run it anyway, flagged in the results)")
    return ckpt, ",".join(overlap)


def _fit(model, parts, transformers, metric, max_epochs, patience, state_dir=None) -> Dict:
    train, valid, test = parts
    out = fit_with_early_stopping(model, train, valid, test, transformers, max_epochs=max_epochs, patience=patience,
                                  progress=False, metric=metric, state_dir=state_dir)
    return {"test": out["test_score"], "valid": out["valid_score"], "best_epoch": out["best_epoch"],
            "epochs": out["epochs_run"]}


def run_rf(cell, data_dir, protein_dir, model_options=None, **_) -> Tuple[Dict, Tuple]:
    """Random forest on ECFP4 (2048 bits): DeepChem's ``SklearnModel`` for one task, ``PerTaskForest`` (one
    forest per task on its labelled rows) for several. ``model_options['rf']`` may set ``n_estimators``."""
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
    from deepchem_finetune.benchmark.baselines import PerTaskForest
    mode, _ = cell_mode_and_metric(cell["dataset"])
    n_estimators = int((model_options or {}).get("rf", {}).get("n_estimators", 500))
    ecfp = dc.feat.CircularFingerprint(size=2048, radius=2)
    with rdkit_errors_silenced():
        tasks, parts, tr = _load(cell, ecfp, data_dir, protein_dir)
    train = parts[0]
    if len(tasks) == 1:
        est = (RandomForestClassifier if mode == "classification" else RandomForestRegressor)(
            n_estimators=n_estimators, n_jobs=2, random_state=cell["seed"])
        model = dc.models.SklearnModel(est)
        model.fit(train)

        def predict(ds):
            pred = np.asarray(model.predict(ds, tr))
            return pred.reshape(len(ds), -1, 2)[..., 1] if mode == "classification" else pred.reshape(len(ds), -1)
    else:
        forest = PerTaskForest(mode, n_estimators=n_estimators, seed=cell["seed"], n_jobs=2).fit(
            train.X, train.y, train.w)

        def predict(ds):
            pred = forest.predict(ds.X)
            return pred if mode == "classification" else dc.trans.undo_transforms(pred, tr)

    def score(ds):
        if mode == "classification":
            return masked_roc_auc(ds.y, ds.w, predict(ds))
        return masked_rmse(dc.trans.undo_transforms(ds.y, tr), ds.w, predict(ds))
    return {"test": score(parts[2]), "valid": score(parts[1]), "best_epoch": None, "epochs": None}, parts


def run_ridge(cell, data_dir, protein_dir, **_) -> Tuple[Dict, Tuple]:
    from deepchem_finetune.benchmark.baselines import ridge_one_hot
    tok = ProteinTokenizer(max_length=_flip_max_length(cell, protein_dir))
    tasks, parts, tr = _load(cell, tok, data_dir, protein_dir)
    enc = tok.input_encoding()
    res = ridge_one_hot(*parts, enc["vocab_size"], enc["pad_id"])
    return {"test": res["test_spearman"], "valid": res["valid_spearman"], "best_epoch": None, "epochs": None}, parts


def run_gnn(cell, data_dir, protein_dir, max_epochs, patience, model_options, allow_leakage,
            state_dir=None) -> Tuple[Dict, Tuple]:
    mode, metric = cell_mode_and_metric(cell["dataset"])
    ckpt, flag = _pretrained(cell, allow_leakage)
    opts = {k: v for k, v in model_options.items() if k != "featurizer" and k not in NESTED_OPTIONS}
    if ckpt is None:
        featurizer = MolGraphFeaturizer(model_options.get("featurizer", "rich"))
    else:
        featurizer = featurizer_from_spec(ckpt.featurizer)  # what the backbone was trained on
    tasks, parts, tr = _load(cell, featurizer, data_dir, protein_dir)
    if ckpt is None:
        model = MolGNNModel(len(tasks), mode=mode, featurizer=featurizer, seed=cell["seed"], **opts)
    else:
        model = MolGNNModel.from_pretrained(ckpt, n_tasks=len(tasks), mode=mode, strategy=cell["strategy"],
                                            seed=cell["seed"], **{k: v for k, v in opts.items()
                                                                  if k in FINE_TUNE_OPTIONS})
    return {**_fit(model, parts, tr, metric, max_epochs, patience, state_dir), "leakage": flag}, parts


def run_seqcnn(cell, data_dir, protein_dir, max_epochs, patience, model_options, allow_leakage,
               state_dir=None) -> Tuple[Dict, Tuple]:
    """SeqCNN: on FLIP with residue tokens; on MoleculeNet with SMILES tokens. A scratch SMILES model builds its
    vocabulary from the training split's SMILES (label-free; unseen tokens become ``<unk>``)."""
    mode, metric = cell_mode_and_metric(cell["dataset"])
    ckpt, flag = _pretrained(cell, allow_leakage)
    opts = dict(model_options.get("seqcnn", {}))
    shared = {k: v for k, v in model_options.items() if k in FINE_TUNE_OPTIONS}
    if ckpt is not None:
        tokenizer = featurizer_from_spec(ckpt.featurizer)
    elif is_flip(cell["dataset"]):
        tokenizer = ProteinTokenizer(max_length=_flip_max_length(cell, protein_dir))
    else:
        tokenizer = _smiles_tokenizer_from_train_split(cell, data_dir, opts.pop("max_length", SMILES_MAX_LENGTH))
    tasks, parts, tr = _load(cell, tokenizer, data_dir, protein_dir)
    if ckpt is None:
        model = SeqCNNModel(len(tasks), mode=mode, featurizer=tokenizer, seed=cell["seed"], **{**shared, **opts})
    else:
        model = SeqCNNModel.from_pretrained(ckpt, n_tasks=len(tasks), mode=mode, strategy=cell["strategy"],
                                            seed=cell["seed"], **shared)
    return {**_fit(model, parts, tr, metric, max_epochs, patience, state_dir), "leakage": flag}, parts


def _flip_max_length(cell, protein_dir) -> int:
    from deepchem_finetune.data.flip import protein_data_dir
    task, _, split = cell["dataset"][len("flip_"):].partition(":")
    path = protein_data_dir(protein_dir) / f"flip_{task}" / f"{split or 'three_vs_rest'}.csv.gz"
    if not path.is_file():
        return 1024  # load_flip then raises its own error, naming the file
    return int(pd.read_csv(path, usecols=["sequence"])["sequence"].str.len().max())


def _smiles_tokenizer_from_train_split(cell, data_dir, max_length: int):
    """Vocabulary from the training split's SMILES (the split's ids; the graph featurizer is fast and cached)."""
    from deepchem_finetune.data.sequences import smiles_tokenizer_for_corpus
    _, (train, _, _), _ = _load(cell, MolGraphFeaturizer("hu2020"), data_dir, None)
    return smiles_tokenizer_for_corpus([str(s) for s in train.ids], max_length=max_length, truncate=True)


RUNNERS = {"gnn": run_gnn, "seqcnn": run_seqcnn, "rf": run_rf, "ridge": run_ridge}
