"""helpers.nn.attention against torch: scaled_dot_product_attention against F.scaled_dot_product_attention (values
and gradients in float64 at 1e-10 over masks, broadcasting, is_causal, scale, grouped-query heads, dropout under
the same seed, fully masked rows), the written-out backward against autograd, additive attention against a
loop over (i, j), split/merge_heads against index arithmetic, MultiheadAttention against nn.MultiheadAttention
after load_state_dict (outputs, weights and every gradient), the variance of q.k, and the errors."""

import math

import pytest
import torch
import torch.nn.functional as F
from tensors import DEVICES, F64, TOL, close, leaf, random
from torch import nn

from helpers.nn.attention import (
    AdditiveAttention,
    MultiheadAttention,
    additive_attention,
    attention_scores,
    attention_weights,
    causal_mask,
    dot_product_attention,
    merge_heads,
    safe_softmax,
    scaled_dot_product_attention,
    scaled_dot_product_attention_backward,
    split_heads,
)


def bool_mask(*shape, seed, device="cpu", keep_first=True):
    """A random boolean mask (about a third False); column 0 True so that no row is fully masked."""
    g = torch.Generator().manual_seed(seed)
    mask = torch.rand(shape, generator=g) > 0.35
    if keep_first:
        mask[..., 0] = True
    return mask.to(device)


def float_mask(*shape, seed, device="cpu"):
    """Random additive scores with some -inf entries (column 0 stays finite)."""
    return random(*shape, seed=seed, device=device).masked_fill(~bool_mask(*shape, seed=seed + 1, device=device),
                                                                -math.inf)


# ---------------------------------------------------------------- scaled_dot_product_attention vs torch
# name -> (query shape, key shape, value shape, keyword arguments as a function of the device)
SDPA_CASES = {
    "3-d": ((2, 3, 4), (2, 5, 4), (2, 5, 3), lambda d: {}),
    "4-d": ((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 2), lambda d: {}),
    "unbatched": ((3, 4), (5, 4), (5, 2), lambda d: {}),
    "L-equals-1": ((2, 1, 4), (2, 5, 4), (2, 5, 3), lambda d: {}),
    "bool-mask": ((2, 3, 4), (2, 5, 4), (2, 5, 3), lambda d: {"attn_mask": bool_mask(3, 5, seed=1, device=d)}),
    "float-mask": ((2, 3, 4), (2, 5, 4), (2, 5, 3), lambda d: {"attn_mask": float_mask(3, 5, seed=2, device=d)}),
    "bool-mask-per-sample": ((2, 2, 3, 4), (2, 2, 5, 4), (2, 2, 5, 3),
                             lambda d: {"attn_mask": bool_mask(2, 1, 3, 5, seed=3, device=d)}),
    "bool-mask-per-key": ((2, 2, 3, 4), (2, 2, 5, 4), (2, 2, 5, 3),
                          lambda d: {"attn_mask": bool_mask(2, 1, 1, 5, seed=4, device=d)}),
    "float-mask-per-query": ((2, 3, 4), (2, 5, 4), (2, 5, 3), lambda d: {"attn_mask": random(3, 1, seed=5, device=d)}),
    "float32-mask": ((2, 3, 4), (2, 5, 4), (2, 5, 3),
                     lambda d: {"attn_mask": random(3, 5, seed=6, device=d, dtype=torch.float32)}),
    "causal": ((2, 4, 3), (2, 4, 3), (2, 4, 2), lambda d: {"is_causal": True}),
    "causal-L<S": ((2, 3, 3), (2, 6, 3), (2, 6, 2), lambda d: {"is_causal": True}),
    "causal-L>S": ((2, 6, 3), (2, 3, 3), (2, 3, 2), lambda d: {"is_causal": True}),
    "scale": ((2, 3, 4), (2, 5, 4), (2, 5, 3), lambda d: {"scale": 0.3}),
    "scale-and-mask": ((2, 3, 4), (2, 5, 4), (2, 5, 3),
                       lambda d: {"scale": 2.0, "attn_mask": float_mask(2, 3, 5, seed=7, device=d)}),
    "broadcast-key-value": ((2, 3, 4), (1, 5, 4), (1, 5, 3), lambda d: {}),
    "grouped-query": ((2, 4, 3, 4), (2, 2, 5, 4), (2, 2, 5, 3), lambda d: {"enable_gqa": True}),
    "fully-masked-bool": ((2, 3, 4), (2, 5, 4), (2, 5, 3),
                          lambda d: {"attn_mask": torch.tensor([True, False, True])[:, None].expand(3, 5).to(d)}),
    "fully-masked-float": ((2, 3, 4), (2, 5, 4), (2, 5, 3),
                           lambda d: {"attn_mask": torch.tensor([0.0, -math.inf, 1.0], dtype=F64, device=d)[:, None]}),
}


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("case", SDPA_CASES)
def test_sdpa_matches_torch(device, case):
    """Output and the gradients w.r.t. query, key, value (and a float mask) equal torch's at 1e-10."""
    q_shape, k_shape, v_shape, kwargs = SDPA_CASES[case]
    seed = sum(map(ord, case))
    kwargs = kwargs(device)
    q, k, v = (random(*s, seed=seed + i, device=device) for i, s in enumerate((q_shape, k_shape, v_shape)))
    mask = kwargs.pop("attn_mask", None)
    grad_mask = mask is not None and mask.dtype == F64 and torch.isfinite(mask).all()
    results = []
    for attention in (scaled_dot_product_attention, F.scaled_dot_product_attention):
        inputs = [leaf(q), leaf(k), leaf(v)] + ([leaf(mask)] if grad_mask else [])
        m = inputs[3] if grad_mask else mask
        out = attention(*inputs[:3], attn_mask=m, **kwargs)
        weight = random(*out.shape, seed=seed + 9, device=device)
        results.append((out, torch.autograd.grad((weight * out).sum(), inputs)))
    (ours, ours_grads), (theirs, their_grads) = results
    assert close(ours, theirs)
    assert len(ours_grads) == len(their_grads) and all(close(a, b) for a, b in zip(ours_grads, their_grads))
    assert torch.isfinite(ours).all() and all(torch.isfinite(g).all() for g in ours_grads)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_fully_masked_row_is_zero_like_torch(device, dtype):
    """A query that may look at no key: torch's output row is exactly 0 and no gradient flows through it (0, not
    NaN), in float64 and float32; ours too. The weights of that row are 0, the other rows still sum to 1."""
    q, k, v = (random(2, n, 4, seed=s, device=device, dtype=dtype) for s, n in ((0, 3), (1, 5), (2, 5)))
    mask = torch.ones(3, 5, dtype=torch.bool, device=device)
    mask[1] = False
    for attention in (scaled_dot_product_attention, F.scaled_dot_product_attention):
        inputs = [leaf(q), leaf(k), leaf(v)]
        out = attention(*inputs, attn_mask=mask)
        assert torch.equal(out[:, 1], torch.zeros_like(out[:, 1]))
        grad_q, grad_k, grad_v = torch.autograd.grad(out.sum(), inputs)
        assert torch.equal(grad_q[:, 1], torch.zeros_like(grad_q[:, 1]))
        assert torch.isfinite(grad_k).all() and torch.isfinite(grad_v).all()
    weights = attention_weights(q, k, attn_mask=mask)
    assert torch.equal(weights[:, 1], torch.zeros_like(weights[:, 1]))
    assert torch.allclose(weights[:, [0, 2]].sum(-1), torch.ones((), dtype=dtype, device=device))
    assert torch.isnan(torch.softmax(torch.full((5,), -math.inf, dtype=dtype), dim=0)).all()  # what it avoids


def test_safe_softmax_is_softmax_elsewhere():
    x = random(4, 6, seed=3).masked_fill(bool_mask(4, 6, seed=4, keep_first=False) == 0, -math.inf)
    x[2] = -math.inf
    ours, theirs = safe_softmax(x), torch.softmax(x, dim=-1)
    rows = [0, 1, 3]
    assert torch.allclose(ours[rows], theirs[rows], **TOL) and torch.equal(ours[2], torch.zeros(6, dtype=F64))
    assert torch.isnan(theirs[2]).all()


@pytest.mark.parametrize("device", DEVICES)
def test_attention_weights_and_scores(device):
    """The weights are torch's attention applied to the identity as values (W I = W); the scores are
    scale q.k + mask, written out; weights = safe_softmax(scores)."""
    q, k = random(2, 3, 4, seed=1, device=device), random(2, 5, 4, seed=2, device=device)
    eye = torch.eye(5, dtype=F64, device=device).expand(2, 5, 5)
    for kwargs in ({}, {"is_causal": True}, {"scale": 0.7}, {"attn_mask": bool_mask(3, 5, seed=3, device=device)},
                   {"attn_mask": float_mask(3, 5, seed=4, device=device), "scale": 3.0}):
        theirs = F.scaled_dot_product_attention(q, k, eye, **kwargs)
        assert close(attention_weights(q, k, **kwargs), theirs)
    mask = float_mask(3, 5, seed=5, device=device)
    expected = torch.stack([torch.stack([torch.stack([0.5 * (q[n, i] * k[n, j]).sum() + mask[i, j]
                                                      for j in range(5)]) for i in range(3)]) for n in range(2)])
    assert torch.allclose(attention_scores(q, k, attn_mask=mask), expected, **TOL)  # default scale 1/sqrt(4)
    assert close(attention_weights(q, k, attn_mask=mask), safe_softmax(attention_scores(q, k, attn_mask=mask)))


@pytest.mark.parametrize("device", DEVICES)
def test_causal_mask(device):
    """True exactly where j <= i (enumerated), torch's square subsequent mask (0 = takes part) for L = S."""
    for L, S in ((4, 4), (3, 5), (5, 2), (1, 1), (0, 3)):
        mask = causal_mask(L, S, device=device)
        assert mask.dtype == torch.bool and mask.shape == (L, S) and mask.device.type == device
        assert mask.tolist() == [[j <= i for j in range(S)] for i in range(L)]
    assert torch.equal(causal_mask(6), nn.Transformer.generate_square_subsequent_mask(6) == 0)
    with pytest.raises(ValueError, match="non-negative int"):
        causal_mask(-1)


@pytest.mark.parametrize("device", DEVICES)
def test_dot_product_attention_is_unscaled(device):
    q, k, v = (random(2, n, 4, seed=s, device=device) for s, n in ((0, 3), (1, 5), (2, 5)))
    mask = bool_mask(3, 5, seed=3, device=device)
    assert close(dot_product_attention(q, k, v), F.scaled_dot_product_attention(q, k, v, scale=1.0))
    assert close(dot_product_attention(q, k, v, attn_mask=mask),
                 F.scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=1.0))


def test_dropout_draws_torchs_masks():
    """On the CPU, with the same seed, the dropped weights are torch's (F.dropout on W, as torch's math backend);
    p = 1 drops everything; the average over many draws approaches the output without dropout."""
    q, k, v = (random(2, 2, n, 4, seed=s) for s, n in ((0, 3), (1, 5), (2, 5)))
    for p in (0.2, 0.5):
        torch.manual_seed(7)
        ours = scaled_dot_product_attention(q, k, v, dropout_p=p)
        torch.manual_seed(7)
        assert close(ours, F.scaled_dot_product_attention(q, k, v, dropout_p=p))
    assert torch.equal(scaled_dot_product_attention(q, k, v, dropout_p=1.0), torch.zeros(2, 2, 3, 4, dtype=F64))
    torch.manual_seed(0)
    average = torch.stack([scaled_dot_product_attention(q, k, v, dropout_p=0.3) for _ in range(4000)]).mean(0)
    # each output is a sum of 5 weighted values with a 0.3 dropout: its standard error here is below 0.02
    assert (average - scaled_dot_product_attention(q, k, v)).abs().max() < 0.1


def test_variance_of_scores_is_d():
    """q, k with iid N(0, 1) entries: Var(q.k) = d (a sum of d products of variance 1), so the scaled score
    q.k / sqrt(d) has variance 1. The sample variance of n draws has a relative standard error of about
    sqrt((2 + 6 / d) / n), under 1.1% here; the bound is 5%, while the alternatives (variance 1 unscaled,
    or d scaled) are off by a factor of 16 to 256."""
    g = torch.Generator().manual_seed(0)
    n = 20000
    for d in (16, 64, 256):
        q, k = torch.randn(n, 1, d, generator=g, dtype=F64), torch.randn(n, 1, d, generator=g, dtype=F64)
        raw = (q * k).sum(-1).flatten()
        assert abs(raw.var().item() / d - 1) < 0.05
        scaled = attention_scores(q, k).flatten()  # default scale 1 / sqrt(d)
        assert abs(scaled.var().item() - 1) < 0.05
        assert abs(scaled.mean().item()) < 0.05


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("case", ["3-d", "4-d", "bool-mask", "float-mask", "causal-L<S", "scale-and-mask",
                                  "broadcast-key-value", "fully-masked-bool"])
def test_backward_matches_autograd(device, case):
    """dQ, dK, dV written out (the softmax Jacobian dS = W * (dW - rowsum(dW * W))) = autograd through torch."""
    q_shape, k_shape, v_shape, kwargs = SDPA_CASES[case]
    seed = sum(map(ord, case)) + 1
    kwargs = kwargs(device)
    q, k, v = (random(*s, seed=seed + i, device=device) for i, s in enumerate((q_shape, k_shape, v_shape)))
    inputs = [leaf(q), leaf(k), leaf(v)]
    out = F.scaled_dot_product_attention(*inputs, **kwargs)
    grad_output = random(*out.shape, seed=seed + 5, device=device)
    expected = torch.autograd.grad(out, inputs, grad_output)
    weights = attention_weights(q, k, **{key: kwargs[key] for key in kwargs if key != "enable_gqa"})
    ours = scaled_dot_product_attention_backward(grad_output, q, k, v, weights, kwargs.get("scale"))
    assert len(ours) == 3 and all(close(a, b) for a, b in zip(ours, expected))


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda q, k, v: scaled_dot_product_attention(q, k, v, attn_mask=torch.ones(3, 5, dtype=torch.bool),
                                                  is_causal=True), ValueError, "not both"),
    (lambda q, k, v: scaled_dot_product_attention(q, k, v, attn_mask=torch.ones(3, 5, dtype=torch.int64)),
     TypeError, r"attn_mask.bool\(\)"),
    (lambda q, k, v: scaled_dot_product_attention(q, k, v, attn_mask=torch.ones(4, 5, dtype=torch.bool)),
     ValueError, r"does not broadcast .* \[2, 3, 5\]"),
    (lambda q, k, v: scaled_dot_product_attention(q, k, v, attn_mask=torch.ones(3, 3, 5, dtype=torch.bool)),
     ValueError, "does not broadcast"),
    (lambda q, k, v: scaled_dot_product_attention(q, k[..., :3], v), ValueError, "same feature size"),
    (lambda q, k, v: scaled_dot_product_attention(q, k, v[:, :4]), ValueError, "same length S"),
    (lambda q, k, v: scaled_dot_product_attention(q[0, 0], k, v), ValueError, "at least 2-D"),
    (lambda q, k, v: scaled_dot_product_attention(q, k, v.float()), TypeError, "same dtype"),
    (lambda q, k, v: scaled_dot_product_attention(q, k, v.long()), TypeError, "floating point"),
    (lambda q, k, v: scaled_dot_product_attention(q.tolist(), k, v), TypeError, "torch.Tensor"),
    (lambda q, k, v: scaled_dot_product_attention(q, k[:1].expand(3, 5, 4), v), ValueError, "batch"),
    (lambda q, k, v: scaled_dot_product_attention(q, k, v, dropout_p=1.5), ValueError, r"in \[0, 1\]"),
    (lambda q, k, v: scaled_dot_product_attention(q[:, None].expand(2, 3, 3, 4), k[:, None].expand(2, 2, 5, 4),
                                                  v[:, None].expand(2, 2, 5, 3), enable_gqa=True),
     ValueError, "multiple of H_kv"),
    (lambda q, k, v: attention_weights(q, k, attn_mask=torch.ones(3, 5), is_causal=True), ValueError, "not both"),
])
def test_sdpa_errors(call, error, message):
    q, k, v = random(2, 3, 4, seed=0), random(2, 5, 4, seed=1), random(2, 5, 3, seed=2)
    with pytest.raises(error, match=message):
        call(q, k, v)


# ---------------------------------------------------------------- additive attention vs a loop
def additive_loop(query, key, value, w_q, w_k, w_v, mask=None):
    """e_ij = w_v . tanh(W_q q_i + W_k k_j), one pair at a time; softmax over j; c_i = sum_j a_ij v_j."""
    contexts, all_weights = [], []
    for n in range(query.shape[0]):
        rows_c, rows_a = [], []
        for i in range(query.shape[1]):
            scores = torch.stack([w_v[0] @ torch.tanh(w_q @ query[n, i] + w_k @ key[n, j])
                                  for j in range(key.shape[1])])
            if mask is not None:
                scores = scores.masked_fill(~mask[i], -math.inf)
            a = torch.exp(scores - scores.max()) / torch.exp(scores - scores.max()).sum()
            rows_a.append(a)
            rows_c.append(sum(a[j] * value[n, j] for j in range(key.shape[1])))
        contexts.append(torch.stack(rows_c))
        all_weights.append(torch.stack(rows_a))
    return torch.stack(contexts), torch.stack(all_weights)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("masked", [False, True])
def test_additive_attention_matches_loop(device, masked):
    """Context and weights equal the loop's; the gradients w.r.t. the inputs and W_q, W_k, w_v equal autograd
    through the loop."""
    torch.manual_seed(0)
    module = AdditiveAttention(3, 5, 4, device=device, dtype=F64)
    assert [name for name, _ in module.named_parameters()] == ["W_q.weight", "W_k.weight", "w_v.weight"]
    q, k, v = random(2, 3, 3, seed=1, device=device), random(2, 4, 5, seed=2, device=device), \
        random(2, 4, 2, seed=3, device=device)
    mask = bool_mask(3, 4, seed=4, device=device) if masked else None
    params = [module.W_q.weight, module.W_k.weight, module.w_v.weight]
    results = []
    for run in ("ours", "loop"):
        inputs = [leaf(q), leaf(k), leaf(v)]
        weights = [leaf(p) for p in params]
        if run == "ours":
            context, attn = additive_attention(*inputs, *weights, attn_mask=mask)
        else:
            context, attn = additive_loop(*inputs, *weights, mask)
        loss = (random(*context.shape, seed=5, device=device) * context).sum() + \
            (random(*attn.shape, seed=6, device=device) * attn).sum()
        results.append((context, attn, torch.autograd.grad(loss, inputs + weights)))
    (c1, a1, g1), (c2, a2, g2) = results
    assert close(c1, c2) and close(a1, a2) and all(close(a, b) for a, b in zip(g1, g2))
    context, attn = module(q, k, v, attn_mask=mask)
    assert context.shape == (2, 3, 2) and attn.shape == (2, 3, 4) and close(context, c1) and close(attn, a1)


def test_additive_attention_errors_and_fully_masked_row():
    module = AdditiveAttention(3, 5, 4, dtype=F64)
    q, k, v = random(2, 3, 3, seed=1), random(2, 4, 5, seed=2), random(2, 4, 2, seed=3)
    mask = torch.ones(3, 4, dtype=torch.bool)
    mask[0] = False
    context, attn = module(q, k, v, attn_mask=mask)
    assert torch.equal(attn[:, 0], torch.zeros(2, 4, dtype=F64)) and torch.equal(context[:, 0], torch.zeros(2, 2,
                                                                                                             dtype=F64))
    with pytest.raises(ValueError, match="query must be"):
        module(k, k, v)
    with pytest.raises(ValueError, match="same length S"):
        module(q, k, v[:, :3])
    with pytest.raises(TypeError, match="bool"):
        module(q, k, v, attn_mask=mask.long())
    with pytest.raises(ValueError, match="hidden size"):
        additive_attention(q, k, v, module.W_q.weight, module.W_k.weight[:3], module.w_v.weight)
    with pytest.raises(ValueError, match="positive int"):
        AdditiveAttention(3, 0, 4)


# ---------------------------------------------------------------- split and merge heads
@pytest.mark.parametrize("device", DEVICES)
def test_split_and_merge_heads(device):
    """split_heads(x, h)[n, i, l] = x[n, l, i d : (i + 1) d] (enumerated); merge_heads inverts it both ways."""
    x = random(2, 3, 12, seed=0, device=device)
    for h in (1, 2, 3, 4, 12):
        d = 12 // h
        heads = split_heads(x, h)
        assert heads.shape == (2, h, 3, d)
        for n in range(2):
            for i in range(h):
                for pos in range(3):
                    assert torch.equal(heads[n, i, pos], x[n, pos, i * d:(i + 1) * d])
        assert torch.equal(merge_heads(heads), x)
        y = random(2, h, 3, d, seed=h, device=device)
        assert torch.equal(split_heads(merge_heads(y), h), y)
    with pytest.raises(ValueError, match="divides E = 12"):
        split_heads(x, 5)
    with pytest.raises(ValueError, match=r"\(N, L, E\)"):
        split_heads(x[0], 2)
    with pytest.raises(ValueError, match=r"\(N, num_heads, L, d\)"):
        merge_heads(x)


# ---------------------------------------------------------------- MultiheadAttention vs nn.MultiheadAttention
CONFIGS = {
    "default": {},
    "no-bias": {"bias": False},
    "kdim-vdim": {"kdim": 3, "vdim": 5},
    "bias-kv": {"add_bias_kv": True},
    "zero-attn": {"add_zero_attn": True},
    "bias-kv-zero-attn-kdim": {"add_bias_kv": True, "add_zero_attn": True, "kdim": 6},
}


def pair(seed=0, device="cpu", embed_dim=8, num_heads=4, **kwargs):
    """Ours and torch's, built from the same seed."""
    torch.manual_seed(seed)
    theirs = nn.MultiheadAttention(embed_dim, num_heads, device=device, dtype=F64, **kwargs)
    torch.manual_seed(seed)
    ours = MultiheadAttention(embed_dim, num_heads, device=device, dtype=F64, **kwargs)
    return ours, theirs


@pytest.mark.parametrize("config", CONFIGS)
def test_mha_parameters_are_torchs(config):
    """The same names, shapes and order; with the same seed the same values (torch's initialisation);
    load_state_dict works both ways."""
    ours, theirs = pair(3, **CONFIGS[config])
    assert [(k, v.shape) for k, v in ours.state_dict().items()] == \
        [(k, v.shape) for k, v in theirs.state_dict().items()]
    assert all(torch.equal(a, b) for a, b in zip(ours.state_dict().values(), theirs.state_dict().values()))
    assert [name for name, _ in ours.named_parameters()] == [name for name, _ in theirs.named_parameters()]
    torch.manual_seed(11)
    other = MultiheadAttention(8, 4, dtype=F64, **CONFIGS[config])
    theirs.load_state_dict(other.state_dict())
    ours.load_state_dict(theirs.state_dict())
    assert all(torch.equal(a, b) for a, b in zip(ours.state_dict().values(), other.state_dict().values()))
    if "kdim" not in CONFIGS[config]:  # the init's statistics: xavier_uniform_ on (3E, E): bound sqrt(6 / 4E)
        assert ours.in_proj_weight.abs().max() <= math.sqrt(6 / (4 * 8))


# name -> (config, num_heads, batch_first, batched, L, S, need_weights, average, masks); masks: a subset of
# "attn" (bool (L, S)), "attn-other" (the same, not causal), "attn-float", "attn-3d" (bool (N h, L, S)),
# "kpm" (bool), "kpm-float", "causal" (the hint; with "attn" the mask is causal)
MHA_CASES = {
    "self": ("default", 4, False, True, 4, 4, True, True, ()),
    "one-head": ("default", 1, False, True, 3, 5, True, True, ("attn",)),
    "batch-first": ("default", 4, True, True, 3, 5, True, True, ("kpm",)),
    "per-head-weights": ("default", 4, True, True, 3, 5, True, False, ("attn-float", "kpm")),
    "no-weights": ("default", 4, False, True, 3, 5, False, True, ("attn", "kpm")),
    "no-weights-float": ("default", 2, True, True, 3, 5, False, True, ("attn-float", "kpm-float")),
    "3d-mask": ("default", 4, False, True, 3, 5, True, False, ("attn-3d",)),
    "3d-mask-no-weights": ("default", 4, True, True, 3, 5, False, True, ("attn-3d", "kpm")),
    "causal-hint": ("default", 4, True, True, 4, 4, False, True, ("attn", "causal")),
    "causal-hint-weights": ("default", 4, False, True, 4, 4, True, True, ("attn", "causal")),
    "causal-hint-other-mask": ("default", 4, False, True, 4, 4, False, True, ("attn-other", "causal")),
    "unbatched": ("default", 4, False, False, 3, 5, True, False, ("attn-3d", "kpm")),
    "unbatched-no-weights": ("default", 2, True, False, 3, 5, False, True, ("attn", "kpm")),
    "no-bias": ("no-bias", 4, False, True, 3, 5, True, True, ("kpm-float",)),
    "kdim-vdim": ("kdim-vdim", 4, True, True, 3, 5, True, False, ("attn", "kpm")),
    "kdim-vdim-no-weights": ("kdim-vdim", 1, False, True, 3, 5, False, True, ("attn-float",)),
    "bias-kv": ("bias-kv", 4, False, True, 3, 5, True, True, ("attn", "kpm")),
    "bias-kv-no-weights": ("bias-kv", 4, True, True, 3, 5, False, True, ("attn-3d", "kpm-float")),
    "zero-attn": ("zero-attn", 2, False, True, 3, 5, True, False, ("attn", "kpm")),
    "all-extras": ("bias-kv-zero-attn-kdim", 4, True, True, 3, 5, False, True, ("attn", "kpm")),
    "all-extras-weights": ("bias-kv-zero-attn-kdim", 4, False, False, 3, 5, True, True, ("attn-float", "kpm")),
}


def mha_inputs(case, device, module):
    """query, key, value in the module's layout and the forward's keyword arguments."""
    config, heads, batch_first, batched, L, S, need_weights, average, masks = MHA_CASES[case]
    seed, N = sum(map(ord, case)), 2
    E, kdim, vdim = module.embed_dim, module.kdim, module.vdim

    def layout(length, size, s):
        shape = ((N, length) if batch_first else (length, N)) if batched else (length,)
        return random(*shape, size, seed=s, device=device)

    query = layout(L, E, seed)
    key, value = (query, query) if case == "self" else (layout(S, kdim, seed + 1), layout(S, vdim, seed + 2))
    kwargs = {"need_weights": need_weights, "average_attn_weights": average}
    n = N if batched else 1
    blocked = ~bool_mask(n * heads, L, S, seed=seed + 3, device=device)  # column 0 never blocked
    if "attn" in masks:
        kwargs["attn_mask"] = ~causal_mask(L, S, device) if "causal" in masks else blocked[0]
    if "attn-other" in masks:  # torch then uses the causal mask instead: the hint wins
        kwargs["attn_mask"] = blocked[0]
    if "attn-float" in masks:
        kwargs["attn_mask"] = float_mask(L, S, seed=seed + 4, device=device)
    if "attn-3d" in masks:
        kwargs["attn_mask"] = blocked
    kpm = ~bool_mask(n, S, seed=seed + 5, device=device)
    if "kpm" in masks:
        kwargs["key_padding_mask"] = kpm if batched else kpm[0]
    if "kpm-float" in masks:
        kwargs["key_padding_mask"] = float_mask(n, S, seed=seed + 6, device=device)
    kwargs["is_causal"] = "causal" in masks
    return query, key, value, kwargs


@pytest.mark.filterwarnings("ignore:Support for mismatched key_padding_mask and attn_mask is deprecated")
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("case", MHA_CASES)
def test_mha_matches_torch(device, case):
    """After load_state_dict: the output, the weights, and the gradients w.r.t. query, key, value and every
    parameter equal torch's at 1e-10."""
    config, heads, batch_first = MHA_CASES[case][:3]
    ours, theirs = pair(sum(map(ord, case)), device, num_heads=heads, batch_first=batch_first, **CONFIGS[config])
    torch.manual_seed(99)  # a state torch did not draw, with non-zero biases
    theirs.load_state_dict({k: torch.randn_like(v) for k, v in theirs.state_dict().items()})
    ours.load_state_dict(theirs.state_dict())
    query, key, value, kwargs = mha_inputs(case, device, ours)
    results = []
    for module in (ours, theirs):
        inputs = [leaf(query)] if case == "self" else [leaf(query), leaf(key), leaf(value)]
        out, weights = module(inputs[0], inputs[-2 if len(inputs) == 3 else 0], inputs[-1], **kwargs)
        loss = (random(*out.shape, seed=1, device=device) * out).sum()
        if weights is not None:
            loss = loss + (random(*weights.shape, seed=2, device=device) * weights).sum()
        results.append((out, weights, torch.autograd.grad(loss, inputs + list(module.parameters()))))
    (out1, w1, g1), (out2, w2, g2) = results
    assert close(out1, out2)
    assert (w1 is None) == (w2 is None) == (not kwargs["need_weights"])
    assert w1 is None or close(w1, w2)
    assert len(g1) == len(g2) and all(close(a, b) for a, b in zip(g1, g2))


@pytest.mark.parametrize("device", DEVICES)
def test_mha_fully_masked_row_like_torch(device):
    """A query whose every key is blocked: with need_weights=True torch's plain softmax gives NaN in that row of
    the output and the weights, and so do we (the same positions); with need_weights=False torch's
    scaled_dot_product_attention gives 0, so the output row is out_proj's bias, with finite gradients: ours too."""
    ours, theirs = pair(5, device, batch_first=True)
    with torch.no_grad():
        theirs.out_proj.bias.normal_()
    ours.load_state_dict(theirs.state_dict())
    x = random(2, 3, 8, seed=0, device=device)
    mask = torch.zeros(3, 3, dtype=torch.bool, device=device)
    mask[1] = True  # query 1 sees nothing
    (o1, w1), (o2, w2) = ours(x, x, x, attn_mask=mask), theirs(x, x, x, attn_mask=mask)
    for a, b in ((o1, o2), (w1, w2)):
        assert torch.equal(torch.isnan(a), torch.isnan(b)) and torch.isnan(a[:, 1]).all()
        assert torch.isfinite(a[:, [0, 2]]).all() and torch.allclose(a, b, equal_nan=True, **TOL)
    results = []
    for module in (ours, theirs):
        xin = leaf(x)
        out, _ = module(xin, xin, xin, attn_mask=mask, need_weights=False)
        results.append((out, torch.autograd.grad(out.sum(), [xin, *module.parameters()])))
    (o1, g1), (o2, g2) = results
    assert close(o1, o2) and torch.allclose(o1[:, 1], ours.out_proj.bias.expand(2, 8), **TOL)
    assert all(close(a, b) and torch.isfinite(a).all() for a, b in zip(g1, g2))


def test_mha_dropout_draws_torchs_masks():
    """In training, with the same seed on the CPU, the dropped weights are torch's on both paths (and the weights
    returned are the dropped ones, as torch's); in eval there is no dropout."""
    ours, theirs = pair(2, dropout=0.4)
    x, y = random(3, 2, 8, seed=0), random(5, 2, 8, seed=1)
    for need_weights in (True, False):
        torch.manual_seed(5)
        out1, w1 = ours(x, y, y, need_weights=need_weights)
        torch.manual_seed(5)
        out2, w2 = theirs(x, y, y, need_weights=need_weights)
        assert close(out1, out2) and (w1 is None or close(w1, w2))
    reference = ours.eval()(x, y, y)[0]
    assert not torch.allclose(out1, reference)
    assert close(reference, theirs.eval()(x, y, y)[0])


@pytest.mark.parametrize(("build", "message"), [
    (lambda: MultiheadAttention(10, 4), "divisible by num_heads"),
    (lambda: MultiheadAttention(0, 1), "embed_dim must be a positive int"),
    (lambda: MultiheadAttention(8, 0), "num_heads must be a positive int"),
    (lambda: MultiheadAttention(8, 2, kdim=-1), "kdim must be a positive int"),
    (lambda: MultiheadAttention(8, 2, dropout=1.5), r"in \[0, 1\]"),
])
def test_mha_constructor_errors(build, message):
    with pytest.raises(ValueError, match=message):
        build()


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"attn_mask": torch.zeros(3, 4, dtype=torch.bool)}, ValueError, r"attn_mask must be \(L, S\) = \(3, 5\)"),
    ({"attn_mask": torch.zeros(2, 3, 5, dtype=torch.bool)}, ValueError, r"\(N \* num_heads, L, S\) = \(4, 3, 5\)"),
    ({"attn_mask": torch.zeros(3, 5, dtype=torch.int64)}, TypeError, r"True = BLOCKED.*attn_mask.bool\(\)"),
    ({"key_padding_mask": torch.zeros(2, 5, dtype=torch.int32)}, TypeError, r"key_padding_mask.bool\(\)"),
    ({"key_padding_mask": torch.zeros(5, 2, dtype=torch.bool)}, ValueError, r"key_padding_mask must be \(N, S\)"),
    ({"is_causal": True}, ValueError, "pass attn_mask too"),
])
def test_mha_forward_errors(kwargs, error, message):
    module = MultiheadAttention(8, 2, dtype=F64)
    x, y = random(3, 2, 8, seed=0), random(5, 2, 8, seed=1)
    with pytest.raises(error, match=message):
        module(x, y, y, **kwargs)


def test_mha_input_errors():
    module = MultiheadAttention(8, 2, kdim=4, dtype=F64)
    x, y, z = random(3, 2, 8, seed=0), random(5, 2, 4, seed=1), random(5, 2, 8, seed=2)
    with pytest.raises(ValueError, match=r"all be 3-D"):
        module(x[0, 0], y, z)
    with pytest.raises(ValueError, match=r"query's embedding dimension .* embed_dim = 8"):
        module(x[..., :4], y, z)
    with pytest.raises(ValueError, match=r"key's embedding dimension .* kdim = 4"):
        module(x, z, z)
    with pytest.raises(ValueError, match="same length S and batch size N"):
        module(x, y[:4], z)
    with pytest.raises(ValueError, match="same length S and batch size N"):
        module(x[:, :1], y, z)
    with pytest.raises(TypeError, match="must be tensors"):
        module(x.tolist(), y, z)
