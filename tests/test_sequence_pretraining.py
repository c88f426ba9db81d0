"""Sequence corpora (FASTA / lines / CSV) and masked-token pretraining of SeqCNN through the pretrain CLI."""
import gzip
import json

import numpy as np
import pytest

from deepchem_finetune import SeqCNNModel
from deepchem_finetune.cli import main
from deepchem_finetune.data.sequences import (featurize_sequence_corpus, read_sequences,
                                              smiles_tokenizer_for_corpus)
from deepchem_finetune.exceptions import FeaturizationError
from deepchem_finetune.featurizers import ProteinTokenizer

from conftest import SHARED_DATA, SMALL_SMILES, require_shared

PROTEINS = ["MKTAYIAKQRQISFVKSHFSRQ", "GSHMLEDPVDAFQ", "MKVLAAGIVGLLLA", "MSTNPKPQRKTKRNTNRRPQDVKFPGG",
            "MAHHHHHHVDDDDK", "MKKLLPTAAAGLLLLAAQPAMA"] * 4


@pytest.fixture(autouse=True)
def private_cache(cache_dir):
    """Every test of this module caches its tokenized corpora under its tmp_path, not in the user's cache."""
    return cache_dir


@pytest.fixture
def fasta(tmp_path):
    path = tmp_path / "prot.fasta.gz"
    with gzip.open(path, "wt") as fh:
        for i, seq in enumerate(PROTEINS):
            fh.write(f">p{i} some description\n{seq[:10]}\n{seq[10:]}\n")
        fh.write(">bad\nMKJJ\n")  # J is not a residue code: counted as unknown_token
    return path


def test_read_sequences_fasta_lines_and_csv(fasta, tmp_path):
    rec = read_sequences(fasta)
    assert rec.n_read == len(PROTEINS) + 1 and rec.ids[0] == "p0" and rec.sequences[0] == PROTEINS[0]
    lines = tmp_path / "seqs.txt"
    lines.write_text("sequence\nMKT  a1\n\nGSHM a2\n")
    rec = read_sequences(lines)
    assert rec.sequences == ["MKT", "GSHM"] and rec.ids == ["a1", "a2"]
    table = tmp_path / "t.csv"
    table.write_text("name,Sequence,y\nx,MKTA,1\ny,GS,0\n")
    rec = read_sequences(table, min_length=3)
    assert rec.sequences == ["MKTA"] and rec.ids == ["x"] and rec.skipped[0][:2] == (1, "y")


def test_featurize_corpus_counts_every_skipped_sequence(fasta):
    ds, info = featurize_sequence_corpus(fasta, ProteinTokenizer(max_length=24))
    too_long = sum(len(p) > 24 for p in PROTEINS)
    assert info["read"] == len(PROTEINS) + 1
    assert info["skipped_by_reason"] == {"too_long": too_long, "unknown_token": 1}
    assert info["size"] == len(ds) == len(PROTEINS) - too_long and info["skipped"] == too_long + 1
    assert ds.X.shape == (len(ds), 24) and ds.X.dtype == np.int16
    assert any(e[1] == "bad" for e in info["skipped_examples"]) and len(info["sha256"]) == 64
    ds, info = featurize_sequence_corpus(fasta, ProteinTokenizer(max_length=24, truncate=True))
    assert info["truncated"] == too_long and info["skipped_by_reason"] == {"unknown_token": 1}


def test_featurize_corpus_with_nothing_valid_fails(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("JJJ\nBJOX1\n")
    with pytest.raises(FeaturizationError, match="none of the 2 sequences"):
        featurize_sequence_corpus(path, ProteinTokenizer(max_length=8))


def test_tokenized_corpus_is_cached(fasta, monkeypatch, caplog):
    from deepchem_finetune.data import sequences
    first, info = featurize_sequence_corpus(fasta, ProteinTokenizer(max_length=24))

    def fail(*args, **kwargs):
        raise AssertionError("tokenized or re-read on a cache hit")
    monkeypatch.setattr(sequences, "_tokenize_chunk", fail)
    monkeypatch.setattr(sequences, "read_sequences", fail)
    with caplog.at_level("WARNING", logger="deepchem_finetune.data.sequences"):
        again, info_again = featurize_sequence_corpus(fasta, ProteinTokenizer(max_length=24))
    assert info_again == info and "5 of 25 sequences could not be tokenized" in caplog.text
    np.testing.assert_array_equal(again.X, first.X)
    assert again.X.dtype == first.X.dtype and list(again.ids) == list(first.ids) and again.y.shape == (20, 0)
    monkeypatch.undo()
    longer, _ = featurize_sequence_corpus(fasta, ProteinTokenizer(max_length=32))  # another tokenizer, another key
    assert longer.X.shape == (len(PROTEINS), 32)


def test_tokenizing_resumes_and_workers_give_the_same_dataset(fasta, monkeypatch):
    from deepchem_finetune.data import sequences
    one, info = featurize_sequence_corpus(fasta, ProteinTokenizer(max_length=24), chunk_size=5, workers=1,
                                          cache_dir=None)
    starts, original = [], sequences._tokenize_chunk

    def interrupted(spec, seqs, record_index, start, dest, dtype):
        starts.append(start)
        if start == 10:
            raise KeyboardInterrupt  # killed while tokenizing the third chunk
        return original(spec, seqs, record_index, start, dest, dtype)
    monkeypatch.setattr(sequences, "_tokenize_chunk", interrupted)
    tok = ProteinTokenizer(max_length=24, truncate=True)
    with pytest.raises(KeyboardInterrupt):
        featurize_sequence_corpus(fasta, tok, chunk_size=5, workers=1)
    monkeypatch.setattr(sequences, "_tokenize_chunk", original)
    resumed, resumed_info = featurize_sequence_corpus(fasta, tok, chunk_size=5, workers=2)  # 3 chunks to do
    assert starts == [0, 5, 10]
    two, two_info = featurize_sequence_corpus(fasta, tok, chunk_size=5, workers=2, cache_dir=None, limit=25)
    assert resumed_info == {**two_info, "limit": None}
    np.testing.assert_array_equal(resumed.X, two.X)
    assert list(resumed.ids) == list(two.ids) and resumed_info["truncated"] == 4


def test_smiles_vocabulary_from_corpus_maps_unseen_tokens_to_unk():
    tok = smiles_tokenizer_for_corpus(SMALL_SMILES + ["C1CC"], max_length=32)
    assert tok.unknown == "unk" and "Cl" in tok.vocabulary and "Br" not in tok.vocabulary
    x = tok.featurize(["CCBr"])
    assert x.shape == (1, 32)


def run(*args):
    assert main(["pretrain", "--no-progress", "--backbone", "seq_cnn", "--objective", "masked_tokens",
                 "--width", "16", "--depth", "2", "--batch-size", "8", "--epochs", "20", *args]) == 0


def test_seq_cnn_pretrain_cli_writes_checkpoint_with_eval_metrics_and_resumes(fasta, tmp_path):
    out = str(tmp_path / "mt")
    run("--corpus", str(fasta), "--out", out, "--max-length", "32", "--max-steps", "4", "--checkpoint-every", "2")
    cfg = json.load(open(f"{out}/config.json"))
    prov = cfg["provenance"]
    assert cfg["objective"]["name"] == "masked_tokens" and cfg["backbone"]["name"] == "SeqCNN"
    assert prov["steps"] == 4 and prov["data"]["skipped_by_reason"] == {"unknown_token": 1}
    assert prov["data"]["train_size"] + prov["data"]["eval_size"] == len(PROTEINS)
    assert 0.0 <= prov["eval_masked_accuracy"] <= 1.0 and prov["eval_perplexity"] > 1.0
    run("--corpus", str(fasta), "--out", out, "--max-length", "32", "--max-steps", "6", "--checkpoint-every", "2",
        "--resume")
    prov = json.load(open(f"{out}/config.json"))["provenance"]
    assert prov["resumed_from_step"] == 4 and prov["steps"] == 6
    model = SeqCNNModel.from_pretrained(out, n_tasks=2, mode="regression", strategy="frozen")
    assert model.get_featurizer().max_length == 32
    assert model.predict_on_batch(model.get_featurizer().featurize(PROTEINS[:3])).shape == (3, 2)


def test_seq_cnn_pretrain_smiles_vocabulary_round_trips(tmp_path, cache_dir):
    corpus = tmp_path / "c.smi"
    corpus.write_text("\n".join(SMALL_SMILES * 3) + "\n")
    out = str(tmp_path / "smi")
    run("--corpus", str(corpus), "--out", out, "--tokenizer", "smiles", "--max-length", "24", "--max-steps", "2")
    spec = json.load(open(f"{out}/config.json"))["featurizer"]
    model = SeqCNNModel.from_pretrained(out, n_tasks=1)
    assert model.get_featurizer().vocabulary == spec["config"]["vocabulary"]


def test_smiles_seq_cnn_descriptor_targets_match_rdkit(tmp_path, cache_dir):
    from rdkit import Chem
    from deepchem_finetune.featurizers.descriptors import compute_descriptors, descriptor_names
    corpus = tmp_path / "c.smi"
    corpus.write_text("CCO\nc1ccccc1O\nnot_a_smiles\nCC(=O)O\n")
    tok = smiles_tokenizer_for_corpus(["CCO", "c1ccccc1O", "CC(=O)O"], max_length=16)
    ds, info = featurize_sequence_corpus(corpus, tok, targets="descriptors", workers=1)
    assert ds.y.shape == (3, len(descriptor_names())) and info["descriptors_missing"] == 0
    names = descriptor_names()
    i = names.index("MolWt")
    expected = compute_descriptors(Chem.MolFromSmiles("c1ccccc1O"))
    assert ds.y[1, i] == pytest.approx(expected[i], rel=1e-5) and ds.w[1, i] == 1
    with pytest.raises(ValueError, match="SmilesTokenizer"):
        featurize_sequence_corpus(corpus, ProteinTokenizer(max_length=16), targets="descriptors")


@pytest.mark.parametrize("objective", ["descriptors", "masked_tokens+descriptors"])
def test_smiles_seq_cnn_descriptor_pretraining_lowers_loss_and_stores_scaler(tmp_path, cache_dir, objective):
    from deepchem_finetune.pretraining import pretrain
    corpus = tmp_path / "c.smi"
    corpus.write_text("\n".join(SMALL_SMILES * 8) + "\n")
    kw = dict(backbone="seq_cnn", objective=objective, tokenizer="smiles", max_length=24, width=16, depth=2,
              batch_size=16, learning_rate=3e-3, workers=1, progress=False, seed=0)
    first = pretrain(str(corpus), str(tmp_path / "a"), max_steps=1, **kw)
    later = pretrain(str(corpus), str(tmp_path / "b"), max_steps=60, epochs=100, **kw)
    assert later["final_loss"] < 0.8 * first["final_loss"]  # one batch each; masked tokens are noisy
    cfg = json.load(open(tmp_path / "b" / "config.json"))
    parts = cfg["objective"]["config"].get("parts")
    desc = parts[1]["config"] if parts else cfg["objective"]["config"]
    assert len(desc["scaler"]["kept"]) > 50
    if parts:  # the masked-token part is still evaluated on the held-out SMILES
        assert 0 <= later["eval_masked_accuracy"] <= 1
    model = SeqCNNModel.from_pretrained(str(tmp_path / "b"), n_tasks=1, mode="regression")
    assert model.predict_sequences(["CCO"]).shape == (1, 1)
    with pytest.raises(ValueError, match="tokenizer='smiles'"):
        pretrain(str(corpus), str(tmp_path / "c"), **{**kw, "tokenizer": "protein"})


def test_options_of_the_other_backbone_are_refused(fasta, tmp_path):
    with pytest.raises(SystemExit, match="--hidden-dim"):
        run("--corpus", str(fasta), "--out", str(tmp_path / "x"), "--hidden-dim", "8")
    with pytest.raises(SystemExit, match="--max-length"):
        main(["pretrain", "--corpus", str(fasta), "--out", str(tmp_path / "y"), "--max-length", "8"])


def test_seq_cnn_needs_masked_tokens(fasta, tmp_path):
    with pytest.raises(ValueError, match="masked_tokens"):
        main(["pretrain", "--no-progress", "--backbone", "seq_cnn", "--objective", "attr_masking",
              "--corpus", str(fasta), "--out", str(tmp_path / "z")])


@pytest.mark.slow
def test_real_protein_corpus_pretraining_lowers_held_out_loss(tmp_path):
    corpus = require_shared(SHARED_DATA / "protein" / "corpus" / "scope_astral40_2.07.fasta.gz")
    out = str(tmp_path / "scope")
    run("--corpus", str(corpus), "--out", out, "--limit", "600", "--max-length", "256", "--truncate",
        "--max-steps", "60", "--lr", "3e-3", "--width", "64")
    prov = json.load(open(f"{out}/config.json"))["provenance"]
    assert prov["data"]["size"] == 600
    # 25 residue-ish classes: a uniform guess has perplexity ~25; learning residue frequencies alone beats it
    assert prov["eval_perplexity"] < 20.0
