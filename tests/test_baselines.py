"""Ridge-on-one-hot baseline and Spearman model selection."""
import numpy as np
import pytest

import deepchem as dc
from deepchem_finetune import ProteinTokenizer, SeqCNNModel
from deepchem_finetune.benchmark.baselines import one_hot_tokens, ridge_one_hot
from deepchem_finetune.training import fit_with_early_stopping


def test_one_hot_tokens_layout_and_padding():
    X = np.array([[3, 1, 0], [2, 2, 2]])
    out = one_hot_tokens(X, vocab_size=4, pad_id=0)
    assert out.shape == (2, 12)
    assert out[0].reshape(3, 4).tolist() == [[0, 0, 0, 1], [0, 1, 0, 0], [0, 0, 0, 0]]
    assert out[1].sum() == 3
    with pytest.raises(ValueError, match=r"token ids must lie in \[0, 4\)"):
        one_hot_tokens(np.array([[5]]), vocab_size=4)
    with pytest.raises(ValueError, match="expects \\(n, length\\)"):
        one_hot_tokens(np.array([1, 2]), vocab_size=4)


def _additive_landscape(n, seed):
    """Sequences of 6 residues whose fitness is a sum of per-site effects: ridge must rank them well."""
    rng = np.random.default_rng(seed)
    alphabet = list("ACDEFGHIKL")
    seqs = ["".join(rng.choice(alphabet, 6)) for _ in range(n)]
    effect = {(i, a): rng.normal() for i in range(6) for a in alphabet}
    y = np.array([[sum(effect[(i, a)] for i, a in enumerate(s))] for s in seqs])
    tok = ProteinTokenizer(max_length=6)
    return tok, dc.data.NumpyDataset(tok.featurize(seqs), y, ids=np.array(seqs))


def test_ridge_one_hot_learns_an_additive_landscape():
    tok, ds = _additive_landscape(300, seed=0)
    train, valid, test = ds.select(np.arange(200)), ds.select(np.arange(200, 250)), ds.select(np.arange(250, 300))
    enc = tok.input_encoding()
    res = ridge_one_hot(train, valid, test, enc["vocab_size"], enc["pad_id"])
    assert res["test_spearman"] > 0.9 and res["alpha"] in (0.1, 1.0, 10.0, 100.0, 1000.0)
    assert res["test_pred"].shape == (50,)


def test_early_stopping_on_spearman():
    tok, ds = _additive_landscape(120, seed=1)
    train, valid = ds.select(np.arange(100)), ds.select(np.arange(100, 120))
    model = SeqCNNModel(n_tasks=1, mode="regression", featurizer=tok, width=16, depth=1, seed=0, batch_size=16)
    out = fit_with_early_stopping(model, train, valid, valid, max_epochs=3, patience=3, progress=False,
                                  metric="spearman")
    assert out["valid_score"] == max(out["history"]) and -1.0 <= out["test_score"] <= 1.0
    with pytest.raises(ValueError, match="unknown metric 'r2'"):
        fit_with_early_stopping(model, train, valid, max_epochs=1, progress=False, metric="r2")


def test_per_task_forest_uses_only_labelled_rows_and_handles_a_single_class_task(caplog):
    from deepchem_finetune.benchmark.baselines import PerTaskForest
    rng = np.random.default_rng(0)
    X = rng.random((120, 6))
    y = np.stack([(X[:, 0] > 0.5), (X[:, 1] > 0.5), np.zeros(120)], axis=1).astype(float)
    w = np.ones_like(y)
    # task 1: the labels of the rows we mark missing are flipped; a forest that used them would be worse
    w[:60, 1] = 0
    y[:60, 1] = 1 - y[:60, 1]
    forest = PerTaskForest("classification", n_estimators=50, seed=0).fit(X, y, w)
    p = forest.predict(X[60:])
    assert p.shape == (60, 3)
    assert ((p[:, 1] > 0.5) == (X[60:, 1] > 0.5)).mean() > 0.9
    assert forest.constant_tasks == [2] and np.all(p[:, 2] == 0.0)
    assert "single class" in caplog.text
    # deterministic with a seed
    np.testing.assert_array_equal(p, PerTaskForest("classification", n_estimators=50, seed=0).fit(X, y, w)
                                  .predict(X[60:]))
    with pytest.raises(ValueError, match="no labelled training row"):
        PerTaskForest("regression").fit(X, y, np.zeros_like(y))
    with pytest.raises(ValueError, match="mode must be"):
        PerTaskForest("ranking")
