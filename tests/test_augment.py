"""helpers.augment against independent oracles: torch.rot90 and scipy.ndimage.rotate for rotations, torch.roll
with the wrap-around zeroed for shifts, F.pad and slicing for crops, torch.flip, large-draw statistics for the
random parts, and exact identities."""

import math
from functools import partial

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy import ndimage

from helpers import augment as A
from helpers import data

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
F64 = torch.float64
TOL = {"rtol": 1e-12, "atol": 1e-12}


def gen(seed):
    return torch.Generator().manual_seed(seed)


def images(*shape, seed=0, device="cpu"):
    """Random pixels in (0.1, 1): every pixel distinct and non-zero, so a moved pixel is easy to trace."""
    return (0.1 + 0.9 * torch.rand(shape, generator=gen(seed), dtype=F64)).to(device)


def roll_with_zeros(x, dy, dx):
    """torch.roll along (H, W), then the rows and columns that wrapped around set to 0."""
    out = torch.roll(x, shifts=(dy, dx), dims=(-2, -1)).clone()
    h, w = x.shape[-2:]
    if dy > 0:
        out[..., : min(dy, h), :] = 0
    elif dy < 0:
        out[..., max(h + dy, 0) :, :] = 0
    if dx > 0:
        out[..., :, : min(dx, w)] = 0
    elif dx < 0:
        out[..., :, max(w + dx, 0) :] = 0
    return out


# ---------------------------------------------------------------- layouts
LAYOUTS = {"(N, H, W)": lambda x: x, "(N, 1, H, W)": lambda x: x.unsqueeze(1), "(N, H*W)": lambda x: x.flatten(1)}


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_every_augmentation_keeps_the_layout_dtype_and_device_and_agrees_across_layouts(device, layout):
    x = images(5, 8, 8, seed=1, device=device)
    to = LAYOUTS[layout]
    calls = {
        "hflip": lambda t, g: A.hflip(t, 0.5, g),
        "rotate": lambda t, g: A.rotate(t, (-15.0, 15.0), g),
        "shift": lambda t, g: A.shift(t, (-2, 2), (-2, 2), g),
        "random_crop": lambda t, g: A.random_crop(t, 8, 2, g),
        "gaussian_noise": lambda t, g: A.gaussian_noise(t, 0.1, g),
        "contrast": lambda t, g: A.contrast(t, (0.5, 1.5), g),
    }
    for name, call in calls.items():
        out = call(to(x), gen(2))
        assert out.shape == to(x).shape and out.dtype == F64 and out.device == x.device, name
        reference = call(x, gen(2))  # the same draws on the (N, H, W) layout
        assert torch.equal(out, to(reference)), name
    assert A.rotate(x.float(), 10.0).dtype == torch.float32


def test_channels_are_transformed_together():
    x = images(4, 3, 6, 6, seed=3)
    out = A.shift(x, (-1, 1), (-1, 1), gen(4))
    for c in range(3):  # every channel of an image moves the same way
        assert torch.equal(out[:, c], A.shift(x[:, c], (-1, 1), (-1, 1), gen(4)))


# ---------------------------------------------------------------- flips and rotations
@pytest.mark.parametrize("device", DEVICES)
def test_hflip_mirrors_and_its_probability_holds(device):
    x = images(6, 1, 8, 8, seed=5, device=device)
    assert torch.equal(A.hflip(x), torch.flip(x, dims=[-1])) and torch.equal(A.hflip(A.hflip(x)), x)
    assert torch.equal(A.hflip(x, p=0.0), x)
    n = 20_000
    many = torch.arange(2.0, dtype=F64, device=device).expand(n, 1, 2)  # rows [0, 1]: flipped ones read [1, 0]
    flipped = (A.hflip(many, 0.3, gen(6))[:, 0, 0] == 1).double().mean().item()
    assert abs(flipped - 0.3) < 5 * math.sqrt(0.3 * 0.7 / n)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_rotations_by_right_angles_are_rot90(device, layout):
    x = images(4, 8, 8, seed=7, device=device)
    to = LAYOUTS[layout]
    for k in (1, 2, 3, -1):
        expected = torch.rot90(x, k, dims=(-2, -1))  # counter-clockwise for k > 0
        assert torch.allclose(A.rotate(to(x), 90.0 * k), to(expected), rtol=0, atol=1e-14)
    assert torch.allclose(A.rotate(x, 0.0), x, rtol=0, atol=1e-15)
    rectangle = images(2, 3, 5, 9, seed=8, device=device)  # non-square: half a turn still maps pixels exactly
    assert torch.allclose(A.rotate(rectangle, 180.0), torch.rot90(rectangle, 2, dims=(-2, -1)), rtol=0, atol=1e-14)


@pytest.mark.parametrize("degrees", [3.0, -7.5, 12.0, 15.0, 33.0])
def test_small_rotations_match_scipy_bilinear(degrees):
    x = data.digits(images=True, dtype=F64).x_train[:6]  # real digits
    ours = A.rotate(x, degrees)[:, 0].numpy()
    theirs = np.stack([ndimage.rotate(im, degrees, reshape=False, order=1, mode="grid-constant", cval=0.0)
                       for im in x[:, 0].numpy()])
    assert np.allclose(ours, theirs, rtol=0, atol=1e-12)
    # scipy's default mode="constant" differs only at the border, where it interpolates beyond the edge
    default = np.stack([ndimage.rotate(im, degrees, reshape=False, order=1) for im in x[:, 0].numpy()])
    assert np.allclose(ours[:, 2:6, 2:6], default[:, 2:6, 2:6], rtol=0, atol=1e-12)


def test_per_image_angles_and_seeded_ranges():
    x = images(5, 8, 8, seed=9)
    angles = torch.tensor([0.0, 10.0, -20.0, 90.0, 45.0])
    together = A.rotate(x, angles)
    for i, a in enumerate(angles.tolist()):
        assert torch.allclose(together[i], A.rotate(x[i : i + 1], a)[0], **TOL)
    assert torch.equal(A.rotate(x, (-10.0, 10.0), gen(10)), A.rotate(x, (-10.0, 10.0), gen(10)))
    drawn = 10.0 - 20.0 * torch.rand(5, generator=gen(10), dtype=F64)  # the draws, by hand: lo + (hi - lo) u
    assert torch.allclose(A.rotate(x, (-10.0, 10.0), gen(10)), A.rotate(x, -drawn), **TOL)


# ---------------------------------------------------------------- shifts and crops
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dx,dy", [(0, 0), (1, 0), (0, -2), (3, -1), (-4, 5), (8, 0), (-20, 3)])
def test_shift_is_roll_without_wrap_around(device, dx, dy):
    x = images(3, 2, 8, 8, seed=11, device=device)
    assert torch.equal(A.shift(x, dx, dy), roll_with_zeros(x, dy, dx))
    rectangle = images(2, 5, 7, seed=12, device=device)
    assert torch.equal(A.shift(rectangle, dx, dy), roll_with_zeros(rectangle, dy, dx))


def test_shift_draws_every_integer_in_the_range_and_takes_per_image_values():
    n = 4_000
    dot = torch.zeros(n, 8, 8, dtype=F64)
    dot[:, 4, 4] = 1.0  # a single lit pixel: where it lands tells the shift
    moved = A.shift(dot, (-2, 1), (0, 3), gen(13))
    where = moved.flatten(1).argmax(1)
    dx, dy = where % 8 - 4, where // 8 - 4
    assert sorted(set(dx.tolist())) == [-2, -1, 0, 1] and sorted(set(dy.tolist())) == [0, 1, 2, 3]
    counts = torch.bincount((dx + 2) * 4 + dy, minlength=16).double()  # 16 equally likely (dx, dy) pairs
    assert ((counts - n / 16).abs() < 5 * math.sqrt(n / 16)).all()
    x = images(3, 8, 8, seed=14)
    out = A.shift(x, torch.tensor([1, 0, -1]), torch.tensor([0, 2, 0]))
    for i, (a, b) in enumerate([(1, 0), (0, 2), (-1, 0)]):
        assert torch.equal(out[i], roll_with_zeros(x[i], b, a))


def test_crop_is_pad_then_slice_and_random_crop_is_a_random_shift():
    x = images(4, 1, 8, 8, seed=15)
    top, left = torch.tensor([0, 1, 4, 2]), torch.tensor([3, 0, 4, 1])
    out = A.crop(x, top, left, 6, padding=2)
    padded = F.pad(x, (2, 2, 2, 2))
    for i in range(4):
        assert torch.equal(out[i], padded[i, :, top[i] : top[i] + 6, left[i] : left[i] + 6])
    n, p = 2_500, 2
    same = images(1, 8, 8, seed=16).expand(n, 8, 8)
    crops = A.random_crop(same, 8, p, gen(17))
    shifts = [(dx, dy) for dy in range(-p, p + 1) for dx in range(-p, p + 1)]
    candidates = torch.stack([roll_with_zeros(same[0], dy, dx) for dx, dy in shifts])  # (25, 8, 8)
    match = (crops[:, None] == candidates[None]).flatten(2).all(-1)  # (n, 25)
    assert (match.sum(1) == 1).all()  # every crop is exactly one of the 25 shifts by -2..2
    counts = match.sum(0).double()
    assert ((counts - n / 25).abs() < 5 * math.sqrt(n / 25)).all()  # uniformly
    assert A.random_crop(images(3, 64, seed=18), 6, 0, gen(19)).shape == (3, 36)  # flattened in, flattened out


# ---------------------------------------------------------------- noise and contrast
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("std", [0.05, 0.3])
def test_gaussian_noise_has_the_asked_standard_deviation(device, std):
    x = images(500, 8, 8, seed=20, device=device)
    noise = (A.gaussian_noise(x, std, gen(21)) - x).flatten()
    m = noise.numel()
    assert abs(noise.mean().item()) < 5 * std / math.sqrt(m)
    assert abs(noise.std().item() / std - 1) < 5 * math.sqrt(1 / (2 * m))
    assert torch.equal(A.gaussian_noise(x, std, gen(21)), A.gaussian_noise(x, std, gen(21)))
    assert torch.equal(A.gaussian_noise(x, 0.0), x)


@pytest.mark.parametrize("device", DEVICES)
def test_contrast_blends_with_the_mean_grey_and_clamps(device):
    x = images(4, 1, 8, 8, seed=22, device=device)
    m = x.mean(dim=(1, 2, 3), keepdim=True)
    assert torch.allclose(A.contrast(x, 1.0), x, **TOL)
    assert torch.allclose(A.contrast(x, 0.0), m.expand_as(x), **TOL)
    half = A.contrast(x, 0.5)
    assert torch.allclose(half, 0.5 * x + 0.5 * m, **TOL)
    assert torch.allclose(half.mean(dim=(1, 2, 3), keepdim=True), m, **TOL)  # the mean grey is kept
    assert torch.allclose((half - m).std(), 0.5 * (x - m).std(), **TOL)  # deviations halved
    strong = A.contrast(x, 3.0)
    assert torch.allclose(strong, (3 * x - 2 * m).clamp(0, 1), **TOL) and strong.min() >= 0 and strong.max() <= 1
    factors = torch.tensor([0.0, 0.5, 1.0, 2.0])
    per_image = A.contrast(x, factors)
    for i, f in enumerate(factors.tolist()):
        assert torch.allclose(per_image[i], A.contrast(x[i : i + 1], f)[0], **TOL)


# ---------------------------------------------------------------- composition
def test_compose_applies_in_order_with_one_generator():
    x = images(6, 64, seed=23)
    steps = [partial(A.rotate, degrees=(-10.0, 10.0)), partial(A.shift, dx=(-1, 1), dy=(-1, 1)),
             partial(A.gaussian_noise, std=0.05), partial(A.contrast, factor=(0.8, 1.2))]
    augment = A.Compose(steps)
    g = gen(24)
    by_hand = x
    for step in steps:
        by_hand = step(by_hand, generator=g)
    assert torch.equal(augment(x, gen(24)), by_hand)
    assert torch.equal(augment(x, gen(24)), augment(x, gen(24))) and not torch.equal(augment(x, gen(24)),
                                                                                     augment(x, gen(25)))
    assert repr(augment).startswith("Compose([functools.partial(<function rotate")
    assert torch.equal(A.Compose([])(x), x)


def test_errors_say_what_to_do():
    with pytest.raises(TypeError, match=r"x.float\(\)"):
        A.rotate(torch.zeros(2, 8, 8, dtype=torch.int64), 10.0)
    with pytest.raises(ValueError, match="not a square number"):
        A.hflip(torch.zeros(2, 10))
    with pytest.raises(ValueError, match="unsqueeze"):
        A.shift(torch.zeros(8), 1, 1)
    with pytest.raises(ValueError, match="lo <= hi"):
        A.rotate(torch.zeros(2, 8, 8), (10.0, -10.0))
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        A.rotate(torch.zeros(2, 8, 8), torch.zeros(3))
    with pytest.raises(ValueError, match="whole pixels"):
        A.shift(torch.zeros(2, 8, 8), 0.5, 0)
    with pytest.raises(ValueError, match="does not fit"):
        A.random_crop(torch.zeros(2, 8, 8), 11, 1)
    with pytest.raises(ValueError, match="must fit"):
        A.crop(torch.zeros(2, 8, 8), torch.tensor([0, 3]), torch.tensor([0, 0]), 8, 1)
    with pytest.raises(ValueError, match="std"):
        A.gaussian_noise(torch.zeros(2, 8, 8), -1.0)
    with pytest.raises(ValueError, match="factor"):
        A.contrast(torch.zeros(2, 8, 8), -0.5)
