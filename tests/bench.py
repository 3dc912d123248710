"""`make bench`: measured timings (not tests). Prints one line per measurement.

- each notebook executed in a fresh kernel (solutions in strict mode, chapters in student mode);
- a cached `jupyter-book build` with nothing changed;
- the unit tests;
- one step of each helpers.optim optimizer vs torch.optim's;
- helpers.nn.conv.conv2d (unfold + matmul) forward + backward vs F.conv2d, on one thread;
- helpers.nn.recurrent.LSTM forward + backward vs nn.LSTM, on one thread;
- the grader: 30 submissions of chapter 1 with -j 2, and its overhead per submission beyond executing the
  notebook (grading one submission minus executing the same notebook in the grader's kernel settings).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from helpers.exercises.grading import Settings, grade
from helpers.exercises.grading.submission import grade_submission

ROOT = Path(__file__).resolve().parents[1]


def execute(path: Path, strict: str) -> float:
    os.environ["HELPERS_STRICT"] = strict
    os.environ["HELPERS_PROGRESS"] = "0"
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    return time.perf_counter() - start


def timed(command: list[str], env: dict | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True, env=env)
    return time.perf_counter() - start


def grading(tmp: Path) -> None:
    source = ROOT / "solutions" / "01_learning_and_estimation.ipynb"
    one = tmp / "one"
    one.mkdir()
    shutil.copy(source, one / "student.ipynb")
    grade_submission(one / "student.ipynb", one, "01", Settings())  # warm, as a worker is
    record = grade_submission(one / "student.ipynb", one, "01", Settings())
    overhead = record.seconds - record.cells_seconds
    print(f"grader overhead per submission: {overhead:.1f} s beyond the {record.cells_seconds:.1f} s of the "
          f"student's cells (budget 3 s)", flush=True)

    klass = tmp / "class"
    klass.mkdir()
    for n in range(30):
        shutil.copy(source, klass / f"student{n:02d}.ipynb")
    start = time.perf_counter()
    grade(klass, tmp / "results", jobs=2, log=lambda line: None)
    print(f"grading 30 chapter-1 submissions with -j 2: {time.perf_counter() - start:.0f} s (budget 180 s)",
          flush=True)


def optimizer_steps(repeats: int = 200) -> None:
    """One step() of each helpers.optim optimizer vs torch.optim's (foreach=False), MLP 64-512-128-10 (~100k)."""
    import torch

    from helpers import optim

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(64, 512), torch.nn.Tanh(), torch.nn.Linear(512, 128),
                                torch.nn.Tanh(), torch.nn.Linear(128, 10))
    for p in model.parameters():
        p.grad = torch.randn_like(p)
    options = {"SGD": {"lr": 0.01, "momentum": 0.9}, "Adagrad": {}, "RMSprop": {}, "Adam": {}, "AdamW": {}}

    def per_step_ms(optimizer: torch.optim.Optimizer) -> float:
        for _ in range(10):  # warm up (and create the state)
            optimizer.step()
        start = time.perf_counter()
        for _ in range(repeats):
            optimizer.step()
        return 1e3 * (time.perf_counter() - start) / repeats

    for name, kwargs in options.items():
        ours = per_step_ms(getattr(optim, name)(model.parameters(), **kwargs))
        theirs = per_step_ms(getattr(torch.optim, name)(model.parameters(), foreach=False, **kwargs))
        print(f"optim {name}: ours {ours:.3f} ms vs torch {theirs:.3f} ms (ratio {ours / theirs:.2f}, budget 3x)",
              flush=True)


def best_ms(steps: dict, repeats: int, rounds: int) -> dict:
    """{name: one step, a callable} -> {name: ms per step}: each warmed up once, then ``rounds`` interleaved rounds
    of ``repeats`` steps each, the best round of each kept (the least disturbed by other load)."""
    for step in steps.values():  # warm up
        step()
    best = dict.fromkeys(steps, float("inf"))
    for _ in range(rounds):
        for name, step in steps.items():
            start = time.perf_counter()
            for _ in range(repeats):
                step()
            best[name] = min(best[name], 1e3 * (time.perf_counter() - start) / repeats)
    return best


def conv2d_steps(rounds: int = 7) -> None:
    """helpers.nn.conv.conv2d forward + backward vs F.conv2d, one thread, float32, 3x3 kernels with padding 1:
    batch 64 of 8x8 through 1 -> 16 -> 32 channels, and batch 32 of 32x32 through 64 -> 64 (input gradient too)."""
    import torch
    import torch.nn.functional as F

    from helpers.nn.conv import conv2d

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    cases = {"batch 64, 1->16->32 channels, 8x8": (torch.randn(64, 1, 8, 8), [(1, 16), (16, 32)], 30),
             "batch 32, 64->64 channels, 32x32": (torch.randn(32, 64, 32, 32, requires_grad=True), [(64, 64)], 2)}
    def step(conv, x: torch.Tensor, layers: list) -> None:
        for weight, bias in layers:
            x = conv(x, weight, bias, padding=1)
        x.sum().backward()

    for name, (x, channels, repeats) in cases.items():
        layers = [(torch.randn(o, i, 3, 3).requires_grad_(), torch.randn(o).requires_grad_()) for i, o in channels]
        best = best_ms({conv: partial(step, conv, x, layers) for conv in (conv2d, F.conv2d)}, repeats, rounds)
        ours, theirs = best[conv2d], best[F.conv2d]
        print(f"conv2d {name}: ours {ours:.2f} ms vs F.conv2d {theirs:.2f} ms per forward+backward "
              f"(ratio {ours / theirs:.2f}, budget 3x)", flush=True)
    torch.set_num_threads(threads)


def lstm_steps(rounds: int = 7) -> None:
    """helpers.nn.recurrent.LSTM forward + backward vs nn.LSTM (the same weights), one thread, float32, a training
    step on data (no input gradient): T=50, batch 64, input 2, hidden 32 (the chapter's), and T=100, batch 32,
    input 64, hidden 128."""
    import torch

    from helpers.nn.recurrent import LSTM

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    cases = {"T=50, batch 64, input 2, hidden 32": (50, 64, 2, 32, 20),
             "T=100, batch 32, input 64, hidden 128": (100, 32, 64, 128, 3)}

    def step(lstm, x: torch.Tensor) -> None:
        output, (h, c) = lstm(x)
        output.sum().backward()

    for name, (steps, batch, inputs, hidden, repeats) in cases.items():
        theirs = torch.nn.LSTM(inputs, hidden)
        ours = LSTM(inputs, hidden)
        ours.load_state_dict(theirs.state_dict())
        x = torch.randn(steps, batch, inputs)
        best = best_ms({lstm: partial(step, lstm, x) for lstm in (ours, theirs)}, repeats, rounds)
        print(f"LSTM {name}: ours {best[ours]:.2f} ms vs nn.LSTM {best[theirs]:.2f} ms per forward+backward "
              f"(ratio {best[ours] / best[theirs]:.2f}, budget 3x)", flush=True)
    torch.set_num_threads(threads)


def attention_steps(rounds: int = 7) -> None:
    """helpers.nn.attention.MultiheadAttention forward + backward vs nn.MultiheadAttention (the same weights), one
    thread, float32, self-attention with a causal mask: batch 64, L=8, E=32, 4 heads (chapter 8's reversal), and
    batch 16, L=128, E=128, 8 heads."""
    import torch

    from helpers.nn.attention import MultiheadAttention

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    cases = {"batch 64, L=8, E=32, 4 heads": (64, 8, 32, 4, 50),
             "batch 16, L=128, E=128, 8 heads": (16, 128, 128, 8, 5)}

    for name, (batch, length, width, heads, repeats) in cases.items():
        theirs = torch.nn.MultiheadAttention(width, heads, batch_first=True)
        ours = MultiheadAttention(width, heads, batch_first=True)
        ours.load_state_dict(theirs.state_dict())
        x = torch.randn(batch, length, width)
        mask = torch.ones(length, length, dtype=torch.bool).triu(1)  # True = blocked, as in torch

        def step(module, x=x, mask=mask) -> None:
            module(x, x, x, attn_mask=mask, need_weights=False)[0].sum().backward()

        best = best_ms({module: partial(step, module) for module in (ours, theirs)}, repeats, rounds)
        print(f"MultiheadAttention {name}: ours {best[ours]:.2f} ms vs nn.MultiheadAttention {best[theirs]:.2f} ms "
              f"per forward+backward (ratio {best[ours] / best[theirs]:.2f}, budget 3x)", flush=True)
    torch.set_num_threads(threads)


def rbm_epochs(rounds: int = 5) -> None:
    """helpers.models.BernoulliRBM vs sklearn.neural_network.BernoulliRBM (the same random_state, hence the same
    trajectory), one thread: one epoch of persistent CD on chapter 9's binarised training digits (1079 x 64),
    100 hidden units, batches of 10."""
    import torch
    from sklearn.neural_network import BernoulliRBM as SklearnRBM

    from helpers import data
    from helpers.models import BernoulliRBM

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    x = (data.digits(dtype=torch.float64).x_train > 0.5).double()
    fits = {"ours": lambda: BernoulliRBM(100, learning_rate=0.05, n_iter=1, random_state=0).fit(x),
            "sklearn": lambda: SklearnRBM(100, learning_rate=0.05, n_iter=1, random_state=0).fit(x.numpy())}
    best = best_ms(fits, 1, rounds)
    print(f"BernoulliRBM one epoch: ours {best['ours']:.1f} ms vs sklearn {best['sklearn']:.1f} ms "
          f"(ratio {best['ours'] / best['sklearn']:.2f}, budget 3x)", flush=True)
    torch.set_num_threads(threads)


def main() -> None:
    for folder, strict in (("solutions", "1"), ("chapters", "not-attempted")):
        for path in sorted((ROOT / folder).glob("[0-9][0-9]_*.ipynb")):
            print(f"notebook {folder}/{path.name}: {execute(path, strict):.1f} s (budget 45 s)", flush=True)
    os.environ.pop("HELPERS_STRICT", None)
    jb = str(Path(sys.executable).with_name("jupyter-book"))
    timed([jb, "build", ".", "--warningiserror"])  # warm the cache
    print(f"cached site rebuild: {timed([jb, 'build', '.', '--warningiserror']):.1f} s (budget 30 s)", flush=True)
    unit = timed([sys.executable, "-m", "pytest", "-q", "-n", "2", "tests", "-m", "not site"])
    print(f"unit tests: {unit:.1f} s", flush=True)
    optimizer_steps()
    conv2d_steps()
    lstm_steps()
    attention_steps()
    rbm_epochs()
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        grading(Path(tmp))


if __name__ == "__main__":
    main()
