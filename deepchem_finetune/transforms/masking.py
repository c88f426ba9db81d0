"""Atom masking (Hu et al., 2020): hide a fraction of each molecule's atoms and the bonds touching them."""
from __future__ import annotations

import torch


class AtomMasking:
    """Mask ``mask_rate`` of each molecule's atoms (at least one); labels are their element and the type of
    every bond touching them.

    Masked atoms get the featurizer's mask indices (Hu et al.: element 119, chirality 0); with ``mask_edges``
    masked bonds likewise. The corrupted ``Batch`` carries ``masked_atoms`` and ``masked_edges`` (bond indices,
    one direction per bond) for the prediction head.

    Parameters
    ----------
    atom_mask, bond_mask: sequence of int
        The featurizer's mask rows (``MolGraphFeaturizer.atom_mask`` / ``bond_mask``).
    mask_rate: float, optional (default 0.15)
    mask_edges: bool, optional (default True)
    """

    def __init__(self, atom_mask, bond_mask, mask_rate: float = 0.15, mask_edges: bool = True):
        if not 0 < mask_rate < 1:
            raise ValueError(f"mask_rate must be in (0, 1), got {mask_rate}")
        self.atom_mask, self.bond_mask = list(atom_mask), list(bond_mask)
        self.mask_rate, self.mask_edges = mask_rate, mask_edges

    def __call__(self, batch, generator: torch.Generator, y=None, w=None):
        """Mask atoms (and bonds) of a copy of ``batch``; return ``(batch, [atom labels, bond labels], weights)``."""
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
