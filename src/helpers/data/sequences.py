"""Synthetic sequence tasks for recurrent networks (chapter 7), as seeded tensors, batch first.

- ``noisy_sine_sequences``: windows of a noisy sine wave; predict the next value at every step (seq -> seq).
- ``adding_problem``: add the two marked numbers of a long sequence (seq -> vector), Hochreiter & Schmidhuber
  (1997) in the form of Le et al. (2015) and Arjovsky et al. (2016). The longer the sequence, the further back
  the first marked number lies: a long-term dependency whose distance is set by ``length``.
- ``copy_task``: see a few symbols, wait ``lag`` steps, then recall them (seq -> seq), the copy task of
  Hochreiter & Schmidhuber (1997) with the memory needed held fixed and the distance set by ``lag``.
- ``reversal_task``: read a sequence of symbols and output it reversed (seq -> seq, chapter 8): a task that needs
  to know positions, for a transformer with and without positional encodings.

Every function takes ``seed`` (a fresh ``torch.Generator`` is seeded with it) or a ``generator`` to draw from,
so a training loop can ask for a fresh batch each step from one generator and stay reproducible.
"""

from __future__ import annotations

import math

import torch

from helpers._checks import whole_number as _positive_int

IGNORE_INDEX = -100  # the target of a step with nothing to predict: F.cross_entropy's default ignore_index


def _generator(seed: int, generator: torch.Generator | None) -> torch.Generator:
    """The generator to draw from: the one given, or a fresh one seeded with ``seed``."""
    if generator is None:
        return torch.Generator().manual_seed(seed)
    if not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator (or None to use seed), got {type(generator).__name__}.")
    return generator


def noisy_sine_sequences(
    n: int = 64,
    length: int = 50,
    noise: float = 0.1,
    period: float = 20.0,
    seed: int = 0,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float32,
) -> tuple[torch.Tensor, torch.Tensor]:
    """n windows of a noisy sine wave and, at every step, the next value to predict.

    Each window has its own random phase phi ~ Uniform(0, 1) (in periods) and fresh noise:

        s_t = sin(2 pi (t / period + phi)) + eps_t,   eps_t ~ N(0, noise^2),   t = 0, ..., length

        inputs[:, t] = s_t,   targets[:, t] = s_{t+1}          (the targets are the inputs shifted by one step)

    Returns inputs: (n, length, 1), targets: (n, length, 1). The noise cannot be predicted, so no model beats
    MSE = noise^2; repeating the current value (s_{t+1} ~ s_t) scores 2 noise^2 + 1 - cos(2 pi / period).
    """
    _positive_int("n", n)
    _positive_int("length", length)
    if noise < 0:
        raise ValueError(f"noise is a standard deviation and must be >= 0, got {noise!r}.")
    if not period > 0:
        raise ValueError(f"period is the wave's period in time steps and must be > 0, got {period!r}.")
    g = _generator(seed, generator)
    phase = torch.rand(n, 1, generator=g, dtype=dtype)
    t = torch.arange(length + 1, dtype=dtype)
    s = torch.sin(2 * math.pi * (t / period + phase)) + noise * torch.randn(n, length + 1, generator=g, dtype=dtype)
    return s[:, :-1, None], s[:, 1:, None]


def adding_problem(
    n: int = 64,
    length: int = 50,
    seed: int = 0,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float32,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The adding problem: a sequence of random numbers, two of them marked; the target is their sum.

        inputs[:, t, 0] = u_t ~ Uniform(0, 1)        the numbers
        inputs[:, t, 1] = 1 at t = a and t = b, else 0     the marker,  a in [0, L // 2),  b in [L // 2, L)
        targets = u_a + u_b

    with L = ``length`` and a, b uniform in their halves. Returns inputs: (n, length, 2) and targets: (n,).
    The first marked number lies more than L / 2 steps before the end, so the network must carry it that far.

    A model that ignores the input can do no better than the mean, E[u_a + u_b] = 1, whose mean squared error
    is the variance of the sum of two independent Uniform(0, 1) numbers: 2 / 12 = 1/6 ~ 0.167. An MSE well
    below that (0.01, say) means the network has learned to find and add the marked numbers.
    """
    _positive_int("n", n)
    _positive_int("length", length, at_least=2)
    g = _generator(seed, generator)
    numbers = torch.rand(n, length, generator=g, dtype=dtype)
    half = length // 2
    first = torch.randint(0, half, (n,), generator=g)
    second = half + torch.randint(0, length - half, (n,), generator=g)
    rows = torch.arange(n)
    marker = torch.zeros(n, length, dtype=dtype)
    marker[rows, first] = 1
    marker[rows, second] = 1
    return torch.stack([numbers, marker], dim=2), numbers[rows, first] + numbers[rows, second]


def copy_task(
    n: int = 64,
    lag: int = 10,
    symbols: int = 3,
    alphabet: int = 4,
    seed: int = 0,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float32,
) -> tuple[torch.Tensor, torch.Tensor]:
    """See ``symbols`` random symbols, then blanks; from the step that shows a delimiter on, recall them in order.

    With S = ``symbols``, K = ``alphabet`` and length T = lag + S, the input at each step is one of K + 2 tokens,
    one-hot: 0 is the blank, 1..K the symbols, K + 1 the delimiter::

        token:   c_0 ... c_{S-1}   0 ... 0   delimiter   0 ... 0         c_i uniform in 1..K
        step:    0 ...   S-1       S ...     lag         ... lag + S - 1

        targets[:, lag + i] = c_i - 1   (a class in 0..K-1),   i = 0, ..., S - 1
        targets[:, t] = -100 at every other step (nothing to predict: F.cross_entropy ignores -100)

    Every symbol must be recalled exactly ``lag`` steps after it was seen, whatever the lag: the memory needed
    stays S symbols and only the distance grows. Returns inputs: (n, T, K + 2) float (one-hot), targets: (n, T)
    int64. Guessing scores accuracy 1 / K and cross-entropy log K on the recalled steps.
    """
    _positive_int("n", n)
    _positive_int("symbols", symbols)
    _positive_int("alphabet", alphabet, at_least=2)
    _positive_int("lag", lag)
    if lag < symbols:
        raise ValueError(f"lag must be at least symbols ({symbols}) so that all the symbols are shown before the "
                         f"recall starts, got lag={lag}. Increase lag or show fewer symbols.")
    g = _generator(seed, generator)
    length = lag + symbols
    codes = torch.randint(1, alphabet + 1, (n, symbols), generator=g)
    tokens = torch.zeros(n, length, dtype=torch.int64)
    tokens[:, :symbols] = codes
    tokens[:, lag] = alphabet + 1
    targets = torch.full((n, length), IGNORE_INDEX, dtype=torch.int64)
    targets[:, lag:] = codes - 1
    return torch.nn.functional.one_hot(tokens, alphabet + 2).to(dtype), targets


def reversal_task(
    n: int = 64,
    length: int = 8,
    vocab: int = 10,
    seed: int = 0,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Read a sequence of random symbols, output it reversed, all at once (seq -> seq, same length).

        inputs[:, t] = c_t uniform in 0..vocab-1,     targets[:, t] = c_{L-1-t}       (L = ``length``)

    Returns inputs and targets: (n, length) int64 token ids (for an embedding layer and F.cross_entropy).
    Position t must fetch the symbol at position L - 1 - t, which depends only on where it is, not on what it
    is: a model that cannot tell positions apart (self-attention without positional encodings) can only guess
    from the multiset of symbols it sees. Guessing uniformly scores 1 / vocab token accuracy.
    """
    _positive_int("n", n)
    _positive_int("length", length)
    _positive_int("vocab", vocab, at_least=2)
    g = _generator(seed, generator)
    inputs = torch.randint(0, vocab, (n, length), generator=g)
    return inputs, inputs.flip(1)
