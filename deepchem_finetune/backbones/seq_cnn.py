"""``SeqCNN``: a dilated residual 1-D CNN over token sequences (ByteNet / CARP layout).

Per block, with pre-normalisation and a bottleneck of width ``inner_width``::

    x = Linear(d -> d_in)( GELU( LayerNorm(h) ) )              # 1x1 down-projection
    x = GELU( LayerNorm(x) ) * mask                             # padded positions zeroed before the conv
    x = Conv1d(d_in, d_in, kernel_size, dilation)(x)            # "same" padding
    h = h + Dropout( Linear(d_in -> d)( GELU( LayerNorm(x) ) ) )  # 1x1 up-projection, residual

Everything except the convolution acts per position, and the convolution only ever sees zeros at padded
positions (the same zeros as its own border padding), so appending ``<pad>`` tokens to a sequence changes
neither the representations of its real tokens nor its pooled embedding.
"""
from __future__ import annotations

from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from deepchem_finetune.backbones.encoding import Encoding

POOLINGS = ("mean", "max", "attention")


class DilatedResidualBlock(nn.Module):
    """One ByteNet block on ``(batch, length, width)``; see the module docstring."""

    def __init__(self, width: int, inner_width: int, kernel_size: int, dilation: int, dropout: float = 0.0):
        super().__init__()
        self.norm_in = nn.LayerNorm(width)
        self.down = nn.Linear(width, inner_width)
        self.norm_mid = nn.LayerNorm(inner_width)
        self.conv = nn.Conv1d(inner_width, inner_width, kernel_size, dilation=dilation,
                              padding=dilation * (kernel_size - 1) // 2)
        self.norm_out = nn.LayerNorm(inner_width)
        self.up = nn.Linear(inner_width, width)
        self.dropout = nn.Dropout(dropout)

    def forward(self, h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = self.down(F.gelu(self.norm_in(h)))
        x = F.gelu(self.norm_mid(x)) * mask.unsqueeze(-1).to(x.dtype)
        x = self.conv(x.transpose(1, 2)).transpose(1, 2)
        return h + self.dropout(self.up(F.gelu(self.norm_out(x))))


class SeqCNN(nn.Module):
    """Sequence encoder: token embedding -> ``depth`` dilated residual conv blocks -> LayerNorm -> pooling.

    Parameters
    ----------
    vocab_size: int
        From the tokenizer's ``input_encoding()["vocab_size"]``.
    pad_id: int, optional (default 0)
        Padding token id; its embedding is zero and its positions are masked.
    width: int, optional (default 128)
        Model width ``d`` (and ``output_dim``).
    depth: int, optional (default 8)
        Number of residual blocks.
    kernel_size: int, optional (default 5)
        Odd convolution width.
    dilations: sequence of int, optional (default (1, 2, 4, 8))
        Dilation of block ``i`` is ``dilations[i % len(dilations)]``.
    inner_width: int, optional
        Bottleneck width of the blocks; default ``width // 2`` (CARP).
    dropout: float, optional (default 0.0)
        On each block's residual branch.
    pooling: str, optional (default "mean")
        "mean", "max" or "attention" (a learned score per position, softmax over the real tokens).

    Attributes
    ----------
    output_dim: int
    config: dict
        JSON-able; ``SeqCNN(**cnn.config)`` rebuilds the same architecture.

    Shapes
    ------
    tokens ``(batch, length)`` int64 -> ``forward`` ``(batch, width)``; ``encode_tokens`` gives
    ``(batch, length, width)`` and the ``(batch, length)`` boolean mask of real tokens.

    Examples
    --------
    >>> cnn = SeqCNN(vocab_size=28, width=16, depth=2)
    >>> tokens = torch.tensor([[13, 11, 20, 0, 0], [5, 6, 7, 8, 9]])
    >>> cnn(tokens).shape
    torch.Size([2, 16])

    References
    ----------
    Kalchbrenner, N. et al. Neural Machine Translation in Linear Time (ByteNet). 2016.
    Yang, K. K. et al. Convolutions are competitive with transformers for protein sequence pretraining
    (CARP). Cell Systems 2024.
    """

    #: what ``encode`` reads: "graph" (a torch-geometric ``Batch``) or "tokens" (``(batch, length)`` ids)
    input_kind = "tokens"

    def __init__(self, vocab_size: int, pad_id: int = 0, width: int = 128, depth: int = 8, kernel_size: int = 5,
                 dilations: Sequence[int] = (1, 2, 4, 8), inner_width: Optional[int] = None, dropout: float = 0.0,
                 pooling: str = "mean"):
        super().__init__()
        if vocab_size < 2 or not 0 <= pad_id < vocab_size:
            raise ValueError(f"need vocab_size >= 2 and 0 <= pad_id < vocab_size, got {vocab_size}, {pad_id}")
        if width < 1 or depth < 1:
            raise ValueError(f"width and depth must be >= 1, got width={width}, depth={depth}")
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd (centred 'same' convolution), got {kernel_size}")
        dilations = [int(d) for d in dilations]
        if not dilations or min(dilations) < 1:
            raise ValueError(f"dilations must be a non-empty list of positive integers, got {dilations}")
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
        inner_width = int(inner_width) if inner_width is not None else max(1, width // 2)
        self.config = dict(vocab_size=int(vocab_size), pad_id=int(pad_id), width=int(width), depth=int(depth),
                           kernel_size=int(kernel_size), dilations=dilations, inner_width=inner_width,
                           dropout=float(dropout), pooling=pooling)
        self.pad_id, self.pooling = int(pad_id), pooling
        self.embedding = nn.Embedding(vocab_size, width, padding_idx=pad_id)
        self.blocks = nn.ModuleList(
            DilatedResidualBlock(width, inner_width, kernel_size, dilations[i % len(dilations)], dropout)
            for i in range(depth))
        self.final_norm = nn.LayerNorm(width)
        self.attention = nn.Linear(width, 1) if pooling == "attention" else None
        self.output_dim = int(width)

    def __repr__(self) -> str:
        c = self.config
        return (f"{type(self).__name__}(vocab={c['vocab_size']}, width={c['width']}, depth={c['depth']}, "
                f"kernel={c['kernel_size']}, dilations={c['dilations']}, inner={c['inner_width']}, "
                f"pooling={c['pooling']})")

    def layer_groups(self) -> List[List[nn.Module]]:
        """Modules from the input upwards: ``[embedding], [block 1], ..., [block n, final norm, pooling]``.

        Fine-tuning strategies unfreeze and assign learning rates by these groups.
        """
        groups: List[List[nn.Module]] = [[self.embedding]] + [[b] for b in self.blocks]
        groups[-1].append(self.final_norm)
        if self.attention is not None:
            groups[-1].append(self.attention)
        return groups

    def encode_tokens(self, tokens: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Per-position representations ``(batch, length, width)`` (zero at padding) and the mask.

        The mask ``(batch, length)`` is True at real (non-pad) tokens.
        """
        mask = tokens != self.pad_id
        h = self.embedding(tokens)
        for block in self.blocks:
            h = block(h, mask)
        h = self.final_norm(h)
        return h * mask.unsqueeze(-1).to(h.dtype), mask

    def readout(self, h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Pool ``(batch, length, width)`` over the real positions into ``(batch, width)``."""
        m = mask.unsqueeze(-1)
        if self.pooling == "mean":
            return h.sum(1) / m.sum(1).clamp(min=1).to(h.dtype)
        if self.pooling == "max":
            return h.masked_fill(~m, float("-inf")).max(1).values
        scores = self.attention(h).masked_fill(~m, float("-inf"))
        return (torch.softmax(scores, dim=1) * h).sum(1)

    def encode(self, tokens) -> Encoding:
        """Per-position representations, the pooled embedding and the mask of real tokens (the backbone API every
        objective uses). ``tokens``: a LongTensor, or a batch holding one as ``tokens`` (a ``TokenBatch``, whose
        molecule-level features are the task head's)."""
        h, mask = self.encode_tokens(getattr(tokens, "tokens", tokens))
        return Encoding(h, self.readout(h, mask), mask)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """Sequence embeddings ``(batch, width)``."""
        return self.encode(tokens).pooled
