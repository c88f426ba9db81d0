"""``Encoding``: what every backbone's ``encode(inputs)`` returns, so objectives never ask which backbone they got."""
from __future__ import annotations

from typing import NamedTuple, Optional

import torch


class Encoding(NamedTuple):
    """Per-element and pooled representations of one batch.

    Attributes
    ----------
    nodes: torch.Tensor
        Per element: atoms ``(n_atoms, node_dim)`` for a graph backbone; positions ``(batch, length, width)``
        (zero at padding) for a sequence backbone.
    pooled: torch.Tensor
        One vector per input ``(batch, output_dim)``.
    mask: torch.Tensor, optional
        Sequences: ``(batch, length)``, True at real tokens. Graphs: None (``batch.batch`` maps atoms to graphs).

    Examples
    --------
    >>> from deepchem_finetune.backbones import SeqCNN
    >>> enc = SeqCNN(vocab_size=28, width=16, depth=1).encode(torch.tensor([[13, 11, 0]]))
    >>> enc.nodes.shape, enc.pooled.shape, enc.mask.tolist()
    (torch.Size([1, 3, 16]), torch.Size([1, 16]), [[True, True, False]])
    """
    nodes: torch.Tensor
    pooled: torch.Tensor
    mask: Optional[torch.Tensor] = None
