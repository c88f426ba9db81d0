"""Supervised objective: classification or regression over ``n_tasks``, missing labels masked by ``w``."""
from __future__ import annotations

from typing import List

import torch
import torch.nn.functional as F

from deepchem_finetune.heads import FeatureHead, MLPHead
from deepchem_finetune.objectives.base import Objective
from deepchem_finetune.transforms import LabelTensors

MODES = ("classification", "regression")


class SupervisedObjective(Objective):
    """Output layout, head, loss and predictions of a DeepChem-style supervised task.

    The loss averages over entries with ``w != 0`` and a finite label; a missing (NaN) label never
    reaches the arithmetic, so the loss stays finite. Its transform (:class:`~deepchem_finetune.transforms.
    LabelTensors`) checks the labels' shape and, for classification, that they are integer classes.

    Parameters
    ----------
    mode: str
        'classification' or 'regression'.
    n_tasks: int
    n_classes: int, optional (default 2)
        Classes per task (classification only).
    extra_dim: int, optional (default 0)
        Width of molecule-level features fed to the head beside the embedding (a featurizer's ``extra_features``;
        the batch carries them as ``molecule_features``); the head is then a :class:`~deepchem_finetune.heads.
        FeatureHead`.

    Examples
    --------
    >>> obj = SupervisedObjective("classification", n_tasks=2)
    >>> logits = torch.zeros(3, obj.output_dim)
    >>> y = torch.tensor([[1., float("nan")], [0., 1.], [1., 0.]])
    >>> loss = obj.loss([obj.outputs(logits)[1]], [y], [torch.ones(3, 2)])
    >>> round(float(loss), 4)
    0.6931
    """

    name = "supervised"

    def __init__(self, mode: str, n_tasks: int, n_classes: int = 2, extra_dim: int = 0):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        if n_tasks < 1:
            raise ValueError(f"n_tasks must be >= 1, got {n_tasks}")
        if mode == "classification" and n_classes < 2:
            raise ValueError(f"n_classes must be >= 2, got {n_classes}")
        self.mode, self.n_tasks, self.n_classes, self.extra_dim = mode, n_tasks, n_classes, int(extra_dim)
        self.config = {"mode": mode, "n_tasks": n_tasks, "n_classes": n_classes}
        if self.extra_dim:
            self.config["extra_dim"] = self.extra_dim
        self.transform = LabelTensors(mode, n_tasks, n_classes)

    def build_head(self, backbone, hidden_dims=(), dropout: float = 0.0):
        """A fresh :class:`~deepchem_finetune.heads.MLPHead` from ``backbone.output_dim`` to the task outputs (a
        :class:`~deepchem_finetune.heads.FeatureHead` with molecule-level features)."""
        if self.extra_dim:
            return FeatureHead(backbone.output_dim, self.extra_dim, self.output_dim, hidden_dims, dropout)
        return MLPHead(backbone.output_dim, self.output_dim, hidden_dims, dropout)

    def predict(self, encoding, head, inputs) -> torch.Tensor:
        """Raw head output ``(batch, output_dim)`` (turned into outputs by :meth:`outputs`)."""
        if self.extra_dim:
            features = getattr(inputs, "molecule_features", None)
            if features is None:
                raise ValueError(f"the model takes {self.extra_dim} molecule-level features beside the embedding, but the "
                                 "inputs carry none: featurize with model.get_featurizer() (its extra_features)")
            return head(encoding.pooled, features)
        return head(encoding.pooled)

    @property
    def output_dim(self) -> int:
        return self.n_tasks * self.n_classes if self.mode == "classification" else self.n_tasks

    @property
    def output_types(self) -> List[str]:
        return ["prediction", "loss"] if self.mode == "classification" else ["prediction"]

    def outputs(self, raw: torch.Tensor) -> List[torch.Tensor]:
        """Turn head output ``(batch, output_dim)`` into the model's outputs.

        Classification: ``[probabilities (batch, n_tasks, n_classes), logits (same)]``;
        regression: ``[predictions (batch, n_tasks)]``.
        """
        if self.mode == "classification":
            logits = raw.view(-1, self.n_tasks, self.n_classes)
            return [F.softmax(logits, dim=-1), logits]
        return [raw]

    def loss(self, outputs, labels, weights) -> torch.Tensor:
        """Masked mean loss: cross-entropy per (sample, task) or squared error."""
        out = outputs[0]
        y = labels[0].to(out.device).reshape(out.shape[0], self.n_tasks)
        w = weights[0].to(out.device)
        w = w.reshape(out.shape[0], -1).expand(-1, self.n_tasks) if w.numel() else torch.ones_like(y)
        valid = (w != 0) & torch.isfinite(y)
        y = torch.where(valid, y, torch.zeros_like(y))
        if self.mode == "classification":
            per = F.cross_entropy(out.permute(0, 2, 1), y.long(), reduction="none")
        else:
            per = (out - y) ** 2
        per = torch.where(valid, per * w, torch.zeros_like(per))
        return per.sum() / valid.sum().clamp(min=1)
