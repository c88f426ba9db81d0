"""Message-passing layers of :class:`~deepchem_finetune.backbones.gnn.MolGNN` (Hu et al., 2020 variants).

Every layer adds a self loop to each atom with its own bond embedding (``bond_self_loop`` indices) and
adds bond embeddings to messages. With ``x`` the layer input, ``e_uv`` the layer's bond embedding,
``N(v)`` the neighbours of ``v`` plus ``v`` itself:

* ``gin``:       ``MLP( sum_u (x_u + e_uv) )``, MLP ``d -> r*d -> d``
* ``gcn``:       ``sum_u deg(u)^-1/2 deg(v)^-1/2 (W x_u + b + e_uv)`` with degrees counting the self loop
* ``gat``:       per head ``k``: ``a_uv = softmax_u LeakyReLU_0.2( att_k . [W x_v ; W x_u + e_uv] )``,
                 ``mean_k sum_u a_uv (W x_u + e_uv) + bias``
* ``graphsage``: ``L2-normalise( mean_u (W x_u + b + e_uv) )``

torch-geometric's ``GINEConv`` / ``GCNConv`` / ``GATConv`` / ``SAGEConv`` use other equations (ReLU on
messages, no bond embedding on self loops, attention without edge terms), so these are written here with
torch-geometric's ``softmax`` and plain index operations. All take a :class:`GraphCache` built once per batch.
"""
from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn
from torch_geometric.utils import softmax

from deepchem_finetune.backbones.encoders import BondEncoder


class GraphCache(NamedTuple):
    """Per-batch tensors shared by all layers.

    ``src``/``dst``: real directed edges ``(n_edges,)``; ``src_all``/``dst_all``: the same followed by one
    self loop per atom; ``edge_in``: edge-input vectors of ``src_all`` edges ``(n_edges + n_atoms, K)``;
    ``edge_sum``: per-atom sum of the incoming edge inputs incl. the self loop ``(n_atoms, K)``;
    ``deg``: in-degree incl. the self loop ``(n_atoms, 1)``; ``norm``: ``deg(u)^-1/2 deg(v)^-1/2`` per
    ``src_all`` edge ``(n_edges + n_atoms, 1)``; ``norm_edge_sum``: per-atom ``norm``-weighted sum of the
    edge inputs ``(n_atoms, K)``.
    """
    src: torch.Tensor
    dst: torch.Tensor
    src_all: torch.Tensor
    dst_all: torch.Tensor
    edge_in: torch.Tensor
    edge_sum: torch.Tensor
    deg: torch.Tensor
    norm: torch.Tensor
    norm_edge_sum: torch.Tensor


class GINLayer(nn.Module):
    """GIN with bond embeddings added to messages (sum aggregation).

    The bond part of the sum is ``edge_sum @ W``: bond embeddings are never materialised per edge.
    """

    def __init__(self, encoding: dict, hidden_dim: int, mlp_ratio: int = 2, **_):
        super().__init__()
        self.bond_encoder = BondEncoder(encoding, hidden_dim)
        self.mlp = nn.Sequential(nn.Linear(hidden_dim, mlp_ratio * hidden_dim), nn.ReLU(),
                                 nn.Linear(mlp_ratio * hidden_dim, hidden_dim))

    def forward(self, h: torch.Tensor, g: GraphCache) -> torch.Tensor:
        agg = h.index_add(0, g.dst, h.index_select(0, g.src))
        agg = agg + g.edge_sum @ self.bond_encoder.weight_matrix()
        return self.mlp(agg)


class GCNLayer(nn.Module):
    """GCN with symmetric degree normalisation; bond embeddings added to the transformed messages.

    As in :class:`GINLayer`, the bond part ``sum_u norm_uv e_uv`` is ``norm_edge_sum @ W``.
    """

    def __init__(self, encoding: dict, hidden_dim: int, **_):
        super().__init__()
        self.bond_encoder = BondEncoder(encoding, hidden_dim)
        self.linear = nn.Linear(hidden_dim, hidden_dim)

    def forward(self, h, g):
        x = self.linear(h)
        out = torch.zeros_like(x).index_add_(0, g.dst_all, g.norm * x.index_select(0, g.src_all))
        return out + g.norm_edge_sum @ self.bond_encoder.weight_matrix()


class GATLayer(nn.Module):
    """Multi-head graph attention with bond embeddings in keys and values; heads averaged."""

    def __init__(self, encoding: dict, hidden_dim: int, heads: int = 2, negative_slope: float = 0.2, **_):
        super().__init__()
        self.heads, self.hidden_dim, self.negative_slope = heads, hidden_dim, negative_slope
        self.bond_encoder = BondEncoder(encoding, heads * hidden_dim)
        self.weight_linear = nn.Linear(hidden_dim, heads * hidden_dim)
        self.att = nn.Parameter(torch.empty(1, heads, 2 * hidden_dim))
        self.bias = nn.Parameter(torch.zeros(hidden_dim))
        nn.init.xavier_uniform_(self.att)

    def forward(self, h, g):
        n, k, d = h.shape[0], self.heads, self.hidden_dim
        x = self.weight_linear(h).view(n, k, d)
        x_j = x.index_select(0, g.src_all) + self.bond_encoder(g.edge_in).view(-1, k, d)
        x_i = x.index_select(0, g.dst_all)
        alpha = (torch.cat([x_i, x_j], dim=-1) * self.att).sum(-1)
        alpha = softmax(F.leaky_relu(alpha, self.negative_slope), g.dst_all, num_nodes=n)
        out = torch.zeros_like(x).index_add_(0, g.dst_all, x_j * alpha.unsqueeze(-1))
        return out.mean(dim=1) + self.bias


class SAGELayer(nn.Module):
    """GraphSAGE-style mean aggregation of transformed messages, then L2 normalisation."""

    def __init__(self, encoding: dict, hidden_dim: int, **_):
        super().__init__()
        self.bond_encoder = BondEncoder(encoding, hidden_dim)
        self.linear = nn.Linear(hidden_dim, hidden_dim)

    def forward(self, h, g):
        x = self.linear(h)
        total = torch.zeros_like(x).index_add_(0, g.dst_all, x.index_select(0, g.src_all))
        total = total + g.edge_sum @ self.bond_encoder.weight_matrix()
        return F.normalize(total / g.deg, p=2, dim=-1)


CONV_LAYERS = {"gin": GINLayer, "gcn": GCNLayer, "gat": GATLayer, "graphsage": SAGELayer}
