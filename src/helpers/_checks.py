"""Argument checks shared by the helpers, with errors that say what was expected and what came."""

from __future__ import annotations

import operator


def whole_number(name: str, value: int, at_least: int = 1) -> None:
    """Raise TypeError unless ``value`` is an int (not a bool), ValueError if it is below ``at_least``."""
    try:
        if isinstance(value, bool):
            raise TypeError
        operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be a whole number (an int), got {type(value).__name__} {value!r}.") from None
    if value < at_least:
        raise ValueError(f"{name} must be at least {at_least}, got {value!r}.")
