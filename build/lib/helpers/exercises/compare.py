"""Comparisons between a student's result and the expected one.

Each returns None when ``got`` is right, or one sentence saying what differs, written for a student.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np
import torch


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


def close(rtol: float = 1e-5, atol: float = 1e-8, check_dtype: bool = True) -> Callable[[Any, Any], str | None]:
    """Numbers and tensors equal within |got - expected| <= atol + rtol * |expected|.

    For tensors the shape must match and, with ``check_dtype``, the dtype and device too: a function
    given float64 data should answer in float64, on the data's device.
    """

    def compare(expected: Any, got: Any) -> str | None:
        if isinstance(expected, (tuple, list)):
            kind = type(expected).__name__
            if not isinstance(got, (tuple, list)) or len(got) != len(expected):
                return f"expected a {kind} of {len(expected)} values, got {describe(got)}"
            for i, (e, g) in enumerate(zip(expected, got)):
                problem = compare(e, g)
                if problem:
                    return f"item {i} of the {kind}: {problem}"
            return None
        if isinstance(expected, torch.Tensor) and expected.ndim > 0:
            if not isinstance(got, torch.Tensor):
                return f"expected a torch.Tensor of shape {tuple(expected.shape)}, got {type(got).__name__}"
            if got.shape != expected.shape:
                return f"expected shape {tuple(expected.shape)}, got shape {tuple(got.shape)}"
            if check_dtype and got.dtype != expected.dtype:
                return f"expected dtype {expected.dtype}, got {got.dtype} (keep the input's dtype)"
            if check_dtype and got.device != expected.device:
                return f"expected the result on {expected.device}, got it on {got.device}"
            e, g = expected.detach().cpu().double(), got.detach().cpu().double()
            if not torch.allclose(g, e, rtol=rtol, atol=atol, equal_nan=True):
                worst = int(((g - e).abs().nan_to_num(nan=math.inf)).flatten().argmax())
                return (
                    f"values differ: at flat index {worst} expected {e.flatten()[worst].item():.6g}, "
                    f"got {g.flatten()[worst].item():.6g}"
                )
            return None
        e, g = _as_float(expected), _as_float(got)
        if e is None:
            raise TypeError(f"close() cannot compare an expected value of type {type(expected).__name__}")
        if g is None:
            return f"expected a number, got {describe(got)}"
        tensors = isinstance(expected, torch.Tensor) and isinstance(got, torch.Tensor)
        if tensors and check_dtype and got.dtype != expected.dtype:
            return f"expected dtype {expected.dtype}, got {got.dtype} (keep the input's dtype)"
        if tensors and check_dtype and got.device != expected.device:
            return f"expected the result on {expected.device}, got it on {got.device}"
        if math.isnan(e) and math.isnan(g):
            return None
        if not math.isclose(g, e, rel_tol=rtol, abs_tol=atol):
            return f"expected {e:.6g}, got {g:.6g}"
        return None

    return compare


def equal() -> Callable[[Any, Any], str | None]:
    """Exact equality, for integers and strings."""

    def compare(expected: Any, got: Any) -> str | None:
        got = _scalar(got)
        if got != expected or type(got) is bool and type(expected) is not bool:
            return f"expected {describe(expected)}, got {describe(got)}"
        return None

    return compare


def choice(options: dict[str, str]) -> Callable[[Any, Any], str | None]:
    """A letter among ``options`` (case and surrounding spaces ignored)."""

    def compare(expected: str, got: Any) -> str | None:
        if not isinstance(got, str):
            return f"answer with one of the letters {', '.join(map(repr, options))} as a string, got {describe(got)}"
        letter = got.strip().lower().strip("()")
        if letter not in options:
            return f"{got!r} is not one of the options {', '.join(map(repr, options))}"
        if letter != expected:
            return f"({letter}) is not the right option"
        return None

    return compare
