import math

import pytest
import torch
from sklearn.datasets import load_digits

from helpers import data


def test_digits_split_sizes_shapes_and_range():
    split = data.digits()
    assert [len(t) for t in split[::2]] == list(data.DIGITS_SPLIT)
    assert split.x_train.shape == (1079, 64) and split.x_train.dtype == torch.float32
    assert split.y_train.dtype == torch.int64
    assert float(split.x_train.min()) >= 0 and float(split.x_train.max()) <= 1
    assert data.digits(images=True).x_val.shape == (359, 1, 8, 8)


def test_digits_split_is_fixed_disjoint_and_complete():
    a, b = data.digits(), data.digits()
    assert torch.equal(a.x_test, b.x_test)
    everything = torch.cat([a.x_train, a.x_val, a.x_test]) * 16
    reference = torch.tensor(load_digits().data, dtype=torch.float32)
    # the three parts are a permutation of the full data set: same multiset of rows
    assert torch.equal(everything.sum(0), reference.sum(0))
    assert len(everything) == len(reference)
    assert set(a.y_train.tolist()) == set(range(10))


def test_split_indices_partition():
    train, val, test = data.split_indices(100, 0.2, 0.1, seed=3)
    assert (len(train), len(val), len(test)) == (70, 20, 10)
    assert sorted(torch.cat([train, val, test]).tolist()) == list(range(100))


@pytest.mark.parametrize("val,test", [(0.0, 0.2), (0.5, 0.5), (1.2, 0.1)])
def test_split_indices_rejects_bad_fractions(val, test):
    with pytest.raises(ValueError, match="fraction"):
        data.split_indices(10, val, test)


def test_loaders_batches_and_seeded_shuffle():
    split = data.digits()
    train, val, test = data.loaders(split, batch_size=100)
    x, y = next(iter(train))
    assert x.shape == (100, 64) and y.shape == (100,)
    again = next(iter(data.loaders(split, batch_size=100)[0]))[1]
    assert torch.equal(y, again)
    assert sum(len(b[1]) for b in val) == 359
    with pytest.raises(ValueError, match="batch_size"):
        data.loaders(split, batch_size=0)


def test_noisy_sine_statistics():
    x, y = data.noisy_sine(20_000, noise=0.5, seed=1)
    residual = y - torch.sin(2 * math.pi * x)
    assert x.min() >= 0 and x.max() <= 1
    assert abs(residual.mean().item()) < 0.02
    assert residual.std().item() == pytest.approx(0.5, rel=0.03)
    assert torch.equal(data.noisy_sine(5, seed=2)[1], data.noisy_sine(5, seed=2)[1])
    with pytest.raises(ValueError, match="noise"):
        data.noisy_sine(5, noise=-1)


def test_blobs_classes_and_centres():
    x, y = data.blobs(n_per_class=500, centers=4, spread=0.1)
    assert x.shape == (2000, 2) and y.bincount().tolist() == [500] * 4
    radii = torch.stack([x[y == k].mean(0).norm() for k in range(4)])
    assert torch.allclose(radii, torch.full((4,), 2.0), atol=0.05)
    with pytest.raises(ValueError, match="at least 2"):
        data.blobs(centers=1)


def test_digits_read_directly_equal_scikit_learns():
    pixels, labels = data._digits_arrays()
    bunch = load_digits()
    assert (pixels == bunch.data).all() and (labels == bunch.target).all()
