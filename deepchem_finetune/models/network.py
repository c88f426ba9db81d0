"""``TaskNetwork``: the ``nn.Module`` a :class:`~deepchem_finetune.models.BackboneModel` trains,
``objective.outputs(objective.forward(backbone, head, inputs))``."""
from __future__ import annotations

import torch
from torch import nn

PRECISIONS = ("fp32", "bf16")


class TaskNetwork(nn.Module):
    """``backbone -> head -> objective outputs``.

    Parameters
    ----------
    backbone: nn.Module
        A backbone with ``encode(inputs) -> Encoding`` (:mod:`deepchem_finetune.backbones`).
    head: nn.Module
        Built by ``objective.build_head(backbone, ...)``.
    objective: Objective
        The model side of the training objective (:mod:`deepchem_finetune.objectives`).
    precision: str, optional (default "fp32")
        "bf16" runs backbone and head under bfloat16 autocast; outputs are returned as float32.
    """

    def __init__(self, backbone: nn.Module, head: nn.Module, objective, precision: str = "fp32"):
        super().__init__()
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be 'fp32' or 'bf16', got {precision!r}")
        self.backbone = backbone
        self.head = head
        self.objective = objective
        self.precision = precision
        self.frozen_modules: list = []

    def train(self, mode: bool = True):
        """Like ``nn.Module.train``, but frozen blocks stay in eval mode (batch-norm statistics fixed)."""
        super().train(mode)
        for m in self.frozen_modules:
            m.eval()
        return self

    def forward(self, inputs):
        device = next(self.head.parameters()).device.type
        with torch.autocast(device, dtype=torch.bfloat16, enabled=self.precision == "bf16"):
            raw = self.objective.forward(self.backbone, self.head, inputs)
        raw = [r.float() for r in raw] if isinstance(raw, (list, tuple)) else raw.float()
        return self.objective.outputs(raw)
