"""What the reference-vs-torch tests of helpers.nn share: devices, the float64 tolerance, seeded tensors, leaves."""

import torch

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
F64 = torch.float64
TOL = {"rtol": 1e-10, "atol": 1e-10}  # float64 where the maths is exact


def random(*shape, seed=0, device="cpu", dtype=F64):
    """Standard normal values from their own seed (drawn in float64, then cast), on ``device``."""
    g = torch.Generator().manual_seed(seed)
    return torch.randn(tuple(shape), generator=g, dtype=F64).to(device=device, dtype=dtype)


def leaf(x):
    """A fresh leaf copy of x that requires grad: ours and torch's get their own."""
    return x.detach().clone().requires_grad_(True)


def close(a, b):
    """Same shape, dtype and device, and equal within TOL."""
    return a.shape == b.shape and a.dtype == b.dtype and a.device == b.device and torch.allclose(a, b, **TOL)
