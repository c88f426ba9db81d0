"""``RunCounters``: what makes a seeded training run reproducible and resumable.

A seeded :class:`~deepchem_finetune.models.BackboneModel` draws each epoch's shuffle and dropout masks from
``(seed, epochs started)``, advances the fine-tuning strategy's schedule by one per epoch, and corrupts batches
(masking, context sampling) with its own generator. These counters are saved in training checkpoints, so
``restore`` + ``fit`` continues exactly like an uninterrupted run; numpy's and torch's global RNGs are not used
for the shuffle. A training clock, once started (pretraining starts it), travels in the same checkpoints, so the
training time of a run killed after its last checkpoint is not lost to the run that resumes it.
"""
from __future__ import annotations

import time
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
    >>> c.start_clock(step=0); c.clock_seconds() < 1.0
    True
    """

    def __init__(self, corruption_seed: Optional[int]):
        self.epochs_started = 0
        self.strategy_epochs = 0
        self.clock_from_step: Optional[int] = None  # the global step the training clock started at (None: no clock)
        self._clock_before = 0.0  # seconds counted before the current process's start_clock (restored)
        self._clock_started: Optional[float] = None
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

    def start_clock(self, step: int) -> None:
        """Count training time from now on: a restored clock goes on from the seconds it holds; otherwise a new
        clock starts at global ``step``."""
        if self.clock_from_step is None:
            self.clock_from_step, self._clock_before = int(step), 0.0
        else:  # already running: keep what it counted
            self._clock_before = self.clock_seconds()
        self._clock_started = time.monotonic()

    def clock_seconds(self) -> Optional[float]:
        """Training seconds of the steps since :attr:`clock_from_step`, over every run that continued this one's
        checkpoints (killed ones included, up to their last checkpoint); None without a clock."""
        if self.clock_from_step is None:
            return None
        running = 0.0 if self._clock_started is None else time.monotonic() - self._clock_started
        return self._clock_before + running

    def state_dict(self) -> dict:
        state = {"epochs_started": self.epochs_started, "strategy_epochs": self.strategy_epochs,
                 "corruption_rng": self.corruption_rng.get_state()}
        if self.clock_from_step is not None:
            state.update(clock_from_step=self.clock_from_step, clock_seconds=float(self.clock_seconds()))
        return state

    def load_state_dict(self, state: dict) -> None:
        """Restore counters saved by :meth:`state_dict`; keys that are absent (files written by DeepChem's own
        ``TorchModel``) leave the counters as they are."""
        self.epochs_started = int(state.get("epochs_started", self.epochs_started))
        self.strategy_epochs = int(state.get("strategy_epochs", self.strategy_epochs))
        if "corruption_rng" in state:
            self.corruption_rng.set_state(state["corruption_rng"])
        # the checkpoint's clock replaces this one (the steps after it are undone); a running clock goes on from it
        running = self._clock_started is not None
        if state.get("clock_from_step") is not None:
            self.clock_from_step, self._clock_before = int(state["clock_from_step"]), float(state["clock_seconds"])
        else:  # a checkpoint without a clock: its steps are untimed, the next start_clock starts a new one
            self.clock_from_step, self._clock_before, running = None, 0.0, False
        self._clock_started = time.monotonic() if running else None
