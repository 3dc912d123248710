"""What every optimizer of the package shares: argument checks and the options it does not implement."""

from __future__ import annotations

from collections.abc import Callable

import torch

Closure = Callable[[], torch.Tensor] | None


def check_at_least_zero(where: str, **values: float) -> None:
    """Raise a ValueError naming the first hyper-parameter below 0 (as torch.optim does)."""
    for name, value in values.items():
        if not float(value) >= 0.0:
            raise ValueError(f"{where}: {name} must be >= 0, got {value}.")


def refuse_unsupported(where: str, foreach: bool | None, **flags: bool | None) -> None:
    """This package's optimizers are the plain per-parameter loop: foreach/fused/capturable/differentiable=True
    are speed or graph-capture variants of the same update, available from torch.optim."""
    requested = [name for name, value in {"foreach": foreach, **flags}.items() if value]
    if requested:
        raise ValueError(
            f"{where}: {', '.join(f'{n}=True' for n in requested)} is not implemented here; this reference "
            f"implementation is the plain per-parameter loop (the same update). Leave it out, or use "
            f"torch.optim.{where}(..., {requested[0]}=True) for speed."
        )


def evaluate_closure(closure: Closure) -> torch.Tensor | None:
    """loss = closure() with gradients enabled (step itself runs under torch.no_grad()), or None."""
    if closure is None:
        return None
    with torch.enable_grad():
        return closure()


def new_step_counter() -> torch.Tensor:
    """The state's step count t, a 0-dim float tensor as torch.optim keeps it (so state_dicts can be swapped)."""
    dtype = torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32
    return torch.tensor(0.0, dtype=dtype)


def gradient(p: torch.Tensor, maximize: bool) -> torch.Tensor:
    """g = dL/dp, or -dL/dp with maximize=True (gradient ascent). Refuses sparse gradients."""
    if p.grad.is_sparse:
        raise RuntimeError("Sparse gradients are not supported here; use torch.optim.SparseAdam or a dense layer.")
    return -p.grad if maximize else p.grad
