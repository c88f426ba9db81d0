"""Which backbone for my data? Transferability estimates that rank the zoo in seconds (issue #26).

================  ================================================================================================
``estimators``    LogME, a cross-validated ridge probe, kNN agreement: scores of frozen features against labels
``embedding``     the candidates (zoo entries, ``scratch``, ``scratch:<source>``, ``ecfp4``), compatibility with
                  the inputs, featurization once per featurizer spec, frozen embeddings
``ranking``       :func:`rank_zoo`, :class:`Ranking`, :func:`best_entry` (what ``finetune --pretrained auto`` calls)
``csv_input``     :func:`rank_csv` (``deepchem-finetune rank``): the CSV read and split as ``finetune`` splits it
================  ================================================================================================

Examples
--------
>>> from deepchem_finetune.transfer import rank_zoo
>>> ranking = rank_zoo(train_smiles, train_labels)  # doctest: +SKIP
>>> print(ranking.table()); ranking.best_pretrained  # doctest: +SKIP
"""
from deepchem_finetune.transfer.csv_input import rank_csv, rank_prepared
from deepchem_finetune.transfer.embedding import DEFAULT_ENTRY, default_candidates, resolve_candidates
from deepchem_finetune.transfer.estimators import ESTIMATORS, MEANING, knn_agreement, logme, ridge_probe
from deepchem_finetune.transfer.ranking import DEFAULT_ESTIMATOR, MAX_MOLECULES, Ranking, best_entry, rank_zoo

__all__ = ["rank_zoo", "best_entry", "rank_csv", "rank_prepared", "Ranking", "DEFAULT_ESTIMATOR", "MAX_MOLECULES",
           "DEFAULT_ENTRY",
           "ESTIMATORS", "MEANING", "logme", "ridge_probe", "knn_agreement", "default_candidates",
           "resolve_candidates"]
