"""Run an answer against an exercise's cases and decide the outcome.

Two steps, so that the grader can run the first in a student's kernel and the second in its own process:

1. ``call_all``: call the answer on each case, with the exercise's forbidden calls watched, and record what
   happened (a ``Call``: returned, raised, not implemented, or called something forbidden);
2. ``judge``: compare each recorded result with the reference's result on the same case, and decide.
"""

from __future__ import annotations

import copy
import inspect
from typing import Any

import torch

from helpers.exercises.compare import as_mismatch, describe
from helpers.exercises.forbid import Guard, guard_for
from helpers.exercises.forbid import message as forbidden_message
from helpers.exercises.spec import Call, CallKind, Case, CaseResult, Exercise, Outcome, Report, ResultKind


def fresh(args: tuple) -> tuple:
    """Deep copies of the arguments, so an answer that edits its input cannot spoil the next case."""
    return copy.deepcopy(args)


def one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _tensor_change(before: torch.Tensor, after: torch.Tensor) -> str:
    """What the answer did to an input tensor: "" (nothing), "values", or how it left the tensor's autograd state,
    which the caller's tensor would keep: "now requires grad" (it then records every operation on it), "now has a
    .grad", "no longer requires grad" (a frozen parameter), or two of them."""
    if before.shape != after.shape or not torch.equal(before.detach().cpu(), after.detach().cpu()):
        return "values"
    frozen = before.requires_grad and not after.requires_grad
    new = [what for what, happened in (("requires grad", after.requires_grad and not before.requires_grad),
                                       ("has a .grad", after.grad is not None and before.grad is None)) if happened]
    return " and ".join((["no longer requires grad"] if frozen else []) + (["now " + " and ".join(new)] if new else []))


def _tensor_changes(before: Any, after: Any) -> list[str]:
    """_tensor_change of every tensor in an argument (also inside a list, tuple or dict), "values" where the
    container itself changed."""
    if isinstance(before, torch.Tensor) and isinstance(after, torch.Tensor):
        return [_tensor_change(before, after)]
    if isinstance(before, (list, tuple)) and isinstance(after, (list, tuple)):
        pairs = list(zip(before, after)) if len(before) == len(after) else None
    elif isinstance(before, dict) and isinstance(after, dict):
        pairs = [(before[k], after[k]) for k in before] if before.keys() == after.keys() else None
    else:
        return []
    return ["values"] if pairs is None else [change for b, a in pairs for change in _tensor_changes(b, a)]


def _parameter_change(before: Any, after: Any) -> tuple[str, str]:
    """(what, the parameter's name) for the first parameter of a module argument that the answer changed."""
    if isinstance(before, torch.nn.Module) and isinstance(after, torch.nn.Module):
        for (name, b), (_, a) in zip(before.named_parameters(), after.named_parameters()):
            if what := _tensor_change(b, a):
                return what, name
    return "", ""


def _argument_names(answer: Any, count: int) -> list[str]:
    """The names of the answer's first ``count`` parameters ("argument 1", ... where they cannot be read)."""
    try:
        names = [p.name for p in inspect.signature(answer).parameters.values()
                 if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        names = []
    return [names[i] if i < len(names) else f"argument {i + 1}" for i in range(count)]


def modification(answer: Any, before: tuple, after: tuple) -> str:
    """"" when the answer left its arguments as they were; else a sentence, to follow "your answer", saying which
    argument it changed and how, and what to do instead. Tensors first (values, then autograd state), then the
    parameters of module arguments."""
    names = _argument_names(answer, len(before))
    changes = [(name, _tensor_changes(b, a)) for name, b, a in zip(names, before, after)]
    for name, found in changes:
        if "values" in found:
            return f"changed its input {name} in place; compute a new tensor instead"
    for name, found in changes:
        if left := next((change for change in found if change), ""):
            return (f"changed the input {name}: it {left}, and so would the caller's tensor. Work on a copy: "
                    f"{name}.detach().clone().requires_grad_(True)")
    for name, b, a in zip(names, before, after):
        what, parameter = _parameter_change(b, a)
        if what == "values":
            return f"changed the parameter {parameter} of {name}; leave the model's parameters as they are"
        if what == "now has a .grad":
            return (f"left a .grad on the parameters of {name} ({parameter}, ...): .backward() fills the .grad of "
                    "every parameter it reaches; torch.autograd.grad(score, input) gives the gradient with respect "
                    "to the input alone")
        if what:
            return (f"changed the parameter {parameter} of {name}: it {what}, and so would the caller's model. "
                    "Leave the model as it was; torch.autograd.grad(score, input) needs no change to it")
    return ""


def call_answer(answer: Any, case: Case, guard: Guard) -> Call:
    """Call ``answer(*case.args)`` (or take ``answer`` itself when it is a value), watched by ``guard``.

    Never raises for the answer's own errors: they become a RAISED call.
    """
    given = fresh(case.args)
    try:
        with guard:
            value = answer(*given) if callable(answer) else answer
    except NotImplementedError:
        return Call(CallKind.NOT_IMPLEMENTED)
    except Exception as error:  # the student's code crashed: keep it to one line
        if guard.violation:
            return Call(CallKind.FORBIDDEN, error=guard.violation)
        return Call(CallKind.RAISED, error=one_line(error))
    if guard.violation:
        return Call(CallKind.FORBIDDEN, error=guard.violation)
    return Call(CallKind.RETURNED, value, modified_input=modification(answer, case.args, given))


def call_all(answer: Any, cases: list[Case], forbidden: tuple[str, ...] = ()) -> list[Call]:
    """``call_answer`` on each case in turn, stopping at the stub's NotImplementedError."""
    guard = guard_for(tuple(forbidden))
    calls: list[Call] = []
    for case in cases:
        calls.append(call_answer(answer, case, guard))
        if calls[-1].kind is CallKind.NOT_IMPLEMENTED:
            break
    return calls


def _identical(a: Any, b: Any) -> bool:
    if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor):
        return a.shape == b.shape and a.dtype == b.dtype and bool(torch.equal(a.detach().cpu(), b.detach().cpu()))
    if isinstance(a, (torch.Tensor, bool)) or isinstance(b, (torch.Tensor, bool)):
        return False
    try:
        return bool(a == b)
    except Exception:
        return False


def _with_item(expected: Any, item: int, value: Any) -> Any:
    """``expected`` with its item ``item`` replaced by ``value`` (same container type)."""
    items = list(expected)
    items[item] = value
    return type(expected)(items) if isinstance(expected, tuple) else items


def _matches(exercise: Exercise, failure: CaseResult, wrong: Any) -> bool:
    """Does the known-wrong answer ``wrong`` return what the student returned, on the item that failed?"""
    try:
        result = wrong(*fresh(failure.case.args))
        if failure.item is None:
            return as_mismatch(exercise.compare(result, failure.got)) is None or _identical(result, failure.got)
        if not isinstance(result, (tuple, list)) or len(result) != len(failure.expected):
            return False
        probe = _with_item(failure.expected, failure.item, result[failure.item])
        mismatch = as_mismatch(exercise.compare(probe, failure.got))
        return mismatch is None or mismatch.item != failure.item
    except Exception:  # a wrong answer may crash where the student's did not
        return False


def diagnose(exercise: Exercise, failures: list[CaseResult]) -> str:
    """The diagnosis of the known-wrong answer that behaves like the student's on the most failing cases, and
    on at least half of them; "" when none does.

    Only the item that failed is compared: a student who got dE/dw1 wrong is told about the mistake that
    gives that dE/dw1, whatever the known-wrong answer does to the other items. Counting over every failing
    case tells apart two mistakes that happen to agree on the first one. A mistake that agrees on fewer than
    half of the wrong values is a coincidence (two wrong answers can meet on one case: a saturated tanh is 1
    whatever went in), and no diagnosis is better than a wrong one. Ties go to the mistake listed first.
    """
    failures = [f for f in failures if f.kind is ResultKind.WRONG_VALUE]
    best, best_count = "", 0
    for diagnosis, wrong in exercise.wrong.items():
        count = sum(_matches(exercise, failure, wrong) for failure in failures)
        if count > best_count and 2 * count >= len(failures):
            best, best_count = diagnosis, count
    return best


def _result(exercise: Exercise, case: Case, call: Call) -> CaseResult:
    if call.kind is CallKind.RAISED:
        return CaseResult(case, ResultKind.RAISED, f"raised {call.error}")
    if call.kind is CallKind.FORBIDDEN:
        return CaseResult(case, ResultKind.FORBIDDEN, forbidden_message(call.error, exercise.instead))
    expected = exercise.reference(*fresh(case.args))
    try:
        mismatch = as_mismatch(exercise.compare(expected, call.value))
    except Exception as error:
        message = f"returned something that could not be compared: {describe(call.value)} ({one_line(error)})"
        return CaseResult(case, ResultKind.WRONG_TYPE, message, call.value, expected)
    changed = call.modified_input
    if mismatch is not None:
        message = f"{mismatch.message} (and your answer {changed})" if changed else mismatch.message
        return CaseResult(case, mismatch.kind, message, call.value, expected, mismatch.item)
    if changed:
        return CaseResult(case, ResultKind.MODIFIED_INPUT, changed, call.value, expected)
    return CaseResult(case, ResultKind.PASSED, "", call.value, expected)


def judge(exercise: Exercise, cases: list[Case], calls: list[Call], include_hidden: bool = False) -> Report:
    """Compare each call's result with the reference on the same case and decide the outcome."""
    if any(call.kind is CallKind.NOT_IMPLEMENTED for call in calls):
        return Report(exercise, Outcome.NOT_ATTEMPTED, [], "", include_hidden)
    results = [_result(exercise, case, call) for case, call in zip(cases, calls)]
    failure = next((r for r in results if not r.passed), None)
    if failure is None:
        return Report(exercise, Outcome.CORRECT, results, "", include_hidden)
    if all(r.kind is ResultKind.RAISED for r in results):
        return Report(exercise, Outcome.ERROR, results, failure.message.removeprefix("raised "), include_hidden)
    detail = diagnose(exercise, [r for r in results if not r.passed]) if failure.kind is ResultKind.WRONG_VALUE else ""
    return Report(exercise, Outcome.INCORRECT, results, detail, include_hidden)


def run(exercise: Exercise, answer: Any, include_hidden: bool = False) -> Report:
    """Call ``answer`` on every public case (and hidden ones when grading) and judge the results.

    Never raises: a crash in the answer becomes an ERROR report, ``NotImplementedError`` a NOT_ATTEMPTED one.
    """
    if exercise.kind == "implement" and not callable(answer):
        detail = f"expected a function, got {describe(answer)}. Pass the function itself: check(id, my_function)"
        return Report(exercise, Outcome.ERROR, [], detail)
    cases = [c for c in exercise.cases() if include_hidden or not c.hidden]
    return judge(exercise, cases, call_all(answer, cases, exercise.forbidden), include_hidden)
