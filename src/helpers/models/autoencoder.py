"""Autoencoders for chapter 9: the model, and the sparse, denoising and contractive regularizers.

An autoencoder is an encoder f and a decoder g trained so that g(f(x)) reproduces x; the code h = f(x) is what
it learns. With a code smaller than the input (undercomplete) it cannot copy, so it must keep what matters::

    h = f(x) = act(W_L ... act(W_1 x + b_1) ... + b_L)        x: (N, n_features) -> h: (N, n_code)
    x_hat = g(h)                                              the mirrored layers, h -> (N, n_features)
    L = ||x - x_hat||^2 (MSE, real-valued x)  or  binary cross-entropy (x in [0, 1], output="sigmoid")

The regularized autoencoders add a penalty Omega to the reconstruction loss (Goodfellow et al., ch. 14):

    sparse       Omega = lambda sum_j |h_j|               ``sparse_penalty``: a Laplace prior on the code
    denoising    L(x, g(f(x_tilde))), x_tilde ~ C(.|x)     ``corrupt``: reconstruct x from a corrupted copy
    contractive  Omega = lambda ||dh/dx||_F^2              ``contractive_penalty`` (sigmoid layer, closed form),
                                                           ``jacobian_penalty`` (any encoder, by torch.func)

``train_autoencoder`` trains any of them: Adam on minibatches, an optional corruption of the input and an
optional penalty on the code.

PCA and the linear autoencoder. With no activation and MSE, x_hat = W_d (W_e x + b_e) + b_d is an affine map
of rank <= n_code, so by Eckart-Young its loss is at least PCA's with n_code components, and the minimum is
reached when span(W_d) is the span of the top principal axes: the optimal linear autoencoder learns PCA's
subspace. It does not learn PCA's axes: replacing W_d by W_d A and W_e by A^{-1} W_e (any invertible A) gives
the same reconstructions, so the decoder's columns are some basis of that subspace, not the orthonormal one.

Measured on the digits (load_digits, X / 16, 1797 x 64): a 64 -> 2 -> 64 ``Autoencoder(64, 2,
activation=None)`` trained with MSE by Adam (full batch, lr 0.05 cosine-annealed to 0 over 2000 steps, float32,
torch.manual_seed(0..5) before building it; about 1.2 s on one thread) reaches an MSE of 0.0524258, the MSE of
PCA(2)'s reconstruction to 7 digits (relative gap at most 5e-8, seed 2; 2e-10 for seed 0); the principal angles
between the decoder's column space and PCA's two components are 0.076 and 0.002 degrees for seed 2 and below
0.0004 degrees for the other five seeds; and W_d^T W_d is nothing like the identity (seed 0: [[4.69, 2.07],
[2.07, 9.50]]; seed 1: [[11.61, -2.92], [-2.92, 9.05]]): the same subspace, other axes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import jacrev, vmap

from helpers._checks import whole_number

__all__ = ["Autoencoder", "contractive_penalty", "corrupt", "jacobian_penalty", "reconstruction_error",
           "sparse_penalty", "train_autoencoder"]

ACTIVATIONS = {"sigmoid": nn.Sigmoid, "relu": nn.ReLU, None: None}
OUTPUTS = {"linear": None, "sigmoid": nn.Sigmoid}
NOISES = ("gaussian", "masking")
LOSSES = {"mse": F.mse_loss, "bce": F.binary_cross_entropy}


def _layers(sizes: Sequence[int], activation: type[nn.Module] | None, last: type[nn.Module] | None) -> nn.Sequential:
    """Linear(sizes[0], sizes[1]), activation, ..., Linear(sizes[-2], sizes[-1]), last (None: no layer)."""
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out))
        after = last if i == len(sizes) - 2 else activation
        if after is not None:
            layers.append(after())
    return nn.Sequential(*layers)


class Autoencoder(nn.Module):
    """A fully connected autoencoder: x (N, n_features) -> code (N, n_code) -> reconstruction (N, n_features).

    ``encoder``: Linear layers n_features -> hidden[0] -> ... -> n_code, each followed by ``activation``
    ("sigmoid", "relu", or None for none), the code layer included; ``decoder``: the mirrored sizes n_code ->
    ... -> n_features, ``activation`` after each layer but the last, which is followed by ``output`` ("linear":
    nothing, for real-valued data and MSE; "sigmoid": values in (0, 1), for BCE). Both are ``nn.Sequential``.
    ``Autoencoder(64, 2, activation=None)`` is the linear autoencoder that learns PCA's subspace.
    """

    def __init__(self, n_features: int, n_code: int, hidden: Sequence[int] = (), activation: str | None = "sigmoid",
                 output: str = "linear"):
        super().__init__()
        whole_number("n_features", n_features)
        whole_number("n_code", n_code)
        if isinstance(hidden, int) or not all(isinstance(h, int) for h in hidden):
            raise TypeError(f"hidden must be a tuple of layer widths, e.g. (32,) or (64, 16), got {hidden!r}.")
        for h in hidden:
            whole_number("each hidden width", h)
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be 'sigmoid', 'relu' or None (linear), got {activation!r}.")
        if output not in OUTPUTS:
            raise ValueError(f"output must be 'linear' (for MSE) or 'sigmoid' (for BCE), got {output!r}.")
        self.n_features, self.n_code, self.hidden = n_features, n_code, tuple(hidden)
        self.activation, self.output = activation, output
        sizes = [n_features, *hidden, n_code]
        # built encoder first, then decoder: the same seed gives the same initial weights
        self.encoder = _layers(sizes, ACTIVATIONS[activation], last=ACTIVATIONS[activation])
        self.decoder = _layers(sizes[::-1], ACTIVATIONS[activation], last=OUTPUTS[output])

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """h = f(x): (N, n_features) -> (N, n_code)."""
        if x.shape[-1] != self.n_features:
            raise ValueError(f"Autoencoder: x has {x.shape[-1]} features in its last dimension, the model expects "
                             f"{self.n_features}: flatten images first, e.g. x.flatten(1).")
        return self.encoder(x)

    def decode(self, h: torch.Tensor) -> torch.Tensor:
        """x_hat = g(h): (N, n_code) -> (N, n_features)."""
        if h.shape[-1] != self.n_code:
            raise ValueError(f"Autoencoder: the code has {h.shape[-1]} units in its last dimension, the model's "
                             f"code has {self.n_code}.")
        return self.decoder(h)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The reconstruction g(f(x)): (N, n_features) -> (N, n_features)."""
        return self.decode(self.encode(x))


def reconstruction_error(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Each sample's mean squared reconstruction error, (x - model(x))^2 averaged over features: (N, D) -> (N,).

    The anomaly score of reconstruction-based anomaly detection: inputs unlike the training data reconstruct badly.
    """
    return ((model(x) - x) ** 2).flatten(1).mean(dim=1)


def sparse_penalty(code: torch.Tensor, weight: float) -> torch.Tensor:
    """weight * mean over the batch of ||h||_1 = weight * (1/N) sum_n sum_j |h_nj|: code (N, n_code) -> ().

    The negative log of a Laplace prior on the code, p(h_j) = (lambda / 2) exp(-lambda |h_j|) with lambda =
    ``weight``, up to the constant n_code log(2 / lambda): -log p(h) = lambda sum_j |h_j| + const. Adding it to
    the reconstruction loss is MAP training with that prior, which pushes most code units to exactly 0.
    """
    if not isinstance(code, torch.Tensor) or code.ndim < 1:
        raise ValueError("sparse_penalty: code must be a tensor (N, n_code), the encoder's output.")
    if weight < 0:
        raise ValueError(f"sparse_penalty: weight is the penalty's strength lambda >= 0, got {weight}.")
    return weight * code.abs().sum(dim=-1).mean()


def corrupt(x: torch.Tensor, noise: str = "gaussian", level: float = 0.1,
            generator: torch.Generator | None = None) -> torch.Tensor:
    """A draw of the denoising autoencoder's corruption x_tilde ~ C(x_tilde | x): any shape -> the same shape.

    "gaussian": x_tilde = x + eps, eps ~ N(0, level^2) for every entry (level is the standard deviation);
    "masking": each entry set to 0 with probability level, kept otherwise. level 0 returns x unchanged. Pass a
    ``torch.Generator`` (on x's device) for a reproducible draw. The model then learns g(f(x_tilde)) ~ x.
    """
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise TypeError("corrupt: x must be a floating-point tensor, e.g. x.float().")
    if noise not in NOISES:
        raise ValueError(f"corrupt: noise must be 'gaussian' or 'masking', got {noise!r}.")
    if level < 0 or (noise == "masking" and level > 1):
        expected = "a probability in [0, 1]" if noise == "masking" else "a standard deviation >= 0"
        raise ValueError(f"corrupt: level for {noise} noise is {expected}, got {level}.")
    if noise == "gaussian":
        return x + level * torch.randn(x.shape, generator=generator, dtype=x.dtype, device=x.device)
    keep = torch.rand(x.shape, generator=generator, dtype=x.dtype, device=x.device) >= level
    return x * keep


def contractive_penalty(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """The mean over the batch of ||dh/dx||_F^2 for a sigmoid layer h = sigmoid(x W^T + b), in closed form.

    x: (N, n_features), weight W: (n_code, n_features), bias b: (n_code,) -> (). Since dh_j/dx_i =
    h_j (1 - h_j) W_ji, the squared Frobenius norm of the Jacobian is

        ||J(x)||_F^2 = sum_j (h_j (1 - h_j))^2 sum_i W_ji^2,

    small where the code is saturated (h_j near 0 or 1) or the weights are small. Multiply by lambda and add it to
    the reconstruction loss: the contractive autoencoder. It is differentiable in x, W and b.
    """
    if weight.ndim != 2 or x.shape[-1] != weight.shape[1] or bias.shape != weight.shape[:1]:
        raise ValueError(f"contractive_penalty: expected x (N, n_features), weight (n_code, n_features) and bias "
                         f"(n_code,), got {tuple(x.shape)}, {tuple(weight.shape)} and {tuple(bias.shape)}: pass "
                         f"the encoder layer's .weight and .bias.")
    h = torch.sigmoid(F.linear(x, weight, bias))
    return ((h * (1 - h)) ** 2 @ (weight**2).sum(dim=1)).mean()


def jacobian_penalty(encoder: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """The mean over the batch of ||d encoder(x_n) / d x_n||_F^2, for any encoder: x (N, n_features) -> ().

    Each sample's Jacobian (n_code, n_features) comes from ``torch.func.jacrev`` (reverse mode, one row per code
    unit), batched with ``torch.func.vmap``, so ``encoder`` must map a single sample (n_features,) to its code
    (as nn.Linear and nn.Sequential of them do; no batch statistics such as BatchNorm). Differentiable in the
    encoder's parameters. For one sigmoid layer it equals ``contractive_penalty``.
    """
    jacobians = vmap(jacrev(encoder))(x)  # (N, n_code, n_features)
    return (jacobians**2).flatten(1).sum(dim=1).mean()


Penalty = Callable[[nn.Module, torch.Tensor, torch.Tensor], torch.Tensor]


def train_autoencoder(model: nn.Module, x: torch.Tensor, steps: int = 1000, lr: float = 1e-2,
                      batch_size: int | None = 128, loss: str = "mse", penalty: Penalty | None = None,
                      noise: str | None = None, level: float = 0.1, seed: int = 0, cosine: bool = False,
                      device: torch.device | str | None = None, progress: bool | None = None) -> list[float]:
    """Train ``model`` (with ``encode`` and ``decode``) to reconstruct x (N, n_features); returns each step's loss.

    Each of the ``steps`` Adam steps (learning rate ``lr``, cosine-annealed to 0 if ``cosine``):

        x_b   = batch_size rows of x drawn with replacement    (batch_size=None: all of x, every step)
        x_in  = corrupt(x_b, noise, level)                      (noise=None: x_in = x_b; denoising otherwise)
        h     = model.encode(x_in)
        L     = loss(model.decode(h), x_b) + penalty(model, x_in, h)

    The target is always the CLEAN batch x_b. ``loss``: "mse", or "bce" for a model whose output is a sigmoid.
    ``penalty`` (optional): e.g. ``lambda m, x_in, h: sparse_penalty(h, 1e-3)``. The rows and the noise come from
    one ``torch.Generator`` seeded with ``seed``, so a run is reproducible; seed the model's initial weights
    yourself (``torch.manual_seed``) before building it. Like ``helpers.train.fit``, it trains on ``device`` (by
    default the best there is: cuda > mps > cpu) and puts the model back where it came from. The rows and the
    noise are drawn on the CPU, so every device sees the same batches.
    """
    whole_number("steps", steps)
    if batch_size is not None:
        whole_number("batch_size", batch_size)
    if loss not in LOSSES:
        raise ValueError(f"train_autoencoder: loss must be 'mse' or 'bce', got {loss!r}.")
    if loss == "bce" and getattr(model, "output", "sigmoid") != "sigmoid":
        raise ValueError("train_autoencoder: binary cross-entropy needs outputs in (0, 1): build the model with "
                         "output='sigmoid', or use loss='mse'.")
    if noise is not None and noise not in NOISES:
        raise ValueError(f"train_autoencoder: noise must be None, 'gaussian' or 'masking', got {noise!r}.")
    from tqdm.auto import tqdm

    from helpers.train import show_progress, to_training_device

    device, home = to_training_device(model, device)
    x = x.cpu()  # the draws are made on the CPU: the same batches and noise on every device
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps) if cosine else None
    losses = []
    for step in tqdm(range(steps), desc="steps", disable=not show_progress(progress)):
        x_batch = x if batch_size is None else x[torch.randint(len(x), (batch_size,), generator=generator)]
        x_in = x_batch if noise is None else corrupt(x_batch, noise, level, generator)
        x_batch, x_in = x_batch.to(device), x_in.to(device)
        code = model.encode(x_in)
        value = LOSSES[loss](model.decode(code), x_batch)
        if penalty is not None:
            value = value + penalty(model, x_in, code)
        if not torch.isfinite(value):
            raise FloatingPointError(f"train_autoencoder: the loss became {value.item()} at step {step}: lower lr.")
        optimizer.zero_grad()
        value.backward()
        optimizer.step()
        if schedule is not None:
            schedule.step()
        losses.append(value.item())
    model.to(home)
    return losses
