"""DNA task loaders (yeast expression, E. coli promoters), the homology-aware split and the k-mer baseline."""
import numpy as np
import pandas as pd
import pytest

import deepchem as dc
from deepchem_finetune.data.dna_tasks import (dna_data_dir, kmer_baseline, load_ecoli_promoters,
                                              load_yeast_expression)
from deepchem_finetune.featurizers import NucleotideTokenizer
from deepchem_finetune.splits import HomologySplitter, shared_kmer_clusters, sharing_kmers

from conftest import SHARED_DATA, require_shared

DNA_DIR = SHARED_DATA / "dna"
LEFT, RIGHT = "AACTGCATTTTTTTCACATC", "GGTTACGGCTGTTTCTTAAT"  # the constant flanks of the yeast library


def fragments(n=300, length=60, genome_length=4000, seed=0):
    """Overlapping fragments of one random genome between constant flanks, like a genomic reporter library."""
    rng = np.random.default_rng(seed)
    genome = "".join(rng.choice(list("ACGT"), genome_length))
    starts = rng.integers(0, genome_length - length, n)
    return [LEFT + genome[s:s + length] + RIGHT for s in starts]


def test_homology_split_leaves_no_shared_20mer_between_parts():
    seqs = fragments()
    ds = dc.data.NumpyDataset(np.zeros((len(seqs), 1)), ids=np.array(seqs, dtype=object))
    splitter = HomologySplitter(k=20, ignore_prefix=20, ignore_suffix=20)
    train, valid, test = splitter.split(ds, 0.8, 0.1, 0.1, seed=3)
    assert sorted(train + valid + test) == list(range(len(seqs))) and len(test) > 0 and len(valid) > 0
    ids = np.array(seqs)
    for part in (test, valid):
        assert not sharing_kmers(ids[part], ids[train], 20, 20, 20).any()
    assert not sharing_kmers(ids[test], ids[valid], 20, 20, 20).any()
    assert splitter.report["clusters"] > 10
    # a random split of overlapping fragments leaks, and the flanks alone would join everything
    rtrain, _, rtest = dc.splits.RandomSplitter().split(ds, 0.8, 0.1, 0.1, seed=3)
    assert sharing_kmers(ids[rtest], ids[rtrain], 20, 20, 20).mean() > 0.5
    assert len(shared_kmer_clusters(seqs, 20)) == 1


def test_homology_split_is_seeded():
    seqs = fragments(seed=1)
    ds = dc.data.NumpyDataset(np.zeros((len(seqs), 1)), ids=np.array(seqs, dtype=object))
    s = HomologySplitter(ignore_prefix=20, ignore_suffix=20)
    assert s.split(ds, seed=0) == s.split(ds, seed=0) != s.split(ds, seed=1)


@pytest.fixture
def tiny_dna_dir(tmp_path):
    """A DNA folder holding a yeast table with one unlabelled row and a small promoter set."""
    seqs = fragments(n=40, seed=2)
    y = np.linspace(1, 10, 40)
    (tmp_path / "expression").mkdir()
    df = pd.DataFrame({"seq": seqs, "isNative": ["TRUE"] * 39 + ["FALSE"], "EL.originalHQ": y, "EL.rep1": y,
                       "EL.rep2": y, "EL.combined": [np.nan] + list(y[1:])})
    df.to_csv(tmp_path / "expression" / "yeast_native_promoters_deboer2020.tsv.gz", sep="\t", index=False)
    (tmp_path / "promoters").mkdir()
    rng = np.random.default_rng(0)
    for name, motif in (("ecoli_promoters_positive2860.fa", "TTGACA"), ("ecoli_nonpromoters_negative2860.fa", "")):
        with open(tmp_path / "promoters" / name, "w") as fh:
            for i in range(50):
                s = "".join(rng.choice(list("acgt"), 81 - len(motif))) + motif
                fh.write(f">{name[:5]}{i}\n{s[:57]}\n{s[57:]}\n")
    return tmp_path


def test_yeast_loader_skips_unlabelled_rows_and_normalises(tiny_dna_dir, caplog):
    tasks, (train, valid, test), transformers = load_yeast_expression(data_dir=tiny_dna_dir, seed=0)
    assert tasks == ["EL.combined"] and len(train) + len(valid) + len(test) == 39
    assert "left out 1 of 40 rows without a EL.combined label" in caplog.text
    assert abs(train.y.mean()) < 1e-6 and train.X.shape[1] == 128 and train.ids[0] == train.ids[0].upper()
    _, parts, _ = load_yeast_expression(data_dir=tiny_dna_dir, native_only=True)
    assert sum(len(p) for p in parts) == 38
    _, parts, _ = load_yeast_expression(data_dir=tiny_dna_dir, max_rows=20, split="random")
    assert sum(len(p) for p in parts) == 20


def test_promoter_loader_and_kmer_baseline(tiny_dna_dir):
    tasks, (train, valid, test), transformers = load_ecoli_promoters(data_dir=tiny_dna_dir, split="random", seed=0)
    assert tasks == ["promoter"] and transformers == [] and (len(train), len(valid), len(test)) == (80, 10, 10)
    assert set(np.unique(train.y)) == {0.0, 1.0} and "a" not in train.ids[0]
    out = kmer_baseline(train, valid, test, "classification", ks=(3, 6), alphas=(1.0,))
    assert out["k"] in (3, 6) and out["test"]["roc_auc"] > 0.9  # TTGACA at the 3' end marks the positives


def test_missing_data_dir_names_the_environment_variable(monkeypatch):
    monkeypatch.delenv("DEEPCHEM_FINETUNE_DNA_DIR", raising=False)
    with pytest.raises(FileNotFoundError, match="DEEPCHEM_FINETUNE_DNA_DIR"):
        dna_data_dir()


@pytest.mark.slow
def test_real_promoters_split_sizes_and_no_leak():
    require_shared(DNA_DIR / "promoters" / "ecoli_promoters_positive2860.fa")
    _, (train, valid, test), _ = load_ecoli_promoters(NucleotideTokenizer(max_length=81), data_dir=DNA_DIR)
    assert (len(train), len(valid), len(test)) == (4576, 572, 572)
    assert 0.45 < test.y.mean() < 0.55 and train.X.shape[1] == 81
    assert not sharing_kmers(list(test.ids), list(train.ids)).any()


@pytest.mark.slow
def test_real_yeast_split_sizes_and_no_leak():
    require_shared(DNA_DIR / "expression" / "yeast_native_promoters_deboer2020.tsv.gz")
    _, (train, valid, test), transformers = load_yeast_expression(data_dir=DNA_DIR, seed=0)
    assert len(train) + len(valid) + len(test) == 69240 and (len(valid), len(test)) == (6924, 6924)
    assert not sharing_kmers(list(test.ids), list(train.ids), 20, 20, 20).any()
    assert not sharing_kmers(list(valid.ids), list(train.ids), 20, 20, 20).any()
    # the same rows split at random: most test fragments overlap a training fragment
    _, (rtrain, _, rtest), _ = load_yeast_expression(data_dir=DNA_DIR, split="random", seed=0)
    assert sharing_kmers(list(rtest.ids), list(rtrain.ids), 20, 20, 20).mean() > 0.5
