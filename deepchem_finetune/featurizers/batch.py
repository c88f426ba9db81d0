"""``featurize_smiles``: featurize a list of SMILES with any featurizer, naming every failure.

Our featurizers (:class:`MolGraphFeaturizer`, the sequence tokenizers) are called one molecule at a time so
that a failure carries its index; any other DeepChem featurizer goes through
:func:`_featurize_one_with_deepchem`, which turns DeepChem's empty-array failure marker into a
:class:`~deepchem_finetune.exceptions.FeaturizationError`.
"""
from __future__ import annotations

import logging
from typing import List, NamedTuple, Sequence, Tuple

import numpy as np
from rdkit import Chem

from deepchem_finetune._compat import find_failed_features, rdkit_errors_silenced
from deepchem_finetune.exceptions import FeaturizationError
from deepchem_finetune.featurizers.graph import MolGraphFeaturizer

logger = logging.getLogger(__name__)

__all__ = ["featurize_smiles", "FeaturizedBatch"]


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
    warn: bool, optional (default True)
        Log one warning with the number of skipped inputs and the first of them.

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
            if isinstance(featurizer, MolGraphFeaturizer) or hasattr(featurizer, "encode_one"):
                feats.append(featurizer.featurize_one(smi, index=i))  # tokenizers read the SMILES string itself
            else:
                feats.append(_featurize_one_with_deepchem(featurizer, smi, i))
            kept.append(i)
        except FeaturizationError as err:
            if not skip_invalid:
                raise
            errors.append((i, str(smi), str(err)))


def _featurize_one_with_deepchem(featurizer, smi, i):
    """Features of one SMILES from a DeepChem featurizer; its empty-array failure becomes a named error.

    Examples
    --------
    >>> import deepchem as dc
    >>> _featurize_one_with_deepchem(dc.feat.CircularFingerprint(size=8), "CCO", 0).shape
    (8,)
    >>> _featurize_one_with_deepchem(dc.feat.CircularFingerprint(size=8), "C1CC", 3)
    Traceback (most recent call last):
    ...
    deepchem_finetune.exceptions.FeaturizationError: SMILES at index 3 could not be parsed by RDKit: 'C1CC'
    """
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
