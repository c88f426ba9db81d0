"""Descriptor targets (CheMeleon-style pretraining): robust-scaled descriptors of each molecule as labels."""
from __future__ import annotations

from typing import Tuple

import numpy as np
import torch

from deepchem_finetune.featurizers.descriptors import RobustScaler


class DescriptorTargets:
    """Scaled targets and loss weights ``(batch, n_kept)`` from the raw descriptor columns ``y`` of a corpus
    featurized with ``targets="descriptors"``; the network input passes unchanged.

    Missing / overflowing values (``w == 0``, or non-finite ``y`` when no ``w`` is given) get weight 0 and a
    target of 0, so they never reach the loss as NaN. ``target_dropout`` additionally hides a random fraction of
    each molecule's targets, drawn anew every batch (Burns et al., 2025).

    Parameters
    ----------
    scaler: RobustScaler
        Fitted on the pretraining corpus (its ``kept`` columns are the targets).
    target_dropout: float, optional (default 0.0)
    """

    def __init__(self, scaler: RobustScaler, target_dropout: float = 0.0):
        if not 0 <= target_dropout < 1:
            raise ValueError(f"target_dropout must be in [0, 1), got {target_dropout}")
        self.scaler, self.target_dropout = scaler, target_dropout
        self._columns = scaler.columns()

    def targets(self, y, w, generator: torch.Generator) -> Tuple[torch.Tensor, torch.Tensor]:
        """Scaled targets and loss weights ``(batch, n_targets)`` from raw corpus labels."""
        if y is None or np.asarray(y).shape[1] != len(self.scaler.names):
            raise ValueError(f"descriptor targets need y with {len(self.scaler.names)} columns; featurize the corpus "
                             "with featurize_corpus(..., targets='descriptors')")
        y = np.asarray(y, dtype=np.float64)
        valid = np.asarray(w)[:, self._columns] != 0 if w is not None else np.isfinite(y[:, self._columns])
        z = np.nan_to_num(self.scaler.transform(y), nan=0.0)
        weights = torch.as_tensor(valid, dtype=torch.float32)
        if self.target_dropout:
            keep = torch.rand(weights.shape, generator=generator) >= self.target_dropout
            weights = weights * keep
        return torch.as_tensor(z, dtype=torch.float32), weights

    def __call__(self, inputs, generator: torch.Generator, y=None, w=None):
        z, weights = self.targets(y, w, generator)
        return inputs, [z], [weights]
