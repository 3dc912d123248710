"""Stochastic gradient descent with momentum, dampening, Nesterov momentum and weight decay: torch.optim.SGD.

With g = dL/dw (on a minibatch), weight decay lambda, momentum mu, dampening tau and learning rate eta:

    g <- g + lambda w                      L2 penalty: lambda w is the gradient of (lambda/2) ||w||^2
    b <- g                  (first step)   the momentum buffer starts at the gradient itself,
    b <- mu b + (1 - tau) g (later steps)  then is an exponentially weighted *sum* (not average)
    d <- g + mu b   (Nesterov)   or   d <- b
    w <- w - eta d

Notes on torch's conventions, which this code follows:
- The buffer is v = mu v + g, not the textbook v = mu v + (1 - mu) g, so in a steady state the step is
  eta / (1 - mu) times the gradient (10 eta for mu = 0.9). The first buffer is g, not (1 - tau) g.
- Nesterov uses the look-ahead form d = g + mu b (evaluated at the current w, no extra gradient).
- ``weight_decay = lambda`` adds lambda w to the gradient: the penalty is (lambda / 2) ||w||^2.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch

from helpers.optim._base import Closure, check_at_least_zero, evaluate_closure, gradient, refuse_unsupported


class SGD(torch.optim.Optimizer):
    """torch.optim.SGD as an explicit loop over parameters; same arguments, defaults, param_groups and state.

    state[p]["momentum_buffer"]: the buffer b (only when momentum != 0).
    """

    def __init__(
        self,
        params: Iterable,
        lr: float = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        check_at_least_zero("SGD", lr=lr, momentum=momentum, weight_decay=weight_decay)
        refuse_unsupported("SGD", foreach, differentiable=differentiable, fused=fused)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: Nesterov momentum needs momentum > 0 and dampening = 0.")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize, foreach=foreach, differentiable=differentiable,
                        fused=fused)
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure: Closure = None) -> torch.Tensor | None:
        """One update of every parameter that has a gradient; returns closure() if given."""
        loss = evaluate_closure(closure)
        for group in self.param_groups:
            lr, mu, tau = float(group["lr"]), group["momentum"], group["dampening"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = gradient(p, group["maximize"])
                if group["weight_decay"] != 0:
                    g = g.add(p, alpha=group["weight_decay"])  # g + lambda w
                if mu != 0:
                    state = self.state[p]
                    if "momentum_buffer" not in state:
                        b = state["momentum_buffer"] = g.clone()  # b_1 = g
                    else:
                        b = state["momentum_buffer"].mul_(mu).add_(g, alpha=1 - tau)  # b = mu b + (1 - tau) g
                    g = g.add(b, alpha=mu) if group["nesterov"] else b  # d = g + mu b   or   d = b
                p.add_(g, alpha=-lr)  # w = w - eta d
        return loss
