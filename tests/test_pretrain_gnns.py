"""Import of the published Hu et al. (2020) checkpoints and the equations of their layers."""
from pathlib import Path

import pytest
import torch

from deepchem_finetune import PretrainedError, MolGNN, MolGNNModel, MolGraphFeaturizer
from deepchem_finetune.backbones.gnn import build_graph_cache
from deepchem_finetune.hub import safe_torch_load
from deepchem_finetune.data import graphs_to_batch
from deepchem_finetune.hub.pretrain_gnns import import_pretrain_gnns, infer_gnn_type, to_ours, to_theirs

from conftest import SHARED_DATA, require_shared

WEIGHTS = SHARED_DATA / "pretrain_gnns" / "chem_model_architecture"
FILES = [f"{t}_{m}.pth" for t in ("gcn", "gat", "graphsage") for m in ("contextpred", "supervised",
                                                                        "supervised_contextpred")]


@pytest.mark.parametrize("name", FILES)
def test_every_key_maps_one_to_one_and_back(name):
    path = require_shared(WEIGHTS / name)
    raw = safe_torch_load(path)
    ckpt = import_pretrain_gnns(path)
    ours = ckpt.state_dict
    backbone = MolGNN(**ckpt.backbone["config"])
    assert set(ours) == set(backbone.state_dict())
    assert {k: v.shape for k, v in ours.items()} == {k: v.shape for k, v in backbone.state_dict().items()}
    renamed = to_ours(raw)
    assert len(renamed) == len(raw)  # injective
    for k, v in renamed.items():
        assert torch.equal(ours[k], v)
    assert to_theirs(renamed).keys() == raw.keys()
    assert ckpt.backbone["config"]["conv"] == name.split("_")[0]
    assert len(ckpt.provenance["source_sha256"]) == 64


def test_imported_model_runs_and_saves(tmp_path):
    path = require_shared(WEIGHTS / "gcn_supervised_contextpred.pth")
    model = MolGNNModel.from_pretrained(str(path), n_tasks=2, dropout=0.5)
    assert model.get_featurizer().get_spec()["config"]["preset"] == "hu2020"
    out = model.predict_smiles(["CCO", "c1ccccc1", "[Na+]"])
    assert out.shape == (3, 2, 2) and torch.isfinite(torch.as_tensor(out)).all()
    saved = import_pretrain_gnns(path, save_to=str(tmp_path / "gcn_scp"))
    again = MolGNNModel.from_pretrained(str(tmp_path / "gcn_scp"), n_tasks=2)
    for (k, a), b in zip(model.backbone.state_dict().items(), again.backbone.state_dict().values()):
        assert torch.equal(a, b), k
    assert saved.provenance["paper"].startswith("Hu, W.")


def test_gcn_vs_graphsage_needs_the_name(tmp_path):
    raw = safe_torch_load(require_shared(WEIGHTS / "gcn_contextpred.pth"))
    assert infer_gnn_type(raw, "gcn_contextpred.pth") == "gcn"
    with pytest.raises(PretrainedError, match="gnn_type"):
        infer_gnn_type(raw, "mystery.pth")


# ------------------------------------------------ layer equations on a 3-atom molecule, by hand
def _three_atoms(conv, d=4):
    f = MolGraphFeaturizer("hu2020")
    gnn = MolGNN(f.input_encoding(), num_layers=1, hidden_dim=d, conv=conv)
    g = f.featurize(["C=CO"])[0]  # C0=C1 (type 1), C1-O2 (type 0)
    batch = graphs_to_batch([g])
    cache = build_graph_cache(gnn.input_encoding, batch.edge_index, batch.edge_attr, 3)
    h = torch.randn(3, d)
    layer = gnn.layers[0]
    t1, t2 = layer.bond_encoder.tables
    bond = {0: {1: 1}, 1: {0: 1, 2: 0}, 2: {1: 0}}  # neighbour -> bond type (direction 0 everywhere)
    emb = lambda bt, dr=0: t1.weight[bt] + t2.weight[dr]  # noqa: E731
    return layer, cache, h, bond, emb


def test_gin_layer_by_hand():
    layer, cache, h, bond, emb = _three_atoms("gin")
    rows = []
    for v in range(3):
        a = h[v] + emb(4)  # self loop: bond type 4
        for u, bt in bond[v].items():
            a = a + h[u] + emb(bt)
        rows.append(a)
    expected = layer.mlp(torch.stack(rows))
    assert torch.allclose(layer(h, cache), expected, atol=1e-5)


def test_gcn_layer_by_hand():
    layer, cache, h, bond, emb = _three_atoms("gcn")
    deg = {v: len(bond[v]) + 1 for v in range(3)}
    x = h @ layer.linear.weight.T + layer.linear.bias
    rows = []
    for v in range(3):
        out = (x[v] + emb(4)) / deg[v]
        for u, bt in bond[v].items():
            out = out + (x[u] + emb(bt)) / (deg[u] ** 0.5 * deg[v] ** 0.5)
        rows.append(out)
    assert torch.allclose(layer(h, cache), torch.stack(rows), atol=1e-5)


def test_graphsage_and_gat_layers_by_hand():
    layer, cache, h, bond, emb = _three_atoms("graphsage")
    x = h @ layer.linear.weight.T + layer.linear.bias
    rows = []
    for v in range(3):
        msgs = [x[v] + emb(4)] + [x[u] + emb(bt) for u, bt in bond[v].items()]
        m = torch.stack(msgs).mean(0)
        rows.append(m / m.norm())
    assert torch.allclose(layer(h, cache), torch.stack(rows), atol=1e-5)

    layer, cache, h, bond, emb = _three_atoms("gat")
    k, d = layer.heads, layer.hidden_dim
    x = (h @ layer.weight_linear.weight.T + layer.weight_linear.bias).view(3, k, d)
    rows = []
    for v in range(3):
        nbrs = [(v, 4)] + list(bond[v].items())
        xj = torch.stack([x[u] + emb(bt).view(k, d) for u, bt in nbrs])  # (n_nbr, k, d)
        logits = torch.stack([(torch.cat([x[v], xj[i]], -1) * layer.att[0]).sum(-1) for i in range(len(nbrs))])
        alpha = torch.softmax(torch.nn.functional.leaky_relu(logits, 0.2), dim=0)  # over neighbours of v
        rows.append((alpha.unsqueeze(-1) * xj).sum(0).mean(0) + layer.bias)
    assert torch.allclose(layer(h, cache), torch.stack(rows), atol=1e-5)
