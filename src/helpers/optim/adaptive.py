"""Per-coordinate step sizes from past squared gradients: Adagrad and RMSprop (torch.optim's).

Adagrad (Duchi et al., 2011) divides by the root of the *sum* of all past squared gradients,

    t <- t + 1;   g <- g + lambda w;   eta_t = eta / (1 + (t - 1) lr_decay)
    s <- s + g^2                                  (s starts at initial_accumulator_value)
    w <- w - eta_t g / (sqrt(s) + eps)

so a coordinate that has seen large gradients takes small steps, and every step size only shrinks.
RMSprop (Hinton, 2012) forgets: it divides by the root of an exponential moving *average*,

    v <- alpha v + (1 - alpha) g^2                square_avg
    a <- alpha a + (1 - alpha) g                  grad_avg (centered only)
    r <- sqrt(v - a^2) + eps  (centered)   or   sqrt(v) + eps
    b <- mu b + g / r;   w <- w - eta b      (momentum mu > 0)   or   w <- w - eta g / r

Notes on torch's conventions, which this code follows:
- eps is added *outside* the square root, sqrt(v) + eps, not sqrt(v + eps) (eps = 1e-10 for Adagrad,
  1e-8 for RMSprop); v starts at 0, with no bias correction (unlike Adam), so early steps are large.
- ``centered=True`` divides by an estimate of the gradient's standard deviation instead of its root mean square.
- ``weight_decay = lambda`` adds lambda w to the gradient (coupled L2, the gradient of (lambda/2)||w||^2).
"""

from __future__ import annotations

from collections.abc import Iterable

import torch

from helpers.optim._base import (
    Closure,
    check_at_least_zero,
    evaluate_closure,
    gradient,
    new_step_counter,
    refuse_unsupported,
)


class Adagrad(torch.optim.Optimizer):
    """torch.optim.Adagrad as an explicit loop over parameters. state[p]: "step" t and "sum" s."""

    def __init__(
        self,
        params: Iterable,
        lr: float = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        check_at_least_zero("Adagrad", lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                            initial_accumulator_value=initial_accumulator_value, eps=eps)
        refuse_unsupported("Adagrad", foreach, differentiable=differentiable, fused=fused)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        for group in self.param_groups:  # like torch, the state exists from the start
            for p in group["params"]:
                self.state[p]["step"] = new_step_counter()
                self.state[p]["sum"] = torch.full_like(p, group["initial_accumulator_value"])

    @torch.no_grad()
    def step(self, closure: Closure = None) -> torch.Tensor | None:
        """One update of every parameter that has a gradient; returns closure() if given."""
        loss = evaluate_closure(closure)
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                state["step"] += 1  # t
                t = state["step"].item()
                g = gradient(p, group["maximize"])
                if group["weight_decay"] != 0:
                    g = g.add(p, alpha=group["weight_decay"])  # g + lambda w
                lr_t = float(group["lr"]) / (1 + (t - 1) * group["lr_decay"])  # eta_t = eta / (1 + (t-1) decay)
                s = state["sum"].addcmul_(g, g)  # s = s + g^2
                p.addcdiv_(g, s.sqrt().add_(group["eps"]), value=-lr_t)  # w = w - eta_t g / (sqrt(s) + eps)
        return loss


class RMSprop(torch.optim.Optimizer):
    """torch.optim.RMSprop as an explicit loop over parameters.

    state[p]: "step", "square_avg" v, "momentum_buffer" b (momentum > 0), "grad_avg" a (centered).
    """

    def __init__(
        self,
        params: Iterable,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        check_at_least_zero("RMSprop", lr=lr, eps=eps, momentum=momentum, weight_decay=weight_decay, alpha=alpha)
        refuse_unsupported("RMSprop", foreach, capturable=capturable, differentiable=differentiable)
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach, maximize=maximize,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure: Closure = None) -> torch.Tensor | None:
        """One update of every parameter that has a gradient; returns closure() if given."""
        loss = evaluate_closure(closure)
        for group in self.param_groups:
            lr, alpha, mu = float(group["lr"]), group["alpha"], group["momentum"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state["step"] = new_step_counter()
                    state["square_avg"] = torch.zeros_like(p)
                    if mu > 0:
                        state["momentum_buffer"] = torch.zeros_like(p)
                    if group["centered"]:
                        state["grad_avg"] = torch.zeros_like(p)
                state["step"] += 1
                g = gradient(p, group["maximize"])
                if group["weight_decay"] != 0:
                    g = g.add(p, alpha=group["weight_decay"])  # g + lambda w
                v = state["square_avg"].mul_(alpha).addcmul_(g, g, value=1 - alpha)  # v = alpha v + (1-alpha) g^2
                if group["centered"]:
                    a = state["grad_avg"].lerp_(g, 1 - alpha)  # a = alpha a + (1 - alpha) g
                    r = v.addcmul(a, a, value=-1).sqrt_().add_(group["eps"])  # r = sqrt(v - a^2) + eps
                else:
                    r = v.sqrt().add_(group["eps"])  # r = sqrt(v) + eps: eps outside the root
                if mu > 0:
                    b = state["momentum_buffer"].mul_(mu).addcdiv_(g, r)  # b = mu b + g / r
                    p.add_(b, alpha=-lr)  # w = w - eta b
                else:
                    p.addcdiv_(g, r, value=-lr)  # w = w - eta g / r
        return loss
