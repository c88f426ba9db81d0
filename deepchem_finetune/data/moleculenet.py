"""``load_moleculenet``: DeepChem's own ``dc.molnet`` loaders, offline-friendly and loud about failures.

This is glue, not a parallel data stack: it calls ``dc.molnet.load_<name>`` with

* ``data_dir`` defaulting to ``$DEEPCHEM_DATA_DIR`` (where the CSVs are; with internet and no file
  present, DeepChem downloads as usual);
* ``save_dir`` defaulting to a writable cache (``$DEEPCHEM_FINETUNE_CACHE`` or
  ``~/.cache/deepchem_finetune/molnet``), so a read-only data directory works; DeepChem's cache goes into a
  subfolder named by :func:`~deepchem_finetune.storage.cache_key` of the featurizer (its spec, the package
  and RDKit versions), and the loader runs under a cross-process lock of that dataset and featurizer, so two
  processes loading the same set at once do not overwrite (DeepChem deletes the folder it saves into) or read
  each other's half-written cache: the second waits, then reads the first one's;
* the featurizer wrapped so that every molecule that fails is reported (count and first rows) instead of
  being dropped with per-row log lines.
"""
from __future__ import annotations

import logging
import os
from typing import Optional, Tuple

import numpy as np

from deepchem_finetune import storage
from deepchem_finetune._compat import import_deepchem_quietly
from deepchem_finetune.exceptions import FeaturizationError
from deepchem_finetune.featurizers import featurize_smiles, featurizer_spec

dc = import_deepchem_quietly()
logger = logging.getLogger(__name__)

CLASSIFICATION = ("bbbp", "bace_classification", "clintox", "tox21", "toxcast", "hiv", "muv", "sider", "pcba")
REGRESSION = ("delaney", "freesolv", "lipo", "bace_regression", "sampl")
ALIASES = {"esol": "delaney", "lipophilicity": "lipo", "bace": "bace_classification",
           "bace_c": "bace_classification", "bace_r": "bace_regression"}


def dataset_mode(name: str) -> str:
    """'classification' or 'regression' for a MoleculeNet dataset name (aliases accepted).

    Examples
    --------
    >>> dataset_mode("ESOL"), dataset_mode("bbbp")
    ('regression', 'classification')
    """
    key = _canonical(name)
    return "classification" if key in CLASSIFICATION else "regression"


def _canonical(name: str) -> str:
    key = name.lower().replace("-", "_")
    key = ALIASES.get(key, key)
    if key not in CLASSIFICATION + REGRESSION:
        raise ValueError(f"unknown MoleculeNet dataset {name!r}; known: "
                         f"{sorted(CLASSIFICATION + REGRESSION + tuple(ALIASES))}")
    return key


class _ReportingFeaturizer(dc.feat.Featurizer):
    """Delegates to a featurizer, returns DeepChem's empty-array marker for failures, and records them.

    ``str()`` is the wrapped featurizer's, so DeepChem's on-disk cache is shared with the plain featurizer.
    """

    def __init__(self, featurizer):
        self.featurizer = featurizer
        self.errors = []
        self._seen = 0

    def featurize(self, datapoints, log_every_n=1000, **kwargs):
        datapoints = list(datapoints)
        out = np.empty(len(datapoints), dtype=object)
        for k in range(len(datapoints)):
            out[k] = np.array([])
        if datapoints:
            res = featurize_smiles(datapoints, self.featurizer, skip_invalid=True, warn=False)
            for k, i in enumerate(res.indices):
                out[i] = res.features[k]
            self.errors += [(self._seen + i, smi, why) for i, smi, why in res.errors]
        self._seen += len(datapoints)
        return out

    def __str__(self):
        return str(self.featurizer)

    __repr__ = __str__


def default_cache_dir() -> str:
    """Writable directory for featurized MoleculeNet datasets (:func:`deepchem_finetune.storage.cache_dir`)."""
    return storage.cache_dir("molnet")


def featurized_cache_dir(save_dir: str, featurizer) -> str:
    """The folder of ``save_dir`` holding DeepChem's cache for ``featurizer``: named by
    :func:`~deepchem_finetune.storage.cache_key` of its spec (``str()`` for featurizers without one), so a new
    package or RDKit version featurizes afresh.

    Examples
    --------
    >>> from deepchem_finetune.featurizers import MolGraphFeaturizer
    >>> a = featurized_cache_dir("cache", MolGraphFeaturizer("hu2020"))
    >>> a == featurized_cache_dir("cache", MolGraphFeaturizer("rich")), len(os.path.basename(a))
    (False, 16)
    """
    try:
        spec = featurizer_spec(featurizer)
    except TypeError:  # e.g. dc.feat.CircularFingerprint: DeepChem's own name for it
        spec = str(featurizer)
    return os.path.join(os.fspath(save_dir), storage.cache_key(kind="moleculenet", featurizer=spec)[:16])


def load_moleculenet(name: str, featurizer=None, splitter="scaffold", data_dir: Optional[str] = None,
                     save_dir: Optional[str] = None, reload: bool = True, **kwargs) -> Tuple:
    """Load a MoleculeNet dataset through ``dc.molnet`` with one of our featurizers.

    Parameters
    ----------
    name: str
        e.g. 'bbbp', 'bace_classification' ('bace'), 'clintox', 'tox21', 'toxcast', 'hiv', 'delaney'
        ('esol'), 'freesolv', 'lipo' ('lipophilicity').
    featurizer: dc.feat.Featurizer, optional
        Default ``dc.feat.MolGraphConvFeaturizer(use_edges=True)``; use ``model.get_featurizer()``.
    splitter: str or dc.splits.Splitter, optional (default "scaffold")
    data_dir: str, optional
        Where the raw CSVs are. Default ``$DEEPCHEM_DATA_DIR`` (DeepChem's own default otherwise).
    save_dir: str, optional
        Where featurized datasets are cached; default :func:`default_cache_dir`. DeepChem's cache is in its
        subfolder :func:`featurized_cache_dir`.
    reload: bool, optional (default True)
        Reuse DeepChem's cache of featurized splits.
    **kwargs:
        Passed to the ``dc.molnet`` loader (e.g. ``transformers=[]``).

    Returns
    -------
    tuple
        ``(tasks, (train, valid, test), transformers)`` exactly as ``dc.molnet`` returns it.

    Examples
    --------
    >>> tasks, (train, valid, test), transformers = load_moleculenet(
    ...     "bbbp", data_dir="../shared/data/moleculenet")  # doctest: +SKIP
    """
    key = _canonical(name)
    loader = getattr(dc.molnet, f"load_{key}")
    if featurizer is None:
        featurizer = dc.feat.MolGraphConvFeaturizer(use_edges=True)
    data_dir = data_dir or os.environ.get("DEEPCHEM_DATA_DIR") or None
    save_dir = featurized_cache_dir(save_dir or default_cache_dir(), featurizer)
    os.makedirs(save_dir, exist_ok=True)
    reporting = _ReportingFeaturizer(featurizer)
    try:
        with storage.lock(os.path.join(save_dir, key)):
            result = loader(featurizer=reporting, splitter=splitter, data_dir=data_dir, save_dir=save_dir,
                            reload=reload, **kwargs)
    except ValueError as err:
        n_bad, n_seen = len(reporting.errors), reporting._seen
        if n_seen and 2 * n_bad > n_seen:  # DeepChem fails on empty (or nearly empty) splits
            i, smi, why = reporting.errors[0]
            raise FeaturizationError(f"{key}: only {n_seen - n_bad} of {n_seen} molecules could be featurized "
                                     f"with {featurizer}, and DeepChem's loader failed on the rest ({err}); "
                                     f"first failure, row {i} ({smi!r}): {why}. Is this the right featurizer "
                                     "for molecules?") from err
        raise
    if reporting.errors:
        first = ", ".join(f"row {i}: {smi!r}" for i, smi, _ in reporting.errors[:3])
        logger.warning("%s: %d molecule(s) could not be featurized and were left out (%s%s)", key,
                       len(reporting.errors), first, ", ..." if len(reporting.errors) > 3 else "")
    return result
