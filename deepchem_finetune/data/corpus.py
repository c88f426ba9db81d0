"""Pretraining corpus pipeline: read a SMILES file, featurize it in parallel into a cached ``DiskDataset``.

File formats are read by :mod:`deepchem_finetune.data.readers`; the pooled, chunked, resumable pass and the cache
entry (built under a cross-process lock) are :mod:`deepchem_finetune.data.chunked_cache`. This module holds what
is specific to molecular graphs. Layout of one cached corpus, ``<cache root>/<key[:16]>/``::

    corpus.json          what the key was made of (data sha256, featurizer spec, limit, shard size, descriptor
                         names, package / RDKit versions) and the path
    chunks/chunk-*.pkl   per ``shard_size`` SMILES: graphs, ids, corpus indices, invalid rows (written atomically,
                         so an interrupted run resumes); removed once the dataset is complete (they would
                         double the cache's size on disk)
    dataset/             the DiskDataset, one shard per chunk with at least one valid molecule
    invalid.csv          every SMILES left out: index, smiles, reason
    done.json            counts, the first invalid rows and the descriptor names; present = cache complete

The DiskDataset holds ``X`` = ``GraphData``, ``ids`` = SMILES and, having no labels, ``y`` = ``w`` = float32
zeros of shape ``(n, 0)`` (zero tasks): DeepChem accepts ``y=None`` per shard but then fails on
``dataset.y``, while empty arrays keep every DeepChem accessor and ``iterate_batches`` working.
"""
from __future__ import annotations

import csv
import json
import logging
import os
from typing import List, NamedTuple, Optional, Tuple

import numpy as np
from rdkit import Chem

from deepchem_finetune import storage
from deepchem_finetune._compat import import_deepchem_quietly, rdkit_errors_silenced
from deepchem_finetune.data.chunked_cache import cached_build, iter_chunks, run_chunked, write_chunk
from deepchem_finetune.data.readers import check_limit, read_smiles
from deepchem_finetune.exceptions import FeaturizationError
from deepchem_finetune.featurizers.descriptors import compute_descriptors, descriptor_names
from deepchem_finetune.featurizers import (MolGraphFeaturizer, _featurize_one_with_deepchem, featurizer_from_spec,
                                           featurizer_spec)
from deepchem_finetune.hub.format import file_sha256

dc = import_deepchem_quietly()
logger = logging.getLogger(__name__)

__all__ = ["read_smiles", "featurize_corpus", "CorpusResult"]

_N_EXAMPLES = 20
_file_sha256 = file_sha256  # the name tests and older callers use


class CorpusResult(NamedTuple):
    """Result of :func:`featurize_corpus`.

    Attributes
    ----------
    dataset: dc.data.DiskDataset
        ``X`` = ``GraphData``, ``ids`` = SMILES, ``y`` = ``w`` = zeros ``(n_valid, 0)``.
    n_total, n_valid, n_invalid: int
        SMILES read, featurized and left out (``n_valid + n_invalid == n_total``).
    invalid_examples: list of (int, str, str)
        First 20 ``(corpus index, smiles, reason)`` left out; all are in ``<cache_dir>/invalid.csv``.
    cache_dir: str
        This corpus's cache directory. ``data_sha256``: sha256 of the file's bytes (provenance).
    cache_hit: bool
        True when loaded from a complete cache without featurizing.
    """
    dataset: "dc.data.DiskDataset"
    n_total: int
    n_valid: int
    n_invalid: int
    invalid_examples: List[Tuple[int, str, str]]
    cache_dir: str
    data_sha256: str
    cache_hit: bool


def featurize_corpus(path, featurizer=None, cache_dir: Optional[str] = None, shard_size: int = 10000,
                     workers: int = 2, limit: Optional[int] = None, progress: bool = True,
                     smiles_column: Optional[str] = None, targets: Optional[str] = None) -> CorpusResult:
    """Featurize a SMILES corpus into a ``DiskDataset`` for pretraining, in parallel, cached and resumable.

    Cache key (:func:`deepchem_finetune.storage.cache_key`): the file's content hash, the featurizer spec,
    ``limit``, ``shard_size``, ``smiles_column``, ``targets`` and, with descriptor targets, the descriptor names,
    plus the package and RDKit versions; a complete cache is returned without reading the SMILES. Two processes
    featurizing the same corpus at once do it once: the second waits for the first and reads its cache. Invalid
    SMILES are left out, counted, logged with a warning and listed in ``<cache_dir>/invalid.csv``: never dropped
    silently.

    Parameters
    ----------
    path: str or os.PathLike
        A file :func:`read_smiles` reads (``smiles_column`` is passed on to it).
    featurizer: MolGraphFeaturizer or dc.feat.MolGraphConvFeaturizer, optional
        Default ``MolGraphFeaturizer("hu2020")``; workers rebuild it from its spec.
    cache_dir: str, optional
        Cache root; default ``corpus/`` beside :func:`~deepchem_finetune.data.moleculenet.default_cache_dir`.
    shard_size: int, optional (default 10000)
        SMILES per chunk (= per DiskDataset shard).
    workers: int, optional (default 2)
        Spawned worker processes; 0 or 1 (or a single chunk to do) featurizes in this process. At most
        ``workers + 1`` chunks are in flight, so memory stays bounded.
    limit: int, optional
        Use only the first ``limit`` SMILES.
    progress: bool, optional (default True)
        tqdm bar over chunks.
    targets: str, optional
        ``"descriptors"``: also compute RDKit's 2D descriptors of every molecule in the same pass
        (:mod:`deepchem_finetune.featurizers.descriptors`): ``y`` holds them (NaN replaced by 0) and ``w`` is
        1 where the value is finite, 0 where it failed or overflowed. The names are stored in the cache and
        compared on load: a cache with other columns is never returned.

    Returns
    -------
    CorpusResult

    Raises
    ------
    FeaturizationError
        If no SMILES of the corpus can be featurized.
    ValueError
        Empty corpus or bad arguments (see :func:`read_smiles`).

    Examples
    --------
    >>> import os, tempfile
    >>> d = tempfile.mkdtemp()
    >>> _ = open(os.path.join(d, "mols.smi"), "w").write("CCO\\nC1CC\\n[Na+]\\n")
    >>> res = featurize_corpus(os.path.join(d, "mols.smi"), cache_dir=d, workers=0, progress=False)
    >>> res.n_valid, res.invalid_examples[0][:2], len(res.dataset)
    (2, (1, 'C1CC'), 2)

    References
    ----------
    Hu, W. et al. Strategies for Pre-training Graph Neural Networks. ICLR 2020 (pretraining on 2M ZINC15).
    """
    path = os.fspath(path)
    check_limit(limit)
    if not isinstance(shard_size, (int, np.integer)) or shard_size < 1:
        raise ValueError(f"shard_size must be a positive integer, got {shard_size!r}")
    if not isinstance(workers, (int, np.integer)) or workers < 0:
        raise ValueError(f"workers must be an integer >= 0, got {workers!r}")
    spec = featurizer_spec(featurizer if featurizer is not None else MolGraphFeaturizer())
    if targets not in (None, "descriptors"):
        raise ValueError(f"targets must be None or 'descriptors', got {targets!r}")
    data_sha256 = file_sha256(path)
    names = descriptor_names() if targets == "descriptors" else []
    key_inputs = {"kind": "molecule_graphs", "data_sha256": data_sha256, "featurizer": spec, "limit": limit,
                  "shard_size": int(shard_size), "smiles_column": smiles_column, "targets": targets,
                  "descriptor_names": names}
    key = storage.cache_key(**key_inputs)

    def build(out_dir):
        smiles = read_smiles(path, smiles_column, limit)
        if not smiles:
            raise ValueError(f"no SMILES found in {path!r}")
        storage.atomic_write_json(os.path.join(out_dir, "corpus.json"),
                                  {**key_inputs, **storage.cache_versions(), "key": key,
                                   "path": os.path.abspath(path)}, indent=1)
        n_chunks = run_chunked(out_dir, len(smiles), int(shard_size), _featurize_chunk,
                               lambda s, e, dest: (spec, smiles[s:e], s, dest, targets), workers, progress,
                               "featurize corpus")
        n_valid, errors = _build_dataset(out_dir, n_chunks, path, names)
        with storage.atomic_file(os.path.join(out_dir, "invalid.csv"), newline="") as fh:
            csv.writer(fh).writerows([("index", "smiles", "reason"), *errors])
        return {**key_inputs, "n_total": len(smiles), "n_valid": n_valid, "n_invalid": len(errors),
                "n_chunks": n_chunks, "invalid_examples": errors[:_N_EXAMPLES]}

    def check(out_dir, done):
        if not os.path.isdir(os.path.join(out_dir, "dataset")):
            return "its dataset folder is missing"
        stored = done.get("descriptor_names")
        tasks = list(dc.data.DiskDataset(os.path.join(out_dir, "dataset")).get_task_names())
        if stored != names or tasks != names:
            return (f"its descriptor columns ({len(tasks)}: {tasks[:3]}...) are not this RDKit's "
                    f"({len(names)}: {names[:3]}...)")
        return None

    out_dir, done, hit = cached_build(cache_dir, key, build, check)
    examples = [tuple(e) for e in done["invalid_examples"]]
    _warn_invalid(done["n_invalid"], done["n_total"], examples, out_dir)
    return CorpusResult(dc.data.DiskDataset(os.path.join(out_dir, "dataset")), done["n_total"], done["n_valid"],
                        done["n_invalid"], examples, out_dir, data_sha256, hit)


_FEATURIZERS: dict = {}  # per-process cache: spec JSON -> featurizer


def _featurize_chunk(spec: dict, smiles: List[str], start: int, dest: str, targets: Optional[str] = None) -> int:
    """Featurize ``smiles`` (corpus positions ``start, start + 1, ...``) into the chunk file ``dest``.

    Top-level so that spawned workers can import it; returns the number of valid molecules.
    """
    spec_key = json.dumps(spec, sort_keys=True)
    if spec_key not in _FEATURIZERS:
        _FEATURIZERS[spec_key] = featurizer_from_spec(spec)
    featurizer = _FEATURIZERS[spec_key]
    graphs, ids, indices, errors, values = [], [], [], [], []
    with rdkit_errors_silenced():
        for i, smi in enumerate(smiles, start):
            try:
                if isinstance(featurizer, MolGraphFeaturizer):
                    mol = Chem.MolFromSmiles(smi) if isinstance(smi, str) else None
                    graph = featurizer.featurize_one(mol if mol is not None else smi, index=i)
                else:
                    mol = None
                    graph = _featurize_one_with_deepchem(featurizer, smi, i)
            except FeaturizationError as err:
                errors.append((i, smi, str(err)))
                continue
            if targets == "descriptors":
                values.append(compute_descriptors(mol if mol is not None else Chem.MolFromSmiles(smi)))
            graphs.append(graph)
            ids.append(smi)
            indices.append(i)
    X = np.empty(len(graphs), dtype=object)
    X[:] = graphs  # (indices: corpus position of each row of X)
    chunk = {"start": start, "n": len(smiles), "X": X, "ids": np.array(ids, dtype=object),
             "indices": np.array(indices, dtype=np.int64), "errors": errors}
    if targets == "descriptors":
        chunk["y"] = np.array(values, dtype=np.float64).reshape(len(graphs), len(descriptor_names()))
    write_chunk(dest, chunk)
    return len(graphs)


def _build_dataset(out_dir, n_chunks, path, names):
    """Write ``<out_dir>/dataset`` from the chunk files (one shard per non-empty chunk), atomically; ``names``
    are the descriptor columns of ``y`` (none without descriptor targets)."""
    n_valid, errors = 0, []

    def shards():
        nonlocal n_valid
        for chunk in iter_chunks(out_dir, n_chunks):
            errors.extend(chunk["errors"])
            n = len(chunk["X"])
            n_valid += n
            if n and "y" in chunk:
                y = chunk["y"]
                if y.shape[1] != len(names):
                    raise FeaturizationError(f"a chunk of {out_dir} has {y.shape[1]} descriptor columns, not the "
                                             f"{len(names)} of this RDKit; delete {out_dir} and featurize again")
                w = np.isfinite(y).astype(np.float32)
                yield chunk["X"], np.nan_to_num(y, nan=0.0).astype(np.float32), w, chunk["ids"]
            elif n:
                empty = np.zeros((n, 0), dtype=np.float32)
                yield chunk["X"], empty, empty, chunk["ids"]
        if n_valid == 0:
            first = f" (first: index {errors[0][0]}, {errors[0][1]!r}: {errors[0][2]})" if errors else ""
            raise FeaturizationError(f"none of the {len(errors)} SMILES in {path!r} could be featurized{first}")

    with storage.atomic_folder(os.path.join(out_dir, "dataset")) as tmp:
        dc.data.DiskDataset.create_dataset(shards(), data_dir=tmp, tasks=list(names))
    return n_valid, errors


def _warn_invalid(n_invalid, n_total, examples, out_dir):
    if n_invalid:
        shown = "; ".join(f"index {i} {s!r}: {reason}" for i, s, reason in examples[:3])
        logger.warning("%d of %d SMILES could not be featurized and are not in the dataset (first: %s); all are "
                       "listed in %s", n_invalid, n_total, shown, os.path.join(out_dir, "invalid.csv"))
