"""The offline data sets of chapters 1-6, as tensors. Nothing here downloads.

- ``digits()``: scikit-learn's bundled 8x8 handwritten digits (1,797 images), with a fixed
  train/validation/test split, pixels scaled to [0, 1].
- ``noisy_sine()``: a 1-D regression task, y = sin(2 pi x) + noise.
- ``blobs()``: a 2-D classification task of Gaussian clusters.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

DIGITS_SPLIT = (1079, 359, 359)  # train, validation, test: 60 / 20 / 20 of 1,797 images


class Split(NamedTuple):
    """Features and targets of the three parts of a data set."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor


def _check_fraction(name: str, value: float) -> None:
    if not 0 < value < 1:
        raise ValueError(f"{name} must be between 0 and 1 (exclusive), got {value!r}.")


def split_indices(n: int, val_fraction: float, test_fraction: float, seed: int = 0) -> tuple:
    """Shuffle ``range(n)`` with ``seed`` and cut it into train, validation and test index tensors."""
    _check_fraction("val_fraction", val_fraction)
    _check_fraction("test_fraction", test_fraction)
    if val_fraction + test_fraction >= 1:
        raise ValueError(
            f"val_fraction + test_fraction must leave data for training, got "
            f"{val_fraction} + {test_fraction} = {val_fraction + test_fraction}."
        )
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    n_val, n_test = round(n * val_fraction), round(n * test_fraction)
    n_train = n - n_val - n_test
    return order[:n_train], order[n_train : n_train + n_val], order[n_train + n_val :]


def _digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    """(pixels (1797, 64) in 0..16, labels (1797,)) from the file scikit-learn ships.

    Reading the file directly skips importing scikit-learn (about two seconds); if the file is not where
    it used to be, ``sklearn.datasets.load_digits`` reads it.
    """
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("sklearn")
    path = Path(spec.origin).parent / "datasets" / "data" / "digits.csv.gz" if spec and spec.origin else None
    if path is not None and path.exists():
        table = np.loadtxt(path, delimiter=",", dtype=np.float64)
        return table[:, :-1], table[:, -1].astype(np.int64)
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return bunch.data, bunch.target


def digits(images: bool = False, seed: int = 0, dtype: torch.dtype = torch.float32) -> Split:
    """scikit-learn's 8x8 digits, split 1079 / 359 / 359 (train / val / test) with a fixed seed.

    Returns x: (N, 64), or (N, 1, 8, 8) with ``images=True``, values in [0, 1]; y: (N,) int64 labels 0-9.
    """
    pixels, labels = _digits_arrays()
    x = torch.tensor(pixels / 16.0, dtype=dtype)
    y = torch.tensor(labels, dtype=torch.int64)
    if images:
        x = x.reshape(-1, 1, 8, 8)
    train, val, test = split_indices(len(x), 0.2, 0.2, seed=seed)
    return Split(x[train], y[train], x[val], y[val], x[test], y[test])


def loaders(split: Split, batch_size: int = 64, seed: int = 0) -> tuple[DataLoader, DataLoader, DataLoader]:
    """Train (shuffled, seeded), validation and test DataLoaders for a ``Split``."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}.")
    generator = torch.Generator().manual_seed(seed)
    train = DataLoader(TensorDataset(split.x_train, split.y_train), batch_size, shuffle=True, generator=generator)
    val = DataLoader(TensorDataset(split.x_val, split.y_val), batch_size)
    test = DataLoader(TensorDataset(split.x_test, split.y_test), batch_size)
    return train, val, test


def sine(x: torch.Tensor) -> torch.Tensor:
    """The true function behind ``noisy_sine``: f(x) = sin(2 pi x)."""
    return torch.sin(2 * math.pi * x)


def noisy_sine(
    n: int = 30, noise: float = 0.3, seed: int = 0, dtype: torch.dtype = torch.float64
) -> tuple[torch.Tensor, torch.Tensor]:
    """n points x ~ Uniform(0, 1), y = sin(2 pi x) + eps, eps ~ N(0, noise^2). Returns x: (n,), y: (n,)."""
    if n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}.")
    if noise < 0:
        raise ValueError(f"noise is a standard deviation and must be >= 0, got {noise!r}.")
    generator = torch.Generator().manual_seed(seed)
    x = torch.rand(n, generator=generator, dtype=dtype)
    y = sine(x) + noise * torch.randn(n, generator=generator, dtype=dtype)
    return x, y


def blobs(
    n_per_class: int = 100, centers: int = 3, spread: float = 0.6, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Gaussian clusters in 2-D whose centres sit evenly on a circle of radius 2.

    Returns x: (centers * n_per_class, 2) float32 and y: (centers * n_per_class,) int64 class labels.
    """
    if centers < 2:
        raise ValueError(f"centers must be at least 2 for a classification task, got {centers!r}.")
    generator = torch.Generator().manual_seed(seed)
    angles = torch.arange(centers) * 2 * math.pi / centers
    means = 2 * torch.stack([angles.cos(), angles.sin()], dim=1)
    x = means.repeat_interleave(n_per_class, 0) + spread * torch.randn(centers * n_per_class, 2, generator=generator)
    y = torch.arange(centers).repeat_interleave(n_per_class)
    return x.float(), y
