"""Computed molecular descriptors as free pretraining labels (CheMeleon-style), and their robust scaler.

``compute_descriptors`` evaluates RDKit's 2D descriptor set (``rdkit.Chem.Descriptors._descList``, in that
order); values that fail, are non-finite or overflow (``|x| > 1e10``) become NaN and are later masked
through the weights. ``RobustScaler`` is fitted on a corpus: per descriptor median and IQR-based scale,
values clipped to ``[-clip, clip]``; descriptors valid on fewer than ``min_valid`` of the molecules, or
constant, are dropped and reported. Its plain-JSON state is stored in the pretrained folder.
"""
from __future__ import annotations

import logging
from typing import Dict, List, Optional, Sequence

import numpy as np
from rdkit.Chem import Descriptors
from rdkit.Chem.EState import EState

logger = logging.getLogger(__name__)

_FUNCTIONS = dict(Descriptors._descList)
OVERFLOW = 1e10
# RDKit's four EState summaries each recompute the EState indices (a pure-Python O(atoms^2) loop): compute them
# once per molecule and let the four read RDKit's own per-molecule cache (same function, same values).
_ESTATE = {"MaxEStateIndex", "MinEStateIndex", "MaxAbsEStateIndex", "MinAbsEStateIndex"}


def descriptor_names() -> List[str]:
    """Names of RDKit's 2D descriptors, in the order :func:`compute_descriptors` returns them."""
    return [name for name, _ in Descriptors._descList]


def compute_descriptors(mol, names: Optional[Sequence[str]] = None) -> np.ndarray:
    """Descriptor vector of an RDKit molecule (float64; NaN where a value fails or is not finite).

    Examples
    --------
    >>> from rdkit import Chem
    >>> v = compute_descriptors(Chem.MolFromSmiles("CCO"), ["MolWt", "NumHDonors"])
    >>> [round(float(x), 3) for x in v]
    [46.069, 1.0]
    """
    names = descriptor_names() if names is None else names
    out = np.full(len(names), np.nan)
    estate_fresh = False
    for k, name in enumerate(names):
        try:
            if name in _ESTATE:
                if not estate_fresh:  # once per call: a cache left on the molecule earlier is never read
                    EState.EStateIndices(mol, force=True)
                    estate_fresh = True
                value = float(_FUNCTIONS[name](mol, force=False))
            else:
                value = float(_FUNCTIONS[name](mol))
        except Exception:  # noqa: BLE001 - RDKit descriptors raise many types; the value is masked and counted
            continue
        if np.isfinite(value) and abs(value) <= OVERFLOW:
            out[k] = value
    return out


class RobustScaler:
    """Median / IQR scaling with clipping, fitted on a corpus and stored as plain JSON.

    Parameters
    ----------
    names: list of str
        Descriptor names, one per column of the data it is fitted on.
    clip: float, optional (default 6.0)
    min_valid: float, optional (default 0.5)
        A descriptor valid on a smaller fraction of molecules is dropped.

    Examples
    --------
    >>> y = np.array([[1.0, 5.0], [2.0, 5.0], [3.0, 5.0], [np.nan, 5.0]])
    >>> s = RobustScaler(["a", "const"]).fit(y)
    >>> s.kept, s.dropped
    (['a'], {'const': 'constant'})
    >>> s.transform(np.array([[2.0, 5.0]]))[0].tolist()
    [0.0]
    """

    def __init__(self, names: Sequence[str], clip: float = 6.0, min_valid: float = 0.5):
        self.names, self.clip, self.min_valid = list(names), float(clip), float(min_valid)
        self.kept: List[str] = []
        self.center: List[float] = []
        self.scale: List[float] = []
        self.dropped: Dict[str, str] = {}
        self.invalid_counts: Dict[str, int] = {}

    def fit(self, y: np.ndarray, w: Optional[np.ndarray] = None) -> "RobustScaler":
        y = np.asarray(y, dtype=np.float64)
        valid = np.isfinite(y) if w is None else (np.asarray(w) != 0) & np.isfinite(y)
        self.kept, self.center, self.scale, self.dropped = [], [], [], {}
        self.invalid_counts = {n: int((~valid[:, k]).sum()) for k, n in enumerate(self.names)}
        for k, name in enumerate(self.names):
            col = y[valid[:, k], k]
            if len(col) < self.min_valid * len(y):
                self.dropped[name] = f"valid on {len(col)} of {len(y)} molecules"
                continue
            q1, med, q3 = np.percentile(col, [25, 50, 75])
            scale = (q3 - q1) / 1.349 or float(np.std(col))
            if not scale > 0:
                self.dropped[name] = "constant"
                continue
            self.kept.append(name)
            self.center.append(float(med))
            self.scale.append(float(scale))
        if self.dropped:
            logger.warning("descriptor scaler: dropped %d of %d descriptors (%s)", len(self.dropped), len(self.names),
                           ", ".join(f"{k}: {v}" for k, v in list(self.dropped.items())[:5]))
        return self

    def columns(self) -> np.ndarray:
        """Indices (into ``names``) of the kept descriptors."""
        pos = {n: i for i, n in enumerate(self.names)}
        return np.array([pos[n] for n in self.kept], dtype=np.int64)

    def transform(self, y: np.ndarray) -> np.ndarray:
        """Scaled, clipped kept columns of ``y``; NaN stays NaN."""
        z = (np.asarray(y, dtype=np.float64)[:, self.columns()] - np.array(self.center)) / np.array(self.scale)
        return np.clip(z, -self.clip, self.clip)

    def to_dict(self) -> dict:
        return {"names": self.names, "clip": self.clip, "min_valid": self.min_valid, "kept": self.kept,
                "center": self.center, "scale": self.scale, "dropped": self.dropped,
                "invalid_counts": self.invalid_counts}

    @classmethod
    def from_dict(cls, d: dict) -> "RobustScaler":
        s = cls(d["names"], d["clip"], d["min_valid"])
        s.kept, s.center, s.scale = list(d["kept"]), list(d["center"]), list(d["scale"])
        s.dropped, s.invalid_counts = dict(d.get("dropped", {})), dict(d.get("invalid_counts", {}))
        return s
