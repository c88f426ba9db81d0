"""Attribute masking (Hu et al., 2020): hide a fraction of atoms (and their bonds), predict what they were.

Corruption happens where DeepChem prepares each training batch; prediction heads sit on the backbone's
node representations; everything trains through DeepChem's ``fit``.
"""
from __future__ import annotations

from typing import List

import torch
import torch.nn.functional as F
from torch import nn


class AttributeMasking:
    """Mask ``mask_rate`` of each molecule's atoms (at least one); predict their element and, with
    ``mask_edges``, the type of every bond touching them (from the sum of its two atoms' representations).

    Needs a categorical featurizer (:class:`~deepchem_finetune.featurizers.MolGraphFeaturizer`): masked
    atoms get the featurizer's mask indices (Hu et al.: element 119, chirality 0), masked bonds likewise.

    Parameters
    ----------
    featurizer_spec: dict
        Spec of the featurizer the inputs are made with.
    mask_rate: float, optional (default 0.15)
    mask_edges: bool, optional (default True)

    References
    ----------
    Hu, W. et al. Strategies for Pre-training Graph Neural Networks. ICLR 2020.
    """

    name = "attr_masking"
    output_types = ["prediction", "prediction"]

    def __init__(self, featurizer_spec: dict, mask_rate: float = 0.15, mask_edges: bool = True):
        from deepchem_finetune.featurizers import featurizer_from_spec
        if not 0 < mask_rate < 1:
            raise ValueError(f"mask_rate must be in (0, 1), got {mask_rate}")
        featurizer = featurizer_from_spec(featurizer_spec)
        if not hasattr(featurizer, "atom_mask"):
            raise ValueError("attribute masking needs integer atom/bond features: use MolGraphFeaturizer "
                             f"(got {featurizer_spec.get('name')})")
        self.mask_rate, self.mask_edges = mask_rate, mask_edges
        self.atom_mask = featurizer.atom_mask
        self.bond_mask = featurizer.bond_mask
        self.n_atom_types = featurizer.atom_cardinalities[0]
        self.n_bond_types = featurizer.bond_cardinalities[0]
        self.config = {"mask_rate": mask_rate, "mask_edges": mask_edges}

    def build_head(self, backbone, hidden_dims=(), dropout: float = 0.0) -> nn.Module:
        d = backbone.node_dim
        return nn.ModuleDict({"atom": nn.Linear(d, self.n_atom_types), "bond": nn.Linear(d, self.n_bond_types)})

    def corrupt(self, batch, generator: torch.Generator, y=None, w=None):
        """Mask atoms (and bonds) of a ``Batch`` in place of a copy; return ``(batch, labels, weights)``."""
        n = batch.x.shape[0]
        sizes = batch.ptr[1:] - batch.ptr[:-1]
        k = torch.clamp(torch.round(sizes.float() * self.mask_rate), min=1).long()
        r = torch.rand(n, generator=generator)
        order = torch.argsort(batch.batch.double() * 2.0 + r.double())
        rank = torch.empty(n, dtype=torch.long)
        rank[order] = torch.arange(n) - batch.ptr[batch.batch[order]]
        masked = rank < k[batch.batch]
        atoms = masked.nonzero().squeeze(1)
        x = batch.x.clone()
        atom_labels = x[atoms, 0].clone()
        x[atoms] = torch.as_tensor(self.atom_mask, dtype=x.dtype)
        src, dst = batch.edge_index
        touching = masked[src] | masked[dst]
        edges = (touching & (src < dst)).nonzero().squeeze(1)
        bond_labels = batch.edge_attr[edges, 0].clone()
        edge_attr = batch.edge_attr
        if self.mask_edges:
            edge_attr = edge_attr.clone()
            edge_attr[touching] = torch.as_tensor(self.bond_mask, dtype=edge_attr.dtype)
        out = batch.clone()
        out.x, out.edge_attr, out.masked_atoms, out.masked_edges = x, edge_attr, atoms, edges
        return out, [atom_labels, bond_labels], [torch.ones(len(atoms)), torch.ones(len(edges))]

    def forward(self, backbone, head, batch) -> List[torch.Tensor]:
        return self.forward_nodes(backbone, head, backbone.encode_nodes(batch), batch)

    def forward_nodes(self, backbone, head, h, batch) -> List[torch.Tensor]:
        atom_logits = head["atom"](h[batch.masked_atoms])
        src, dst = batch.edge_index[:, batch.masked_edges]
        bond_logits = head["bond"](h[src] + h[dst])
        return [atom_logits, bond_logits]

    def outputs(self, raw):
        return list(raw)

    def loss(self, outputs, labels, weights) -> torch.Tensor:
        atom_logits, bond_logits = outputs
        loss = F.cross_entropy(atom_logits, labels[0])
        if self.mask_edges and len(labels[1]):
            loss = loss + F.cross_entropy(bond_logits, labels[1])
        return loss

    @staticmethod
    def accuracy(outputs, labels) -> float:
        """Fraction of masked atoms whose element is predicted correctly."""
        return float((outputs[0].argmax(-1) == labels[0]).float().mean())
