"""Atom and bond input encoders for :class:`~deepchem_finetune.backbones.gnn.MolGNN`.

Two encodings are supported, chosen by the featurizer's ``input_encoding()`` dict:

* ``"categorical"``: integer features (e.g. :class:`MolGraphFeaturizer`), one embedding table per
  feature, summed (Hu et al., 2020).
* ``"dense"``: float features (e.g. ``dc.feat.MolGraphConvFeaturizer(use_edges=True)``), a linear map.

Both bond encoders are *linear in an edge-input vector* (a one-hot concatenation for categorical
features; ``[features, 1, 0]`` for a real dense edge and ``[0, 0, 1]`` for a self loop). That lets a
sum-aggregating layer sum the inputs over a node's edges once per batch and multiply by each layer's
weights, instead of materialising an embedding per edge and layer (see ``MolGNN``).
"""
from __future__ import annotations

from typing import List, Sequence

import torch
from torch import nn


class AtomEncoder(nn.Module):
    """Embed atom features into ``hidden_dim``.

    Parameters
    ----------
    encoding: dict
        ``{"kind": "categorical", "atom_cardinalities": [...]}`` or ``{"kind": "dense", "atom_dim": int}``.
    hidden_dim: int
        Output width.

    Shapes
    ------
    ``(n_atoms, n_atom_features)`` -> ``(n_atoms, hidden_dim)``
    """

    def __init__(self, encoding: dict, hidden_dim: int):
        super().__init__()
        self.kind = encoding["kind"]
        if self.kind == "categorical":
            self.tables = nn.ModuleList(nn.Embedding(c, hidden_dim) for c in encoding["atom_cardinalities"])
        elif self.kind == "dense":
            self.linear = nn.Linear(encoding["atom_dim"], hidden_dim)
        else:
            raise ValueError(f"unknown input encoding kind {self.kind!r}")
        self.reset_parameters()

    def reset_parameters(self):
        if self.kind == "categorical":
            for t in self.tables:
                nn.init.xavier_uniform_(t.weight)
        else:
            self.linear.reset_parameters()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.kind == "dense":
            return self.linear(x)
        out = self.tables[0](x[:, 0])
        for k in range(1, len(self.tables)):
            out = out + self.tables[k](x[:, k])
        return out


class BondEncoder(nn.Module):
    """Per-layer bond embedding, linear in the edge-input vector built by :func:`edge_inputs`.

    Shapes
    ------
    edge inputs ``(n_edges, input_dim)`` -> ``(n_edges, out_dim)``
    """

    def __init__(self, encoding: dict, out_dim: int):
        hidden_dim = out_dim
        super().__init__()
        self.kind = encoding["kind"]
        if self.kind == "categorical":
            self.tables = nn.ModuleList(nn.Embedding(c, hidden_dim) for c in encoding["bond_cardinalities"])
        elif self.kind == "dense":
            # rows: the dense bond features, a bias for real edges, and the self-loop embedding
            self.linear = nn.Linear(encoding["bond_dim"] + 2, hidden_dim, bias=False)
        else:
            raise ValueError(f"unknown input encoding kind {self.kind!r}")
        self.reset_parameters()

    def reset_parameters(self):
        if self.kind == "categorical":
            for t in self.tables:
                nn.init.xavier_uniform_(t.weight)
        else:
            self.linear.reset_parameters()

    def weight_matrix(self) -> torch.Tensor:
        """The ``(input_dim, out_dim)`` matrix with ``embedding = edge_input @ weight_matrix()``."""
        if self.kind == "categorical":
            return torch.cat([t.weight for t in self.tables], dim=0)
        return self.linear.weight.t()

    def forward(self, edge_input: torch.Tensor) -> torch.Tensor:
        return edge_input @ self.weight_matrix()


def edge_input_dim(encoding: dict) -> int:
    """Width of the edge-input vectors of an encoding."""
    if encoding["kind"] == "categorical":
        return int(sum(encoding["bond_cardinalities"]))
    return int(encoding["bond_dim"]) + 2


def edge_inputs(encoding: dict, edge_attr: torch.Tensor, n_self_loops: int) -> torch.Tensor:
    """Edge-input vectors of the real edges followed by ``n_self_loops`` self-loop rows.

    Parameters
    ----------
    encoding: dict
        The featurizer's input encoding.
    edge_attr: torch.Tensor
        ``(n_edges, n_bond_features)``: integer indices (categorical) or floats (dense).
    n_self_loops: int
        Number of self-loop rows to append (one per atom).

    Returns
    -------
    torch.Tensor
        ``(n_edges + n_self_loops, edge_input_dim(encoding))``, float.
    """
    dim = edge_input_dim(encoding)
    n_e = edge_attr.shape[0]
    out = torch.zeros(n_e + n_self_loops, dim, device=edge_attr.device)
    if encoding["kind"] == "categorical":
        offsets = _offsets(encoding["bond_cardinalities"], edge_attr.device)
        if n_e:
            out[torch.arange(n_e, device=edge_attr.device).unsqueeze(1), edge_attr + offsets] = 1.0
        loop = torch.as_tensor(encoding["bond_self_loop"], device=edge_attr.device) + offsets
        out[n_e:, loop] = 1.0
    else:
        d = encoding["bond_dim"]
        out[:n_e, :d] = edge_attr
        out[:n_e, d] = 1.0
        out[n_e:, d + 1] = 1.0
    return out


def _offsets(cardinalities: Sequence[int], device) -> torch.Tensor:
    offs: List[int] = [0]
    for c in cardinalities[:-1]:
        offs.append(offs[-1] + int(c))
    return torch.as_tensor(offs, device=device)
