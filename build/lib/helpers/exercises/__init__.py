"""Graded exercises with instant feedback.

In a notebook::

    from helpers.exercises import check, hint
    check("01.unbiased_variance", unbiased_variance)   # prints a verdict, never raises
    hint("01.unbiased_variance")                       # the next hint

``check`` has four outcomes: correct, incorrect (the input that failed, what came back, why it matters),
not attempted (the stub still raises NotImplementedError) and could not check (your code crashed).

Strict mode, for tests: with ``HELPERS_STRICT=1`` (or ``correct``) any outcome but correct raises
``ExerciseFailed``; with ``HELPERS_STRICT=not-attempted`` any outcome but not attempted raises (the test
of the student edition, where every exercise is still a stub).
"""

from __future__ import annotations

import os
import sys
from typing import Any

from helpers.exercises import feedback
from helpers.exercises.model import Case, Exercise, Outcome, Report
from helpers.exercises.registry import catalogue, get
from helpers.exercises.runner import run

STRICT_ENV = "HELPERS_STRICT"
__all__ = ["Case", "Exercise", "ExerciseFailed", "Outcome", "Report", "catalogue", "check", "evaluate", "get", "hint"]


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


def _show(text: str, html: str) -> None:
    if "IPython" in sys.modules:
        from IPython import get_ipython

        if get_ipython() is not None:
            from IPython.display import display

            display({"text/plain": text, "text/html": html}, raw=True)
            return
    print(text)


def evaluate(exercise_id: str, answer: Any, include_hidden: bool = False) -> Report:
    """Run ``answer`` against the exercise's tests and return the Report (no printing)."""
    return run(get(exercise_id), answer, include_hidden=include_hidden)


def check(exercise_id: str, answer: Any) -> None:
    """Test ``answer`` against exercise ``exercise_id``'s public tests and show a verdict.

    Never raises in a student's notebook. In strict mode (``$HELPERS_STRICT``) it raises
    ``ExerciseFailed`` when the outcome is not the one expected.
    """
    try:
        report = evaluate(exercise_id, answer)
    except KeyError as error:
        message = f"⚠️ could not check: {error.args[0]}"
        _show(message, f"<div class='exercise-check'><strong>{message}</strong></div>")
        if _expected_outcome() is not None:
            raise ExerciseFailed(message) from None
        return
    _show(feedback.text(report), feedback.to_html(report))
    expected = _expected_outcome()
    if expected is not None and report.outcome is not expected:
        raise ExerciseFailed(
            f"{STRICT_ENV} expects {expected.value!r} for {exercise_id}, got:\n{feedback.text(report)}"
        )


_hints_given: dict[str, int] = {}


def hint(exercise_id: str) -> None:
    """Show the next hint for an exercise (the last one again once all have been shown)."""
    try:
        exercise = get(exercise_id)
    except KeyError as error:
        _show(f"⚠️ {error.args[0]}", f"<div>⚠️ {error.args[0]}</div>")
        return
    given = _hints_given.get(exercise_id, 0)
    index = min(given, len(exercise.hints) - 1)
    _hints_given[exercise_id] = given + 1
    text = f"💡 Hint {index + 1} of {len(exercise.hints)} for {exercise_id}: {exercise.hints[index]}"
    from html import escape

    style = "border-left:4px solid #1a73e8;padding:4px 10px"
    _show(text, f"<div class='exercise-hint' style='{style}'>{escape(text)}</div>")
