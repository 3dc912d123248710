"""An exercise that asks for X forbids X: catch calls to forbidden functions while an answer runs.

Each catalogue entry names what its answer may not call, e.g. ``("torch.logsumexp", "torch.Tensor.logsumexp",
"scipy.special.logsumexp", "helpers.nn.losses.logsumexp")``. ``Guard(names)`` resolves the names to the
objects they stand for, and while it is active (``with guard: answer(*args)``) it watches two channels:

- a ``torch.overrides.TorchFunctionMode`` sees every torch function, ``Tensor`` method and
  ``torch.nn.functional`` call, whatever name it was bound to (``from torch import logsumexp as lse``,
  ``getattr(torch, "logsumexp")``, a lambda or a wrapper: the function object is the same);
- ``sys.setprofile`` sees every Python function that starts (compared by its code's file, line and name,
  so a fresh import of the same module still matches) and every C function called from Python (compared
  by identity): NumPy, SciPy and the book's own reference implementations.

Calls made *inside* a permitted torch function are not the answer's own and are not seen by the torch
channel. A violation is recorded, not raised: the answer runs to its end (so a ``try``/``except`` in the
answer cannot hide it), the forbidden function works normally, and both hooks are removed when the block
ends, so the student's notebook is never left changed.

Not seen: a NumPy ufunc called directly (``np.logaddexp(0, x)``) is neither a Python function nor a C
function to the profiler. Exercises whose answer could go that way also forbid the escape to NumPy
(``torch.Tensor.numpy``, ``torch.Tensor.__array__``).
"""

from __future__ import annotations

import functools
import importlib
import sys
from collections.abc import Iterable
from types import CodeType
from typing import Any

from torch.overrides import TorchFunctionMode

CodeKey = tuple[str, int, str]

# Common groups, for catalogue entries.
AUTOGRAD = (
    "torch.Tensor.backward", "torch.autograd.backward", "torch.autograd.grad", "torch.func.grad",
    "torch.func.grad_and_value", "torch.func.vjp", "torch.func.jacrev", "torch.func.jacfwd",
    "torch.autograd.functional.jacobian", "torch.autograd.functional.vjp",
)
NUMPY_ESCAPE = ("torch.Tensor.numpy", "torch.Tensor.__array__")


def code_key(code: CodeType) -> CodeKey:
    return code.co_filename, code.co_firstlineno, code.co_name


def resolve(name: str) -> Any | None:
    """The object a dotted name stands for (``"torch.Tensor.logsumexp"``), or None when it does not exist.

    Attributes win over submodules of the same name: ``torch.autograd.gradcheck`` is the function that
    ``torch.autograd`` exports, not the module it lives in. A submodule is imported only where the name
    goes on past it (``scipy.special.logsumexp``).
    """
    parts = name.split(".")
    try:
        obj = importlib.import_module(parts[0])
    except ImportError:
        return None
    for index, attribute in enumerate(parts[1:], start=1):
        if hasattr(obj, attribute):
            obj = getattr(obj, attribute)
            continue
        try:  # a submodule not imported yet, or one hidden behind a function of the same name
            module = importlib.import_module(".".join(parts[:index]))
            obj = getattr(module, attribute, None) or importlib.import_module(".".join(parts[: index + 1]))
        except ImportError:
            return None
    return obj


def _functions_of(obj: Any) -> Iterable[Any]:
    """The callables that running ``obj`` is sure to enter: itself, what it wraps, a class's own methods.

    A decorator's wrapper (a Python function with ``__wrapped__``) is the same code for every function it
    decorates (SciPy wraps scipy.stats.sem, tvar, ttest_1samp, ... in one ``axis_nan_policy_wrapper``):
    it is matched by the function inside, never by its own code, so forbidding one of them forbids only it.
    """
    inner = getattr(obj, "__wrapped__", None)
    if inner is not None and isinstance(getattr(obj, "__code__", None), CodeType):
        yield from _functions_of(inner)
        return
    yield obj
    for attribute in ("__wrapped__", "_implementation", "__func__"):  # NumPy dispatchers (C), methods
        inner = getattr(obj, attribute, None)
        if inner is not None and inner is not obj:
            yield inner
    if isinstance(obj, type):
        yield from (value for value in vars(obj).values() if callable(value))


class Guard:
    """Watches an answer for calls to the forbidden ``names``; ``violation`` is the first one it saw."""

    def __init__(self, names: Iterable[str]):
        self.by_code: dict[CodeKey, str] = {}
        self.by_id: dict[int, str] = {}
        self.keep: list[Any] = []  # holds the objects whose ids are keys of by_id
        for name in names:
            obj = resolve(name)
            if obj is None:  # absent in this version of the library: nothing to forbid
                continue
            for function in _functions_of(obj):
                code = getattr(function, "__code__", None)
                if isinstance(code, CodeType):
                    self.by_code.setdefault(code_key(code), name)
                else:
                    self.by_id.setdefault(id(function), name)
                    self.keep.append(function)
        self.violation: str | None = None
        self._mode: _Mode | None = None
        self._previous_profile: Any = None

    def __bool__(self) -> bool:
        return bool(self.by_code or self.by_id)

    def seen(self, name: str | None) -> None:
        if name is not None and self.violation is None:
            self.violation = name

    def _profile(self, frame: Any, event: str, arg: Any) -> None:
        if event == "call":
            self.seen(self.by_code.get(code_key(frame.f_code)))
        elif event == "c_call":
            self.seen(self.by_id.get(id(arg)) or self.by_id.get(id(getattr(arg, "__self__", None))))

    def __enter__(self) -> Guard:
        self.violation = None
        if not self:
            return self
        self._mode = _Mode(self)
        self._mode.__enter__()
        self._previous_profile = sys.getprofile()
        sys.setprofile(self._profile)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._mode is None:
            return
        sys.setprofile(self._previous_profile)
        self._mode.__exit__(*exc)
        self._mode = None


class _Mode(TorchFunctionMode):
    def __init__(self, guard: Guard):
        super().__init__()
        self.guard = guard

    def __torch_function__(self, func, types, args=(), kwargs=None):
        self.guard.seen(self.guard.by_id.get(id(func)) or self.guard.by_code.get(_key_of(func)))
        return func(*args, **(kwargs or {}))


def _key_of(func: Any) -> CodeKey | None:
    code = getattr(func, "__code__", None)
    return code_key(code) if isinstance(code, CodeType) else None


@functools.cache
def guard_for(names: tuple[str, ...]) -> Guard:
    """One Guard per forbidden list, built once (resolving names imports modules such as scipy)."""
    return Guard(names)


def message(name: str, instead: str = "") -> str:
    """What the student reads when the answer called a forbidden function."""
    if name in NUMPY_ESCAPE:  # the student may well compute it themselves, but in NumPy, where no check can see
        text = f"your answer calls {name}: stay in torch here (the checker cannot watch NumPy code)"
    else:
        text = f"your answer calls {name}: this exercise asks you to compute it yourself"
    return f"{text}. {instead}" if instead else f"{text}."
