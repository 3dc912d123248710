"""The exercise catalogue: one module per chapter, listed in ``CHAPTERS``.

A chapter module defines ``EXERCISES``, a list of ``helpers.exercises.spec.Exercise``. To add a chapter,
write ``chNN.py`` (or a package ``chNN/`` whose ``__init__`` defines ``EXERCISES``) and add its name here; the
catalogue test then checks every entry.
"""

from __future__ import annotations

import difflib
import functools
import importlib

from helpers.exercises.spec import Exercise

CHAPTERS = ("ch01", "ch02", "ch03", "ch04", "ch05", "ch06", "ch07", "ch08", "ch09", "ch10", "ch11")


@functools.lru_cache(maxsize=1)
def catalogue() -> dict[str, Exercise]:
    """Every exercise of the book by id, in chapter order."""
    entries: dict[str, Exercise] = {}
    for name in CHAPTERS:
        module = importlib.import_module(f"{__name__}.{name}")
        for exercise in module.EXERCISES:
            if exercise.id in entries:
                raise ValueError(f"Exercise id {exercise.id!r} is defined twice in the catalogue.")
            if exercise.chapter != name[2:]:
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


def of_chapter(chapter: str) -> list[Exercise]:
    """The exercises of one chapter ('01'), in the order the chapter asks them."""
    return [e for e in catalogue().values() if e.chapter == chapter]
