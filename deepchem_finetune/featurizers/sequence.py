"""Tokenizing featurizers for sequences: SMILES, proteins and nucleic acids.

Each turns a list of strings into an ``int64`` array of shape ``(n, max_length)`` of token ids, right-padded
with ``<pad>`` = 0, so ``dc.data.NumpyDataset(X, y)`` holds it directly. Ids come from a
:class:`~deepchem_finetune.featurizers.vocabulary.Vocabulary` (``<pad>`` 0, ``<unk>`` 1, ``<mask>`` 2). Every
failure raises :class:`~deepchem_finetune.exceptions.FeaturizationError` naming the sequence's index, and for
an unknown token its character position, and the fix.

Attribute names equal the ``__init__`` argument names: DeepChem builds its cache keys from them.
"""
from __future__ import annotations

import hashlib
import itertools
import logging
import re
from collections import Counter
from typing import List, Sequence, Tuple, Union

import numpy as np
from rdkit import Chem

from deepchem_finetune._compat import import_deepchem_quietly, rdkit_errors_silenced
from deepchem_finetune.exceptions import FeaturizationError, SpecMismatchError
from deepchem_finetune.featurizers.vocabulary import Vocabulary

dc = import_deepchem_quietly()
logger = logging.getLogger(__name__)

__all__ = ["SmilesTokenizer", "ProteinTokenizer", "NucleotideTokenizer", "SEQUENCE_TOKENIZERS",
           "PROTEIN_ALPHABET", "NUCLEOTIDE_ALPHABET"]

#: 20 standard residues, then IUPAC X (any), B (D/N), Z (E/Q), U (selenocysteine), O (pyrrolysine).
PROTEIN_ALPHABET = tuple("ACDEFGHIKLMNPQRSTVWY") + tuple("XBZUO")
NUCLEOTIDE_ALPHABET = tuple("ACGTUN")

# Atom-level SMILES tokens (Schwaller et al., 2019), plus %(nnn) ring bonds.
_SMILES_TOKEN = re.compile(r"\[[^\[\]]+\]|Br|Cl|%\([0-9]+\)|%[0-9]{2}|[BCNOPSFI]|[bcnops]|[0-9]"
                           r"|[()=#\-+\\/:~@?>*$.]")


class _SequenceTokenizer(dc.feat.Featurizer):
    """Shared logic: validation, unknown-token policy, truncation, padding, spec."""

    kind = "sequence"  # word used in error messages

    def _init_common(self, max_length: int, truncate: bool, unknown: str) -> None:
        if not isinstance(max_length, (int, np.integer)) or max_length < 1:
            raise ValueError(f"max_length must be a positive integer, got {max_length!r}")
        if unknown not in ("error", "unk"):
            raise ValueError(f"unknown must be 'error' or 'unk', got {unknown!r}")
        self.max_length = int(max_length)
        self.truncate = bool(truncate)
        self.unknown = unknown

    @property
    def vocab(self) -> Vocabulary:
        return self._vocab

    def _prepare(self, sequence: str, index: int) -> str:
        return sequence.upper()

    def _split(self, sequence: str, index: int) -> Tuple[List[str], List[int]]:
        """Tokens and their character offsets."""
        return list(sequence), list(range(len(sequence)))

    # -------------------------------------------------------------------------- encoding
    def tokenize(self, sequence: str, index: int = 0) -> List[str]:
        """The tokens of one sequence (after canonicalization / upper-casing), before id lookup."""
        return self._split(self._prepare(self._check_input(sequence, index), index), index)[0]

    def _check_input(self, sequence, index: int) -> str:
        if not isinstance(sequence, str):
            raise FeaturizationError(f"{self.kind} at index {index} is a {type(sequence).__name__} "
                                     f"({sequence!r}), expected a string", index, sequence)
        if not sequence:
            raise FeaturizationError(f"{self.kind} at index {index} is an empty string; remove it", index,
                                     sequence)
        return sequence

    def encode_one(self, sequence: str, index: int = 0) -> np.ndarray:
        """Token ids of one sequence, unpadded, ``(n_tokens,)``; ``index`` only names it in errors."""
        return self._encode(sequence, index)[0]

    def _encode(self, sequence: str, index: int) -> Tuple[np.ndarray, int]:
        seq = self._prepare(self._check_input(sequence, index), index)
        tokens, starts = self._split(seq, index)
        unk = -1 if self.unknown == "error" else self._vocab.unk_id
        ids = np.fromiter((self._vocab.get(t, unk) for t in tokens), dtype=np.int64, count=len(tokens))
        if self.unknown == "error" and (ids < 0).any():
            k = int(np.argmax(ids < 0))
            shown = repr(seq) if len(seq) <= 60 else f"...{seq[max(0, starts[k] - 20):starts[k] + 20]}..."
            raise FeaturizationError(
                f"{self.kind} at index {index} has unknown token {tokens[k]!r} at position {starts[k]} "
                f"(in {shown}); it is not in the vocabulary of {len(self._vocab)} tokens. Pass "
                "unknown='unk' to map unknown tokens to <unk>", index, sequence)
        if len(ids) > self.max_length:
            if not self.truncate:
                raise FeaturizationError(
                    f"{self.kind} at index {index} has {len(ids)} tokens, more than max_length="
                    f"{self.max_length}; pass a larger max_length or truncate=True", index, sequence)
            return ids[:self.max_length], len(ids)
        return ids, len(ids)

    def _featurize(self, datapoint, **kwargs) -> np.ndarray:
        return self.pad(self.encode_one(datapoint))

    def pad(self, ids: np.ndarray) -> np.ndarray:
        """Right-pad ids of :meth:`encode_one` with ``<pad>`` to ``(max_length,)``."""
        row = np.full(self.max_length, self._vocab.pad_id, dtype=np.int64)
        row[:len(ids)] = ids
        return row

    def featurize(self, datapoints, log_every_n: int = 1000, **kwargs) -> np.ndarray:
        """Token ids ``(n, max_length)``, ``int64``, right-padded with 0.

        Raises
        ------
        FeaturizationError
            For the first invalid, empty, over-long or (with ``unknown="error"``) unknown-token input,
            naming its index.
        """
        if isinstance(datapoints, str):
            datapoints = [datapoints]
        datapoints = list(datapoints)
        out = np.full((len(datapoints), self.max_length), self._vocab.pad_id, dtype=np.int64)
        n_cut = 0
        with rdkit_errors_silenced():
            for i, seq in enumerate(datapoints):
                ids, n_tokens = self._encode(seq, i)
                n_cut += n_tokens > self.max_length
                out[i, :len(ids)] = ids
        if n_cut:
            logger.warning("%s: truncated %d of %d sequences to max_length=%d tokens", type(self).__name__,
                           n_cut, len(datapoints), self.max_length)
        return out

    def decode(self, ids: Sequence[int]) -> str:
        """The string of a row of ids (padding dropped; ``<unk>`` / ``<mask>`` written as such)."""
        return "".join(self._vocab.decode(ids, skip_special=False))

    # ------------------------------------------------------------------------------ spec
    def _config(self) -> dict:
        return {"max_length": self.max_length, "truncate": self.truncate, "unknown": self.unknown}

    def get_spec(self) -> dict:
        """JSON ``{name, config}`` (config includes the vocabulary) for :func:`featurizer_from_spec`."""
        config = self._config()
        config["vocabulary"] = self._vocab.regular_tokens
        return {"name": type(self).__name__, "config": config}

    @classmethod
    def from_config(cls, config: dict) -> "_SequenceTokenizer":
        """Rebuild from ``get_spec()["config"]``; a fixed vocabulary must equal the stored one."""
        config = dict(config)
        stored = config.pop("vocabulary", None)
        tok = cls(**config)
        if stored is not None and list(stored) != tok.vocab.regular_tokens:
            raise SpecMismatchError(f"{cls.__name__} vocabulary differs from the stored one:\n"
                                    f"  stored: {list(stored)}\n  this package: {tok.vocab.regular_tokens}")
        return tok

    def input_encoding(self) -> dict:
        """What a sequence backbone must embed: ``{"kind": "tokens", "vocab_size", "pad_id", "unk_id", "mask_id"}``."""
        v = self._vocab
        return {"kind": "tokens", "vocab_size": len(v), "pad_id": v.pad_id, "unk_id": v.unk_id,
                "mask_id": v.mask_id}


class SmilesTokenizer(_SequenceTokenizer):
    """Atom-level SMILES tokenizer: bracket atoms, Cl/Br, ring bonds (``1``, ``%10``), bonds, branches.

    Parameters
    ----------
    vocabulary: sequence of str or Vocabulary
        Regular tokens (specials are added); usually from :meth:`build` on a training corpus.
    max_length: int, optional (default 128)
        Row width of the output, in tokens.
    truncate: bool, optional (default False)
        Cut longer SMILES to ``max_length`` tokens (logged) instead of raising.
    unknown: str, optional (default "error")
        "error" raises on a token outside the vocabulary; "unk" maps it to ``<unk>``.
    canonicalize: bool, optional (default True)
        Parse with RDKit and write the canonical SMILES first (invalid SMILES then raise).

    Examples
    --------
    >>> tok = SmilesTokenizer.build(["CCO", "c1ccccc1Cl"], max_length=12)
    >>> tok.tokenize("OC(Br)[NH3+]", 0)
    ['[NH3+]', 'C', '(', 'O', ')', 'Br']
    >>> tok.featurize(["OCC"]).shape
    (1, 12)

    References
    ----------
    Schwaller, P. et al. Molecular Transformer. ACS Cent. Sci. 2019 (tokenization regex).
    """

    kind = "SMILES"

    def __init__(self, vocabulary: Union[Sequence[str], Vocabulary], max_length: int = 128,
                 truncate: bool = False, unknown: str = "error", canonicalize: bool = True):
        vocab = vocabulary if isinstance(vocabulary, Vocabulary) else Vocabulary(list(vocabulary))
        self._init_common(max_length, truncate, unknown)
        self._vocab = vocab
        self.vocabulary = vocab.regular_tokens
        self.canonicalize = bool(canonicalize)

    def _prepare(self, sequence: str, index: int) -> str:
        if not self.canonicalize:
            return sequence
        mol = Chem.MolFromSmiles(sequence)
        if mol is None:
            raise FeaturizationError(f"SMILES at index {index} could not be parsed by RDKit: {sequence!r}; "
                                     "fix or drop it, or pass canonicalize=False", index, sequence)
        return Chem.MolToSmiles(mol)

    def _split(self, sequence: str, index: int) -> Tuple[List[str], List[int]]:
        tokens, starts, pos = [], [], 0
        for m in _SMILES_TOKEN.finditer(sequence):
            if m.start() != pos:
                break
            tokens.append(m.group())
            starts.append(pos)
            pos = m.end()
        if pos != len(sequence):
            raise FeaturizationError(f"SMILES at index {index} has an unrecognised character "
                                     f"{sequence[pos]!r} at position {pos}: {sequence!r}", index, sequence)
        return tokens, starts

    def _config(self) -> dict:
        return dict(super()._config(), canonicalize=self.canonicalize)

    @classmethod
    def from_config(cls, config: dict) -> "SmilesTokenizer":
        """Rebuild from ``get_spec()["config"]`` (the vocabulary is part of it)."""
        return cls(**config)

    def __str__(self) -> str:  # DeepChem skips list arguments in cache keys: add the vocabulary's hash
        digest = hashlib.sha256("\n".join(self.vocabulary).encode()).hexdigest()[:10]
        return f"{super().__str__()}_vocab_{digest}"

    @classmethod
    def build(cls, smiles: Sequence[str], min_count: int = 1, max_length: int = 128, truncate: bool = False,
              unknown: str = "error", canonicalize: bool = True) -> "SmilesTokenizer":
        """A tokenizer whose vocabulary holds the tokens seen at least ``min_count`` times in ``smiles``.

        Tokens are ordered by decreasing count, then alphabetically, so the same corpus gives the same ids.

        Raises
        ------
        FeaturizationError
            For an empty, unparsable or untokenizable SMILES, naming its index.
        """
        counts: Counter = Counter()
        scratch = cls([], canonicalize=canonicalize)
        with rdkit_errors_silenced():
            for i, smi in enumerate(smiles):
                counts.update(scratch.tokenize(smi, i))
        if not counts:
            raise ValueError("cannot build a vocabulary from an empty list of SMILES")
        tokens = sorted((t for t, c in counts.items() if c >= min_count), key=lambda t: (-counts[t], t))
        return cls(tokens, max_length=max_length, truncate=truncate, unknown=unknown, canonicalize=canonicalize)


class ProteinTokenizer(_SequenceTokenizer):
    """One token per residue: the 20 standard amino acids and IUPAC X, B, Z, U, O (case-insensitive).

    Parameters
    ----------
    max_length: int, optional (default 1024)
    truncate: bool, optional (default False)
    unknown: str, optional (default "error")
        "error" or "unk" (e.g. for gaps ``-`` or stop ``*``).

    Examples
    --------
    >>> tok = ProteinTokenizer(max_length=6)
    >>> tok.featurize(["MKv"]).tolist()
    [[13, 11, 20, 0, 0, 0]]
    >>> tok.input_encoding()["vocab_size"]
    28
    """

    kind = "protein sequence"

    def __init__(self, max_length: int = 1024, truncate: bool = False, unknown: str = "error"):
        self._init_common(max_length, truncate, unknown)
        self._vocab = Vocabulary(PROTEIN_ALPHABET)


class NucleotideTokenizer(_SequenceTokenizer):
    """DNA / RNA tokens over A, C, G, T, U, N: single bases (``k=1``) or overlapping k-mers (DNABERT).

    A sequence of ``L`` bases gives ``L - k + 1`` tokens; the vocabulary holds all ``6**k`` k-mers.

    Parameters
    ----------
    k: int, optional (default 1)
        k-mer length, 1 to 6.
    max_length: int, optional (default 1024)
        In tokens.
    truncate: bool, optional (default False)
    unknown: str, optional (default "error")

    Examples
    --------
    >>> NucleotideTokenizer(k=3, max_length=4).tokenize("acgtn")
    ['ACG', 'CGT', 'GTN']

    References
    ----------
    Ji, Y. et al. DNABERT. Bioinformatics 2021.
    """

    kind = "nucleotide sequence"

    def __init__(self, k: int = 1, max_length: int = 1024, truncate: bool = False, unknown: str = "error"):
        if not isinstance(k, (int, np.integer)) or not 1 <= k <= 6:
            raise ValueError(f"k must be an integer from 1 to 6, got {k!r}")
        self._init_common(max_length, truncate, unknown)
        self.k = int(k)
        self._vocab = Vocabulary(["".join(p) for p in itertools.product(NUCLEOTIDE_ALPHABET, repeat=self.k)])

    def _split(self, sequence: str, index: int) -> Tuple[List[str], List[int]]:
        n = len(sequence) - self.k + 1
        if n < 1:
            raise FeaturizationError(f"nucleotide sequence at index {index} has {len(sequence)} bases, fewer "
                                     f"than k={self.k}", index, sequence)
        bad = [p for p, c in enumerate(sequence) if c not in NUCLEOTIDE_ALPHABET]
        if bad and self.unknown == "error":  # name the base, not the k-mer that contains it
            raise FeaturizationError(f"nucleotide sequence at index {index} has unknown base {sequence[bad[0]]!r} "
                                     f"at position {bad[0]} (bases: {''.join(NUCLEOTIDE_ALPHABET)}). Pass "
                                     "unknown='unk' to map k-mers holding it to <unk>", index, sequence)
        return [sequence[i:i + self.k] for i in range(n)], list(range(n))

    def decode(self, ids: Sequence[int]) -> str:
        """The bases of a row of ids (overlapping k-mers merged; a special token counts as one base ``?``)."""
        toks = [t if len(t) == self.k and "<" not in t else "?" * self.k
                for t in self._vocab.decode(ids, skip_special=False)]
        return (toks[0] + "".join(t[-1] for t in toks[1:])) if toks else ""

    def _config(self) -> dict:
        return dict(k=self.k, **super()._config())


SEQUENCE_TOKENIZERS = {c.__name__: c for c in (SmilesTokenizer, ProteinTokenizer, NucleotideTokenizer)}
