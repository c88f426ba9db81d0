"""Descriptor prediction (CheMeleon-style) and weighted combinations of pretraining objectives.

``DescriptorPrediction`` regresses the corpus's computed descriptors (``y`` of a corpus featurized with
``targets="descriptors"``) from the backbone's pooled embedding, after the robust scaling stored in its
config (so it travels with the checkpoint and is never refitted). Missing / overflowing values have
``w == 0`` and never reach the loss; ``target_dropout`` additionally hides a random fraction of each
molecule's targets from the loss (Burns et al., 2025).

``Combined`` runs the backbone once per batch and sums weighted losses, e.g. attribute masking +
descriptors (``"attr_masking+descriptors"``) for the GNN, masked tokens + descriptors
(``"masked_tokens+descriptors"``) for a SMILES SeqCNN.
"""
from __future__ import annotations

from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch
from torch import nn

from deepchem_finetune.featurizers.descriptors import RobustScaler
from deepchem_finetune.heads import MLPHead


class DescriptorPrediction:
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
        if not 0 <= target_dropout < 1:
            raise ValueError(f"target_dropout must be in [0, 1), got {target_dropout}")
        self.scaler = RobustScaler.from_dict(scaler)
        if not self.scaler.kept:
            raise ValueError("the descriptor scaler keeps no descriptor: fit it on the corpus first")
        self.target_dropout = target_dropout
        self.config = {"scaler": self.scaler.to_dict(), "target_dropout": target_dropout}
        self._columns = self.scaler.columns()

    @property
    def n_targets(self) -> int:
        return len(self.scaler.kept)

    def build_head(self, backbone, hidden_dims=(), dropout: float = 0.0) -> nn.Module:
        hidden = tuple(hidden_dims) or (backbone.output_dim,)
        return MLPHead(backbone.output_dim, self.n_targets, hidden, dropout)

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

    def corrupt(self, batch, generator: torch.Generator, y=None, w=None):
        z, weights = self.targets(y, w, generator)
        return batch, [z], [weights]

    def forward(self, backbone, head, inputs) -> List[torch.Tensor]:
        return [head(backbone(inputs))]

    def forward_nodes(self, backbone, head, nodes, batch) -> List[torch.Tensor]:
        if isinstance(nodes, tuple):  # a sequence backbone's encode_tokens: (h, mask)
            return [head(backbone.readout(*nodes))]
        return [head(backbone.readout(nodes, batch))]

    def outputs(self, raw):
        return list(raw)

    def loss(self, outputs, labels, weights) -> torch.Tensor:
        pred, z, w = outputs[0], labels[0].to(outputs[0].device), weights[0].to(outputs[0].device)
        return (w * (pred - z) ** 2).sum() / w.sum().clamp(min=1)

    def predict_descriptors(self, scaled: np.ndarray) -> np.ndarray:
        """Undo the scaling: descriptor values (kept columns, in ``scaler.kept`` order)."""
        return np.asarray(scaled) * np.array(self.scaler.scale) + np.array(self.scaler.center)


class Combined:
    """Weighted sum of node-level and graph-level objectives sharing one backbone pass per batch.

    Parameters
    ----------
    parts: sequence of (objective, weight)
        e.g. ``[(AttributeMasking(...), 1.0), (DescriptorPrediction(...), 1.0)]``.
    """

    output_types: List[str] = []

    def __init__(self, parts: Sequence[Tuple[object, float]]):
        self.parts = list(parts)
        self.name = "+".join(p.name for p, _ in self.parts)
        self.config = {"parts": [{"name": p.name, "weight": wt, "config": p.config} for p, wt in self.parts]}
        self.output_types = ["prediction"] * sum(len(p.output_types) for p, _ in self.parts)
        self._sizes = [len(p.output_types) for p, _ in self.parts]

    def build_head(self, backbone, hidden_dims=(), dropout: float = 0.0) -> nn.Module:
        return nn.ModuleList(p.build_head(backbone, hidden_dims, dropout) for p, _ in self.parts)

    def corrupt(self, batch, generator, y=None, w=None):
        labels, weights = [], []
        for p, _ in self.parts:
            batch, lab, wts = p.corrupt(batch, generator, y=y, w=w)
            labels += lab
            weights += wts
        return batch, labels, weights

    def forward(self, backbone, head, batch):
        if hasattr(backbone, "encode_tokens"):  # SeqCNN: per-token states and mask, shared by the parts
            from deepchem_finetune.objectives.masked_tokens import token_tensor
            nodes = backbone.encode_tokens(token_tensor(batch))
        else:
            nodes = backbone.encode_nodes(batch)
        out = []
        for (p, _), h in zip(self.parts, head):
            out += p.forward_nodes(backbone, h, nodes, batch)
        return out

    def outputs(self, raw):
        return list(raw)

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
