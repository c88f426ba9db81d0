"""Safe files on disk shared by processes: atomic writes, cross-process locks and versioned cache keys.

Every cache or state file the package writes goes through this module:

* :func:`atomic_file` (a file object), :func:`atomic_write_bytes`, :func:`atomic_write_text` and
  :func:`atomic_write_json` write a temporary file in the destination's folder, flush and fsync it, then
  ``os.replace`` it over the destination: a reader sees the old file or the new one, never a part of one, and a
  writer that raises (or is killed) leaves no partial file at the destination;
* :func:`atomic_folder` (and :func:`replace_folder`) do the same for a whole folder;
* :func:`lock` is a cross-process lock (the ``filelock`` library) around work that must not run twice at once,
  e.g. two processes featurizing the same corpus into the same cache;
* :func:`cache_key` turns what a cached result depends on into a key that also changes with the package
  version, the RDKit version and :data:`CACHE_FORMAT`.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
from typing import Dict, Iterator, Optional

import filelock

from deepchem_finetune import _version

logger = logging.getLogger(__name__)

__all__ = ["atomic_file", "atomic_write_bytes", "atomic_write_text", "atomic_write_json", "atomic_folder",
           "replace_folder", "lock", "cache_key", "cache_versions", "CACHE_FORMAT"]

CACHE_FORMAT = 1  # part of every cache key: bump when the layout of a cache written with this module changes

_UMASK = os.umask(0)
os.umask(_UMASK)  # read once: mkstemp/mkdtemp create 0o600/0o700, plain open() honours the umask


# ---------------------------------------------------------------------------------------------- files
@contextlib.contextmanager
def atomic_file(path, mode: str = "w", encoding: Optional[str] = "utf-8",
                newline: Optional[str] = None) -> Iterator:
    """A file object whose content replaces ``path`` atomically when the ``with`` block ends without error.

    The temporary file lives in ``path``'s folder (created if missing), so the final ``os.replace`` is a rename
    on one file system. If the block raises, the temporary file is removed and ``path`` is left as it was.

    Parameters
    ----------
    path: str or os.PathLike
    mode: str, optional (default "w")
        ``"w"`` (text) or ``"wb"`` (bytes).
    encoding, newline: optional
        As for :func:`open` (text mode only).

    Examples
    --------
    >>> import os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "rows.csv")
    >>> with atomic_file(p, newline="") as fh:
    ...     _ = fh.write("a,b\\n1,2\\n")
    >>> open(p).read().splitlines()
    ['a,b', '1,2']
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_file writes whole files: mode must be 'w' or 'wb', got {mode!r}")
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        text = {} if mode == "wb" else {"encoding": encoding, "newline": newline}
        with os.fdopen(fd, mode, **text) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise
    _fsync_folder(folder)


def atomic_write_bytes(path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_file`).

    Examples
    --------
    >>> import os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "blob.bin")
    >>> atomic_write_bytes(p, b"\\x00\\x01")
    >>> open(p, "rb").read()
    b'\\x00\\x01'
    """
    with atomic_file(path, "wb") as fh:
        fh.write(data)


def atomic_write_text(path, text: str, encoding: str = "utf-8") -> None:
    """Write ``text`` to ``path`` atomically (see :func:`atomic_file`).

    Examples
    --------
    >>> import os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "note.txt")
    >>> atomic_write_text(p, "done\\n")
    >>> open(p).read()
    'done\\n'
    """
    with atomic_file(path, "w", encoding=encoding) as fh:
        fh.write(text)


def atomic_write_json(path, obj, **dumps_kwargs) -> None:
    """Write ``obj`` as JSON to ``path`` atomically; ``dumps_kwargs`` go to :func:`json.dumps`.

    The object is serialised before anything is written, so an object JSON cannot hold raises ``TypeError``
    and leaves ``path`` untouched.

    Examples
    --------
    >>> import json, os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "state.json")
    >>> atomic_write_json(p, {"epoch": 3}, indent=1)
    >>> json.load(open(p))
    {'epoch': 3}
    """
    atomic_write_text(path, json.dumps(obj, **dumps_kwargs))


# -------------------------------------------------------------------------------------------- folders
@contextlib.contextmanager
def atomic_folder(path, mode: int = 0o755) -> Iterator[str]:
    """A temporary folder, beside ``path``, that replaces ``path`` when the ``with`` block ends without error.

    Write the folder's files into the yielded path; on success they are fsynced and the folder takes
    ``path``'s place (:func:`replace_folder`); if the block raises, the temporary folder is removed and ``path``
    is left as it was.

    Examples
    --------
    >>> import os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "model")
    >>> with atomic_folder(p) as tmp:
    ...     _ = open(os.path.join(tmp, "config.json"), "w").write("{}")
    >>> os.listdir(p)
    ['config.json']
    """
    path = os.fspath(path)
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(dir=parent, prefix=".tmp-")
    try:
        os.chmod(tmp, mode)  # mkdtemp creates 0o700 folders
        yield tmp
        replace_folder(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def replace_folder(tmp, path) -> None:
    """Put the complete folder ``tmp`` in ``path``'s place; a folder already at ``path`` is removed afterwards.

    The files of ``tmp`` are fsynced first. The previous folder is moved aside, ``tmp`` renamed to ``path`` and
    then the previous folder deleted; if the rename fails, the previous folder is put back. ``tmp`` must be on
    the same file system as ``path`` (e.g. made by :func:`atomic_folder`).

    Examples
    --------
    >>> import os, tempfile
    >>> root = tempfile.mkdtemp()
    >>> os.makedirs(os.path.join(root, "new")); os.makedirs(os.path.join(root, "data", "stale"))
    >>> replace_folder(os.path.join(root, "new"), os.path.join(root, "data"))
    >>> os.listdir(os.path.join(root, "data")), sorted(os.listdir(root))
    ([], ['data'])
    """
    tmp, path = os.fspath(tmp), os.fspath(path)
    for folder, _, files in os.walk(tmp):
        for name in files:
            _fsync_file(os.path.join(folder, name))
    old = None
    try:
        if os.path.lexists(path):
            old = tmp.rstrip(os.sep) + "-old"  # unique because tmp is
            os.replace(path, old)
        os.replace(tmp, path)
    except BaseException:
        if old is not None and not os.path.lexists(path):
            os.replace(old, path)  # put the previous folder back
            old = None
        raise
    finally:
        if old is not None and os.path.isdir(old) and not os.path.islink(old):
            shutil.rmtree(old, ignore_errors=True)
        elif old is not None:
            os.remove(old)  # a file or link was at path
    _fsync_folder(os.path.dirname(os.path.abspath(path)))


def _fsync_file(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_folder(folder: str) -> None:
    """Make a rename inside ``folder`` durable (best effort: not every platform can open a folder)."""
    with contextlib.suppress(OSError):
        _fsync_file(folder)


# ---------------------------------------------------------------------------------------------- locks
_LOCKS: Dict[str, filelock.FileLock] = {}
_LOCKS_GUARD = threading.Lock()


@contextlib.contextmanager
def lock(path, timeout: Optional[float] = None) -> Iterator[str]:
    """Hold an exclusive cross-process lock on ``path`` for the ``with`` block.

    The lock file is ``<path>.lock`` (or ``path`` itself if it ends with ``.lock``); its folder is created. The
    lock is held by the process (the operating system releases it if the process dies) and is re-entrant
    within one process: a nested ``lock`` of the same path does not wait for itself. Waiting for another
    process is logged (INFO). The lock file stays
    on disk after release (removing it would let two processes lock two different files).

    Parameters
    ----------
    path: str or os.PathLike
        What is locked, e.g. a cache folder or a CSV file (it need not exist).
    timeout: float, optional
        Seconds to wait for another holder; None waits as long as it takes, 0 fails at once.

    Yields
    ------
    str
        The lock file's path.

    Raises
    ------
    TimeoutError
        When ``timeout`` passed with the lock held by another process (the message names the lock file).

    Examples
    --------
    >>> import os, tempfile
    >>> results = os.path.join(tempfile.mkdtemp(), "results.csv")
    >>> with lock(results) as held:
    ...     os.path.basename(held)
    'results.csv.lock'
    """
    path = os.path.abspath(os.fspath(path))
    lock_file = path if path.endswith(".lock") else path + ".lock"
    os.makedirs(os.path.dirname(lock_file), exist_ok=True)
    with _LOCKS_GUARD:
        held = _LOCKS.setdefault(lock_file, filelock.FileLock(lock_file))
    try:
        try:
            held.acquire(timeout=0)
        except filelock.Timeout:
            if timeout == 0:
                raise
            logger.info("waiting for %s: another process holds its lock %s", path, lock_file)
            held.acquire(timeout=-1 if timeout is None else timeout)
    except filelock.Timeout as err:
        raise TimeoutError(f"{path} is locked by another process (lock file {lock_file}); gave up after "
                           f"{timeout} s") from err
    try:
        yield lock_file
    finally:
        held.release()


# ----------------------------------------------------------------------------------------- cache keys
def cache_dir(kind: str = "molnet") -> str:
    """The writable cache folder of one kind: ``molnet`` (featurized MoleculeNet sets) is ``$DEEPCHEM_FINETUNE_CACHE``
    (default ``~/.cache/deepchem_finetune/molnet``); every other kind (``corpus``, ``features``) lies beside it.

    Examples
    --------
    >>> import os
    >>> os.path.basename(cache_dir("corpus"))
    'corpus'
    """
    molnet = os.path.expanduser(os.environ.get("DEEPCHEM_FINETUNE_CACHE",
                                               os.path.join("~", ".cache", "deepchem_finetune", "molnet")))
    return molnet if kind == "molnet" else os.path.join(os.path.dirname(os.path.normpath(molnet)), kind)


def cache_versions() -> Dict:
    """What every cache key includes besides the caller's parts: package and RDKit versions, cache format.

    Examples
    --------
    >>> sorted(cache_versions())
    ['cache_format', 'package', 'rdkit']
    """
    import rdkit
    return {"package": _version.__version__, "rdkit": rdkit.__version__, "cache_format": CACHE_FORMAT}


def cache_key(**parts) -> str:
    """Hex sha256 of what a cached result depends on: ``parts`` plus :func:`cache_versions`.

    Pass everything the cached content depends on (a data file's sha256, the featurizer spec, the descriptor
    names, options): two calls share a cache entry only when all of it, the package version, the RDKit version
    and :data:`CACHE_FORMAT` agree.

    Raises
    ------
    TypeError
        If a part cannot be written as JSON (the message names it).

    Examples
    --------
    >>> a = cache_key(data_sha256="ab12", featurizer={"name": "MolGraphFeaturizer", "config": {}})
    >>> len(a), a == cache_key(data_sha256="ab12", featurizer={"name": "MolGraphFeaturizer", "config": {}})
    (64, True)
    >>> a == cache_key(data_sha256="ab12", featurizer={"name": "MolGraphFeaturizer", "config": {"x": 1}})
    False
    """
    for name, value in parts.items():
        try:
            json.dumps(value, sort_keys=True)
        except (TypeError, ValueError) as err:
            raise TypeError(f"cache_key part {name!r} cannot be written as JSON ({err}): {value!r:.200}") from err
    text = json.dumps({"parts": parts, **cache_versions()}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()
