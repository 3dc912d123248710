"""Adam (Kingma & Ba, 2015) and AdamW (Loshchilov & Hutter, 2019): torch.optim's, sharing one update.

Moving averages of the gradient and of its square, each corrected for starting at zero:

    t <- t + 1
    w <- w (1 - eta lambda)          AdamW: decoupled weight decay, applied to w directly
    g <- g + lambda w                Adam:  coupled L2, added to the gradient (weight_decay = lambda)
    m <- beta1 m + (1 - beta1) g            exp_avg
    v <- beta2 v + (1 - beta2) g^2          exp_avg_sq
    v_max <- max(v_max, v)                  max_exp_avg_sq (amsgrad only; then v_max replaces v below)
    w <- w - eta/(1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

Notes on torch's conventions, which this code follows:
- eps is added *after* the bias correction of v: sqrt(v_hat) + eps with v_hat = v / (1 - beta2^t).
- Adam's ``weight_decay`` is coupled L2 (lambda w joins g and is then divided by sqrt(v_hat), so heavily
  updated weights are barely decayed); AdamW's is decoupled (every weight shrinks by the factor
  1 - eta lambda per step) and defaults to 1e-2 where Adam's defaults to 0.
- AdamW is Adam with ``decoupled_weight_decay=True``, as in torch (>= 2.7).
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


class Adam(torch.optim.Optimizer):
    """torch.optim.Adam as an explicit loop over parameters.

    state[p]: "step" t, "exp_avg" m, "exp_avg_sq" v, "max_exp_avg_sq" (amsgrad).
    """

    def __init__(
        self,
        params: Iterable,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
        decoupled_weight_decay: bool = False,
    ) -> None:
        name = type(self).__name__
        check_at_least_zero(name, lr=lr, eps=eps, weight_decay=weight_decay)
        refuse_unsupported(name, foreach, capturable=capturable, differentiable=differentiable, fused=fused)
        if not (0.0 <= betas[0] < 1.0 and 0.0 <= betas[1] < 1.0):
            raise ValueError(f"{name}: betas must both lie in [0, 1), got {betas}.")
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, foreach=foreach, capturable=capturable, differentiable=differentiable,
                        fused=fused, decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure: Closure = None) -> torch.Tensor | None:
        """One update of every parameter that has a gradient; returns closure() if given."""
        loss = evaluate_closure(closure)
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    adam_update(p, self.state[p], group)
        return loss


class AdamW(Adam):
    """torch.optim.AdamW: Adam with decoupled weight decay w <- w (1 - eta lambda), weight_decay=1e-2 by default."""

    def __init__(
        self,
        params: Iterable,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach, maximize=maximize,
                         capturable=capturable, differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)


def adam_update(p: torch.Tensor, state: dict, group: dict) -> None:
    """One Adam/AdamW step of parameter p (in place), its state created on the first call."""
    lr, (beta1, beta2), wd = float(group["lr"]), group["betas"], group["weight_decay"]
    if not state:
        state["step"] = new_step_counter()
        state["exp_avg"] = torch.zeros_like(p)
        state["exp_avg_sq"] = torch.zeros_like(p)
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = torch.zeros_like(p)
    state["step"] += 1
    t = state["step"].item()
    g = gradient(p, group["maximize"])
    if wd != 0 and group["decoupled_weight_decay"]:
        p.mul_(1 - lr * wd)  # AdamW: w = w (1 - eta lambda)
    elif wd != 0:
        g = g.add(p, alpha=wd)  # Adam: g = g + lambda w
    m = state["exp_avg"].lerp_(g, 1 - beta1)  # m = beta1 m + (1 - beta1) g
    v = state["exp_avg_sq"].mul_(beta2).addcmul_(g, g, value=1 - beta2)  # v = beta2 v + (1 - beta2) g^2
    if group["amsgrad"]:
        v = torch.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])  # v_max = max(v_max, v)
    step_size = lr / (1 - beta1**t)  # eta / (1 - beta1^t): m_hat = m / (1 - beta1^t)
    denominator = (v.sqrt() / (1 - beta2**t) ** 0.5).add_(group["eps"])  # sqrt(v_hat) + eps
    p.addcdiv_(m, denominator, value=-step_size)  # w = w - eta m_hat / (sqrt(v_hat) + eps)
