"""Sequence corpora for masked-token pretraining: read FASTA / line / CSV files, tokenize into a dataset.

``read_sequences`` reads protein, nucleotide or SMILES strings with their ids; ``featurize_sequence_corpus``
tokenizes them with a sequence tokenizer into an in-memory ``dc.data.NumpyDataset`` (compact integer
token arrays, ids kept). Every sequence left out (length filters, unknown tokens, over-length, unparsable
SMILES) is counted by reason, logged with a warning and reported in ``info``: never dropped silently.
"""
from __future__ import annotations

import csv
import gzip
import logging
import os
import re
from collections import Counter
from typing import Dict, Iterator, List, NamedTuple, Optional, Sequence, Tuple

import numpy as np
from tqdm.auto import tqdm

from deepchem_finetune._compat import import_deepchem_quietly, rdkit_errors_silenced
from deepchem_finetune.data.corpus import _check_limit, _file_sha256
from deepchem_finetune.exceptions import FeaturizationError

dc = import_deepchem_quietly()
logger = logging.getLogger(__name__)

__all__ = ["read_sequences", "featurize_sequence_corpus", "smiles_tokenizer_for_corpus", "SequenceRecords",
           "FASTA_EXTENSIONS"]

FASTA_EXTENSIONS = (".fasta", ".fa", ".faa", ".fna")
_LINE_EXTENSIONS = (".txt", ".seq", ".smi")
_COLUMN_NAMES = ("sequence", "seq", "smiles")
_ID_NAMES = ("id", "name", "identifier")
_N_EXAMPLES = 20


class SequenceRecords(NamedTuple):
    """Result of :func:`read_sequences`.

    Attributes
    ----------
    ids: list of str
        FASTA ids (first word of the header), the CSV ``id`` / ``name`` column or a line's second word;
        otherwise the record's position in the file.
    sequences: list of str
    skipped: list of (int, str, str)
        ``(record index, id, reason)`` of each record left out by the length filters.
    n_read: int
        Records read (kept + skipped).
    """
    ids: List[str]
    sequences: List[str]
    skipped: List[Tuple[int, str, str]]
    n_read: int


# ------------------------------------------------------------------------------------------- reading
def read_sequences(path, limit: Optional[int] = None, min_length: int = 1, max_length: Optional[int] = None,
                   column: Optional[str] = None) -> SequenceRecords:
    """Read the sequences of a FASTA, one-per-line or CSV file, each optionally gzipped.

    * FASTA (``.fasta``, ``.fa``, ``.faa``, ``.fna``): records start at ``>``; a record's lines are joined;
      the id is the header's first word.
    * Lines (``.txt``, ``.seq``, ``.smi``): the first word of each non-empty line; the second word, if any,
      is the id. A first line ``sequence`` / ``smiles`` (any case) is a header and skipped.
    * CSV (``.csv``): the column ``column``, else the first named ``sequence``, ``seq`` or ``smiles`` (any
      case); ids from an ``id`` / ``name`` column if there is one.

    Whitespace inside a sequence is removed; nothing else is changed (tokenizers upper-case themselves).

    Parameters
    ----------
    path: str or os.PathLike
    limit: int, optional
        Read only the first ``limit`` records (kept or skipped).
    min_length, max_length: int, optional (default 1, None)
        Records shorter / longer (in characters) are skipped, counted and logged.
    column: str, optional
        CSV column holding the sequences.

    Returns
    -------
    SequenceRecords

    Raises
    ------
    ValueError
        Unknown file type, a CSV without a sequence column (the message lists its columns), ``column`` for a
        non-CSV file, or bad ``limit`` / lengths.

    Examples
    --------
    >>> import os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "prot.fasta")
    >>> _ = open(p, "w").write(">sp|P1 first\\nMKTAY\\nIAK\\n>empty\\n>P2\\nGSHM\\n")
    >>> rec = read_sequences(p)
    >>> rec.ids, rec.sequences, rec.skipped
    (['sp|P1', 'P2'], ['MKTAYIAK', 'GSHM'], [(1, 'empty', 'shorter than min_length=1')])
    """
    path = os.fspath(path)
    _check_limit(limit)
    if not isinstance(min_length, (int, np.integer)) or min_length < 0:
        raise ValueError(f"min_length must be an integer >= 0, got {min_length!r}")
    if max_length is not None and (not isinstance(max_length, (int, np.integer)) or max_length < max(1, min_length)):
        raise ValueError(f"max_length must be an integer >= max(1, min_length), got {max_length!r}")
    zipped = path.endswith(".gz")
    ext = os.path.splitext(path[:-3] if zipped else path)[1].lower()
    if ext not in FASTA_EXTENSIONS + _LINE_EXTENSIONS + (".csv",):
        raise ValueError(f"cannot read {path!r}: expected FASTA ({', '.join(FASTA_EXTENSIONS)}), one sequence per "
                         "line (.txt, .seq, .smi) or .csv, optionally gzipped (.gz)")
    if column is not None and ext != ".csv":
        raise ValueError(f"column={column!r} applies to .csv files only, not to {path!r}")
    opener = gzip.open if zipped else open
    ids, sequences, skipped, n_read = [], [], [], 0
    with opener(path, "rt", encoding="utf-8-sig", newline="" if ext == ".csv" else None) as fh:
        if ext in FASTA_EXTENSIONS:
            records = _fasta_records(fh)
        elif ext == ".csv":
            records = _csv_records(fh, path, column)
        else:
            records = _line_records(fh)
        for i, (rid, seq) in enumerate(records):
            if limit is not None and i >= limit:
                break
            n_read += 1
            rid = rid if rid else str(i)
            if len(seq) < min_length:
                skipped.append((i, rid, f"shorter than min_length={min_length}"))
            elif max_length is not None and len(seq) > max_length:
                skipped.append((i, rid, f"{len(seq)} characters, longer than max_length={max_length}"))
            else:
                ids.append(rid)
                sequences.append(seq)
    if skipped:
        shown = "; ".join(f"record {i} ({rid}): {why}" for i, rid, why in skipped[:3])
        logger.warning("%s: skipped %d of %d records by length (first: %s)", os.path.basename(path), len(skipped),
                       n_read, shown)
    return SequenceRecords(ids, sequences, skipped, n_read)


_SPACE = re.compile(r"\s+")


def _fasta_records(fh) -> Iterator[Tuple[str, str]]:
    rid, parts = None, []
    for line in fh:
        if line.startswith(">"):
            if rid is not None:
                yield rid, "".join(parts)
            words = line[1:].split(None, 1)
            rid, parts = (words[0] if words else ""), []
        elif rid is not None:
            parts.append(_SPACE.sub("", line))
        elif line.strip() and not line.startswith(";"):
            raise ValueError(f"FASTA file has sequence text before its first '>' header: {line.strip()[:40]!r}")
    if rid is not None:
        yield rid, "".join(parts)


def _line_records(fh) -> Iterator[Tuple[str, str]]:
    first = True
    for line in fh:
        words = line.split()
        if not words:
            continue
        if first and words[0].lower() in _COLUMN_NAMES:
            first = False
            continue
        first = False
        yield (words[1] if len(words) > 1 else ""), words[0]


def _csv_records(fh, path, column) -> Iterator[Tuple[str, str]]:
    reader = csv.reader(fh)
    header = [h.strip() for h in next(reader, [])]
    lower = [h.lower() for h in header]
    if column is not None:
        if column not in header:
            raise ValueError(f"column {column!r} not found in {path!r}; its columns are {header}")
        col = header.index(column)
    else:
        found = [lower.index(n) for n in _COLUMN_NAMES if n in lower]
        if not found:
            raise ValueError(f"no sequence column in {path!r}: its columns are {header}; pass column=<name>")
        col = found[0]
    id_cols = [lower.index(n) for n in _ID_NAMES if n in lower]
    for row in reader:
        if not row:
            continue
        seq = _SPACE.sub("", row[col]) if col < len(row) else ""
        rid = row[id_cols[0]].strip() if id_cols and id_cols[0] < len(row) else ""
        yield rid, seq


# ----------------------------------------------------------------------------------------- tokenizing
def _reason(err: FeaturizationError) -> str:
    """A short category of a tokenizer error (its message is kept in the examples)."""
    text = str(err)
    if "unknown token" in text or "unknown base" in text:
        return "unknown_token"
    if "more than max_length" in text:
        return "too_long"
    if "empty string" in text or "fewer than k" in text:
        return "too_short"
    return "invalid"


def featurize_sequence_corpus(path, tokenizer, limit: Optional[int] = None, min_length: int = 1,
                              max_length: Optional[int] = None, column: Optional[str] = None,
                              progress: bool = False, targets: Optional[str] = None,
                              workers: int = 2) -> Tuple["dc.data.NumpyDataset", Dict]:
    """Tokenize a sequence corpus into a ``NumpyDataset`` for masked-token pretraining.

    Sequences the tokenizer rejects (unknown tokens with ``unknown="error"``, over ``max_length`` tokens
    without ``truncate``, unparsable SMILES) are left out, counted by reason and logged, as are those
    :func:`read_sequences` skips by length.

    Parameters
    ----------
    path: str or os.PathLike
        A file :func:`read_sequences` reads.
    tokenizer: SmilesTokenizer, ProteinTokenizer or NucleotideTokenizer
        Use the model's (``model.get_featurizer()``).
    limit: int, optional
        Only the first ``limit`` records of the file.
    min_length, max_length, column:
        Passed to :func:`read_sequences` (lengths in characters).
    progress: bool, optional (default False)
        tqdm bar over sequences.
    targets: str, optional
        ``"descriptors"`` (SMILES corpora only): ``y`` holds RDKit's 2D descriptors of each molecule and ``w``
        marks the finite ones, computed by :func:`~deepchem_finetune.data.corpus.featurize_corpus` (parallel,
        sharded, cached by content hash: the same cache a GNN descriptor run uses).
    workers: int, optional (default 2)
        Descriptor processes (with ``targets``).

    Returns
    -------
    dataset: dc.data.NumpyDataset
        ``X`` ``(n, tokenizer.max_length)`` token ids (int16, or int32 for vocabularies over 32767 tokens),
        ``ids`` the record ids, ``y`` = ``w`` = zeros ``(n, 0)`` (no labels) or the descriptor targets.
    info: dict
        ``name`` (file name), ``size`` (sequences kept), ``skipped`` (total left out), ``skipped_by_reason``,
        ``skipped_examples`` (first 20 ``[record index, id, reason]``), ``truncated`` (kept but cut to
        ``max_length`` tokens, with ``truncate=True``), ``read`` (records read),
        ``sha256`` (of the file's bytes) and ``limit``.

    Raises
    ------
    FeaturizationError
        If no sequence of the corpus can be tokenized.

    Examples
    --------
    >>> import os, tempfile
    >>> from deepchem_finetune.featurizers import ProteinTokenizer
    >>> p = os.path.join(tempfile.mkdtemp(), "prot.txt")
    >>> _ = open(p, "w").write("MKTAYIAK\\nMKJV\\nGSHM\\n")
    >>> ds, info = featurize_sequence_corpus(p, ProteinTokenizer(max_length=10))
    >>> ds.X.shape, info["size"], info["skipped_by_reason"]
    ((2, 10), 2, {'unknown_token': 1})
    """
    path = os.fspath(path)
    enc = tokenizer.input_encoding() if hasattr(tokenizer, "input_encoding") else {}
    if enc.get("kind") != "tokens":
        raise TypeError(f"featurize_sequence_corpus needs a sequence tokenizer, got {type(tokenizer).__name__}")
    if targets not in (None, "descriptors"):
        raise ValueError(f"targets must be None or 'descriptors', got {targets!r}")
    from deepchem_finetune.featurizers import SmilesTokenizer
    if targets and not isinstance(tokenizer, SmilesTokenizer):
        raise ValueError(f"descriptor targets need a SMILES corpus and a SmilesTokenizer, got "
                         f"{type(tokenizer).__name__}")
    records = read_sequences(path, limit=limit, min_length=min_length, max_length=max_length, column=column)
    dtype = np.int16 if enc["vocab_size"] <= np.iinfo(np.int16).max else np.int32
    X = np.full((len(records.sequences), tokenizer.max_length), enc["pad_id"], dtype=dtype)
    length_skipped = {s[0] for s in records.skipped}
    record_index = [i for i in range(records.n_read) if i not in length_skipped]  # file record of each sequence
    kept, errors, n_cut = [], [], 0
    with rdkit_errors_silenced():
        for k, seq in enumerate(tqdm(records.sequences, desc="tokenize corpus", disable=not progress)):
            try:
                ids, n_tokens = tokenizer._encode(seq, record_index[k])  # (ids, length before truncation)
            except FeaturizationError as err:
                errors.append((k, _reason(err), str(err)))
                continue
            n_cut += n_tokens > len(ids)
            X[len(kept), :len(ids)] = ids
            kept.append(k)
    X = X[:len(kept)]
    reasons = Counter(_length_reason(why) for _, _, why in records.skipped)
    reasons.update(reason for _, reason, _ in errors)
    examples = [[i, rid, why] for i, rid, why in records.skipped[:_N_EXAMPLES]]
    examples += [[int(record_index[k]), records.ids[k], msg] for k, _, msg in errors[:_N_EXAMPLES]]
    examples.sort(key=lambda e: e[0])
    n_skipped = len(records.skipped) + len(errors)
    info = {"name": os.path.basename(path), "size": len(kept), "skipped": n_skipped,
            "skipped_by_reason": dict(sorted(reasons.items())), "skipped_examples": examples[:_N_EXAMPLES],
            "truncated": n_cut, "read": records.n_read, "sha256": _file_sha256(path), "limit": limit}
    if n_cut:
        logger.warning("%s: truncated %d of %d sequences to max_length=%d tokens", info["name"], n_cut, len(kept),
                       tokenizer.max_length)
    if errors:
        logger.warning("%s: %d of %d sequences could not be tokenized and are not in the dataset (%s); first: %s: %s",
                       info["name"], len(errors), len(records.sequences),
                       ", ".join(f"{r}: {n}" for r, n in info["skipped_by_reason"].items()),
                       records.ids[errors[0][0]], errors[0][2])
    if not kept:
        raise FeaturizationError(f"none of the {records.n_read} sequences in {path!r} could be tokenized "
                                 f"(skipped by reason: {info['skipped_by_reason']}); first: {examples[:1]}")
    ids = np.array([records.ids[k] for k in kept], dtype=object)
    if targets is None:
        empty = np.zeros((len(kept), 0), dtype=np.float32)
        return dc.data.NumpyDataset(X, empty, empty, ids=ids), info
    y, w, n_missing = _descriptor_targets(path, [records.sequences[k] for k in kept], limit, workers, progress)
    info["descriptors_missing"] = n_missing
    return dc.data.NumpyDataset(X, y, w, ids=ids), info


def _descriptor_targets(path, smiles: Sequence[str], limit, workers, progress):
    """(y, w, n without descriptors) for the kept SMILES of a corpus, matched by string to the rows of the
    cached descriptor corpus; a SMILES the graph pipeline rejected gets ``w = 0`` everywhere (counted)."""
    from deepchem_finetune.data.corpus import featurize_corpus
    from deepchem_finetune.featurizers import MolGraphFeaturizer
    from deepchem_finetune.featurizers.descriptors import descriptor_names
    data = featurize_corpus(path, MolGraphFeaturizer("hu2020"), limit=limit, workers=workers, progress=progress,
                            targets="descriptors")
    ds = data.dataset
    row = {smi: i for i, smi in enumerate(ds.ids)}
    n_desc = len(descriptor_names())
    y = np.zeros((len(smiles), n_desc), dtype=np.float32)
    w = np.zeros((len(smiles), n_desc), dtype=np.float32)
    found = np.array([row.get(s, -1) for s in smiles])
    have = found >= 0
    y[have], w[have] = ds.y[found[have]], ds.w[found[have]]
    n_missing = int((~have).sum())
    if n_missing:
        logger.warning("%s: %d of %d tokenized SMILES have no descriptors (the graph pipeline rejected them); "
                       "their descriptor weights are 0", os.path.basename(os.fspath(path)), n_missing, len(smiles))
    return y, w, n_missing


def _length_reason(why: str) -> str:
    return "too_short" if why.startswith("shorter") else "too_long"


def smiles_tokenizer_for_corpus(smiles: Sequence[str], max_length: int = 128, truncate: bool = False,
                                min_count: int = 1):
    """A :class:`SmilesTokenizer` whose vocabulary is built from a corpus, mapping unseen tokens to ``<unk>``.

    Unparsable SMILES are left out of the vocabulary (counted and logged; the corpus featurization reports
    them again). Each SMILES is canonicalized once here; the vocabulary comes from
    :meth:`SmilesTokenizer.build` on the canonical strings, so ids are ordered by decreasing count.

    Returns
    -------
    SmilesTokenizer
        ``unknown="unk"``, ``canonicalize=True``: fine-tuning data with rare tokens still tokenizes.

    Examples
    --------
    >>> tok = smiles_tokenizer_for_corpus(["CCO", "c1ccccc1Cl", "C1CC"], max_length=16)
    >>> tok.vocabulary[:3], tok.unknown
    (['c', '1', 'C'], 'unk')
    """
    from rdkit import Chem
    from deepchem_finetune.featurizers import SmilesTokenizer
    canonical, bad = [], 0
    with rdkit_errors_silenced():
        for smi in smiles:
            mol = Chem.MolFromSmiles(smi) if isinstance(smi, str) and smi else None
            if mol is None:
                bad += 1
                continue
            canonical.append(Chem.MolToSmiles(mol))
    if bad:
        logger.warning("%d of %d SMILES could not be parsed and do not contribute to the vocabulary", bad,
                       len(smiles))
    if not canonical:
        raise ValueError("cannot build a SMILES vocabulary: none of the SMILES could be parsed")
    built = SmilesTokenizer.build(canonical, min_count=min_count, canonicalize=False)
    return SmilesTokenizer(built.vocabulary, max_length=max_length, truncate=truncate, unknown="unk",
                           canonicalize=True)
