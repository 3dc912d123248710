"""The grader's probe: runs inside a student's kernel, after the student's cells.

It calls the student's answer on every case of an exercise (public and hidden) and saves only plain
results (tensors, numbers, strings) with ``torch.save``. The grader loads them with ``weights_only=True``
and compares them with the reference in its own process, so nothing the notebook patched (``check``,
``helpers.exercises``, torch's comparison functions) takes part in the comparison.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from helpers.exercises.catalogue import get
from helpers.exercises.runner import call_all, one_line


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
            exercise = get(exercise_id)
            cases = exercise.cases()
            record["calls"] = [
                {"label": case.label, "kind": call.kind.value, "value": plain(call.value), "error": call.error,
                 "modified_input": call.modified_input}
                for case, call in zip(cases, call_all(answer, cases, exercise.forbidden))
            ]
    torch.save(record, path)
