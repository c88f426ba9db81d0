"""``MolGNN``: a molecular graph encoder with bond features (Hu et al., 2020 layout).

Layer types (``conv``): gin (default), gcn, gat, graphsage; see :mod:`.convs`. Per layer ``l`` with gin::

    a_v   = sum_{u in N(v) + {v}} ( h_u + e^l_{uv} )      # self loop with its own bond embedding
    h'_v  = Linear(r*d -> d)( ReLU( Linear(d -> r*d)(a_v) ) )
    h'_v  = BatchNorm(h'_v); ReLU (not on the last layer unless last_activation); dropout

Because ``e^l_{uv}`` is linear in a per-edge input vector (see :mod:`.encoders`), the bond part of
``a_v`` is ``S_v @ W^l`` with ``S_v`` the sum of the edge inputs around ``v``: computed once per batch
and shared by all layers, so no per-edge, per-layer embedding is ever materialised.
"""
from __future__ import annotations

from typing import List

import torch
import torch.nn.functional as F
from torch import nn
from torch_geometric.nn import global_add_pool, global_max_pool, global_mean_pool
from torch_geometric.nn.aggr import AttentionalAggregation

from deepchem_finetune.backbones.convs import CONV_LAYERS, GraphCache
from deepchem_finetune.backbones.encoders import AtomEncoder, edge_inputs
from deepchem_finetune.backbones.encoding import Encoding

JK_MODES = ("last", "concat", "sum", "max")
POOLINGS = ("mean", "sum", "max", "attention")
CONVS = tuple(CONV_LAYERS)


class MolGNN(nn.Module):
    """Molecular graph encoder: atom encoder -> ``num_layers`` GIN layers -> JK -> graph pooling.

    Parameters
    ----------
    input_encoding: dict
        From the featurizer's ``input_encoding()`` (categorical tables or dense features).
    num_layers: int, optional (default 5)
    hidden_dim: int, optional (default 300)
    conv: str, optional (default "gin")
        gin, gcn, gat or graphsage (Hu et al.'s four variants).
    mlp_ratio: int, optional (default 2)
        GIN's update MLP is ``d -> mlp_ratio * d -> d``.
    heads: int, optional (default 2)
        Attention heads (gat only).
    dropout: float, optional (default 0.0)
        Applied after every layer.
    batch_norm: bool, optional (default True)
    jk: str, optional (default "last")
        Jumping knowledge over the input embedding and every layer: last, concat, sum or max.
    pooling: str, optional (default "mean")
        mean, sum, max or attention (a learned gate, softmax over each graph's atoms).
    last_activation: bool, optional (default False)
        Apply ReLU after the last layer too (Hu et al. do not).

    Attributes
    ----------
    output_dim: int
        Width of the graph embedding.
    config: dict
        JSON-able; ``MolGNN(**gnn.config)`` rebuilds the same architecture.

    Examples
    --------
    >>> from deepchem_finetune.featurizers import MolGraphFeaturizer
    >>> from deepchem_finetune.data.batching import graphs_to_batch
    >>> f = MolGraphFeaturizer()
    >>> gnn = MolGNN(f.input_encoding(), num_layers=2, hidden_dim=16)
    >>> gnn(graphs_to_batch(f.featurize(["CCO", "c1ccccc1"]))).shape
    torch.Size([2, 16])
    """

    #: what ``encode`` reads: "graph" (a torch-geometric ``Batch``) or "tokens" (``(batch, length)`` ids)
    input_kind = "graph"

    def __init__(self, input_encoding: dict, num_layers: int = 5, hidden_dim: int = 300, conv: str = "gin",
                 mlp_ratio: int = 2, heads: int = 2, dropout: float = 0.0, batch_norm: bool = True,
                 jk: str = "last", pooling: str = "mean", last_activation: bool = False):
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"num_layers must be >= 1, got {num_layers}")
        if jk not in JK_MODES:
            raise ValueError(f"jk must be one of {JK_MODES}, got {jk!r}")
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
        if conv not in CONVS:
            raise ValueError(f"conv must be one of {CONVS}, got {conv!r}")
        self.config = dict(input_encoding=input_encoding, num_layers=num_layers, hidden_dim=hidden_dim,
                           conv=conv, mlp_ratio=mlp_ratio, heads=heads, dropout=dropout, batch_norm=batch_norm, jk=jk,
                           pooling=pooling, last_activation=last_activation)
        self.input_encoding = input_encoding
        self.num_layers, self.hidden_dim, self.dropout = num_layers, hidden_dim, dropout
        self.jk, self.last_activation = jk, last_activation
        self.atom_encoder = AtomEncoder(input_encoding, hidden_dim)
        layer_cls = CONV_LAYERS[conv]
        self.layers = nn.ModuleList(layer_cls(input_encoding, hidden_dim, mlp_ratio=mlp_ratio, heads=heads)
                                    for _ in range(num_layers))
        self.norms = nn.ModuleList(nn.BatchNorm1d(hidden_dim) if batch_norm else nn.Identity()
                                   for _ in range(num_layers))
        self.node_dim = hidden_dim * (num_layers + 1) if jk == "concat" else hidden_dim
        self.pooling = pooling
        if pooling == "attention":
            self.pool = AttentionalAggregation(gate_nn=nn.Linear(self.node_dim, 1))
        self.output_dim = self.node_dim

    def __repr__(self) -> str:
        c = self.config
        return (f"{type(self).__name__}({c['input_encoding']['kind']}, layers={c['num_layers']}, "
                f"hidden={c['hidden_dim']}, conv={c['conv']}, jk={c['jk']}, pooling={c['pooling']})")

    def layer_groups(self) -> List[List[nn.Module]]:
        """Modules from the input upwards: ``[atom_encoder], [layer 1 + norm], ..., [pooling]``.

        Fine-tuning strategies unfreeze and assign learning rates by these groups.
        """
        groups: List[List[nn.Module]] = [[self.atom_encoder]]
        groups += [[layer, norm] for layer, norm in zip(self.layers, self.norms)]
        if self.pooling == "attention":
            groups[-1].append(self.pool)
        return groups

    def encode_nodes(self, batch) -> torch.Tensor:
        """Node representations ``(n_atoms, node_dim)`` of a torch-geometric ``Batch``."""
        x = batch.x
        g = build_graph_cache(self.input_encoding, batch.edge_index, batch.edge_attr, x.shape[0])
        h = self.atom_encoder(x)
        hs = [h]
        for i, (layer, norm) in enumerate(zip(self.layers, self.norms)):
            h = layer(h, g)
            h = _norm(norm, h)
            if i < self.num_layers - 1 or self.last_activation:
                h = F.relu(h)
            h = dropout(h, self.dropout, self.training)
            hs.append(h)
        if self.jk == "last":
            return hs[-1]
        if self.jk == "concat":
            return torch.cat(hs, dim=1)
        stacked = torch.stack(hs, dim=0)
        return stacked.sum(0) if self.jk == "sum" else stacked.max(0).values

    def readout(self, node_repr: torch.Tensor, batch) -> torch.Tensor:
        """Pool node representations into ``(n_graphs, output_dim)``."""
        b, size = batch.batch, batch.num_graphs
        if self.pooling == "mean":
            return global_mean_pool(node_repr, b, size)
        if self.pooling == "sum":
            return global_add_pool(node_repr, b, size)
        if self.pooling == "max":
            return global_max_pool(node_repr, b, size)
        return self.pool(node_repr, b, dim_size=size)

    def encode(self, batch) -> Encoding:
        """Atom representations and the pooled graph embeddings of a torch-geometric ``Batch`` (the backbone API
        every objective uses)."""
        nodes = self.encode_nodes(batch)
        return Encoding(nodes, self.readout(nodes, batch))

    def forward(self, batch) -> torch.Tensor:
        """Graph embeddings ``(n_graphs, output_dim)``."""
        return self.encode(batch).pooled


def build_graph_cache(encoding: dict, edge_index: torch.Tensor, edge_attr: torch.Tensor, n: int) -> GraphCache:
    """Self loops, edge inputs and their per-atom sums for a batch (see :class:`.convs.GraphCache`)."""
    src, dst = edge_index[0], edge_index[1]
    loops = torch.arange(n, device=edge_index.device)
    src_all, dst_all = torch.cat([src, loops]), torch.cat([dst, loops])
    e_in = edge_inputs(encoding, edge_attr, n)
    edge_sum = torch.zeros(n, e_in.shape[1], device=e_in.device).index_add_(0, dst_all, e_in)
    # in-degree by a sum of ones rather than bincount, whose data-dependent output size breaks torch.compile graphs
    deg = torch.zeros(n, 1, dtype=e_in.dtype, device=e_in.device).index_add_(
        0, dst_all, torch.ones(dst_all.shape[0], 1, dtype=e_in.dtype, device=e_in.device))
    inv_sqrt = deg.pow(-0.5)
    norm = inv_sqrt.index_select(0, src_all) * inv_sqrt.index_select(0, dst_all)
    norm_edge_sum = torch.zeros_like(edge_sum).index_add_(0, dst_all, norm * e_in)
    return GraphCache(src, dst, src_all, dst_all, e_in, edge_sum, deg, norm, norm_edge_sum)


def dropout(h: torch.Tensor, p: float, training: bool) -> torch.Tensor:
    """Inverted dropout, as ``F.dropout``; on CPU the mask comes from ``rand_like`` instead of ``bernoulli_``.

    ``F.dropout`` on CPU draws its mask with ``bernoulli_``, about three times slower than thresholding uniform
    draws (the same Bernoulli(1 - p) mask distribution); at 300 channels that made dropout the single most
    expensive op of a GCN fine-tuning step on one core.

    Examples
    --------
    >>> import torch
    >>> _ = torch.manual_seed(0)
    >>> out = dropout(torch.ones(2, 1000), 0.5, training=True)
    >>> sorted(set(out.flatten().tolist())), abs(out.mean().item() - 1.0) < 0.1
    ([0.0, 2.0], True)
    >>> dropout(torch.ones(2, 3), 0.5, training=False).tolist()
    [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]
    """
    if not training or p == 0.0:
        return h
    if h.device.type != "cpu" or p >= 1.0:
        return F.dropout(h, p, training)
    keep = (torch.rand_like(h) >= p).to(h.dtype) * (1.0 / (1.0 - p))
    return h * keep


def _norm(norm: nn.Module, h: torch.Tensor) -> torch.Tensor:
    # BatchNorm cannot estimate statistics from one atom (a one-molecule batch of [Na+]): use the
    # running statistics for that batch instead of failing.
    if isinstance(norm, nn.BatchNorm1d) and norm.training and h.shape[0] == 1:
        return F.batch_norm(h, norm.running_mean, norm.running_var, norm.weight, norm.bias, False, 0.0,
                            norm.eps)
    return norm(h)
