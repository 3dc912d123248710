"""Run an answer against an exercise's cases and decide the outcome."""

from __future__ import annotations

import copy
from typing import Any

import torch

from helpers.exercises.compare import describe
from helpers.exercises.model import Case, CaseResult, Exercise, Outcome, Report


def _fresh(args: tuple) -> tuple:
    """Deep copies of the arguments, so an answer that edits its input cannot spoil the next case."""
    return copy.deepcopy(args)


def _one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _call(answer: Any, args: tuple) -> Any:
    return answer(*args) if callable(answer) else answer


def _modified_inputs(before: tuple, after: tuple) -> bool:
    for b, a in zip(before, after):
        both = isinstance(b, torch.Tensor) and isinstance(a, torch.Tensor)
        if both and (b.shape != a.shape or not torch.equal(b.detach().cpu(), a.detach().cpu())):
            return True
    return False


def diagnose(exercise: Exercise, case: Case, got: Any) -> str:
    """If ``got`` is what a known-wrong answer returns on ``case``, that wrong answer's diagnosis."""
    for diagnosis, wrong in exercise.wrong.items():
        try:
            wrong_result = wrong(*_fresh(case.args))
        except Exception:  # a wrong answer may crash where the student's did not
            continue
        try:
            if exercise.compare(wrong_result, got) is None:
                return diagnosis
        except Exception:
            continue
    return ""


def run(exercise: Exercise, answer: Any, include_hidden: bool = False) -> Report:
    """Call ``answer`` on every public case (and hidden ones when grading) and compare with the reference.

    Never raises: a crash in the answer becomes an ERROR report, ``NotImplementedError`` a NOT_ATTEMPTED one.
    """
    if exercise.kind == "implement" and not callable(answer):
        return Report(
            exercise,
            Outcome.ERROR,
            [],
            f"expected a function, got {describe(answer)}. Pass the function itself: check(id, my_function)",
        )
    cases = [c for c in exercise.cases() if include_hidden or not c.hidden]
    results: list[CaseResult] = []
    for case in cases:
        expected = exercise.reference(*_fresh(case.args))
        given = _fresh(case.args)
        try:
            got = _call(answer, given)
        except NotImplementedError:
            return Report(exercise, Outcome.NOT_ATTEMPTED, [], "", include_hidden)
        except Exception as error:  # the student's code crashed: report it in one line
            results.append(CaseResult(case, False, f"raised {_one_line(error)}"))
            continue
        try:
            problem = exercise.compare(expected, got)
        except Exception as error:
            problem = f"returned something that could not be compared ({_one_line(error)})"
        if problem is None and _modified_inputs(case.args, given):
            problem = "changed its input tensor in place; compute a new tensor instead"
        results.append(CaseResult(case, problem is None, problem or "", got, expected))

    failure = next((r for r in results if not r.passed), None)
    if failure is None:
        return Report(exercise, Outcome.CORRECT, results, "", include_hidden)
    if failure.message.startswith("raised ") and all(not r.passed for r in results):
        return Report(exercise, Outcome.ERROR, results, failure.message[len("raised ") :], include_hidden)
    detail = diagnose(exercise, failure.case, failure.got) if failure.got is not None else ""
    return Report(exercise, Outcome.INCORRECT, results, detail, include_hidden)
