"""Pretraining corpus pipeline: read a SMILES file, featurize it in parallel into a cached ``DiskDataset``.

Layout of one cached corpus, ``<cache root>/<key[:16]>/``::

    corpus.json          the key's inputs (data sha256, featurizer spec, limit, shard size) and the path
    chunks/chunk-*.pkl   per ``shard_size`` SMILES: graphs, ids, corpus indices, invalid rows (written atomically,
                         so an interrupted run resumes); removed once the dataset is complete (they would
                         double the cache's size on disk)
    dataset/             the DiskDataset, one shard per chunk with at least one valid molecule
    invalid.csv          every SMILES left out: index, smiles, reason
    done.json            counts and the first invalid rows; present = cache complete

The DiskDataset holds ``X`` = ``GraphData``, ``ids`` = SMILES and, having no labels, ``y`` = ``w`` = float32
zeros of shape ``(n, 0)`` (zero tasks): DeepChem accepts ``y=None`` per shard but then fails on
``dataset.y``, while empty arrays keep every DeepChem accessor and ``iterate_batches`` working.
"""
from __future__ import annotations

import concurrent.futures as cf
import csv
import gzip
import hashlib
import json
import logging
import multiprocessing
import os
import pickle
import shutil
from typing import List, NamedTuple, Optional, Tuple

import numpy as np
from rdkit import Chem
from tqdm.auto import tqdm

from deepchem_finetune._compat import import_deepchem_quietly, rdkit_errors_silenced
from deepchem_finetune.data.moleculenet import default_cache_dir
from deepchem_finetune.exceptions import FeaturizationError
from deepchem_finetune.featurizers.descriptors import compute_descriptors, descriptor_names
from deepchem_finetune.featurizers import (MolGraphFeaturizer, _featurize_one_with_deepchem, featurizer_from_spec,
                                           featurizer_spec)

dc = import_deepchem_quietly()
logger = logging.getLogger(__name__)

__all__ = ["read_smiles", "featurize_corpus", "CorpusResult"]

CORPUS_FORMAT = 1  # part of the cache key: bump when the on-disk layout changes
_SMILES_NAMES = ("smiles", "SMILES", "Smiles")
_N_EXAMPLES = 20


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

# ------------------------------------------------------------------------------------------- reading
def read_smiles(path, smiles_column: Optional[str] = None, limit: Optional[int] = None) -> List[str]:
    """Read the SMILES of a ``.smi``, ``.txt`` or ``.csv`` file, each optionally gzipped.

    ``.smi`` / ``.txt``: the first whitespace-separated token of each line; empty lines and a first line
    ``smiles`` / ``SMILES`` (a header) are skipped. ``.csv``: the column ``smiles_column``, else the one named
    ``smiles``, ``SMILES`` or ``Smiles``; an empty cell is returned as ``""`` (it will be reported invalid).

    Parameters
    ----------
    path: str or os.PathLike
    smiles_column: str, optional
        CSV column holding the SMILES.
    limit: int, optional
        Read only the first ``limit`` SMILES.

    Raises
    ------
    ValueError
        Unknown file type, CSV without the SMILES column (the message lists its columns), ``smiles_column``
        for a non-CSV file, or ``limit < 1``.

    Examples
    --------
    >>> import os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "mols.smi")
    >>> _ = open(p, "w").write("SMILES\\nCCO ethanol\\n\\nc1ccccc1\\n")
    >>> read_smiles(p)
    ['CCO', 'c1ccccc1']
    """
    path = os.fspath(path)
    _check_limit(limit)
    zipped = path.endswith(".gz")
    ext = os.path.splitext(path[:-3] if zipped else path)[1].lower()
    if ext not in (".smi", ".txt", ".csv"):
        raise ValueError(f"cannot read {path!r}: expected a .smi, .txt or .csv file, optionally gzipped (.gz)")
    if smiles_column is not None and ext != ".csv":
        raise ValueError(f"smiles_column={smiles_column!r} applies to .csv files only, not to {path!r}")
    opener = gzip.open if zipped else open
    with opener(path, "rt", encoding="utf-8-sig", newline="" if ext == ".csv" else None) as fh:
        if ext == ".csv":
            return _read_csv(fh, path, smiles_column, limit)
        return _read_lines(fh, limit)


def _read_lines(fh, limit):
    out = []
    for line in fh:
        tokens = line.split(None, 1)
        if not tokens or (not out and tokens[0] in _SMILES_NAMES):  # empty line or header
            continue
        out.append(tokens[0])
        if limit is not None and len(out) >= limit:
            break
    return out


def _read_csv(fh, path, smiles_column, limit):
    reader = csv.reader(fh)
    header = [h.strip() for h in next(reader, [])]
    if smiles_column is not None:
        if smiles_column not in header:
            raise ValueError(f"column {smiles_column!r} not found in {path!r}; its columns are {header}")
        col = header.index(smiles_column)
    else:
        found = [i for i, h in enumerate(header) if h in _SMILES_NAMES]
        if not found:
            raise ValueError(f"no SMILES column in {path!r}: its columns are {header}; "
                             "pass smiles_column=<name of the column>")
        col = found[0]
    out = []
    for row in reader:
        if not row:
            continue
        out.append(row[col].strip() if col < len(row) else "")
        if limit is not None and len(out) >= limit:
            break
    return out


def _check_limit(limit):
    if limit is not None and (not isinstance(limit, (int, np.integer)) or limit < 1):
        raise ValueError(f"limit must be a positive integer or None, got {limit!r}")


# --------------------------------------------------------------------------------------- featurizing
def featurize_corpus(path, featurizer=None, cache_dir: Optional[str] = None, shard_size: int = 10000,
                     workers: int = 2, limit: Optional[int] = None, progress: bool = True,
                     smiles_column: Optional[str] = None, targets: Optional[str] = None) -> CorpusResult:
    """Featurize a SMILES corpus into a ``DiskDataset`` for pretraining, in parallel, cached and resumable.

    Cache key: sha256 of (file content hash, featurizer spec, ``limit``, ``shard_size``, ``smiles_column``,
    format version); a complete cache is returned without reading the SMILES. Invalid SMILES are left out,
    counted, logged with a warning and listed in ``<cache_dir>/invalid.csv``: never dropped silently.

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
        1 where the value is finite, 0 where it failed or overflowed.

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
    _check_limit(limit)
    if not isinstance(shard_size, (int, np.integer)) or shard_size < 1:
        raise ValueError(f"shard_size must be a positive integer, got {shard_size!r}")
    if not isinstance(workers, (int, np.integer)) or workers < 0:
        raise ValueError(f"workers must be an integer >= 0, got {workers!r}")
    spec = featurizer_spec(featurizer if featurizer is not None else MolGraphFeaturizer())
    data_sha256 = _file_sha256(path)
    if targets not in (None, "descriptors"):
        raise ValueError(f"targets must be None or 'descriptors', got {targets!r}")
    key_inputs = {"format": CORPUS_FORMAT, "data_sha256": data_sha256, "featurizer": spec, "limit": limit,
                  "shard_size": int(shard_size), "smiles_column": smiles_column}
    if targets is not None:
        key_inputs["targets"] = targets
    key = hashlib.sha256(json.dumps(key_inputs, sort_keys=True).encode()).hexdigest()
    root = cache_dir if cache_dir is not None else os.path.join(
        os.path.dirname(os.path.normpath(default_cache_dir())), "corpus")
    out_dir = os.path.join(os.fspath(root), key[:16])
    done_path, dataset_dir = os.path.join(out_dir, "done.json"), os.path.join(out_dir, "dataset")

    if os.path.exists(done_path) and os.path.isdir(dataset_dir):
        with open(done_path) as fh:
            done = json.load(fh)
        examples = [tuple(e) for e in done["invalid_examples"]]
        _warn_invalid(done["n_invalid"], done["n_total"], examples, out_dir)
        return CorpusResult(dc.data.DiskDataset(dataset_dir), done["n_total"], done["n_valid"], done["n_invalid"],
                            examples, out_dir, data_sha256, True)

    smiles = read_smiles(path, smiles_column, limit)
    if not smiles:
        raise ValueError(f"no SMILES found in {path!r}")
    os.makedirs(os.path.join(out_dir, "chunks"), exist_ok=True)
    _write_json(os.path.join(out_dir, "corpus.json"), {**key_inputs, "key": key, "path": os.path.abspath(path)})
    starts = range(0, len(smiles), shard_size)
    todo = [(k, s) for k, s in enumerate(starts) if not os.path.exists(_chunk_path(out_dir, k))]
    if len(todo) < len(starts):
        logger.info("resuming corpus featurization in %s: %d of %d chunks already done",
                    out_dir, len(starts) - len(todo), len(starts))
    with tqdm(total=len(starts), initial=len(starts) - len(todo), desc="featurize corpus", unit="chunk",
              disable=not progress) as bar:
        jobs = [(smiles[s:s + shard_size], s, _chunk_path(out_dir, k)) for k, s in todo]
        _run_chunks(spec, [job + (targets,) for job in jobs], workers, bar)

    n_valid, errors = _build_dataset(out_dir, len(starts), path, targets)
    with open(os.path.join(out_dir, "invalid.csv"), "w", newline="") as fh:
        csv.writer(fh).writerows([("index", "smiles", "reason"), *errors])
    _write_json(done_path, {**key_inputs, "n_total": len(smiles), "n_valid": n_valid, "n_invalid": len(errors),
                            "n_chunks": len(starts), "invalid_examples": errors[:_N_EXAMPLES]})
    shutil.rmtree(os.path.join(out_dir, "chunks"), ignore_errors=True)  # done.json marks the dataset complete
    _warn_invalid(len(errors), len(smiles), errors, out_dir)
    return CorpusResult(dc.data.DiskDataset(dataset_dir), len(smiles), n_valid, len(errors),
                        errors[:_N_EXAMPLES], out_dir, data_sha256, False)


def _run_chunks(spec, jobs, workers, bar):
    if workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            _featurize_chunk(spec, *job)
            bar.update(1)
        return
    ctx = multiprocessing.get_context("spawn")  # no fork of a process that has imported torch
    with cf.ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=ctx) as pool:
        pending = set()
        for job in jobs:
            pending.add(pool.submit(_featurize_chunk, spec, *job))
            if len(pending) > workers:  # bounded memory: at most workers + 1 chunks in flight
                finished, pending = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
                for fut in finished:
                    fut.result()
                    bar.update(1)
        for fut in cf.as_completed(pending):
            fut.result()
            bar.update(1)


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
    chunk = {"format": CORPUS_FORMAT, "start": start, "n": len(smiles), "X": X,
             "ids": np.array(ids, dtype=object), "indices": np.array(indices, dtype=np.int64), "errors": errors}
    if targets == "descriptors":
        chunk["y"] = np.array(values, dtype=np.float64).reshape(len(graphs), len(descriptor_names()))
    _atomic_write(dest, lambda fh: pickle.dump(chunk, fh, protocol=pickle.HIGHEST_PROTOCOL), "wb")
    return len(graphs)


def _build_dataset(out_dir, n_chunks, path, targets=None):
    """Write ``<out_dir>/dataset`` from the chunk files (one shard per non-empty chunk), atomically."""
    n_valid, errors = 0, []

    def shards():
        nonlocal n_valid
        for k in range(n_chunks):
            with open(_chunk_path(out_dir, k), "rb") as fh:
                chunk = pickle.load(fh)
            errors.extend(chunk["errors"])
            n = len(chunk["X"])
            n_valid += n
            if n and "y" in chunk:
                y = chunk["y"]
                w = np.isfinite(y).astype(np.float32)
                yield chunk["X"], np.nan_to_num(y, nan=0.0).astype(np.float32), w, chunk["ids"]
            elif n:
                empty = np.zeros((n, 0), dtype=np.float32)
                yield chunk["X"], empty, empty, chunk["ids"]
        if n_valid == 0:
            first = f" (first: index {errors[0][0]}, {errors[0][1]!r}: {errors[0][2]})" if errors else ""
            raise FeaturizationError(f"none of the {len(errors)} SMILES in {path!r} could be featurized{first}")

    tmp = os.path.join(out_dir, f"dataset.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        tasks = descriptor_names() if targets == "descriptors" else []
        dc.data.DiskDataset.create_dataset(shards(), data_dir=tmp, tasks=tasks)
        final = os.path.join(out_dir, "dataset")
        shutil.rmtree(final, ignore_errors=True)
        os.replace(tmp, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return n_valid, errors


def _warn_invalid(n_invalid, n_total, examples, out_dir):
    if n_invalid:
        shown = "; ".join(f"index {i} {s!r}: {reason}" for i, s, reason in examples[:3])
        logger.warning("%d of %d SMILES could not be featurized and are not in the dataset (first: %s); all are "
                       "listed in %s", n_invalid, n_total, shown, os.path.join(out_dir, "invalid.csv"))


# ----------------------------------------------------------------------------------------- file utils
def _chunk_path(out_dir, k):
    return os.path.join(out_dir, "chunks", f"chunk-{k:06d}.pkl")


def _file_sha256(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _atomic_write(dest, write, mode="w"):
    tmp = f"{dest}.tmp-{os.getpid()}"
    try:
        with open(tmp, mode) as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _write_json(dest, obj):
    _atomic_write(dest, lambda fh: json.dump(obj, fh, indent=1))
