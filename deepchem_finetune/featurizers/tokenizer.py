"""``_SequenceTokenizer``: what the sequence tokenizers share (validation, unknown-token policy, truncation,
padding, ``on_error``, spec); :mod:`deepchem_finetune.featurizers.sequence` holds the tokenizers themselves.

Attribute names equal the ``__init__`` argument names: DeepChem builds its cache keys from them.
"""
from __future__ import annotations

import logging
from typing import List, Sequence, Tuple

import numpy as np

from deepchem_finetune._compat import import_deepchem_quietly, rdkit_errors_silenced
from deepchem_finetune.exceptions import FeaturizationError, SpecMismatchError
from deepchem_finetune.featurizers.on_error import OnErrorMixin
from deepchem_finetune.featurizers.vocabulary import Vocabulary

dc = import_deepchem_quietly()
logger = logging.getLogger(__name__)


class _SequenceTokenizer(OnErrorMixin, dc.feat.Featurizer):
    """Shared logic: validation, unknown-token policy, truncation, padding, spec."""

    kind = "sequence"  # word used in error messages

    def _init_common(self, max_length: int, truncate: bool, unknown: str, on_error: str = "raise") -> None:
        if not isinstance(max_length, (int, np.integer)) or max_length < 1:
            raise ValueError(f"max_length must be a positive integer, got {max_length!r}")
        if unknown not in ("error", "unk"):
            raise ValueError(f"unknown must be 'error' or 'unk', got {unknown!r}")
        self.max_length = int(max_length)
        self.truncate = bool(truncate)
        self.unknown = unknown
        self._init_on_error(on_error)

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

    def featurize_one(self, sequence: str, index: int = 0):
        """The row :meth:`featurize` makes for one sequence (padded token ids); ``index`` only names it in errors."""
        return self.pad(self.encode_one(sequence, index))

    def pad(self, ids: np.ndarray) -> np.ndarray:
        """Right-pad ids of :meth:`encode_one` with ``<pad>`` to ``(max_length,)``."""
        row = np.full(self.max_length, self._vocab.pad_id, dtype=np.int64)
        row[:len(ids)] = ids
        return row

    def featurize(self, datapoints, log_every_n: int = 1000, **kwargs) -> np.ndarray:
        """Token ids ``(n, max_length)``, ``int64``, right-padded with 0.

        With ``on_error="skip"`` and a failing sequence, an object array of ``n`` rows instead, the failing
        ones empty (DeepChem's failure marker: ``dc.data.CSVLoader`` drops them and stacks the others).

        Raises
        ------
        FeaturizationError
            With ``on_error="raise"``: for the first invalid, empty, over-long or (with ``unknown="error"``)
            unknown-token input, naming its row (the position in ``datapoints``, or its index label for a
            ``pandas.Series``, which under ``dc.data.CSVLoader`` is the data row of the file).
        """
        if isinstance(datapoints, str):
            datapoints = [datapoints]
        with rdkit_errors_silenced():
            encoded, n_skipped = self._featurize_rows(datapoints, self._encode)
        self._warn_truncated(encoded)
        if n_skipped:
            out = np.empty(len(encoded), dtype=object)
            for i, e in enumerate(encoded):
                out[i] = self.pad(e[0]) if e is not None else self._failed()
            return out
        out = np.full((len(encoded), self.max_length), self._vocab.pad_id, dtype=np.int64)
        for i, (ids, _) in enumerate(encoded):
            out[i, :len(ids)] = ids
        return out

    def _warn_truncated(self, encoded) -> None:
        """Log how many of the ``(row, n_tokens)`` pairs (None: skipped) were cut to ``max_length``."""
        n_cut = sum(e is not None and e[1] > self.max_length for e in encoded)
        if n_cut:
            logger.warning("%s: truncated %d of %d sequences to max_length=%d tokens", type(self).__name__,
                           n_cut, len(encoded), self.max_length)

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
