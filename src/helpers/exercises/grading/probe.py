"""The grader's probe: runs inside a student's kernel, after the student's cells.

For each exercise the grader appends a cell (``probe_cell``) that calls ``probe``: it calls the student's
answer on every case of the exercise (public and hidden) and saves only plain results (tensors, numbers,
strings) with ``torch.save``. The grader reads them back with ``read_calls`` (``weights_only=True``: no
code runs) and compares them with the reference in its own process.

**A fresh copy of ``helpers``.** The notebook may have patched the ``helpers`` it imported (say
``helpers.exercises.runner.call_all``, to return the reference's values). So the probe is not imported
from the notebook's modules: the first probe cell takes every ``helpers`` module out of ``sys.modules``,
imports this module anew (and with it a new ``helpers``), keeps that copy and puts the notebook's modules
back. While ``probe`` runs, the fresh copy is the one in ``sys.modules`` (see ``fresh_helpers``), so what
it imports late (the catalogue's chapters, the names an exercise forbids) is fresh too. The copy lives in a
kernel global whose name holds a random token chosen per submission, which the notebook cannot know.

What the probe cannot stop: code that hooks the kernel itself (IPython's input transformers or events,
``builtins``) runs after the notebook's own cells and can change anything. That needs a container (README).
"""

from __future__ import annotations

import contextlib
import numbers
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import torch

from helpers.exercises.catalogue import get
from helpers.exercises.runner import call_all, one_line
from helpers.exercises.spec import Call, CallKind, Exercise

_FRESH: dict[str, ModuleType] = {}  # the grader's own copy of the helpers modules, in the kernel

PROBE_CELL = """\
try:
    {handle}
except NameError:
    def {handle}_load():
        import importlib
        import sys

        def is_helpers(name):
            return name == "helpers" or name.startswith("helpers.")

        student = {{name: sys.modules.pop(name) for name in [n for n in sys.modules if is_helpers(n)]}}
        try:
            module = importlib.import_module("helpers.exercises.grading.probe")
            module.keep_fresh_copy()
            return module
        finally:
            for name in [n for n in sys.modules if is_helpers(n)]:
                del sys.modules[name]
            sys.modules.update(student)

    {handle} = {handle}_load()
    del {handle}_load
{handle}.probe({exercise_id!r}, lambda: ({answer}
), {path!r})
"""


def probe_cell(handle: str, exercise_id: str, answer: str, path: Path) -> str:
    """The source of the cell that probes ``answer`` (an expression) for ``exercise_id`` into ``path``.

    ``handle``: the kernel global that keeps the fresh probe module (``_grader_`` and a random token).
    """
    return PROBE_CELL.format(handle=handle, exercise_id=exercise_id, answer=answer, path=str(path))


def _is_helpers(name: str) -> bool:
    return name == "helpers" or name.startswith("helpers.")


def keep_fresh_copy() -> None:
    """Called by the probe cell right after importing this module anew: remember this copy of ``helpers``."""
    _FRESH.update({name: module for name, module in sys.modules.items() if _is_helpers(name)})


@contextlib.contextmanager
def fresh_helpers() -> Iterator[None]:
    """While the block runs, ``sys.modules`` holds the fresh ``helpers``; the notebook's comes back after."""
    student = {name: sys.modules.pop(name) for name in [n for n in sys.modules if _is_helpers(n)]}
    sys.modules.update(_FRESH)
    try:
        yield
    finally:
        for name in [n for n in sys.modules if _is_helpers(n)]:
            _FRESH.setdefault(name, sys.modules.pop(name))  # imported while probing: part of the fresh copy
        sys.modules.update(student)


def plain(value: Any) -> Any:
    """``value`` in a form ``torch.load(weights_only=True)`` accepts; anything else becomes a description."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    if isinstance(value, np.ndarray):
        return torch.from_numpy(value.copy())
    if isinstance(value, (np.generic, numbers.Number)):
        return value.item() if hasattr(value, "item") else complex(value)
    if isinstance(value, (tuple, list)):
        items = [plain(v) for v in value]
        return tuple(items) if isinstance(value, tuple) else items
    return f"<a {type(value).__name__} object>"


def reference_in_disguise(answer: Any) -> bool:
    """True when the answer is one of the book's own functions rather than the student's."""
    module = getattr(answer, "__module__", None) or ""
    return callable(answer) and module.split(".")[0] == "helpers"


def probe(exercise_id: str, get_answer: Callable[[], Any], path: str) -> None:
    """Record the answer's result on every case of ``exercise_id`` into ``path``."""
    record: dict[str, Any] = {"id": exercise_id, "problem": "", "calls": []}
    try:
        answer = get_answer()
    except Exception as error:
        record["problem"] = f"the answer could not be found after running the notebook ({one_line(error)})"
    else:
        if reference_in_disguise(answer):
            record["problem"] = "the answer is the book's reference implementation, not your own code"
        else:
            with fresh_helpers():
                exercise = get(exercise_id)
                cases = exercise.cases()
                calls = call_all(answer, cases, exercise.forbidden)
            record["calls"] = [
                {"label": case.label, "kind": call.kind.value, "value": plain(call.value), "error": call.error,
                 "modified_input": call.modified_input}
                for case, call in zip(cases, calls)
            ]
    torch.save(record, path)


# ---------------------------------------------------------------- in the grader's process


def read_calls(path: Path, exercise: Exercise) -> list[Call] | str:
    """The calls the probe recorded for ``exercise``, one per case; or why there are none (a sentence)."""
    if not path.exists():
        return "the exercise could not be graded"
    try:
        record = torch.load(path, weights_only=True)
    except Exception as error:
        return f"the probe's results could not be read ({error.__class__.__name__})"
    if not isinstance(record, dict) or record.get("id") != exercise.id:
        return "the exercise could not be graded"
    if record.get("problem"):
        return str(record["problem"])
    cases = exercise.cases()
    calls = [_call_of(saved, case.label) for case, saved in zip(cases, record.get("calls", []))]
    missing = len(cases) - len(calls)
    if missing > 0 and not any(c.kind is CallKind.NOT_IMPLEMENTED for c in calls):
        calls += [Call(CallKind.RAISED, error="not run: the grading of this exercise stopped early")] * missing
    return calls


def _call_of(saved: Any, label: str) -> Call:
    """One saved call as a ``Call`` (a RAISED one when the notebook changed the exercise's tests)."""
    changed = Call(CallKind.RAISED, error="the notebook changed this exercise's tests")
    if not isinstance(saved, dict) or saved.get("label") != label:
        return changed
    try:
        kind = CallKind(saved.get("kind", CallKind.RAISED))
    except ValueError:
        return changed
    modified = saved.get("modified_input")  # the sentence; a saved call that says only "changed" gets the generic one
    if not isinstance(modified, str):
        modified = "changed its input tensor in place; compute a new tensor instead" if modified else ""
    return Call(kind, saved.get("value"), str(saved.get("error", "")), modified)
