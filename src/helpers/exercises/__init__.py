"""Graded exercises with instant feedback.

In a notebook::

    from helpers.exercises import check, hint, progress
    check("01.unbiased_variance", unbiased_variance)   # prints a verdict, never raises
    hint("01.unbiased_variance")                       # the next hint
    progress()                                         # this chapter's exercises and your verdicts so far

``check`` has four outcomes: correct, incorrect (the input that failed, what came back, why it matters),
not attempted (the stub still raises NotImplementedError) and could not check (your code crashed). An
answer that calls what the exercise forbids (the library function that does the job, or the book's own
reference) fails the case with a message that says so.

Strict mode, for tests: with ``HELPERS_STRICT=1`` (or ``correct``) any outcome but correct raises
``ExerciseFailed``; with ``HELPERS_STRICT=not-attempted`` any outcome but not attempted raises (the test
of the student edition, where every exercise is still a stub).
"""

from __future__ import annotations

import os
from typing import Any

from helpers.exercises import feedback
from helpers.exercises.catalogue import catalogue, get
from helpers.exercises.progress import progress, record, show
from helpers.exercises.runner import run
from helpers.exercises.spec import Case, Exercise, Outcome, Report

STRICT_ENV = "HELPERS_STRICT"
__all__ = ["Case", "Exercise", "ExerciseFailed", "Outcome", "Report", "assess", "catalogue", "check", "get", "hint",
           "progress"]


class ExerciseFailed(AssertionError):
    """Raised by ``check`` in strict mode when the outcome is not the expected one."""


def _expected_outcome() -> Outcome | None:
    value = os.environ.get(STRICT_ENV, "").strip().lower()
    if value in {"", "0", "false", "no"}:
        return None
    if value in {"1", "true", "yes", "correct"}:
        return Outcome.CORRECT
    if value in {"not-attempted", "not_attempted", "stub"}:
        return Outcome.NOT_ATTEMPTED
    raise ValueError(f"${STRICT_ENV}={value!r} is not understood: use 1 (expect correct) or not-attempted.")


def assess(exercise_id: str, answer: Any, include_hidden: bool = False) -> Report:
    """Run ``answer`` against the exercise's tests and return the Report (no printing, nothing recorded)."""
    return run(get(exercise_id), answer, include_hidden=include_hidden)


def check(exercise_id: str, answer: Any) -> None:
    """Test ``answer`` against exercise ``exercise_id``'s public tests and show a verdict.

    Never raises in a student's notebook. In strict mode (``$HELPERS_STRICT``) it raises
    ``ExerciseFailed`` when the outcome is not the one expected.
    """
    try:
        report = assess(exercise_id, answer)
    except KeyError as error:
        message = f"⚠️ could not check: {error.args[0]}"
        show(message, f"<div class='exercise-check'><strong>{message}</strong></div>")
        if _expected_outcome() is not None:
            raise ExerciseFailed(message) from None
        return
    record(report)
    next_hint = _next_hint(report.exercise) if report.outcome is Outcome.INCORRECT else None  # Kaggle-style
    show(feedback.text(report, next_hint), feedback.to_html(report, next_hint))
    expected = _expected_outcome()
    if expected is not None and report.outcome is not expected:
        raise ExerciseFailed(
            f"{STRICT_ENV} expects {expected.value!r} for {exercise_id}, got:\n{feedback.text(report)}"
        )


_hints_given: dict[str, int] = {}


def _next_hint(exercise: Exercise) -> str:
    """"(2 of 3) <text>": the next hint not shown yet (the last again once all have been), counted as shown."""
    given = _hints_given.get(exercise.id, 0)
    index = min(given, len(exercise.hints) - 1)
    _hints_given[exercise.id] = given + 1
    return f"({index + 1} of {len(exercise.hints)}) {exercise.hints[index]}"


def hint(exercise_id: str) -> None:
    """Show the next hint for an exercise (the last one again once all have been shown)."""
    try:
        exercise = get(exercise_id)
    except KeyError as error:
        show(f"⚠️ {error.args[0]}", f"<div>⚠️ {error.args[0]}</div>")
        return
    text = f"💡 Hint for {exercise_id} {_next_hint(exercise)}"
    from html import escape

    style = "border-left:4px solid #1a73e8;padding:4px 10px"
    show(text, f"<div class='exercise-hint' style='{style}'>{escape(text)}</div>")
