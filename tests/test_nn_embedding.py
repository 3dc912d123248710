"""helpers.nn.embedding against torch and brute force: the table against F.embedding / nn.Embedding (values,
gradients, padding_idx, max_norm, load_state_dict, repr, from_pretrained) and one_hot @ W; the pairs against
enumerations written here; the losses against F.binary_cross_entropy_with_logits and F.cross_entropy, their
gradients against autograd; the noise distribution against its closed form and a large sample; SkipGram and
CBOW against lookups done by hand; the similarities against scikit-learn."""

import itertools
import random as pyrandom
from collections import Counter

import pytest
import torch
import torch.nn.functional as F
from sklearn.metrics.pairwise import cosine_similarity
from tensors import DEVICES, F64, TOL, close, leaf, random
from torch import nn

from helpers.nn.embedding import (
    CBOW,
    Embedding,
    SkipGram,
    bigram_counts,
    bigram_pairs,
    cbow_pairs,
    cosine_similarity_matrix,
    embedding,
    nearest_neighbours,
    negative_sampling_backward,
    negative_sampling_loss,
    noise_distribution,
    one_hot_embedding,
    sample_negatives,
    skipgram_pairs,
    skipgram_softmax_loss,
)


def ids(*shape, high, seed=0, device="cpu"):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(high, shape, generator=g).to(device)


# ---------------------------------------------------------------- the table
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("padding_idx", [None, 0, 3, -2])
@pytest.mark.parametrize("shape", [(), (7,), (3, 5), (2, 2, 4)])
def test_embedding_matches_F_embedding_values_and_gradients(device, padding_idx, shape):
    V, D = 6, 4
    weight = random(V, D, seed=1, device=device)
    x = ids(*shape, high=V, seed=2, device=device)
    if padding_idx is not None:  # make sure the padding id occurs
        x = x.clone().view(-1)
        x[0] = padding_idx % V
        x = x.view(shape)
    results = []
    for f in (embedding, F.embedding):
        w = leaf(weight)
        out = f(x, w, padding_idx=padding_idx)
        loss = (random(*out.shape, seed=3, device=device) * out).sum()
        results.append((out, torch.autograd.grad(loss, w)[0]))
    (ours, ours_grad), (theirs, their_grad) = results
    assert close(ours, theirs) and close(ours_grad, their_grad)
    assert ours.shape == (*shape, D)
    if padding_idx is not None:
        assert torch.equal(ours_grad[padding_idx], torch.zeros(D, dtype=F64, device=device))
        assert torch.equal(ours.reshape(-1, D)[0], weight[padding_idx])  # the value is the row, not zeros


def test_embedding_gradient_is_the_sum_over_occurrences():
    """dL/dW[i] = sum of dL/dout at the positions holding i; rows never looked up get 0 (by hand)."""
    weight = leaf(random(5, 3, seed=0))
    x = torch.tensor([[1, 3, 1], [1, 0, 3]])
    g = random(2, 3, 3, seed=1)
    (embedding(x, weight) * g).sum().backward()
    expected = torch.zeros(5, 3, dtype=F64)
    for (b, t), i in zip(itertools.product(range(2), range(3)), x.flatten().tolist()):
        expected[i] += g[b, t]
    assert torch.allclose(weight.grad, expected, **TOL) and not weight.grad[[2, 4]].any()


@pytest.mark.parametrize("norm_type", [1.0, 2.0, 3.0])
def test_max_norm_renormalises_in_place_as_torch(norm_type):
    weight = random(8, 4, seed=4) * 2
    x = torch.tensor([[0, 2, 2], [5, 7, 0]])
    ours_w, their_w = weight.clone(), weight.clone()
    ours = embedding(x, ours_w, max_norm=1.5, norm_type=norm_type)
    theirs = F.embedding(x, their_w, max_norm=1.5, norm_type=norm_type)
    assert close(ours, theirs) and close(ours_w, their_w)
    assert not torch.equal(ours_w, weight)  # some row was too long and was shortened
    untouched = [1, 3, 4, 6]
    assert torch.equal(ours_w[untouched], weight[untouched])
    norms = torch.linalg.vector_norm(ours_w[[0, 2, 5, 7]], ord=norm_type, dim=1)
    assert (norms <= 1.5 + 1e-9).all()


@pytest.mark.parametrize("device", DEVICES)
def test_one_hot_times_weight_is_the_row_lookup(device):
    """The teaching point: e_i^T W = W[i], values and gradients (torch's one_hot and F.embedding as oracles)."""
    weight = random(7, 5, seed=5, device=device)
    x = ids(4, 3, high=7, seed=6, device=device)
    by_matmul = F.one_hot(x, 7).to(F64) @ weight
    assert close(by_matmul, F.embedding(x, weight))
    results = []
    for f in (one_hot_embedding, embedding):
        w = leaf(weight)
        out = f(x, w)
        results.append((out, torch.autograd.grad((out**2).sum(), w)[0]))
    assert close(results[0][0], by_matmul) and all(close(a, b) for a, b in zip(*results))


@pytest.mark.parametrize("padding_idx", [None, 2, -1])
def test_Embedding_is_nn_Embedding(padding_idx):
    """Same seed -> the same weight (N(0, 1), padding row zeroed); load_state_dict both ways; outputs,
    gradients and repr as torch."""
    torch.manual_seed(0)
    theirs = nn.Embedding(6, 3, padding_idx=padding_idx, dtype=F64)
    torch.manual_seed(0)
    ours = Embedding(6, 3, padding_idx=padding_idx, dtype=F64)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight"]
    assert torch.equal(ours.weight, theirs.weight) and ours.padding_idx == theirs.padding_idx
    assert repr(ours) == repr(theirs)
    if padding_idx is not None:
        assert not ours.weight[padding_idx].any()
    other = Embedding(6, 3, padding_idx=padding_idx, dtype=F64)
    other.load_state_dict(theirs.state_dict())
    fresh = nn.Embedding(6, 3, padding_idx=padding_idx, dtype=F64)
    fresh.load_state_dict(other.state_dict())
    assert torch.equal(fresh.weight, theirs.weight)
    x = torch.tensor([[0, 5, 2, 2], [1, 5, 4, 3]])
    results = []
    for module in (ours, theirs):
        out = module(x)
        results.append((out, torch.autograd.grad((out.sin() * random(*out.shape, seed=1)).sum(), module.weight)[0]))
    assert all(close(a, b) for a, b in zip(*results))


def test_Embedding_init_is_standard_normal_and_options_show_in_repr():
    w = Embedding(400, 50).weight.detach()
    assert w.dtype == torch.float32 and abs(w.mean()) < 0.02 and abs(w.std() - 1) < 0.02
    options = {"padding_idx": 0, "max_norm": 1.0, "norm_type": 1.0}
    assert repr(Embedding(4, 2, **options)) == repr(nn.Embedding(4, 2, **options))


def test_from_pretrained_as_torch():
    table = random(4, 3, seed=2)
    for freeze in (True, False):
        ours = Embedding.from_pretrained(table, freeze=freeze, padding_idx=1)
        theirs = nn.Embedding.from_pretrained(table, freeze=freeze, padding_idx=1)
        assert torch.equal(ours.weight, theirs.weight) and ours.weight.requires_grad == theirs.weight.requires_grad
        assert torch.equal(ours.weight[1], table[1])  # not zeroed
        assert close(ours(torch.tensor([1, 3])), theirs(torch.tensor([1, 3])))


def test_table_errors():
    w = random(4, 2)
    with pytest.raises(TypeError, match="tensor of ids"):
        embedding(torch.tensor([0.0, 1.0]), w)
    with pytest.raises(IndexError, match=r"0\.\.3"):
        embedding(torch.tensor([0, 4]), w)
    with pytest.raises(IndexError, match=r"0\.\.3"):
        embedding(torch.tensor([-1]), w)
    with pytest.raises(ValueError, match="Padding_idx"):
        embedding(torch.tensor([0]), w, padding_idx=4)
    with pytest.raises(ValueError, match="Padding_idx"):
        Embedding(4, 2, padding_idx=-5)
    with pytest.raises(ValueError, match="not implemented"):
        embedding(torch.tensor([0]), w, scale_grad_by_freq=True)
    with pytest.raises(ValueError, match="not implemented"):
        Embedding(4, 2, sparse=True)
    with pytest.raises(ValueError, match="2-D"):
        embedding(torch.tensor([0]), w[0])
    with pytest.raises(ValueError, match="positive int"):
        Embedding(0, 2)
    with pytest.raises(ValueError, match="2-dimensional"):
        Embedding.from_pretrained(w[0])


# ---------------------------------------------------------------- pairs
SENTENCES = [[pyrandom.Random(n).randrange(9) for _ in range(n)] for n in range(0, 10)]


def brute_skipgram(sentence, window):
    pairs = []
    for t, centre in enumerate(sentence):
        for j in [*range(-window, 0), *range(1, window + 1)]:
            if 0 <= t + j < len(sentence):
                pairs.append((centre, sentence[t + j]))
    return pairs


@pytest.mark.parametrize("window", [1, 2, 3, 5])
def test_skipgram_pairs_enumerate_every_window_in_order(window):
    for sentence in SENTENCES:
        got = skipgram_pairs(sentence, window)
        assert got.dtype == torch.int64 and got.shape == (len(brute_skipgram(sentence, window)), 2)
        assert [tuple(p) for p in got.tolist()] == brute_skipgram(sentence, window)
        assert torch.equal(skipgram_pairs(torch.tensor(sentence, dtype=torch.int32), window), got)


def test_skipgram_pairs_of_the_notes_sentence():
    future, king, prince = 0, 1, 2
    assert skipgram_pairs([future, king, prince], 1).tolist() == [[0, 1], [1, 0], [1, 2], [2, 1]]


@pytest.mark.parametrize("window", [1, 2, 3])
def test_cbow_pairs_full_windows_and_padded(window):
    pad = 99
    for sentence in SENTENCES:
        full, padded = [], []
        for t, centre in enumerate(sentence):
            slots = [t + j for j in [*range(-window, 0), *range(1, window + 1)]]
            context = [sentence[s] if 0 <= s < len(sentence) else pad for s in slots]
            if pad not in context:
                full.append((context, centre))
            if any(c != pad for c in context):
                padded.append((context, centre))
        for got, expected in ((cbow_pairs(sentence, window), full), (cbow_pairs(sentence, window, pad), padded)):
            contexts, centres = got
            assert contexts.shape == (len(expected), 2 * window) and centres.shape == (len(expected),)
            assert contexts.dtype == centres.dtype == torch.int64
            assert contexts.tolist() == [c for c, _ in expected] and centres.tolist() == [t for _, t in expected]


def test_bigrams():
    assert bigram_pairs([4, 1, 2]).tolist() == [[4, 1], [1, 2]]
    assert bigram_pairs([3]).shape == (0, 2)
    counted = Counter(p for s in SENTENCES for p in zip(s, s[1:]))
    counts = bigram_counts(SENTENCES, 9)
    assert counts.shape == (9, 9) and counts.dtype == torch.int64
    assert all(counts[i, j] == counted[(i, j)] for i in range(9) for j in range(9))
    assert bigram_counts([], 3).sum() == 0


def test_pairs_errors():
    with pytest.raises(ValueError, match="window"):
        skipgram_pairs([1, 2], 0)
    with pytest.raises(TypeError, match="one sentence"):
        skipgram_pairs([[1, 2], [3, 4]], 1)
    with pytest.raises(TypeError, match="one sentence"):
        cbow_pairs(torch.tensor([1.0, 2.0]), 1)
    with pytest.raises(ValueError, match="vocab_size"):
        bigram_counts([[0, 5]], 5)


# ---------------------------------------------------------------- losses
def bce_oracle(center, context, negatives, reduction="mean"):
    """Negative sampling as K + 1 binary questions: logits u . v_c, target 1 for the context, 0 for the noise."""
    logits = torch.cat([(context * center).sum(-1, keepdim=True), torch.einsum("bkd,bd->bk", negatives, center)], 1)
    targets = torch.zeros_like(logits)
    targets[:, 0] = 1
    per_example = F.binary_cross_entropy_with_logits(logits, targets, reduction="none").sum(1)
    return {"mean": per_example.mean(), "sum": per_example.sum(), "none": per_example}[reduction]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_negative_sampling_loss_is_binary_cross_entropy(device, reduction):
    B, K, D = 6, 4, 5
    inputs = [random(B, D, seed=1, device=device), random(B, D, seed=2, device=device),
              random(B, K, D, seed=3, device=device)]
    results = []
    for f in (negative_sampling_loss, bce_oracle):
        leaves = [leaf(x) for x in inputs]
        loss = f(*leaves, reduction=reduction)
        results.append((loss, torch.autograd.grad(loss.sum(), leaves)))
    (ours, ours_grads), (theirs, their_grads) = results
    assert close(ours, theirs) and all(close(a, b) for a, b in zip(ours_grads, their_grads))


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_negative_sampling_backward_is_autograd(reduction):
    inputs = [random(5, 3, seed=4), random(5, 3, seed=5), random(5, 7, 3, seed=6)]
    leaves = [leaf(x) for x in inputs]
    expected = torch.autograd.grad(bce_oracle(*leaves, reduction=reduction), leaves)
    got = negative_sampling_backward(*inputs, reduction=reduction)
    assert all(close(a, b) for a, b in zip(got, expected))


def test_negative_sampling_loss_is_stable_for_large_scores():
    v = torch.full((2, 3), 30.0, dtype=F64)
    loss = negative_sampling_loss(v, -v, v.unsqueeze(1).repeat(1, 2, 1))  # scores -2700 and +2700: all wrong
    assert torch.isfinite(loss) and torch.allclose(loss, torch.tensor(3 * 2700.0, dtype=F64), **TOL)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_skipgram_softmax_loss_is_cross_entropy(device, reduction):
    center, weight = random(8, 4, seed=7, device=device), random(11, 4, seed=8, device=device)
    context = ids(8, high=11, seed=9, device=device)
    results = []
    for f in (lambda c, w: skipgram_softmax_loss(c, w, context, reduction),
              lambda c, w: F.cross_entropy(c @ w.T, context, reduction=reduction)):
        c, w = leaf(center), leaf(weight)
        loss = f(c, w)
        results.append((loss, torch.autograd.grad(loss.sum(), [c, w])))
    assert close(results[0][0], results[1][0]) and all(close(a, b) for a, b in zip(results[0][1], results[1][1]))


def test_loss_errors():
    with pytest.raises(ValueError, match=r"\(B, K, D\)"):
        negative_sampling_loss(random(2, 3), random(2, 3), random(2, 3))
    with pytest.raises(TypeError, match="floating-point"):
        negative_sampling_loss(torch.ones(2, 3, dtype=torch.long), random(2, 3), random(2, 1, 3))
    with pytest.raises(ValueError, match="reduction"):
        negative_sampling_loss(random(2, 3), random(2, 3), random(2, 1, 3), reduction="avg")
    with pytest.raises(ValueError, match="int64"):
        skipgram_softmax_loss(random(2, 3), random(5, 3), torch.tensor([1.0, 2.0]))


# ---------------------------------------------------------------- noise words
def test_noise_distribution_closed_form():
    counts = torch.tensor([1, 16, 0, 81])
    assert torch.allclose(noise_distribution(counts).double(), torch.tensor([1, 8, 0, 27], dtype=F64) / 36)
    p = noise_distribution(counts.to(F64), power=0.5)
    assert p.dtype == F64 and torch.allclose(p, torch.tensor([1, 4, 0, 9], dtype=F64) / 14, **TOL)
    assert torch.allclose(noise_distribution(counts.to(F64), power=0.0), torch.tensor([1, 1, 0, 1], dtype=F64) / 3)
    for bad in (torch.tensor([-1, 2]), torch.tensor([0, 0]), torch.ones(2, 2)):
        with pytest.raises(ValueError):
            noise_distribution(bad)


def test_sample_negatives_follow_the_noise_and_are_seeded():
    noise = noise_distribution(torch.tensor([1, 16, 0, 81, 5]))
    draws = sample_negatives(noise, (400, 500), torch.Generator().manual_seed(0))
    assert draws.shape == (400, 500) and draws.dtype == torch.int64
    assert torch.equal(draws, sample_negatives(noise, (400, 500), torch.Generator().manual_seed(0)))
    n = draws.numel()
    frequency = torch.bincount(draws.flatten(), minlength=5).double() / n
    sigma = (noise.double() * (1 - noise.double()) / n).sqrt()
    assert ((frequency - noise.double()).abs() <= 5 * sigma + 1e-12).all() and frequency[2] == 0
    assert sample_negatives(noise, 3).shape == (3,) and sample_negatives(noise, (2, 0)).shape == (2, 0)


# ---------------------------------------------------------------- models
def test_skipgram_is_lookups_and_losses():
    torch.manual_seed(0)
    model = SkipGram(10, 4, dtype=F64)
    assert list(model.state_dict()) == ["in_embed.weight", "out_embed.weight"]
    assert model.in_embed.weight.abs().max() <= 0.5 / 4 and not model.out_embed.weight.any()  # word2vec's start
    model.in_embed.load_state_dict(nn.Embedding(10, 4, dtype=F64).state_dict())  # nn.Embedding-compatible
    model.out_embed.weight.data = random(10, 4, seed=1)
    W, U = model.in_embed.weight, model.out_embed.weight
    c, o, neg = ids(6, high=10, seed=2), ids(6, high=10, seed=3), ids(6, 3, high=10, seed=4)
    assert close(model(c, o, neg), bce_oracle(F.embedding(c, W), F.embedding(o, U), F.embedding(neg, U)))
    assert close(model.softmax_loss(c, o), F.cross_entropy(F.embedding(c, W) @ U.T, o))
    assert torch.equal(model.vectors, W.detach()) and not model.vectors.requires_grad


def test_cbow_averages_the_real_context_words():
    pad = 9
    torch.manual_seed(0)
    model = CBOW(10, 3, padding_idx=pad, dtype=F64)
    assert not model.in_embed.weight[pad].any()
    model.out_embed.weight.data = random(10, 3, seed=1)
    W, U = model.in_embed.weight, model.out_embed.weight
    contexts = torch.tensor([[pad, 1, 2, 3], [4, 5, pad, pad], [6, 7, 8, 0]])
    centres, neg = torch.tensor([0, 2, 5]), ids(3, 2, high=9, seed=5)
    means = torch.stack([W[[w for w in row if w != pad]].mean(0) for row in contexts.tolist()])
    assert close(model.context_vector(contexts), means)
    assert close(model(contexts, centres, neg), bce_oracle(means, U[centres], U[neg]))
    assert close(model.softmax_loss(contexts, centres), F.cross_entropy(means @ U.T, centres))
    model(contexts, centres, neg).backward()
    assert not model.in_embed.weight.grad[pad].any()
    plain = CBOW(10, 3, dtype=F64)
    assert close(plain.context_vector(contexts[2:]), plain.in_embed.weight[contexts[2]].mean(0, keepdim=True))
    with pytest.raises(ValueError, match="only padding"):
        model.context_vector(torch.tensor([[pad, pad]]))


# ---------------------------------------------------------------- similarity
def test_cosine_similarity_matrix_is_sklearns():
    weight = random(7, 4, seed=3)
    weight[4] = 0  # a padding row: similarity 0, as scikit-learn
    expected = torch.from_numpy(cosine_similarity(weight.numpy()))
    assert torch.allclose(cosine_similarity_matrix(weight), expected, **TOL)


@pytest.mark.parametrize("k", [1, 3, 8])
def test_nearest_neighbours_by_brute_force(k):
    weight = random(9, 5, seed=4)
    S = cosine_similarity(weight.numpy())
    for i in range(9):
        expected = sorted((j for j in range(9) if j != i), key=lambda j: -S[i, j])[:k]
        indices, sims = nearest_neighbours(weight, i, k)
        assert indices.tolist() == expected
        assert torch.allclose(sims, torch.tensor([S[i, j] for j in expected], dtype=F64), **TOL)


def test_nearest_neighbours_ties_and_errors():
    weight = torch.tensor([[1.0, 0.0], [2.0, 0.0], [0.0, 1.0], [3.0, 0.0]])  # 1 and 3 point as 0 does
    indices, sims = nearest_neighbours(weight, 0, 3)
    assert indices.tolist() == [1, 3, 2] and sims.tolist() == [1.0, 1.0, 0.0]
    with pytest.raises(ValueError, match="word_index"):
        nearest_neighbours(weight, 4)
    with pytest.raises(ValueError, match="k must"):
        nearest_neighbours(weight, 0, k=4)
    with pytest.raises(ValueError, match="2-D"):
        cosine_similarity_matrix(torch.ones(3))
