"""Featurizers and their specifications.

A featurizer's *spec* is ``{"name": ..., "config": {...}}``: plain JSON stored in pretrained folders and fine-tuned models, from which
:func:`featurizer_from_spec` rebuilds the identical featurizer (molfeat's idea).
"""
from __future__ import annotations

import logging
from typing import List, NamedTuple, Sequence, Tuple

import numpy as np
from rdkit import Chem

from deepchem_finetune._compat import find_failed_features, import_deepchem_quietly, rdkit_errors_silenced
from deepchem_finetune.exceptions import FeaturizationError, SpecMismatchError
from deepchem_finetune.featurizers.graph import MolGraphFeaturizer
from deepchem_finetune.featurizers.sequence import (SEQUENCE_TOKENIZERS, NucleotideTokenizer, ProteinTokenizer,
                                                    SmilesTokenizer)
from deepchem_finetune.featurizers.vocabulary import Vocabulary

dc = import_deepchem_quietly()
logger = logging.getLogger(__name__)

__all__ = ["MolGraphFeaturizer", "SmilesTokenizer", "ProteinTokenizer", "NucleotideTokenizer", "Vocabulary",
           "featurize_smiles", "FeaturizedBatch", "featurizer_spec",
           "featurizer_from_spec", "check_featurizer", "input_encoding"]


class FeaturizedBatch(NamedTuple):
    """Result of :func:`featurize_smiles`.

    Attributes
    ----------
    features: np.ndarray
        Object array of ``GraphData`` (or whatever the featurizer returns), one per kept input.
    indices: np.ndarray
        Positions in the input of the kept rows (``features[k]`` comes from ``inputs[indices[k]]``).
    errors: list of (int, str, str)
        ``(index, input, reason)`` of every skipped row.
    """
    features: np.ndarray
    indices: np.ndarray
    errors: List[Tuple[int, str, str]]


def featurize_smiles(smiles: Sequence[str], featurizer=None, skip_invalid: bool = False,
                     warn: bool = True) -> FeaturizedBatch:
    """Featurize SMILES with any featurizer, naming every failure; nothing is dropped silently.

    Parameters
    ----------
    smiles: sequence of str
        Input molecules.
    featurizer: dc.feat.Featurizer, optional
        Defaults to ``MolGraphFeaturizer("hu2020")``. DeepChem featurizers work too; their empty-array
        failures are detected and named.
    skip_invalid: bool, optional (default False)
        If False, the first invalid input raises :class:`FeaturizationError`. If True, invalid inputs are
        skipped, logged with their count, and reported in ``errors``.

    Returns
    -------
    FeaturizedBatch

    Raises
    ------
    FeaturizationError
        For an invalid input when ``skip_invalid`` is False, or when ``smiles`` is empty.

    Examples
    --------
    >>> out = featurize_smiles(["CCO", "C1CC", "c1ccccc1"], skip_invalid=True)
    >>> out.indices.tolist(), out.errors[0][:2]
    ([0, 2], (1, 'C1CC'))
    """
    if isinstance(smiles, str):
        smiles = [smiles]
    smiles = list(smiles)
    if len(smiles) == 0:
        raise FeaturizationError("no molecules given: the SMILES list is empty")
    featurizer = featurizer if featurizer is not None else MolGraphFeaturizer()
    feats, kept, errors = [], [], []
    with rdkit_errors_silenced():
        _featurize_all(smiles, featurizer, skip_invalid, feats, kept, errors)
    if errors and warn:
        logger.warning("skipped %d of %d molecules that could not be featurized (first: index %d, %r)",
                       len(errors), len(smiles), errors[0][0], errors[0][1])
    out = np.empty(len(feats), dtype=object)
    out[:] = feats
    return FeaturizedBatch(out, np.asarray(kept, dtype=np.int64), errors)


def _featurize_all(smiles, featurizer, skip_invalid, feats, kept, errors):
    for i, smi in enumerate(smiles):
        try:
            if isinstance(featurizer, MolGraphFeaturizer):
                feats.append(featurizer.featurize_one(smi, index=i))
            elif hasattr(featurizer, "encode_one"):  # sequence tokenizers read the SMILES string itself
                feats.append(featurizer.pad(featurizer.encode_one(smi, index=i)))
            else:
                feats.append(_featurize_one_with_deepchem(featurizer, smi, i))
            kept.append(i)
        except FeaturizationError as err:
            if not skip_invalid:
                raise
            errors.append((i, str(smi), str(err)))


def _featurize_one_with_deepchem(featurizer, smi, i):
    if not isinstance(smi, str):
        raise FeaturizationError(f"input at index {i} is a {type(smi).__name__}, expected a SMILES string",
                                 i, smi)
    mol = Chem.MolFromSmiles(smi)
    if mol is None:
        raise FeaturizationError(f"SMILES at index {i} could not be parsed by RDKit: {smi!r}", i, smi)
    dc_logger = logging.getLogger("deepchem.feat.base_classes")
    level = dc_logger.level
    dc_logger.setLevel(logging.ERROR)  # we report the failure ourselves, with its index
    try:
        res = featurizer.featurize([mol])
    finally:
        dc_logger.setLevel(level)
    if len(res) != 1 or find_failed_features(res):
        raise FeaturizationError(
            f"molecule at index {i} ({smi!r}) could not be featurized by {type(featurizer).__name__}", i, smi)
    return res[0]


# --------------------------------------------------------------------------------------- specs
def featurizer_spec(featurizer) -> dict:
    """Return the JSON spec of a supported featurizer.

    Supported: :class:`MolGraphFeaturizer`, the sequence tokenizers (:class:`SmilesTokenizer`,
    :class:`ProteinTokenizer`, :class:`NucleotideTokenizer`) and ``dc.feat.MolGraphConvFeaturizer``.

    Examples
    --------
    >>> featurizer_spec(MolGraphFeaturizer("hu2020"))["name"]
    'MolGraphFeaturizer'
    """
    if hasattr(featurizer, "get_spec"):
        return featurizer.get_spec()
    if isinstance(featurizer, dc.feat.MolGraphConvFeaturizer):
        return {"name": "MolGraphConvFeaturizer",
                "config": {"use_edges": bool(featurizer.use_edges),
                           "use_chirality": bool(featurizer.use_chirality),
                           "use_partial_charge": bool(featurizer.use_partial_charge)}}
    raise TypeError(f"featurizer {type(featurizer).__name__} has no spec; use MolGraphFeaturizer, "
                    "dc.feat.MolGraphConvFeaturizer or a sequence tokenizer (SmilesTokenizer, ProteinTokenizer, "
                    "NucleotideTokenizer)")


def featurizer_from_spec(spec: dict):
    """Rebuild a featurizer from :func:`featurizer_spec` output.

    Examples
    --------
    >>> f = featurizer_from_spec({"name": "MolGraphFeaturizer", "config": {"preset": "rich"}})
    >>> f.atom_features[:2]
    ('atomic_num', 'chirality')
    """
    name, config = spec.get("name"), dict(spec.get("config", {}))
    if name == "MolGraphFeaturizer":
        return MolGraphFeaturizer(**config)
    if name == "MolGraphConvFeaturizer":
        return dc.feat.MolGraphConvFeaturizer(**config)
    if name in SEQUENCE_TOKENIZERS:
        return SEQUENCE_TOKENIZERS[name].from_config(config)
    raise ValueError(f"unknown featurizer spec name {name!r}; known: "
                     f"{['MolGraphFeaturizer', 'MolGraphConvFeaturizer', *SEQUENCE_TOKENIZERS]}")


def check_featurizer(expected_spec: dict, featurizer) -> None:
    """Raise :class:`SpecMismatchError` showing both specs if ``featurizer`` differs from ``expected_spec``."""
    got = featurizer_spec(featurizer)
    if _normalise(got) != _normalise(expected_spec):
        raise SpecMismatchError(
            "featurizer does not match the one the model was built for:\n"
            f"  model expects: {expected_spec}\n  you passed:    {got}\n"
            "Use model.get_featurizer() to featurize new data.")


def _normalise(spec):
    f = featurizer_from_spec(spec)
    return featurizer_spec(f)


def input_encoding(featurizer) -> dict:
    """How the GNN must encode this featurizer's output: categorical tables or dense linear maps.

    Examples
    --------
    >>> input_encoding(dc.feat.MolGraphConvFeaturizer(use_edges=True))["atom_dim"]
    30
    """
    if hasattr(featurizer, "input_encoding"):
        return featurizer.input_encoding()
    if isinstance(featurizer, dc.feat.MolGraphConvFeaturizer):
        if not featurizer.use_edges:
            raise ValueError("MolGNN needs bond features: use dc.feat.MolGraphConvFeaturizer(use_edges=True)")
        g = featurizer.featurize([Chem.MolFromSmiles("CC")])[0]
        return {"kind": "dense", "atom_dim": int(g.node_features.shape[1]),
                "bond_dim": int(g.edge_features.shape[1])}
    raise TypeError(f"featurizer {type(featurizer).__name__} is not supported by MolGNN")
