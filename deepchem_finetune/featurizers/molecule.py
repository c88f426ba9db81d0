"""Molecule-level feature vectors (fingerprints, RDKit 2D descriptors), computed once per list of SMILES and cached.

Kinds:

===========  ===========================================================================================
``ecfp4``    Morgan fingerprint, radius 2, 2048 bits (binary), as DeepChem's ``CircularFingerprint``
``rdkit2d``  RDKit's 2D descriptors (:func:`~deepchem_finetune.featurizers.descriptors.descriptor_names`,
             the set the descriptor pretraining objective predicts); NaN where a value fails or is not finite
===========  ===========================================================================================

The cache (``<cache root>/features/<key>.npy``) is keyed by the SMILES list, the kind and its spec (bits, radius,
descriptor names) plus the package and RDKit versions (:func:`deepchem_finetune.storage.cache_key`), and written
atomically, so processes sharing it never read a partial file.
"""
from __future__ import annotations

import hashlib
import os
from typing import Dict, List, Optional, Sequence

import numpy as np
from rdkit import Chem
from rdkit.Chem import rdFingerprintGenerator

from deepchem_finetune import storage
from deepchem_finetune._compat import rdkit_errors_silenced
from deepchem_finetune.exceptions import FeaturizationError
from deepchem_finetune.featurizers.descriptors import compute_descriptors, descriptor_names

__all__ = ["FEATURE_KINDS", "feature_spec", "feature_names", "check_kinds", "molecule_features", "molecule_vector"]

FEATURE_KINDS = ("ecfp4", "rdkit2d")
ECFP_BITS, ECFP_RADIUS = 2048, 2


def feature_spec(kind: str) -> Dict:
    """What a kind's columns are (stored with models that use them; part of the cache key).

    Examples
    --------
    >>> feature_spec("ecfp4")
    {'kind': 'ecfp4', 'bits': 2048, 'radius': 2}
    """
    if kind == "ecfp4":
        return {"kind": kind, "bits": ECFP_BITS, "radius": ECFP_RADIUS}
    if kind == "rdkit2d":
        return {"kind": kind, "names": descriptor_names()}
    raise ValueError(f"unknown molecule feature kind {kind!r}; choose from {list(FEATURE_KINDS)}")


def check_kinds(kinds: Sequence[str]) -> tuple:
    """``kinds`` as a tuple, each a known kind named once (a featurizer's ``extra_features``); ValueError otherwise.

    Examples
    --------
    >>> check_kinds(["ecfp4", "rdkit2d"])
    ('ecfp4', 'rdkit2d')
    """
    kinds = tuple(kinds)
    for kind in kinds:
        feature_spec(kind)  # unknown kinds fail here, naming the choices
    if len(set(kinds)) != len(kinds):
        raise ValueError(f"extra_features lists a kind twice: {list(kinds)}")
    return kinds


def feature_names(kinds: Sequence[str]) -> List[str]:
    """Column names of :func:`molecule_features` for ``kinds`` (``ecfp4:0`` ... , descriptor names)."""
    names: List[str] = []
    for kind in kinds:
        spec = feature_spec(kind)
        names += [f"ecfp4:{i}" for i in range(spec["bits"])] if kind == "ecfp4" else list(spec["names"])
    return names


_GENERATOR = []  # the Morgan generator, made once per process (not picklable, so not kept on featurizers)


def molecule_vector(mol, kinds: Sequence[str]) -> np.ndarray:
    """The features of one RDKit molecule: the kinds side by side, float32, NaN where a descriptor fails."""
    if not _GENERATOR:
        _GENERATOR.append(rdFingerprintGenerator.GetMorganGenerator(radius=ECFP_RADIUS, fpSize=ECFP_BITS))
    return np.concatenate([_one(mol, kind, _GENERATOR[0]) for kind in kinds]).astype(np.float32)


def _one(mol, kind: str, generator) -> np.ndarray:
    if kind == "ecfp4":
        return generator.GetFingerprintAsNumPy(mol).astype(np.float32)
    return compute_descriptors(mol).astype(np.float32)


def _compute(smiles: Sequence[str], kind: str) -> np.ndarray:
    generator = rdFingerprintGenerator.GetMorganGenerator(radius=ECFP_RADIUS, fpSize=ECFP_BITS)
    rows = []
    with rdkit_errors_silenced():
        for i, smi in enumerate(smiles):
            mol = Chem.MolFromSmiles(smi) if isinstance(smi, str) else None
            if mol is None:
                raise FeaturizationError(f"SMILES at index {i} could not be parsed by RDKit: {smi!r}", i, smi)
            rows.append(_one(mol, kind, generator))
    return np.stack(rows) if rows else np.zeros((0, len(feature_names([kind]))), np.float32)


def molecule_features(smiles: Sequence[str], kinds: Sequence[str] = ("ecfp4",),
                      cache_dir: Optional[str] = None) -> np.ndarray:
    """``(n, d)`` float32 features of ``smiles``: the kinds side by side, in :func:`feature_names` order.

    Parameters
    ----------
    smiles: sequence of str
    kinds: sequence of str
        Some of :data:`FEATURE_KINDS`.
    cache_dir: str, optional
        Cache root (default ``features/`` beside the MoleculeNet cache, ``$DEEPCHEM_FINETUNE_CACHE``); ``""``
        disables the cache.

    Raises
    ------
    FeaturizationError
        A SMILES RDKit cannot parse (its index is named).

    Examples
    --------
    >>> X = molecule_features(["CCO", "c1ccccc1"], ["ecfp4", "rdkit2d"], cache_dir="")
    >>> X.shape[0], X.shape[1] == len(feature_names(["ecfp4", "rdkit2d"]))
    (2, True)
    """
    smiles = [str(s) for s in smiles]
    digest = hashlib.sha256("\n".join(smiles).encode()).hexdigest()
    blocks = []
    for kind in kinds:
        spec = feature_spec(kind)
        if cache_dir == "":
            blocks.append(_compute(smiles, kind))
            continue
        root = cache_dir if cache_dir is not None else _default_root()
        path = os.path.join(root, f"{kind}-{storage.cache_key(smiles_sha256=digest, spec=spec)[:24]}.npy")
        with storage.lock(path):
            if os.path.isfile(path):
                blocks.append(np.load(path))
                continue
            block = _compute(smiles, kind)
            with storage.atomic_file(path, "wb") as fh:
                np.save(fh, block)
            blocks.append(block)
    return np.concatenate(blocks, axis=1) if blocks else np.zeros((len(smiles), 0), np.float32)


def _default_root() -> str:
    return storage.cache_dir("features")
