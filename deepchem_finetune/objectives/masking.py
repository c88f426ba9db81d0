"""Attribute masking (Hu et al., 2020): predict the element of masked atoms and the type of their bonds.

The masking itself is the data-side :class:`~deepchem_finetune.transforms.AtomMasking`; this is the model side:
linear heads on the backbone's atom representations and the loss.
"""
from __future__ import annotations

from typing import List

import torch
import torch.nn.functional as F
from torch import nn

from deepchem_finetune.objectives.base import Objective
from deepchem_finetune.transforms import AtomMasking


class AttributeMasking(Objective):
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
        featurizer = featurizer_from_spec(featurizer_spec)
        if not hasattr(featurizer, "atom_mask"):
            raise ValueError("attribute masking needs integer atom/bond features: use MolGraphFeaturizer "
                             f"(got {featurizer_spec.get('name')})")
        self.transform = AtomMasking(featurizer.atom_mask, featurizer.bond_mask, mask_rate, mask_edges)
        self.mask_rate, self.mask_edges = mask_rate, mask_edges
        self.n_atom_types = featurizer.atom_cardinalities[0]
        self.n_bond_types = featurizer.bond_cardinalities[0]
        self.config = {"mask_rate": mask_rate, "mask_edges": mask_edges}

    def build_head(self, backbone, hidden_dims=(), dropout: float = 0.0) -> nn.Module:
        d = backbone.node_dim
        return nn.ModuleDict({"atom": nn.Linear(d, self.n_atom_types), "bond": nn.Linear(d, self.n_bond_types)})

    def predict(self, encoding, head, batch) -> List[torch.Tensor]:
        h = encoding.nodes
        atom_logits = head["atom"](h[batch.masked_atoms])
        src, dst = batch.edge_index[:, batch.masked_edges]
        bond_logits = head["bond"](h[src] + h[dst])
        return [atom_logits, bond_logits]

    def loss(self, outputs, labels, weights) -> torch.Tensor:
        atom_logits, bond_logits = outputs
        loss = F.cross_entropy(atom_logits, labels[0].to(atom_logits.device))
        if self.mask_edges and len(labels[1]):
            loss = loss + F.cross_entropy(bond_logits, labels[1].to(bond_logits.device))
        return loss

    @staticmethod
    def accuracy(outputs, labels) -> float:
        """Fraction of masked atoms whose element is predicted correctly."""
        return float((outputs[0].argmax(-1) == labels[0].to(outputs[0].device)).float().mean())
