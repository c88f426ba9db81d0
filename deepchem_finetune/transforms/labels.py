"""Label tensors of a supervised task: DeepChem's ``y`` / ``w`` checked and turned into float tensors."""
from __future__ import annotations

import numpy as np
import torch

from deepchem_finetune._compat import sanitize_labels


class LabelTensors:
    """``y`` and ``w`` of a batch as float32 tensors ``(batch, n_tasks)``; the network input passes unchanged.

    A NaN label becomes a missing one (``w = 0``, finite ``y``; see :func:`~deepchem_finetune._compat.sanitize_labels`).
    Wrong shapes and, for classification, labels that are not integer classes raise an error naming the batch row
    and task.

    Parameters
    ----------
    mode, n_tasks, n_classes:
        The task's layout, as in :class:`~deepchem_finetune.objectives.SupervisedObjective` (which makes this
        transform).

    Examples
    --------
    >>> _, (y,), (w,) = LabelTensors("classification", 1)(None, None, y=np.array([[1.], [np.nan]]))
    >>> y.tolist(), w.tolist()
    ([[1.0], [0.0]], [[1.0], [0.0]])
    """

    def __init__(self, mode: str, n_tasks: int, n_classes: int = 2):
        self.mode, self.n_tasks, self.n_classes = mode, n_tasks, n_classes

    def __call__(self, inputs, generator=None, y=None, w=None):
        if y is None:
            return inputs, [], []
        y = np.asarray(y)
        w = np.asarray(w) if w is not None else np.ones_like(y, dtype=np.float64)
        y = y.reshape(len(y), -1)
        w = w.reshape(len(w), -1)
        if y.shape[1] != self.n_tasks:
            raise ValueError(f"labels have {y.shape[1]} task(s) but the model was built with n_tasks={self.n_tasks}")
        y, w = sanitize_labels(y, w)
        if self.mode == "classification":
            bad = (w != 0) & ((y < 0) | (y >= self.n_classes) | (y != np.round(y)))
            if bad.any():
                r, c = np.argwhere(bad)[0]
                raise ValueError(f"classification label {float(y[r, c])!r} (batch row {r}, task {c}) is not an "
                                 f"integer class in [0, {self.n_classes}); did you mean mode='regression'?")
        return inputs, [torch.as_tensor(y, dtype=torch.float32)], [torch.as_tensor(w, dtype=torch.float32)]
