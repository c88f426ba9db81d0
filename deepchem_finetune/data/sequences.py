"""Sequence corpora for masked-token pretraining: tokenize FASTA / line / CSV files into a cached dataset.

``featurize_sequence_corpus`` tokenizes the records :func:`~deepchem_finetune.data.readers.read_sequences` reads
(protein, nucleotide or SMILES strings with their ids) with a sequence tokenizer into a ``dc.data.NumpyDataset``
(compact integer token arrays, ids kept). The pass runs in chunks in a process pool and is cached and resumable
(:mod:`deepchem_finetune.data.chunked_cache`, the same machinery as the molecule corpus). Every sequence left out
(length filters, unknown tokens, over-length, unparsable SMILES) is counted by reason, logged with a warning and
reported in ``info``: never dropped silently.

Layout of one cached corpus, ``<cache root>/<key[:16]>/``: ``tokens.npz`` (``X`` token ids, ``ids``) and
``done.json`` (the ``info`` of the corpus and the number of records skipped by length).
"""
from __future__ import annotations

import json
import logging
import os
from collections import Counter
from typing import Dict, Optional, Sequence, Tuple

import numpy as np

from deepchem_finetune import storage
from deepchem_finetune._compat import import_deepchem_quietly, rdkit_errors_silenced
from deepchem_finetune.data.chunked_cache import cached_build, iter_chunks, run_chunked, write_chunk
from deepchem_finetune.data.readers import FASTA_EXTENSIONS, SequenceRecords, read_sequences
from deepchem_finetune.exceptions import FeaturizationError
from deepchem_finetune.featurizers import featurizer_from_spec, featurizer_spec
from deepchem_finetune.hub.format import file_sha256

dc = import_deepchem_quietly()
logger = logging.getLogger(__name__)

__all__ = ["read_sequences", "featurize_sequence_corpus", "smiles_tokenizer_for_corpus", "SequenceRecords",
           "FASTA_EXTENSIONS"]

_N_EXAMPLES = 20


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
                              progress: bool = False, targets: Optional[str] = None, workers: int = 2,
                              cache_dir: Optional[str] = None,
                              chunk_size: int = 10000) -> Tuple["dc.data.NumpyDataset", Dict]:
    """Tokenize a sequence corpus into a ``NumpyDataset`` for masked-token pretraining, cached and resumable.

    Sequences the tokenizer rejects (unknown tokens with ``unknown="error"``, over ``max_length`` tokens
    without ``truncate``, unparsable SMILES) are left out, counted by reason and logged, as are those
    :func:`read_sequences` skips by length. Cache key (:func:`deepchem_finetune.storage.cache_key`): the file's
    content hash, the tokenizer spec (vocabulary included), the reading options and ``chunk_size``, plus the
    package and RDKit versions; two processes tokenizing the same corpus at once do it once.

    Parameters
    ----------
    path: str or os.PathLike
        A file :func:`read_sequences` reads.
    tokenizer: SmilesTokenizer, ProteinTokenizer or NucleotideTokenizer
        Use the model's (``model.get_featurizer()``); workers rebuild it from its spec.
    limit: int, optional
        Only the first ``limit`` records of the file.
    min_length, max_length, column:
        Passed to :func:`read_sequences` (lengths in characters).
    progress: bool, optional (default False)
        tqdm bar over chunks.
    targets: str, optional
        ``"descriptors"`` (SMILES corpora only): ``y`` holds RDKit's 2D descriptors of each molecule and ``w``
        marks the finite ones, computed by :func:`~deepchem_finetune.data.corpus.featurize_corpus` (parallel,
        sharded, cached by content hash: the same cache a GNN descriptor run uses).
    workers: int, optional (default 2)
        Processes for tokenizing (when there is more than one chunk) and for the descriptors.
    cache_dir: str, optional
        Cache root; default ``corpus/`` beside :func:`~deepchem_finetune.data.moleculenet.default_cache_dir`.
    chunk_size: int, optional (default 10000)
        Records per chunk (the unit of work of a worker and of resuming).

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
    >>> d = tempfile.mkdtemp()
    >>> p = os.path.join(d, "prot.txt")
    >>> _ = open(p, "w").write("MKTAYIAK\\nMKJV\\nGSHM\\n")
    >>> ds, info = featurize_sequence_corpus(p, ProteinTokenizer(max_length=10), cache_dir=d)
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
    if not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    spec = featurizer_spec(tokenizer)
    dtype = np.int16 if enc["vocab_size"] <= np.iinfo(np.int16).max else np.int32
    key_inputs = {"kind": "sequence_tokens", "data_sha256": file_sha256(path), "tokenizer": spec, "limit": limit,
                  "min_length": min_length, "max_length": max_length, "column": column,
                  "chunk_size": int(chunk_size)}

    def build(out_dir):
        return _tokenize_corpus(out_dir, path, spec, key_inputs, dtype, workers, progress)

    def check(out_dir, done):
        return None if os.path.isfile(os.path.join(out_dir, TOKENS_FILE)) else f"its {TOKENS_FILE} is missing"

    out_dir, done, hit = cached_build(cache_dir, storage.cache_key(**key_inputs), build, check)
    info = {"name": os.path.basename(path), **{k: done[k] for k in _INFO_KEYS}}
    _warn(info, done, hit, tokenizer.max_length)
    with np.load(os.path.join(out_dir, TOKENS_FILE)) as saved:
        X, ids, sequences = saved["X"], np.array(saved["ids"].tolist(), dtype=object), saved["sequences"]
    if targets is None:
        empty = np.zeros((len(X), 0), dtype=np.float32)
        return dc.data.NumpyDataset(X, empty, empty, ids=ids), info
    smiles = sequences.tobytes().decode().split("\n")
    y, w, n_missing = _descriptor_targets(path, smiles, limit, workers, progress, cache_dir)
    info["descriptors_missing"] = n_missing
    return dc.data.NumpyDataset(X, y, w, ids=ids), info


TOKENS_FILE = "tokens.npz"
_INFO_KEYS = ("size", "skipped", "skipped_by_reason", "skipped_examples", "truncated", "read", "sha256", "limit")


def _tokenize_corpus(out_dir, path, spec, key_inputs, dtype, workers, progress) -> Dict:
    """Read, tokenize in chunks and write ``tokens.npz`` into the cache entry ``out_dir``; returns the summary
    (``info`` without the file name, and what the warnings need)."""
    records = read_sequences(path, limit=key_inputs["limit"], min_length=key_inputs["min_length"],
                             max_length=key_inputs["max_length"], column=key_inputs["column"])
    length_skipped = {s[0] for s in records.skipped}
    record_index = [i for i in range(records.n_read) if i not in length_skipped]  # file record of each sequence
    n_chunks = run_chunked(out_dir, len(records.sequences), key_inputs["chunk_size"], _tokenize_chunk,
                           lambda s, e, dest: (spec, records.sequences[s:e], record_index[s:e], s, dest, dtype),
                           workers, progress, "tokenize corpus")
    rows, kept, errors, n_cut = [], [], [], 0
    for chunk in iter_chunks(out_dir, n_chunks):
        rows.append(chunk["X"])
        kept.extend(chunk["kept"])
        errors.extend(chunk["errors"])
        n_cut += chunk["n_cut"]
    reasons = Counter(_length_reason(why) for _, _, why in records.skipped)
    reasons.update(reason for _, reason, _ in errors)
    examples = [[i, rid, why] for i, rid, why in records.skipped[:_N_EXAMPLES]]
    examples += [[int(record_index[k]), records.ids[k], msg] for k, _, msg in errors[:_N_EXAMPLES]]
    examples.sort(key=lambda e: e[0])
    summary = {"size": len(kept), "skipped": len(records.skipped) + len(errors),
               "skipped_by_reason": dict(sorted(reasons.items())), "skipped_examples": examples[:_N_EXAMPLES],
               "truncated": n_cut, "read": records.n_read, "sha256": key_inputs["data_sha256"],
               "limit": key_inputs["limit"], "n_sequences": len(records.sequences), "n_not_tokenized": len(errors),
               "first_error": [records.ids[errors[0][0]], errors[0][2]] if errors else None,
               "key_inputs": key_inputs, **storage.cache_versions()}
    if not kept:
        raise FeaturizationError(f"none of the {records.n_read} sequences in {path!r} could be tokenized "
                                 f"(skipped by reason: {summary['skipped_by_reason']}); first: {examples[:1]}")
    joined = "\n".join(records.sequences[k] for k in kept).encode()  # compact: no padding to the longest
    with storage.atomic_file(os.path.join(out_dir, TOKENS_FILE), "wb") as fh:
        np.savez(fh, X=np.concatenate(rows), ids=np.array([records.ids[k] for k in kept], dtype=str),
                 sequences=np.frombuffer(joined, dtype=np.uint8))
    return summary


_TOKENIZERS: dict = {}  # per-process cache: spec JSON -> tokenizer


def _tokenize_chunk(spec: dict, sequences: Sequence[str], record_index: Sequence[int], start: int, dest: str,
                    dtype) -> int:
    """Tokenize ``sequences`` (kept sequences ``start, start + 1, ...``; ``record_index`` names them in errors)
    into the chunk file ``dest``. Top-level so that spawned workers can import it; returns the number kept."""
    spec_key = json.dumps(spec, sort_keys=True)
    if spec_key not in _TOKENIZERS:
        _TOKENIZERS[spec_key] = featurizer_from_spec(spec)
    tokenizer = _TOKENIZERS[spec_key]
    enc = tokenizer.input_encoding()
    X = np.full((len(sequences), tokenizer.max_length), enc["pad_id"], dtype=dtype)
    kept, errors, n_cut = [], [], 0
    with rdkit_errors_silenced():
        for k, seq in enumerate(sequences):
            try:
                ids, n_tokens = tokenizer._encode(seq, record_index[k])  # (ids, length before truncation)
            except FeaturizationError as err:
                errors.append((start + k, _reason(err), str(err)))
                continue
            n_cut += n_tokens > len(ids)
            X[len(kept), :len(ids)] = ids
            kept.append(start + k)
    write_chunk(dest, {"X": X[:len(kept)], "kept": kept, "errors": errors, "n_cut": n_cut})
    return len(kept)


def _warn(info: Dict, done: Dict, hit: bool, max_length: int) -> None:
    """The warnings of a tokenized corpus; on a cache hit also the count :func:`read_sequences` logged when the
    corpus was read."""
    n_length = info["skipped"] - done["n_not_tokenized"]
    if hit and n_length:
        logger.warning("%s: skipped %d of %d records by length", info["name"], n_length, info["read"])
    if info["truncated"]:
        logger.warning("%s: truncated %d of %d sequences to max_length=%d tokens", info["name"], info["truncated"],
                       info["size"], max_length)
    if done["n_not_tokenized"]:
        logger.warning("%s: %d of %d sequences could not be tokenized and are not in the dataset (%s); first: %s: %s",
                       info["name"], done["n_not_tokenized"], done["n_sequences"],
                       ", ".join(f"{r}: {n}" for r, n in info["skipped_by_reason"].items()), *done["first_error"])
def _descriptor_targets(path, smiles: Sequence[str], limit, workers, progress, cache_dir):
    """(y, w, n without descriptors) for the kept SMILES of a corpus, matched by string to the rows of the
    cached descriptor corpus; a SMILES the graph pipeline rejected gets ``w = 0`` everywhere (counted)."""
    from deepchem_finetune.data.corpus import featurize_corpus
    from deepchem_finetune.featurizers import MolGraphFeaturizer
    from deepchem_finetune.featurizers.descriptors import descriptor_names
    data = featurize_corpus(path, MolGraphFeaturizer("hu2020"), cache_dir=cache_dir, limit=limit, workers=workers,
                            progress=progress, targets="descriptors")
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
