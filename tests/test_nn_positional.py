"""helpers.nn.attention.positional and helpers.nn.attention.memory.

Positions: the sinusoidal encoding against the paper's formula written out with math.sin/math.cos loops in
float64, both layouts (the concatenated one is a column permutation of the interleaved one), the row norm
sqrt(d/2), the shift PE[pos + k] = R_k PE[pos] with R_k a block-diagonal rotation built here, and the module
(adds the table, batch first, dropout, device/dtype, errors).
Memory: the NTM content weights and read against a loop over slots with F.cosine_similarity and softmax,
gradients against autograd through that loop and by gradcheck, the limits beta = 0 (uniform) and large beta
(one-hot on the best match), zero-norm keys and slots (no NaN, as F.cosine_similarity), and the errors."""

import math

import pytest
import torch
import torch.nn.functional as F
from tensors import DEVICES, F64, TOL, leaf, random

from helpers.nn.attention.memory import content_read, content_weights, cosine_similarity
from helpers.nn.attention.positional import PositionalEncoding, sinusoidal_encoding


def paper_encoding(length, d, base=10000.0):
    """Vaswani et al. (2017), eq. in section 3.5, one entry at a time."""
    pe = [[0.0] * d for _ in range(length)]
    for pos in range(length):
        for i in range(d // 2):
            angle = pos / base ** (2 * i / d)
            pe[pos][2 * i] = math.sin(angle)
            pe[pos][2 * i + 1] = math.cos(angle)
    return torch.tensor(pe, dtype=F64)


# ---------------------------------------------------------------------------------------- sinusoidal_encoding
@pytest.mark.parametrize(("length", "d", "base"), [(1, 2, 10000.0), (7, 4, 10000.0), (50, 32, 10000.0),
                                                   (13, 10, 100.0)])
def test_sinusoidal_encoding_is_the_papers_formula(length, d, base):
    pe = sinusoidal_encoding(length, d, base=base, dtype=F64)
    assert pe.shape == (length, d) and pe.dtype == F64
    assert torch.allclose(pe, paper_encoding(length, d, base), **TOL)


def test_concatenated_layout_puts_the_sines_first_then_the_cosines():
    length, d = 20, 12
    paper = paper_encoding(length, d)
    cat = sinusoidal_encoding(length, d, interleaved=False, dtype=F64)
    assert torch.allclose(cat[:, : d // 2], paper[:, 0::2], **TOL)  # sin(pos w_i), i = 0 .. d/2 - 1
    assert torch.allclose(cat[:, d // 2 :], paper[:, 1::2], **TOL)  # cos(pos w_i)
    assert not torch.allclose(cat, paper)


@pytest.mark.parametrize("interleaved", [True, False])
def test_every_row_has_norm_sqrt_d_over_2(interleaved):
    d = 24
    pe = sinusoidal_encoding(100, d, interleaved=interleaved, dtype=F64)
    assert torch.allclose(pe.norm(dim=1), torch.full((100,), math.sqrt(d / 2), dtype=F64), **TOL)


@pytest.mark.parametrize("k", [1, 3, 10])
def test_a_shift_by_k_is_one_fixed_rotation(k):
    """PE[pos + k] = R_k PE[pos] for every pos, with R_k = diag of 2x2 rotations by k w_i, built from the angles
    alone (not from the encoding)."""
    length, d, base = 40, 16, 10000.0
    rotation = torch.zeros(d, d, dtype=F64)
    for i in range(d // 2):
        a = k / base ** (2 * i / d)  # the angle k w_i
        # (sin(x + a), cos(x + a)) = [[cos a, sin a], [-sin a, cos a]] (sin x, cos x)
        rotation[2 * i : 2 * i + 2, 2 * i : 2 * i + 2] = torch.tensor([[math.cos(a), math.sin(a)],
                                                                     [-math.sin(a), math.cos(a)]], dtype=F64)
    assert torch.allclose(rotation @ rotation.T, torch.eye(d, dtype=F64), **TOL)  # a rotation indeed
    pe = sinusoidal_encoding(length + k, d, base=base, dtype=F64)
    assert torch.allclose(pe[:length] @ rotation.T, pe[k:], **TOL)


def test_dtype_and_device_defaults_and_float32_accuracy():
    assert sinusoidal_encoding(3, 4).dtype == torch.get_default_dtype()
    pe32 = sinusoidal_encoding(5000, 64, dtype=torch.float32)
    # computed in float64 then rounded: as close to the exact values as float32 can be (no angle round-off)
    assert (pe32.double() - paper_encoding(5000, 64)).abs().max() < 1e-7
    assert sinusoidal_encoding(0, 4).shape == (0, 4)


@pytest.mark.parametrize("device", DEVICES)
def test_encoding_on_a_device(device):
    pe = sinusoidal_encoding(9, 6, dtype=F64, device=device)
    assert pe.device.type == device and torch.allclose(pe.cpu(), paper_encoding(9, 6), **TOL)


@pytest.mark.parametrize(("kwargs", "error", "words"), [
    ({"length": 4, "d_model": 5}, ValueError, "even"),
    ({"length": 4, "d_model": 0}, ValueError, "at least 2"),
    ({"length": -1, "d_model": 4}, ValueError, "at least 0"),
    ({"length": 2.5, "d_model": 4}, TypeError, "whole number"),
    ({"length": 4, "d_model": 4, "base": 0.0}, ValueError, "base"),
])
def test_encoding_errors(kwargs, error, words):
    with pytest.raises(error, match=words):
        sinusoidal_encoding(**kwargs)


# ------------------------------------------------------------------------------------------ PositionalEncoding
def test_module_adds_the_table_batch_first():
    module = PositionalEncoding(8, max_len=20, dtype=F64)
    x = random(3, 11, 8, seed=1)
    y = module(x)
    assert torch.allclose(y, x + paper_encoding(11, 8)[None], **TOL)
    assert torch.allclose(module(x[0]), y[0], **TOL)  # one unbatched sequence (L, d)
    assert "pe" not in module.state_dict() and not list(module.parameters())  # recomputed, not learned
    concat = PositionalEncoding(8, max_len=20, interleaved=False, dtype=F64)
    assert torch.allclose(concat(x), x + sinusoidal_encoding(11, 8, interleaved=False, dtype=F64), **TOL)


def test_module_gradient_is_the_identity():
    x = leaf(random(2, 5, 4, seed=2))
    g = random(2, 5, 4, seed=3)
    (PositionalEncoding(4, max_len=5, dtype=F64)(x) * g).sum().backward()
    assert torch.allclose(x.grad, g, **TOL)


def test_module_dropout_acts_in_training_only():
    module = PositionalEncoding(16, max_len=10, dropout=0.5, dtype=F64)
    x = random(4, 10, 16, seed=4)
    expected = x + paper_encoding(10, 16)
    torch.manual_seed(0)
    y = module(x)
    dropped = y == 0
    assert 0.3 < dropped.double().mean() < 0.7  # about half, given 640 entries
    assert torch.allclose(y[~dropped], 2 * expected[~dropped], **TOL)  # inverted dropout: survivors scaled 1/(1-p)
    assert torch.allclose(module.eval()(x), expected, **TOL)


@pytest.mark.parametrize("device", DEVICES)
def test_module_follows_to_device(device):
    module = PositionalEncoding(6, max_len=7, dtype=F64).to(device)
    x = random(2, 7, 6, seed=5, device=device)
    assert module(x).device.type == device
    assert torch.allclose(module(x).cpu(), x.cpu() + paper_encoding(7, 6), **TOL)


def test_module_casts_the_table_to_the_input_dtype():
    module = PositionalEncoding(4, max_len=3)  # float32 table
    x = random(1, 3, 4, seed=6)  # float64 input
    assert module(x).dtype == F64


@pytest.mark.parametrize(("shape", "words"), [((2, 3, 5), "d_model=4"), ((2, 3, 3, 4), "batch first"),
                                              ((1, 11, 4), "max_len=10")])
def test_module_errors(shape, words):
    with pytest.raises(ValueError, match=words):
        PositionalEncoding(4, max_len=10)(torch.zeros(shape))


# ------------------------------------------------------------------------------------------ content addressing
def loop_read(memory, key, beta, eps=1e-8):
    """The NTM read, slot by slot, with torch's cosine similarity and softmax."""
    n, m, _ = memory.shape
    beta = beta if isinstance(beta, torch.Tensor) else torch.full((n,), float(beta), dtype=memory.dtype)
    weights, reads = [], []
    for b in range(n):
        scores = torch.stack([F.cosine_similarity(key[b], memory[b, i], dim=0, eps=eps) for i in range(m)])
        w = torch.softmax(beta[b] * scores, dim=0)
        weights.append(w)
        reads.append(sum(w[i] * memory[b, i] for i in range(m)))
    return torch.stack(reads), torch.stack(weights)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("beta", ["float", "tensor"])
def test_content_read_matches_the_loop_with_gradients(device, beta):
    n, m, d = 3, 5, 4
    memory, key = random(n, m, d, seed=10, device=device), random(n, d, seed=11, device=device)
    b = 2.5 if beta == "float" else random(n, seed=12, device=device).abs() * 3
    ours_in = [leaf(memory), leaf(key)] + ([leaf(b)] if beta == "tensor" else [])
    loop_in = [leaf(memory), leaf(key)] + ([leaf(b)] if beta == "tensor" else [])
    r, w = content_read(ours_in[0], ours_in[1], ours_in[2] if beta == "tensor" else b)
    r_loop, w_loop = loop_read(loop_in[0].cpu(), loop_in[1].cpu(), loop_in[2].cpu() if beta == "tensor" else b)
    assert r.shape == (n, d) and w.shape == (n, m) and r.device.type == device
    assert torch.allclose(r.cpu(), r_loop, **TOL) and torch.allclose(w.cpu(), w_loop, **TOL)
    assert torch.allclose(content_weights(*ours_in[:2], ours_in[2] if beta == "tensor" else b), w, **TOL)
    g_r, g_w = random(n, d, seed=13), random(n, m, seed=14)
    ((r.cpu() * g_r).sum() + (w.cpu() * g_w).sum()).backward()
    ((r_loop * g_r).sum() + (w_loop * g_w).sum()).backward()
    for ours, theirs in zip(ours_in, loop_in):
        assert torch.allclose(ours.grad.cpu(), theirs.grad.cpu(), **TOL)


def test_cosine_similarity_matches_torch():
    memory, key = random(4, 6, 3, seed=20), random(4, 3, seed=21)
    assert torch.allclose(cosine_similarity(memory, key), F.cosine_similarity(memory, key[:, None], dim=-1), **TOL)


def test_content_read_gradcheck():
    memory, key, beta = leaf(random(2, 4, 3, seed=30)), leaf(random(2, 3, seed=31)), leaf(random(2, seed=32).abs())
    assert torch.autograd.gradcheck(lambda m, k, b: content_read(m, k, b), (memory, key, beta))


def test_beta_zero_gives_uniform_weights_and_the_mean_slot():
    memory, key = random(3, 7, 5, seed=40), random(3, 5, seed=41)
    r, w = content_read(memory, key, 0.0)
    assert torch.allclose(w, torch.full((3, 7), 1 / 7, dtype=F64), **TOL)
    assert torch.allclose(r, memory.mean(dim=1), **TOL)


def test_large_beta_reads_the_most_similar_slot():
    memory = random(4, 6, 8, seed=50)
    best = torch.tensor([2, 0, 5, 3])
    # each key is its best slot plus a little noise: that slot's cosine is near 1, the others' far below
    key = memory[torch.arange(4), best] + 0.05 * random(4, 8, seed=51)
    cos = F.cosine_similarity(memory, key[:, None], dim=-1)
    assert torch.equal(cos.argmax(dim=1), best)
    r, w = content_read(memory, key, 1e4)
    assert torch.allclose(w, F.one_hot(best, 6).to(F64), atol=1e-12, rtol=0)
    assert torch.allclose(r, memory[torch.arange(4), best], atol=1e-10, rtol=0)
    # and the weights sharpen monotonically towards it as beta grows
    on_best = [content_weights(memory, key, b)[torch.arange(4), best] for b in (0.0, 1.0, 10.0, 100.0)]
    assert all((a < b).all() for a, b in zip(on_best, on_best[1:]))


def test_zero_key_and_zero_slot_give_similarity_zero_and_finite_gradients():
    memory = random(2, 4, 3, seed=60)
    memory[1, 2] = 0.0  # an empty slot
    key = random(2, 3, seed=61)
    key[0] = 0.0  # a zero key
    m, k = leaf(memory), leaf(key)
    r, w = content_read(m, k, 5.0)
    cos = F.cosine_similarity(memory, key[:, None], dim=-1)
    assert cos[0].eq(0).all() and cos[1, 2] == 0  # torch's convention, which we follow
    assert torch.allclose(w[0], torch.full((4,), 0.25, dtype=F64), **TOL)  # a zero key matches nothing: uniform
    assert torch.allclose(w, torch.softmax(5.0 * cos, dim=1), **TOL)
    (r.sum() + w[:, 0].sum()).backward()
    assert torch.isfinite(m.grad).all() and torch.isfinite(k.grad).all()
    r_loop, w_loop = loop_read(leaf(memory), leaf(key), 5.0)
    assert torch.allclose(r, r_loop, **TOL)


@pytest.mark.parametrize(("memory", "key", "beta", "error", "words"), [
    ((4, 3), (4, 3), 1.0, ValueError, r"\(N, M, D\)"),
    ((2, 4, 3), (2, 4), 1.0, ValueError, "key must be"),
    ((2, 4, 3), (3, 3), 1.0, ValueError, "key must be"),
    ((2, 4, 3), (2, 3), -1.0, ValueError, ">= 0"),
    ((2, 4, 3), (2, 3), "1", TypeError, "number"),
    ((2, 4, 3), (2, 3), torch.ones(3), ValueError, "shape"),
    ((2, 4, 3), (2, 3), -torch.ones(2), ValueError, ">= 0"),
])
def test_content_errors(memory, key, beta, error, words):
    with pytest.raises(error, match=words):
        content_read(torch.zeros(memory, dtype=F64), torch.ones(key, dtype=F64), beta)
