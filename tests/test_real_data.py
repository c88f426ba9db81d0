"""Real-data checks on ../shared/data (marked slow: tens of seconds each)."""
import numpy as np
import pytest

from deepchem_finetune import MolGNNModel, MolGraphFeaturizer
from deepchem_finetune.data import load_moleculenet
from deepchem_finetune.metrics import score
from deepchem_finetune.training import fit_with_early_stopping

from conftest import MOLECULENET_DIR, require_shared

pytestmark = pytest.mark.slow


def test_bbbp_scaffold_split_learns(cache_dir, caplog):
    require_shared(MOLECULENET_DIR / "BBBP.csv")
    featurizer = MolGraphFeaturizer("rich")
    tasks, (train, valid, test), transformers = load_moleculenet("bbbp", featurizer, data_dir=str(MOLECULENET_DIR))
    assert tasks == ["p_np"]
    # 2050 rows, 11 unparsable by RDKit -> 2039 (the sizes PROVENANCE.md gives for dc.molnet)
    assert (len(train), len(valid), len(test)) == (1631, 204, 204)
    assert "11 molecule(s) could not be featurized" in caplog.text
    model = MolGNNModel(n_tasks=1, mode="classification", featurizer=featurizer, num_layers=3, hidden_dim=64,
                        seed=0, batch_size=64)
    out = fit_with_early_stopping(model, train, valid, test, transformers, max_epochs=6, patience=6,
                                  progress=False)
    assert out["test_score"] > 0.6, out
    assert score(model, test, transformers) == pytest.approx(out["test_score"])
    # second load hits DeepChem's cache (no featurization, no warning)
    caplog.clear()
    _, (train2, _, _), _ = load_moleculenet("bbbp", featurizer, data_dir=str(MOLECULENET_DIR))
    assert len(train2) == 1631 and "could not be featurized" not in caplog.text
    np.testing.assert_array_equal(train2.ids, train.ids)


def test_tox21_multitask_missing_labels(cache_dir):
    require_shared(MOLECULENET_DIR / "tox21.csv.gz")
    featurizer = MolGraphFeaturizer("hu2020")
    tasks, (train, valid, test), transformers = load_moleculenet("tox21", featurizer,
                                                                 data_dir=str(MOLECULENET_DIR))
    assert len(tasks) == 12 and (train.w == 0).any()
    model = MolGNNModel(n_tasks=12, featurizer=featurizer, num_layers=2, hidden_dim=32, seed=0, batch_size=128)
    loss = model.fit(train, nb_epoch=1, checkpoint_interval=0)
    assert np.isfinite(loss)
    auc = score(model, valid, transformers)
    assert 0.5 < auc <= 1.0


def test_cli_demo_runs_end_to_end(capsys):
    from deepchem_finetune.cli import main
    assert main(["demo", "--max-epochs", "3", "--patience", "3", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "MolGNN" in out and "RandomForest" in out and "test_rmse" in out
