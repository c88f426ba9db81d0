"""Pretraining runs: corpus -> objective -> DeepChem ``fit`` -> self-describing checkpoint.

``pretrain`` is what ``deepchem-finetune pretrain`` calls. Training goes through DeepChem's own
``fit_generator`` (no second loop) fed by a generator that stops at ``max_steps`` or when the time
budget is spent; DeepChem writes its training checkpoints every ``checkpoint_every`` steps into
``workdir``, and ``resume=True`` restores the latest one and continues from its step. Launched by
``torchrun`` with several processes, training is data-parallel (see :mod:`deepchem_finetune.distributed`).
"""
from __future__ import annotations

import logging
import os
import shlex
import sys
import time
from typing import Dict, Optional

from tqdm.auto import tqdm

from deepchem_finetune import distributed
from deepchem_finetune.featurizers import MolGraphFeaturizer
from deepchem_finetune.models import MolGNNModel

logger = logging.getLogger(__name__)


def _limited(generator, model, max_steps: Optional[int], deadline: Optional[float], bar):
    for batch in generator:
        step = model.get_global_step()
        if (max_steps is not None and step >= max_steps) or (deadline is not None and time.time() > deadline):
            return
        bar.update(1)
        yield batch


def _load_data(corpus, objective, feat, limit, workers, progress, data_dir):
    """(dataset, n_tasks, mode, data provenance) for a corpus file or, for 'supervised', a MoleculeNet name."""
    if objective == "supervised":
        from deepchem_finetune.data import dataset_mode, load_moleculenet
        tasks, (ds,), _ = load_moleculenet(corpus, feat, splitter=None, data_dir=data_dir, transformers=[])
        return ds, len(tasks), dataset_mode(corpus), {"name": corpus, "size": len(ds), "tasks": len(tasks),
                                                       "source": "dc.molnet (all rows, no split)"}
    from deepchem_finetune.data.corpus import featurize_corpus
    targets = "descriptors" if "descriptors" in objective.split("+") else None
    data = featurize_corpus(corpus, feat, limit=limit, workers=workers, progress=progress, targets=targets)
    return data.dataset, None, "classification", {"name": os.path.basename(corpus), "size": data.n_valid,
                                                  "invalid": data.n_invalid, "sha256": data.data_sha256,
                                                  "limit": limit}


def _with_descriptor_scaler(objective: str, options: Dict, dataset) -> Dict:
    """Fit the robust descriptor scaler on the corpus (once; it is then stored in the checkpoint)."""
    names = objective.split("+")
    if "descriptors" not in names:
        return options
    from deepchem_finetune.featurizers.descriptors import RobustScaler
    scaler = RobustScaler(list(dataset.get_task_names())).fit(dataset.y, dataset.w).to_dict()
    if len(names) == 1:
        return {**options, "scaler": scaler}
    part = dict(options.get("descriptors", {}))
    part["scaler"] = scaler
    return {**options, "descriptors": part}


def pretrain(corpus: str, out: str, objective: str = "attr_masking", objective_options: Optional[Dict] = None,
             featurizer: str = "hu2020", init: Optional[str] = None, workdir: Optional[str] = None,
             max_steps: Optional[int] = None, epochs: int = 1, time_budget_min: Optional[float] = None,
             checkpoint_every: int = 500, resume: bool = False, limit: Optional[int] = None, workers: int = 2,
             seed: int = 0, batch_size: int = 256, learning_rate: float = 1e-3, progress: bool = True,
             command: Optional[str] = None, data_dir: Optional[str] = None, **backbone_options) -> Dict:
    """Pretrain a :class:`MolGNN` on a SMILES corpus and write the checkpoint folder ``out``.

    Parameters
    ----------
    corpus: str
        ``.smi`` / ``.csv`` file, optionally gzipped; for ``objective="supervised"`` a MoleculeNet name
        (e.g. 'toxcast', 'tox21'; all rows, missing labels masked) read from ``data_dir``.
    out: str
        Checkpoint folder to write (see :mod:`deepchem_finetune.checkpoint`).
    objective: str
        'attr_masking', 'context_pred', 'descriptors', a '+' combination of them (one backbone pass,
        summed losses, e.g. 'attr_masking+descriptors'), or 'supervised'.
    featurizer: str
        MolGraphFeaturizer preset ('hu2020' or 'rich'); ignored with ``init``.
    init: str, optional
        Start from this checkpoint (chained recipes, e.g. attribute masking then supervised).
    workdir: str, optional
        DeepChem training checkpoints (default ``<out>.work``).
    max_steps, epochs, time_budget_min:
        Stop at whichever comes first.
    checkpoint_every: int
        DeepChem checkpoint interval in steps.
    resume: bool
        Restore the latest checkpoint in ``workdir`` and continue from its step.
    limit, workers:
        Corpus options (first ``limit`` molecules; featurization processes).
    **backbone_options:
        MolGNN options (num_layers, hidden_dim, conv, dropout, jk, ...).

    Returns
    -------
    dict
        ``checkpoint`` path, ``steps``, ``final_loss``, ``molecules_seen``, ``seconds``, corpus counts.
    """
    t0 = time.time()
    rank, world = distributed.init_from_env()  # no-op unless launched by torchrun with several processes
    main = rank == 0
    progress = progress and main
    workdir = workdir or out.rstrip("/") + ".work"
    feat = MolGraphFeaturizer(featurizer)
    if init is not None:
        from deepchem_finetune.models.pretrained import read_pretrained
        from deepchem_finetune.featurizers import featurizer_from_spec
        feat = featurizer_from_spec(read_pretrained(init).featurizer)
    if not main:
        distributed.barrier()  # rank 0 featurizes and fills the cache first; the others then read it
    dataset, n_tasks, mode, data_info = _load_data(corpus, objective, feat, limit, workers, progress, data_dir)
    if main:
        distributed.barrier()
    objective_options = _with_descriptor_scaler(objective, dict(objective_options or {}), dataset)
    common = dict(objective=objective, objective_options=objective_options, seed=seed, batch_size=batch_size,
                  learning_rate=learning_rate, model_dir=workdir, mode=mode)
    if init is not None:
        model = MolGNNModel.from_pretrained(init, n_tasks=n_tasks, **common, **backbone_options)
    else:
        model = MolGNNModel(n_tasks, featurizer=feat, **common, **backbone_options)
    start_step = 0
    if resume and os.path.isdir(workdir) and model.get_checkpoints(workdir):
        model.restore(model_dir=workdir)
        start_step = model.get_global_step()
        logger.info("resumed from step %d", start_step)
    n_batches = -(-len(dataset) // batch_size) // world
    total = epochs * n_batches if max_steps is None else min(max_steps, epochs * n_batches + start_step)
    deadline = None if time_budget_min is None else t0 + 60 * time_budget_min
    losses = []
    with tqdm(total=total, initial=start_step, desc=f"pretrain {objective}", disable=not progress) as bar:
        gen = model.default_generator(dataset, epochs=epochs, mode="fit", deterministic=False)
        model.fit_generator(_limited(gen, model, max_steps, deadline, bar), checkpoint_interval=checkpoint_every,
                            max_checkpoints_to_keep=2, all_losses=losses)
    steps = model.get_global_step()
    final_loss = float(losses[-1]) if losses else None
    stats = {"steps": steps, "resumed_from_step": start_step, "final_loss": final_loss,
             "molecules_seen": (steps - start_step) * batch_size * world, "processes": world,
             "seconds": round(time.time() - t0, 1)}
    provenance = {"data": data_info, "datasets": [data_info["name"]],
                  "command": command or " ".join(shlex.quote(a) for a in sys.argv), **stats}
    if main:
        model.save_pretrained(out, provenance=provenance)
    distributed.barrier()
    if world > 1:
        distributed.shutdown()
    return {"checkpoint": out, **stats, "data": data_info}
