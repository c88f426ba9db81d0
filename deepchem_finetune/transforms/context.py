"""Context pairs (Hu et al., 2020): for a centre atom per molecule, its ``k``-hop substructure and the ring of
atoms between ``r1`` and ``r2`` hops around it (its context), as two batches the networks encode separately."""
from __future__ import annotations

from typing import NamedTuple, Optional

import torch
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
    """What :class:`ContextPairs` hands to the network."""
    substructure: Batch
    center: torch.Tensor        # index of each kept molecule's centre in ``substructure``
    context: Batch
    anchor: torch.Tensor        # anchor atoms, indices into ``context``
    anchor_graph: torch.Tensor  # position (0..n_kept-1) of the molecule of each anchor
    shift: int                  # negative sampling: pair molecule i with context of i + shift
    n_kept: int


class ContextPairs:
    """Draw a centre atom per molecule and cut its substructure and context ring.

    Molecules whose context ring is empty are left out (``n_kept`` counts the rest). Labels: 1 for each
    (substructure, own context) pair, 0 for each negative (substructure, context of molecule ``i + shift``).

    Parameters
    ----------
    k: int
        Substructure radius in hops.
    r1, r2: int
        Inner and outer hop radius of the context ring (``0 <= r1 <= k``, ``r1 < r2``).
    """

    def __init__(self, k: int, r1: int, r2: int):
        if not 0 <= r1 < r2 or r1 > k:
            raise ValueError(f"need 0 <= r1 <= k and r1 < r2 (got k={k}, r1={r1}, r2={r2})")
        self.k, self.r1, self.r2 = k, r1, r2

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

    def __call__(self, batch: Batch, generator: torch.Generator, y=None, w=None):
        sizes = batch.ptr[1:] - batch.ptr[:-1]
        offsets = (torch.rand(batch.num_graphs, generator=generator) * sizes).long()
        pair = self.pairs(batch, batch.ptr[:-1] + offsets, generator)
        n = pair.n_kept
        return pair, [torch.ones(n), torch.zeros(n)], [torch.ones(n), torch.ones(n)]
