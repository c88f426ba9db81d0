"""Fine-tuning strategies, applied inside DeepChem's own ``fit`` (no second training loop).

A strategy decides, for a :class:`~deepchem_finetune.models.base.BackboneModel`:

* the optimizer's **parameter groups** (learning rate and weight decay per group), built where DeepChem
  builds its optimizer (``_ensure_built``);
* which backbone blocks are **frozen** (``requires_grad=False`` and batch norm kept in eval mode, so
  neither weights nor running statistics change), updated at the start of each epoch;
* an extra **penalty** added to the loss (L2-SP).

Blocks are the backbone's ``layer_groups()`` (input encoder first, last layer last); the head is on top.

=================  =====================================================================================
``full``           everything trains; ``head_lr_mult`` scales the head's learning rate
``frozen``         linear probe: only the head trains; backbone weights and BN statistics stay bit-identical
``gradual_unfreeze``  head only for ``unfreeze_every`` epochs, then one more block from the top every
                   ``unfreeze_every`` epochs (ULMFiT, Howard & Ruder 2018)
``layerwise_lr``   learning rate ``lr * decay**k`` for the block ``k`` levels below the head
``l2_sp``          ``alpha * ||w - w_pretrained||^2`` on backbone weights plus weight decay ``beta`` on the
                   head (Li et al., ICML 2018)
=================  =====================================================================================
"""
from __future__ import annotations

from typing import Dict, List, Optional

import torch
from torch import nn


class Strategy:
    """Base fine-tuning strategy: everything trains with one learning rate.

    Parameters
    ----------
    head_lr_mult: float, optional (default 1.0)
        The head's learning rate is ``lr * head_lr_mult``.
    """

    name = "full"

    def __init__(self, head_lr_mult: float = 1.0):
        self.head_lr_mult = head_lr_mult

    @property
    def options(self) -> dict:
        return {"head_lr_mult": self.head_lr_mult}

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in self.options.items())
        return f"{type(self).__name__}({opts})"

    # -- hooks ------------------------------------------------------------------------------
    def param_groups(self, model, lr: float) -> List[Dict]:
        """Optimizer parameter groups: one per backbone block, then the head."""
        blocks = _blocks(model)
        groups = [{"params": _params(b), "lr": lr, "name": f"backbone.{i}"} for i, b in enumerate(blocks)]
        groups.append({"params": list(model.head.parameters()), "lr": lr * self.head_lr_mult, "name": "head"})
        return [g for g in groups if g["params"]]

    def frozen_blocks(self, model, epoch: int) -> int:
        """How many backbone blocks, counted from the input, are frozen during ``epoch`` (0-based)."""
        return 0

    def start_epoch(self, model, epoch: int) -> None:
        """Called by the model at the start of each training epoch (0-based, counted since the strategy was set):
        freezes the blocks of :meth:`frozen_blocks` and unfreezes the others."""
        apply_freezing(model, self.frozen_blocks(model, epoch))

    def penalty(self, model) -> Optional[torch.Tensor]:
        """Extra loss term, or None."""
        return None


class Full(Strategy):
    """Fine-tune everything (optionally with a different head learning rate)."""


class Frozen(Strategy):
    """Linear probe: the backbone never changes, not even its batch-norm statistics."""

    name = "frozen"

    def frozen_blocks(self, model, epoch):
        return len(_blocks(model))


class GradualUnfreeze(Strategy):
    """Head first, then one more backbone block from the top every ``unfreeze_every`` epochs.

    Parameters
    ----------
    unfreeze_every: int, optional (default 1)
        Epochs between two unfreezing events.
    head_lr_mult: float, optional (default 1.0)
    """

    name = "gradual_unfreeze"

    def __init__(self, unfreeze_every: int = 1, head_lr_mult: float = 1.0):
        super().__init__(head_lr_mult)
        if unfreeze_every < 1:
            raise ValueError(f"unfreeze_every must be >= 1, got {unfreeze_every}")
        self.unfreeze_every = unfreeze_every

    @property
    def options(self):
        return {"unfreeze_every": self.unfreeze_every, "head_lr_mult": self.head_lr_mult}

    def frozen_blocks(self, model, epoch):
        n = len(_blocks(model))
        return max(0, n - epoch // self.unfreeze_every)


class LayerwiseLR(Strategy):
    """Learning rate ``lr * decay**k`` for the backbone block ``k`` levels below the head (head: ``lr``).

    Parameters
    ----------
    decay: float, optional (default 0.8)
    """

    name = "layerwise_lr"

    def __init__(self, decay: float = 0.8, head_lr_mult: float = 1.0):
        super().__init__(head_lr_mult)
        if not 0 < decay <= 1:
            raise ValueError(f"decay must be in (0, 1], got {decay}")
        self.decay = decay

    @property
    def options(self):
        return {"decay": self.decay, "head_lr_mult": self.head_lr_mult}

    def param_groups(self, model, lr):
        groups = super().param_groups(model, lr)
        n = len(_blocks(model))
        for g in groups:
            if g["name"].startswith("backbone."):
                k = n - int(g["name"].split(".")[1])  # top block: k = 1
                g["lr"] = lr * self.decay ** k
        return groups


class L2SP(Strategy):
    """Regularise toward the pretrained weights: ``alpha * sum ||w - w0||^2`` over backbone parameters.

    Parameters
    ----------
    alpha: float, optional (default 0.01)
    beta: float, optional (default 0.01)
        Ordinary weight decay on the head.
    """

    name = "l2_sp"

    def __init__(self, alpha: float = 0.01, beta: float = 0.01, head_lr_mult: float = 1.0):
        super().__init__(head_lr_mult)
        self.alpha, self.beta = alpha, beta

    @property
    def options(self):
        return {"alpha": self.alpha, "beta": self.beta, "head_lr_mult": self.head_lr_mult}

    def param_groups(self, model, lr):
        groups = super().param_groups(model, lr)
        groups[-1]["weight_decay"] = self.beta
        return groups

    def penalty(self, model):
        ref = model.pretrained_reference
        if ref is None:
            raise RuntimeError("l2_sp needs pretrained weights: use from_pretrained / load_pretrained first")
        total = None
        for name, p in model.backbone.named_parameters():
            d = ((p - ref[name]) ** 2).sum()
            total = d if total is None else total + d
        return self.alpha * total


STRATEGIES = {cls.name: cls for cls in (Full, Frozen, GradualUnfreeze, LayerwiseLR, L2SP)}


def get_strategy(strategy="full", **options) -> Strategy:
    """Build a strategy from its name (or return a :class:`Strategy` instance unchanged).

    Examples
    --------
    >>> get_strategy("layerwise_lr", decay=0.5)
    LayerwiseLR(decay=0.5, head_lr_mult=1.0)
    """
    if isinstance(strategy, Strategy):
        if options:
            raise TypeError("options cannot be combined with a Strategy instance")
        return strategy
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; choose one of {sorted(STRATEGIES)}")
    return STRATEGIES[strategy](**options)


def _blocks(model) -> List[List[nn.Module]]:
    return model.backbone.layer_groups()


def _params(block: List[nn.Module]) -> List[nn.Parameter]:
    seen, out = set(), []
    for m in block:
        for p in m.parameters():
            if id(p) not in seen:
                seen.add(id(p))
                out.append(p)
    return out


def apply_freezing(model, n_frozen: int) -> None:
    """Freeze the first ``n_frozen`` backbone blocks (no gradients, BN in eval mode); unfreeze the rest."""
    blocks = _blocks(model)
    frozen_modules = []
    for i, block in enumerate(blocks):
        for p in _params(block):
            p.requires_grad_(i >= n_frozen)
        if i < n_frozen:
            frozen_modules += block
    model.model.frozen_modules = frozen_modules
    model.model.train(model.model.training)
