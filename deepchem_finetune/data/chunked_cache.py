"""One cached, chunked, resumable pass over a corpus in a process pool, shared by the molecule and sequence corpora.

A cache entry is a folder ``<cache root>/<key[:16]>/`` (``key`` from :func:`deepchem_finetune.storage.cache_key`)::

    chunks/chunk-*.pkl   one file per chunk of consecutive records, written atomically by a worker, so an
                         interrupted run resumes with the chunks still missing; removed once the entry is complete
    ...                  what the caller assembles from the chunks (a DiskDataset, token arrays, reports)
    done.json            the caller's summary plus the key: present = entry complete

and its lock file ``<cache root>/<key[:16]>.lock``. :func:`cached_build` builds an entry under that lock, so two
processes asking for the same entry at once never write into each other's files: the second waits, then reads the
complete entry. A complete entry is never modified, so reading it needs no lock.
"""
from __future__ import annotations

import concurrent.futures as cf
import json
import logging
import multiprocessing
import os
import pickle
import shutil
from typing import Callable, Dict, Iterator, Optional, Sequence, Tuple

from tqdm.auto import tqdm

from deepchem_finetune import storage

logger = logging.getLogger(__name__)

__all__ = ["default_cache_root", "cached_build", "run_chunked", "iter_chunks", "write_chunk", "chunk_path"]

DONE_FILE = "done.json"


def default_cache_root() -> str:
    """``corpus/`` beside :func:`~deepchem_finetune.data.moleculenet.default_cache_dir`."""
    return storage.cache_dir("corpus")


def cached_build(cache_dir: Optional[str], key: str, build: Callable[[str], Dict],
                 check: Optional[Callable[[str, Dict], Optional[str]]] = None) -> Tuple[str, Dict, bool]:
    """The complete cache entry of ``key``, built by ``build(entry folder)`` if there is none yet.

    Parameters
    ----------
    cache_dir: str, optional
        Cache root; default :func:`default_cache_root`.
    key: str
        From :func:`deepchem_finetune.storage.cache_key`.
    build: callable
        Fills the entry folder (it exists, and may hold chunks of an interrupted build) and returns the summary
        (a JSON dict) that is written to ``done.json`` with the key.
    check: callable, optional
        ``check(entry folder, summary)`` returns None if a complete entry can be used, else the reason it cannot
        (e.g. stored descriptor names that differ from the current ones): the entry is then built again, with a
        warning giving the reason.

    Returns
    -------
    (str, dict, bool)
        The entry folder, its summary and whether it was complete already (a cache hit).

    Examples
    --------
    >>> import tempfile
    >>> root = tempfile.mkdtemp()
    >>> key = "ab" * 32
    >>> _, done, hit = cached_build(root, key, lambda folder: {"n": 3})
    >>> _, again, hit_again = cached_build(root, key, lambda folder: {"n": 4})  # complete: not built again
    >>> done["n"], hit, again["n"], hit_again
    (3, False, 3, True)
    """
    root = os.fspath(cache_dir) if cache_dir is not None else default_cache_root()
    folder = os.path.join(root, key[:16])
    done = _usable(folder, key, check, warn=False)
    if done is not None:
        return folder, done, True
    with storage.lock(folder):
        done = _usable(folder, key, check, warn=True)
        if done is not None:
            return folder, done, True  # another process completed it while this one waited
        os.makedirs(folder, exist_ok=True)
        summary = {**build(folder), "key": key}
        storage.atomic_write_json(os.path.join(folder, DONE_FILE), summary, indent=1)
        shutil.rmtree(os.path.join(folder, "chunks"), ignore_errors=True)  # done.json marks the entry complete
    return folder, summary, False


def _usable(folder, key, check, warn) -> Optional[Dict]:
    """The summary of a complete, usable entry; else None (and, under the lock, done.json of an unusable entry
    removed so that it is built again)."""
    path = os.path.join(folder, DONE_FILE)
    if not os.path.exists(path):
        return None
    with open(path) as fh:
        done = json.load(fh)
    reason = None if done.get("key") == key else f"it was written for key {done.get('key')!r}, not {key!r}"
    if reason is None and check is not None:
        reason = check(folder, done)
    if reason is None:
        return done
    if warn:
        logger.warning("cache entry %s cannot be used (%s); building it again", folder, reason)
        os.remove(path)
    return None


# ----------------------------------------------------------------------------------------------- chunks
def chunk_path(folder: str, k: int) -> str:
    """Path of chunk ``k`` of the entry ``folder``."""
    return os.path.join(folder, "chunks", f"chunk-{k:06d}.pkl")


def write_chunk(dest: str, chunk: Dict) -> None:
    """Pickle ``chunk`` to ``dest`` atomically (workers call this last, so a chunk file is always complete)."""
    storage.atomic_write_bytes(dest, pickle.dumps(chunk, protocol=pickle.HIGHEST_PROTOCOL))


def iter_chunks(folder: str, n_chunks: int) -> Iterator[Dict]:
    """The chunks ``0 .. n_chunks - 1`` of ``folder``, in order."""
    for k in range(n_chunks):
        with open(chunk_path(folder, k), "rb") as fh:
            yield pickle.load(fh)


def run_chunked(folder: str, n_items: int, chunk_size: int, worker: Callable, make_job: Callable,
                workers: int = 2, progress: bool = True, desc: str = "chunks") -> int:
    """Run ``worker(*make_job(start, stop, dest))`` for every chunk of ``range(n_items)`` without a chunk file.

    Chunk ``k`` covers items ``[k * chunk_size, (k + 1) * chunk_size)``; ``worker`` must write ``dest`` (with
    :func:`write_chunk`). Chunks already on disk (an interrupted run) are not computed again. With
    ``workers > 1`` and more than one chunk to do, the chunks run in that many spawned processes (``worker``
    must then be a top-level function), with at most ``workers + 1`` chunks in flight so memory stays bounded.

    Returns
    -------
    int
        The number of chunks.
    """
    starts = range(0, n_items, chunk_size)
    os.makedirs(os.path.join(folder, "chunks"), exist_ok=True)
    todo = [(k, s) for k, s in enumerate(starts) if not os.path.exists(chunk_path(folder, k))]
    if len(todo) < len(starts):
        logger.info("resuming in %s: %d of %d chunks already done", folder, len(starts) - len(todo), len(starts))
    jobs = [make_job(s, min(s + chunk_size, n_items), chunk_path(folder, k)) for k, s in todo]
    with tqdm(total=len(starts), initial=len(starts) - len(todo), desc=desc, unit="chunk",
              disable=not progress) as bar:
        _run_pool(worker, jobs, workers, bar)
    return len(starts)


def _run_pool(worker: Callable, jobs: Sequence[tuple], workers: int, bar) -> None:
    if workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            worker(*job)
            bar.update(1)
        return
    ctx = multiprocessing.get_context("spawn")  # no fork of a process that has imported torch
    with cf.ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=ctx) as pool:
        pending = set()
        for job in jobs:
            pending.add(pool.submit(worker, *job))
            if len(pending) > workers:  # bounded memory: at most workers + 1 chunks in flight
                finished, pending = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
                for fut in finished:
                    fut.result()
                    bar.update(1)
        for fut in cf.as_completed(pending):
            fut.result()
            bar.update(1)
