"""Benchmark arms: how each model family (an arm) trains one cell on a MoleculeNet or FLIP dataset.

Model names:

* ``gnn`` / ``gnn:<source>``: MolGNN from scratch (``featurizer`` and backbone options from ``model_options``) or
  fine-tuned from a pretrained backbone (a zoo name, a pretrained folder or a pretrain-gnns ``.pth``);
* ``scratch:gnn:<source>``: the pretrained arm's **twin**: the same backbone config and featurizer as
  ``<source>``, the same head, recipe and seeds, randomly initialised. The runner adds it for every pretrained arm,
  so the gain of pretraining is measured between arms that differ only in their starting weights;
* ``seqcnn`` / ``seqcnn:<source>`` / ``scratch:seqcnn:<source>``: the same for the SeqCNN (SMILES tokens on
  MoleculeNet, residues on FLIP);
* ``gnn+ecfp4+rdkit2d`` (and ``gnn+rdkit2d:<source>``, its twin ``scratch:gnn+rdkit2d:<source>``): the GNN with
  molecule-level features beside the graph embedding (featurizer ``extra_features``, scaled on the training split);
  ``seqcnn+<kinds>[:<source>]`` the same beside a SMILES SeqCNN (MoleculeNet only); ``chemprop+rdkit2d``:
  chemprop with its own normalised RDKit 2D descriptors beside its D-MPNN;
  ``mlp+ecfp4+rdkit2d``: the same features and head recipe without the graph (:class:`~deepchem_finetune.models.
  FeatureMLPModel`);
* peers (:mod:`deepchem_finetune.benchmark.peers`): ``rf`` (random forest on ECFP4), ``rf_desc`` (on RDKit 2D
  descriptors), ``chemprop`` (chemprop v2 with its defaults); ``ridge`` (ridge on one-hot sequences, FLIP).

Every arm returns the test and validation scores at its selected epoch, the split it used (the runner saves the
ids and stamps their hash) and, for the arms we train, the protocol fields of its model
(:mod:`deepchem_finetune.benchmark.protocol`).
"""
from __future__ import annotations

from typing import Dict, Optional, Tuple

import pandas as pd

from deepchem_finetune._compat import import_deepchem_quietly
from deepchem_finetune.benchmark.leakage import corpus_overlap, leaked
from deepchem_finetune.benchmark.peers import PEERS
from deepchem_finetune.benchmark.protocol import model_fields
from deepchem_finetune.data import dataset_mode, load_moleculenet
from deepchem_finetune.featurizers import MolGraphFeaturizer, ProteinTokenizer, featurizer_from_spec
from deepchem_finetune.hub import read_pretrained, with_extra_features
from deepchem_finetune.models import MolGNNModel, SeqCNNModel
from deepchem_finetune.splits import Hu2020ScaffoldSplitter, RandomScaffoldSplitter
from deepchem_finetune.training import fit_with_early_stopping

dc = import_deepchem_quietly()

FAMILIES = ("gnn", "seqcnn", "mlp", "rf", "rf_desc", "chemprop", "ridge")
MOLECULE_ONLY = ("gnn", "mlp", "rf", "rf_desc", "chemprop")
WITH_FEATURES = ("gnn", "seqcnn", "mlp", "chemprop")  # families that take ``+kind`` molecule features
TWIN = "scratch:"
SEQUENCE_ONLY = ("ridge",)
SMILES_MAX_LENGTH = 160  # tokens; longer SMILES are truncated (and counted in the log) for scratch SeqCNNs
#: options that do not change pretrained weights and may be set when fine-tuning a pretrained backbone
FINE_TUNE_OPTIONS = ("dropout", "batch_size", "learning_rate", "precision", "compile", "recipe", "head_hidden",
                     "head_dropout")
#: model families whose options travel as a nested dict (``--model-option seqcnn.width=64`` -> {"seqcnn": {...}})
NESTED_OPTIONS = ("seqcnn", "rf", "chemprop")


def features(model: str) -> list:
    """The molecule-feature kinds of a model name (``gnn+ecfp4+rdkit2d:zoo`` -> ``['ecfp4', 'rdkit2d']``)."""
    name = model[len(TWIN):] if model.startswith(TWIN) else model
    return name.split(":", 1)[0].split("+")[1:]


def family(model: str) -> str:
    """The family of a benchmark model name ('gnn:zoo_name' -> 'gnn', 'scratch:gnn:zoo_name' -> 'gnn',
    'gnn+ecfp4' -> 'gnn'); unknown names raise ``ValueError``.

    Examples
    --------
    >>> family("seqcnn:protein_mt"), family("scratch:gnn:gin_zinc60k_desc30"), family("mlp+rdkit2d")
    ('seqcnn', 'gnn', 'mlp')
    """
    from deepchem_finetune.featurizers.molecule import FEATURE_KINDS, check_kinds
    name = (model[len(TWIN):] if model.startswith(TWIN) else model).split(":", 1)[0].split("+")[0]
    kinds = features(model)
    try:
        check_kinds(kinds)
        kinds_ok = True
    except ValueError:  # an unknown kind, or one named twice
        kinds_ok = False
    bad = (name not in FAMILIES or (model.startswith(TWIN) and (name not in ("gnn", "seqcnn") or source(model) is None))
           or (kinds and name not in WITH_FEATURES) or not kinds_ok
           or (name == "mlp" and (not kinds or source(model) is not None))
           or (name == "chemprop" and kinds not in ([], ["rdkit2d"])))
    if bad:
        raise ValueError(f"unknown model {model!r}; use gnn, gnn:<source>, seqcnn, seqcnn:<source>, "
                         f"scratch:gnn:<source>, scratch:seqcnn:<source>, gnn+<kinds>[:<source>], "
                         f"seqcnn+<kinds>[:<source>], mlp+<kinds>, rf, rf_desc, chemprop or ridge (kinds: "
                         f"{'+'.join(FEATURE_KINDS)}, each at most once)")
    return name


def source(model: str) -> Optional[str]:
    """The pretrained source of a model name (``gnn:X`` and ``scratch:gnn:X`` -> ``X``), None for plain arms."""
    name = model[len(TWIN):] if model.startswith(TWIN) else model
    return name.split(":", 1)[1] if ":" in name else None


def is_twin(model: str) -> bool:
    """Whether a model name is a pretrained arm's scratch twin."""
    return model.startswith(TWIN)


def twin_of(model: str) -> str:
    """The scratch twin's name of a pretrained arm (``gnn:X`` -> ``scratch:gnn:X``).

    Examples
    --------
    >>> twin_of("gnn:gin_zinc60k_desc30")
    'scratch:gnn:gin_zinc60k_desc30'
    """
    return TWIN + model


def is_flip(dataset: str) -> bool:
    """Whether a benchmark dataset name is a FLIP task (``flip_<task>:<split>``)."""
    return dataset.lower().startswith("flip_")


def applies(model: str, dataset: str) -> bool:
    """Whether a model can run on a dataset: molecule-only models and arms with molecule features skip FLIP, ridge
    skips molecules, and a ``seqcnn:<source>`` pretrained backbone runs where its tokenizer fits (SMILES on
    MoleculeNet, residues on FLIP)."""
    fam = family(model)
    if (is_flip(dataset) and (fam in MOLECULE_ONLY or features(model))) or (
            not is_flip(dataset) and fam in SEQUENCE_ONLY):
        return False
    if fam == "seqcnn" and source(model) is not None:
        tokenizer = read_pretrained(source(model)).featurizer["name"]
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
        return load_flip(task, split or "three_vs_rest", featurizer, data_dir=protein_dir)
    return load_moleculenet(cell["dataset"], featurizer, _splitter(cell["split"], cell["seed"]), data_dir=data_dir)


def _pretrained(cell: Dict, allow_leakage: bool):
    """(pretrained artifact or None, leakage flag) of a ``family:<source>`` model or its twin."""
    src = source(cell["model"])
    if src is None:
        return None, ""
    artifact = read_pretrained(src)
    overlap = leaked(artifact.provenance, cell["dataset"].split(":")[0])
    if overlap and not allow_leakage:
        raise ValueError(f"{src} was pretrained on {overlap}, which overlaps {cell['dataset']}: refusing "
                         "(pass allow_leakage=True to run it anyway, flagged in the results)")
    return artifact, ",".join(overlap)


def _fit(model, parts, transformers, metric, max_epochs, patience, state_dir=None) -> Dict:
    train, valid, test = parts
    out = fit_with_early_stopping(model, train, valid, test, transformers, max_epochs=max_epochs, patience=patience,
                                  progress=False, metric=metric, state_dir=state_dir)
    # earlier_seconds: training of the processes whose per-epoch state this one resumed (the runner adds them to the
    # cell's seconds, which would otherwise count this process alone)
    return {"test": out["test_score"], "valid": out["valid_score"], "best_epoch": out["best_epoch"],
            "epochs": out["epochs_run"], "earlier_seconds": out["earlier_seconds"],
            **model_fields(model, max_epochs, patience)}


def _corpus_check(cell: Dict, artifact, parts, data_dir) -> Dict:
    """Test molecules that were in the pretraining corpus (pretrained arms only; twins saw no corpus)."""
    if artifact is None or is_twin(cell["model"]) or is_flip(cell["dataset"]):
        return {}
    count, note = corpus_overlap(artifact.provenance, [str(i) for i in parts[2].ids], data_dir)
    return {"test_in_corpus": count, "corpus_check": note}


def _build(cls, cell, artifact, n_tasks, mode, options, fine_tune_options):
    """The model of a cell: scratch, pretrained (weights loaded) or the pretrained arm's twin (same config)."""
    if artifact is None:
        return cls(n_tasks, mode=mode, seed=cell["seed"], **options)
    kwargs = dict(n_tasks=n_tasks, mode=mode, seed=cell["seed"], **fine_tune_options,
                  extra_features=features(cell["model"]))  # exactly the arm's (a spec may carry others)
    if is_twin(cell["model"]):
        return cls._from_backbone_spec(artifact.backbone, artifact.featurizer, **kwargs)
    return cls.from_pretrained(artifact, strategy=cell["strategy"], **kwargs)


def run_peer(cell, data_dir, protein_dir, model_options=None, state_dir=None, **_) -> Tuple[Dict, Tuple]:
    """A peer arm on the split every arm uses (loaded with ``MolGraphFeaturizer("hu2020")``, cached)."""
    mode, _ = cell_mode_and_metric(cell["dataset"])
    tasks, parts, tr = _load(cell, MolGraphFeaturizer("hu2020"), data_dir, protein_dir)
    res = PEERS[family(cell["model"])](cell, parts=parts, transformers=tr, mode=mode, tasks=tasks,
                                       model_options=model_options, workdir=state_dir,
                                       features=features(cell["model"]))
    return res, parts


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
    artifact, flag = _pretrained(cell, allow_leakage)
    opts = {k: v for k, v in model_options.items() if k != "featurizer" and k not in NESTED_OPTIONS}
    if artifact is None:
        featurizer = MolGraphFeaturizer(model_options.get("featurizer", "rich"), extra_features=features(cell["model"]))
        opts["featurizer"] = featurizer
    else:  # what the backbone was trained on, plus the arm's molecule features
        featurizer = featurizer_from_spec(with_extra_features(artifact.featurizer, features(cell["model"])))
    tasks, parts, tr = _load(cell, featurizer, data_dir, protein_dir)
    model = _build(MolGNNModel, cell, artifact, len(tasks), mode, opts,
                   {k: v for k, v in opts.items() if k in FINE_TUNE_OPTIONS})
    return {**_fit(model, parts, tr, metric, max_epochs, patience, state_dir), "leakage": flag,
            **_corpus_check(cell, artifact, parts, data_dir)}, parts


def run_mlp(cell, data_dir, protein_dir, max_epochs, patience, model_options, state_dir=None,
            **_) -> Tuple[Dict, Tuple]:
    """Molecule features only (``mlp+<kinds>``): :class:`FeatureMLPModel` with the GNN arms' recipe."""
    from deepchem_finetune.models import FeatureMLPModel
    mode, metric = cell_mode_and_metric(cell["dataset"])
    featurizer = MolGraphFeaturizer("hu2020", extra_features=features(cell["model"]))
    tasks, parts, tr = _load(cell, featurizer, data_dir, protein_dir)
    opts = {k: v for k, v in model_options.items() if k in ("batch_size", "learning_rate")}
    model = FeatureMLPModel(len(tasks), featurizer=featurizer, mode=mode, seed=cell["seed"], **opts)
    return _fit(model, parts, tr, metric, max_epochs, patience, state_dir), parts


def run_seqcnn(cell, data_dir, protein_dir, max_epochs, patience, model_options, allow_leakage,
               state_dir=None) -> Tuple[Dict, Tuple]:
    """SeqCNN: on FLIP with residue tokens; on MoleculeNet with SMILES tokens. A scratch SMILES model builds its
    vocabulary from the training split's SMILES (label-free; unseen tokens become ``<unk>``)."""
    mode, metric = cell_mode_and_metric(cell["dataset"])
    artifact, flag = _pretrained(cell, allow_leakage)
    opts = dict(model_options.get("seqcnn", {}))
    shared = {k: v for k, v in model_options.items() if k in FINE_TUNE_OPTIONS}
    if features(cell["model"]) and is_flip(cell["dataset"]):
        raise ValueError(f"{cell['model']}: molecule features need SMILES, and {cell['dataset']} holds proteins")
    if artifact is not None:
        tokenizer = featurizer_from_spec(with_extra_features(artifact.featurizer, features(cell["model"])))
    elif is_flip(cell["dataset"]):
        tokenizer = ProteinTokenizer(max_length=_flip_max_length(cell, protein_dir))
    else:
        tokenizer = _smiles_tokenizer_from_train_split(cell, data_dir, opts.pop("max_length", SMILES_MAX_LENGTH))
        if features(cell["model"]):
            tokenizer = featurizer_from_spec(with_extra_features(tokenizer.get_spec(), features(cell["model"])))
    tasks, parts, tr = _load(cell, tokenizer, data_dir, protein_dir)
    model = _build(SeqCNNModel, cell, artifact, len(tasks), mode, {"featurizer": tokenizer, **shared, **opts}, shared)
    return {**_fit(model, parts, tr, metric, max_epochs, patience, state_dir), "leakage": flag,
            **_corpus_check(cell, artifact, parts, data_dir)}, parts


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


RUNNERS = {"gnn": run_gnn, "seqcnn": run_seqcnn, "mlp": run_mlp, "ridge": run_ridge, **{name: run_peer for name in PEERS}}
