"""Context prediction (Hu et al., 2020): does this neighbourhood belong with this context?

For each molecule a centre atom is drawn. The *substructure* is its ``k``-hop neighbourhood, encoded
by the backbone; its representation is the centre atom's. The *context* is the ring of atoms between
``r1`` and ``r2`` hops, encoded by a separate small GNN (the objective's head, not saved with the
backbone); its representation is the mean over the *anchor* atoms (context atoms that are also in the
substructure, hops ``r1..k``). Positive pairs come from the same molecule, negatives pair a substructure
with another molecule's context (one negative per positive); binary cross-entropy on the dot product.
The pairs are cut by the data-side :class:`~deepchem_finetune.transforms.ContextPairs`; molecules whose context
ring is empty are left out of the batch.

Defaults follow Hu et al.: ``k`` = backbone layers, ``r1 = k - 1``, ``r2 = r1 + 3``.
"""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from deepchem_finetune.objectives.base import Objective
from deepchem_finetune.transforms import ContextPairs
from deepchem_finetune.transforms.context import hop_distances, induced_subgraph  # noqa: F401  (re-exported)


class ContextPrediction(Objective):
    """Self-supervised context prediction objective for :class:`~deepchem_finetune.backbones.MolGNN`.

    Parameters
    ----------
    featurizer_spec: dict
        Unused beyond validation (any featurizer works).
    k: int, optional
        Substructure radius in hops (default: the backbone's number of layers).
    r1, r2: int, optional
        Inner and outer hop radius of the context ring (default ``k - 1`` and ``r1 + 3``).

    References
    ----------
    Hu, W. et al. Strategies for Pre-training Graph Neural Networks. ICLR 2020.
    """

    name = "context_pred"
    output_types = ["prediction", "prediction"]

    def __init__(self, featurizer_spec: dict, k: Optional[int] = None, r1: Optional[int] = None,
                 r2: Optional[int] = None):
        self.k, self.r1, self.r2 = k, r1, r2
        self.config = {"k": k, "r1": r1, "r2": r2}
        self.transform = None  # set by build_head, once the backbone fixes the default radii

    def build_head(self, backbone, hidden_dims=(), dropout: float = 0.0) -> nn.Module:
        """The context GNN (the backbone's architecture with ``r2 - r1`` layers); fixes the radii."""
        from deepchem_finetune.backbones import MolGNN
        k = self.k or backbone.num_layers
        r1 = self.r1 if self.r1 is not None else k - 1
        r2 = self.r2 if self.r2 is not None else r1 + 3
        self.transform = ContextPairs(k, r1, r2)
        self.k, self.r1, self.r2 = k, r1, r2
        self.config = {"k": k, "r1": r1, "r2": r2}
        cfg = dict(backbone.config)
        cfg.update(num_layers=r2 - r1, jk="last", pooling="mean", dropout=0.0)
        return MolGNN(**cfg)

    def pairs(self, batch, centers, generator=None):
        """:meth:`ContextPairs.pairs` with this objective's radii (after :meth:`build_head`)."""
        return self.transform.pairs(batch, centers, generator)

    def forward(self, backbone, head, pair):
        """Two encodings: the substructure by the backbone, the context by the head GNN."""
        if pair.n_kept == 0:  # keep the (empty) outputs attached to the graph so backward() still works
            w = next(head.parameters())
            z = torch.zeros(0, device=w.device) + 0.0 * w.sum()
            return [z, z]
        center_rep = backbone.encode(pair.substructure).nodes[pair.center]
        ctx_nodes = head.encode(pair.context).nodes[pair.anchor]
        ctx_rep = torch.zeros(pair.n_kept, ctx_nodes.shape[1], device=ctx_nodes.device,
                              dtype=ctx_nodes.dtype).index_add_(0, pair.anchor_graph, ctx_nodes)
        counts = torch.bincount(pair.anchor_graph, minlength=pair.n_kept).clamp(min=1).unsqueeze(1)
        ctx_rep = ctx_rep / counts
        pos = (center_rep * ctx_rep).sum(-1)
        neg = (center_rep * torch.roll(ctx_rep, pair.shift, 0)).sum(-1)
        return [pos, neg]

    def loss(self, outputs, labels, weights) -> torch.Tensor:
        pos, neg = outputs
        if pos.numel() == 0:
            return pos.sum()  # no molecule of this batch had a context ring: zero loss, still differentiable
        return (F.binary_cross_entropy_with_logits(pos, labels[0].to(pos.device))
                + F.binary_cross_entropy_with_logits(neg, labels[1].to(neg.device)))
