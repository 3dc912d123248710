"""helpers.models.transformer against torch.

TransformerBlock against nn.TransformerEncoderLayer (with the book's MultiheadAttention inside, and with torch's):
same seed -> same parameters, load_state_dict both ways, outputs and the gradients w.r.t. the input and every
parameter in float64 at 1e-10, pre- and post-norm, every kind of mask, batch first or not, activations, no
bias, train and eval modes; in eval mode under no_grad torch takes its fused fast path (spied on here) and
still agrees; dropout > 0 draws the same masks in the same order as torch's layer.
TinyTransformer against the same model assembled from torch's parts (embedding + the encoding written out +
nn.TransformerEncoderLayer + LayerNorm + Linear), its attention maps against nn.MultiheadAttention's weights,
permutation equivariance without positions (and its loss with them), causality, and a short training run
on the reversal task: with positions it learns, without it stays near chance's best guess."""

import math

import pytest
import torch
import torch.nn.functional as F
from tensors import DEVICES, F64, TOL, leaf, random
from torch import nn

from helpers.data import reversal_task
from helpers.models.transformer import TinyTransformer, TransformerBlock
from helpers.nn.attention.multihead import MultiheadAttention

ATTENTIONS = {"ours": MultiheadAttention, "torch": nn.MultiheadAttention}
E, H, FF, N, L = 8, 2, 16, 3, 5


def pair(attention="ours", seed=0, device="cpu", **kwargs):
    """Ours and torch's layer, built from the same seed, in float64."""
    kwargs = {"dropout": 0.0, "batch_first": True, "norm_first": True, **kwargs}
    torch.manual_seed(seed)
    theirs = nn.TransformerEncoderLayer(E, H, FF, device=device, dtype=F64, **kwargs)
    torch.manual_seed(seed)
    ours = TransformerBlock(E, H, FF, device=device, dtype=F64, attention=ATTENTIONS[attention], **kwargs)
    return ours, theirs


def masks(kind, device="cpu", batch_first=True):
    """The forward's keyword arguments for each kind of mask (True = blocked, as nn.MultiheadAttention)."""
    g = torch.Generator().manual_seed(7)
    blocked = torch.rand(L, L, generator=g) < 0.4
    blocked.fill_diagonal_(False)  # every query keeps at least itself
    padding = torch.zeros(N, L, dtype=torch.bool)
    padding[0, 3:] = True
    padding[2, 1] = True
    return {
        "none": {},
        "bool-mask": {"src_mask": blocked.to(device)},
        "float-mask": {"src_mask": random(L, L, seed=8, device=device)},
        "causal": {"src_mask": nn.Transformer.generate_square_subsequent_mask(L, device=device, dtype=F64),
                   "is_causal": True},
        "padding": {"src_key_padding_mask": padding.to(device)},
        "mask-and-padding": {"src_mask": blocked.to(device), "src_key_padding_mask": padding.to(device)},
    }[kind]


def compare(ours, theirs, x, **kw):
    """Outputs and the gradients of a random weighting w.r.t. x and every parameter agree at 1e-10."""
    xo, xt = leaf(x), leaf(x)
    yo, yt = ours(xo, **kw), theirs(xt, **kw)
    assert yo.shape == yt.shape and torch.allclose(yo, yt, **TOL)
    w = random(*yo.shape, seed=99, device=x.device)
    (yo * w).sum().backward()
    (yt * w).sum().backward()
    assert torch.allclose(xo.grad, xt.grad, **TOL)
    theirs_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        assert torch.allclose(p.grad, theirs_params[name].grad, **TOL), name


# -------------------------------------------------------------------- TransformerBlock vs TransformerEncoderLayer
@pytest.mark.parametrize("attention", ATTENTIONS)
@pytest.mark.parametrize("norm_first", [True, False])
def test_same_seed_same_parameters_and_names(attention, norm_first):
    ours, theirs = pair(attention, norm_first=norm_first)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for (name, a), b in zip(ours.state_dict().items(), theirs.state_dict().values()):
        assert torch.equal(a, b), name
    # and load_state_dict works both ways
    other, _ = pair(attention, seed=1, norm_first=norm_first)
    assert not torch.equal(other.self_attn.in_proj_weight, theirs.self_attn.in_proj_weight)
    other.load_state_dict(theirs.state_dict())
    assert all(torch.equal(a, b) for a, b in zip(other.state_dict().values(), theirs.state_dict().values()))
    donor, _ = pair(attention, seed=2, norm_first=norm_first)
    theirs.load_state_dict(donor.state_dict())
    assert all(torch.equal(a, b) for a, b in zip(donor.state_dict().values(), theirs.state_dict().values()))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("mode", ["train", "eval"])
@pytest.mark.parametrize("mask", ["none", "bool-mask", "float-mask", "causal", "padding", "mask-and-padding"])
@pytest.mark.parametrize("norm_first", [True, False])
def test_block_matches_torch(device, mode, mask, norm_first):
    ours, theirs = pair(norm_first=norm_first, device=device)
    ours.train(mode == "train")
    theirs.train(mode == "train")
    compare(ours, theirs, random(N, L, E, seed=1, device=device), **masks(mask, device))


@pytest.mark.parametrize("norm_first", [True, False])
def test_block_with_torchs_attention_inside_matches_torch(norm_first):
    ours, theirs = pair("torch", norm_first=norm_first)
    compare(ours, theirs, random(N, L, E, seed=2), **masks("mask-and-padding"))


@pytest.mark.parametrize(("option", "kwargs"), [
    ("gelu", {"activation": "gelu"}),
    ("callable", {"activation": torch.tanh}),
    ("no-bias", {"bias": False}),
    ("sequence-first", {"batch_first": False}),
    ("eps", {"layer_norm_eps": 1e-2}),
    ("wide", {"dim_feedforward": 2048}),
])
@pytest.mark.parametrize("norm_first", [True, False])
def test_block_options_match_torch(option, kwargs, norm_first):
    if option == "wide":  # dim_feedforward is positional in pair(); build these two directly
        torch.manual_seed(0)
        theirs = nn.TransformerEncoderLayer(E, H, 2048, dropout=0.0, batch_first=True, norm_first=norm_first,
                                            dtype=F64)
        torch.manual_seed(0)
        ours = TransformerBlock(E, H, 2048, norm_first=norm_first, dtype=F64)
    else:
        ours, theirs = pair(norm_first=norm_first, **kwargs)
    x = random(N, L, E, seed=3)
    if option == "sequence-first":
        x = x.transpose(0, 1).contiguous()
    compare(ours, theirs, x, src_mask=masks("bool-mask")["src_mask"])


def test_unbatched_input_matches_torch():
    ours, theirs = pair()
    compare(ours, theirs, random(L, E, seed=4))


@pytest.mark.parametrize("norm_first", [True, False])
@pytest.mark.parametrize("mask", ["none", "padding", "causal"])
def test_eval_without_grad_agrees_with_torchs_fast_path(monkeypatch, norm_first, mask):
    """In eval mode under no_grad torch's layer calls the fused kernel (even in float64, on the CPU): we spy on it
    to be sure the comparison is with that path, and ours still agrees at 1e-10."""
    calls = []
    fused = torch._transformer_encoder_layer_fwd
    monkeypatch.setattr(torch, "_transformer_encoder_layer_fwd", lambda *a, **k: calls.append(1) or fused(*a, **k))
    ours, theirs = pair(norm_first=norm_first)
    ours.eval()
    theirs.eval()
    x = random(N, L, E, seed=5)
    kw = masks(mask)
    kw.pop("is_causal", None)  # the fast path reads the mask itself
    with torch.no_grad():
        yo, yt = ours(x, **kw), theirs(x, **kw)
    assert calls == [1]
    assert torch.allclose(yo, yt, **TOL)


@pytest.mark.parametrize("norm_first", [True, False])
def test_dropout_draws_the_same_masks_as_torch(norm_first):
    """With torch's attention inside, ours applies dropout, dropout1 and dropout2 where torch does, in the same
    order: same seed before the forward -> the same output and gradients."""
    ours, theirs = pair("torch", norm_first=norm_first, dropout=0.3)
    x = random(N, L, E, seed=6)
    xo, xt = leaf(x), leaf(x)
    torch.manual_seed(11)
    yo = ours(xo)
    torch.manual_seed(11)
    yt = theirs(xt)
    assert torch.allclose(yo, yt, **TOL)
    yo.sum().backward()
    yt.sum().backward()
    assert torch.allclose(xo.grad, xt.grad, **TOL)
    # dropout is active: the output is not the eval-mode output
    assert not torch.allclose(yo, ours.eval()(x))


def test_dropout_with_our_attention_is_off_in_eval_and_on_in_training():
    ours, theirs = pair(dropout=0.3)
    x = random(N, L, E, seed=7)
    ours.eval()
    theirs.eval()
    compare(ours, theirs, x)
    ours.train()
    torch.manual_seed(0)
    first = ours(x)
    torch.manual_seed(0)
    assert torch.equal(first, ours(x))  # seeded: reproducible
    assert not torch.allclose(first, ours.eval()(x))


def test_attention_weights_are_torchs():
    ours, theirs = pair(norm_first=True)
    x = random(N, L, E, seed=8)
    for average in (True, False):
        w = ours.attention_weights(x, average_attn_weights=average, **masks("mask-and-padding"))
        mha_input = theirs.norm1(x)  # pre-norm: attention reads LN_1(x)
        kw = masks("mask-and-padding")
        expected = theirs.self_attn(mha_input, mha_input, mha_input, attn_mask=kw["src_mask"],
                                    key_padding_mask=kw["src_key_padding_mask"], average_attn_weights=average)[1]
        assert w.shape == ((N, L, L) if average else (N, H, L, L)) and torch.allclose(w, expected, **TOL)
    post, post_theirs = pair(norm_first=False)
    expected = post_theirs.self_attn(x, x, x)[1]  # post-norm: attention reads x itself
    assert torch.allclose(post.attention_weights(x), expected, **TOL)


def test_block_errors():
    with pytest.raises(ValueError, match="relu"):
        TransformerBlock(E, H, activation="swish")
    with pytest.raises(TypeError, match="relu"):
        TransformerBlock(E, H, activation=3)


# --------------------------------------------------------------------------------------------- TinyTransformer
def torch_twin(model, norm_first=True):
    """The same model from torch's parts, with our model's weights; the sinusoidal encoding written out."""
    blocks = []
    for layer in model.layers:
        t = nn.TransformerEncoderLayer(layer.linear1.in_features, layer.self_attn.num_heads,
                                       layer.linear1.out_features, dropout=0.0, batch_first=True,
                                       norm_first=norm_first, dtype=F64)
        t.load_state_dict(layer.state_dict())
        blocks.append(t)
    d = model.embedding.embedding_dim

    def run(tokens, mask=None):
        length = tokens.shape[1]
        pe = torch.tensor([[math.sin(p / 10000 ** (2 * (i // 2) / d)) if i % 2 == 0 else
                            math.cos(p / 10000 ** (2 * (i // 2) / d)) for i in range(d)] for p in range(length)],
                          dtype=F64)
        x = F.embedding(tokens, model.embedding.weight) + (pe if model.positions == "sinusoidal" else 0)
        for t in blocks:
            x = t(x, src_mask=mask)
        if norm_first:
            x = F.layer_norm(x, (d,), model.norm.weight, model.norm.bias)
        return F.linear(x, model.head.weight, model.head.bias), blocks

    return run


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(("norm_first", "positions", "layers"), [(True, "sinusoidal", 1), (False, "sinusoidal", 2),
                                                                 (True, None, 2)])
def test_tiny_transformer_is_its_torch_twin(device, norm_first, positions, layers):
    torch.manual_seed(0)
    model = TinyTransformer(10, d_model=16, nhead=4, num_layers=layers, dim_feedforward=24, max_len=12,
                            positions=positions, norm_first=norm_first, dtype=F64)
    tokens = torch.randint(0, 10, (4, 9), generator=torch.Generator().manual_seed(1))
    expected, _ = torch_twin(model, norm_first)(tokens)
    model.to(device)
    logits = model(tokens.to(device))
    assert logits.shape == (4, 9, 10) and logits.device.type == device
    assert torch.allclose(logits.cpu(), expected, **TOL)
    assert isinstance(model.norm, nn.LayerNorm if norm_first else nn.Identity)


def test_tiny_transformer_attention_maps_are_torchs():
    torch.manual_seed(0)
    model = TinyTransformer(10, d_model=16, nhead=4, num_layers=2, dim_feedforward=24, max_len=12, dtype=F64)
    tokens = torch.randint(0, 10, (3, 7), generator=torch.Generator().manual_seed(2))
    maps = model.attention_maps(tokens)
    per_head = model.attention_maps(tokens, average_heads=False)
    assert maps.shape == (2, 3, 7, 7) and per_head.shape == (2, 3, 4, 7, 7)
    assert torch.allclose(maps.sum(-1), torch.ones(2, 3, 7, dtype=F64), **TOL)
    _, blocks = torch_twin(model)(tokens)
    x = model.embed(tokens)
    for layer, t in enumerate(blocks):
        h = t.norm1(x)
        assert torch.allclose(maps[layer], t.self_attn(h, h, h)[1], **TOL)
        assert torch.allclose(per_head[layer], t.self_attn(h, h, h, average_attn_weights=False)[1], **TOL)
        x = t(x)
    logits, listed = model(tokens, return_attention=True)
    assert torch.allclose(logits, model(tokens), **TOL)
    assert len(listed) == 2 and all(torch.allclose(a, b, **TOL) for a, b in zip(listed, maps))


def test_causal_model_ignores_the_future():
    torch.manual_seed(0)
    model = TinyTransformer(10, d_model=16, nhead=4, num_layers=2, dim_feedforward=24, max_len=12, dtype=F64)
    tokens = torch.randint(0, 10, (2, 8), generator=torch.Generator().manual_seed(3))
    changed = tokens.clone()
    changed[:, 5:] = (changed[:, 5:] + 1) % 10
    a, b = model(tokens, causal=True), model(changed, causal=True)
    assert torch.allclose(a[:, :5], b[:, :5], **TOL) and not torch.allclose(a[:, 5:], b[:, 5:])
    expected, _ = torch_twin(model)(tokens, mask=nn.Transformer.generate_square_subsequent_mask(8, dtype=F64))
    assert torch.allclose(a, expected, **TOL)
    maps = model.attention_maps(tokens, causal=True)
    assert maps.triu(1).eq(0).all()


@pytest.mark.parametrize("causal", [False, True])
def test_features_are_what_the_classifier_reads(causal):
    # the twin's logits are F.linear(features, head): recover its features by solving with the head's weights
    torch.manual_seed(0)
    model = TinyTransformer(10, d_model=8, nhead=2, num_layers=2, dim_feedforward=16, max_len=12, num_classes=20,
                            dtype=F64)
    tokens = torch.randint(0, 10, (3, 7), generator=torch.Generator().manual_seed(6))
    mask = nn.Transformer.generate_square_subsequent_mask(7, dtype=F64) if causal else None
    logits, _ = torch_twin(model)(tokens, mask=mask)
    targets = (logits - model.head.bias.detach()).reshape(-1, 20).T  # (20 classes, 21 positions)
    twin_features = torch.linalg.lstsq(model.head.weight.detach(), targets).solution.T.reshape(3, 7, 8)
    features = model.features(tokens, causal=causal)
    assert features.shape == (3, 7, 8)
    assert torch.allclose(features, twin_features, **TOL)
    changed = tokens.clone()
    changed[:, 0] = (changed[:, 0] + 1) % 10  # the first token changes every later position's features
    assert not torch.allclose(model.features(changed, causal=causal)[:, -1], features[:, -1])


@pytest.mark.parametrize("positions", [None, "sinusoidal", "learned"])
def test_without_positions_the_model_is_permutation_equivariant(positions):
    torch.manual_seed(0)
    model = TinyTransformer(10, d_model=16, nhead=4, num_layers=2, dim_feedforward=24, max_len=12,
                            positions=positions, dtype=F64)
    tokens = torch.randint(0, 10, (3, 8), generator=torch.Generator().manual_seed(4))
    perm = torch.randperm(8, generator=torch.Generator().manual_seed(5))
    logits, shuffled = model(tokens), model(tokens[:, perm])
    equivariant = torch.allclose(shuffled, logits[:, perm], **TOL)
    assert equivariant == (positions is None)


def test_learned_positions_are_a_second_embedding_table():
    torch.manual_seed(0)
    model = TinyTransformer(10, d_model=16, nhead=4, max_len=12, positions="learned", dtype=F64)
    tokens = torch.randint(0, 10, (2, 6), generator=torch.Generator().manual_seed(6))
    assert model.position.weight.shape == (12, 16) and model.position.weight.requires_grad
    expected = model.embedding.weight[tokens] + model.position.weight[:6]
    assert torch.allclose(model.embed(tokens), expected, **TOL)


def test_num_classes_sets_the_head():
    assert TinyTransformer(10, num_classes=3)(torch.zeros(2, 4, dtype=torch.int64)).shape == (2, 4, 3)


@pytest.mark.parametrize(("kwargs", "tokens", "words"), [
    ({"positions": "rotary"}, None, "positions must be"),
    ({"num_layers": 0}, None, "num_layers"),
    ({"max_len": 4}, torch.zeros(1, 5, dtype=torch.int64), "max_len=4"),
    ({}, torch.zeros(1, 5), "int64"),
    ({}, torch.zeros(5, dtype=torch.int64), r"\(N, L\)"),
])
def test_tiny_transformer_errors(kwargs, tokens, words):
    with pytest.raises(ValueError, match=words):
        TinyTransformer(10, **kwargs)(tokens)


# ---------------------------------------------------------------------------------------------- the reversal task
def train_reversal(positions, steps, seed=0):
    torch.manual_seed(seed)
    model = TinyTransformer(10, d_model=32, nhead=4, dim_feedforward=64, max_len=8, positions=positions)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    g = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        x, y = reversal_task(64, 8, 10, generator=g)
        loss = F.cross_entropy(model(x).flatten(0, 1), y.flatten())
        opt.zero_grad()
        loss.backward()
        opt.step()
    x, y = reversal_task(1000, 8, 10, seed=123)
    with torch.no_grad():
        return model, (model(x).argmax(-1) == y).double().mean().item(), x


def test_reversal_is_learned_with_positions_and_not_without():
    model, accuracy, x = train_reversal("sinusoidal", steps=200)  # 100% from ~200 steps (4 seeds measured)
    assert accuracy > 0.99
    maps = model.attention_maps(x[:200])[0].mean(0)  # (8, 8), averaged over sequences
    assert torch.equal(maps.argmax(1), torch.arange(7, -1, -1))  # each position reads its mirror: anti-diagonal
    _, blind, _ = train_reversal(None, steps=100)  # a plateau from ~100 steps
    assert 0.25 < blind < blind_ceiling(8, 10) + 0.02


def blind_ceiling(length, vocab):
    """The best token accuracy without positions. The model sees the multiset of tokens and its own token; the
    mirror token is, by symmetry, a uniform pick among the other length - 1, so the best guess is their most
    common symbol, right with probability E[max count] / (length - 1) over length - 1 uniform draws.
    Enumerated over the count vectors, each with its multinomial probability."""

    def counts(n, k):
        if k == 1:
            yield (n,)
            return
        for first in range(n + 1):
            for rest in counts(n - first, k - 1):
                yield (first, *rest)

    n = length - 1
    expected_max = sum(math.factorial(n) / math.prod(math.factorial(c) for c in cs) * max(cs)
                       for cs in counts(n, vocab)) / vocab**n
    return expected_max / n


def test_blind_ceiling_is_about_31_percent():
    assert blind_ceiling(8, 10) == pytest.approx(0.31717, abs=1e-5)
    assert blind_ceiling(2, 10) == pytest.approx(1.0)  # one other token: its symbol is known
    assert blind_ceiling(3, 2) == pytest.approx(0.75)  # two coin flips: the majority is right 3/4 of the time
