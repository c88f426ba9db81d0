"""Pretraining corpus pipeline: reading formats, counts of invalid SMILES, cache, resume, parallel workers."""
import gzip
import json
import logging
import os

import numpy as np
import pytest

import deepchem as dc
from deepchem_finetune.data import corpus, iterate_batches
from deepchem_finetune.data.corpus import featurize_corpus, read_smiles
from deepchem_finetune.exceptions import FeaturizationError
from deepchem_finetune.featurizers import MolGraphFeaturizer

# 11 SMILES: index 3 does not parse (unclosed ring), index 7 cannot be kekulized; index 5 has no bonds.
SMILES = ["CCO", "c1ccccc1", "CC(=O)O", "C1CC", "CCN", "[Na+]", "C[C@H](N)C(=O)O", "c1cccc1", "O=C=O",
          "CC(C)Cl", "c1ccncc1"]
INVALID = [3, 7]
VALID = [i for i in range(len(SMILES)) if i not in INVALID]


def write_smi(path, smiles=SMILES, header=True):
    lines = (["SMILES"] if header else []) + [f"{s} mol{i}" for i, s in enumerate(smiles)]
    text = "\n".join(lines[:3]) + "\n\n" + "\n".join(lines[3:]) + "\n"  # with an empty line inside
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wt") as fh:
        fh.write(text)
    return path


def write_csv(path, smiles=SMILES, column="SMILES"):
    with open(path, "w") as fh:
        fh.write(f"id,{column},split\n")
        fh.writelines(f"m{i},{s},train\n" for i, s in enumerate(smiles))
    return path


@pytest.fixture
def smi(tmp_path):
    return write_smi(tmp_path / "mols.smi")


def run(path, tmp_path, **kwargs):
    kwargs = {"cache_dir": str(tmp_path / "cache"), "shard_size": 4, "workers": 1, "progress": False, **kwargs}
    return featurize_corpus(path, MolGraphFeaturizer("hu2020"), **kwargs)


def count_chunk_calls(monkeypatch):
    calls = []
    original = corpus._featurize_chunk

    def counting(spec, smiles, start, dest, targets=None):
        calls.append(start)
        return original(spec, smiles, start, dest, targets)
    monkeypatch.setattr(corpus, "_featurize_chunk", counting)
    return calls


# ------------------------------------------------------------------------------------------- reading
@pytest.mark.parametrize("name", ["mols.smi", "mols.smi.gz", "mols.txt"])
def test_read_smiles_line_formats(tmp_path, name):
    assert read_smiles(write_smi(tmp_path / name)) == SMILES
    assert read_smiles(write_smi(tmp_path / ("nohead_" + name), header=False), limit=4) == SMILES[:4]


@pytest.mark.parametrize("column", ["SMILES", "smiles", "Smiles"])
def test_read_smiles_csv(tmp_path, column):
    assert read_smiles(write_csv(tmp_path / "mols.csv", column=column)) == SMILES
    assert read_smiles(write_csv(tmp_path / "mols2.csv", column="mol"), smiles_column="mol", limit=2) == SMILES[:2]


def test_read_smiles_csv_gz(tmp_path):
    path = tmp_path / "train.csv.gz"
    with gzip.open(path, "wt") as fh:
        fh.write("SMILES,SPLIT\nCCO,train\n,train\nc1ccccc1,test\n")
    assert read_smiles(path) == ["CCO", "", "c1ccccc1"]  # empty cell kept: it will be reported invalid


def test_read_smiles_errors(tmp_path):
    path = write_csv(tmp_path / "mols.csv", column="mol")
    with pytest.raises(ValueError, match=r"no SMILES column .*\['id', 'mol', 'split'\].*smiles_column"):
        read_smiles(path)
    with pytest.raises(ValueError, match=r"column 'structure' not found .*\['id', 'mol', 'split'\]"):
        read_smiles(path, smiles_column="structure")
    with pytest.raises(ValueError, match="expected a .smi, .txt or .csv"):
        read_smiles(tmp_path / "mols.sdf")
    with pytest.raises(ValueError, match="applies to .csv files only"):
        read_smiles(write_smi(tmp_path / "mols.smi"), smiles_column="SMILES")
    with pytest.raises(ValueError, match="limit must be a positive integer"):
        read_smiles(path, limit=0)


# --------------------------------------------------------------------------------------- featurizing
def test_counts_dataset_and_warning(smi, tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="deepchem_finetune.data.corpus"):
        res = run(smi, tmp_path)
    assert (res.n_total, res.n_valid, res.n_invalid, res.cache_hit) == (11, 9, 2, False)
    assert [(i, s) for i, s, _ in res.invalid_examples] == [(3, "C1CC"), (7, "c1cccc1")]
    assert "SMILES at index 3 could not be parsed" in res.invalid_examples[0][2]  # corpus index, not chunk index
    assert "2 of 11 SMILES could not be featurized" in caplog.text and "'C1CC'" in caplog.text
    ds = res.dataset
    assert isinstance(ds, dc.data.DiskDataset) and len(ds) == 9 and ds.get_number_shards() == 3
    assert list(ds.ids) == [SMILES[i] for i in VALID]
    assert all(isinstance(g, dc.feat.GraphData) for g in ds.X)
    assert ds.y.shape == (9, 0) and ds.w.shape == (9, 0) and len(ds.get_task_names()) == 0
    na = ds.X[VALID.index(5)]
    assert na.node_features.shape == (1, 2) and na.edge_index.shape == (2, 0)
    ref = MolGraphFeaturizer("hu2020").featurize(["CC(=O)O"])[0]
    np.testing.assert_array_equal(ds.X[2].edge_index, ref.edge_index)
    with open(os.path.join(res.cache_dir, "invalid.csv")) as fh:
        assert len(fh.read().strip().splitlines()) == 3
    assert res.data_sha256 == corpus._file_sha256(smi)


def test_csv_and_gz_give_the_same_dataset(tmp_path):
    a = run(write_csv(tmp_path / "mols.csv"), tmp_path)
    b = run(write_smi(tmp_path / "mols.smi.gz"), tmp_path)
    assert a.cache_dir != b.cache_dir  # different file bytes, different key
    assert list(a.dataset.ids) == list(b.dataset.ids) and a.n_invalid == b.n_invalid == 2


def test_second_call_is_a_cache_hit(smi, tmp_path, monkeypatch):
    first = run(smi, tmp_path)

    def fail(*args, **kwargs):
        raise AssertionError("featurized or re-read on a cache hit")
    monkeypatch.setattr(corpus, "_featurize_chunk", fail)
    monkeypatch.setattr(corpus, "read_smiles", fail)
    second = run(smi, tmp_path)
    assert second.cache_hit and second.cache_dir == first.cache_dir
    assert (second.n_total, second.n_valid, second.invalid_examples) == (11, 9, first.invalid_examples)
    assert list(second.dataset.ids) == list(first.dataset.ids)
    with open(os.path.join(second.cache_dir, "done.json")) as fh:
        assert json.load(fh)["featurizer"] == MolGraphFeaturizer("hu2020").get_spec()


def test_key_depends_on_featurizer_limit_and_shard_size(smi, tmp_path):
    base = run(smi, tmp_path).cache_dir
    assert run(smi, tmp_path, shard_size=5).cache_dir != base
    assert featurize_corpus(smi, MolGraphFeaturizer("rich"), cache_dir=str(tmp_path / "cache"), workers=0,
                            progress=False).cache_dir != base
    res = run(smi, tmp_path, limit=5)
    assert res.cache_dir != base and not res.cache_hit
    assert (res.n_total, res.n_valid, list(res.dataset.ids)) == (5, 4, ["CCO", "c1ccccc1", "CC(=O)O", "CCN"])


def test_resume_recomputes_only_missing_chunks(smi, tmp_path, monkeypatch):
    reference = run(smi, tmp_path / "reference")
    calls = count_chunk_calls(monkeypatch)
    counting = corpus._featurize_chunk

    def interrupted(spec, smiles, start, dest, targets=None):
        if start == 4:
            raise KeyboardInterrupt  # killed while featurizing the second chunk
        return counting(spec, smiles, start, dest, targets)
    monkeypatch.setattr(corpus, "_featurize_chunk", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run(smi, tmp_path)
    assert calls == [0]
    monkeypatch.setattr(corpus, "_featurize_chunk", counting)
    calls.clear()
    second = run(smi, tmp_path)
    assert calls == [4, 8] and not second.cache_hit  # chunk 0 is not featurized again
    assert list(second.dataset.ids) == list(reference.dataset.ids)
    assert second.invalid_examples == reference.invalid_examples
    calls.clear()
    assert run(smi, tmp_path).cache_hit and calls == []


def test_chunks_are_removed_once_the_dataset_is_complete(smi, tmp_path):
    res = run(smi, tmp_path)
    assert not os.path.exists(os.path.join(res.cache_dir, "chunks"))
    assert os.path.exists(os.path.join(res.cache_dir, "done.json")) and len(res.dataset) == res.n_valid == 9
    again = run(smi, tmp_path)
    assert again.cache_hit and list(again.dataset.ids) == list(res.dataset.ids)


def test_two_workers_give_the_same_dataset(smi, tmp_path):
    one = run(smi, tmp_path / "w1", shard_size=3, workers=1)
    two = run(smi, tmp_path / "w2", shard_size=3, workers=2)
    assert (two.n_valid, two.invalid_examples) == (one.n_valid, one.invalid_examples)
    assert list(two.dataset.ids) == list(one.dataset.ids)
    for a, b in zip(one.dataset.X, two.dataset.X):
        for attr in ("node_features", "edge_index", "edge_features"):
            np.testing.assert_array_equal(getattr(a, attr), getattr(b, attr))


def test_iterate_batches_over_the_corpus(smi, tmp_path):
    ds = run(smi, tmp_path).dataset
    batches = list(iterate_batches(ds, 4, shuffle=True, rng=np.random.default_rng(0)))
    assert [len(X) for X, _, _ in batches] == [4, 4, 1]
    assert sorted(g.node_features.shape[0] for X, _, _ in batches for g in X) == \
        sorted(g.node_features.shape[0] for g in ds.X)
    assert all(y.shape == (len(X), 0) for X, y, _ in batches)


def test_bad_corpora_and_arguments(tmp_path):
    with pytest.raises(FeaturizationError, match="none of the 2 SMILES .* index 0, 'C1CC'"):
        run(write_smi(tmp_path / "bad.smi", ["C1CC", "c1cccc1"], header=False), tmp_path)
    empty = tmp_path / "empty.smi"
    empty.write_text("SMILES\n\n")
    with pytest.raises(ValueError, match="no SMILES found"):
        run(empty, tmp_path)
    with pytest.raises(ValueError, match="shard_size must be a positive integer"):
        run(empty, tmp_path, shard_size=0)
    with pytest.raises(TypeError, match="has no spec"):
        featurize_corpus(empty, dc.feat.CircularFingerprint(), cache_dir=str(tmp_path))


def test_descriptor_targets_in_the_same_pass(tmp_path):
    from rdkit import Chem
    from deepchem_finetune.featurizers.descriptors import compute_descriptors, descriptor_names
    path = tmp_path / "d.smi"
    path.write_text("CCO\nC1CC\n[Na+]\nc1ccccc1O\n")
    res = corpus.featurize_corpus(str(path), cache_dir=str(tmp_path / "c"), workers=0, progress=False,
                                  targets="descriptors")
    ds = res.dataset
    assert ds.y.shape == (3, len(descriptor_names())) and list(ds.get_task_names()) == descriptor_names()
    expected = compute_descriptors(Chem.MolFromSmiles("c1ccccc1O"))
    ok = np.isfinite(expected)
    np.testing.assert_allclose(ds.y[2][ok], expected[ok], rtol=1e-5)
    assert (ds.w[2] == ok).all()
    plain = corpus.featurize_corpus(str(path), cache_dir=str(tmp_path / "c"), workers=0, progress=False)
    assert plain.cache_dir != res.cache_dir and plain.dataset.y.shape == (3, 0)


# ------------------------------------------------------------------------------- cache key and storage
def test_key_depends_on_package_and_rdkit_versions(smi, tmp_path, monkeypatch):
    import rdkit
    import deepchem_finetune
    base = run(smi, tmp_path)
    monkeypatch.setattr(deepchem_finetune._version, "__version__", "99.0")
    assert run(smi, tmp_path).cache_dir != base.cache_dir
    monkeypatch.undo()
    monkeypatch.setattr(rdkit, "__version__", "1999.09.1")
    newer = run(smi, tmp_path)
    assert newer.cache_dir != base.cache_dir and not newer.cache_hit
    with open(os.path.join(newer.cache_dir, "corpus.json")) as fh:
        assert json.load(fh)["rdkit"] == "1999.09.1"


def descriptor_run(path, tmp_path, **kwargs):
    return corpus.featurize_corpus(str(path), cache_dir=str(tmp_path / "c"), workers=0, progress=False,
                                   targets="descriptors", **kwargs)


def test_descriptor_names_are_part_of_the_key_and_stored(tmp_path, monkeypatch):
    from deepchem_finetune.featurizers.descriptors import compute_descriptors, descriptor_names
    path = tmp_path / "d.smi"
    path.write_text("CCO\nc1ccccc1O\nCC(=O)O\n")
    full = descriptor_run(path, tmp_path)
    with open(os.path.join(full.cache_dir, "done.json")) as fh:
        assert json.load(fh)["descriptor_names"] == descriptor_names()
    # an RDKit with fewer descriptors (same version string): another key, columns of its own
    monkeypatch.setattr(corpus, "descriptor_names", lambda: descriptor_names()[:5])
    monkeypatch.setattr(corpus, "compute_descriptors", lambda mol: compute_descriptors(mol)[:5])
    fewer = descriptor_run(path, tmp_path)
    assert fewer.cache_dir != full.cache_dir and not fewer.cache_hit
    assert fewer.dataset.y.shape == (3, 5) and list(fewer.dataset.get_task_names()) == descriptor_names()[:5]


def test_cached_descriptor_columns_that_differ_are_rebuilt_not_returned(tmp_path, caplog):
    from deepchem_finetune.featurizers.descriptors import descriptor_names
    path = tmp_path / "d.smi"
    path.write_text("CCO\nc1ccccc1O\n")
    first = descriptor_run(path, tmp_path)
    done_path = os.path.join(first.cache_dir, "done.json")
    with open(done_path) as fh:
        done = json.load(fh)
    done["descriptor_names"] = done["descriptor_names"][::-1]  # a cache whose columns are not this RDKit's
    with open(done_path, "w") as fh:
        json.dump(done, fh)
    with caplog.at_level(logging.WARNING, logger="deepchem_finetune.data.chunked_cache"):
        again = descriptor_run(path, tmp_path)
    assert not again.cache_hit and "cannot be used (its descriptor columns" in caplog.text
    assert list(again.dataset.get_task_names()) == descriptor_names()
    np.testing.assert_array_equal(again.dataset.y, first.dataset.y)
    assert descriptor_run(path, tmp_path).cache_hit


def test_no_temporary_files_are_left_in_the_cache(smi, tmp_path):
    res = run(smi, tmp_path)
    assert sorted(os.listdir(res.cache_dir)) == ["corpus.json", "dataset", "done.json", "invalid.csv"]
    assert sorted(os.listdir(tmp_path / "cache")) == sorted([os.path.basename(res.cache_dir),
                                                             os.path.basename(res.cache_dir) + ".lock"])


def test_a_cache_whose_dataset_was_deleted_is_built_again(smi, tmp_path):
    import shutil
    first = run(smi, tmp_path)
    shutil.rmtree(os.path.join(first.cache_dir, "dataset"))
    again = run(smi, tmp_path)
    assert not again.cache_hit and list(again.dataset.ids) == list(first.dataset.ids)
