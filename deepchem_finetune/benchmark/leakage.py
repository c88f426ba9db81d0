"""Evaluation hygiene: refuse to score a dataset that the pretrained backbone already saw in supervised pretraining.

Checkpoint provenance lists the datasets of every stage (``datasets``, and ``parent`` for earlier stages).
Related sets count too: Tox21's assays are part of ToxCast.
"""
from __future__ import annotations

from typing import Dict, List, Set

#: pretraining set -> benchmark sets whose molecules or labels it contains
CONTAINS = {"toxcast": {"toxcast", "tox21"}, "tox21": {"tox21", "toxcast"}}


def pretraining_datasets(provenance: Dict) -> Set[str]:
    """All dataset names in a pretrained backbone's provenance chain (lower case)."""
    names: Set[str] = set()
    while provenance:
        names |= {str(n).lower() for n in provenance.get("datasets", [])}
        provenance = provenance.get("parent") or {}
    return names


def leaked(provenance: Dict, dataset: str) -> List[str]:
    """Pretraining datasets that overlap ``dataset`` (empty when the evaluation is clean).

    Examples
    --------
    >>> leaked({"datasets": ["zinc.smi"], "parent": {"datasets": ["toxcast"]}}, "tox21")
    ['toxcast']
    >>> leaked({"datasets": ["zinc.smi"]}, "bbbp")
    []
    """
    dataset = dataset.lower()
    return sorted(n for n in pretraining_datasets(provenance) if dataset in CONTAINS.get(n, {n}))
