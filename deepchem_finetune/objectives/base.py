"""``Objective``: the model side of a training objective (predictor-owns-its-loss, as in chemprop).

An objective builds the head that sits on the backbone, turns the backbone's :class:`~deepchem_finetune.backbones.
Encoding` into outputs and scores them; its ``transform`` (a :mod:`deepchem_finetune.transforms` object) is the data
side, called where DeepChem prepares each batch. The network of a model is ``objective.forward(backbone, head,
inputs)``; objectives only call ``backbone.encode`` and never ask which backbone they got.
"""
from __future__ import annotations

from typing import List, Optional

import torch
from torch import nn


class Objective:
    """Base class. Subclasses set ``name``, ``config`` (plain JSON, stored with pretrained weights),
    ``output_types`` and ``transform``, and implement :meth:`build_head`, :meth:`predict` and :meth:`loss`."""

    name = "objective"
    config: dict = {}
    output_types: List[str] = ["prediction"]
    #: data side: ``transform(inputs, generator, y=None, w=None) -> (inputs, labels, weights)``, or None
    transform = None

    def build_head(self, backbone: nn.Module, hidden_dims=(), dropout: float = 0.0) -> nn.Module:
        raise NotImplementedError

    def backbone_input(self, inputs):
        """What the backbone encodes, given the (possibly transformed) network input."""
        return inputs

    def forward(self, backbone: nn.Module, head: nn.Module, inputs):
        """Raw outputs: one backbone pass (``backbone.encode``), then :meth:`predict`."""
        return self.predict(backbone.encode(self.backbone_input(inputs)), head, inputs)

    def predict(self, encoding, head: nn.Module, inputs):
        """Raw outputs from an :class:`~deepchem_finetune.backbones.Encoding` (shared by combined objectives)."""
        raise NotImplementedError

    def outputs(self, raw) -> list:
        """The model's outputs (DeepChem's ``output_types`` order) from :meth:`forward`'s raw result."""
        return list(raw)

    def loss(self, outputs, labels, weights) -> torch.Tensor:
        raise NotImplementedError


def device_of(outputs) -> Optional[torch.device]:
    """Device of the first output tensor (labels are moved there)."""
    return outputs[0].device if len(outputs) else None
