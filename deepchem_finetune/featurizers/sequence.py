"""Tokenizing featurizers for sequences: SMILES, proteins and nucleic acids.

Each turns a list of strings into an ``int64`` array of shape ``(n, max_length)`` of token ids, right-padded
with ``<pad>`` = 0, so ``dc.data.NumpyDataset(X, y)`` holds it directly (a ``SmilesTokenizer`` with
``extra_features`` gives an object array of :class:`TokenizedMolecule` instead: tokens plus molecule features). Ids come from a
:class:`~deepchem_finetune.featurizers.vocabulary.Vocabulary` (``<pad>`` 0, ``<unk>`` 1, ``<mask>`` 2). Every
failure raises :class:`~deepchem_finetune.exceptions.FeaturizationError` naming the sequence's index, and for
an unknown token its character position, and the fix; with ``on_error="skip"`` the failing sequence gets an
empty row instead, which ``dc.data.CSVLoader`` drops, and is recorded in ``skipped`` (see
:mod:`~deepchem_finetune.featurizers.on_error`).

The shared logic is in :class:`~deepchem_finetune.featurizers.tokenizer._SequenceTokenizer`. Attribute names
equal the ``__init__`` argument names: DeepChem builds its cache keys from them.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections import Counter
from typing import List, Sequence, Tuple, Union

import numpy as np
from rdkit import Chem

from deepchem_finetune._compat import rdkit_errors_silenced
from deepchem_finetune.exceptions import FeaturizationError
from deepchem_finetune.featurizers.tokenizer import _SequenceTokenizer
from deepchem_finetune.featurizers.vocabulary import Vocabulary

__all__ = ["SmilesTokenizer", "TokenizedMolecule", "ProteinTokenizer", "NucleotideTokenizer", "SEQUENCE_TOKENIZERS",
           "PROTEIN_ALPHABET", "NUCLEOTIDE_ALPHABET"]

#: 20 standard residues, then IUPAC X (any), B (D/N), Z (E/Q), U (selenocysteine), O (pyrrolysine).
PROTEIN_ALPHABET = tuple("ACDEFGHIKLMNPQRSTVWY") + tuple("XBZUO")
NUCLEOTIDE_ALPHABET = tuple("ACGTUN")

# Atom-level SMILES tokens (Schwaller et al., 2019), plus %(nnn) ring bonds.
_SMILES_TOKEN = re.compile(r"\[[^\[\]]+\]|Br|Cl|%\([0-9]+\)|%[0-9]{2}|[BCNOPSFI]|[bcnops]|[0-9]"
                           r"|[()=#\-+\\/:~@?>*$.]")


class TokenizedMolecule:
    """One SMILES as :class:`SmilesTokenizer` with ``extra_features`` featurizes it: ``tokens`` ``(max_length,)``
    int64 and ``molecule_features`` ``(d,)`` float32 (NaN where a descriptor fails), the same attribute a
    ``GraphData`` of :class:`~deepchem_finetune.featurizers.MolGraphFeaturizer` carries them in.

    Examples
    --------
    >>> row = TokenizedMolecule(np.array([5, 5, 0]), np.array([1.0, 0.0]))
    >>> row.tokens.dtype, row.molecule_features.dtype
    (dtype('int64'), dtype('float32'))
    """

    __slots__ = ("tokens", "molecule_features")

    def __init__(self, tokens: np.ndarray, molecule_features: np.ndarray):
        self.tokens = np.asarray(tokens, dtype=np.int64)
        self.molecule_features = np.asarray(molecule_features, dtype=np.float32)

    def __repr__(self) -> str:
        return (f"TokenizedMolecule(tokens: {self.tokens.shape[0]}, "
                f"molecule_features: {self.molecule_features.shape[0]})")


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
    on_error: str, optional (default "raise")
        "raise" raises on an invalid, untokenizable, over-long (without ``truncate``) or (with
        ``unknown="error"``) unknown-token SMILES; "skip" gives it an empty row and records it in ``skipped``.
        Not part of the spec.
    extra_features: sequence of str, optional (default ())
        Molecule-level feature kinds (:data:`~deepchem_finetune.featurizers.molecule.FEATURE_KINDS`: ``ecfp4``,
        ``rdkit2d``) computed beside the tokens for a model's task head; each row is then a
        :class:`TokenizedMolecule` (an object array comes back) instead of a row of token ids.

    Examples
    --------
    >>> tok = SmilesTokenizer.build(["CCO", "c1ccccc1Cl"], max_length=12)
    >>> tok.tokenize("OC(Br)[NH3+]", 0)
    ['[NH3+]', 'C', '(', 'O', ')', 'Br']
    >>> tok.featurize(["OCC"]).shape
    (1, 12)
    >>> with_fp = SmilesTokenizer(tok.vocabulary, max_length=12, extra_features=["ecfp4"])
    >>> with_fp.featurize(["OCC"])[0], with_fp.extra_dim
    (TokenizedMolecule(tokens: 12, molecule_features: 2048), 2048)

    References
    ----------
    Schwaller, P. et al. Molecular Transformer. ACS Cent. Sci. 2019 (tokenization regex).
    """

    kind = "SMILES"

    def __init__(self, vocabulary: Union[Sequence[str], Vocabulary], max_length: int = 128,
                 truncate: bool = False, unknown: str = "error", canonicalize: bool = True,
                 on_error: str = "raise", extra_features: Sequence[str] = ()):
        from deepchem_finetune.featurizers.molecule import check_kinds
        vocab = vocabulary if isinstance(vocabulary, Vocabulary) else Vocabulary(list(vocabulary))
        self._init_common(max_length, truncate, unknown, on_error)
        self._vocab = vocab
        self.vocabulary = vocab.regular_tokens
        self.canonicalize = bool(canonicalize)
        self.extra_features = check_kinds(extra_features)

    @property
    def extra_dim(self) -> int:
        """Width of ``molecule_features`` (0 without ``extra_features``)."""
        from deepchem_finetune.featurizers.molecule import feature_names
        return len(feature_names(self.extra_features))

    def featurize(self, datapoints, log_every_n: int = 1000, **kwargs) -> np.ndarray:
        """Token ids ``(n, max_length)`` as for every tokenizer; with ``extra_features`` an object array of
        :class:`TokenizedMolecule` (a failed row, under ``on_error="skip"``, is the empty failure marker)."""
        if not self.extra_features:
            return super().featurize(datapoints, log_every_n, **kwargs)
        if isinstance(datapoints, str):
            datapoints = [datapoints]
        def one(smiles, row):
            ids, n_tokens = self._encode(smiles, row)
            return self._with_features(self.pad(ids), smiles, row), n_tokens

        with rdkit_errors_silenced():
            rows, _ = self._featurize_rows(datapoints, one)
        self._warn_truncated(rows)
        out = np.empty(len(rows), dtype=object)
        for i, row in enumerate(rows):
            out[i] = row[0] if row is not None else self._failed()
        return out

    def featurize_one(self, sequence: str, index: int = 0):
        """One row of :meth:`featurize`: padded token ids, or with ``extra_features`` a :class:`TokenizedMolecule`."""
        ids = super().featurize_one(sequence, index)
        return self._with_features(ids, sequence, index) if self.extra_features else ids

    def _with_features(self, ids: np.ndarray, smiles: str, index) -> TokenizedMolecule:
        from deepchem_finetune.featurizers.molecule import molecule_vector
        mol = Chem.MolFromSmiles(smiles)
        if mol is None:  # only reached with canonicalize=False (else the tokenizer has parsed it)
            raise FeaturizationError(f"SMILES at index {index} could not be parsed by RDKit: {smiles!r}", index, smiles)
        return TokenizedMolecule(ids, molecule_vector(mol, self.extra_features))

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

    def _config(self) -> dict:  # extra_features only when there are some: specs written before compare equal
        config = dict(super()._config(), canonicalize=self.canonicalize)
        if self.extra_features:
            config["extra_features"] = list(self.extra_features)
        return config

    @classmethod
    def from_config(cls, config: dict) -> "SmilesTokenizer":
        """Rebuild from ``get_spec()["config"]`` (the vocabulary is part of it)."""
        return cls(**config)

    def __str__(self) -> str:  # DeepChem skips list arguments in cache keys: add the vocabulary's hash
        if self.extra_features:  # a hash of the whole spec (DeepChem would spell out the tuple of kinds)
            digest = hashlib.sha256(json.dumps(self.get_spec(), sort_keys=True).encode()).hexdigest()[:12]
            return f"SmilesTokenizer_{digest}" + (f"_on_error_{self.on_error}" if self.on_error != "raise" else "")
        digest = hashlib.sha256("\n".join(self.vocabulary).encode()).hexdigest()[:10]
        return f"{super().__str__()}_vocab_{digest}"

    @classmethod
    def build(cls, smiles: Sequence[str], min_count: int = 1, max_length: int = 128, truncate: bool = False,
              unknown: str = "error", canonicalize: bool = True, on_error: str = "raise",
              extra_features: Sequence[str] = ()) -> "SmilesTokenizer":
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
        return cls(tokens, max_length=max_length, truncate=truncate, unknown=unknown, canonicalize=canonicalize,
                   on_error=on_error, extra_features=extra_features)


class ProteinTokenizer(_SequenceTokenizer):
    """One token per residue: the 20 standard amino acids and IUPAC X, B, Z, U, O (case-insensitive).

    Parameters
    ----------
    max_length: int, optional (default 1024)
    truncate: bool, optional (default False)
    unknown: str, optional (default "error")
        "error" or "unk" (e.g. for gaps ``-`` or stop ``*``).
    on_error: str, optional (default "raise")
        "raise" or "skip" (an invalid, over-long or unknown-residue sequence gets an empty row and is recorded
        in ``skipped``).

    Examples
    --------
    >>> tok = ProteinTokenizer(max_length=6)
    >>> tok.featurize(["MKv"]).tolist()
    [[13, 11, 20, 0, 0, 0]]
    >>> tok.input_encoding()["vocab_size"]
    28
    """

    kind = "protein sequence"

    def __init__(self, max_length: int = 1024, truncate: bool = False, unknown: str = "error",
                 on_error: str = "raise"):
        self._init_common(max_length, truncate, unknown, on_error)
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
    on_error: str, optional (default "raise")
        "raise" or "skip", as for :class:`ProteinTokenizer`.

    Examples
    --------
    >>> NucleotideTokenizer(k=3, max_length=4).tokenize("acgtn")
    ['ACG', 'CGT', 'GTN']

    References
    ----------
    Ji, Y. et al. DNABERT. Bioinformatics 2021.
    """

    kind = "nucleotide sequence"

    def __init__(self, k: int = 1, max_length: int = 1024, truncate: bool = False, unknown: str = "error",
                 on_error: str = "raise"):
        if not isinstance(k, (int, np.integer)) or not 1 <= k <= 6:
            raise ValueError(f"k must be an integer from 1 to 6, got {k!r}")
        self._init_common(max_length, truncate, unknown, on_error)
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
