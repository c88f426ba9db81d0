"""Token masking (BERT / CARP): select some tokens of each sequence and hide them."""
from __future__ import annotations

from typing import NamedTuple

import torch


class MaskedTokenInput(NamedTuple):
    """What :class:`TokenMasking` hands to the network.

    Attributes
    ----------
    tokens: torch.Tensor
        Corrupted token ids ``(batch, length)``.
    positions: torch.Tensor
        Flat indices into ``tokens.view(-1)`` of the selected positions ``(n_selected,)``, row by row.
    """
    tokens: torch.Tensor
    positions: torch.Tensor


def token_tensor(inputs) -> torch.Tensor:
    """The ``(batch, length)`` token ids of a sequence batch, corrupted (:class:`MaskedTokenInput`) or plain."""
    return inputs.tokens if isinstance(inputs, MaskedTokenInput) else inputs


class TokenMasking:
    """Select ``mask_rate`` of each sequence's real (non-pad) tokens, at least one; of those, ``mask_token_frac``
    become ``<mask>``, ``random_token_frac`` a random regular token (never ``<pad>``, ``<unk>`` or ``<mask>``) and
    the rest stay (BERT's 80/10/10). Labels are the original ids at the selected positions.

    Parameters
    ----------
    pad_id, mask_id: int
    replacements: torch.Tensor
        Ids a token may be replaced with at random.
    mask_rate, mask_token_frac, random_token_frac: float

    Examples
    --------
    >>> t = TokenMasking(pad_id=0, mask_id=2, replacements=torch.arange(4, 28))
    >>> inp, labels, weights = t(torch.tensor([[13, 11, 20, 5, 0, 0]]), torch.Generator().manual_seed(0))
    >>> len(inp.positions), labels[0].shape
    (1, torch.Size([1]))
    """

    def __init__(self, pad_id: int, mask_id: int, replacements: torch.Tensor, mask_rate: float = 0.15,
                 mask_token_frac: float = 0.8, random_token_frac: float = 0.1):
        if not 0 < mask_rate < 1:
            raise ValueError(f"mask_rate must be in (0, 1), got {mask_rate}")
        if mask_token_frac < 0 or random_token_frac < 0 or mask_token_frac + random_token_frac > 1:
            raise ValueError("mask_token_frac and random_token_frac must be >= 0 with a sum <= 1, got "
                             f"{mask_token_frac} and {random_token_frac}")
        if random_token_frac and not len(replacements):
            raise ValueError("random_token_frac > 0 needs at least one regular token in the vocabulary")
        self.pad_id, self.mask_id, self._replacements = pad_id, mask_id, replacements
        self.mask_rate, self.mask_token_frac, self.random_token_frac = mask_rate, mask_token_frac, random_token_frac

    def select(self, tokens: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Boolean ``(batch, length)``: ``round(mask_rate * n_real)`` (at least 1) random real positions per row."""
        real = (tokens != self.pad_id).cpu()
        n_batch, length = real.shape
        k = torch.clamp(torch.round(real.sum(1).double() * self.mask_rate), min=1).long()
        r = torch.rand((n_batch, length), generator=generator, dtype=torch.float64)
        r[~real] = 2.0  # padding sorts last, so it is never selected
        rank = torch.empty((n_batch, length), dtype=torch.long)
        rank.scatter_(1, r.argsort(dim=1), torch.arange(length).expand(n_batch, length).contiguous())
        return (rank < k.unsqueeze(1)) & real

    def __call__(self, tokens: torch.Tensor, generator: torch.Generator, y=None, w=None):
        """Corrupt a ``(batch, length)`` token tensor; return ``(MaskedTokenInput, [labels], [weights])``.

        ``labels`` are the original ids at the selected positions ``(n_selected,)``; the input tensor is
        not modified.
        """
        positions = self.select(tokens, generator).reshape(-1).nonzero().squeeze(1)
        flat = tokens.reshape(-1).cpu()
        labels = flat[positions].clone()
        u = torch.rand(len(positions), generator=generator)
        to_mask = u < self.mask_token_frac
        to_random = (u >= self.mask_token_frac) & (u < self.mask_token_frac + self.random_token_frac)
        corrupted = flat.clone()
        corrupted[positions[to_mask]] = self.mask_id
        if to_random.any():
            pick = torch.randint(len(self._replacements), (int(to_random.sum()),), generator=generator)
            corrupted[positions[to_random]] = self._replacements[pick].to(corrupted.dtype)
        device = tokens.device
        inp = MaskedTokenInput(corrupted.reshape(tokens.shape).to(device), positions.to(device))
        return inp, [labels.to(device)], [torch.ones(len(positions), device=device)]
