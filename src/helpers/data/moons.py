"""Two interleaving half-moons, and a rotation of the plane: the source and target domains of chapter 10.

``two_moons`` draws scikit-learn's ``make_moons`` geometry: n_out = n // 2 points evenly spaced (in angle) on the
upper half of the unit circle, class 0, and n_in = n - n_out on a lower half-circle shifted right and down, class 1:

    class 0:  (cos t, sin t),                t = linspace(0, pi, n_out)
    class 1:  (1 - cos t, 1 - sin t - 0.5),  t = linspace(0, pi, n_in)

then Gaussian noise of standard deviation ``noise`` added to each coordinate, and the rows shuffled. The noise and
the order come from a ``torch.Generator`` seeded with ``seed`` (not NumPy's, so the points are not make_moons'
points for the same seed: the same curves, other draws).

``rotate`` turns points about a centre (their mean by default) by an angle in degrees, counter-clockwise:

    x' = c + R (x - c),   R = [[cos a, -sin a], [sin a, cos a]]

Domain adaptation in chapter 10 trains on labelled moons (the source domain) and is scored on unlabelled moons
rotated by some tens of degrees (the target domain): same classes, shifted inputs.
"""

from __future__ import annotations

import math
import numbers

import torch

from helpers._checks import whole_number

__all__ = ["rotate", "two_moons"]


def two_moons(n_samples: int = 200, noise: float = 0.1, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """n_samples points of two half-moons: x (n_samples, 2) float32, y (n_samples,) int64 in {0, 1}.

    Class 0 (the upper moon) has n_samples // 2 points, class 1 the rest; ``noise`` is the standard deviation of
    the Gaussian noise on each coordinate (0: exactly on the curves); ``seed`` seeds the noise and the shuffle.
    """
    whole_number("n_samples", n_samples, at_least=2)
    if isinstance(noise, bool) or not isinstance(noise, numbers.Real) or not noise >= 0:
        raise ValueError(f"two_moons: noise is a standard deviation, a number >= 0, got {noise!r}.")
    n_out = n_samples // 2
    n_in = n_samples - n_out
    t_out = torch.linspace(0, math.pi, n_out, dtype=torch.float64)
    t_in = torch.linspace(0, math.pi, n_in, dtype=torch.float64)
    outer = torch.stack([t_out.cos(), t_out.sin()], dim=1)
    inner = torch.stack([1 - t_in.cos(), 1 - t_in.sin() - 0.5], dim=1)
    x = torch.cat([outer, inner])
    y = torch.cat([torch.zeros(n_out, dtype=torch.int64), torch.ones(n_in, dtype=torch.int64)])
    generator = torch.Generator().manual_seed(seed)
    x = x + noise * torch.randn(x.shape, generator=generator, dtype=torch.float64)
    order = torch.randperm(n_samples, generator=generator)
    return x[order].float(), y[order]


def rotate(x: torch.Tensor, degrees: float, center: torch.Tensor | None = None) -> torch.Tensor:
    """x (N, 2) turned counter-clockwise by ``degrees`` about ``center`` (2,), by default x's mean: (N, 2) -> (N, 2).

    x' = c + (x - c) R^T with R = [[cos a, -sin a], [sin a, cos a]]: distances between the points are kept. The
    result has x's dtype and device.
    """
    if not isinstance(x, torch.Tensor) or not x.is_floating_point() or x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"rotate: x must be a floating-point (N, 2) tensor, one point per row, got "
                         f"{getattr(x, 'shape', type(x).__name__)}.")
    if isinstance(degrees, bool) or not isinstance(degrees, numbers.Real):
        raise TypeError(f"rotate: degrees must be a number, got {type(degrees).__name__} {degrees!r}.")
    center = x.mean(dim=0) if center is None else torch.as_tensor(center, dtype=x.dtype, device=x.device)
    if center.shape != (2,):
        raise ValueError(f"rotate: center must be one point (2,), got shape {tuple(center.shape)}.")
    a = math.radians(degrees)
    rotation = torch.tensor([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]], dtype=x.dtype,
                            device=x.device)
    return center + (x - center) @ rotation.T
