"""Task heads: an MLP on a backbone's ``output_dim``. Heads are task-specific and never stored in
pretrained files."""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn


class MLPHead(nn.Module):
    """``Linear -> ReLU -> Dropout`` blocks ending in a ``Linear`` to ``out_dim``.

    Parameters
    ----------
    in_dim: int
        Backbone output width.
    out_dim: int
        Number of outputs (``n_tasks`` or ``n_tasks * n_classes``).
    hidden_dims: sequence of int, optional (default ())
        Hidden widths; empty gives a single linear layer (Hu et al., 2020).
    dropout: float, optional (default 0.0)

    Examples
    --------
    >>> import torch
    >>> MLPHead(8, 3, hidden_dims=[16])(torch.zeros(2, 8)).shape
    torch.Size([2, 3])
    """

    def __init__(self, in_dim: int, out_dim: int, hidden_dims: Sequence[int] = (), dropout: float = 0.0):
        super().__init__()
        layers = []
        d = in_dim
        for h in hidden_dims:
            layers += [nn.Linear(d, h), nn.ReLU(), nn.Dropout(dropout)]
            d = h
        layers.append(nn.Linear(d, out_dim))
        self.net = nn.Sequential(*layers)
        self.in_dim, self.out_dim = in_dim, out_dim

    def forward(self, x):
        return self.net(x)


#: the task head's hidden widths when molecule-level features sit beside the graph embedding (a model's default when its
#: featurizer has ``extra_features``): a hidden layer lets descriptors and bits interact, as in chemprop's FFN and the
#: features-only MLP; against a linear read-out it measured -4.9% RMSE on average (CI spanning 0) and level ROC-AUC
#: (benchmarks/RESULTS.md, "Molecule features beside the graph")
FEATURES_HEAD_HIDDEN = (300,)


class FeatureScaler(nn.Module):
    """Scales molecule-level features (fingerprints, descriptors) for a task head; fitted on the training data only.

    Per column: ``(x - median) / spread``, where the spread is the inter-quartile range / 1.349 (robust to the
    heavy tails of RDKit descriptors), or the standard deviation where the IQR is 0, or 1; then clipped to
    ``[-clip, clip]``. A binary column (every finite training value 0 or 1: a fingerprint bit, or a count that is 0/1
    on the training data) passes through as it is, as chemprop passes Morgan bits: dividing a rare bit by its small
    standard deviation would turn every set bit into a large value (the clip) and the fingerprint into a molecule
    identifier that a head memorises. Non-finite values (a descriptor RDKit could not compute) become 0 after scaling
    (the column's median), so a NaN never reaches the head or the loss; :meth:`fit` counts them per column in the
    ``nonfinite`` buffer. The statistics are buffers: they are saved in the model's state (training checkpoints,
    ensemble members) and restored exactly.

    Parameters
    ----------
    dim: int
    clip: float, optional (default 6.0)

    Examples
    --------
    >>> import numpy as np
    >>> s = FeatureScaler(3).fit(np.array([[0., 1., 0.], [1., np.nan, 0.], [2., 3., 0.], [3., 5., 1.]]))
    >>> s(torch.tensor([[1.5, float("nan"), 1.]])).tolist(), s.nonfinite.tolist()
    ([[0.0, 0.0, 1.0]], [0, 1, 0])
    """

    def __init__(self, dim: int, clip: float = 6.0):
        super().__init__()
        self.dim, self.clip = int(dim), float(clip)
        self.register_buffer("center", torch.zeros(dim))
        self.register_buffer("scale", torch.ones(dim))
        self.register_buffer("nonfinite", torch.zeros(dim, dtype=torch.long))
        self.register_buffer("fitted", torch.zeros((), dtype=torch.bool))

    def fit(self, X) -> "FeatureScaler":
        """Fit on ``(n, dim)`` training features (numpy or tensor; NaN/inf allowed and counted)."""
        import numpy as np
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.dim:
            raise ValueError(f"feature scaler of width {self.dim} got features of shape {X.shape}")
        finite = np.isfinite(X)
        Xn = np.where(finite, X, np.nan)
        with np.errstate(all="ignore"):
            import warnings
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
                center = np.nan_to_num(np.nanmedian(Xn, axis=0))
                q75, q25 = np.nanpercentile(Xn, 75, axis=0), np.nanpercentile(Xn, 25, axis=0)
                spread = np.nan_to_num((q75 - q25) / 1.349)
                std = np.nan_to_num(np.nanstd(Xn, axis=0))
        scale = np.where(spread > 1e-12, spread, np.where(std > 1e-12, std, 1.0))
        binary = np.all(~finite | (X == 0) | (X == 1), axis=0)
        center, scale = np.where(binary, 0.0, center), np.where(binary, 1.0, scale)
        self.center.copy_(torch.as_tensor(center, dtype=torch.float32))
        self.scale.copy_(torch.as_tensor(scale, dtype=torch.float32))
        self.nonfinite.copy_(torch.as_tensor((~finite).sum(0), dtype=torch.long))
        self.fitted.fill_(True)
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not bool(self.fitted):
            raise RuntimeError("the molecule-feature scaler is not fitted: fit the model on its training data first "
                               "(model.fit fits it on the first dataset it sees)")
        z = (x - self.center) / self.scale
        return torch.nan_to_num(z, nan=0.0, posinf=0.0, neginf=0.0).clamp(-self.clip, self.clip)


class FeatureHead(nn.Module):
    """A task head on the graph embedding concatenated with scaled molecule-level features (chemprop's extra
    features): ``MLPHead(in_dim + extra_dim -> out_dim)`` after a :class:`FeatureScaler`.

    Examples
    --------
    >>> import numpy as np
    >>> head = FeatureHead(8, 3, 2)
    >>> _ = head.scaler.fit(np.random.RandomState(0).rand(10, 3))
    >>> head(torch.zeros(4, 8), torch.zeros(4, 3)).shape
    torch.Size([4, 2])
    """

    def __init__(self, in_dim: int, extra_dim: int, out_dim: int, hidden_dims: Sequence[int] = (),
                 dropout: float = 0.0):
        super().__init__()
        self.scaler = FeatureScaler(extra_dim)
        self.mlp = MLPHead(in_dim + extra_dim, out_dim, hidden_dims, dropout)
        self.in_dim, self.extra_dim, self.out_dim = in_dim, extra_dim, out_dim

    def forward(self, pooled: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
        return self.mlp(torch.cat([pooled, self.scaler(features.to(pooled.dtype))], dim=1))
