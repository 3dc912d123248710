"""helpers.data.reversal_task: shapes and dtype, the rule checked element by element, uniform symbols, seeds and
generators, and the errors."""

import pytest
import torch

from helpers import data


def test_reversal_task_targets_are_the_inputs_reversed():
    n, length, vocab = 50, 8, 10
    x, y = data.reversal_task(n, length, vocab, seed=1)
    assert x.shape == y.shape == (n, length) and x.dtype == y.dtype == torch.int64
    for i in range(n):
        for t in range(length):
            assert y[i, t] == x[i, length - 1 - t]


def test_reversal_task_symbols_are_uniform_over_the_vocabulary():
    x, _ = data.reversal_task(20000, 8, 10, seed=2)
    assert x.min() == 0 and x.max() == 9
    freq = torch.bincount(x.flatten(), minlength=10).double() / x.numel()
    assert (freq - 0.1).abs().max() < 0.005  # 160000 draws: standard error 0.00075 per symbol


def test_reversal_task_seeds_and_generators():
    a, b = data.reversal_task(5, seed=3), data.reversal_task(5, seed=3)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[0], data.reversal_task(5, seed=4)[0])
    g = torch.Generator().manual_seed(3)
    first, second = data.reversal_task(5, generator=g), data.reversal_task(5, generator=g)
    assert torch.equal(first[0], a[0]) and not torch.equal(first[0], second[0])  # a fresh batch each call
    assert data.reversal_task(3, length=1)[0].shape == (3, 1)


@pytest.mark.parametrize(("kwargs", "error", "words"), [
    ({"n": 0}, ValueError, "n must be at least 1"),
    ({"length": 0}, ValueError, "length must be at least 1"),
    ({"vocab": 1}, ValueError, "vocab must be at least 2"),
    ({"length": 2.0}, TypeError, "whole number"),
    ({"generator": 3}, TypeError, "torch.Generator"),
])
def test_reversal_task_errors(kwargs, error, words):
    with pytest.raises(error, match=words):
        data.reversal_task(**kwargs)
