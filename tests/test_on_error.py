"""``on_error="skip"``: DeepChem's own CSVLoader drops a failing row and the featurizer names its file row."""
import numpy as np
import pandas as pd
import pytest

import deepchem as dc
from deepchem_finetune.exceptions import FeaturizationError
from deepchem_finetune.featurizers import (MolGraphFeaturizer, NucleotideTokenizer, ProteinTokenizer, SmilesTokenizer,
                                           check_featurizer, featurizer_from_spec, featurizer_spec)

SMILES = ["CCO", "c1ccccc1", "CCN", "CC(=O)O", "C1CC", "CCCl", "c1ccncc1"]  # row 4 is unparsable


def write_csv(tmp_path, values, column="smiles"):
    path = tmp_path / "data.csv"
    pd.DataFrame({column: values, "task": np.arange(len(values), dtype=float)}).to_csv(path, index=False)
    return str(path)


def load(path, featurizer, column="smiles", shard_size=3):
    loader = dc.data.CSVLoader(tasks=["task"], feature_field=column, featurizer=featurizer)
    return loader.create_dataset(path, data_dir=None, shard_size=shard_size)


def test_csvloader_skips_bad_smiles_and_reports_the_file_row(tmp_path, caplog):
    path = write_csv(tmp_path, SMILES)
    f = MolGraphFeaturizer(on_error="skip")
    ds = load(path, f)  # shards: rows 0-2, 3-5 (the bad row 4 is the 2nd of this shard), 6
    assert [(row, smi) for row, smi, _ in f.skipped] == [(4, "C1CC")]
    assert "could not be parsed" in f.skipped[0][2] and "index 4" in f.skipped[0][2]
    assert "skipped row 4 'C1CC'" in caplog.text
    kept = [0, 1, 2, 3, 5, 6]
    assert list(ds.ids) == [SMILES[i] for i in kept]
    assert ds.y[:, 0].tolist() == [float(i) for i in kept]  # labels stay with their molecules
    assert all(g.num_nodes == MolGraphFeaturizer().featurize([SMILES[i]])[0].num_nodes for g, i in zip(ds.X, kept))
    # the row does not depend on the shard size
    f2 = MolGraphFeaturizer(on_error="skip")
    assert len(load(path, f2, shard_size=None)) == 6 and f2.skipped[0][0] == 4


def test_csvloader_default_raises_naming_the_file_row(tmp_path):
    path = write_csv(tmp_path, SMILES)
    with pytest.raises(FeaturizationError, match="index 4 .*'C1CC'") as err:
        load(path, MolGraphFeaturizer())
    assert err.value.index == 4 and err.value.value == "C1CC"


@pytest.mark.parametrize("make, values, bad_row, why", [
    (lambda: ProteinTokenizer(max_length=8, on_error="skip"), ["MKV", "ACD", "MKL", "AC-D", "MMM"], 3,
     "unknown token '-'"),
    (lambda: ProteinTokenizer(max_length=4, on_error="skip"), ["MKV", "ACD", "MKL", "ACDEFG", "MMM"], 3,
     "more than max_length=4"),
    (lambda: NucleotideTokenizer(k=3, max_length=8, on_error="skip"), ["ACGT", "GGA", "ACG", "AXGT", "TTT"], 3,
     "unknown base 'X'"),
    (lambda: SmilesTokenizer.build(["CCO", "CCN"], max_length=8, on_error="skip"),
     ["CCO", "NCC", "OCC", "C1CC", "CC"], 3, "could not be parsed"),
])
def test_csvloader_with_tokenizers(tmp_path, make, values, bad_row, why):
    tok = make()
    ds = load(write_csv(tmp_path, values, "seq"), tok, column="seq")
    assert [s[:2] for s in tok.skipped] == [(bad_row, values[bad_row])] and why in tok.skipped[0][2]
    kept = [i for i in range(len(values)) if i != bad_row]
    assert list(ds.ids) == [values[i] for i in kept]
    assert ds.X.dtype == np.int64 and ds.X.shape == (len(kept), tok.max_length)
    np.testing.assert_array_equal(ds.X, featurizer_from_spec(featurizer_spec(tok)).featurize([values[i] for i in kept]))


def test_direct_calls_rows_are_positions_and_skipped_accumulates():
    tok = ProteinTokenizer(max_length=4, on_error="skip")
    assert tok.featurize(["MKV", "AC"]).shape == (2, 4)  # no failure: the usual 2-D array
    out = tok.featurize(["MKV", "", 7])
    assert out.dtype == object and out[0].tolist() == [13, 11, 20, 0] and out[1].size == out[2].size == 0
    assert [s[:2] for s in tok.skipped] == [(1, ""), (2, 7)]
    series = pd.Series(["MKV", "M*"], index=[10, 11])
    tok.featurize(series)
    assert tok.skipped[-1][:2] == (11, "M*")
    tok.skipped.clear()
    assert MolGraphFeaturizer(on_error="skip").featurize(["CCO"])[0].num_nodes == 3


def test_on_error_is_an_init_attribute_but_not_in_the_spec():
    for default, skipping in [(MolGraphFeaturizer("rich"), MolGraphFeaturizer("rich", on_error="skip")),
                              (ProteinTokenizer(), ProteinTokenizer(on_error="skip")),
                              (NucleotideTokenizer(k=2), NucleotideTokenizer(k=2, on_error="skip")),
                              (SmilesTokenizer(["C", "O"]), SmilesTokenizer(["C", "O"], on_error="skip"))]:
        assert skipping.on_error == "skip" and default.on_error == "raise"
        assert featurizer_spec(skipping) == featurizer_spec(default)
        assert "on_error" not in featurizer_spec(skipping)["config"]
        check_featurizer(featurizer_spec(default), skipping)
        assert featurizer_from_spec(featurizer_spec(skipping)).on_error == "raise"
        assert "on_error='skip'" in repr(skipping)  # DeepChem's repr reads every init argument back
        assert "_on_error_skip" in str(skipping) and "on_error" not in str(default)  # DeepChem's cache key
    with pytest.raises(ValueError, match="on_error must be 'raise' or 'skip', got 'ignore'"):
        MolGraphFeaturizer(on_error="ignore")
    with pytest.raises(ValueError, match="on_error"):
        ProteinTokenizer(on_error="drop")
