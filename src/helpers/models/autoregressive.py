"""Deep autoregressive models of binary vectors (chapter 10): the chain rule, FVSBN and MADE.

Any joint distribution of D variables factorises, in a fixed order, by the chain rule of probability::

    p(x) = prod_{i=1..D} p(x_i | x_<i)           log p(x) = sum_i log p(x_i | x_<i)

An autoregressive model writes each conditional as a network of the earlier variables only. For binary x_i,
p(x_i = 1 | x_<i) = sigmoid(a_i(x_<i)) and the log-likelihood is a sum of Bernoulli log-likelihoods::

    log p(x) = sum_i [ x_i log p_i + (1 - x_i) log(1 - p_i) ] = - sum_i BCE-with-logits(a_i, x_i)

``FVSBN`` (fully visible sigmoid belief network): a_i = b_i + sum_{j<i} W_ij x_j, one linear layer whose weight
is masked to be strictly lower triangular. ``MADE`` (Germain et al. 2015): a hidden layer whose unit k gets a
degree m(k) in 1..D-1 and sees only inputs j <= m(k); output i sees only hidden units with m(k) < i. The masks
make every a_i a function of x_<i alone, so ONE forward pass gives all D conditionals of a training vector
(teacher forcing), and maximum likelihood is plain minimisation of the summed cross-entropies. There is no closed
form such as the Yule-Walker equations (those solve a LINEAR Gaussian AR model by least squares).

Sampling is sequential: x_1 ~ p(x_1), then x_2 ~ p(x_2 | x_1), ..., one forward pass per variable.

Measured (``/work/ch10_builders/measure/H4_autoregressive.py``, one thread): binarised digits (data.digits(),
x > 0.5, 1079 train / 359 test vectors of 64 bits), test -log p(x) in nats per image (bits per pixel):
independent pixels (smoothed training means) 24.78 (0.559); ``FVSBN(64)``, 100 epochs, lr 1e-2, batch 128, 0.2 s:
18.74 (0.422); ``MADE(64, 128)``, 50 epochs, 0.3 s: 17.85-17.95 over seeds 0-2 (0.402-0.405), though it already
overfits (train 15.3-15.5; 100 epochs: train 14.1, test 18.2).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from helpers._checks import whole_number

__all__ = ["FVSBN", "MADE", "chain_rule_log_prob", "made_masks", "train_autoregressive"]


def chain_rule_log_prob(conditional_probs: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """log p(x) = sum_i log p(x_i | x_<i) for binary x: conditional_probs (N, D), x (N, D) -> (N,).

    ``conditional_probs[n, i]`` is p(x_i = 1 | x_<i) for the n-th vector, each computed from that vector's earlier
    entries. Each term is x_i log p_i + (1 - x_i) log(1 - p_i), with 0 log 0 = 0 (``torch.xlogy``), so a
    probability of exactly 0 or 1 costs nothing when it is right and gives -inf when it is wrong.
    """
    for name, value in (("conditional_probs", conditional_probs), ("x", x)):
        if not isinstance(value, torch.Tensor) or not value.is_floating_point():
            raise TypeError(f"chain_rule_log_prob: {name} must be a floating-point tensor, e.g. {name}.float().")
    if conditional_probs.shape != x.shape or x.ndim != 2:
        raise ValueError(f"chain_rule_log_prob: conditional_probs and x must both be (N, D), got "
                         f"{tuple(conditional_probs.shape)} and {tuple(x.shape)}.")
    if ((x != 0) & (x != 1)).any():
        raise ValueError("chain_rule_log_prob: x must be binary (0 or 1): binarise it first, e.g. (x > 0.5).float().")
    if ((conditional_probs < 0) | (conditional_probs > 1)).any():
        raise ValueError("chain_rule_log_prob: conditional_probs are probabilities in [0, 1]; pass sigmoid(logits).")
    return (torch.xlogy(x, conditional_probs) + torch.xlogy(1 - x, 1 - conditional_probs)).sum(dim=1)


def made_masks(n_features: int, hidden: int) -> tuple[torch.Tensor, torch.Tensor]:
    """MADE's masks for one hidden layer: (input mask (hidden, D), output mask (D, hidden)), 0/1 float.

    Input i (1-based) has degree i; hidden unit k has degree m(k) = 1 + (k mod (D - 1)), cycling through 1..D-1
    (the paper draws them at random; cycling is deterministic and uses every degree). Hidden unit k sees input j
    when m(k) >= j; output i sees hidden unit k when i > m(k). So output i depends on inputs j < i only.
    """
    whole_number("n_features", n_features, at_least=2)
    whole_number("hidden", hidden)
    inputs = torch.arange(1, n_features + 1)
    degrees = 1 + torch.arange(hidden) % (n_features - 1)
    into_hidden = (degrees[:, None] >= inputs[None, :]).float()
    into_output = (inputs[:, None] > degrees[None, :]).float()
    return into_hidden, into_output


class _Autoregressive(nn.Module):
    """What FVSBN and MADE share: ``forward(x)`` gives the logits a_i(x_<i) (N, D); the rest follows from it."""

    n_features: int

    def _check(self, x: torch.Tensor) -> None:
        if x.ndim != 2 or x.shape[1] != self.n_features:
            raise ValueError(f"{type(self).__name__}: x must be (N, {self.n_features}) binary vectors, got shape "
                             f"{tuple(x.shape)}; flatten images first, e.g. x.reshape(len(x), -1).")

    def conditionals(self, x: torch.Tensor) -> torch.Tensor:
        """p(x_i = 1 | x_<i) for every i in one pass: (N, D) -> (N, D)."""
        return torch.sigmoid(self(x))

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """log p(x) = -sum_i BCE-with-logits(a_i(x_<i), x_i), stable for large logits: (N, D) -> (N,)."""
        return -F.binary_cross_entropy_with_logits(self(x), x, reduction="none").sum(dim=1)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n vectors drawn pixel by pixel: x_i = [u_i < p(x_i = 1 | x_<i)], u ~ U(0, 1): -> (n, D) of 0.0 / 1.0.

        D forward passes; pass i reads only x_<i (already drawn), so the zeros still standing in for x_>=i do not
        matter. The uniforms come from ``generator`` (on the model's device) or the global generator. Since
        pixel i never changes once drawn, the sample with pixels >= k hidden is the picture after k steps.
        """
        whole_number("n", n)
        weight = next(self.parameters())
        u = torch.rand(n, self.n_features, generator=generator, device=weight.device, dtype=weight.dtype)
        x = torch.zeros_like(u)
        for i in range(self.n_features):
            x[:, i] = (u[:, i] < self.conditionals(x)[:, i]).to(x.dtype)
        return x


class FVSBN(_Autoregressive):
    """Fully visible sigmoid belief network: p(x_i = 1 | x_<i) = sigmoid(b_i + sum_{j<i} W_ij x_j).

    ``weight`` (D, D) is multiplied by the strictly lower-triangular ``mask`` (a buffer) at every call, so the
    entries on and above the diagonal get no gradient and never matter. D (D + 1) / 2 parameters in use.
    x: (N, D) -> logits (N, D).
    """

    def __init__(self, n_features: int = 64):
        super().__init__()
        whole_number("n_features", n_features)
        self.n_features = n_features
        self.weight = nn.Parameter(torch.zeros(n_features, n_features))
        self.bias = nn.Parameter(torch.zeros(n_features))
        self.register_buffer("mask", torch.ones(n_features, n_features).tril(diagonal=-1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check(x)
        return F.linear(x, self.weight * self.mask, self.bias)


class MADE(_Autoregressive):
    """MADE with one hidden layer (masks from ``made_masks``) and, if ``direct``, FVSBN's direct connections::

        h = relu(x (W * M_in)^T + c)                        (N, hidden)
        a = h (V * M_out)^T + x (A * L)^T + b               (N, D), L strictly lower triangular

    Layers: ``hidden_layer`` (nn.Linear D -> hidden), ``output_layer`` (nn.Linear hidden -> D) and, if ``direct``,
    ``direct_layer`` (nn.Linear D -> D, no bias), their weights multiplied by the buffers ``input_mask``,
    ``output_mask`` and ``direct_mask``. x: (N, D) -> logits (N, D).
    """

    def __init__(self, n_features: int = 64, hidden: int = 128, direct: bool = True):
        super().__init__()
        input_mask, output_mask = made_masks(n_features, hidden)
        self.n_features, self.hidden, self.direct = n_features, hidden, direct
        self.hidden_layer = nn.Linear(n_features, hidden)
        self.output_layer = nn.Linear(hidden, n_features)
        self.register_buffer("input_mask", input_mask)
        self.register_buffer("output_mask", output_mask)
        if direct:
            self.direct_layer = nn.Linear(n_features, n_features, bias=False)
            self.register_buffer("direct_mask", torch.ones(n_features, n_features).tril(diagonal=-1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check(x)
        h = torch.relu(F.linear(x, self.hidden_layer.weight * self.input_mask, self.hidden_layer.bias))
        logits = F.linear(h, self.output_layer.weight * self.output_mask, self.output_layer.bias)
        if self.direct:
            logits = logits + F.linear(x, self.direct_layer.weight * self.direct_mask)
        return logits


def train_autoregressive(model: nn.Module, x: torch.Tensor, epochs: int = 100, lr: float = 1e-2,
                         batch_size: int = 128, seed: int = 0, device: torch.device | str | None = None,
                         progress: bool | None = None) -> list[float]:
    """Maximum likelihood by Adam on minibatches of binary x (N, D); returns each epoch's mean -log p(x) in nats.

    Each step minimises the mean over the batch of -log p(x) = sum_i BCE(a_i(x_<i), x_i): every conditional is
    trained at once on the true earlier pixels (teacher forcing). Each epoch visits every row once, in an order
    drawn from one ``torch.Generator`` seeded with ``seed`` on the CPU (the same batches on every device); seed
    the model's initial weights yourself. Trains on ``device`` (None: cuda > mps > cpu), the model back home after.
    """
    whole_number("epochs", epochs)
    whole_number("batch_size", batch_size)
    if not isinstance(x, torch.Tensor) or x.ndim != 2 or ((x != 0) & (x != 1)).any():
        raise ValueError("train_autoregressive: x must be an (N, D) tensor of 0.0 / 1.0: binarise it first, e.g. "
                         "(x > 0.5).float().")
    from tqdm.auto import tqdm

    from helpers.train import show_progress, to_training_device

    device, home = to_training_device(model, device)
    x = x.cpu().to(next(model.parameters()).dtype)
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    history = []
    for epoch in tqdm(range(epochs), desc="epochs", disable=not show_progress(progress)):
        order, total = torch.randperm(len(x), generator=generator), 0.0
        for start in range(0, len(x), batch_size):
            batch = x[order[start:start + batch_size]].to(device)
            loss = -model.log_prob(batch).mean()
            if not math.isfinite(loss.item()):
                raise FloatingPointError(f"train_autoregressive: the loss became {loss.item()} in epoch {epoch}: "
                                         "lower lr.")
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
        history.append(total / len(x))
    model.to(home)
    return history
