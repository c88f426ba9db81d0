"""``Compose``: several transforms on one batch (e.g. masked atoms + descriptor targets)."""
from __future__ import annotations

from typing import Sequence

import torch


class Compose:
    """Apply transforms in order, each to the previous one's network input; labels and weights are concatenated.

    Parameters
    ----------
    transforms: sequence of callables ``(inputs, generator, y=None, w=None) -> (inputs, labels, weights)``
    """

    def __init__(self, transforms: Sequence):
        self.transforms = list(transforms)

    def __call__(self, inputs, generator: torch.Generator, y=None, w=None):
        labels, weights = [], []
        for transform in self.transforms:
            inputs, lab, wts = transform(inputs, generator, y=y, w=w)
            labels += lab
            weights += wts
        return inputs, labels, weights
