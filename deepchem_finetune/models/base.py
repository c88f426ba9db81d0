"""``BackboneModel``: the DeepChem ``TorchModel`` that every model of this package is.

A network is ``objective.outputs(head(backbone(inputs)))``. This class adds what transfer learning
needs on top of DeepChem's ``fit / predict / evaluate / save_checkpoint / restore``:

* batches are built by the subclass's ``_collate`` (e.g. GraphData -> torch-geometric ``Batch``);
* labels pass through :func:`~deepchem_finetune._compat.sanitize_labels`, so a NaN never reaches the loss;
* a ``seed`` makes initialisation, shuffling and dropout reproducible without touching numpy's global RNG;
* unknown keyword arguments raise instead of being swallowed.
"""
from __future__ import annotations

import inspect
import warnings
from typing import Optional, Sequence

import numpy as np
import torch
from torch import nn

from deepchem_finetune._compat import GRAD_SCALAR_WARNING, import_deepchem_quietly, sanitize_labels
from deepchem_finetune.data.batching import iterate_batches
from deepchem_finetune.heads import MLPHead
from deepchem_finetune.objectives import SupervisedObjective

dc = import_deepchem_quietly()

_TORCHMODEL_KWARGS = set(inspect.signature(dc.models.TorchModel.__init__).parameters) - {
    "self", "model", "loss", "output_types", "kwargs", "batch_size", "learning_rate"}


class TaskNetwork(nn.Module):
    """``backbone -> head -> objective outputs``; the ``nn.Module`` a :class:`BackboneModel` trains."""

    def __init__(self, backbone: nn.Module, head: nn.Module, objective):
        super().__init__()
        self.backbone = backbone
        self.head = head
        self.objective = objective

    def forward(self, inputs):
        return self.objective.outputs(self.head(self.backbone(inputs)))


class BackboneModel(dc.models.TorchModel):
    """Base class of the package's DeepChem models (a backbone, a task head, an objective).

    Subclasses build the backbone and define ``_collate(X) -> model input``.
    """

    def __init__(self, backbone: nn.Module, featurizer_spec: dict, n_tasks: int, mode: str = "classification",
                 n_classes: int = 2, head_hidden: Sequence[int] = (), head_dropout: float = 0.0,
                 seed: Optional[int] = None, batch_size: int = 32, learning_rate: float = 1e-3, **kwargs):
        unknown = set(kwargs) - _TORCHMODEL_KWARGS
        if unknown:
            raise TypeError(f"{type(self).__name__} got unexpected keyword argument(s) {sorted(unknown)}; "
                            f"TorchModel accepts {sorted(_TORCHMODEL_KWARGS)}")
        self.n_tasks, self.mode, self.n_classes = n_tasks, mode, n_classes
        self.seed = seed
        self.featurizer_spec = featurizer_spec
        objective = SupervisedObjective(mode, n_tasks, n_classes)
        with torch.random.fork_rng(devices=[]):
            if seed is not None:
                torch.manual_seed(seed)
            head = MLPHead(backbone.output_dim, objective.output_dim, head_hidden, head_dropout)
        self.head_config = {"hidden_dims": list(head_hidden), "dropout": head_dropout}
        network = TaskNetwork(backbone, head, objective)
        super().__init__(network, loss=objective.loss, output_types=objective.output_types,
                         batch_size=batch_size, learning_rate=learning_rate, **kwargs)
        self._epochs_started = 0

    # ------------------------------------------------------------------------------ access
    @property
    def backbone(self) -> nn.Module:
        """The backbone ``nn.Module`` (shared with the trained network)."""
        return self.model.backbone

    @property
    def head(self) -> nn.Module:
        return self.model.head

    def get_featurizer(self):
        """A new instance of the featurizer this model's inputs must be made with."""
        from deepchem_finetune.featurizers import featurizer_from_spec
        return featurizer_from_spec(self.featurizer_spec)

    def fit_generator(self, generator, *args, **kwargs):
        """DeepChem's ``fit_generator``, without its per-log-interval torch warning (see ``_compat``)."""
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=GRAD_SCALAR_WARNING)
            return super().fit_generator(generator, *args, **kwargs)

    # --------------------------------------------------------------------------- batches
    def _collate(self, X: np.ndarray):
        raise NotImplementedError

    def default_generator(self, dataset, epochs: int = 1, mode: str = "fit", deterministic: bool = True,
                          pad_batches: bool = True):
        """Yield ``([X], [y], [w])`` batches; never pads (graph batches need no fixed size)."""
        for _ in range(epochs):
            rng = None
            if mode == "fit" and self.seed is not None:
                rng = np.random.default_rng([self.seed, self._epochs_started])
                torch.manual_seed(int(rng.integers(2**31)))  # dropout masks of this epoch
            if mode == "fit":
                self._epochs_started += 1
            for X_b, y_b, w_b in iterate_batches(dataset, self.batch_size, shuffle=not deterministic, rng=rng):
                yield [X_b], [y_b], [w_b]

    def _prepare_batch(self, batch):
        inputs, labels, weights = batch
        X = inputs[0] if isinstance(inputs, (list, tuple)) else inputs
        model_input = self._collate(X)
        label_tensors, weight_tensors = [], []
        if labels is not None and len(labels) and labels[0] is not None:
            y = np.asarray(labels[0])
            w = np.asarray(weights[0]) if weights is not None and len(weights) and weights[0] is not None \
                else np.ones_like(y, dtype=np.float64)
            y = y.reshape(len(y), -1)
            w = w.reshape(len(w), -1)
            if y.shape[1] != self.n_tasks:
                raise ValueError(f"labels have {y.shape[1]} task(s) but the model was built with "
                                 f"n_tasks={self.n_tasks}")
            y, w = sanitize_labels(y, w)
            if self.mode == "classification":
                bad = (w != 0) & ((y < 0) | (y >= self.n_classes) | (y != np.round(y)))
                if bad.any():
                    r, c = np.argwhere(bad)[0]
                    raise ValueError(f"classification label {y[r, c]!r} (batch row {r}, task {c}) is not an "
                                     f"integer class in [0, {self.n_classes}); did you mean mode='regression'?")
            label_tensors = [torch.as_tensor(y, dtype=torch.float32, device=self.device)]
            weight_tensors = [torch.as_tensor(w, dtype=torch.float32, device=self.device)]
        return [model_input], label_tensors, weight_tensors
