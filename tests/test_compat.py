import subprocess
import sys
import warnings

import numpy as np

from deepchem_finetune._compat import find_failed_features, sanitize_labels
from deepchem_finetune.metrics import masked_roc_auc


def test_import_prints_nothing():
    """Without our quiet import, `import deepchem` prints ~20 lines ("No normalization ...", "Skipped ...")."""
    out = subprocess.run([sys.executable, "-c", "import deepchem_finetune"], capture_output=True, text=True)
    assert out.returncode == 0
    assert out.stdout == "" and out.stderr == ""
    raw = subprocess.run([sys.executable, "-c", "import deepchem"], capture_output=True, text=True)
    assert "Skipped loading" in raw.stderr  # the behaviour we work around still exists


def test_later_deepchem_warnings_are_not_hidden():
    code = ("import deepchem_finetune, logging, deepchem as dc;"
            "logging.getLogger('deepchem.models').warning('real warning')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "real warning" in out.stderr


def test_sanitize_labels_moves_nan_to_weights():
    y, w = sanitize_labels(np.array([[1.0, np.nan], [np.inf, 0.0]]), np.ones((2, 2)))
    assert np.isfinite(y).all()
    assert w.tolist() == [[1.0, 0.0], [0.0, 1.0]]


def test_masked_metric_ignores_missing_labels():
    import deepchem as dc
    y = np.array([[1], [0], [0], [1]], dtype=float)
    w = np.array([[1], [1], [0], [1]], dtype=float)
    pred = np.array([[0.9], [0.1], [0.95], [0.8]])
    metric = dc.metrics.Metric(dc.metrics.roc_auc_score)
    to2 = np.concatenate([1 - pred, pred], axis=1)[:, None, :]
    assert metric.compute_metric(y, to2, w=w, n_tasks=1) < 1.0  # DeepChem's default scores w=0 rows
    assert metric.compute_metric(y, to2, w=w, n_tasks=1, use_sample_weights=True) == 1.0
    assert masked_roc_auc(y, w, to2) == 1.0


def test_find_failed_features():
    arr = np.empty(3, dtype=object)
    arr[:] = [np.zeros(2), np.array([]), np.ones(2)]
    assert find_failed_features(arr) == [1]


def test_fit_does_not_emit_grad_scalar_warning():
    from deepchem_finetune import MolGNNModel, MolGraphFeaturizer
    from conftest import make_dataset
    m = MolGNNModel(1, featurizer=MolGraphFeaturizer(), num_layers=1, hidden_dim=8, seed=0)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        m.fit(make_dataset(m.get_featurizer()), nb_epoch=1, checkpoint_interval=0)
    assert not [r for r in rec if "requires_grad=True to a scalar" in str(r.message)]
