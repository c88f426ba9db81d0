"""Context prediction: substructures and context rings on hand-checked molecules."""
import numpy as np
import torch

import deepchem as dc
from deepchem_finetune import MolGNN, MolGNNModel, MolGraphFeaturizer
from deepchem_finetune.data import graphs_to_batch
from deepchem_finetune.objectives import ContextPrediction
from deepchem_finetune.objectives.context import hop_distances

F = MolGraphFeaturizer("hu2020")


def objective(k, r1, r2):
    obj = ContextPrediction(F.get_spec(), k=k, r1=r1, r2=r2)
    obj.build_head(MolGNN(F.input_encoding(), num_layers=k, hidden_dim=8))
    return obj


def test_benzene_substructure_context_and_anchors():
    batch = graphs_to_batch(F.featurize(["c1ccccc1"]))
    assert hop_distances(batch.edge_index, 6, torch.tensor([0]), 3).tolist() == [0, 1, 2, 3, 2, 1]
    pair = objective(2, 1, 3).pairs(batch, torch.tensor([0]))
    assert pair.n_kept == 1
    assert pair.substructure.num_nodes == 5 and pair.substructure.edge_index.shape[1] == 8  # bonds 5-0-1-2, 4-5
    assert pair.center.tolist() == [0]
    assert pair.context.num_nodes == 5 and pair.context.edge_index.shape[1] == 8  # ring minus atom 0
    assert pair.anchor.tolist() == [0, 1, 3, 4]  # context atoms 1, 2, 4, 5 (hops 1..2); atom 3 is not one


def test_ethanol_and_a_molecule_without_context_in_one_batch():
    batch = graphs_to_batch(F.featurize(["CCO", "C", "c1ccccc1"]))
    # centres: ethanol C0, methane C (index 3), benzene atom 0 (index 4)
    pair = objective(1, 1, 2).pairs(batch, torch.tensor([0, 3, 4]))
    assert pair.n_kept == 2  # methane has no atom 1-2 hops away
    assert pair.substructure.num_nodes == 2 + 3  # ethanol C0-C1; benzene atom 0 and its two neighbours
    assert pair.substructure.x[pair.center].tolist() == [[5, 0], [5, 0]]
    assert pair.context.num_nodes == 2 + 4  # ethanol C1, O2; benzene hops 1-2
    assert pair.anchor_graph.tolist() == [0, 1, 1]  # ethanol C1; benzene's two hop-1 atoms
    assert pair.context.batch.tolist() == [0, 0, 2, 2, 2, 2]


def test_context_prediction_trains_through_fit():
    smiles = ["CC(C)Cc1ccc(cc1)C(C)C(=O)O", "CN1CCCC1c2cccnc2", "CCCCCCCCCC", "O=C(O)c1ccccc1OC(C)=O"]
    ds = dc.data.NumpyDataset(F.featurize(smiles * 16))
    model = MolGNNModel(featurizer=F, objective="context_pred", num_layers=3, hidden_dim=32, seed=0,
                        learning_rate=3e-3)
    first = model.fit(ds, nb_epoch=1, checkpoint_interval=0)
    model.fit(ds, nb_epoch=15, checkpoint_interval=0)
    last = model.fit(ds, nb_epoch=1, checkpoint_interval=0)
    assert np.isfinite(last) and last < first
    assert model.model.objective.config == {"k": 3, "r1": 2, "r2": 5}
    # the context GNN is a head: not part of the saved backbone
    assert not any(k.startswith("head") for k in model.backbone.state_dict())


def test_batch_without_any_context_gives_zero_loss():
    ds = dc.data.NumpyDataset(F.featurize(["C", "[Na+]", "O"]))
    model = MolGNNModel(featurizer=F, objective="context_pred", num_layers=2, hidden_dim=8, seed=0)
    assert model.fit(ds, nb_epoch=1, checkpoint_interval=0) == 0.0
