"""The exercise catalogue: one module per chapter (``ch01``, ``ch02``, ...), each with ``EXERCISES``."""

from __future__ import annotations

import difflib
import functools
import importlib
import pkgutil
import re

import helpers.exercises
from helpers.exercises.model import Exercise


def chapter_modules() -> list[str]:
    """Names of the catalogue modules, ch01, ch02, ..., found in this package."""
    names = (m.name for m in pkgutil.iter_modules(helpers.exercises.__path__))
    return sorted(name for name in names if re.fullmatch(r"ch\d\d", name))


@functools.lru_cache(maxsize=1)
def catalogue() -> dict[str, Exercise]:
    """Every exercise of the book by id, in chapter order."""
    entries: dict[str, Exercise] = {}
    for name in chapter_modules():
        module = importlib.import_module(f"helpers.exercises.{name}")
        for exercise in module.EXERCISES:
            if exercise.id in entries:
                raise ValueError(f"Exercise id {exercise.id!r} is defined twice in the catalogue.")
            if chapter_of(exercise.id) != name[2:]:
                raise ValueError(f"Exercise {exercise.id!r} is in {name}.py: its id must start with {name[2:]!r}.")
            entries[exercise.id] = exercise
    return entries


def get(exercise_id: str) -> Exercise:
    """The exercise with this id; a KeyError that suggests close ids otherwise."""
    entries = catalogue()
    if exercise_id in entries:
        return entries[exercise_id]
    close = difflib.get_close_matches(str(exercise_id), entries, n=3)
    suggestion = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
    raise KeyError(f"There is no exercise {exercise_id!r}.{suggestion}")


def chapter_of(exercise_id: str) -> str:
    """'01' for '01.unbiased_variance'."""
    return exercise_id.split(".", 1)[0]
