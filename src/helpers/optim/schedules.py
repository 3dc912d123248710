"""Learning-rate schedules: the learning rate of step t as a closed formula, like torch.optim.lr_scheduler's.

    LinearLR           eta_t = eta_0 (s + (e - s) min(t, T) / T)       linear warm-up (s < e) or decay (s > e)
    StepLR             eta_t = eta_0 gamma^floor(t / step_size)         divide by 10 every so many epochs
    CosineAnnealingLR  eta_t = eta_min + (eta_0 - eta_min)(1 + cos(pi t / T_max)) / 2
    LambdaLR           eta_t = eta_0 lr_lambda(t)                       any factor you like

Use them as torch's: build the scheduler after the optimizer (this sets each group's lr to eta(0)), then call
``scheduler.step()`` once per epoch (or per batch), *after* ``optimizer.step()``. They work with this
package's optimizers and with torch.optim's: a scheduler only writes ``group["lr"]``.

Note: torch computes most of its schedules recursively (eta_t from eta_(t-1), so that schedules can be chained);
these compute eta_t from eta_0 = group["initial_lr"] directly. Both give the same numbers up to rounding.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch


class LRScheduler:
    """Sets every param group's lr to lr_at(initial_lr, t) at t = 0, 1, 2, ... (t = ``last_epoch``)."""

    def __init__(self, optimizer: torch.optim.Optimizer, last_epoch: int = -1) -> None:
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise TypeError(f"{type(self).__name__} schedules a torch.optim.Optimizer, got {type(optimizer).__name__}.")
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            if last_epoch == -1:
                group.setdefault("initial_lr", group["lr"])
            elif "initial_lr" not in group:
                raise KeyError("Resuming with last_epoch >= 0 needs group['initial_lr'] in every param group "
                               "(it is set by a scheduler built with last_epoch=-1).")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]  # eta_0 per group
        self.last_epoch = last_epoch
        self.step()

    def lr_at(self, base_lr: float, t: int) -> float:
        """The learning rate of step t for a group whose initial learning rate is base_lr."""
        raise NotImplementedError("A schedule subclass defines lr_at(base_lr, t).")

    def lrs_at(self, t: int) -> list[float]:
        """The learning rates of step t, one per param group."""
        return [self.lr_at(base_lr, t) for base_lr in self.base_lrs]

    def step(self) -> None:
        """Advance t by one and write the new learning rates into the optimizer."""
        self.last_epoch += 1
        for group, lr in zip(self.optimizer.param_groups, self.lrs_at(self.last_epoch)):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        """The learning rates the last step() set, one per param group."""
        return self._last_lr

    def state_dict(self) -> dict[str, Any]:
        return {key: value for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.__dict__.update(state_dict)


class LinearLR(LRScheduler):
    """eta_t = eta_0 (start_factor + (end_factor - start_factor) min(t, total_iters) / total_iters)."""

    def __init__(self, optimizer: torch.optim.Optimizer, start_factor: float = 1.0 / 3, end_factor: float = 1.0,
                 total_iters: int = 5, last_epoch: int = -1) -> None:
        if not 0 < start_factor <= 1 or not 0 <= end_factor <= 1:
            raise ValueError(f"LinearLR: start_factor must lie in (0, 1] and end_factor in [0, 1], got "
                             f"{start_factor} and {end_factor}. For a decay to zero use end_factor=0.")
        if total_iters < 1:
            raise ValueError(f"LinearLR: total_iters must be a positive integer, got {total_iters}.")
        self.start_factor, self.end_factor, self.total_iters = start_factor, end_factor, total_iters
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, t: int) -> float:
        fraction = min(t, self.total_iters) / self.total_iters  # 0 -> 1, then stays at 1
        return base_lr * (self.start_factor + (self.end_factor - self.start_factor) * fraction)


class StepLR(LRScheduler):
    """eta_t = eta_0 gamma^floor(t / step_size): multiply by gamma every step_size steps."""

    def __init__(self, optimizer: torch.optim.Optimizer, step_size: int, gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        if step_size < 1:
            raise ValueError(f"StepLR: step_size must be a positive integer, got {step_size}.")
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, t: int) -> float:
        return base_lr * self.gamma ** (t // self.step_size)


class CosineAnnealingLR(LRScheduler):
    """eta_t = eta_min + (eta_0 - eta_min)(1 + cos(pi t / T_max)) / 2: from eta_0 down to eta_min at t = T_max.

    Past T_max the cosine goes on, back up to eta_0 at t = 2 T_max (as torch's does).
    """

    def __init__(self, optimizer: torch.optim.Optimizer, T_max: int, eta_min: float = 0.0,  # noqa: N803
                 last_epoch: int = -1) -> None:
        if T_max < 1:
            raise ValueError(f"CosineAnnealingLR: T_max must be a positive integer, got {T_max}.")
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, t: int) -> float:
        return self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * t / self.T_max)) / 2


class LambdaLR(LRScheduler):
    """eta_t = eta_0 lr_lambda(t), with one function for all groups or a list of one per group."""

    def __init__(self, optimizer: torch.optim.Optimizer,
                 lr_lambda: Callable[[int], float] | list[Callable[[int], float]], last_epoch: int = -1) -> None:
        groups = len(optimizer.param_groups)
        self.lr_lambdas = list(lr_lambda) if isinstance(lr_lambda, (list, tuple)) else [lr_lambda] * groups
        if len(self.lr_lambdas) != groups:
            raise ValueError(f"LambdaLR: give one lr_lambda or one per param group ({groups}), "
                             f"got {len(self.lr_lambdas)}.")
        super().__init__(optimizer, last_epoch)

    def lrs_at(self, t: int) -> list[float]:
        return [base_lr * factor(t) for base_lr, factor in zip(self.base_lrs, self.lr_lambdas)]  # eta_0 lambda(t)

    def state_dict(self) -> dict[str, Any]:  # functions are not data (torch drops lambdas the same way)
        return {key: value for key, value in self.__dict__.items() if key not in ("optimizer", "lr_lambdas")}
