"""``RunCounters``: what makes a seeded training run reproducible and resumable.

A seeded :class:`~deepchem_finetune.models.BackboneModel` draws each epoch's shuffle and dropout masks from
``(seed, epochs started)``, advances the fine-tuning strategy's schedule by one per epoch, and corrupts batches
(masking, context sampling) with its own generator. These counters are saved in training checkpoints, so
``restore`` + ``fit`` continues exactly like an uninterrupted run; numpy's and torch's global RNGs are not used
for the shuffle.
"""
from __future__ import annotations

from typing import Optional

import numpy as np
import torch


class RunCounters:
    """Epoch counters and the corruption RNG of one model.

    Parameters
    ----------
    corruption_seed: int, optional
        Seed of the corruption RNG; None draws one at random.

    Examples
    --------
    >>> c = RunCounters(corruption_seed=1)
    >>> rng = c.start_epoch(seed=0)
    >>> c.epochs_started, int(rng.integers(10))
    (1, 6)
    """

    def __init__(self, corruption_seed: Optional[int]):
        self.epochs_started = 0
        self.strategy_epochs = 0
        self.corruption_rng = torch.Generator().manual_seed(
            corruption_seed if corruption_seed is not None else int(torch.randint(2**31, ()).item()))

    def start_epoch(self, seed: Optional[int]) -> Optional[np.random.Generator]:
        """Count a training epoch; with a ``seed`` (the model's), seed torch for its dropout masks and return the
        numpy generator of its shuffle (None without a seed)."""
        rng = None
        if seed is not None:
            rng = np.random.default_rng([seed, self.epochs_started])
            torch.manual_seed(int(rng.integers(2**31)))  # dropout masks of this epoch
        self.epochs_started += 1
        return rng

    def state_dict(self) -> dict:
        return {"epochs_started": self.epochs_started, "strategy_epochs": self.strategy_epochs,
                "corruption_rng": self.corruption_rng.get_state()}

    def load_state_dict(self, state: dict) -> None:
        """Restore counters saved by :meth:`state_dict`; keys that are absent (files written by DeepChem's own
        ``TorchModel``) leave the counters as they are."""
        self.epochs_started = int(state.get("epochs_started", self.epochs_started))
        self.strategy_epochs = int(state.get("strategy_epochs", self.strategy_epochs))
        if "corruption_rng" in state:
            self.corruption_rng.set_state(state["corruption_rng"])
