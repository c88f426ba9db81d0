"""Context prediction (Hu et al., 2020): does this neighbourhood belong with this context?

For each molecule a centre atom is drawn. The *substructure* is its ``k``-hop neighbourhood, encoded
by the backbone; its representation is the centre atom's. The *context* is the ring of atoms between
``r1`` and ``r2`` hops, encoded by a separate small GNN (the objective's head, not saved with the
backbone); its representation is the mean over the *anchor* atoms (context atoms that are also in the
substructure, hops ``r1..k``). Positive pairs come from the same molecule, negatives pair a substructure
with another molecule's context (one negative per positive); binary cross-entropy on the dot product.
Molecules whose context ring is empty are left out of the batch (counted in ``batch.n_skipped``).

Defaults follow Hu et al.: ``k`` = backbone layers, ``r1 = k - 1``, ``r2 = r1 + 3``.
"""
from __future__ import annotations

from typing import NamedTuple, Optional

import torch
import torch.nn.functional as F
from torch import nn
from torch_geometric.data import Batch


def hop_distances(edge_index: torch.Tensor, n: int, centers: torch.Tensor, max_hops: int) -> torch.Tensor:
    """Shortest-path hop count from the centre of each atom's molecule (``max_hops + 1`` if farther).

    ``centers`` holds one atom index per molecule; molecules are disjoint, so one multi-source BFS
    serves the whole batch.
    """
    far = max_hops + 1
    dist = torch.full((n,), far, dtype=torch.long, device=edge_index.device)
    dist[centers] = 0
    src, dst = edge_index
    for hop in range(1, max_hops + 1):
        reach = torch.zeros(n, dtype=torch.bool, device=edge_index.device)
        reach[dst[dist[src] == hop - 1]] = True
        dist[reach & (dist == far)] = hop
    return dist


def induced_subgraph(batch: Batch, keep: torch.Tensor) -> Batch:
    """The sub-``Batch`` of atoms in ``keep`` (bool, per atom) and the bonds between them; graph ids kept."""
    new_id = torch.cumsum(keep.long(), 0) - 1
    src, dst = batch.edge_index
    ek = keep[src] & keep[dst]
    graph = batch.batch[keep]
    counts = torch.bincount(graph, minlength=batch.num_graphs)
    ptr = torch.zeros(batch.num_graphs + 1, dtype=torch.long)
    ptr[1:] = torch.cumsum(counts, 0)
    return Batch(x=batch.x[keep], edge_index=new_id[torch.stack([src[ek], dst[ek]])], edge_attr=batch.edge_attr[ek],
                 batch=graph, ptr=ptr)


class ContextPair(NamedTuple):
    substructure: Batch
    center: torch.Tensor        # index of each kept molecule's centre in ``substructure``
    context: Batch
    anchor: torch.Tensor        # anchor atoms, indices into ``context``
    anchor_graph: torch.Tensor  # position (0..n_kept-1) of the molecule of each anchor
    shift: int                  # negative sampling: pair molecule i with context of i + shift
    n_kept: int


class ContextPrediction:
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

    def _radii(self, backbone):
        k = self.k or backbone.num_layers
        r1 = self.r1 if self.r1 is not None else k - 1
        r2 = self.r2 if self.r2 is not None else r1 + 3
        if not 0 <= r1 < r2 or r1 > k:
            raise ValueError(f"need 0 <= r1 <= k and r1 < r2 (got k={k}, r1={r1}, r2={r2})")
        return k, r1, r2

    def build_head(self, backbone, hidden_dims=(), dropout: float = 0.0) -> nn.Module:
        from deepchem_finetune.backbones import MolGNN
        k, r1, r2 = self._radii(backbone)
        self.k, self.r1, self.r2 = k, r1, r2
        self.config = {"k": k, "r1": r1, "r2": r2}
        cfg = dict(backbone.config)
        cfg.update(num_layers=r2 - r1, jk="last", pooling="mean", dropout=0.0)
        return MolGNN(**cfg)

    def pairs(self, batch: Batch, centers: torch.Tensor, generator: Optional[torch.Generator] = None
              ) -> ContextPair:
        """Build substructure / context batches for given centre atoms (one per molecule)."""
        dist = hop_distances(batch.edge_index, batch.num_nodes, centers, self.r2)
        in_ctx = (dist >= self.r1) & (dist <= self.r2)
        has_ctx = torch.bincount(batch.batch[in_ctx], minlength=batch.num_graphs) > 0
        keep_graph = has_ctx[batch.batch]
        sub = induced_subgraph(batch, (dist <= self.k) & keep_graph)
        ctx = induced_subgraph(batch, in_ctx & keep_graph)
        kept = has_ctx.nonzero().squeeze(1)
        position = torch.full((batch.num_graphs,), -1, dtype=torch.long)
        position[kept] = torch.arange(len(kept))
        # centre index inside the substructure batch
        sub_index = torch.cumsum(((dist <= self.k) & keep_graph).long(), 0) - 1
        center = sub_index[centers[kept]]
        ctx_atoms = (in_ctx & keep_graph).nonzero().squeeze(1)
        is_anchor = dist[ctx_atoms] <= self.k
        anchor = is_anchor.nonzero().squeeze(1)
        anchor_graph = position[batch.batch[ctx_atoms[anchor]]]
        n_kept = int(len(kept))
        shift = 1 if n_kept < 2 else int(torch.randint(1, n_kept, (1,), generator=generator))
        return ContextPair(sub, center, ctx, anchor, anchor_graph, shift, n_kept)

    def corrupt(self, batch: Batch, generator: torch.Generator, y=None, w=None):
        sizes = batch.ptr[1:] - batch.ptr[:-1]
        offsets = (torch.rand(batch.num_graphs, generator=generator) * sizes).long()
        pair = self.pairs(batch, batch.ptr[:-1] + offsets, generator)
        n = pair.n_kept
        return pair, [torch.ones(n), torch.zeros(n)], [torch.ones(n), torch.ones(n)]

    def forward(self, backbone, head, pair: ContextPair):
        if pair.n_kept == 0:  # keep the (empty) outputs attached to the graph so backward() still works
            w = next(head.parameters())
            z = torch.zeros(0, device=w.device) + 0.0 * w.sum()
            return [z, z]
        center_rep = backbone.encode_nodes(pair.substructure)[pair.center]
        ctx_nodes = head.encode_nodes(pair.context)[pair.anchor]
        ctx_rep = torch.zeros(pair.n_kept, ctx_nodes.shape[1], device=ctx_nodes.device,
                              dtype=ctx_nodes.dtype).index_add_(0, pair.anchor_graph, ctx_nodes)
        counts = torch.bincount(pair.anchor_graph, minlength=pair.n_kept).clamp(min=1).unsqueeze(1)
        ctx_rep = ctx_rep / counts
        pos = (center_rep * ctx_rep).sum(-1)
        neg = (center_rep * torch.roll(ctx_rep, pair.shift, 0)).sum(-1)
        return [pos, neg]

    def outputs(self, raw):
        return list(raw)

    def loss(self, outputs, labels, weights) -> torch.Tensor:
        pos, neg = outputs
        if pos.numel() == 0:
            return pos.sum()  # no molecule of this batch had a context ring: zero loss, still differentiable
        return (F.binary_cross_entropy_with_logits(pos, labels[0].to(pos.device))
                + F.binary_cross_entropy_with_logits(neg, labels[1].to(neg.device)))
