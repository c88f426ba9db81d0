"""``Vocabulary``: the token <-> id table of the sequence tokenizers.

Ids ``0, 1, 2`` are the special tokens ``<pad>``, ``<unk>`` and ``<mask>``, in that order, in every
vocabulary; the regular tokens follow in the order given. ``to_dict()`` / ``from_dict()`` round-trip
through plain JSON, so the vocabulary travels inside featurizer specs and pretrained folders.
"""
from __future__ import annotations

from typing import Dict, Iterable, List, Sequence

__all__ = ["Vocabulary", "PAD", "UNK", "MASK", "SPECIAL_TOKENS"]

PAD, UNK, MASK = "<pad>", "<unk>", "<mask>"
SPECIAL_TOKENS = (PAD, UNK, MASK)


class Vocabulary:
    """An ordered token -> id table with ``<pad>`` = 0, ``<unk>`` = 1 and ``<mask>`` = 2.

    Parameters
    ----------
    tokens: sequence of str
        The regular tokens, in id order (ids start at 3). Duplicates, empty strings and the special
        tokens themselves are rejected.

    Raises
    ------
    ValueError
        A token is duplicated, empty, not a string or special; the message names its position.

    Examples
    --------
    >>> v = Vocabulary(["C", "O", "Cl"])
    >>> len(v), v.pad_id, v.mask_id, v.encode(["Cl", "C"])
    (6, 0, 2, [5, 3])
    >>> Vocabulary.from_dict(v.to_dict()) == v
    True
    """

    pad_id = 0
    unk_id = 1
    mask_id = 2

    def __init__(self, tokens: Sequence[str]):
        if isinstance(tokens, str):
            raise TypeError("tokens must be a sequence of strings, not one string; e.g. list('ACGT')")
        index: Dict[str, int] = {t: i for i, t in enumerate(SPECIAL_TOKENS)}
        for pos, tok in enumerate(tokens):
            if not isinstance(tok, str) or tok == "":
                raise ValueError(f"vocabulary token at position {pos} must be a non-empty string, got {tok!r}")
            if tok in SPECIAL_TOKENS:
                raise ValueError(f"vocabulary token at position {pos} is the special token {tok!r}; special "
                                 "tokens are added automatically")
            if tok in index:
                raise ValueError(f"vocabulary token {tok!r} at position {pos} is duplicated")
            index[tok] = len(index)
        self._index = index
        self._tokens: List[str] = list(index)

    # ----------------------------------------------------------------------------- access
    @property
    def tokens(self) -> List[str]:
        """All tokens in id order, specials first."""
        return list(self._tokens)

    @property
    def regular_tokens(self) -> List[str]:
        """The tokens after the specials (what ``Vocabulary(...)`` was given)."""
        return self._tokens[len(SPECIAL_TOKENS):]

    def __len__(self) -> int:
        return len(self._tokens)

    def __contains__(self, token: str) -> bool:
        return token in self._index

    def __eq__(self, other) -> bool:
        return isinstance(other, Vocabulary) and self._tokens == other._tokens

    def __hash__(self) -> int:
        return hash(tuple(self._tokens))

    def __repr__(self) -> str:
        head = ", ".join(repr(t) for t in self.regular_tokens[:8])
        more = ", ..." if len(self.regular_tokens) > 8 else ""
        return f"Vocabulary(size={len(self)}, tokens=[{head}{more}])"

    def token_to_id(self, token: str) -> int:
        """Id of ``token``; ``KeyError`` if absent (tokenizers apply their ``unknown`` policy before)."""
        return self._index[token]

    def get(self, token: str, default: int) -> int:
        """Id of ``token`` or ``default``."""
        return self._index.get(token, default)

    def id_to_token(self, i: int) -> str:
        return self._tokens[i]

    def encode(self, tokens: Iterable[str]) -> List[int]:
        """Ids of ``tokens``, unknown ones mapped to ``<unk>``."""
        return [self._index.get(t, self.unk_id) for t in tokens]

    def decode(self, ids: Iterable[int], skip_special: bool = True) -> List[str]:
        """Tokens of ``ids``; ``<pad>`` (and, with ``skip_special``, every special token) left out."""
        n_special = len(SPECIAL_TOKENS)
        return [self._tokens[int(i)] for i in ids
                if int(i) != self.pad_id and not (skip_special and int(i) < n_special)]

    # ------------------------------------------------------------------------------- JSON
    def to_dict(self) -> dict:
        """Plain JSON: ``{"specials": [...], "tokens": [regular tokens]}``."""
        return {"specials": list(SPECIAL_TOKENS), "tokens": self.regular_tokens}

    @classmethod
    def from_dict(cls, data: dict) -> "Vocabulary":
        """Inverse of :meth:`to_dict`.

        Raises
        ------
        ValueError
            The stored special tokens differ from this package's (the file comes from elsewhere).
        """
        specials = list(data.get("specials", SPECIAL_TOKENS))
        if specials != list(SPECIAL_TOKENS):
            raise ValueError(f"vocabulary has special tokens {specials}, this package uses "
                             f"{list(SPECIAL_TOKENS)} (ids 0, 1, 2)")
        return cls(data["tokens"])
