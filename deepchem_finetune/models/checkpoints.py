"""Training-checkpoint files in DeepChem's layout: ``checkpoint1.pt`` (newest) ... ``checkpoint<k>.pt``.

These are *training checkpoints* (weights, optimizer state, step, run counters) for ``restore`` / resuming,
written with ``torch.save`` and read only with ``torch.load(weights_only=True)``; pretrained artifacts are
something else (:mod:`deepchem_finetune.hub`).
"""
from __future__ import annotations

import os
import re
from typing import Iterable, Optional

import torch

from deepchem_finetune import hub


def write_rotated(data: dict, model_dir: str, keep: int) -> str:
    """Save ``data`` as ``model_dir/checkpoint1.pt``, shifting older files up by one and dropping the
    ``keep``-th; the new file is written under a temporary name first, so a crash never leaves a partial
    ``checkpoint1.pt``. Returns its path."""
    os.makedirs(model_dir, exist_ok=True)
    tmp = os.path.join(model_dir, "temp_checkpoint.pt")
    torch.save(data, tmp)
    paths = [os.path.join(model_dir, f"checkpoint{i + 1}.pt") for i in range(keep)]
    if os.path.exists(paths[-1]):
        os.remove(paths[-1])
    for i in reversed(range(keep - 1)):
        if os.path.exists(paths[i]):
            os.rename(paths[i], paths[i + 1])
    os.replace(tmp, paths[0])
    return paths[0]


def newest(paths: Iterable[str], model_dir: Optional[str]) -> str:
    """The newest (lowest-numbered) ``checkpoint<N>.pt`` among ``paths``; other names are ignored.

    Examples
    --------
    >>> newest(["run/checkpoint2.pt", "run/checkpoint1.pt", "run/checkpoint_best.pt"], "run")
    'run/checkpoint1.pt'
    """
    numbered = {}
    for path in paths:
        match = re.fullmatch(r"checkpoint(\d+)\.pt", os.path.basename(path))
        if match:
            numbered[int(match.group(1))] = path
    if not numbered:
        raise ValueError(f"no checkpoint<N>.pt in {model_dir}")
    return numbered[min(numbered)]


def read(path: str) -> dict:
    """A training checkpoint's content, read with ``torch.load(weights_only=True)``."""
    return hub.safe_torch_load(path)
