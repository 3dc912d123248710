"""Comparisons between a student's result and the expected one.

Each returns None when ``got`` is right, or a ``Mismatch``: one sentence, written for a student, saying what
differs, with the item of a tuple answer where it differs and whether it is a wrong value or a wrong type.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
import torch

from helpers.exercises.spec import Compare, Mismatch, ResultKind


def describe(value: Any, limit: int = 90) -> str:
    """A short, readable rendering of a value for feedback messages."""
    if isinstance(value, torch.Tensor):
        if value.numel() <= 6:
            body = str([round(v, 4) if isinstance(v, float) else v for v in value.detach().cpu().flatten().tolist()])
            if value.ndim == 0:
                body = body[1:-1]
        else:
            flat = value.detach().cpu().flatten()[:4].tolist()
            body = "[" + ", ".join(f"{v:.4g}" if isinstance(v, float) else str(v) for v in flat) + ", ...]"
        text = f"tensor {body} (shape {tuple(value.shape)}, {str(value.dtype).replace('torch.', '')})"
    elif isinstance(value, float):
        text = f"{value:.6g}"
    else:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _scalar(value: Any) -> Any:
    """A one-element tensor or array as a Python scalar; anything else unchanged."""
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return value.item()
    if isinstance(value, np.ndarray) and value.size == 1:
        return value.item()
    return value


def _as_float(value: Any) -> float | None:
    value = _scalar(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    return float(value)


def _wrong_type(expected: Any, got: Any, check_dtype: bool) -> Mismatch | None:
    """A NumPy array where a tensor belongs, or the wrong dtype or device: one line that says so."""
    if isinstance(expected, torch.Tensor) and isinstance(got, np.ndarray):
        return Mismatch("returned a NumPy array; return a torch.Tensor (compute with torch, or wrap the result in "
                        "torch.from_numpy)", kind=ResultKind.WRONG_TYPE)
    if not (check_dtype and isinstance(expected, torch.Tensor) and isinstance(got, torch.Tensor)):
        return None
    if got.dtype != expected.dtype:
        return Mismatch(f"returned {_dtype(got)} where {_dtype(expected)} was expected: keep the input's dtype "
                        "(a constant made with torch.tensor(...) or torch.zeros(...) needs dtype=x.dtype)",
                        kind=ResultKind.WRONG_TYPE)
    if got.device != expected.device:
        return Mismatch(f"returned a tensor on {got.device} where {expected.device} was expected: create new tensors "
                        "on the input's device (device=x.device)", kind=ResultKind.WRONG_TYPE)
    return None


def _kind_of(value: Any) -> str:
    """"None", or the type and a glimpse of the value: "a list, [[1.5, 2.25], ...]"."""
    return "None" if value is None else f"a {type(value).__name__}, {describe(value, 50)},"


def _dtype(t: torch.Tensor) -> str:
    return str(t.dtype).replace("torch.", "")


def differ(expected: float, got: float) -> str:
    """"expected E, got G", with as many significant digits as it takes to tell them apart (6 at least), and
    the difference when 6 digits do not show it: a near miss reads "expected 15, got 14.999999999 (off by 1e-09)",
    not "expected 15, got 15"."""
    for digits in (6, 10, 17):
        e, g = f"{expected:.{digits}g}", f"{got:.{digits}g}"
        if e != g:
            break
    text = f"expected {e}, got {g}"
    if digits > 6 and math.isfinite(expected) and math.isfinite(got):
        text += f" (off by {abs(got - expected):.3g})"
    return text


def close(rtol: float = 1e-5, atol: float = 1e-8, check_dtype: bool = True) -> Compare:
    """Numbers and tensors equal within |got - expected| <= atol + rtol * |expected|; tuples item by item.

    For tensors the shape must match and, with ``check_dtype``, the dtype and device too: a function
    given float64 data should answer in float64, on the data's device.
    """

    def compare(expected: Any, got: Any) -> Mismatch | None:
        if isinstance(expected, (tuple, list)):
            kind = type(expected).__name__
            if not isinstance(got, (tuple, list)) or len(got) != len(expected):
                return Mismatch(f"expected a {kind} of {len(expected)} values, got {describe(got)}")
            for i, (e, g) in enumerate(zip(expected, got)):
                problem = compare(e, g)
                if problem:
                    return Mismatch(problem.message, i, problem.kind)
            return None
        if problem := _wrong_type(expected, got, check_dtype):
            return problem
        if isinstance(expected, torch.Tensor) and expected.ndim > 0:
            if not isinstance(got, torch.Tensor):
                return Mismatch(f"returned {_kind_of(got)} where a torch.Tensor of shape {tuple(expected.shape)} "
                                "was expected: compute with tensors and return one", kind=ResultKind.WRONG_TYPE)
            if got.shape != expected.shape:
                return Mismatch(f"expected shape {tuple(expected.shape)}, got shape {tuple(got.shape)}")
            e, g = expected.detach().cpu().double(), got.detach().cpu().double()
            if not torch.allclose(g, e, rtol=rtol, atol=atol, equal_nan=True):
                agree = (g == e) | (g.isnan() & e.isnan())  # equal infinities and nan where nan is expected
                gap = (g - e).abs().nan_to_num(nan=math.inf).masked_fill(agree, 0.0)
                worst = int(gap.flatten().argmax())
                return Mismatch(f"values differ: at flat index {worst} "
                                f"{differ(e.flatten()[worst].item(), g.flatten()[worst].item())}")
            return None
        e, g = _as_float(expected), _as_float(got)
        if e is None:
            raise TypeError(f"close() cannot compare an expected value of type {type(expected).__name__}")
        if g is None:
            return Mismatch(f"returned {describe(got)}; expected a number", kind=ResultKind.WRONG_TYPE)
        if math.isnan(e) and math.isnan(g):
            return None
        if not math.isclose(g, e, rel_tol=rtol, abs_tol=atol):
            return Mismatch(differ(e, g))
        return None

    return compare


def equal() -> Compare:
    """Exact equality, for integers and strings."""

    def compare(expected: Any, got: Any) -> Mismatch | None:
        got = _scalar(got)
        if got != expected or type(got) is bool and type(expected) is not bool:
            return Mismatch(f"expected {describe(expected)}, got {describe(got)}")
        return None

    return compare


def choice(options: dict[str, str]) -> Compare:
    """A letter among ``options`` (case and surrounding spaces ignored)."""

    def compare(expected: str, got: Any) -> Mismatch | None:
        if not isinstance(got, str):
            return Mismatch(f"returned {describe(got)}; answer with one of the letters "
                            f"{', '.join(map(repr, options))} as a string", kind=ResultKind.WRONG_TYPE)
        letter = got.strip().lower().strip("()")
        if letter not in options:
            return Mismatch(f"returned {got!r}, which is not one of the options {', '.join(map(repr, options))}: "
                            "return the letter alone", kind=ResultKind.WRONG_TYPE)
        if letter != expected:
            return Mismatch(f"({letter}) is not the right option")
        return None

    return compare


def as_mismatch(result: Mismatch | str | None) -> Mismatch | None:
    """A compare function may answer with a plain sentence; make it a Mismatch."""
    return Mismatch(result) if isinstance(result, str) else result
