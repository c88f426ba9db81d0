"""deepchem_finetune.storage: atomic files and folders, the cross-process lock, versioned cache keys."""
import json
import os
import subprocess
import sys
import time

import pytest

import deepchem_finetune
from deepchem_finetune import storage

STORAGE_PY = os.path.abspath(storage.__file__)

# a process that loads storage.py alone (fast: no deepchem import), then holds storage.lock(path) for a while
HOLDER = """
import importlib.util, os, sys, time
spec = importlib.util.spec_from_file_location("storage", sys.argv[1])
storage = importlib.util.module_from_spec(spec); spec.loader.exec_module(storage)
path, log, name, hold = sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5])
with storage.lock(path):
    with open(log, "a") as fh:
        fh.write(f"{name} start\\n")
    if name == "holder":
        open(log + ".ready", "w").close()
    time.sleep(hold)
    with open(log, "a") as fh:
        fh.write(f"{name} end\\n")
"""


def start_holder(tmp_path, name, hold, target="results.csv"):
    return subprocess.Popen([sys.executable, "-c", HOLDER, STORAGE_PY, str(tmp_path / target),
                             str(tmp_path / "log.txt"), name, str(hold)])


def wait_for(path, seconds=60):
    deadline = time.time() + seconds
    while not os.path.exists(path):
        assert time.time() < deadline, f"{path} did not appear"
        time.sleep(0.02)


def leftovers(folder):
    return [n for n in os.listdir(folder) if n.startswith(".")]


# ---------------------------------------------------------------------------------------------- files
def test_a_writer_that_raises_leaves_no_partial_file(tmp_path):
    path = tmp_path / "state.json"
    with pytest.raises(RuntimeError):
        with storage.atomic_file(path) as fh:
            fh.write('{"epoch": ')
            raise RuntimeError("killed while writing")
    assert not path.exists() and leftovers(tmp_path) == []
    storage.atomic_write_json(path, {"epoch": 1})
    with pytest.raises(RuntimeError):
        with storage.atomic_file(path, "wb") as fh:
            fh.write(b"partial")
            raise RuntimeError("killed while writing")
    assert json.loads(path.read_text()) == {"epoch": 1} and leftovers(tmp_path) == []  # the old content stays


def test_atomic_json_refuses_what_json_cannot_hold_before_writing(tmp_path):
    path = tmp_path / "x.json"
    storage.atomic_write_text(path, "old")
    with pytest.raises(TypeError):
        storage.atomic_write_json(path, {"x": object()})
    assert path.read_text() == "old" and leftovers(tmp_path) == []


def test_atomic_files_get_ordinary_permissions_and_folders(tmp_path):
    path = tmp_path / "new" / "deeper" / "blob.bin"
    storage.atomic_write_bytes(path, b"abc")
    plain = tmp_path / "plain"
    plain.write_bytes(b"")
    assert path.read_bytes() == b"abc" and os.stat(path).st_mode & 0o777 == os.stat(plain).st_mode & 0o777
    with pytest.raises(ValueError, match="mode must be 'w' or 'wb'"):
        with storage.atomic_file(path, "a"):
            pass


def test_atomic_folder_replaces_a_folder_or_leaves_it_as_it_was(tmp_path):
    path = tmp_path / "model"
    with storage.atomic_folder(path) as tmp:
        (tmp_path / os.path.basename(tmp) / "a.txt").write_text("first")
    assert sorted(os.listdir(path)) == ["a.txt"] and os.stat(path).st_mode & 0o777 == 0o755
    with pytest.raises(RuntimeError):
        with storage.atomic_folder(path) as tmp:
            (tmp_path / os.path.basename(tmp) / "b.txt").write_text("half")
            raise RuntimeError("failed while writing")
    assert sorted(os.listdir(path)) == ["a.txt"] and leftovers(tmp_path) == []
    with storage.atomic_folder(path) as tmp:
        (tmp_path / os.path.basename(tmp) / "b.txt").write_text("second")
    assert sorted(os.listdir(path)) == ["b.txt"] and sorted(os.listdir(tmp_path)) == ["model"]


# ---------------------------------------------------------------------------------------------- locks
def test_lock_serialises_two_processes(tmp_path):
    first = start_holder(tmp_path, "holder", 1.0)
    wait_for(str(tmp_path / "log.txt.ready"))
    second = start_holder(tmp_path, "waiter", 0.0)
    assert first.wait(60) == 0 and second.wait(60) == 0
    lines = (tmp_path / "log.txt").read_text().splitlines()
    assert lines == ["holder start", "holder end", "waiter start", "waiter end"]


def test_lock_with_a_timeout_names_the_lock_file_and_is_reentrant(tmp_path):
    holder = start_holder(tmp_path, "holder", 3.0)
    try:
        wait_for(str(tmp_path / "log.txt.ready"))
        with pytest.raises(TimeoutError, match=r"locked by another process \(lock file .*results\.csv\.lock\)"):
            with storage.lock(tmp_path / "results.csv", timeout=0.2):
                pass
    finally:
        assert holder.wait(60) == 0
    with storage.lock(tmp_path / "results.csv", timeout=0) as held:
        with storage.lock(tmp_path / "results.csv", timeout=0):  # the same process does not wait for itself
            assert held == str(tmp_path / "results.csv.lock")


# ----------------------------------------------------------------------------------------- cache keys
def test_cache_key_changes_with_package_rdkit_format_and_parts(monkeypatch):
    import rdkit
    parts = {"data_sha256": "ab" * 32, "featurizer": {"name": "MolGraphFeaturizer", "config": {"preset": "rich"}},
             "descriptor_names": ["MolWt", "TPSA"]}
    base = storage.cache_key(**parts)
    assert storage.cache_key(**dict(reversed(list(parts.items())))) == base  # order does not matter
    assert storage.cache_key(**{**parts, "descriptor_names": ["MolWt", "TPSA", "qed"]}) != base
    assert storage.cache_key(**{**parts, "descriptor_names": ["TPSA", "MolWt"]}) != base
    monkeypatch.setattr(deepchem_finetune._version, "__version__", "99.0")
    assert storage.cache_key(**parts) != base
    monkeypatch.undo()
    monkeypatch.setattr(rdkit, "__version__", "1999.09.1")
    assert storage.cache_key(**parts) != base
    monkeypatch.undo()
    monkeypatch.setattr(storage, "CACHE_FORMAT", storage.CACHE_FORMAT + 1)
    assert storage.cache_key(**parts) != base
    monkeypatch.undo()
    assert storage.cache_key(**parts) == base
    with pytest.raises(TypeError, match="part 'featurizer' cannot be written as JSON"):
        storage.cache_key(featurizer=object())


def test_replace_folder_over_a_file(tmp_path):
    (tmp_path / "new").mkdir()
    (tmp_path / "new" / "x").write_text("x")
    (tmp_path / "data").write_text("a file in the way")
    storage.replace_folder(tmp_path / "new", tmp_path / "data")
    assert sorted(os.listdir(tmp_path)) == ["data"] and os.listdir(tmp_path / "data") == ["x"]
