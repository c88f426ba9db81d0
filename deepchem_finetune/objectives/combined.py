"""``Combined``: a weighted sum of objectives sharing one backbone pass per batch (e.g. attribute masking +
descriptors for the GNN, masked tokens + descriptors for a SMILES SeqCNN)."""
from __future__ import annotations

from typing import List, Optional, Sequence, Tuple

import torch
from torch import nn

from deepchem_finetune.objectives.base import Objective
from deepchem_finetune.transforms import Compose


class Combined(Objective):
    """Weighted sum of objectives on one :class:`~deepchem_finetune.backbones.Encoding` per batch.

    Parameters
    ----------
    parts: sequence of (objective, weight)
        e.g. ``[(AttributeMasking(...), 1.0), (DescriptorPrediction(...), 1.0)]``. Their transforms run in
        order on the same batch (:class:`~deepchem_finetune.transforms.Compose`).
    """

    def __init__(self, parts: Sequence[Tuple[Objective, float]]):
        self.parts = list(parts)
        self.name = "+".join(p.name for p, _ in self.parts)
        self.config = {"parts": [{"name": p.name, "weight": wt, "config": p.config} for p, wt in self.parts]}
        self.output_types = ["prediction"] * sum(len(p.output_types) for p, _ in self.parts)
        self._sizes = [len(p.output_types) for p, _ in self.parts]
        self.transform = Compose([p.transform for p, _ in self.parts if p.transform is not None])

    def build_head(self, backbone, hidden_dims=(), dropout: float = 0.0) -> nn.Module:
        return nn.ModuleList(p.build_head(backbone, hidden_dims, dropout) for p, _ in self.parts)

    def backbone_input(self, inputs):
        for p, _ in self.parts:
            inputs = p.backbone_input(inputs)
        return inputs

    def predict(self, encoding, head, inputs) -> List[torch.Tensor]:
        out = []
        for (p, _), h in zip(self.parts, head):
            out += p.predict(encoding, h, inputs)
        return out

    def _split(self, seq):
        k = 0
        for size in self._sizes:
            yield seq[k:k + size]
            k += size

    def loss(self, outputs, labels, weights) -> torch.Tensor:
        total: Optional[torch.Tensor] = None
        for (p, wt), o, lab, wts in zip(self.parts, self._split(outputs), self._split(labels),
                                        self._split(weights)):
            term = wt * p.loss(o, lab, wts)
            total = term if total is None else total + term
        return total
