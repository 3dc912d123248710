"""What every chapter's catalogue module shares."""

from __future__ import annotations

import numbers

import torch

from helpers.exercises.compare import close, describe
from helpers.exercises.spec import Compare, Mismatch, ResultKind

F64 = torch.float64

# torch.optim.SGD under every name an answer can reach it by, and the book's twin (chapters 4 and 5)
SGD_FORBIDDEN = ("torch.optim.SGD", "torch.optim.sgd.sgd", "torch.optim._functional.sgd", "helpers.optim.SGD")


def gen(seed: int) -> torch.Generator:
    """A CPU generator with its own seed, so each exercise's cases are the same on every run."""
    return torch.Generator().manual_seed(seed)


def variance(x: torch.Tensor, correction: int = 1, dim: int = -1) -> torch.Tensor:
    """The variance along ``dim`` as a student writes it, sum of squared deviations / (m - correction).

    Known-wrong answers build on it: they may not call what the exercises forbid (``torch.var`` and friends).
    """
    return ((x - x.mean(dim, keepdim=True)) ** 2).sum(dim) / (x.shape[dim] - correction)


def first_tensor(value) -> torch.Tensor | None:
    """The first tensor in a (nested) tuple or list, or the value itself when it is one."""
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, (tuple, list)):
        for item in value:
            if (found := first_tensor(item)) is not None:
                return found
    return None


def close_by_dtype(float64: tuple[float, float], float32: tuple[float, float]) -> Compare:
    """close() with the (rtol, atol) of the case's dtype, read from the first tensor of the expected result:
    float64 cases are checked tightly, float32 ones (whose rounding is ~1e-7) more loosely."""
    tight, loose = close(*float64), close(*float32)

    def compare(expected, got):
        first = first_tensor(expected)
        return (tight if first is not None and first.dtype == torch.float64 else loose)(expected, got)

    return compare


def zero_dim_tensor(what: str, why: str, float64: tuple[float, float], float32: tuple[float, float]) -> Compare:
    """A 0-dim tensor (a loss or a penalty, something to backpropagate through), then close() in its dtype with
    close_by_dtype's tolerances. what: what is returned ("the loss"); why: why it must stay a tensor."""
    tolerance = close_by_dtype(float64, float32)

    def compare(expected: torch.Tensor, got) -> Mismatch | None:
        if not isinstance(got, torch.Tensor):
            return Mismatch(f"returned {describe(got)}, not a tensor: return {what} as a 0-dim tensor (no .item()), "
                            f"{why}", kind=ResultKind.WRONG_TYPE)
        if got.shape != expected.shape:
            return Mismatch(f"expected a 0-dim tensor, one number for the batch, got shape {tuple(got.shape)}")
        return tolerance(expected, got)

    return compare


def whole_number(what: str, tip: str = "// gives one") -> Compare:
    """Exact equality of whole numbers; a float or a tensor with the right value is rejected as the wrong type
    (a NumPy integer is an int).

    what: what the number counts, for the message ("a size", "a number of parameters"); tip: how to get an int.
    """

    def compare(expected, got):
        value = got.item() if isinstance(got, torch.Tensor) and got.numel() == 1 else got
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or value != expected:
            return Mismatch(f"expected {describe(expected)}, got {describe(value)}")
        if isinstance(got, torch.Tensor):
            return Mismatch(f"returned {describe(got)}, a tensor: {what} is a Python int, return an int (use .item() "
                            "or compute with ints)", kind=ResultKind.WRONG_TYPE)
        if isinstance(expected, numbers.Integral) and not isinstance(value, numbers.Integral):
            return Mismatch(f"returned {float(value)!r}, a float: {what} is a whole number, return an int "
                            f"({tip}; / gives a float)", kind=ResultKind.WRONG_TYPE)
        return None

    return compare


def graph_leaves(result: torch.Tensor) -> list[torch.Tensor]:
    """The leaf tensors (inputs that require grad) that ``result``'s autograd graph reaches: none when the result
    was detached, computed under torch.no_grad() or rebuilt from numbers. The compares that check a penalty's or a
    loss's gradient (chapters 9 and 10) take the gradient with respect to these."""
    leaves, seen, stack = [], set(), [result.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        if hasattr(node, "variable"):  # an AccumulateGrad node: its variable is a leaf
            leaves.append(node.variable)
        stack.extend(next_node for next_node, _ in node.next_functions)
    return leaves
