"""The chapter 8 references against independent oracles: F.scaled_dot_product_attention (values and gradients) and
the book's helpers.nn.attention, nn.Transformer's square subsequent mask, an enumeration of where each feature goes
when heads are split and merged, nn.MultiheadAttention's own parameter count, the paper's formula written with
math.sin and math.cos, a brute-force enumeration of skip-gram pairs, and binary cross-entropy with logits (and the
book's gradients) for the negative-sampling loss. The known mistakes are checked to be what their diagnoses say. And
the checks that tests/test_catalogue.py and tests/test_forbid.py make of every chapter in CHAPTERS, run on this
module directly, so that they hold before the chapter's notebook exists."""

import math
from collections import Counter

import pytest
import torch
import torch.nn.functional as F
from catalogue_support import (
    assert_every_mistake_named,
    assert_listed_in_order,
    assert_public_and_hidden_cases,
    correct,
    label,
    tolerance,
    wrong_answer,
)
from test_forbid import LIBRARY_ANSWERS
from torch import nn

from helpers.exercises import Outcome, feedback
from helpers.exercises.catalogue import CHAPTERS, ch08, of_chapter
from helpers.exercises.catalogue.ch08 import attention, heads, positional, word2vec
from helpers.exercises.catalogue.ch08.shared import ATTENTION, HEADS
from helpers.exercises.forbid import resolve
from helpers.exercises.runner import run
from helpers.exercises.spec import Kind, ResultKind
from helpers.nn import attention as books_attention
from helpers.nn import embedding as books_embedding

F64 = torch.float64
EXERCISES = {exercise.id: exercise for exercise in ch08.EXERCISES}
ORDER = ["08.attention", "08.causal_mask", "08.split_heads", "08.merge_heads", "08.mha_params", "08.positions",
         "08.positional", "08.skipgram_pairs", "08.negative_sampling"]


@pytest.fixture(autouse=True)
def keep_the_global_generator():
    """Building torch's modules (nn.MultiheadAttention, nn.Linear) draws their initial weights from torch's global
    stream: give it back as it was, so that no other test depends on the order these run in."""
    with torch.random.fork_rng(devices=[]):
        yield


# ---- the chapter's list (tests/test_catalogue.py checks every exercise: references, wrong answers, stubs) ----


def test_the_chapter_lists_its_exercises_in_order_with_three_kinds():
    assert "ch08" in CHAPTERS
    assert_listed_in_order(ch08.EXERCISES, of_chapter("08"), ORDER)


def test_every_exercise_that_computes_has_four_or_more_public_cases_and_a_hidden_one():
    assert_public_and_hidden_cases(ch08.EXERCISES)


@pytest.mark.parametrize("exercise_id", ORDER)
def test_every_known_mistake_is_named_on_the_public_cases_alone(exercise_id):
    """What tests/test_catalogue.py asks of the strict chapters, here before the chapter's notebook exists."""
    assert_every_mistake_named(EXERCISES[exercise_id])


def test_the_choice_explains_every_option():
    exercise = EXERCISES["08.positions"]
    assert set(exercise.options) == {exercise.reference(), *(wrong() for wrong in exercise.wrong.values())}
    assert exercise.reference() == "b" and positional.POSITION_QUESTION in exercise.prompt
    assert run(exercise, lambda: " (B) ").outcome is Outcome.CORRECT


# ---- the library answers (test_forbid.py checks that every one is caught) ------------------------------


@pytest.mark.parametrize("exercise_id", sorted(i for i in LIBRARY_ANSWERS if i.startswith("08.")))
def test_the_library_answers_agree_with_the_references_when_allowed(exercise_id):
    assert correct(EXERCISES[exercise_id], LIBRARY_ANSWERS[exercise_id]), exercise_id


@pytest.mark.parametrize("exercise_id", sorted(i for i in LIBRARY_ANSWERS if i.startswith("08.")))
def test_the_library_answers_score_nothing(exercise_id):
    report = run(EXERCISES[exercise_id], LIBRARY_ANSWERS[exercise_id], include_hidden=True)
    assert report.score == 0 and report.first_failure.kind is ResultKind.FORBIDDEN


def test_every_exercise_that_computes_is_in_the_library_answers_and_forbids_names_that_exist():
    asking = {e.id for e in ch08.EXERCISES if e.kind is not Kind.CHOICE}
    assert asking <= set(LIBRARY_ANSWERS)
    for exercise in ch08.EXERCISES:
        assert exercise.kind is Kind.CHOICE or exercise.forbidden
        assert all(resolve(name) is not None for name in exercise.forbidden), exercise.id


# ---- scaled dot-product attention against F.scaled_dot_product_attention and the book's ---------------------


@pytest.mark.parametrize("case", attention.ATTENTION_EXERCISE.cases(), ids=label)
def test_attention_is_torchs_and_the_books(case):
    query = case.args[0]
    ours = attention.ATTENTION_EXERCISE.reference(*case.args)
    assert ours.dtype == query.dtype and ours.shape == (*query.shape[:-1], case.args[2].shape[-1])
    torch.testing.assert_close(ours, F.scaled_dot_product_attention(*case.args), **tolerance(query.dtype))
    torch.testing.assert_close(ours, books_attention.scaled_dot_product_attention(*case.args), **tolerance(query.dtype))
    if len(case.args) == 4:
        mask = case.args[3]
        assert mask.dtype == torch.bool and mask.any(dim=-1).all(), "every query may attend to some key"


def test_attention_has_torchs_gradients():
    case = next(c for c in attention.ATTENTION_EXERCISE.cases() if "heads" in c.label)
    leaves = [t.clone().requires_grad_(True) for t in case.args[:3]]
    twins = [t.clone().requires_grad_(True) for t in case.args[:3]]
    ours = attention.ATTENTION_EXERCISE.reference(*leaves, case.args[3])
    theirs = F.scaled_dot_product_attention(*twins, attn_mask=case.args[3])
    grad_output = torch.randn(ours.shape, dtype=F64, generator=torch.Generator().manual_seed(8))
    for a, b in zip(torch.autograd.grad((ours * grad_output).sum(), leaves),
                    torch.autograd.grad((theirs * grad_output).sum(), twins)):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


def test_the_attention_cases_need_the_transpose_the_mask_and_a_stable_softmax():
    cases = attention.ATTENTION_EXERCISE.cases()
    square = [c for c in cases if c.args[0].shape[-1] == c.args[1].shape[-2]]
    assert cases[0] is square[0] and all(c.hidden for c in square[1:]), "only the first public case has E = S"
    untransposed = run(attention.ATTENTION_EXERCISE, wrong_answer(attention.ATTENTION_EXERCISE, "The key was not"))
    assert untransposed.results[0].kind is ResultKind.WRONG_VALUE
    assert all(r.kind is ResultKind.RAISED for r in untransposed.results[1:])
    public = [c for c in cases if not c.hidden]
    assert sum(len(c.args) == 4 for c in public) >= 2 and {c.args[0].dtype for c in public} == {torch.float32, F64}
    loud = next(c for c in public if "large" in c.label)
    q, k, v = loud.args
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    assert scores.max() > 709, "exp overflows float64 beyond 709"
    naive = wrong_answer(attention.ATTENTION_EXERCISE, "The softmax was written")(*loud.args)
    assert naive.isnan().any() and not attention.ATTENTION_EXERCISE.reference(*loud.args).isnan().any()


def test_the_attention_mistakes_are_what_they_say():
    exercise = attention.ATTENTION_EXERCISE
    q, k, v, mask = next(c for c in exercise.cases() if "heads" in c.label).args
    E = q.shape[-1]

    def sdpa(**kwargs):
        return F.scaled_dot_product_attention(q, k, v, **kwargs)

    torch.testing.assert_close(wrong_answer(exercise, "The scores were not")(q, k, v, mask),
                               sdpa(attn_mask=mask, scale=1.0))
    torch.testing.assert_close(wrong_answer(exercise, "The scores were divided by E")(q, k, v, mask),
                               sdpa(attn_mask=mask, scale=1 / E))
    torch.testing.assert_close(wrong_answer(exercise, "The mask was ignored")(q, k, v, mask), sdpa())
    torch.testing.assert_close(wrong_answer(exercise, "The boolean mask was added")(q, k, v, mask),
                               sdpa(attn_mask=mask.to(F64)))  # a float mask is added to the scores
    torch.testing.assert_close(wrong_answer(exercise, "The attention weights were")(q, k, v, mask),
                               books_attention.attention_weights(q, k, mask))
    inverted = wrong_answer(exercise, "The mask was read the other way")(q, k, v, mask)
    rows = (~mask).any(dim=-1)  # where the inverted mask leaves a key to look at
    torch.testing.assert_close(inverted[..., rows, :], sdpa(attn_mask=~mask)[..., rows, :])
    after = wrong_answer(exercise, "The weights were multiplied")(q, k, v, mask)
    torch.testing.assert_close(after, (torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(E), -1) * mask) @ v)
    by_queries = wrong_answer(exercise, "The softmax ran over the queries")(q, k, v, mask)
    weights = torch.softmax((q @ k.transpose(-2, -1) / math.sqrt(E)).masked_fill(~mask, -math.inf), dim=-2)
    torch.testing.assert_close(by_queries, weights @ v)
    assert wrong_answer(exercise, "The mask was built as")(q, k, v, mask).isnan().all()


# ---- the causal mask against nn.Transformer's and the book's --------------------------------------------


@pytest.mark.parametrize("case", attention.CAUSAL_MASK.cases(), ids=label)
def test_causal_mask_is_torchs_square_subsequent_mask_and_the_books(case):
    (length,) = case.args
    ours = attention.CAUSAL_MASK.reference(length)
    assert ours.dtype == torch.bool and ours.shape == (length, length)
    additive = nn.Transformer.generate_square_subsequent_mask(length)  # 0 where allowed, -inf above the diagonal
    assert torch.equal(ours, additive == 0) and torch.equal(ours, books_attention.causal_mask(length))
    enumerated = torch.tensor([[j <= i for j in range(length)] for i in range(length)], dtype=torch.bool)
    assert torch.equal(ours, enumerated.reshape(length, length))
    float_mask = wrong_answer(attention.CAUSAL_MASK, "That is the additive float mask")(length)
    assert torch.equal(float_mask, additive)
    blocked = wrong_answer(attention.CAUSAL_MASK, "That is nn.MultiheadAttention's convention")(length)
    assert torch.equal(blocked, ~ours)


def test_the_causal_mask_is_what_is_causal_means():
    g = torch.Generator().manual_seed(3)
    q, k, v = (torch.randn(2, 6, 4, generator=g, dtype=F64) for _ in range(3))
    torch.testing.assert_close(F.scaled_dot_product_attention(q, k, v, attn_mask=attention.CAUSAL_MASK.reference(6)),
                               F.scaled_dot_product_attention(q, k, v, is_causal=True), rtol=1e-12, atol=1e-14)


def test_a_float_mask_is_a_diagnosed_wrong_value_and_a_list_a_wrong_type():
    report = run(attention.CAUSAL_MASK, wrong_answer(attention.CAUSAL_MASK, "Right pattern, wrong dtype"))
    assert report.first_failure.kind is ResultKind.WRONG_VALUE and "bool mask" in report.first_failure.message
    listed = run(attention.CAUSAL_MASK, lambda length: attention.CAUSAL_MASK.reference(length).tolist())
    assert listed.first_failure.kind is ResultKind.WRONG_TYPE
    by_comparison = lambda length: torch.arange(length)[None, :] <= torch.arange(length)[:, None]  # noqa: E731
    assert correct(attention.CAUSAL_MASK, by_comparison)


# ---- splitting and merging heads: every feature where it belongs ------------------------------------


@pytest.mark.parametrize("case", heads.SPLIT_HEADS.cases(), ids=label)
def test_split_heads_puts_every_feature_where_the_definition_says(case):
    x, h = case.args
    ours = heads.SPLIT_HEADS.reference(x, h)
    N, L, E = x.shape
    d = E // h
    assert ours.shape == (N, h, L, d) and ours.dtype == x.dtype
    for n in range(N):
        for k in range(h):
            for pos in range(L):
                assert torch.equal(ours[n, k, pos], x[n, pos, k * d:(k + 1) * d])
    assert torch.equal(ours, books_attention.split_heads(x, h))
    assert torch.equal(heads.MERGE_HEADS.reference(ours), x)


@pytest.mark.parametrize("case", heads.MERGE_HEADS.cases(), ids=label)
def test_merge_heads_puts_every_feature_where_the_definition_says(case):
    (x,) = case.args
    ours = heads.MERGE_HEADS.reference(x)
    N, h, L, d = x.shape
    assert ours.shape == (N, L, h * d) and ours.dtype == x.dtype
    for n in range(N):
        for pos in range(L):
            assert torch.equal(ours[n, pos], torch.cat([x[n, k, pos] for k in range(h)]))
    assert torch.equal(ours, books_attention.merge_heads(x))
    assert torch.equal(heads.SPLIT_HEADS.reference(ours, h), x)


def test_split_heads_is_how_nn_multiheadattention_splits():
    """Head k of nn.MultiheadAttention (identity projections, batch first) is attention on split_heads' head k."""
    E, h = 8, 2
    mha = nn.MultiheadAttention(E, h, batch_first=True, bias=False, dtype=F64)
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.eye(E, dtype=F64).repeat(3, 1))
        mha.out_proj.weight.copy_(torch.eye(E, dtype=F64))
    x = torch.randn(3, 5, E, generator=torch.Generator().manual_seed(4), dtype=F64)
    with torch.no_grad():
        expected, _ = mha(x, x, x, need_weights=False)
    split = heads.SPLIT_HEADS.reference(x, h)
    ours = heads.MERGE_HEADS.reference(F.scaled_dot_product_attention(split, split, split))
    torch.testing.assert_close(ours, expected, rtol=1e-12, atol=1e-14)


def test_the_split_cases_include_heads_as_large_as_the_head_size():
    public = [c for c in heads.SPLIT_HEADS.cases() if not c.hidden]
    assert any(c.args[0].shape[-1] == c.args[1] ** 2 for c in public), "d = h: only the values tell the two apart"
    assert any(c.args[1] == c.args[0].shape[-1] for c in public) and {c.args[0].dtype for c in public} == {
        torch.float32, F64}


# ---- the parameters of nn.MultiheadAttention ------------------------------------------------------------


def count(module):
    return sum(p.numel() for p in module.parameters())


def test_the_parameter_count_is_nn_multiheadattentions_whatever_the_heads():
    ours = heads.MHA_PARAMS.reference()
    assert type(ours) is int and ours == count(nn.MultiheadAttention(64, 8))
    assert {count(nn.MultiheadAttention(64, h)) for h in (1, 2, 4, 8, 16, 64)} == {ours}
    assert wrong_answer(heads.MHA_PARAMS, "The biases were")() == count(nn.MultiheadAttention(64, 8, bias=False))
    mha = nn.MultiheadAttention(64, 8)
    assert wrong_answer(heads.MHA_PARAMS, "The output projection")() == ours - count(mha.out_proj)


def test_building_the_module_to_count_is_forbidden():
    def by_named_parameters():
        return sum(p.numel() for _, p in nn.MultiheadAttention(64, 8).named_parameters())

    def by_linears():
        return sum(layer.weight.numel() + layer.bias.numel() for layer in [nn.Linear(64, 64) for _ in range(4)])

    for answer, name in ((by_named_parameters, "torch.nn.MultiheadAttention"), (by_linears, "torch.nn.Linear")):
        assert answer() == heads.MHA_PARAMS.reference()
        failure = run(heads.MHA_PARAMS, answer).first_failure
        assert failure.kind is ResultKind.FORBIDDEN and failure.message.startswith(f"your answer calls {name}")
    assert run(heads.MHA_PARAMS, lambda: 16640.0).first_failure.kind is ResultKind.WRONG_TYPE


# ---- the positional encoding against the paper's formula --------------------------------------------


def by_formula(length, d_model, base=10000.0):
    """The paper's section 3.5, one entry at a time, in Python floats."""
    rows = []
    for pos in range(length):
        row = []
        for i in range(d_model // 2):
            angle = pos / base ** (2 * i / d_model)
            row += [math.sin(angle), math.cos(angle)]
        rows.append(row)
    return torch.tensor(rows, dtype=F64).reshape(length, d_model)


@pytest.mark.parametrize("case", positional.POSITIONAL.cases(), ids=label)
def test_the_encoding_is_the_papers_formula_and_the_books(case):
    length, d_model = case.args
    ours = positional.POSITIONAL.reference(length, d_model)
    assert ours.shape == (length, d_model) and ours.dtype == torch.get_default_dtype() == torch.float32
    expected = by_formula(length, d_model)
    torch.testing.assert_close(ours.double(), expected, rtol=0, atol=1e-7)
    assert torch.equal(ours, books_attention.sinusoidal_encoding(length, d_model))
    torch.testing.assert_close(positional._encoding(length, d_model).double().norm(dim=1),
                               torch.full((length,), math.sqrt(d_model / 2), dtype=F64))
    concatenated = wrong_answer(positional.POSITIONAL, "All the sines come first")(length, d_model)
    assert torch.equal(concatenated, books_attention.sinusoidal_encoding(length, d_model, interleaved=False))
    base_1000 = wrong_answer(positional.POSITIONAL, "The base is 10000")(length, d_model)
    torch.testing.assert_close(base_1000.double(), by_formula(length, d_model, base=1000.0), rtol=0, atol=1e-7)
    from_one = wrong_answer(positional.POSITIONAL, "The positions start at 1")(length, d_model)
    torch.testing.assert_close(from_one.double(), by_formula(length + 1, d_model)[1:], rtol=0, atol=1e-7)


def tutorial_encoding(length, d_model):
    """PyTorch's 'Language modeling with nn.Transformer' tutorial, all in float32: the loosest honest answer."""
    position = torch.arange(length).unsqueeze(1)
    div_term = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
    pe = torch.zeros(length, d_model)
    pe[:, 0::2] = torch.sin(position * div_term)
    pe[:, 1::2] = torch.cos(position * div_term)
    return pe


def test_float32_answers_pass_and_a_float64_one_is_told_the_dtype():
    assert correct(positional.POSITIONAL, tutorial_encoding)
    failure = run(positional.POSITIONAL, lambda length, d: tutorial_encoding(length, d).double()).first_failure
    assert failure.kind is ResultKind.WRONG_TYPE and "default dtype" in failure.message


# ---- skip-gram pairs against a brute-force enumeration -----------------------------------------------


def enumerated_pairs(ids, window):
    """Every ordered pair of distinct positions at most ``window`` apart, as (word, word)."""
    words = ids.tolist()
    return Counter((words[t], words[c]) for t in range(len(words)) for c in range(len(words))
                   if t != c and abs(t - c) <= window)


@pytest.mark.parametrize("case", word2vec.SKIPGRAM.cases(), ids=label)
def test_skipgram_pairs_are_every_pair_within_the_window_and_the_books(case):
    ids, window = case.args
    ours = word2vec.SKIPGRAM.reference(ids, window)
    assert ours.dtype == torch.int64 and ours.ndim == 2 and ours.shape[1] == 2
    assert Counter(map(tuple, ours.tolist())) == enumerated_pairs(ids, window)
    assert torch.equal(ours, books_embedding.skipgram_pairs(ids, window)), "the book's order too"


def test_any_order_of_the_pairs_is_accepted_and_the_type_is_checked():
    def shuffled(ids, window):
        pairs = word2vec.SKIPGRAM.reference(ids, window)
        return pairs[torch.randperm(len(pairs), generator=torch.Generator().manual_seed(len(pairs)))]

    def context_first(ids, window):
        return word2vec.SKIPGRAM.reference(ids, window).flip(1)  # the window is symmetric: the same multiset

    def by_unfold(ids, window):  # honest and vectorised: offsets from a padded window
        padded = torch.cat([ids.new_full((window,), -1), ids, ids.new_full((window,), -1)])
        windows = padded.unfold(0, 2 * window + 1, 1)
        context = torch.cat([windows[:, :window], windows[:, window + 1:]], dim=1)
        centre = ids[:, None].expand_as(context)
        keep = context >= 0
        return torch.stack([centre[keep], context[keep]], dim=1)

    for answer in (shuffled, context_first, by_unfold):
        assert correct(word2vec.SKIPGRAM, answer)
    listed = run(word2vec.SKIPGRAM, lambda ids, w: [tuple(p) for p in word2vec.SKIPGRAM.reference(ids, w).tolist()])
    assert listed.first_failure.kind is ResultKind.WRONG_TYPE and "reshape(-1, 2)" in listed.first_failure.message

    def empty_as_float(ids, window):
        pairs = word2vec.SKIPGRAM.reference(ids, window).tolist()
        return torch.tensor(pairs) if pairs else torch.tensor([])

    failure = next(r for r in run(word2vec.SKIPGRAM, empty_as_float).results if not r.passed)
    assert failure.case.label.startswith("one word") and failure.kind is ResultKind.WRONG_TYPE


def test_the_skipgram_mistakes_are_what_they_say():
    ids, window = word2vec.SKIPGRAM.cases()[1].args
    assert window == 2
    wider = wrong_answer(word2vec.SKIPGRAM, "The window reaches one word too far")(ids, window)
    assert Counter(map(tuple, wider.tolist())) == enumerated_pairs(ids, window + 1)
    narrower = wrong_answer(word2vec.SKIPGRAM, "The window stops one word short")(ids, window)
    assert Counter(map(tuple, narrower.tolist())) == enumerated_pairs(ids, window - 1)
    rolled = wrong_answer(word2vec.SKIPGRAM, "The window wrapped around")(ids, window)
    by_roll = torch.cat([torch.stack([ids, torch.roll(ids, -j)], dim=1) for j in (-2, -1, 1, 2)])
    assert Counter(map(tuple, rolled.tolist())) == Counter(map(tuple, by_roll.tolist()))
    repeated = word2vec.SKIPGRAM.cases()[3].args
    unique = wrong_answer(word2vec.SKIPGRAM, "Repeated pairs were removed")(*repeated)
    assert len(unique) < len(word2vec.SKIPGRAM.reference(*repeated)) and len(set(map(tuple, unique.tolist()))) == len(
        unique)


# ---- the negative-sampling loss against binary cross-entropy with logits --------------------------------


@pytest.mark.parametrize("case", word2vec.NEGATIVE_SAMPLING.cases(), ids=label)
def test_the_loss_is_binary_cross_entropy_with_logits_and_the_books(case):
    center, context, negatives = case.args
    ours = word2vec.NEGATIVE_SAMPLING.reference(*case.args)
    assert ours.shape == () and ours.dtype == center.dtype and ours.isfinite()
    torch.testing.assert_close(ours, LIBRARY_ANSWERS["08.negative_sampling"](*case.args), **tolerance(center.dtype))
    torch.testing.assert_close(ours, books_embedding.negative_sampling_loss(*case.args), **tolerance(center.dtype))
    if center.dtype == F64:  # by hand, in Python floats: -log sigma(s) = log(1 + exp(-s)), stable for any s
        def minus_log_sigma(s):
            return max(-s, 0.0) + math.log1p(math.exp(-abs(s)))

        B, K = negatives.shape[:2]
        total = 0.0
        for b in range(B):
            total += minus_log_sigma(float(context[b] @ center[b]))
            total += sum(minus_log_sigma(-float(negatives[b, k] @ center[b])) for k in range(K))
        assert ours.item() == pytest.approx(total / B, rel=1e-12)


def test_the_loss_has_the_books_gradients():
    center, context, negatives = word2vec.NEGATIVE_SAMPLING.cases()[0].args
    leaves = [t.clone().requires_grad_(True) for t in (center, context, negatives)]
    grads = torch.autograd.grad(word2vec.NEGATIVE_SAMPLING.reference(*leaves), leaves)
    for ours, books in zip(grads, books_embedding.negative_sampling_backward(center, context, negatives)):
        torch.testing.assert_close(ours, books, rtol=1e-10, atol=1e-12)


def test_the_large_scores_break_the_naive_loss_only():
    loud = [c for c in word2vec.NEGATIVE_SAMPLING.cases() if "scores of" in c.label]
    assert any(not c.hidden for c in loud) and any(c.hidden for c in loud)
    naive = wrong_answer(word2vec.NEGATIVE_SAMPLING, "log sigma was computed through sigma")
    for case in loud:
        center, context, negatives = case.args
        scores = (negatives * center[:, None]).sum(-1)
        assert scores.max() > 17 and (context * center).sum(-1).min() < -17
        assert naive(*case.args).isinf() and word2vec.NEGATIVE_SAMPLING.reference(*case.args).isfinite()
    for case in word2vec.NEGATIVE_SAMPLING.cases():
        if "scores of" not in case.label:
            torch.testing.assert_close(naive(*case.args), word2vec.NEGATIVE_SAMPLING.reference(*case.args),
                                       **tolerance(case.args[0].dtype))


def test_a_loss_must_be_a_0_dim_tensor():
    as_float = run(word2vec.NEGATIVE_SAMPLING, lambda *a: word2vec.NEGATIVE_SAMPLING.reference(*a).item())
    assert as_float.first_failure.kind is ResultKind.WRONG_TYPE and ".backward()" in as_float.first_failure.message
    as_vector = run(word2vec.NEGATIVE_SAMPLING, lambda *a: word2vec.NEGATIVE_SAMPLING.reference(*a).reshape(1))
    assert as_vector.first_failure.kind is ResultKind.WRONG_VALUE and "0-dim" in as_vector.first_failure.message


def test_softplus_logsigmoid_einsum_and_bmm_are_allowed():
    def by_softplus_and_bmm(center, context, negatives):
        positive = torch.einsum("bd,bd->b", context, center)
        negative = torch.bmm(negatives, center[:, :, None]).squeeze(-1)
        return (F.softplus(-positive) + F.softplus(negative).sum(-1)).mean()

    assert run(word2vec.NEGATIVE_SAMPLING, by_softplus_and_bmm, include_hidden=True).outcome is Outcome.CORRECT


# ---- every road to torch's (and the book's) answers is closed; honest building blocks are open -----------


def weights_then_values(query, key, value, attn_mask=None):
    return books_attention.attention_weights(query, key, attn_mask) @ value


def by_causal_bias(length):
    from torch.nn.attention.bias import causal_upper_left

    return causal_upper_left(length, length)._materialize()


def by_bce_module(center, context, negatives):
    scores = torch.cat([(context * center).sum(-1, keepdim=True), (negatives * center[:, None]).sum(-1)], dim=1)
    targets = torch.zeros_like(scores)
    targets[:, 0] = 1.0
    return nn.BCEWithLogitsLoss(reduction="sum")(scores, targets) / len(center)


def by_soft_margin(center, context, negatives):
    scores = torch.cat([(context * center).sum(-1, keepdim=True), (negatives * center[:, None]).sum(-1)], dim=1)
    signs = -torch.ones_like(scores)
    signs[:, 0] = 1.0
    # torch's soft margin overflows exp(-y s) in float32 at |s| = 120: computed in float64, it is the same loss
    return (F.soft_margin_loss(scores.double(), signs.double(), reduction="sum") / len(center)).to(scores.dtype)


def by_books_bce(center, context, negatives):
    from helpers.nn import losses

    scores = torch.cat([(context * center).sum(-1, keepdim=True), (negatives * center[:, None]).sum(-1)], dim=1)
    targets = torch.zeros_like(scores)
    targets[:, 0] = 1.0
    return losses.binary_cross_entropy_with_logits(scores, targets, reduction="sum") / len(center)


ROADS = {
    "aten sdpa": (attention.ATTENTION_EXERCISE, torch.ops.aten.scaled_dot_product_attention.default,
                  "torch.ops.aten.scaled_dot_product_attention.default"),
    "torch's math backend": (attention.ATTENTION_EXERCISE,
                             lambda q, k, v, attn_mask=None: torch._scaled_dot_product_attention_math(
                                 q, k, v, attn_mask)[0], "torch._scaled_dot_product_attention_math"),
    "the book's weights": (attention.ATTENTION_EXERCISE, weights_then_values, "helpers.nn.attention.attention_weights"),
    "the book's attention": (attention.ATTENTION_EXERCISE, books_attention.scaled_dot_product_attention,
                             "helpers.nn.attention.scaled_dot_product_attention"),
    "the book's causal mask": (attention.CAUSAL_MASK, lambda length: books_attention.causal_mask(length),
                               "helpers.nn.attention.causal_mask"),
    "torch's causal bias": (attention.CAUSAL_MASK, by_causal_bias, "torch.nn.attention.bias.causal_upper_left"),
    "the book's positions": (positional.POSITIONAL, lambda length, d: books_attention.PositionalEncoding(
        d, max_len=max(length, 1)).pe[:length], "helpers.nn.attention.PositionalEncoding"),
    "nn.BCEWithLogitsLoss": (word2vec.NEGATIVE_SAMPLING, by_bce_module, "torch.nn.BCEWithLogitsLoss"),
    "F.soft_margin_loss": (word2vec.NEGATIVE_SAMPLING, by_soft_margin, "torch.nn.functional.soft_margin_loss"),
    "the book's BCE": (word2vec.NEGATIVE_SAMPLING, by_books_bce, "helpers.nn.losses.binary_cross_entropy_with_logits"),
    "the book's loss": (word2vec.NEGATIVE_SAMPLING, books_embedding.negative_sampling_loss,
                        "helpers.nn.embedding.negative_sampling_loss"),
    "the book's pairs": (word2vec.SKIPGRAM, books_embedding.skipgram_pairs, "helpers.nn.embedding.skipgram_pairs"),
}


@pytest.mark.parametrize("road", ROADS)
def test_every_road_to_the_library_is_closed(road):
    exercise, answer, name = ROADS[road]
    if "aten" not in road and "math backend" not in road:
        assert correct(exercise, answer)
    report = run(exercise, answer)
    assert report.score == 0 and report.first_failure.kind is ResultKind.FORBIDDEN
    assert report.first_failure.message.startswith(f"your answer calls {name}: ")
    assert exercise.instead in feedback.text(report)


def test_honest_attention_with_where_einsum_and_a_finite_fill_is_allowed():
    def by_where_and_einsum(query, key, value, attn_mask=None):
        scores = torch.einsum("...le,...se->...ls", query, key) / query.shape[-1] ** 0.5
        if attn_mask is not None:
            scores = torch.where(attn_mask, scores, torch.finfo(scores.dtype).min)
        weights = (scores - scores.amax(-1, keepdim=True)).exp()
        return (weights / weights.sum(-1, keepdim=True)) @ value

    assert run(attention.ATTENTION_EXERCISE, by_where_and_einsum, include_hidden=True).outcome is Outcome.CORRECT


def test_the_forbidden_groups_resolve():
    assert all(resolve(name) is not None for name in (*ATTENTION, *HEADS))


# ---- the worked solutions (as in /work/ch08_builders/answers.py, the answer cells of the chapter's notebook) --


def solution_scaled_dot_product_attention(query, key, value, attn_mask=None):
    scores = query @ key.transpose(-2, -1) / math.sqrt(query.shape[-1])
    if attn_mask is not None:
        scores = scores.masked_fill(~attn_mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    return weights @ value


def solution_causal_mask(length):
    return torch.ones(length, length, dtype=torch.bool).tril()


def solution_split_heads(x, num_heads):
    N, L, E = x.shape
    x = x.reshape(N, L, num_heads, E // num_heads)
    return x.transpose(1, 2)


def solution_merge_heads(x):
    N, h, L, d = x.shape
    return x.transpose(1, 2).reshape(N, L, h * d)


def solution_mha_parameter_count():
    E = 64
    in_proj = 3 * E * E + 3 * E
    out_proj = E * E + E
    return in_proj + out_proj


def solution_sinusoidal_encoding(length, d_model):
    pos = torch.arange(length)[:, None]
    two_i = torch.arange(0, d_model, 2)
    angle = pos / 10000 ** (two_i / d_model)
    pe = torch.zeros(length, d_model)
    pe[:, 0::2] = torch.sin(angle)
    pe[:, 1::2] = torch.cos(angle)
    return pe


def solution_why_positions():
    return "b"


def solution_skipgram_pairs(ids, window):
    pairs = []
    for t in range(len(ids)):
        for c in range(max(0, t - window), min(len(ids), t + window + 1)):
            if c != t:
                pairs.append((ids[t].item(), ids[c].item()))
    return torch.tensor(pairs, dtype=torch.long).reshape(-1, 2)


def solution_negative_sampling_loss(center, context, negatives):
    positive = (context * center).sum(-1)
    negative = (negatives * center[:, None, :]).sum(-1)
    loss = -F.logsigmoid(positive) - F.logsigmoid(-negative).sum(-1)
    return loss.mean()


SOLUTIONS = {"08.attention": solution_scaled_dot_product_attention, "08.causal_mask": solution_causal_mask,
             "08.split_heads": solution_split_heads, "08.merge_heads": solution_merge_heads,
             "08.mha_params": solution_mha_parameter_count, "08.positional": solution_sinusoidal_encoding,
             "08.positions": solution_why_positions, "08.skipgram_pairs": solution_skipgram_pairs,
             "08.negative_sampling": solution_negative_sampling_loss}


@pytest.mark.parametrize("exercise_id", ORDER)
def test_the_worked_solutions_pass(exercise_id):
    report = run(EXERCISES[exercise_id], SOLUTIONS[exercise_id], include_hidden=True)
    assert report.outcome is Outcome.CORRECT, report.first_failure
