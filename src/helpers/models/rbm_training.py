"""Training a tiny RBM four ways and watching its exact log-likelihood: the exact gradient, CD-k and PCD.

For an RBM (the names of ``helpers.models.rbm``: W (H, V), b (V,), c (H,)) the gradient of the mean
log-likelihood of N data vectors v_n is the data's statistics minus the model's::

    L = (1/N) sum_n log p(v_n),   p(v) = exp(-F(v)) / Z

    dL/dW = <q(v) v^T>_data - <q(v) v^T>_model      q(v) = P(h = 1 | v) = sigmoid(W v + c)
    dL/db = <v>_data        - <v>_model
    dL/dc = <q(v)>_data     - <q(v)>_model

where <.>_data is the mean over the N data vectors and <.>_model = sum_v p(v) (.) the expectation under the
model. (The correlation <v h^T> with h replaced by its conditional mean P(h = 1 | v): the hiddens are summed out
exactly.) For V <= 16 the model term is a sum over the 2^V visible vectors (``exact_gradient``). The three
approximations replace it by samples of a Gibbs chain:

    CD-k   the chain starts at the data and runs k steps (``rbm.contrastive_divergence_step``, Hinton 2002);
    PCD    persistent chains, one per data vector, kept from one update to the next and advanced one step per
           update (sklearn's BernoulliRBM, Tieleman 2008).

``log_likelihood_curve`` trains a small RBM by full-batch gradient ascent with one of the four and records the
exact mean log-likelihood (``rbm.log_probability``, log Z by enumeration) along the way. Its random numbers are
those of the book's chapter 9: "exact" and "CD-k" start from W = init_std * randn(H, V) drawn from a
``torch.Generator`` seeded with ``seed`` (zero biases), CD-k continues to draw its samples from that generator;
"PCD" is ``BernoulliRBM(n_hidden, learning_rate, batch_size=N, random_state=seed).partial_fit(patterns)``
repeated, through its update step ``_fit``, which also returns the chains' visible states: same numpy RandomState,
initial weights normal(0, init_std) (sklearn's 0.01 by default), chains starting at h = 0.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import torch

from helpers._checks import whole_number
from helpers.models.rbm import (
    MAX_ENUMERATED_VISIBLE,
    BernoulliRBM,
    binary_vectors,
    contrastive_divergence_step,
    free_energy,
    hidden_probabilities,
    log_probability,
)

__all__ = ["LikelihoodCurve", "exact_gradient", "log_likelihood_curve"]

METHODS = ("exact", "CD-k (CD-1, CD-10, ...)", "PCD")


def _check_enumerable(where: str, V: int) -> None:
    if V > MAX_ENUMERATED_VISIBLE:
        raise ValueError(f"{where} enumerates all 2^V visible vectors: V = {V} is too many (at most "
                         f"{MAX_ENUMERATED_VISIBLE}). For larger RBMs use CD-k (rbm.contrastive_divergence_step) or "
                         "PCD (BernoulliRBM), and compare models by pseudo-likelihood.")


def exact_gradient(v: torch.Tensor, W: torch.Tensor, b: torch.Tensor, c: torch.Tensor
                   ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The gradient of L = (1/N) sum_n log p(v_n) w.r.t. (W, b, c), the model term by enumeration (V <= 16).

    With q(v) = P(h = 1 | v) = sigmoid(W v + c) and p(v) = exp(-F(v)) / Z over all 2^V visible vectors::

        dL/dW = (1/N) sum_n q(v_n) v_n^T - sum_v p(v) q(v) v^T      (<v h^T>_data - <v h^T>_model, h -> q(v))
        dL/db = (1/N) sum_n v_n          - sum_v p(v) v
        dL/dc = (1/N) sum_n q(v_n)       - sum_v p(v) q(v)

    v (N, V), W (H, V), b (V,), c (H,) -> (dW (H, V), db (V,), dc (H,)). Gradient ASCENT: W + lr * dW raises L.
    """
    if v.ndim != 2 or v.shape[1] != W.shape[1]:
        raise ValueError(f"exact_gradient: v must be a batch (N, V) with V = W.shape[1] = {W.shape[1]}, got shape "
                         f"{list(v.shape)}; one vector is v[None].")
    _check_enumerable("exact_gradient", W.shape[1])
    every_v = binary_vectors(W.shape[1], W.dtype, W.device)  # (2^V, V)
    p_model = torch.softmax(-free_energy(every_v, W, b, c), dim=0)  # p(v) for all 2^V vectors
    q_data, q_model = hidden_probabilities(v, W, c), hidden_probabilities(every_v, W, c)
    return (q_data.T @ v / len(v) - (p_model[:, None] * q_model).T @ every_v,
            v.mean(dim=0) - p_model @ every_v, q_data.mean(dim=0) - p_model @ q_model)


@dataclass
class LikelihoodCurve:
    """What ``log_likelihood_curve`` returns.

    steps           the updates after which the log-likelihood was measured: every, 2 every, ..., updates
    log_likelihood  the exact mean log p(v) of the patterns after each of those updates (nats)
    W, b, c         the RBM after the last update: (H, V), (V,), (H,)
    chains          PCD only (else None): the persistent chains' visible states in the last update's negative
                    phase, (N, V), one chain per pattern
    hidden_chains   PCD only (else None): the chains' hidden states after the last update (sklearn's
                    ``h_samples_``), (N, H), from which the next update would continue
    """

    steps: list[int]
    log_likelihood: list[float]
    W: torch.Tensor
    b: torch.Tensor
    c: torch.Tensor
    chains: torch.Tensor | None = None
    hidden_chains: torch.Tensor | None = None


def _cd_steps(method: str) -> int | None:
    """k for "CD-k", None for "exact" and "PCD"; ValueError for anything else."""
    if method in ("exact", "PCD"):
        return None
    match = re.fullmatch(r"CD-(\d+)", method) if isinstance(method, str) else None
    if match is None or int(match.group(1)) < 1:
        raise ValueError(f"log_likelihood_curve: method must be one of {', '.join(METHODS)}, got {method!r}.")
    return int(match.group(1))


def log_likelihood_curve(patterns: torch.Tensor, method: str, n_hidden: int = 16, updates: int = 1000,
                         learning_rate: float = 0.5, every: int = 50, init_std: float = 0.01, seed: int = 0,
                         progress: bool | None = None) -> LikelihoodCurve:
    """Train an RBM on ``patterns`` (N, V) (V <= 16) by full-batch updates; the exact mean log p(v) every ``every``.

    ``method``: "exact" (gradient ascent with ``exact_gradient``: W += learning_rate * dW, and b, c alike),
    "CD-k" for a whole number k ("CD-1", "CD-10": ``rbm.contrastive_divergence_step`` with k steps), or "PCD"
    (persistent CD with N chains, sklearn's BernoulliRBM with batch_size N: see the module docstring for the
    random numbers). Computed in float64. Returns a ``LikelihoodCurve`` (steps, log_likelihood, final W, b, c
    and, for PCD, the chains' states). A tqdm progress bar unless ``progress=False`` (``train.show_progress``).
    """
    k = _cd_steps(method)
    if not isinstance(patterns, torch.Tensor) or patterns.ndim != 2:
        got = f"shape {list(patterns.shape)}" if isinstance(patterns, torch.Tensor) else type(patterns).__name__
        raise ValueError(f"log_likelihood_curve: patterns must be a 2-D tensor (N, V) of 0/1 values, got {got}.")
    for name, value in (("n_hidden", n_hidden), ("updates", updates), ("every", every)):
        whole_number(name, value)
    whole_number("seed", seed, at_least=0)
    if not learning_rate > 0 or not init_std > 0:
        raise ValueError(f"log_likelihood_curve: learning_rate and init_std must be > 0, got {learning_rate!r} "
                         f"and {init_std!r}.")
    _check_enumerable("log_likelihood_curve (the exact log-likelihood)", patterns.shape[1])
    from tqdm.auto import tqdm

    from helpers.train import show_progress

    v = patterns.to(torch.float64)
    (n, V), H = v.shape, n_hidden
    if method == "PCD":  # BernoulliRBM's own initialisation and update, one mini-batch of all N patterns
        pcd, rng = BernoulliRBM(H, learning_rate=learning_rate, batch_size=n), np.random.RandomState(seed)
        pcd._initialise(V, rng, v.dtype, v.device, scale=init_std)
    else:
        generator = torch.Generator().manual_seed(seed)
        W = init_std * torch.randn(H, V, generator=generator, dtype=v.dtype).to(v.device)
        b, c = torch.zeros(V, dtype=v.dtype, device=v.device), torch.zeros(H, dtype=v.dtype, device=v.device)
    steps, curve, chains = [], [], None
    bar = tqdm(range(1, updates + 1), desc=method, disable=not show_progress(progress))
    for update in bar:
        if k is not None:
            W, b, c = contrastive_divergence_step(v, W, b, c, k=k, lr=learning_rate, generator=generator)
        elif method == "PCD":
            chains = pcd._fit(v, rng)
            W, b, c = pcd.components_, pcd.intercept_visible_, pcd.intercept_hidden_
        else:
            dW, db, dc = exact_gradient(v, W, b, c)
            W, b, c = W + learning_rate * dW, b + learning_rate * db, c + learning_rate * dc
        if update % every == 0:
            steps.append(update)
            curve.append(log_probability(v, W, b, c).mean().item())
            bar.set_postfix({"log p": f"{curve[-1]:.3f}"})
    return LikelihoodCurve(steps, curve, W, b, c, chains, pcd.h_samples_ if method == "PCD" else None)
