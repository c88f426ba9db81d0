"""Task heads: an MLP on a backbone's ``output_dim``. Heads are task-specific and never stored in
pretrained files."""
from __future__ import annotations

from typing import Sequence

from torch import nn


class MLPHead(nn.Module):
    """``Linear -> ReLU -> Dropout`` blocks ending in a ``Linear`` to ``out_dim``.

    Parameters
    ----------
    in_dim: int
        Backbone output width.
    out_dim: int
        Number of outputs (``n_tasks`` or ``n_tasks * n_classes``).
    hidden_dims: sequence of int, optional (default ())
        Hidden widths; empty gives a single linear layer (Hu et al., 2020).
    dropout: float, optional (default 0.0)

    Examples
    --------
    >>> import torch
    >>> MLPHead(8, 3, hidden_dims=[16])(torch.zeros(2, 8)).shape
    torch.Size([2, 3])
    """

    def __init__(self, in_dim: int, out_dim: int, hidden_dims: Sequence[int] = (), dropout: float = 0.0):
        super().__init__()
        layers = []
        d = in_dim
        for h in hidden_dims:
            layers += [nn.Linear(d, h), nn.ReLU(), nn.Dropout(dropout)]
            d = h
        layers.append(nn.Linear(d, out_dim))
        self.net = nn.Sequential(*layers)
        self.in_dim, self.out_dim = in_dim, out_dim

    def forward(self, x):
        return self.net(x)
