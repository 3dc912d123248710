"""Where tensors live, and how to make runs repeatable.

`device()` picks the fastest backend that is present: CUDA (NVIDIA GPUs, e.g. on Colab), then MPS
(Apple silicon), then the CPU. Set the environment variable ``HELPERS_DEVICE`` to ``cpu``, ``cuda``
or ``mps`` to force one.
"""

from __future__ import annotations

import os
import random
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

DEVICE_ENV = "HELPERS_DEVICE"
KNOWN_DEVICES = ("cuda", "mps", "cpu")


def _available(kind: str) -> bool:
    if kind == "cuda":
        return torch.cuda.is_available()
    if kind == "mps":
        mps = getattr(torch.backends, "mps", None)
        return bool(mps is not None and mps.is_available())
    return kind == "cpu"


def device(prefer: str | None = None) -> torch.device:
    """The device to compute on: ``prefer``, else ``$HELPERS_DEVICE``, else cuda > mps > cpu.

    Raises ValueError for an unknown name and RuntimeError when the requested device is absent,
    with a message that says how to fix it.
    """
    wanted = prefer or os.environ.get(DEVICE_ENV, "").strip().lower() or None
    if wanted is None:
        return torch.device(next(kind for kind in KNOWN_DEVICES if _available(kind)))
    kind = wanted.split(":")[0]
    if kind not in KNOWN_DEVICES:
        raise ValueError(
            f"Unknown device {wanted!r} (from {'the argument' if prefer else '$' + DEVICE_ENV}). "
            f"Use one of: {', '.join(KNOWN_DEVICES)}."
        )
    if not _available(kind):
        raise RuntimeError(
            f"Device {wanted!r} was requested but is not available on this machine. "
            f"Unset ${DEVICE_ENV} (or pass prefer=None) to pick the best available device automatically."
        )
    return torch.device(wanted)


def to_device(batch: Any, target: torch.device | str | None = None) -> Any:
    """Move a tensor, or tensors nested in lists, tuples and dicts, to ``target`` (default: device())."""
    target = device() if target is None else torch.device(target)
    if isinstance(batch, torch.Tensor):
        return batch.to(target)
    if isinstance(batch, Mapping):
        return {key: to_device(value, target) for key, value in batch.items()}
    if isinstance(batch, Sequence) and not isinstance(batch, str):
        moved = [to_device(item, target) for item in batch]
        return tuple(moved) if isinstance(batch, tuple) else moved
    return batch


def seed_everything(seed: int = 0, deterministic: bool = True) -> torch.Generator:
    """Seed Python's, NumPy's and PyTorch's random generators (all devices).

    With ``deterministic=True`` PyTorch also picks deterministic kernels where it has them, so the
    same notebook run twice prints the same numbers. Returns a ``torch.Generator`` seeded with
    ``seed`` for code that wants its own stream.
    """
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}: {seed!r}.")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)
        if hasattr(torch.backends, "cudnn"):
            torch.backends.cudnn.benchmark = False
            torch.backends.cudnn.deterministic = True
    return torch.Generator().manual_seed(seed)
