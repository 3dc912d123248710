import pytest
import torch

import helpers
from helpers.device import DEVICE_ENV, to_device

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def test_default_is_best_available(monkeypatch):
    monkeypatch.delenv(DEVICE_ENV, raising=False)
    expected = "cuda" if torch.cuda.is_available() else "mps" if torch.backends.mps.is_available() else "cpu"
    assert helpers.device().type == expected


def test_environment_override(monkeypatch):
    monkeypatch.setenv(DEVICE_ENV, "cpu")
    assert helpers.device() == torch.device("cpu")


def test_argument_beats_environment(monkeypatch):
    monkeypatch.setenv(DEVICE_ENV, "not-a-device")
    assert helpers.device("cpu") == torch.device("cpu")


def test_unknown_device_names_the_fix(monkeypatch):
    monkeypatch.setenv(DEVICE_ENV, "tpu")
    with pytest.raises(ValueError, match="Use one of: cuda, mps, cpu"):
        helpers.device()


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_missing_device_says_how_to_recover(monkeypatch):
    monkeypatch.setenv(DEVICE_ENV, "cuda")
    with pytest.raises(RuntimeError, match="Unset \\$HELPERS_DEVICE"):
        helpers.device()


@pytest.mark.parametrize("target", DEVICES)
def test_to_device_moves_nested_batches(target):
    batch = {"x": torch.zeros(2), "pair": (torch.ones(1), [torch.arange(3)]), "name": "digits"}
    moved = to_device(batch, target)
    assert moved["x"].device.type == target
    assert moved["pair"][0].device.type == target and isinstance(moved["pair"], tuple)
    assert moved["pair"][1][0].device.type == target and isinstance(moved["pair"][1], list)
    assert moved["name"] == "digits"


def test_seed_everything_repeats_every_generator():
    import random

    import numpy as np

    def draw():
        return random.random(), np.random.rand(), torch.rand(1).item()

    helpers.seed_everything(123)
    first = draw()
    helpers.seed_everything(123)
    assert draw() == first
    helpers.seed_everything(124)
    assert draw() != first


def test_seed_must_be_an_int():
    with pytest.raises(TypeError, match="seed must be an int"):
        helpers.seed_everything("0")
