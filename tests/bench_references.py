"""`make bench`, part 2: the book's reference implementations against their library counterparts.

Each function times ours and theirs on the same inputs and returns ``{key: Measured(ratio, how)}``, the ratio
being ours / theirs (the issues' budgets say "within 3x"). CPU timings run on one thread, as the notebooks do.
``best_ms`` warms each step up, then interleaves rounds and keeps each one's best round: on a machine that
other work shares, the best round is the least disturbed one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial


@dataclass(frozen=True)
class Measured:
    """A measured value (None: not measured) and one line on how it was measured, or why it was not."""

    value: float | None
    note: str = ""


def best_ms(steps: dict, repeats: int, rounds: int, sync: Callable[[], None] = lambda: None) -> dict:
    """{name: one step, a callable} -> {name: ms per step}: each warmed up once, then ``rounds`` interleaved rounds
    of ``repeats`` steps each, the best round of each kept. ``sync`` waits for a GPU to finish its queue."""
    for step in steps.values():  # warm up
        step()
    sync()
    best = dict.fromkeys(steps, float("inf"))
    for _ in range(rounds):
        for name, step in steps.items():
            start = time.perf_counter()
            for _ in range(repeats):
                step()
            sync()
            best[name] = min(best[name], 1e3 * (time.perf_counter() - start) / repeats)
    return best


def ratio(ours_ms: float, theirs_ms: float, theirs: str) -> Measured:
    return Measured(ours_ms / theirs_ms, f"ours {ours_ms:.3g} ms vs {theirs} {theirs_ms:.3g} ms")


@contextmanager
def one_thread():
    """Run torch on one thread inside the block (the notebooks' setting), then restore the thread count."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def optimizer_steps(repeats: int = 200) -> dict[str, Measured]:
    """One step() of each helpers.optim optimizer vs torch.optim's (foreach=False), MLP 64-512-128-10 (~100k
    parameters, issue 9's size), on one thread. Keys: the optimizer's name."""
    import torch

    from helpers import optim

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(64, 512), torch.nn.Tanh(), torch.nn.Linear(512, 128),
                                torch.nn.Tanh(), torch.nn.Linear(128, 10))
    for p in model.parameters():
        p.grad = torch.randn_like(p)
    options = {"SGD": {"lr": 0.01, "momentum": 0.9}, "Adagrad": {}, "RMSprop": {}, "Adam": {}, "AdamW": {}}
    results = {}
    with one_thread():
        for name, kwargs in options.items():
            ours = getattr(optim, name)(model.parameters(), **kwargs)
            theirs = getattr(torch.optim, name)(model.parameters(), foreach=False, **kwargs)
            for _ in range(10):  # create the state (momentum buffers, moments) before timing
                ours.step(), theirs.step()
            best = best_ms({"ours": ours.step, "theirs": theirs.step}, repeats, rounds=5)
            results[name] = ratio(best["ours"], best["theirs"], f"torch.optim.{name}")
    return results


def conv2d_steps(device: str = "cpu", rounds: int = 7) -> dict[str, Measured]:
    """helpers.nn.conv.conv2d (unfold + matmul) forward + backward vs F.conv2d, float32, 3x3 kernels with
    padding 1. Keys: "chapter" (batch 64 of 8x8 through 1 -> 16 -> 32 channels) and "large" (batch 32 of 32x32
    through 64 -> 64, input gradient too). On "cpu" one thread; on "cuda" or "mps" each round waits for the GPU."""
    import torch
    import torch.nn.functional as F

    from helpers.nn.conv import conv2d

    sync = {"cuda": torch.cuda.synchronize, "mps": lambda: torch.mps.synchronize()}.get(device, lambda: None)
    torch.manual_seed(0)
    cases = {"chapter": ((64, 1, 8, 8), False, [(1, 16), (16, 32)], 30),
             "large": ((32, 64, 32, 32), True, [(64, 64)], 2 if device == "cpu" else 20)}

    def step(conv, x: torch.Tensor, layers: list) -> None:
        for weight, bias in layers:
            x = conv(x, weight, bias, padding=1)
        x.sum().backward()

    results = {}
    with one_thread():
        for key, (shape, input_grad, channels, repeats) in cases.items():
            x = torch.randn(shape, device=device).requires_grad_(input_grad)
            layers = [(torch.randn(o, i, 3, 3, device=device).requires_grad_(),
                       torch.randn(o, device=device).requires_grad_()) for i, o in channels]
            best = best_ms({conv: partial(step, conv, x, layers) for conv in (conv2d, F.conv2d)}, repeats, rounds,
                           sync)
            results[key] = ratio(best[conv2d], best[F.conv2d], "F.conv2d")
    return results


def gpu() -> str | None:
    """The GPU torch can use here ("cuda", then "mps"), or None."""
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if torch.backends.mps.is_available():
        return "mps"
    return None


def conv2d_gpu_steps() -> dict[str, Measured]:
    """conv2d_steps on the GPU (issue 11: "within 3x on a GPU when one is at hand"), or why not."""
    device = gpu()
    if device is None:
        why = "no GPU here (torch sees neither CUDA nor MPS); run `python tests/bench.py --only conv2d-gpu` on one"
        return {"chapter": Measured(None, why), "large": Measured(None, why)}
    return conv2d_steps(device)


def lstm_steps(rounds: int = 7) -> dict[str, Measured]:
    """helpers.nn.recurrent.LSTM forward + backward vs nn.LSTM (the same weights), one thread, float32, a
    training step on data (no input gradient). Keys: "chapter" (T=50, batch 64, input 2, hidden 32) and
    "large" (T=100, batch 32, input 64, hidden 128)."""
    import torch

    from helpers.nn.recurrent import LSTM

    torch.manual_seed(0)
    cases = {"chapter": (50, 64, 2, 32, 20), "large": (100, 32, 64, 128, 3)}

    def step(lstm, x: torch.Tensor) -> None:
        output, _ = lstm(x)
        output.sum().backward()

    results = {}
    with one_thread():
        for key, (steps, batch, inputs, hidden, repeats) in cases.items():
            theirs = torch.nn.LSTM(inputs, hidden)
            ours = LSTM(inputs, hidden)
            ours.load_state_dict(theirs.state_dict())
            x = torch.randn(steps, batch, inputs)
            best = best_ms({lstm: partial(step, lstm, x) for lstm in (ours, theirs)}, repeats, rounds)
            results[key] = ratio(best[ours], best[theirs], "nn.LSTM")
    return results


def attention_steps(rounds: int = 7) -> dict[str, Measured]:
    """helpers.nn.attention.MultiheadAttention forward + backward vs nn.MultiheadAttention (the same weights),
    one thread, float32, causal self-attention. Keys: "chapter" (batch 64, L=8, E=32, 4 heads: chapter 8's
    reversal) and "large" (batch 16, L=128, E=128, 8 heads)."""
    import torch

    from helpers.nn.attention import MultiheadAttention

    torch.manual_seed(0)
    cases = {"chapter": (64, 8, 32, 4, 50), "large": (16, 128, 128, 8, 5)}

    def step(module, x: torch.Tensor, mask: torch.Tensor) -> None:
        module(x, x, x, attn_mask=mask, need_weights=False)[0].sum().backward()

    results = {}
    with one_thread():
        for key, (batch, length, width, heads, repeats) in cases.items():
            theirs = torch.nn.MultiheadAttention(width, heads, batch_first=True)
            ours = MultiheadAttention(width, heads, batch_first=True)
            ours.load_state_dict(theirs.state_dict())
            x = torch.randn(batch, length, width)
            mask = torch.ones(length, length, dtype=torch.bool).triu(1)  # True = blocked, as in torch
            best = best_ms({m: partial(step, m, x, mask) for m in (ours, theirs)}, repeats, rounds)
            results[key] = ratio(best[ours], best[theirs], "nn.MultiheadAttention")
    return results


def rbm_epochs(rounds: int = 5) -> dict[str, Measured]:
    """helpers.models.BernoulliRBM vs sklearn.neural_network.BernoulliRBM (the same random_state, hence the same
    trajectory), one thread: one epoch of persistent CD on chapter 9's binarised training digits (1079 x 64),
    100 hidden units, batches of 10. Key: "epoch"."""
    import torch
    from sklearn.neural_network import BernoulliRBM as SklearnRBM

    from helpers import data
    from helpers.models import BernoulliRBM

    x = (data.digits(dtype=torch.float64).x_train > 0.5).double()
    fits = {"ours": lambda: BernoulliRBM(100, learning_rate=0.05, n_iter=1, random_state=0).fit(x),
            "sklearn": lambda: SklearnRBM(100, learning_rate=0.05, n_iter=1, random_state=0).fit(x.numpy())}
    with one_thread():
        best = best_ms(fits, 1, rounds)
    return {"epoch": ratio(best["ours"], best["sklearn"], "sklearn")}
