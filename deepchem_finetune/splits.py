"""Scaffold splitters of Hu et al. (2020), as DeepChem ``Splitter`` subclasses.

``Hu2020ScaffoldSplitter`` is ``dc.splits.ScaffoldSplitter`` with one change: the Bemis-Murcko scaffold is
computed *with* chirality (``MurckoScaffold.MurckoScaffoldSmiles(smiles=..., includeChirality=True)``, as in
snap-stanford/pretrain-gnns), so enantiomeric ring systems are different scaffolds. The rest is DeepChem's (its
``split``, and in :meth:`~Hu2020ScaffoldSplitter.generate_scaffolds` its grouping and order), which is also the
pretrain-gnns procedure: scaffold groups (members in dataset order) sorted by (group size, first member index),
largest first, equal sizes to the larger first index; each group goes to train while train stays within
``frac_train * N``, else to valid while train + valid stay within ``(frac_train + frac_valid) * N``, else to test.
Deterministic (the seed is ignored). One other difference from DeepChem: a SMILES that RDKit cannot parse raises
``ValueError`` naming its index, where ``dc.splits.ScaffoldSplitter`` leaves that molecule out of all three sets.

``RandomScaffoldSplitter`` shuffles the scaffold groups with a seed, fills valid and test up to their
sizes and puts the remaining groups in train.

Both read SMILES from ``dataset.ids`` (what ``dc.molnet`` loaders store there) and can save the indices.
"""
from __future__ import annotations

import json
import os
from collections import OrderedDict
from typing import Dict, List, Optional, Tuple

import numpy as np
from rdkit.Chem.Scaffolds import MurckoScaffold

from deepchem_finetune._compat import import_deepchem_quietly, rdkit_errors_silenced

dc = import_deepchem_quietly()


def scaffold_groups(smiles: List[str], include_chirality: bool = True) -> "OrderedDict[str, List[int]]":
    """Map each Murcko scaffold to the (ascending) indices of its molecules, scaffolds in order of first appearance.

    The scaffold is ``MurckoScaffold.MurckoScaffoldSmiles(smiles=smi, includeChirality=include_chirality)``, the
    call of snap-stanford/pretrain-gnns (``dc.splits.ScaffoldSplitter`` makes it with chirality off).

    Raises
    ------
    ValueError
        A SMILES that RDKit cannot parse, with its index.

    Examples
    --------
    >>> dict(scaffold_groups(["C[C@H]1CCCC[C@@H]1c1ccccc1", "c1ccccc1O", "CCO"], include_chirality=False))
    {'c1ccc(C2CCCCC2)cc1': [0], 'c1ccccc1': [1], '': [2]}
    """
    groups: "OrderedDict[str, List[int]]" = OrderedDict()
    with rdkit_errors_silenced():
        for i, smi in enumerate(smiles):
            try:
                scaffold = MurckoScaffold.MurckoScaffoldSmiles(smiles=smi, includeChirality=include_chirality)
            except ValueError:  # RDKit's "No molecule provided": the SMILES did not parse
                raise ValueError(f"SMILES at index {i} could not be parsed by RDKit: {smi!r}") from None
            groups.setdefault(scaffold, []).append(i)
    return groups


def save_split(path: str, train, valid, test, ids=None, meta: Optional[dict] = None) -> None:
    """Write split indices (and ids) as JSON so results can be audited."""
    out = {"train": [int(i) for i in train], "valid": [int(i) for i in valid], "test": [int(i) for i in test],
           "meta": meta or {}}
    if ids is not None:
        ids = np.asarray(ids)
        out["ids"] = {k: [str(x) for x in ids[np.asarray(out[k], dtype=int)]] for k in ("train", "valid", "test")}
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as fh:
        json.dump(out, fh)


class Hu2020ScaffoldSplitter(dc.splits.ScaffoldSplitter):
    """Deterministic chirality-aware scaffold split of Hu et al. (2020): DeepChem's ``ScaffoldSplitter`` on
    chiral scaffolds (see the module docstring for what is the same and what differs).

    Examples
    --------
    >>> import numpy as np
    >>> ds = dc.data.NumpyDataset(np.zeros((4, 1)), ids=["c1ccccc1C", "c1ccccc1O", "C1CCCCC1N", "CCO"])
    >>> [list(s) for s in Hu2020ScaffoldSplitter().split(ds, 0.5, 0.25, 0.25)]
    [[0, 1], [3], [2]]
    """

    def generate_scaffolds(self, dataset, log_every_n: int = 1000) -> List[List[int]]:
        """Scaffold groups of ``dataset.ids`` in the order ``split`` fills train, valid and test.

        DeepChem's method with the scaffold made with chirality and an unparsable SMILES raising: groups keep
        their members in ascending order and are sorted by (size, first member index), largest first.

        Raises
        ------
        ValueError
            A SMILES that RDKit cannot parse, with its index.
        """
        groups = scaffold_groups(list(dataset.ids), include_chirality=True).values()
        return sorted(groups, key=lambda g: (len(g), g[0]), reverse=True)  # dc.splits.ScaffoldSplitter's key

    def __str__(self):
        return "Hu2020ScaffoldSplitter"


class RandomScaffoldSplitter(dc.splits.Splitter):
    """Scaffold groups in a seeded random order; valid and test filled to size, the rest is train.

    Parameters
    ----------
    seed: int, optional (default 0)
        Used when ``split`` gets no seed (``dc.molnet`` loaders call it without one).
    """

    def __init__(self, seed: int = 0):
        self.seed = seed

    def split(self, dataset, frac_train: float = 0.8, frac_valid: float = 0.1, frac_test: float = 0.1,
              seed: Optional[int] = None, log_every_n: Optional[int] = None) -> Tuple[List[int], List[int], List[int]]:
        np.testing.assert_almost_equal(frac_train + frac_valid + frac_test, 1.0)
        groups = list(scaffold_groups(list(dataset.ids)).values())
        rng = np.random.default_rng(self.seed if seed is None else seed)
        order = rng.permutation(len(groups))
        n = len(dataset)
        n_valid, n_test = int(np.floor(frac_valid * n)), int(np.floor(frac_test * n))
        train: List[int] = []
        valid: List[int] = []
        test: List[int] = []
        for k in order:
            g = groups[k]
            if len(valid) + len(g) <= n_valid:
                valid.extend(g)
            elif len(test) + len(g) <= n_test:
                test.extend(g)
            else:
                train.extend(g)
        return sorted(train), sorted(valid), sorted(test)

    def __str__(self):
        return f"RandomScaffoldSplitter(seed={self.seed})"


SPLITTERS: Dict[str, type] = {"hu2020_scaffold": Hu2020ScaffoldSplitter, "random_scaffold": RandomScaffoldSplitter}
