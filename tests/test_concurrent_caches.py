"""Two real processes featurizing the same corpus (or MoleculeNet set) into the same cache at the same moment:
both get complete, identical datasets, the work is done once, and the cache is complete and readable afterwards."""
import json
import os
import subprocess
import sys
import time

import pytest

from deepchem_finetune.data.corpus import featurize_corpus
from deepchem_finetune.featurizers import MolGraphFeaturizer

from conftest import MOLECULENET_DIR, REPO, require_shared

# Each process imports everything, says it is ready, waits for the common "go", featurizes, and writes a summary
# of what it got (sizes, ids, a digest of every array) to <out>.json.
WORKER = """
import hashlib, json, os, sys, time
import numpy as np
import deepchem_finetune
from deepchem_finetune.featurizers import MolGraphFeaturizer
kind, target, cache, out, go = sys.argv[1:6]

def digest(ds):
    h = hashlib.sha256()
    for g in ds.X:
        for a in (g.node_features, g.edge_index, g.edge_features):
            h.update(np.ascontiguousarray(a).tobytes())
    for a in (ds.y, ds.w):
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()

open(out + ".ready", "w").close()
while not os.path.exists(go):
    time.sleep(0.005)
if kind == "corpus":
    from deepchem_finetune.data.corpus import featurize_corpus
    res = featurize_corpus(target, MolGraphFeaturizer("hu2020"), cache_dir=cache, shard_size=40, workers=0,
                           progress=False, targets="descriptors")
    summary = {"hit": res.cache_hit, "dir": res.cache_dir, "n": [res.n_total, res.n_valid, res.n_invalid],
               "ids": list(res.dataset.ids), "digest": digest(res.dataset)}
else:
    from deepchem_finetune.data import load_moleculenet
    tasks, parts, _ = load_moleculenet(target, MolGraphFeaturizer("hu2020"), save_dir=cache)
    summary = {"tasks": tasks, "ids": [list(map(str, d.ids)) for d in parts], "digest": [digest(d) for d in parts]}
with open(out + ".json", "w") as fh:
    json.dump(summary, fh)
"""


def run_two_at_once(tmp_path, kind, target, cache, env=None):
    go = tmp_path / "go"
    procs, outs = [], []
    for k in range(2):
        out = str(tmp_path / f"proc{k}")
        outs.append(out)
        procs.append(subprocess.Popen([sys.executable, "-c", WORKER, kind, str(target), str(cache), out, str(go)],
                                      cwd=REPO, env={**os.environ, "OMP_NUM_THREADS": "1", **(env or {})},
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    deadline = time.time() + 300
    while not all(os.path.exists(o + ".ready") for o in outs):
        assert time.time() < deadline and all(p.poll() is None for p in procs), [p.communicate() for p in procs]
        time.sleep(0.02)
    go.touch()  # both start featurizing now
    for p in procs:
        log = p.communicate(timeout=600)[0]
        assert p.returncode == 0, log
    return [json.loads(open(o + ".json").read()) for o in outs]


def smiles_corpus(path):
    chains = [f"{'C' * n}{end}" for n in range(1, 61) for end in ("O", "N", "Cl", "C(=O)O")]
    rings = [f"c1ccccc1{'C' * n}" for n in range(1, 41)]
    invalid = ["C1CC", "c1cccc1", "not_a_smiles"]
    smiles = chains + rings[:20] + invalid + rings[20:]
    path.write_text("\n".join(smiles) + "\n")
    return len(smiles), len(invalid)


def test_two_processes_featurize_one_corpus_into_one_cache(tmp_path):
    path = tmp_path / "mols.smi"
    n, n_invalid = smiles_corpus(path)
    cache = tmp_path / "cache"
    a, b = run_two_at_once(tmp_path, "corpus", path, cache)
    assert a["n"] == b["n"] == [n, n - n_invalid, n_invalid]
    assert a["ids"] == b["ids"] and a["digest"] == b["digest"] and a["dir"] == b["dir"]
    assert sorted([a["hit"], b["hit"]]) == [False, True]  # featurized once; the other process waited and read it
    entry = a["dir"]
    assert sorted(os.listdir(entry)) == ["corpus.json", "dataset", "done.json", "invalid.csv"]
    assert sorted(os.listdir(cache)) == sorted([os.path.basename(entry), os.path.basename(entry) + ".lock"])
    again = featurize_corpus(path, MolGraphFeaturizer("hu2020"), cache_dir=str(cache), shard_size=40, workers=0,
                             progress=False, targets="descriptors")
    assert again.cache_hit and list(again.dataset.ids) == a["ids"] and len(again.dataset) == n - n_invalid


@pytest.mark.slow
def test_two_processes_load_one_moleculenet_set_into_one_cache(tmp_path):
    require_shared(MOLECULENET_DIR / "delaney-processed.csv")
    cache = tmp_path / "molnet"
    a, b = run_two_at_once(tmp_path, "moleculenet", "delaney", cache, env={"DEEPCHEM_DATA_DIR": str(MOLECULENET_DIR)})
    assert a == b and [len(ids) for ids in a["ids"]] == [902, 113, 113]
    from deepchem_finetune.data import load_moleculenet
    _, parts, _ = load_moleculenet("delaney", MolGraphFeaturizer("hu2020"), save_dir=str(cache),
                                   data_dir=str(MOLECULENET_DIR))
    assert [list(map(str, d.ids)) for d in parts] == a["ids"]
