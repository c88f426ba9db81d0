"""Values typed on the command line: ``KEY=VALUE`` options (``--model-option``, ``--strategy-option``) read into
Python values. Below both :mod:`deepchem_finetune.cli` and :mod:`deepchem_finetune.workflow.commands`, which use it."""
from __future__ import annotations

from typing import Iterable, Tuple


def parse_value(text: str):
    """An option's value: int, float, true/false, a comma-separated list of numbers, or the string itself (also a
    string with commas that are not all numbers, e.g. a path).

    Examples
    --------
    >>> parse_value("300"), parse_value("0.5"), parse_value("False"), parse_value("rich")
    (300, 0.5, False, 'rich')
    >>> parse_value("300,100"), parse_value("data/a,b.csv"), parse_value("1,,2")
    ([300, 100], 'data/a,b.csv', '1,,2')
    """
    if "," in text:
        parts = [parse_value(part) for part in text.split(",")]
        if all(isinstance(p, (int, float)) and not isinstance(p, bool) for p in parts):
            return parts
        return text
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def key_values(items: Iterable[str], flag: str, example: str) -> Iterable[Tuple[str, object]]:
    """``(key, value)`` of each ``KEY=VALUE`` item (dashes in keys read as underscores); an item without ``=``
    stops the command naming the flag and an example.

    Examples
    --------
    >>> list(key_values(["hidden-dim=300", "conv=gin"], "--model-option", "hidden_dim=300"))
    [('hidden_dim', 300), ('conv', 'gin')]
    """
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"{flag} {item!r}: expected KEY=VALUE, e.g. {example}")
        yield key.replace("-", "_"), parse_value(value)
