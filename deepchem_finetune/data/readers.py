"""Corpus files by format: SMILES and sequence records from FASTA, one-per-line and CSV files, optionally gzipped.

:func:`read_smiles` (molecule corpora, :mod:`deepchem_finetune.data.corpus`) and :func:`read_sequences` (sequence
corpora, :mod:`deepchem_finetune.data.sequences`) share the format handling: extension check, gzip, header
lines, the CSV column lookup (the error lists the file's columns) and the ``limit`` check.
"""
from __future__ import annotations

import csv
import gzip
import logging
import os
import re
from typing import Callable, Iterator, List, NamedTuple, Optional, Sequence, Tuple

import numpy as np

logger = logging.getLogger(__name__)

__all__ = ["read_smiles", "read_sequences", "SequenceRecords", "FASTA_EXTENSIONS", "check_limit"]

FASTA_EXTENSIONS = (".fasta", ".fa", ".faa", ".fna")
SMILES_EXTENSIONS = (".smi", ".txt", ".csv")
SEQUENCE_EXTENSIONS = FASTA_EXTENSIONS + (".txt", ".seq", ".smi", ".csv")
_SEQUENCE_COLUMNS = ("sequence", "seq", "smiles")
_ID_COLUMNS = ("id", "name", "identifier")
_SPACE = re.compile(r"\s+")


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


def check_limit(limit) -> None:
    """Raise ``ValueError`` unless ``limit`` is None or a positive integer."""
    if limit is not None and (not isinstance(limit, (int, np.integer)) or limit < 1):
        raise ValueError(f"limit must be a positive integer or None, got {limit!r}")


# ------------------------------------------------------------------------------------------- readers
def read_smiles(path, smiles_column: Optional[str] = None, limit: Optional[int] = None) -> List[str]:
    """Read the SMILES of a ``.smi``, ``.txt`` or ``.csv`` file, each optionally gzipped.

    ``.smi`` / ``.txt``: the first whitespace-separated token of each line; empty lines and a first line
    ``smiles`` / ``SMILES`` (a header) are skipped. ``.csv``: the column ``smiles_column``, else the one named
    ``smiles`` (any case); an empty cell is returned as ``""`` (it will be reported invalid).

    Parameters
    ----------
    path: str or os.PathLike
    smiles_column: str, optional
        CSV column holding the SMILES.
    limit: int, optional
        Read only the first ``limit`` SMILES.

    Raises
    ------
    ValueError
        Unknown file type, CSV without the SMILES column (the message lists its columns), ``smiles_column``
        for a non-CSV file, or ``limit < 1``.

    Examples
    --------
    >>> import os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "mols.smi")
    >>> _ = open(p, "w").write("SMILES\\nCCO ethanol\\n\\nc1ccccc1\\n")
    >>> read_smiles(p)
    ['CCO', 'c1ccccc1']
    """
    path = os.fspath(path)
    check_limit(limit)
    ext = _extension(path, SMILES_EXTENSIONS, "a .smi, .txt or .csv file")
    _check_column_option(path, ext, "smiles_column", smiles_column)
    with _open(path, ext) as fh:
        if ext == ".csv":
            records = _csv_records(fh, path, smiles_column, ("smiles",), str.strip, "SMILES", "smiles_column")
        else:
            records = _line_records(fh, ("smiles",))
        out = []
        for _, smi in records:
            if limit is not None and len(out) >= limit:
                break
            out.append(smi)
    return out


def read_sequences(path, limit: Optional[int] = None, min_length: int = 1, max_length: Optional[int] = None,
                   column: Optional[str] = None) -> SequenceRecords:
    """Read the sequences of a FASTA, one-per-line or CSV file, each optionally gzipped.

    * FASTA (``.fasta``, ``.fa``, ``.faa``, ``.fna``): records start at ``>``; a record's lines are joined;
      the id is the header's first word.
    * Lines (``.txt``, ``.seq``, ``.smi``): the first word of each non-empty line; the second word, if any,
      is the id. A first line ``sequence`` / ``seq`` / ``smiles`` (any case) is a header and skipped.
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
    check_limit(limit)
    if not isinstance(min_length, (int, np.integer)) or min_length < 0:
        raise ValueError(f"min_length must be an integer >= 0, got {min_length!r}")
    if max_length is not None and (not isinstance(max_length, (int, np.integer)) or max_length < max(1, min_length)):
        raise ValueError(f"max_length must be an integer >= max(1, min_length), got {max_length!r}")
    ext = _extension(path, SEQUENCE_EXTENSIONS, f"FASTA ({', '.join(FASTA_EXTENSIONS)}), one sequence per line "
                                                "(.txt, .seq, .smi) or .csv")
    _check_column_option(path, ext, "column", column)
    ids, sequences, skipped, n_read = [], [], [], 0
    with _open(path, ext) as fh:
        if ext in FASTA_EXTENSIONS:
            records = _fasta_records(fh)
        elif ext == ".csv":
            records = _csv_records(fh, path, column, _SEQUENCE_COLUMNS, lambda s: _SPACE.sub("", s), "sequence",
                                   "column", _ID_COLUMNS)
        else:
            records = _line_records(fh, _SEQUENCE_COLUMNS)
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


# ------------------------------------------------------------------------------------------- formats
def _extension(path: str, allowed: Sequence[str], expected: str) -> str:
    """The lower-case extension of ``path`` without a trailing ``.gz``; ``ValueError`` if not ``allowed``."""
    ext = os.path.splitext(path[:-3] if path.endswith(".gz") else path)[1].lower()
    if ext not in allowed:
        raise ValueError(f"cannot read {path!r}: expected {expected}, optionally gzipped (.gz)")
    return ext


def _check_column_option(path: str, ext: str, option: str, value) -> None:
    if value is not None and ext != ".csv":
        raise ValueError(f"{option}={value!r} applies to .csv files only, not to {path!r}")


def _open(path: str, ext: str):
    opener = gzip.open if path.endswith(".gz") else open
    return opener(path, "rt", encoding="utf-8-sig", newline="" if ext == ".csv" else None)


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


def _line_records(fh, header_names: Sequence[str]) -> Iterator[Tuple[str, str]]:
    """``(second word or "", first word)`` of each non-empty line; a first line naming the column is skipped."""
    first = True
    for line in fh:
        words = line.split()
        if not words:
            continue
        if first and words[0].lower() in header_names:
            first = False
            continue
        first = False
        yield (words[1] if len(words) > 1 else ""), words[0]


def _csv_records(fh, path: str, column: Optional[str], names: Sequence[str], clean: Callable[[str], str],
                 what: str, option: str, id_names: Sequence[str] = ()) -> Iterator[Tuple[str, str]]:
    """``(id or "", clean(cell))`` of each non-empty row: the column ``column``, else the first of ``names``
    (any case); ids from the first of ``id_names``."""
    reader = csv.reader(fh)
    header = [h.strip() for h in next(reader, [])]
    lower = [h.lower() for h in header]
    if column is not None:
        if column not in header:
            raise ValueError(f"column {column!r} not found in {path!r}; its columns are {header}")
        col = header.index(column)
    else:
        found = [lower.index(n) for n in names if n in lower]
        if not found:
            raise ValueError(f"no {what} column in {path!r}: its columns are {header}; "
                             f"pass {option}=<name of the column>")
        col = found[0]
    id_cols = [lower.index(n) for n in id_names if n in lower]
    for row in reader:
        if not row:
            continue
        value = clean(row[col]) if col < len(row) else ""
        rid = row[id_cols[0]].strip() if id_cols and id_cols[0] < len(row) else ""
        yield rid, value
