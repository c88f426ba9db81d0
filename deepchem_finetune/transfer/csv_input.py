"""``rank_csv`` (``deepchem-finetune rank``, and ``finetune --pretrained auto``): the user's CSV read, checked and
split by ``finetune``'s own :func:`~deepchem_finetune.workflow.prepare.prepare` (scaffold split 0.8/0.1/0.1 for
SMILES by default), and the zoo ranked on the training part only, so nothing about the validation or test part
leaks into the choice."""
from __future__ import annotations

from typing import Optional, Sequence

from deepchem_finetune.transfer.ranking import DEFAULT_ESTIMATOR, MAX_MOLECULES, Ranking, rank_zoo

__all__ = ["rank_csv", "rank_prepared"]


def rank_csv(path: str, target_columns: Sequence[str], smiles_column: Optional[str] = None,
             sequence_column: Optional[str] = None, alphabet: str = "protein", task_type: str = "auto",
             split: Optional[str] = None, split_sizes: Sequence[float] = (0.8, 0.1, 0.1), seed: int = 0,
             skip_invalid: bool = True, max_length: Optional[int] = None, candidates: Optional[Sequence[str]] = None,
             estimator: str = DEFAULT_ESTIMATOR, max_molecules: Optional[int] = MAX_MOLECULES) -> Ranking:
    """Rank the zoo on the training part of a CSV, split as ``deepchem-finetune finetune`` splits it.

    Parameters
    ----------
    path, target_columns, smiles_column, sequence_column, alphabet, task_type, split, split_sizes, seed,
    skip_invalid, max_length:
        As for :func:`~deepchem_finetune.workflow.finetune_csv` (``split``: scaffold for SMILES, random for
        sequences, or ``column:NAME``). The rows are read and split with the from-scratch featurizer; with
        ``skip_invalid`` (the default here) unusable rows are left out and counted in ``ranking.data``, otherwise
        they raise :class:`~deepchem_finetune.workflow.table.InputError`.
    candidates, estimator, max_molecules:
        As for :func:`~deepchem_finetune.transfer.rank_zoo`.

    Examples
    --------
    >>> from deepchem_finetune import examples
    >>> print(rank_csv(examples.path("esol"), ["logS"], smiles_column="smiles").table())  # doctest: +SKIP
    """
    from deepchem_finetune.workflow.prepare import prepare
    from deepchem_finetune.workflow.table import InputError
    if (smiles_column is None) == (sequence_column is None):
        raise InputError("give exactly one of --smiles-column and --sequence-column")
    kind = "smiles" if smiles_column is not None else alphabet
    p = prepare(path, smiles_column or sequence_column, kind, list(target_columns), task_type, "none", split,
                split_sizes, seed, skip_invalid, max_length)
    return rank_prepared(p, split, split_sizes, seed, candidates, estimator, max_molecules)


def rank_prepared(p, split: Optional[str] = None, split_sizes: Sequence[float] = (0.8, 0.1, 0.1), seed: int = 0,
                  candidates: Optional[Sequence[str]] = None, estimator: str = DEFAULT_ESTIMATOR,
                  max_molecules: Optional[int] = MAX_MOLECULES) -> Ranking:
    """Rank the zoo on the training part of a CSV already read and split by
    :func:`~deepchem_finetune.workflow.prepare.prepare` (``p``; ``split``, ``split_sizes`` and ``seed`` are those it
    was split with, recorded in the ranking). What :func:`rank_csv` and ``finetune --pretrained auto`` call.

    Examples
    --------
    >>> from deepchem_finetune import examples
    >>> from deepchem_finetune.workflow.prepare import prepare
    >>> p = prepare(examples.path("esol"), "smiles", "smiles", ["logS"], pretrained="none")
    >>> rank_prepared(p, candidates=["gin_zinc60k_desc30", "scratch"]).best  # doctest: +SKIP
    """
    train = p.parts["train"]
    data = {"file": str(p.path), "column": p.column, "targets": p.targets, "split": split or (
            "scaffold" if p.kind == "smiles" else "random"), "split_sizes": list(split_sizes), "seed": seed,
            "rows_left_out": len(p.problems), "rows_used": len(p.rows),
            **{f"{part}_rows": len(idx) for part, idx in p.parts.items()}}
    return rank_zoo([p.values[r] for r in p.rows[train]], p.y[train], task_type=p.task_type, candidates=candidates,
                    estimator=estimator, kind=p.kind, max_molecules=max_molecules, seed=seed, data=data)
