import itertools

import pytest
import torch

import deepchem as dc
from deepchem_finetune import MolGNN, MolGraphFeaturizer
from deepchem_finetune.data import graphs_to_batch
from deepchem_finetune.featurizers import input_encoding

from conftest import SMALL_SMILES

FEATURIZERS = {"hu2020": MolGraphFeaturizer("hu2020"), "rich": MolGraphFeaturizer("rich"),
               "dense": dc.feat.MolGraphConvFeaturizer(use_edges=True)}


@pytest.mark.parametrize("feat,jk,pooling", itertools.product(FEATURIZERS, ["last", "concat", "sum", "max"],
                                                             ["mean", "sum", "max", "attention"]))
def test_shapes_over_config_grid(feat, jk, pooling):
    f = FEATURIZERS[feat]
    gnn = MolGNN(input_encoding(f), num_layers=3, hidden_dim=16, jk=jk, pooling=pooling)
    # DeepChem's dense featurizer cannot featurize a bond-less molecule (see test_featurizers)
    smiles = SMALL_SMILES + (["[Na+]"] if feat != "dense" else [])
    batch = graphs_to_batch(f.featurize(smiles))
    out = gnn(batch)
    expected = 16 * 4 if jk == "concat" else 16
    assert gnn.output_dim == expected
    assert out.shape == (len(smiles), expected)
    assert torch.isfinite(out).all()
    assert gnn.encode_nodes(batch).shape == (batch.num_nodes, expected)


def test_config_rebuilds_identical_architecture():
    gnn = MolGNN(input_encoding(FEATURIZERS["rich"]), num_layers=2, hidden_dim=8, jk="concat",
                 pooling="attention", dropout=0.3, mlp_ratio=1)
    clone = MolGNN(**gnn.config)
    assert clone.config == gnn.config
    clone.load_state_dict(gnn.state_dict())
    batch = graphs_to_batch(FEATURIZERS["rich"].featurize(SMALL_SMILES))
    gnn.eval(), clone.eval()
    assert torch.equal(gnn(batch), clone(batch))
    import json
    json.dumps(gnn.config)


def test_gin_layer_matches_explicit_message_passing():
    """Our summed-edge-input formulation equals the per-edge definition sum_u (h_u + e_uv) incl. self loop."""
    f = FEATURIZERS["hu2020"]
    gnn = MolGNN(input_encoding(f), num_layers=1, hidden_dim=6)
    batch = graphs_to_batch(f.featurize(["CC=O", "c1ccccc1"]))
    layer = gnn.layers[0]
    h = torch.randn(batch.num_nodes, 6)
    tables = layer.bond_encoder.tables
    src, dst = batch.edge_index
    expected = torch.zeros_like(h)
    for k in range(src.numel()):
        e = tables[0].weight[batch.edge_attr[k, 0]] + tables[1].weight[batch.edge_attr[k, 1]]
        expected[dst[k]] += h[src[k]] + e
    self_loop = tables[0].weight[4] + tables[1].weight[0]
    expected += h + self_loop
    from deepchem_finetune.backbones.gnn import build_graph_cache
    got = layer(h, build_graph_cache(gnn.input_encoding, batch.edge_index, batch.edge_attr, batch.num_nodes))
    assert torch.allclose(got, layer.mlp(expected), atol=1e-5)


def test_single_atom_batch_trains():
    f = FEATURIZERS["hu2020"]
    gnn = MolGNN(input_encoding(f), num_layers=2, hidden_dim=8)
    gnn.train()
    out = gnn(graphs_to_batch(f.featurize(["[Na+]"])))
    out.sum().backward()
    assert out.shape == (1, 8)


def test_bad_config_errors():
    enc = input_encoding(FEATURIZERS["hu2020"])
    for kwargs, match in [({"jk": "avg"}, "jk"), ({"pooling": "set2set"}, "pooling"),
                          ({"num_layers": 0}, "num_layers"), ({"conv": "gatv2"}, "conv")]:
        with pytest.raises(ValueError, match=match):
            MolGNN(enc, **kwargs)


@pytest.mark.parametrize("conv", ["gin", "gcn", "gat", "graphsage"])
@pytest.mark.parametrize("feat", ["hu2020", "dense"])
def test_every_conv_type_runs_and_backpropagates(conv, feat):
    f = FEATURIZERS[feat]
    gnn = MolGNN(input_encoding(f), num_layers=2, hidden_dim=8, conv=conv, jk="concat", pooling="attention")
    out = gnn(graphs_to_batch(f.featurize(SMALL_SMILES)))
    assert out.shape == (len(SMALL_SMILES), 24)
    out.sum().backward()
    assert all(p.grad is not None for p in gnn.parameters())
    assert MolGNN(**gnn.config).config == gnn.config
