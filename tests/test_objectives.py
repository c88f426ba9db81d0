"""Pretraining objectives: corruption, losses, and training through DeepChem's fit."""
import numpy as np
import pytest
import torch

import deepchem as dc
from deepchem_finetune import MolGNNModel, MolGraphFeaturizer
from deepchem_finetune.data import graphs_to_batch
from deepchem_finetune.objectives import AttributeMasking

from conftest import SMALL_SMILES

BIG = ["CC(C)Cc1ccc(cc1)[C@@H](C)C(=O)O", "CN1CCC[C@H]1c2cccnc2", "O=C(O)c1ccccc1OC(C)=O",
       "CCN(CC)CCNC(=O)c1ccc(N)cc1", "C", "[Na+]", "CCO"]


def test_masking_touches_the_configured_fraction_and_sets_mask_tokens():
    f = MolGraphFeaturizer("hu2020")
    obj = AttributeMasking(f.get_spec(), mask_rate=0.25)
    batch = graphs_to_batch(f.featurize(BIG))
    out, labels, weights = obj.transform(batch, torch.Generator().manual_seed(0))
    sizes = (batch.ptr[1:] - batch.ptr[:-1]).tolist()
    per_graph = torch.bincount(batch.batch[out.masked_atoms], minlength=len(BIG)).tolist()
    assert per_graph == [max(1, round(n * 0.25)) for n in sizes]
    assert (out.x[out.masked_atoms] == torch.tensor([119, 0])).all()
    assert torch.equal(labels[0], batch.x[out.masked_atoms, 0])
    unmasked = torch.ones(batch.num_nodes, dtype=torch.bool)
    unmasked[out.masked_atoms] = False
    assert torch.equal(out.x[unmasked], batch.x[unmasked])
    src, dst = batch.edge_index
    touching = torch.isin(src, out.masked_atoms) | torch.isin(dst, out.masked_atoms)
    assert (out.edge_attr[touching] == torch.tensor([5, 0])).all()
    assert torch.equal(out.edge_attr[~touching], batch.edge_attr[~touching])
    assert torch.equal(labels[1], batch.edge_attr[out.masked_edges, 0])
    assert (src[out.masked_edges] < dst[out.masked_edges]).all()
    assert batch.x.max() < 119  # the input batch itself is not modified


def test_masking_is_reproducible_with_a_seed():
    f = MolGraphFeaturizer("hu2020")
    obj = AttributeMasking(f.get_spec())
    batch = graphs_to_batch(f.featurize(BIG))
    a = obj.transform(batch, torch.Generator().manual_seed(3))[0].masked_atoms
    b = obj.transform(batch, torch.Generator().manual_seed(3))[0].masked_atoms
    assert torch.equal(a, b)


def test_attr_masking_loss_decreases_through_fit(tmp_path):
    f = MolGraphFeaturizer("rich")
    ds = dc.data.NumpyDataset(f.featurize(SMALL_SMILES * 8 + BIG * 4))
    model = MolGNNModel(featurizer=f, objective="attr_masking", num_layers=2, hidden_dim=32, seed=0,
                        learning_rate=3e-3, batch_size=32)
    losses = []
    model.fit(ds, nb_epoch=30, checkpoint_interval=0, all_losses=losses)
    first = model.fit(ds, nb_epoch=1, checkpoint_interval=0)
    assert np.isfinite(first)
    fresh = MolGNNModel(featurizer=f, objective="attr_masking", num_layers=2, hidden_dim=32, seed=0)
    start = fresh.fit(ds, nb_epoch=1, checkpoint_interval=0)
    assert first < 0.6 * start
    path = model.save_pretrained(tmp_path / "am")
    ft = MolGNNModel.from_pretrained(path, n_tasks=2)
    assert ft.predict_smiles(["CCO"]).shape == (1, 2, 2)
    import json
    assert json.load(open(f"{path}/config.json"))["objective"] == {
        "name": "attr_masking", "config": {"mask_rate": 0.15, "mask_edges": True}}


def test_attr_masking_needs_categorical_features():
    with pytest.raises(ValueError, match="MolGraphFeaturizer"):
        MolGNNModel(featurizer=dc.feat.MolGraphConvFeaturizer(use_edges=True), objective="attr_masking")
    with pytest.raises(ValueError, match="unknown objective"):
        MolGNNModel(featurizer=MolGraphFeaturizer(), objective="masking")
    with pytest.raises(TypeError, match="n_tasks"):
        MolGNNModel(featurizer=MolGraphFeaturizer())
