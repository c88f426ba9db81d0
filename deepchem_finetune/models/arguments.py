"""Checks of constructor arguments, so a wrong type fails at once with the argument's name (not deep inside
torch with ``'<' not supported between instances of 'str' and 'int'``)."""
from __future__ import annotations

import numbers
from typing import Optional, Sequence


def check_int(name: str, value, minimum: int, allow_none: bool = False) -> None:
    """Raise TypeError unless ``value`` is an int (not a bool), ValueError if it is below ``minimum``.

    Examples
    --------
    >>> check_int("n_tasks", "two", 1)
    Traceback (most recent call last):
    ...
    TypeError: n_tasks must be an int >= 1, got 'two' (str)
    """
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int >= {minimum}{' or None' if allow_none else ''}, "
                        f"got {value!r} ({type(value).__name__})")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")


def check_fraction(name: str, value) -> None:
    """A float in [0, 1)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number in [0, 1), got {value!r} ({type(value).__name__})")
    if not 0 <= value < 1:
        raise ValueError(f"{name} must be in [0, 1), got {value}")


def check_choice(name: str, value, choices: Sequence[str]) -> None:
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}")


def check_model_arguments(n_tasks: Optional[int], mode: str, n_classes: int, batch_size: int, learning_rate,
                          seed: Optional[int], head_hidden: Sequence[int], head_dropout: float,
                          supervised: bool) -> None:
    """All checks of :class:`~deepchem_finetune.models.BackboneModel`'s common arguments."""
    check_int("n_tasks", n_tasks, 1, allow_none=not supervised)
    check_choice("mode", mode, ("classification", "regression"))
    check_int("n_classes", n_classes, 2)
    check_int("batch_size", batch_size, 1)
    check_int("seed", seed, 0, allow_none=True)
    if isinstance(learning_rate, bool) or (isinstance(learning_rate, numbers.Real) and not learning_rate > 0):
        raise ValueError(f"learning_rate must be > 0 (or a dc.models.optimizers.LearningRateSchedule), "
                         f"got {learning_rate!r}")
    if not isinstance(learning_rate, numbers.Real) and not hasattr(learning_rate, "_create_pytorch_schedule"):
        raise TypeError(f"learning_rate must be a number > 0 or a dc.models.optimizers.LearningRateSchedule, "
                        f"got {learning_rate!r} ({type(learning_rate).__name__})")
    if isinstance(head_hidden, (str, bytes)) or not isinstance(head_hidden, Sequence):
        raise TypeError(f"head_hidden must be a sequence of ints (hidden widths), got {head_hidden!r}")
    for width in head_hidden:
        check_int("head_hidden entries", width, 1)
    check_fraction("head_dropout", head_dropout)
