"""Data augmentation for small grey images such as the 8x8 digits, in plain torch, composable and seedable.

Every function takes a batch and returns a batch of the same shape, dtype and device:

    (N, H, W)        a batch of single-channel images
    (N, C, H, W)     a batch of images with channels (the digits with ``data.digits(images=True)``)
    (N, H*W)         flattened square images: a 2-D input is ALWAYS read as N flattened H x H images
                     (64 values -> 8 x 8); a single image needs its batch dimension, x.unsqueeze(0)

Parameters that may differ from image to image (an angle, a shift, a contrast factor) are given as

    a number         the same value for every image:           rotate(x, 10.0)
    a pair (lo, hi)  drawn per image, uniformly from [lo, hi]:  rotate(x, (-10.0, 10.0), generator=g)
                     (integers lo..hi inclusive for shifts)
    a tensor (N,)    one given value per image

and the random draws come from ``generator`` (a ``torch.Generator``; the global one if None), so a seeded
generator repeats an augmentation exactly. ``Compose([...])`` chains augmentations, passing one generator.

Which augmentations make sense depends on what leaves the label unchanged. For digits: small rotations
(about +-15 degrees), shifts and crops of a pixel or two, a little noise and contrast change are harmless.
A horizontal flip is not: a flipped 2, 3, 4, 5, 6, 7 or 9 is no longer that digit (0, 1 and 8 survive), so
``hflip`` is here to show an augmentation that breaks the labels, as are large rotations (a 6 turned by 180
degrees is a 9). For photographs of cats, by contrast, the horizontal flip is the classic augmentation.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F

__all__ = ["Compose", "contrast", "crop", "gaussian_noise", "hflip", "random_crop", "rotate", "shift"]

Spec = float | tuple[float, float] | torch.Tensor  # a value, a range to draw from, or one value per image


# ---------------------------------------------------------------- shapes and parameters
def _to_images(x: torch.Tensor, where: str) -> torch.Tensor:
    """The batch as (N, C, H, W), following the shape rule of the module docstring."""
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        got = x.dtype if isinstance(x, torch.Tensor) else type(x).__name__
        raise TypeError(f"{where}: x must be a floating-point tensor of images, got {got}. Use x.float().")
    if x.ndim == 2:
        side = math.isqrt(x.shape[1])
        if side * side != x.shape[1]:
            raise ValueError(f"{where}: a 2-D input is read as (N, H*W) flattened square images, but "
                             f"{x.shape[1]} values per row is not a square number. Reshape to (N, H, W).")
        return x.reshape(len(x), 1, side, side)
    if x.ndim == 3:
        return x.unsqueeze(1)
    if x.ndim == 4:
        return x
    raise ValueError(f"{where}: expected images (N, H, W), (N, C, H, W) or flattened (N, H*W), got shape "
                     f"{tuple(x.shape)}. For a single image add the batch dimension: x.unsqueeze(0).")


def _from_images(images: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """Back to the caller's layout: (N, H*W), (N, H, W) or (N, C, H, W)."""
    if like.ndim == 2:
        return images.flatten(1)
    return images.squeeze(1) if like.ndim == 3 else images


def _draw_device(generator: torch.Generator | None) -> torch.device:
    """Random numbers are drawn where the generator lives (the CPU for the global one), then moved."""
    return generator.device if generator is not None else torch.device("cpu")


def _per_image(spec: Spec, n: int, generator: torch.Generator | None, integer: bool = False) -> torch.Tensor:
    """(n,) float64 CPU values from a number, a (lo, hi) range drawn uniformly, or an (n,) tensor."""
    if isinstance(spec, torch.Tensor):
        if spec.shape != (n,):
            raise ValueError(f"A tensor of per-image values must have shape ({n},), got {tuple(spec.shape)}.")
        return spec.detach().to("cpu", torch.float64)
    if isinstance(spec, (tuple, list)):
        lo, hi = spec
        if lo > hi:
            raise ValueError(f"A range (lo, hi) needs lo <= hi, got {spec}.")
        if integer:
            k = torch.randint(int(lo), int(hi) + 1, (n,), generator=generator, device=_draw_device(generator))
            return k.cpu().double()
        u = torch.rand(n, generator=generator, dtype=torch.float64, device=_draw_device(generator)).cpu()
        return lo + (hi - lo) * u
    return torch.full((n,), float(spec), dtype=torch.float64)


# ---------------------------------------------------------------- geometric
def hflip(x: torch.Tensor, p: float = 1.0, generator: torch.Generator | None = None) -> torch.Tensor:
    """Mirror images left-right, each with probability p (p = 1: all of them). out[..., i, j] = x[..., i, W-1-j].

    Wrong for digits (a mirrored 2 is not a 2): see the module docstring.
    """
    images = _to_images(x, "hflip")
    flip = torch.rand(len(images), generator=generator, device=_draw_device(generator)) < p  # p = 1: all
    out = torch.where(flip.to(images.device)[:, None, None, None], images.flip(-1), images)
    return _from_images(out, x)


def rotate(x: torch.Tensor, degrees: Spec, generator: torch.Generator | None = None) -> torch.Tensor:
    """Rotate each image counter-clockwise by ``degrees`` about its centre, with bilinear interpolation.

    Each output pixel p (coordinates centred on the image, x right, y down) reads the input at the point
    the rotation carries onto p, q = [[cos a, -sin a], [sin a, cos a]] p, interpolated bilinearly between
    the four pixels around q; points outside the image read 0 (black). Multiples of 90 degrees move pixels
    exactly (rotate(x, 90) = torch.rot90(x, 1, dims=(-2, -1)) on square images); other angles blur a
    little, as any resampling does. Built on F.affine_grid / F.grid_sample (align_corners=False: pixel
    centres at -1 + (2k + 1)/W in normalised coordinates); the same as scipy.ndimage.rotate(image, degrees,
    reshape=False, order=1, mode="grid-constant").
    """
    images = _to_images(x, "rotate")
    n, c, h, w = images.shape
    a = torch.deg2rad(_per_image(degrees, n, generator))
    cos, sin = a.cos(), a.sin()
    # theta maps OUTPUT (x right, y down) to INPUT coordinates: the inverse rotation; x and y are rescaled
    # by w/h so that non-square images rotate rigidly
    theta = torch.zeros(n, 2, 3, dtype=torch.float64)
    theta[:, 0, 0], theta[:, 0, 1] = cos, -sin * h / w
    theta[:, 1, 0], theta[:, 1, 1] = sin * w / h, cos
    grid = F.affine_grid(theta.to(images.dtype), [n, c, h, w], align_corners=False).to(images.device)
    out = F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return _from_images(out, x)


def crop(x: torch.Tensor, top: torch.Tensor, left: torch.Tensor, size: int | tuple[int, int],
         padding: int = 0) -> torch.Tensor:
    """The window of ``size`` (an int for a square, or (height, width)) at (top, left) of each image, after
    zero-padding ``padding`` pixels on every side.

    top, left: (N,) integer offsets into the padded image, so that the window fits inside it.
    x: (N, C, H, W) -> (N, C, height, width) (and likewise for the other layouts).
    """
    images = _to_images(x, "crop")
    n, c, h, w = images.shape
    height, width = (size, size) if isinstance(size, int) else size
    padded = F.pad(images, (padding, padding, padding, padding))
    top, left = top.long().to(images.device), left.long().to(images.device)
    if (top < 0).any() or (left < 0).any() or (top > h + 2 * padding - height).any() or \
            (left > w + 2 * padding - width).any():
        raise ValueError(f"crop: a {height} x {width} window must fit in the {h + 2 * padding} x "
                         f"{w + 2 * padding} padded image; check top, left, size and padding.")
    rows = top[:, None] + torch.arange(height, device=images.device)  # (N, height)
    cols = left[:, None] + torch.arange(width, device=images.device)  # (N, width)
    batch = torch.arange(n, device=images.device)[:, None, None]
    out = padded.permute(0, 2, 3, 1)[batch, rows[:, :, None], cols[:, None, :]]  # (N, height, width, C)
    return _from_images(out.permute(0, 3, 1, 2), x)


def shift(x: torch.Tensor, dx: Spec, dy: Spec, generator: torch.Generator | None = None) -> torch.Tensor:
    """Translate each image by whole pixels: dx > 0 moves the content right, dy > 0 down; zeros come in.

    out[..., i, j] = x[..., i - dy, j - dx] where that pixel exists, else 0: torch.roll without the
    wrap-around. dx, dy: integers, integer ranges (lo, hi) drawn inclusively, or (N,) tensors.
    """
    images = _to_images(x, "shift")
    n, _, h, w = images.shape
    dx, dy = _per_image(dx, n, generator, integer=True), _per_image(dy, n, generator, integer=True)
    if (dx != dx.round()).any() or (dy != dy.round()).any():
        raise ValueError("shift moves whole pixels: dx and dy must be integers (use rotate or crop otherwise).")
    pad = int(max(dx.abs().max().item(), dy.abs().max().item(), 0))
    pad = min(pad, max(h, w))  # a shift by more than the image is all zeros anyway
    top, left = (pad - dy).clamp(0, 2 * pad), (pad - dx).clamp(0, 2 * pad)  # the window that moves the content
    return _from_images(crop(images, top, left, (h, w), pad), x)


def random_crop(x: torch.Tensor, size: int, padding: int = 0, generator: torch.Generator | None = None) -> torch.Tensor:
    """Pad every side with ``padding`` zeros, then cut a size x size window at a uniformly random position.

    As torchvision's RandomCrop(size, padding). With size = H (8 for the digits) it is a random shift by
    -padding..padding pixels in each direction. x: (N, C, H, W) -> (N, C, size, size).
    """
    images = _to_images(x, "random_crop")
    n, _, h, w = images.shape
    if size > min(h, w) + 2 * padding:
        raise ValueError(f"random_crop: size {size} does not fit in the {h + 2 * padding} x {w + 2 * padding} "
                         f"padded image; lower size or raise padding.")
    top = torch.randint(0, h + 2 * padding - size + 1, (n,), generator=generator, device=_draw_device(generator))
    left = torch.randint(0, w + 2 * padding - size + 1, (n,), generator=generator, device=_draw_device(generator))
    return _from_images(crop(images, top, left, size, padding), x)


# ---------------------------------------------------------------- photometric
def gaussian_noise(x: torch.Tensor, std: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """x + std * eps, eps ~ N(0, 1) independently per pixel: noise injection on the inputs. Not clipped."""
    if std < 0:
        raise ValueError(f"gaussian_noise: std is a standard deviation and must be >= 0, got {std}.")
    _to_images(x, "gaussian_noise")  # validates the shape
    draw_on = generator.device if generator is not None else x.device
    eps = torch.randn(x.shape, generator=generator, dtype=x.dtype, device=draw_on).to(x.device)
    return x + std * eps


def contrast(x: torch.Tensor, factor: Spec, generator: torch.Generator | None = None) -> torch.Tensor:
    """Scale each image's contrast around its mean grey value m, as torchvision's adjust_contrast:

        out = clamp(factor * x + (1 - factor) * m, 0, 1)        m = mean of the image's pixels

    (m is the mean over all pixels and channels; torchvision first turns an RGB image grey with luminance
    weights, which for the one-channel digits is the same thing.)

    factor = 1 keeps the image, 0 gives a flat grey image of value m, > 1 raises the contrast. Pixel values
    are assumed in [0, 1] (``data.digits`` scales them so). factor: a number, a range (lo, hi) or (N,) values.
    """
    images = _to_images(x, "contrast")
    f = _per_image(factor, len(images), generator).to(images.device, images.dtype)[:, None, None, None]
    if (f < 0).any():
        raise ValueError("contrast: factor must be >= 0 (0 gives a flat image, 1 the original).")
    m = images.mean(dim=(1, 2, 3), keepdim=True)
    return _from_images((f * images + (1 - f) * m).clamp(0.0, 1.0), x)


# ---------------------------------------------------------------- composition
class Compose:
    """Apply augmentations in order, with one generator: Compose([f, g])(x, generator) = g(f(x, ...), ...).

    Each item is called as t(x, generator=generator); fix the other arguments with functools.partial or a
    lambda, e.g. Compose([partial(rotate, degrees=(-10, 10)), partial(shift, dx=(-1, 1), dy=(-1, 1))]).
    """

    def __init__(self, transforms: Sequence[Callable[..., torch.Tensor]]) -> None:
        self.transforms = list(transforms)

    def __call__(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        for t in self.transforms:
            x = t(x, generator=generator)
        return x

    def __repr__(self) -> str:
        return "Compose([" + ", ".join(repr(t) for t in self.transforms) + "])"
