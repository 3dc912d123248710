"""Run an answer against an exercise's cases and decide the outcome.

Two steps, so that the grader can run the first in a student's kernel and the second in its own process:

1. ``call_answer``: call the answer on one case and record what happened (a ``Call``);
2. ``judge``: compare each recorded result with the reference's result on the same case, and decide.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import torch

from helpers.exercises.compare import describe
from helpers.exercises.model import Case, CaseResult, Exercise, Outcome, Report

RETURNED, RAISED, NOT_IMPLEMENTED = "returned", "raised", "not implemented"


@dataclass
class Call:
    """What happened when an answer was called on one case."""

    status: str  # RETURNED, RAISED or NOT_IMPLEMENTED
    value: Any = None
    error: str = ""  # for RAISED: the exception in one line
    modified_input: bool = False


def fresh(args: tuple) -> tuple:
    """Deep copies of the arguments, so an answer that edits its input cannot spoil the next case."""
    return copy.deepcopy(args)


def one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _modified(before: tuple, after: tuple) -> bool:
    for b, a in zip(before, after):
        both = isinstance(b, torch.Tensor) and isinstance(a, torch.Tensor)
        if both and (b.shape != a.shape or not torch.equal(b.detach().cpu(), a.detach().cpu())):
            return True
    return False


def call_answer(answer: Any, case: Case) -> Call:
    """Call ``answer(*case.args)`` (or take ``answer`` itself when it is a value). Never raises."""
    given = fresh(case.args)
    try:
        value = answer(*given) if callable(answer) else answer
    except NotImplementedError:
        return Call(NOT_IMPLEMENTED)
    except Exception as error:  # the student's code crashed: keep it to one line
        return Call(RAISED, error=one_line(error))
    return Call(RETURNED, value, modified_input=_modified(case.args, given))


def _identical(a: Any, b: Any) -> bool:
    if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor):
        return a.shape == b.shape and a.dtype == b.dtype and bool(torch.equal(a.detach().cpu(), b.detach().cpu()))
    if isinstance(a, (torch.Tensor, bool)) or isinstance(b, (torch.Tensor, bool)):
        return False
    try:
        return bool(a == b)
    except Exception:
        return False


def call_all(answer: Any, cases: list[Case]) -> list[Call]:
    """``call_answer`` on each case in turn, stopping at the stub's NotImplementedError."""
    calls: list[Call] = []
    for case in cases:
        calls.append(call_answer(answer, case))
        if calls[-1].status == NOT_IMPLEMENTED:
            break
    return calls


def diagnose(exercise: Exercise, case: Case, got: Any) -> str:
    """If ``got`` is what a known-wrong answer returns on ``case``, that wrong answer's diagnosis."""
    for diagnosis, wrong in exercise.wrong.items():
        try:
            wrong_result = wrong(*fresh(case.args))
            if exercise.compare(wrong_result, got) is None or _identical(wrong_result, got):
                return diagnosis
        except Exception:  # a wrong answer may crash where the student's did not
            continue
    return ""


def judge(exercise: Exercise, cases: list[Case], calls: list[Call], include_hidden: bool = False) -> Report:
    """Compare each call's result with the reference on the same case and decide the outcome."""
    if any(call.status == NOT_IMPLEMENTED for call in calls):
        return Report(exercise, Outcome.NOT_ATTEMPTED, [], "", include_hidden)
    results: list[CaseResult] = []
    for case, call in zip(cases, calls):
        if call.status == RAISED:
            results.append(CaseResult(case, False, f"raised {call.error}"))
            continue
        expected = exercise.reference(*fresh(case.args))
        try:
            problem = exercise.compare(expected, call.value)
        except Exception as error:
            problem = f"returned something that could not be compared ({one_line(error)})"
        if problem is None and call.modified_input:
            problem = "changed its input tensor in place; compute a new tensor instead"
        results.append(CaseResult(case, problem is None, problem or "", call.value, expected))

    failure = next((r for r in results if not r.passed), None)
    if failure is None:
        return Report(exercise, Outcome.CORRECT, results, "", include_hidden)
    if all(r.message.startswith("raised ") for r in results):
        return Report(exercise, Outcome.ERROR, results, failure.message[len("raised ") :], include_hidden)
    detail = diagnose(exercise, failure.case, failure.got) if failure.got is not None else ""
    return Report(exercise, Outcome.INCORRECT, results, detail, include_hidden)


def run(exercise: Exercise, answer: Any, include_hidden: bool = False) -> Report:
    """Call ``answer`` on every public case (and hidden ones when grading) and judge the results.

    Never raises: a crash in the answer becomes an ERROR report, ``NotImplementedError`` a NOT_ATTEMPTED one.
    """
    if exercise.kind == "implement" and not callable(answer):
        detail = f"expected a function, got {describe(answer)}. Pass the function itself: check(id, my_function)"
        return Report(exercise, Outcome.ERROR, [], detail)
    cases = [c for c in exercise.cases() if include_hidden or not c.hidden]
    return judge(exercise, cases, call_all(answer, cases), include_hidden)
