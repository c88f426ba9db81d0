"""Pretraining runs: corpus -> objective -> DeepChem ``fit`` -> self-describing pretrained folder.

``pretrain`` is what ``deepchem-finetune pretrain`` calls, for a molecular GNN on a SMILES corpus
(``backbone="gnn"``) or a sequence CNN on a protein / nucleotide / SMILES corpus with masked-token
pretraining (``backbone="seq_cnn"``). Training goes through DeepChem's own ``fit_generator`` (no second
loop) fed by a generator that stops at ``max_steps`` or when the time budget is spent; DeepChem writes its
training checkpoints every ``checkpoint_every`` steps into ``workdir``, and ``resume=True`` restores the
latest one and continues from its step. Launched by ``torchrun`` with several processes, training is
data-parallel (see :mod:`deepchem_finetune.distributed`).
"""
from __future__ import annotations

import logging
import os
import shlex
import sys
import time
from typing import Dict, Optional

import numpy as np
import torch
from tqdm.auto import tqdm

from deepchem_finetune import distributed
from deepchem_finetune.featurizers import MolGraphFeaturizer, NucleotideTokenizer, ProteinTokenizer
from deepchem_finetune.models import MolGNNModel, SeqCNNModel

logger = logging.getLogger(__name__)

#: ``backbone`` name -> DeepChem model class; each builds its backbone, featurizer and objective head.
BACKBONE_MODELS = {"gnn": MolGNNModel, "seq_cnn": SeqCNNModel}
SEQUENCE_OBJECTIVES = ("masked_tokens", "descriptors", "masked_tokens+descriptors")  # descriptors: SMILES only
TOKENIZERS = ("protein", "nucleotide", "smiles")
EVAL_FRACTION = 0.05  # held out of a sequence corpus to report masked-token accuracy and perplexity


def _limited(generator, model, max_steps: Optional[int], deadline: Optional[float], bar):
    for batch in generator:
        step = model.get_global_step()
        # data-parallel ranks must stop at the same step, or one waits in DDP's all-reduce
        late = deadline is not None and distributed.any_rank(time.time() > deadline)
        if (max_steps is not None and step >= max_steps) or late:
            return
        bar.update(1)
        yield batch


def _corpus_targets(objective: str) -> Optional[str]:
    """'descriptors' when an objective (or a part of a '+' combination) regresses computed descriptors."""
    return "descriptors" if "descriptors" in objective.split("+") else None


def _load_data(corpus, objective, feat, limit, workers, progress, data_dir):
    """(dataset, n_tasks, mode, data provenance) for a corpus file or, for 'supervised', a MoleculeNet name."""
    if objective == "supervised":
        from deepchem_finetune.data import dataset_mode, load_moleculenet
        tasks, (ds,), _ = load_moleculenet(corpus, feat, splitter=None, data_dir=data_dir, transformers=[])
        return ds, len(tasks), dataset_mode(corpus), {"name": corpus, "size": len(ds), "tasks": len(tasks),
                                                       "source": "dc.molnet (all rows, no split)"}
    from deepchem_finetune.data.corpus import featurize_corpus
    data = featurize_corpus(corpus, feat, limit=limit, workers=workers, progress=progress,
                            targets=_corpus_targets(objective))
    return data.dataset, None, "classification", {"name": os.path.basename(corpus), "size": data.n_valid,
                                                  "invalid": data.n_invalid, "sha256": data.data_sha256,
                                                  "limit": limit}


def _sequence_tokenizer(name: str, corpus: str, max_length: int, truncate: bool, limit: Optional[int],
                        kmer: int = 1):
    """Protein / nucleotide tokenizers are fixed; a SMILES vocabulary is built from the corpus (``<unk>`` for
    tokens it never saw, so fine-tuning data with rare tokens still works)."""
    if kmer != 1 and name != "nucleotide":
        raise ValueError(f"kmer={kmer} applies to tokenizer='nucleotide' only, not {name!r}")
    if name == "protein":
        return ProteinTokenizer(max_length=max_length, truncate=truncate)
    if name == "nucleotide":
        return NucleotideTokenizer(k=kmer, max_length=max_length, truncate=truncate)
    if name == "smiles":
        from deepchem_finetune.data.sequences import read_sequences, smiles_tokenizer_for_corpus
        return smiles_tokenizer_for_corpus(read_sequences(corpus, limit=limit).sequences, max_length=max_length,
                                           truncate=truncate)
    raise ValueError(f"unknown tokenizer {name!r}; choose from {list(TOKENIZERS)}")


def _load_sequences(corpus, feat, limit, progress, seed, objective="masked_tokens", workers=2):
    """(training dataset, held-out dataset, data provenance) of a sequence corpus; the held-out
    ``EVAL_FRACTION`` (at least one sequence when there are two) is drawn from ``seed``, so a resumed run
    holds out the same sequences. Descriptor objectives get RDKit descriptor targets (SMILES corpora)."""
    from deepchem_finetune.data.sequences import featurize_sequence_corpus
    dataset, info = featurize_sequence_corpus(corpus, feat, limit=limit, progress=progress,
                                              targets=_corpus_targets(objective), workers=workers)
    n = len(dataset)
    n_eval = max(1, int(round(EVAL_FRACTION * n))) if n >= 2 else 0
    order = np.random.default_rng(seed).permutation(n)
    train = dataset.select(np.sort(order[n_eval:]))
    held_out = dataset.select(np.sort(order[:n_eval])) if n_eval else None
    info = {**info, "tokenizer": type(feat).__name__, "max_length": feat.max_length, "train_size": n - n_eval,
            "eval_size": n_eval}
    return train, held_out, info


def _genome_corpus(corpus: str, genome_windows: Optional[Dict]):
    """``(corpus, None)`` for an ordinary corpus; for a genome corpus (a ``.json`` corpus spec, or a FASTA genome
    with ``genome_windows`` options) the cached windows FASTA and its info (:mod:`deepchem_finetune.data.genomes`)."""
    from deepchem_finetune.data import genomes
    if str(corpus).endswith(".json"):
        spec = genomes.read_corpus_spec(corpus)
        if "gff" in (genome_windows or {}):
            raise ValueError(f"{corpus}: name the GFF files in the corpus spec ('gff': {{genome: gff}}), not with --gff")
        spec.update(genome_windows or {})
        name = spec.pop("name", os.path.basename(corpus))
    elif genome_windows is not None:
        spec = dict(genome_windows)
        gff = spec.pop("gff", None)
        spec.update(genomes=[corpus], gff={corpus: gff} if gff else {})
        name = os.path.basename(corpus)
    else:
        return corpus, None
    if "window" not in spec:
        raise ValueError(f"genome corpus {corpus!r}: no window length (pass --window / genome_windows['window'])")
    path, info = genomes.genome_corpus(spec.pop("genomes"), **spec)
    return path, {"name": name, **info}


def _with_genome_info(data_info: Dict, genome_info: Optional[Dict]) -> Dict:
    """Data provenance of a genome corpus: named after the genomes, windows left out counted by reason."""
    if genome_info is None:
        return data_info
    reasons = dict(data_info.get("skipped_by_reason", {}))
    for reason, n in genome_info["skipped_by_reason"].items():
        reasons[f"window_{reason}"] = reasons.get(f"window_{reason}", 0) + n
    return {**data_info, "name": genome_info["name"], "sha256": [g["sha256"] for g in genome_info["genomes"]],
            "skipped": data_info.get("skipped", 0) + sum(genome_info["skipped_by_reason"].values()),
            "skipped_by_reason": dict(sorted(reasons.items())), "genome_windows": genome_info}


def _build_model(backbone: str, feat, init: Optional[str], n_tasks, common: Dict, backbone_options: Dict):
    """The DeepChem model of ``backbone``: fresh with ``feat``, or from the pretrained backbone ``init``."""
    cls = BACKBONE_MODELS[backbone]
    if init is not None:  # molecule-level features of a fine-tuned model's spec feed task heads, not pretraining
        return cls.from_pretrained(init, n_tasks=n_tasks, extra_features=(), **common, **backbone_options)
    return cls(n_tasks, featurizer=feat, **common, **backbone_options)


def _previous_runs(out: str) -> list:
    """Provenance of the runs a resumed run continues (from the pretrained folder it will overwrite), oldest first."""
    path = os.path.join(out, "config.json")
    if not os.path.isfile(path):
        return []
    import json
    with open(path) as fh:
        prov = json.load(fh).get("provenance", {})
    keep = ("command", "steps", "resumed_from_step", "batch_size", "molecules_seen", "seconds", "training_seconds",
            "clock", "created_utc", "processes", "threads_per_process")
    return list(prov.get("previous_runs", [])) + [{k: prov.get(k) for k in keep}]


def _with_descriptor_scaler(objective: str, options: Dict, dataset) -> Dict:
    """Fit the robust descriptor scaler on the corpus (once; it is then stored in the pretrained folder)."""
    names = objective.split("+")
    if _corpus_targets(objective) is None:
        return options
    from deepchem_finetune.featurizers.descriptors import RobustScaler, descriptor_names
    scaler = RobustScaler(descriptor_names()).fit(dataset.y, dataset.w).to_dict()
    if len(names) == 1:
        return {**options, "scaler": scaler}
    part = dict(options.get("descriptors", {}))
    part["scaler"] = scaler
    return {**options, "descriptors": part}


def pretrain(corpus: str, out: str, objective: str = "attr_masking", objective_options: Optional[Dict] = None,
             featurizer: str = "hu2020", init: Optional[str] = None, workdir: Optional[str] = None,
             backbone: str = "gnn", tokenizer: str = "protein", max_length: Optional[int] = 512,
             truncate: bool = False,
             max_steps: Optional[int] = None, epochs: int = 1, time_budget_min: Optional[float] = None,
             checkpoint_every: int = 500, resume: bool = False, limit: Optional[int] = None, workers: int = 2,
             seed: int = 0, batch_size: int = 256, learning_rate: float = 1e-3, progress: bool = True,
             command: Optional[str] = None, data_dir: Optional[str] = None, genome_windows: Optional[Dict] = None,
             kmer: int = 1, **backbone_options) -> Dict:
    """Pretrain a backbone on a corpus and write the pretrained folder ``out``.

    ``backbone="gnn"``: a :class:`MolGNN` on a SMILES corpus. ``backbone="seq_cnn"``: a :class:`SeqCNN` with
    ``objective="masked_tokens"`` on a protein, nucleotide or SMILES corpus; 5% of it is held out and the
    masked-token accuracy and perplexity on it are stored in the provenance (``eval_masked_accuracy``,
    ``eval_perplexity``).

    Parameters
    ----------
    corpus: str
        ``.smi`` / ``.csv`` file, optionally gzipped; for ``objective="supervised"`` a MoleculeNet name
        (e.g. 'toxcast', 'tox21'; all rows, missing labels masked) read from ``data_dir``. For ``seq_cnn``
        also FASTA (``.fasta``, ``.fa``, ``.faa``) or one sequence per line
        (:func:`~deepchem_finetune.data.sequences.read_sequences`).
    out: str
        Pretrained folder to write (see :mod:`deepchem_finetune.hub`).
    objective: str
        'attr_masking', 'context_pred', 'descriptors', a '+' combination of them (one backbone pass,
        summed losses, e.g. 'attr_masking+descriptors'), or 'supervised'; 'masked_tokens' for ``seq_cnn``.
    featurizer: str
        MolGraphFeaturizer preset ('hu2020' or 'rich'); ignored with ``init`` and for ``seq_cnn``.
    init: str, optional
        Start from this pretrained folder or zoo name (chained recipes, e.g. attribute masking then supervised).
    workdir: str, optional
        DeepChem training checkpoints (default ``<out>.work``).
    backbone: str, optional (default "gnn")
        'gnn' or 'seq_cnn'.
    tokenizer: str, optional (default "protein")
        ``seq_cnn``: 'protein', 'nucleotide' (fixed alphabets) or 'smiles' (vocabulary built from the corpus,
        unseen tokens map to ``<unk>``; it is stored in the pretrained folder's featurizer spec). Ignored with ``init``.
    max_length: int, optional (default 512)
        ``seq_cnn``: tokens per sequence; longer sequences are skipped (counted in the provenance) unless
        ``truncate``. None: 512, or for a genome corpus the tokens of one window (the tokenizer, stored with the
        backbone, then refuses longer fine-tuning sequences: pass a larger ``max_length`` for those).
    truncate: bool, optional (default False)
        ``seq_cnn``: keep the first ``max_length`` tokens of longer sequences instead of skipping them.
    max_steps, epochs, time_budget_min:
        Stop at whichever comes first. The time budget counts training only, so a run featurizing its corpus
        and a rerun reading the cache train equally long; both times are in the result.
    checkpoint_every: int
        Interval in steps of DeepChem training checkpoints.
    resume: bool
        Restore the latest training checkpoint in ``workdir`` and continue from its step.
    limit, workers:
        Corpus options (first ``limit`` molecules; featurization processes).
    genome_windows: dict, optional
        ``seq_cnn``: the corpus is a FASTA genome cut into windows, with these options of
        :func:`~deepchem_finetune.data.genomes.genome_windows` (``window``, ``stride``, ``both_strands``,
        ``max_n_fraction``, ``anchor``, ``upstream_offset``, ``gff``: its GFF3 file). A ``.json`` corpus is a
        genome corpus spec (several genomes, :func:`~deepchem_finetune.data.genomes.read_corpus_spec`); these
        options then override its own. The windows file is cached; windows left out are counted by reason
        (``window_too_many_N``, ...) in the provenance, which names the genomes and their sha256.
    kmer: int, optional (default 1)
        ``tokenizer="nucleotide"``: overlapping k-mer tokens (1-6). With masked-token pretraining a masked k-mer
        can be read off its overlapping neighbours, so single bases (1) are the sensible choice there.
    **backbone_options:
        MolGNN options (num_layers, hidden_dim, conv, dropout, jk, ...).

    Returns
    -------
    dict
        ``pretrained`` path (also under the old key ``checkpoint``), ``steps``, ``final_loss``, ``molecules_seen``, ``seconds``, corpus counts and,
        for masked tokens, the held-out ``eval_*`` metrics.
    """
    if backbone not in BACKBONE_MODELS:
        raise ValueError(f"unknown backbone {backbone!r}; choose from {sorted(BACKBONE_MODELS)}")
    if backbone == "seq_cnn" and objective not in SEQUENCE_OBJECTIVES:
        raise ValueError(f"backbone 'seq_cnn' pretrains with objective {', '.join(map(repr, SEQUENCE_OBJECTIVES))}, "
                         f"got {objective!r}")
    if backbone == "seq_cnn" and _corpus_targets(objective) and tokenizer != "smiles" and init is None:
        raise ValueError(f"objective {objective!r} computes molecular descriptors: it needs tokenizer='smiles' and a "
                         f"SMILES corpus, got tokenizer={tokenizer!r}")
    t0 = time.time()
    rank, world = distributed.init_from_env()  # no-op unless launched by torchrun with several processes
    main = rank == 0
    progress = progress and main
    workdir = workdir or out.rstrip("/") + ".work"
    corpus, genome_info = _genome_corpus(corpus, genome_windows) if backbone == "seq_cnn" else (corpus, None)
    if init is not None:
        from deepchem_finetune.hub import read_pretrained
        from deepchem_finetune.hub.loading import backbone_inputs
        from deepchem_finetune.featurizers import featurizer_from_spec
        feat = featurizer_from_spec(backbone_inputs(read_pretrained(init).featurizer))  # task-head features dropped
    elif backbone == "gnn":
        feat = MolGraphFeaturizer(featurizer)
    else:
        if max_length is None:
            window = genome_info["options"]["window"] if genome_info else None
            max_length = 512 if window is None else window - kmer + 1
        feat = _sequence_tokenizer(tokenizer, corpus, max_length, truncate, limit, kmer)
    held_out = None
    if backbone == "gnn":
        if not main:
            distributed.barrier()  # rank 0 featurizes and fills the cache first; the others then read it
        dataset, n_tasks, mode, data_info = _load_data(corpus, objective, feat, limit, workers, progress, data_dir)
        if main:
            distributed.barrier()
    else:
        dataset, held_out, data_info = _load_sequences(corpus, feat, limit, progress, seed, objective, workers)
        data_info = _with_genome_info(data_info, genome_info)
        n_tasks, mode = None, "classification"
    objective_options = _with_descriptor_scaler(objective, dict(objective_options or {}), dataset)
    common = dict(objective=objective, objective_options=objective_options, seed=seed, batch_size=batch_size,
                  learning_rate=learning_rate, model_dir=workdir, mode=mode)
    model = _build_model(backbone, feat, init, n_tasks, common, backbone_options)
    start_step = 0
    if resume and os.path.isdir(workdir) and model.get_checkpoints(workdir):
        model.restore(model_dir=workdir)
        start_step = model.get_global_step()
        logger.info("resumed from step %d", start_step)
    n_batches = -(-len(dataset) // batch_size) // world
    total = epochs * n_batches if max_steps is None else min(max_steps, epochs * n_batches + start_step)
    model.counters.start_clock(start_step)  # a clock restored from the checkpoint goes on (see pretraining_budget)
    t_train = time.time()
    deadline = None if time_budget_min is None else t_train + 60 * time_budget_min
    losses = []
    with tqdm(total=total, initial=start_step, desc=f"pretrain {objective}", disable=not progress) as bar:
        gen = model.default_generator(dataset, epochs=epochs, mode="fit", deterministic=False)
        model.fit_generator(_limited(gen, model, max_steps, deadline, bar), checkpoint_interval=checkpoint_every,
                            max_checkpoints_to_keep=2, all_losses=losses)
    steps = model.get_global_step()
    train_seconds, clock_seconds = time.time() - t_train, model.counters.clock_seconds()  # before any evaluation
    final_loss = float(losses[-1]) if losses else None
    metrics = {}
    if held_out is not None and "masked_tokens" in objective.split("+") and main:
        from deepchem_finetune.objectives import evaluate_masked_tokens
        metrics = evaluate_masked_tokens(model, held_out, seed=seed)
        logger.info("held-out masked-token accuracy %.4f, perplexity %.3f", metrics["eval_masked_accuracy"],
                    metrics["eval_perplexity"])
    stats = {"steps": steps, "resumed_from_step": start_step, "batch_size": batch_size, "final_loss": final_loss,
             "molecules_seen": (steps - start_step) * batch_size * world, "processes": world,
             "threads_per_process": torch.get_num_threads(),
             "seconds": round(time.time() - t0, 1), "data_seconds": round(t_train - t0, 1),
             "training_seconds": round(train_seconds, 1),
             # training time of the steps clock.from_step..steps over every run on these checkpoints, killed ones too
             "clock": {"from_step": model.counters.clock_from_step, "seconds": round(clock_seconds, 1)}, **metrics}
    provenance = {"data": data_info, "datasets": [data_info["name"]],
                  "command": command or " ".join(shlex.quote(a) for a in sys.argv), **stats}
    if start_step > 0:  # a resumed run: keep the commands and budgets of the runs it continues
        previous = _previous_runs(out)
        provenance["previous_runs"] = previous
        # the global step counts every step in the weights, also those of a run killed before it wrote its
        # provenance (resumed from its training checkpoint); steps after a run's last checkpoint are not in them
        provenance["molecules_seen_total"] = steps * batch_size * world  # at this run's batch size and processes
        last = (previous[-1].get("steps") or 0) if previous else 0
        if start_step > last:  # their time is only known from a training clock in the checkpoints (see "clock")
            provenance["unrecorded_steps"] = start_step - last
        elif start_step < last:  # resumed from a checkpoint older than the last run's end: its later steps were lost
            provenance["rewound_steps"] = last - start_step
    if main:
        model.save_pretrained(out, provenance=provenance)
    distributed.barrier()
    if world > 1:
        distributed.shutdown()
    return {"pretrained": out, "checkpoint": out, **stats, "data": data_info}
