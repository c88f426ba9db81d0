"""Protein CSV loading, FLIP splits (slow: real data in ../shared/data/protein) and the Spearman metric."""
import numpy as np
import pandas as pd
import pytest

import deepchem as dc
from deepchem_finetune import ProteinTokenizer, SeqCNNModel
from deepchem_finetune.data.flip import PROTEIN_DIR_ENV, load_flip, load_sequence_csv
from deepchem_finetune.exceptions import FeaturizationError
from deepchem_finetune.metrics import spearman_corrcoef, spearman_metric

from conftest import SHARED_DATA, require_shared

PROTEIN_DIR = SHARED_DATA / "protein"


def test_spearman_metric():
    y = np.array([[1.0], [2.0], [3.0], [4.0]])
    assert float(spearman_metric().compute_metric(y, np.array([[1], [3], [2], [4.0]]))) == pytest.approx(0.8)
    assert spearman_corrcoef(y.ravel(), np.array([4, 3, 2, 1.0])) == pytest.approx(-1.0)
    # a zero weight (missing label) is left out
    assert spearman_corrcoef(y.ravel(), np.array([9, 2, 3, 4.0]), sample_weight=np.array([0, 1, 1, 1])) == 1.0


def test_load_sequence_csv(tmp_path):
    path = tmp_path / "p.csv"
    pd.DataFrame({"seq": ["MKV", "ACDE", "GG"], "a": [1.0, None, 3.0], "b": [0, 1, 0]}).to_csv(path, index=False)
    ds = load_sequence_csv(path, "seq", ["a", "b"], ProteinTokenizer(max_length=6))
    assert ds.X.shape == (3, 6) and ds.X.dtype == np.int64 and ds.y.shape == (3, 2)
    assert ds.w[1].tolist() == [0.0, 1.0] and ds.ids.tolist() == ["MKV", "ACDE", "GG"]
    with pytest.raises(ValueError, match=r"no column\(s\) \['target'\]; its columns are \['seq', 'a', 'b'\]"):
        load_sequence_csv(path, "seq", ["target"])
    pd.DataFrame({"sequence": ["MKV", "MJV"], "target": [1.0, 2.0]}).to_csv(path, index=False)
    with pytest.raises(FeaturizationError, match="index 1 has unknown token 'J' at position 1"):
        load_sequence_csv(path)


def test_load_flip_needs_a_data_dir(monkeypatch, tmp_path):
    monkeypatch.delenv(PROTEIN_DIR_ENV, raising=False)
    with pytest.raises(FileNotFoundError, match="pass data_dir=.*DEEPCHEM_FINETUNE_PROTEIN_DIR.*J-SNACKKB/FLIP"):
        load_flip()
    monkeypatch.setenv(PROTEIN_DIR_ENV, str(tmp_path))
    with pytest.raises(FileNotFoundError, match="flip_gb1/three_vs_rest.csv.gz' not found"):
        load_flip()


@pytest.mark.slow
def test_flip_gb1_three_vs_rest_sizes():
    require_shared(PROTEIN_DIR / "flip_gb1" / "three_vs_rest.csv.gz")
    tasks, (train, valid, test), transformers = load_flip("gb1", "three_vs_rest", data_dir=PROTEIN_DIR)
    assert tasks == ["target"]
    assert (len(train), len(valid), len(test)) == (2691, 299, 5743)
    for d in (train, valid, test):
        assert isinstance(d, dc.data.NumpyDataset) and d.X.shape[1] == 512 and d.y.shape == (len(d), 1)
        assert len(d.ids[0]) == 265
    assert abs(train.y.mean()) < 1e-8 and train.y.std() == pytest.approx(1.0)
    assert not set(train.ids) & set(test.ids)
    assert len(transformers) == 1 and isinstance(transformers[0], dc.trans.NormalizationTransformer)


@pytest.mark.slow
def test_seq_cnn_short_fit_on_gb1_subset():
    require_shared(PROTEIN_DIR / "flip_gb1" / "three_vs_rest.csv.gz")
    tasks, (train, valid, test), transformers = load_flip("gb1", "three_vs_rest", data_dir=PROTEIN_DIR)
    sub = train.select(np.arange(200))
    model = SeqCNNModel(n_tasks=1, mode="regression", width=32, depth=2, kernel_size=5, seed=0, batch_size=32)
    loss = model.fit(sub, nb_epoch=2, checkpoint_interval=0)
    assert np.isfinite(loss)
    scores = model.evaluate(valid.select(np.arange(100)), [spearman_metric()], transformers)
    assert np.isfinite(scores["spearman"])
