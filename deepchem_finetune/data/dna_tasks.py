"""DNA tasks as ``dc.molnet``-style loaders, and the k-mer baseline that goes with them.

* :func:`load_yeast_expression`: expression of 120-base yeast promoter fragments in a reporter library (de Boer et
  al. 2020, native-sequence library), regression on ``EL.combined``;
* :func:`load_ecoli_promoters`: E. coli sigma-70 promoters (RegulonDB-derived, 81 bases) against 81-base stretches
  of coding regions, classification.

Both return ``(tasks, (train, valid, test), transformers)`` with ``ids`` = the (upper-case) sequences, and split
with :class:`~deepchem_finetune.splits.HomologySplitter` by default: the yeast fragments tile the genome with
overlaps and neighbouring promoters overlap too, so a random split puts near-copies on both sides. Files are read
from ``data_dir`` / ``$DEEPCHEM_FINETUNE_DNA_DIR`` (a folder holding ``expression/`` and ``promoters/``); nothing
is downloaded.

:func:`kmer_baseline` is k-mer counts (k = 3..6) with ridge or logistic regression, k and the regularisation
chosen on the validation set; :func:`dna_scores` the metrics (Pearson r and Spearman, or ROC-AUC).
"""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import pandas as pd

from deepchem_finetune._compat import import_deepchem_quietly

dc = import_deepchem_quietly()
logger = logging.getLogger(__name__)

__all__ = ["dna_data_dir", "load_yeast_expression", "load_ecoli_promoters", "constant_flanks", "make_splitter",
           "kmer_counts", "kmer_baseline", "dna_scores", "DNA_DIR_ENV", "YEAST_FILE", "PROMOTER_FILES"]

DNA_DIR_ENV = "DEEPCHEM_FINETUNE_DNA_DIR"
YEAST_FILE = os.path.join("expression", "yeast_native_promoters_deboer2020.tsv.gz")
PROMOTER_FILES = (os.path.join("promoters", "ecoli_promoters_positive2860.fa"),
                  os.path.join("promoters", "ecoli_nonpromoters_negative2860.fa"))
SPLITS = ("homology", "random")


def dna_data_dir(data_dir: Optional[Union[str, os.PathLike]] = None) -> Path:
    """``data_dir``, else ``$DEEPCHEM_FINETUNE_DNA_DIR``.

    Raises
    ------
    FileNotFoundError
        Neither is given, or the folder does not exist.
    """
    chosen = data_dir if data_dir is not None else os.environ.get(DNA_DIR_ENV)
    if not chosen:
        raise FileNotFoundError(f"no DNA data folder: pass data_dir=... (the folder holding expression/ and "
                                f"promoters/) or set ${DNA_DIR_ENV}; the files are not downloaded automatically")
    path = Path(chosen).expanduser()
    if not path.is_dir():
        raise FileNotFoundError(f"DNA data folder {str(path)!r} does not exist")
    return path


def constant_flanks(sequences: Sequence[str]) -> Tuple[int, int]:
    """Lengths of the 5' and 3' stretches all ``sequences`` share (adapters of a reporter library).

    Examples
    --------
    >>> constant_flanks(["GGACGTTC", "GGATTTTC", "GGCCATTC"])
    (2, 3)
    """
    first = sequences[0]
    pre = len(os.path.commonprefix(list(sequences)))
    suf = len(os.path.commonprefix([s[::-1] for s in sequences]))
    return min(pre, len(first)), min(suf, len(first) - pre)


def make_splitter(split, seed: int = 0, flanks: Tuple[int, int] = (0, 0), k: int = 20):
    """A DeepChem splitter from a name: "homology" (:class:`~deepchem_finetune.splits.HomologySplitter` with
    ``k`` and the flanks ignored) or "random" (``dc.splits.RandomSplitter``); a ``dc.splits.Splitter`` is
    returned as it is."""
    if isinstance(split, dc.splits.Splitter):
        return split
    if split == "homology":
        from deepchem_finetune.splits import HomologySplitter
        return HomologySplitter(k=k, ignore_prefix=flanks[0], ignore_suffix=flanks[1], seed=seed)
    if split == "random":
        return dc.splits.RandomSplitter()
    raise ValueError(f"unknown split {split!r}; choose from {list(SPLITS)} or pass a dc.splits.Splitter")


def _split(dataset, split, seed: int, flanks, frac: Sequence[float]):
    splitter = make_splitter(split, seed, flanks)
    idx = splitter.split(dataset, frac[0], frac[1], frac[2], seed=seed)
    if getattr(splitter, "report", None):
        logger.info("%s: %s", splitter, splitter.report)
    return [dataset.select(np.asarray(i, dtype=int)) for i in idx]


def _featurizer(featurizer):
    from deepchem_finetune.featurizers import NucleotideTokenizer
    return featurizer if featurizer is not None else NucleotideTokenizer(max_length=128)


def load_yeast_expression(featurizer=None, split="homology", data_dir=None, seed: int = 0,
                          frac: Sequence[float] = (0.8, 0.1, 0.1), label: str = "EL.combined",
                          native_only: bool = False, max_rows: Optional[int] = None) -> Tuple[List[str], Tuple, List]:
    """Yeast promoter fragments -> expression level, as ``(tasks, (train, valid, test), transformers)``.

    Rows without a label are left out, counted and logged. ``y`` is normalised with a
    ``NormalizationTransformer`` fitted on the training part (pass the transformers to ``predict``/``evaluate``).
    The homology split ignores the constant flanks (20 bases each side) when looking for shared 20-mers.

    Parameters
    ----------
    featurizer: sequence tokenizer, optional
        Default ``NucleotideTokenizer(max_length=128)``; use ``model.get_featurizer()``.
    split: str or dc.splits.Splitter, optional (default "homology")
        "homology", "random" or a splitter; ``seed`` seeds both.
    data_dir: str, optional
        Default ``$DEEPCHEM_FINETUNE_DNA_DIR``.
    label: str, optional (default "EL.combined")
        Label column (``EL.originalHQ``, ``EL.rep1``, ``EL.rep2``, ``EL.combined``).
    native_only: bool, optional (default False)
        Only rows with ``isNative`` TRUE.
    max_rows: int, optional
        Keep a random subset (drawn from ``seed``) of this many labelled rows before splitting (quick runs).

    Returns
    -------
    tuple
        ``([label], (train, valid, test), [NormalizationTransformer])``: 69,240 labelled rows in all.

    Examples
    --------
    >>> tasks, (train, valid, test), tr = load_yeast_expression(data_dir="../shared/data/dna")  # doctest: +SKIP
    >>> len(train) + len(valid) + len(test)  # doctest: +SKIP
    69240

    References
    ----------
    de Boer, C. G. et al. Deciphering eukaryotic gene-regulatory logic with 100 million random promoters.
    Nat. Biotechnol. 2020.
    """
    path = dna_data_dir(data_dir) / YEAST_FILE
    df = pd.read_csv(path, sep="\t")
    missing = [c for c in ("seq", label, "isNative") if c not in df.columns]
    if missing:
        raise ValueError(f"{str(path)!r} has no column(s) {missing}; its columns are {list(df.columns)}")
    y = pd.to_numeric(df[label], errors="coerce")
    bad = y.isna() & df[label].notna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise ValueError(f"{path.name} data row {row}: {label} is not a number: {df[label].iloc[row]!r}")
    keep = y.notna().to_numpy()
    if native_only:
        keep = keep & df["isNative"].astype(str).str.upper().eq("TRUE").to_numpy()
    n_unlabelled = int(y.isna().sum())
    if n_unlabelled:
        logger.warning("%s: left out %d of %d rows without a %s label (first: data row %d)", path.name, n_unlabelled,
                       len(df), label, int(np.flatnonzero(y.isna().to_numpy())[0]))
    rows = np.flatnonzero(keep)
    if max_rows is not None and max_rows < len(rows):
        rows = np.sort(np.random.default_rng(seed).permutation(rows)[:max_rows])
    seqs = df["seq"].astype(str).str.upper().to_numpy()[rows]
    X = _featurizer(featurizer).featurize(list(seqs))
    dataset = dc.data.NumpyDataset(X, y.to_numpy()[rows].reshape(-1, 1), ids=np.array(seqs, dtype=object))
    train, valid, test = _split(dataset, split, seed, constant_flanks(list(seqs)), frac)
    transformer = dc.trans.NormalizationTransformer(transform_y=True, dataset=train)
    return [label], tuple(transformer.transform(d) for d in (train, valid, test)), [transformer]


def load_ecoli_promoters(featurizer=None, split="homology", data_dir=None, seed: int = 0,
                         frac: Sequence[float] = (0.8, 0.1, 0.1)) -> Tuple[List[str], Tuple, List]:
    """E. coli promoter recognition (2,860 promoters vs 2,860 coding-region stretches, 81 bases), as
    ``(["promoter"], (train, valid, test), [])``; ``y`` 1 for a promoter. Sequences are upper-cased (the
    promoter file marks the transcription start in upper case). ``split`` and ``seed`` as for
    :func:`load_yeast_expression`.

    Examples
    --------
    >>> tasks, (train, valid, test), _ = load_ecoli_promoters(data_dir="../shared/data/dna")  # doctest: +SKIP
    >>> len(train) + len(valid) + len(test)  # doctest: +SKIP
    5720

    References
    ----------
    Lin, H. et al. iPromoter-2L. Bioinformatics 2018 (benchmark set); Santos-Zavaleta, A. et al. RegulonDB v10.5.
    Nucleic Acids Res. 2019.
    """
    from deepchem_finetune.data.readers import read_sequences
    folder = dna_data_dir(data_dir)
    seqs, labels, ids = [], [], []
    for label, name in zip((1.0, 0.0), PROMOTER_FILES):
        records = read_sequences(folder / name)
        seqs += [s.upper() for s in records.sequences]
        labels += [label] * len(records.sequences)
    X = _featurizer(featurizer).featurize(seqs)
    dataset = dc.data.NumpyDataset(X, np.array(labels).reshape(-1, 1), ids=np.array(seqs, dtype=object))
    return ["promoter"], tuple(_split(dataset, split, seed, (0, 0), frac)), []


# ------------------------------------------------------------------------------------------ baseline
def kmer_counts(sequences: Sequence[str], k: int):
    """Sparse ``(n, 4**k)`` counts of the k-mers of each sequence (k-mers holding ``N`` are not counted).

    Examples
    --------
    >>> kmer_counts(["ACGA", "AAN"], 2).toarray()[:, :4].astype(int).tolist()   # columns AA AC AG AT
    [[0, 1, 0, 0], [1, 0, 0, 0]]
    """
    from scipy.sparse import csr_matrix
    from deepchem_finetune.data.genomes import kmer_codes
    codes = [kmer_codes(str(s), k) for s in sequences]
    rows = np.repeat(np.arange(len(codes)), [len(c) for c in codes])
    cols = np.concatenate(codes) if codes else np.zeros(0, dtype=np.int64)
    return csr_matrix((np.ones(len(cols), dtype=np.float32), (rows, cols)), shape=(len(codes), 4 ** k))


def dna_scores(y, pred, mode: str) -> Dict[str, float]:
    """``{"pearson", "spearman"}`` (regression) or ``{"roc_auc"}`` (classification; ``pred`` the positive-class
    score or DeepChem's ``(n, 1, 2)`` probabilities).

    Examples
    --------
    >>> {k: round(v, 3) for k, v in dna_scores([1.0, 2.0, 3.0], [1.0, 3.0, 2.0], "regression").items()}
    {'pearson': 0.5, 'spearman': 0.5}
    """
    from scipy.stats import pearsonr, spearmanr
    from sklearn.metrics import roc_auc_score
    y = np.asarray(y, dtype=float).ravel()
    pred = np.asarray(pred, dtype=float)
    if mode == "classification":
        pred = pred[..., 1] if pred.ndim == 3 else pred
        return {"roc_auc": float(roc_auc_score(y, pred.ravel()))}
    pred = pred.ravel()
    return {"pearson": float(pearsonr(y, pred).statistic), "spearman": float(spearmanr(y, pred).statistic)}


def kmer_baseline(train, valid, test, mode: str, transformers: Sequence = (), ks: Sequence[int] = (3, 4, 5, 6),
                  alphas: Sequence[float] = (0.1, 1.0, 10.0, 100.0, 1000.0)) -> Dict:
    """k-mer counts with ridge (regression) or L2 logistic regression (classification, ``C = 1 / alpha``), ``k``
    and ``alpha`` chosen on ``valid`` (Pearson r, or ROC-AUC), scored on ``test``.

    The datasets' ``ids`` are the sequences (as the loaders of this module give them); regression labels are
    scored in original units (``transformers`` undone).

    Returns
    -------
    dict
        ``k``, ``alpha``, ``valid`` (selection score), ``test`` (:func:`dna_scores` on test), ``test_pred``.

    Examples
    --------
    >>> out = kmer_baseline(train, valid, test, "regression", transformers)  # doctest: +SKIP
    >>> out["k"], round(out["test"]["pearson"], 3)  # doctest: +SKIP
    (6, 0.52)
    """
    from sklearn.linear_model import LogisticRegression, Ridge
    ys = [d.y[:, 0] if mode == "classification" else dc.trans.undo_transforms(d.y, list(transformers))[:, 0]
          for d in (train, valid, test)]
    key = "roc_auc" if mode == "classification" else "pearson"
    best = None
    for k in ks:
        X_tr, X_va, X_te = (kmer_counts(list(d.ids), k) for d in (train, valid, test))
        for alpha in alphas:
            if mode == "classification":
                model = LogisticRegression(C=1.0 / alpha, max_iter=2000).fit(X_tr, ys[0])
                predict = lambda X, m=model: m.predict_proba(X)[:, 1]  # noqa: E731
            else:
                model = Ridge(alpha=alpha, solver="sparse_cg").fit(X_tr, ys[0])
                predict = model.predict
            s = dna_scores(ys[1], predict(X_va), mode)[key]
            if best is None or s > best["valid"]:
                best = {"k": k, "alpha": alpha, "valid": s, "test_pred": predict(X_te)}
    best["test"] = dna_scores(ys[2], best["test_pred"], mode)
    return best
