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

``HomologySplitter`` is the same idea for DNA: sequences sharing a k-mer (20 bases by default) are one cluster
(connected components), and whole clusters go to train, valid or test, so no test sequence shares a k-mer with a
training sequence. It reads the sequences from ``dataset.ids`` too.
"""
from __future__ import annotations

import json
import os
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple

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
        return fill_groups(groups, len(dataset), frac_valid, frac_test, self.seed if seed is None else seed)

    def __str__(self):
        return f"RandomScaffoldSplitter(seed={self.seed})"


def fill_groups(groups: Sequence[Sequence[int]], n: int, frac_valid: float, frac_test: float,
                seed: int) -> Tuple[List[int], List[int], List[int]]:
    """Whole groups in a seeded random order: each to valid while valid stays within ``floor(frac_valid * n)``, else
    to test while test stays within ``floor(frac_test * n)``, else to train. Returns sorted (train, valid, test).

    Examples
    --------
    >>> fill_groups([[0, 1], [2], [3], [4, 5, 6, 7]], 8, 0.125, 0.25, seed=0)
    ([2, 4, 5, 6, 7], [3], [0, 1])
    """
    order = np.random.default_rng(seed).permutation(len(groups))
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


def _kmer_table(sequences: Sequence[str], k: int, ignore_prefix: int, ignore_suffix: int, canonical: bool):
    """(k-mer codes, sequence index of each) over all ``sequences``, the flanks cut off first."""
    from deepchem_finetune.data.genomes import kmer_codes
    codes = [kmer_codes(s[ignore_prefix:len(s) - ignore_suffix].upper(), k, canonical) for s in sequences]
    owner = np.repeat(np.arange(len(codes)), [len(c) for c in codes])
    return (np.concatenate(codes) if codes else np.zeros(0, dtype=np.int64)), owner


def shared_kmer_clusters(sequences: Sequence[str], k: int = 20, ignore_prefix: int = 0, ignore_suffix: int = 0,
                         canonical: bool = False) -> List[List[int]]:
    """Connected components of "shares a k-mer with": lists of sequence indices, ordered by their first member.

    Parameters
    ----------
    sequences: sequence of str
        DNA (case-insensitive); k-mers holding a base other than A/C/G/T link nothing.
    k: int, optional (default 20)
    ignore_prefix, ignore_suffix: int, optional (default 0)
        Bases cut off each sequence's 5' / 3' end first: constant flanks (adapters) would link everything.
    canonical: bool, optional (default False)
        A k-mer also links to its reverse complement (for fragments whose orientation is arbitrary).

    Examples
    --------
    >>> shared_kmer_clusters(["AAAACCCC", "CCCCGGGG", "TTTTTTTT", "GGGGAAAA"], k=4)
    [[0, 1, 3], [2]]
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    codes, owner = _kmer_table(sequences, k, ignore_prefix, ignore_suffix, canonical)
    order = np.lexsort((owner, codes))
    codes, owner = codes[order], owner[order]
    same = codes[1:] == codes[:-1]
    a, b = owner[:-1][same], owner[1:][same]
    n = len(sequences)
    graph = coo_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    groups: "OrderedDict[int, List[int]]" = OrderedDict()
    for i, label in enumerate(labels):
        groups.setdefault(int(label), []).append(i)
    return list(groups.values())


def sharing_kmers(query: Sequence[str], reference: Sequence[str], k: int = 20, ignore_prefix: int = 0,
                  ignore_suffix: int = 0, canonical: bool = False) -> np.ndarray:
    """Boolean mask over ``query``: which sequences share at least one k-mer with any ``reference`` sequence
    (the check that a split does not leak).

    Examples
    --------
    >>> sharing_kmers(["AAAACCCC", "TTTTGGGG"], ["GGAAAAC"], k=5).tolist()
    [True, False]
    """
    ref, _ = _kmer_table(reference, k, ignore_prefix, ignore_suffix, canonical)
    codes, owner = _kmer_table(query, k, ignore_prefix, ignore_suffix, canonical)
    hit = np.zeros(len(query), dtype=bool)
    hit[owner[np.isin(codes, ref)]] = True
    return hit


class HomologySplitter(dc.splits.Splitter):
    """Split DNA sequences so that no test (or validation) sequence shares a k-mer with a training sequence.

    Clusters are the connected components of :func:`shared_kmer_clusters` over ``dataset.ids``; they are dealt
    out whole by :func:`fill_groups`, as :class:`RandomScaffoldSplitter` deals out scaffolds: in a seeded random
    order, to valid while it has room, else to test, else to train (a giant cluster therefore lands in train). Valid
    and test may also share k-mers with each other only within a cluster, i.e. never across parts.

    Parameters
    ----------
    k: int, optional (default 20)
        Length of the shared k-mer that links two sequences.
    ignore_prefix, ignore_suffix: int, optional (default 0)
        Constant flanks to cut off before looking for shared k-mers (e.g. 20 and 20 for the yeast library of
        de Boer et al. 2020, whose 80 variable bases sit between fixed 20-base adapters).
    canonical: bool, optional (default False)
        Also link a k-mer to its reverse complement.
    seed: int, optional (default 0)
        Used when ``split`` gets no seed.

    Attributes
    ----------
    report: dict
        After ``split``: ``clusters``, ``largest`` (its size), ``singletons`` and the options.

    Examples
    --------
    >>> seqs = ["AAAACCCCGG", "CCCCGGTTTT", "ACGTACGTAC", "TTTTAAAAGG", "GATCGATCGA"]
    >>> ds = dc.data.NumpyDataset(np.zeros((5, 1)), ids=seqs)
    >>> train, valid, test = HomologySplitter(k=6).split(ds, 0.6, 0.2, 0.2, seed=0)
    >>> sorted(train + valid + test) == list(range(5)), {0, 1} <= set(train) or {0, 1} <= set(valid + test)
    (True, True)
    """

    def __init__(self, k: int = 20, ignore_prefix: int = 0, ignore_suffix: int = 0, canonical: bool = False,
                 seed: int = 0):
        self.k, self.ignore_prefix, self.ignore_suffix = k, ignore_prefix, ignore_suffix
        self.canonical, self.seed = canonical, seed
        self.report: Dict = {}

    def split(self, dataset, frac_train: float = 0.8, frac_valid: float = 0.1, frac_test: float = 0.1,
              seed: Optional[int] = None, log_every_n: Optional[int] = None) -> Tuple[List[int], List[int], List[int]]:
        np.testing.assert_almost_equal(frac_train + frac_valid + frac_test, 1.0)
        groups = shared_kmer_clusters([str(s) for s in dataset.ids], self.k, self.ignore_prefix, self.ignore_suffix,
                                      self.canonical)
        sizes = [len(g) for g in groups]
        self.report = {"clusters": len(groups), "largest": max(sizes, default=0),
                       "singletons": sum(s == 1 for s in sizes), "k": self.k, "ignore_prefix": self.ignore_prefix,
                       "ignore_suffix": self.ignore_suffix, "canonical": self.canonical}
        return fill_groups(groups, len(dataset), frac_valid, frac_test, self.seed if seed is None else seed)

    def __str__(self):
        return (f"HomologySplitter(k={self.k}, ignore_prefix={self.ignore_prefix}, ignore_suffix={self.ignore_suffix}, "
                f"canonical={self.canonical}, seed={self.seed})")


SPLITTERS: Dict[str, type] = {"hu2020_scaffold": Hu2020ScaffoldSplitter, "random_scaffold": RandomScaffoldSplitter}
