"""Descriptor prediction (CheMeleon-style): regress a molecule's computed descriptors from its embedding.

The targets are the corpus's descriptor columns (``y`` of a corpus featurized with ``targets="descriptors"``),
robust-scaled by the data-side :class:`~deepchem_finetune.transforms.DescriptorTargets` with the scaler stored in
this objective's config (so it travels with the pretrained weights and is never refitted). Missing /
overflowing values have weight 0 and never reach the loss.
"""
from __future__ import annotations

from typing import List

import numpy as np
import torch
from torch import nn

from deepchem_finetune.featurizers.descriptors import RobustScaler
from deepchem_finetune.heads import MLPHead
from deepchem_finetune.objectives.base import Objective
from deepchem_finetune.transforms import DescriptorTargets


class DescriptorPrediction(Objective):
    """Predict robust-scaled molecular descriptors from the graph (or sequence) embedding.

    Parameters
    ----------
    featurizer_spec: dict
        Unused (any backbone input works).
    scaler: dict
        :meth:`RobustScaler.to_dict` of a scaler fitted on the pretraining corpus.
    target_dropout: float, optional (default 0.0)
        Fraction of each molecule's targets left out of its loss, drawn anew every batch.

    References
    ----------
    Burns, J. W. et al. CheMeleon: a molecular foundation model pretrained on descriptors (2025).
    """

    name = "descriptors"
    output_types = ["prediction"]

    def __init__(self, featurizer_spec: dict, scaler: dict, target_dropout: float = 0.0):
        self.scaler = RobustScaler.from_dict(scaler)
        if not self.scaler.kept:
            raise ValueError("the descriptor scaler keeps no descriptor: fit it on the corpus first")
        self.transform = DescriptorTargets(self.scaler, target_dropout)
        self.target_dropout = target_dropout
        self.config = {"scaler": self.scaler.to_dict(), "target_dropout": target_dropout}

    @property
    def n_targets(self) -> int:
        return len(self.scaler.kept)

    def build_head(self, backbone, hidden_dims=(), dropout: float = 0.0) -> nn.Module:
        hidden = tuple(hidden_dims) or (backbone.output_dim,)
        return MLPHead(backbone.output_dim, self.n_targets, hidden, dropout)

    def predict(self, encoding, head, inputs) -> List[torch.Tensor]:
        return [head(encoding.pooled)]

    def loss(self, outputs, labels, weights) -> torch.Tensor:
        pred, z, w = outputs[0], labels[0].to(outputs[0].device), weights[0].to(outputs[0].device)
        return (w * (pred - z) ** 2).sum() / w.sum().clamp(min=1)

    def predict_descriptors(self, scaled: np.ndarray) -> np.ndarray:
        """Undo the scaling: descriptor values (kept columns, in ``scaler.kept`` order)."""
        return np.asarray(scaled) * np.array(self.scaler.scale) + np.array(self.scaler.center)
