"""Bagging (bootstrap aggregating, Breiman 1996) of small networks.

Train k models, each on its own bootstrap sample of the n training examples (n draws WITH replacement), and
average their predicted probabilities::

    idx_k ~ Uniform{0, ..., n-1}^n                          bootstrap sample k
    p(y | x) = (1/k) sum_k softmax(f_k(x))                  the ensemble's prediction

Each sample leaves some examples out and repeats others: an example is missed with probability
(1 - 1/n)^n -> 1/e ~ 0.368, so a sample holds about 63.2% distinct examples. The models therefore make
partly independent errors, and averaging cancels part of them: with k models whose errors have variance v
and pairwise correlation c, the average's error variance is c v + (1 - c) v / k. Because -log is convex,
the ensemble's log-loss is never worse than the models' average log-loss (Jensen's inequality).

Dropout can be read as training an exponentially large bagged ensemble of sub-networks that share weights
(``helpers.nn.dropout``).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

__all__ = ["bagging_fit", "bagging_predict", "bootstrap_indices"]


def bootstrap_indices(n: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """n indices drawn uniformly from 0..n-1 WITH replacement: one bootstrap sample. -> (n,) int64.

    x[bootstrap_indices(len(x), g)] resamples a data set; about 1 - 1/e ~ 63.2% of the indices are distinct.
    """
    if n < 1:
        raise ValueError(f"bootstrap_indices: n must be a positive number of examples, got {n!r}.")
    return torch.randint(0, n, (n,), generator=generator)


def bagging_fit(
    make_model: Callable[[], nn.Module],
    train_fn: Callable[[nn.Module, torch.Tensor, torch.Tensor], object],
    x: torch.Tensor,
    y: torch.Tensor,
    n_estimators: int = 10,
    seed: int = 0,
    *,
    return_indices: bool = False,
) -> list[nn.Module] | tuple[list[nn.Module], list[torch.Tensor]]:
    """Train ``n_estimators`` fresh models, model k by ``train_fn(model, x[idx_k], y[idx_k])`` (in place).

    x: (n, ...), y: (n, ...). The bootstrap samples come from a generator seeded with ``seed``; model k is
    built and trained with torch's CPU random state seeded to seed + 1 + k (and restored afterwards), so
    the whole ensemble is reproducible. With ``return_indices=True`` also returns the k index tensors,
    e.g. to evaluate each model on its out-of-bag examples.
    """
    if n_estimators < 1:
        raise ValueError(f"bagging_fit: n_estimators must be a positive integer, got {n_estimators!r}.")
    if len(x) != len(y):
        raise ValueError(f"bagging_fit: x and y must hold the same number of examples, got {len(x)} and {len(y)}.")
    generator = torch.Generator().manual_seed(seed)
    models, samples = [], []
    for k in range(n_estimators):
        idx = bootstrap_indices(len(x), generator)
        with torch.random.fork_rng(devices=[]):  # seed the initialisation and training without leaking state
            torch.manual_seed(seed + 1 + k)
            model = make_model()
            train_fn(model, x[idx.to(x.device)], y[idx.to(y.device)])
        models.append(model)
        samples.append(idx)
    return (models, samples) if return_indices else models


def _softmax(logits: torch.Tensor) -> torch.Tensor:
    return logits.softmax(dim=-1)


@torch.no_grad()
def bagging_predict(
    models: list[nn.Module],
    x: torch.Tensor,
    transform: Callable[[torch.Tensor], torch.Tensor] | None = _softmax,
) -> torch.Tensor:
    """The ensemble's prediction (1/k) sum_k transform(model_k(x)), every model in eval mode. x: (N, ...) -> (N, K).

    By default the models' logits become probabilities first (averaging probabilities, not logits);
    ``transform=None`` averages the raw outputs (regression). Each model's train/eval mode is restored.
    """
    if not models:
        raise ValueError("bagging_predict needs at least one model.")
    total = None
    for model in models:
        was_training = model.training
        model.eval()
        out = model(x)
        model.train(was_training)
        out = transform(out) if transform is not None else out
        total = out if total is None else total + out
    return total / len(models)
