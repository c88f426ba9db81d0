"""Sequence tokenizers and vocabularies."""
import json
import logging

import numpy as np
import pytest

import deepchem as dc
from deepchem_finetune.exceptions import FeaturizationError, SpecMismatchError
from deepchem_finetune.featurizers import (NucleotideTokenizer, ProteinTokenizer, SmilesTokenizer, Vocabulary,
                                           check_featurizer, featurizer_from_spec, featurizer_spec)

from conftest import SMALL_SMILES


def roundtrip(featurizer):
    return featurizer_from_spec(json.loads(json.dumps(featurizer_spec(featurizer))))


# ----------------------------------------------------------------------------------- Vocabulary
def test_vocabulary_specials_and_json_round_trip():
    v = Vocabulary(["C", "O", "Cl"])
    assert v.tokens[:3] == ["<pad>", "<unk>", "<mask>"]
    assert (v.pad_id, v.unk_id, v.mask_id) == (0, 1, 2)
    assert v.encode(["Cl", "Xx"]) == [5, 1]
    assert v.decode([5, 3, 0, 0]) == ["Cl", "C"]
    back = Vocabulary.from_dict(json.loads(json.dumps(v.to_dict())))
    assert back == v and back.tokens == v.tokens


def test_vocabulary_rejects_bad_tokens():
    with pytest.raises(ValueError, match="'C' at position 2 is duplicated"):
        Vocabulary(["C", "O", "C"])
    with pytest.raises(ValueError, match="position 1 is the special token"):
        Vocabulary(["C", "<pad>"])
    with pytest.raises(ValueError, match="position 0 must be a non-empty string"):
        Vocabulary([""])
    with pytest.raises(TypeError, match="not one string"):
        Vocabulary("ACGT")
    with pytest.raises(ValueError, match="special tokens"):
        Vocabulary.from_dict({"specials": ["<pad>", "<mask>", "<unk>"], "tokens": ["C"]})


# ------------------------------------------------------------------------------------- SMILES
@pytest.mark.parametrize("smiles, tokens", [
    ("CC(=O)[O-]", ["C", "C", "(", "=", "O", ")", "[O-]"]),
    ("ClC(Br)c1ccccc1", ["Cl", "C", "(", "Br", ")", "c", "1", "c", "c", "c", "c", "c", "1"]),
    ("C%10CC[C@@H]%10[nH+]", ["C", "%10", "C", "C", "[C@@H]", "%10", "[nH+]"]),
    ("C/C=C\\C.[Na+]", ["C", "/", "C", "=", "C", "\\", "C", ".", "[Na+]"]),
    ("BrB", ["Br", "B"]),
    ("C#N", ["C", "#", "N"]),
])
def test_smiles_regex_tokens_and_round_trip(smiles, tokens):
    tok = SmilesTokenizer.build([smiles], canonicalize=False, max_length=20)
    assert tok.tokenize(smiles) == tokens
    X = tok.featurize([smiles])
    assert X.dtype == np.int64 and X.shape == (1, 20)
    assert tok.decode(X[0]) == smiles


def test_smiles_build_is_deterministic_and_canonicalizes():
    tok = SmilesTokenizer.build(SMALL_SMILES, max_length=16)
    again = SmilesTokenizer.build(list(reversed(SMALL_SMILES)), max_length=16)
    assert tok.vocabulary == again.vocabulary
    assert tok.vocabulary[0] == "C"  # most frequent first
    X = tok.featurize(["OCC", "CCO"])  # the same molecule: same canonical tokens
    np.testing.assert_array_equal(X[0], X[1])
    assert tok.decode(X[0]) == "CCO"
    rare = SmilesTokenizer.build(SMALL_SMILES, min_count=2)
    assert "Cl" in tok.vocabulary and "Cl" not in rare.vocabulary


def test_smiles_errors_name_index_position_and_fix():
    tok = SmilesTokenizer.build(SMALL_SMILES, max_length=16)
    with pytest.raises(FeaturizationError, match=r"index 1 has unknown token '\[Se\]' at position 1.*unknown='unk'"
                       ) as err:
        tok.featurize(["CCO", "C[Se]C"])
    assert err.value.index == 1
    with pytest.raises(FeaturizationError, match="index 2 could not be parsed by RDKit: 'C1CC'"):
        tok.featurize(["CCO", "CC", "C1CC"])
    raw = SmilesTokenizer(tok.vocab, canonicalize=False)
    with pytest.raises(FeaturizationError, match="index 0 has an unrecognised character 'X' at position 2"):
        raw.featurize(["CCXC"])
    unk = SmilesTokenizer(tok.vocab, unknown="unk", max_length=8)
    assert unk.featurize(["C[Se]C"])[0, :4].tolist() == [tok.vocab.token_to_id("C"), 1, tok.vocab.token_to_id("C"), 0]


# ------------------------------------------------------------------------------------ proteins
def test_protein_tokens_case_and_iupac():
    tok = ProteinTokenizer(max_length=8)
    X = tok.featurize(["mkV", "XBZUO"])
    assert X.shape == (2, 8) and X.dtype == np.int64
    assert tok.decode(X[0]) == "MKV" and tok.decode(X[1]) == "XBZUO"
    assert (X[0, 3:] == 0).all() and (X[1] > 2).sum() == 5
    assert tok.input_encoding() == {"kind": "tokens", "vocab_size": 28, "pad_id": 0, "unk_id": 1, "mask_id": 2}
    ds = dc.data.NumpyDataset(X, np.array([[0.5], [1.0]]))
    assert ds.X.dtype == np.int64


def test_protein_unknown_residue_error_and_unk_policy():
    tok = ProteinTokenizer(max_length=10)
    with pytest.raises(FeaturizationError, match="index 2 has unknown token 'J' at position 4") as err:
        tok.featurize(["MKV", "ACD", "MKVLJA"])
    assert err.value.index == 2 and err.value.value == "MKVLJA"
    X = ProteinTokenizer(max_length=10, unknown="unk").featurize(["MK-V*"])
    assert X[0, :5].tolist() == [13, 11, 1, 20, 1]


def test_empty_and_non_string_inputs_name_the_index():
    tok = ProteinTokenizer(max_length=10)
    with pytest.raises(FeaturizationError, match="index 1 is an empty string"):
        tok.featurize(["MKV", ""])
    with pytest.raises(FeaturizationError, match="index 1 is a float"):
        tok.featurize(["MKV", float("nan")])
    with pytest.raises(FeaturizationError, match="SMILES at index 0 is an empty string"):
        SmilesTokenizer(["C"]).featurize([""])


def test_over_length_error_versus_truncation(caplog):
    with pytest.raises(FeaturizationError, match="index 1 has 7 tokens, more than max_length=5.*truncate=True"):
        ProteinTokenizer(max_length=5).featurize(["MKV", "MKVLAAG"])
    with caplog.at_level(logging.WARNING):
        X = ProteinTokenizer(max_length=5, truncate=True).featurize(["MKV", "MKVLAAG"])
    assert X.shape == (2, 5) and ProteinTokenizer().decode(X[1]) == "MKVLA"
    assert "truncated 1 of 2" in caplog.text


def test_bad_options():
    with pytest.raises(ValueError, match="max_length"):
        ProteinTokenizer(max_length=0)
    with pytest.raises(ValueError, match="unknown must be"):
        ProteinTokenizer(unknown="skip")
    with pytest.raises(ValueError, match="k must be"):
        NucleotideTokenizer(k=7)


# --------------------------------------------------------------------------------- nucleotides
def test_nucleotide_single_bases_and_kmers():
    one = NucleotideTokenizer(max_length=6)
    X = one.featurize(["acgu", "ACGTN"])
    assert one.decode(X[0]) == "ACGU" and one.decode(X[1]) == "ACGTN"
    three = NucleotideTokenizer(k=3, max_length=4)
    assert three.tokenize("ACGTN") == ["ACG", "CGT", "GTN"]
    assert len(three.vocab) == 3 + 6 ** 3
    X3 = three.featurize(["ACGTN"])
    assert (X3[0, :3] > 2).all() and X3[0, 3] == 0 and three.decode(X3[0]) == "ACGTN"
    with pytest.raises(FeaturizationError, match="index 1 has 2 bases, fewer than k=3"):
        three.featurize(["ACGT", "AC"])
    with pytest.raises(FeaturizationError, match="index 0 has unknown base 'X' at position 2"):
        three.featurize(["ACXGT"])
    unk = NucleotideTokenizer(k=3, max_length=4, unknown="unk").featurize(["ACXGT"])
    assert unk[0, :3].tolist() == [1, 1, 1] and unk[0, 3] == 0


# ---------------------------------------------------------------------------------------- specs
@pytest.mark.parametrize("make", [
    lambda: SmilesTokenizer.build(SMALL_SMILES, max_length=24, unknown="unk", canonicalize=False),
    lambda: ProteinTokenizer(max_length=12, truncate=True),
    lambda: NucleotideTokenizer(k=2, max_length=9),
])
def test_spec_round_trip_through_featurizer_from_spec(make):
    tok = make()
    spec = featurizer_spec(tok)
    assert spec["name"] == type(tok).__name__ and spec["config"]["vocabulary"] == tok.vocab.regular_tokens
    back = roundtrip(tok)
    assert type(back) is type(tok) and featurizer_spec(back) == spec and back.vocab == tok.vocab
    assert str(back) == str(tok) and repr(back) == repr(tok)
    data = {"SmilesTokenizer": ["CCO", "c1ccccc1"], "ProteinTokenizer": ["MKV", "ACDEFGHIKLMNPQ"],
            "NucleotideTokenizer": ["ACGT", "GGA"]}[spec["name"]]
    np.testing.assert_array_equal(back.featurize(data), tok.featurize(data))
    check_featurizer(spec, back)


def test_spec_mismatches_are_errors():
    spec = featurizer_spec(ProteinTokenizer())
    spec["config"]["vocabulary"] = spec["config"]["vocabulary"][:-1]
    with pytest.raises(SpecMismatchError, match="vocabulary differs"):
        featurizer_from_spec(spec)
    a = SmilesTokenizer.build(["CCO"])
    b = SmilesTokenizer.build(["CCN"])
    with pytest.raises(SpecMismatchError, match="model.get_featurizer"):
        check_featurizer(featurizer_spec(a), b)
    assert str(a) != str(b)  # DeepChem cache keys differ with the vocabulary
