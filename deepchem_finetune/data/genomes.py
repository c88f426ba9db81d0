"""Genome corpora: FASTA genomes cut into windows (both strands, ``N``-filtered, optionally anchored on GFF genes).

``genome_windows`` reads one genome (FASTA, optionally gzipped, any number of records: chromosome, plasmids) and
returns fixed-length windows with their coordinates as ids, each window counted when it is left out (too many
ambiguous bases, a gene too close to a record end). ``genome_corpus`` writes the windows of one or several
genomes into a FASTA file in the corpus cache (keyed by the genomes' sha256 and the window options), which is then
tokenized by the cached, resumable corpus pass of :mod:`deepchem_finetune.data.sequences` like any other corpus
(``deepchem-finetune pretrain --corpus genome.fna.gz --window 128 --stride 64 --both-strands``, or a JSON corpus
spec, see :func:`read_corpus_spec`). Also here: the DNA primitives the tasks and splits share
(:func:`reverse_complement`, :func:`kmer_codes`).

Window ids: ``<record>:<start>-<end>(<strand>)``, 0-based half-open coordinates on the forward strand; anchored
windows are prefixed with the gene's name, ``<gene>|<record>:...``. A ``-`` window is the reverse complement of
that stretch, read 5' to 3'. Genomes are treated as linear (no window wraps around a circular chromosome's origin).
"""
from __future__ import annotations

import json
import logging
import os
from collections import Counter
from typing import Dict, Iterator, List, NamedTuple, Optional, Sequence, Tuple

import numpy as np

from deepchem_finetune import storage
from deepchem_finetune.data.chunked_cache import cached_build, default_cache_root
from deepchem_finetune.data.readers import _open, read_sequences
from deepchem_finetune.hub.format import file_sha256

logger = logging.getLogger(__name__)

__all__ = ["reverse_complement", "kmer_codes", "GffFeature", "read_gff", "GenomeWindows", "genome_windows",
           "genome_corpus", "read_corpus_spec", "ANCHORS"]

ANCHORS = ("gene", "upstream")
_COMPLEMENT = str.maketrans("ACGTUNRYKMSWBDHVacgtunrykmswbdhv", "TGCAANYRMKSWVHDBtgcaanyrmkswvhdb")
_CODE = np.full(256, 4, dtype=np.uint8)
for _i, _c in enumerate(b"ACGT"):
    _CODE[_c] = _CODE[_c + 32] = _i
_CODE[ord("U")] = _CODE[ord("u")] = 3


def reverse_complement(seq: str) -> str:
    """Reverse complement of a DNA string (IUPAC codes complemented, case kept, U read as T's partner A).

    Examples
    --------
    >>> reverse_complement("AACGTn")
    'nACGTT'
    """
    return seq.translate(_COMPLEMENT)[::-1]


def kmer_codes(seq: str, k: int, canonical: bool = False) -> np.ndarray:
    """The k-mers of ``seq`` as integers (2 bits per base, ``A C G T`` = 0 1 2 3), in order; k-mers holding any
    other character (``N``, IUPAC codes) are left out. ``canonical``: each k-mer and its reverse complement get
    the same code (the smaller one). ``k`` from 1 to 31.

    Examples
    --------
    >>> kmer_codes("ACGTN", 2).tolist()           # AC CG GT (TN left out)
    [1, 6, 11]
    >>> kmer_codes("AAC", 2, canonical=True).tolist() == kmer_codes("GTT", 2, canonical=True).tolist()[::-1]
    True
    """
    if not 1 <= k <= 31:
        raise ValueError(f"k must be from 1 to 31, got {k!r}")
    a = _CODE[np.frombuffer(seq.encode("ascii", "replace"), dtype=np.uint8)]
    if len(a) < k:
        return np.zeros(0, dtype=np.int64)
    win = np.lib.stride_tricks.sliding_window_view(a, k)
    win = win[(win < 4).all(axis=1)].astype(np.int64)
    weights = np.int64(1) << (2 * np.arange(k - 1, -1, -1, dtype=np.int64))
    codes = win @ weights
    if canonical:
        codes = np.minimum(codes, (3 - win[:, ::-1]) @ weights)
    return codes


# ------------------------------------------------------------------------------------------------ GFF
class GffFeature(NamedTuple):
    """One GFF3 feature: ``record`` (seqid), 0-based half-open ``start``/``end``, ``strand`` ('+'/'-'), ``name``."""
    record: str
    start: int
    end: int
    strand: str
    name: str


def read_gff(path, feature: str = "gene") -> List[GffFeature]:
    """The features of type ``feature`` of a GFF3 file (optionally gzipped), in file order.

    The name is the ``Name`` attribute, else ``ID``, else ``<record>:<start>``. Reading stops at ``##FASTA``.

    Raises
    ------
    ValueError
        A feature line without 9 tab-separated columns, with non-integer coordinates or a strand other than
        ``+``/``-`` (naming the line number).

    Examples
    --------
    >>> import os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "g.gff")
    >>> _ = open(p, "w").write("##gff-version 3\\nchr\\tRefSeq\\tgene\\t3\\t8\\t.\\t-\\t.\\tID=g1;Name=abc\\n")
    >>> read_gff(p)
    [GffFeature(record='chr', start=2, end=8, strand='-', name='abc')]
    """
    path = os.fspath(path)
    out = []
    with _open(path, ".gff") as fh:
        for lineno, line in enumerate(fh, 1):
            if line.startswith("##FASTA"):
                break
            if line.startswith("#") or not line.strip():
                continue
            cols = line.rstrip("\n").split("\t")
            if len(cols) != 9:
                raise ValueError(f"{path} line {lineno}: expected 9 tab-separated GFF3 columns, got {len(cols)}")
            if cols[2] != feature:
                continue
            try:
                start, end = int(cols[3]) - 1, int(cols[4])
            except ValueError:
                raise ValueError(f"{path} line {lineno}: start/end {cols[3]!r}/{cols[4]!r} are not integers") from None
            if cols[6] not in "+-" or len(cols[6]) != 1:
                raise ValueError(f"{path} line {lineno}: strand {cols[6]!r} is neither '+' nor '-'")
            attrs = dict(kv.split("=", 1) for kv in cols[8].split(";") if "=" in kv)
            out.append(GffFeature(cols[0], start, end, cols[6], attrs.get("Name") or attrs.get("ID")
                                  or f"{cols[0]}:{start}"))
    return out


# ------------------------------------------------------------------------------------------- windows
class GenomeWindows(NamedTuple):
    """Result of :func:`genome_windows`: ``ids`` and ``sequences`` (upper case; IUPAC codes other than ``N`` written
    as ``N``) of the windows kept; ``skipped_by_reason`` (windows left out: ``too_many_N``, ``off_record_end``,
    ``record_shorter_than_window``); ``skipped_examples`` (first 20 ``[id, reason]``); ``n_ambiguous_as_N``
    (bases of kept windows written as ``N``); ``records`` (``[id, length]`` of each FASTA record)."""
    ids: List[str]
    sequences: List[str]
    skipped_by_reason: Dict[str, int]
    skipped_examples: List[List[str]]
    n_ambiguous_as_N: int
    records: List[List]


def genome_windows(path, window: int, stride: Optional[int] = None, both_strands: bool = False,
                   max_n_fraction: float = 0.0, gff=None, anchor: Optional[str] = None, feature: str = "gene",
                   upstream_offset: int = 0) -> GenomeWindows:
    """Cut a FASTA genome into windows of ``window`` bases.

    Without ``anchor``, windows tile every record from its start, every ``stride`` bases (full windows only).
    With a GFF file and ``anchor="upstream"``: one window per gene, the ``window`` bases before its start
    (plus ``upstream_offset`` bases of the gene itself), read in the gene's orientation, i.e. its promoter
    region; ``anchor="gene"``: windows tiling each gene body from its 5' end in the gene's orientation (a gene
    shorter than ``window`` gets one window starting at its 5' end).

    Parameters
    ----------
    path: str or os.PathLike
        FASTA genome (``.fna``, ``.fa``, ``.fasta``, optionally ``.gz``), one or several records.
    window: int
        Window length in bases.
    stride: int, optional
        Default ``window`` (no overlap).
    both_strands: bool, optional (default False)
        Also emit the reverse complement of every window kept (right after it).
    max_n_fraction: float, optional (default 0.0)
        Windows with more than this fraction of bases other than ``A C G T`` are left out (``too_many_N``).
    gff: str, optional
        GFF3 annotation of the same genome (needed by ``anchor``); ``feature`` is its feature type.
    anchor: str, optional
        None (tile the records), "upstream" or "gene".
    upstream_offset: int, optional (default 0)
        ``anchor="upstream"``: bases of the gene included at the window's 3' end.

    Returns
    -------
    GenomeWindows

    Examples
    --------
    >>> import os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "tiny.fna")
    >>> _ = open(p, "w").write(">chr\\nAACCGGTTNNAC\\n")
    >>> w = genome_windows(p, 4, stride=4, both_strands=True)
    >>> list(zip(w.ids, w.sequences)), w.skipped_by_reason
    ([('chr:0-4(+)', 'AACC'), ('chr:0-4(-)', 'GGTT'), ('chr:4-8(+)', 'GGTT'), ('chr:4-8(-)', 'AACC')], {'too_many_N': 1})
    """
    stride = window if stride is None else stride
    for name, value, low in (("window", window, 1), ("stride", stride, 1), ("upstream_offset", upstream_offset, 0)):
        if not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    if not 0.0 <= max_n_fraction <= 1.0:
        raise ValueError(f"max_n_fraction must be between 0 and 1, got {max_n_fraction!r}")
    if anchor is not None and (anchor not in ANCHORS or gff is None):
        raise ValueError(f"anchor must be None or one of {ANCHORS}, with a gff file; got anchor={anchor!r}, gff={gff!r}")
    records = read_sequences(path)
    genome = {rid: seq.upper() for rid, seq in zip(records.ids, records.sequences)}
    max_n = int(np.floor(max_n_fraction * window + 1e-9))
    ids, seqs, skipped, examples = [], [], Counter(), []
    n_iupac = 0
    for wid, rid, start, strand in _placements(genome, window, stride, gff, anchor, feature, upstream_offset,
                                                skipped, examples):
        seq = genome[rid][start:start + window]
        bad = len(seq) - sum(seq.count(b) for b in "ACGT")
        if bad > max_n:
            skipped["too_many_N"] += 1
            _example(examples, wid, f"{bad} of {window} bases are not A/C/G/T (max_n_fraction={max_n_fraction})")
            continue
        if bad and bad != seq.count("N"):
            n_iupac += bad - seq.count("N")
            seq = "".join(c if c in "ACGTN" else "N" for c in seq)
        forward = seq if strand == "+" else reverse_complement(seq)
        ids.append(wid)
        seqs.append(forward)
        if both_strands:
            ids.append(wid[:-3] + ("(-)" if strand == "+" else "(+)"))
            seqs.append(reverse_complement(forward))
    if skipped:
        logger.warning("%s: left out %d windows (%s); first: %s", os.path.basename(os.fspath(path)),
                       sum(skipped.values()), dict(skipped), examples[0])
    return GenomeWindows(ids, seqs, dict(sorted(skipped.items())), examples, n_iupac,
                         [[rid, len(s)] for rid, s in genome.items()])


def _example(examples: list, wid: str, why: str) -> None:
    if len(examples) < 20:
        examples.append([wid, why])


def _placements(genome, window, stride, gff, anchor, feature, offset, skipped, examples) -> Iterator[Tuple]:
    """``(id, record, start, strand)`` of every candidate window (strand '-' = reverse complement of the stretch)."""
    if anchor is None:
        for rid, seq in genome.items():
            if len(seq) < window:
                skipped["record_shorter_than_window"] += 1
                _example(examples, rid, f"record of {len(seq)} bases, shorter than window={window}")
            for start in range(0, len(seq) - window + 1, stride):
                yield f"{rid}:{start}-{start + window}(+)", rid, start, "+"
        return
    for g in read_gff(gff, feature):
        if g.record not in genome:
            raise ValueError(f"GFF {feature} {g.name!r} is on record {g.record!r}, which is not in the genome "
                             f"(its records: {list(genome)[:5]})")
        n = len(genome[g.record])
        if anchor == "upstream":  # in gene orientation: [start - window + offset, start + offset) for '+'
            starts = [g.start + offset - window if g.strand == "+" else g.end - offset]
        else:
            length = max(g.end - g.start, window)
            steps = range(0, length - window + 1, stride)
            starts = [g.start + s for s in steps] if g.strand == "+" else [g.end - s - window for s in steps]
        for start in starts:
            wid = f"{g.name}|{g.record}:{start}-{start + window}({g.strand})"
            if start < 0 or start + window > n:
                skipped["off_record_end"] += 1
                _example(examples, wid, f"runs past the end of {g.record} ({n} bases)")
                continue
            yield wid, g.record, start, g.strand


# -------------------------------------------------------------------------------------- corpus files
WINDOW_OPTIONS = ("window", "stride", "both_strands", "max_n_fraction", "anchor", "feature", "upstream_offset")
WINDOWS_FILE = "windows.fasta"


def read_corpus_spec(path) -> Dict:
    """A JSON genome corpus spec: ``{"genomes": [paths], "gff": {genome: gff path} (optional), "window": ...,
    and the other options of :func:`genome_windows`}``; relative paths are read from the spec file's folder.

    Examples
    --------
    >>> spec = read_corpus_spec("bacteria.json")  # doctest: +SKIP
    >>> spec["genomes"], spec["window"]  # doctest: +SKIP
    (['/data/ecoli.fna.gz', '/data/salmonella.fna.gz'], 128)
    """
    with open(path) as fh:
        spec = json.load(fh)
    base = os.path.dirname(os.path.abspath(path))
    unknown = set(spec) - {"genomes", "gff", "name", *WINDOW_OPTIONS}
    if not spec.get("genomes") or unknown:
        raise ValueError(f"{path}: a genome corpus spec needs a 'genomes' list and only the keys "
                         f"{['genomes', 'gff', 'name', *WINDOW_OPTIONS]}; unknown: {sorted(unknown)}")
    spec["genomes"] = [os.path.join(base, g) for g in spec["genomes"]]
    spec["gff"] = {os.path.join(base, g): os.path.join(base, f) for g, f in (spec.get("gff") or {}).items()}
    return spec


def genome_corpus(genomes: Sequence, window: int, cache_dir: Optional[str] = None, gff: Optional[Dict] = None,
                  **options) -> Tuple[str, Dict]:
    """Write the windows of ``genomes`` (:func:`genome_windows` with ``window`` and ``options``) into one FASTA file
    in the corpus cache, once: the entry is keyed by the genomes' and GFFs' sha256 and the options.

    Parameters
    ----------
    genomes: sequence of str
        FASTA genome files.
    gff: dict, optional
        Genome path -> GFF3 path (genomes without one cannot be ``anchor``ed: an error).
    cache_dir: str, optional
        Cache root (default ``genome_windows/`` in :func:`~deepchem_finetune.data.chunked_cache.default_cache_root`).

    Returns
    -------
    (str, dict)
        The FASTA path (give it to :func:`~deepchem_finetune.data.sequences.featurize_sequence_corpus`) and
        ``info``: ``genomes`` (name, sha256, records, windows, skipped_by_reason per genome), ``windows`` (total
        kept), ``skipped_by_reason`` (summed), ``skipped_examples`` and the options.

    Examples
    --------
    >>> import os, tempfile
    >>> d = tempfile.mkdtemp(); p = os.path.join(d, "tiny.fna")
    >>> _ = open(p, "w").write(">chr\\nAACCGGTTNNAC\\n")
    >>> path, info = genome_corpus([p], 4, cache_dir=d, both_strands=True)
    >>> info["windows"], info["skipped_by_reason"], open(path).read().split()[:2]
    (4, {'too_many_N': 1}, ['>chr:0-4(+)', 'AACC'])
    """
    gff = {os.fspath(k): os.fspath(v) for k, v in (gff or {}).items()}
    genomes = [os.fspath(g) for g in genomes]
    unknown = set(options) - set(WINDOW_OPTIONS)
    if unknown:
        raise TypeError(f"unknown window options {sorted(unknown)}; choose from {list(WINDOW_OPTIONS)}")
    options = {"window": window, **options}
    if options.get("anchor") and any(g not in gff for g in genomes):
        raise ValueError(f"anchor={options['anchor']!r} needs a GFF for every genome; missing for "
                         f"{[g for g in genomes if g not in gff]}")
    sources = [{"name": os.path.basename(g), "sha256": file_sha256(g),
                "gff_sha256": file_sha256(gff[g]) if g in gff else None} for g in genomes]
    key = storage.cache_key(kind="genome_windows", sources=sources, options=options)

    def build(folder):
        per_genome, total = [], Counter()
        examples: list = []
        with storage.atomic_file(os.path.join(folder, WINDOWS_FILE)) as fh:
            for g, src in zip(genomes, sources):
                w = genome_windows(g, gff=gff.get(g), **options)
                fh.writelines(f">{i}\n{s}\n" for i, s in zip(w.ids, w.sequences))
                per_genome.append({**src, "records": w.records, "windows": len(w.ids),
                                   "skipped_by_reason": w.skipped_by_reason, "ambiguous_as_N": w.n_ambiguous_as_N})
                total.update(w.skipped_by_reason)
                examples += [[src["name"], *e] for e in w.skipped_examples][:20 - len(examples)]
        return {"genomes": per_genome, "windows": sum(g["windows"] for g in per_genome),
                "skipped_by_reason": dict(sorted(total.items())), "skipped_examples": examples, "options": options}

    root = os.path.join(os.fspath(cache_dir) if cache_dir is not None else default_cache_root(), "genome_windows")
    folder, done, _ = cached_build(root, key, build)
    return os.path.join(folder, WINDOWS_FILE), {k: v for k, v in done.items() if k != "key"}
