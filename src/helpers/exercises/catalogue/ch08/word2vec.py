"""Chapter 8: word2vec's training pairs (skip-gram, from one sentence and a window) and its negative-sampling
loss."""

from __future__ import annotations

from collections import Counter

import torch
import torch.nn.functional as F

from helpers.exercises.catalogue.common import F64, gen, zero_dim_tensor
from helpers.exercises.compare import describe
from helpers.exercises.spec import Case, Exercise, Mismatch, ResultKind

F32 = torch.float32
# the loss: a 0-dim tensor, then close() in its dtype
_loss_compare = zero_dim_tensor("the loss", "so that loss.backward() can train the vectors",
                                float64=(1e-10, 1e-12), float32=(1e-4, 1e-5))
LONG = torch.int64


# ---------------------------------------------------------------- skip-gram pairs
def _ids(*values: int) -> torch.Tensor:
    return torch.tensor(values, dtype=LONG)


def _skipgram_cases() -> list[Case]:
    g = gen(85)

    def words(n: int, vocabulary: int) -> torch.Tensor:
        return torch.randint(vocabulary, (n,), generator=g)

    return [
        Case("ids = [0, 1, 2, 3, 4], window = 1", (_ids(0, 1, 2, 3, 4), 1),
             "Each word is a centre in turn, and each word within `window` positions of it, on either side, is one "
             "of its contexts: one (centre, context) pair each. The words at the ends have fewer neighbours."),
        Case("ids = [5, 2, 7, 1, 3, 6], window = 2", (_ids(5, 2, 7, 1, 3, 6), 2),
             "window = 2 means up to 2 words on EACH side, offsets -2, -1, +1, +2, never 0: a word is not its own "
             "context."),
        Case("a sentence shorter than the window: ids = [4, 9], window = 3", (_ids(4, 9), 3),
             "The window stops at the ends of the sentence: positions before the first word or after the last do "
             "not exist, so they give no pairs (they do not wrap around)."),
        Case("repeated words: ids = [1, 2, 1, 2, 1], window = 2", (_ids(1, 2, 1, 2, 1), 2),
             "Pairs are counted per position, not per word: a pair that occurs twice in the sentence is two training "
             "examples, and counts how often the words meet."),
        Case("one word: ids = [7], window = 2", (_ids(7), 2),
             "A sentence of one word has no context: no pairs, still a (0, 2) int64 tensor, so that the pairs of "
             "all sentences can be concatenated."),
        Case("8 words: ids = [3, 8, 0, 6, 2, 9, 4, 1], window = 3", (_ids(3, 8, 0, 6, 2, 9, 4, 1), 3),
             "In the middle of a long sentence a word has 2 window contexts; near the ends, fewer."),
        Case("20 words from a vocabulary of 10, window = 4", (words(20, 10), 4), hidden=True),
        Case("ids = [3, 3, 3, 3], window = 1", (_ids(3, 3, 3, 3), 1), hidden=True),
        Case("12 words from a vocabulary of 5, window = 2", (words(12, 5), 2), hidden=True),
        Case("two words: ids = [2, 5], window = 1", (_ids(2, 5), 1), hidden=True),
    ]


def _skipgram_pairs(ids: torch.Tensor, window: int) -> torch.Tensor:
    pairs = [(ids[t].item(), ids[c].item())
             for t in range(len(ids))
             for c in range(max(0, t - window), min(len(ids), t + window + 1)) if c != t]
    return torch.tensor(pairs, dtype=LONG).reshape(-1, 2)


def _pairs_with(low=None, high=None, centre=False, wrap="", full_only=False, unique=False):
    """Skip-gram pairs with one of the known mistakes. low, high: the offsets' range as a function of the window
    (the reference's is -window..window); centre: offset 0 included; wrap: "roll" (positions taken modulo the
    length), "negative" (Python's negative indices left to wrap); full_only: only centres with a full window."""
    low = low or (lambda w: -w)
    high = high or (lambda w: w)

    def answer(ids, window):
        L = len(ids)
        pairs = []
        for t in range(L):
            if full_only and (t < window or t + window >= L):
                continue
            for j in range(low(window), high(window) + 1):
                p = t + j
                if j == 0 and not centre:
                    continue
                if wrap == "roll":
                    p %= L
                elif wrap == "negative":
                    if p >= L:
                        continue
                elif not 0 <= p < L:
                    continue
                pairs.append((int(ids[t]), int(ids[p])))
        if unique:
            pairs = sorted(set(pairs))
        return torch.tensor(pairs, dtype=LONG).reshape(-1, 2)

    return answer


def _pair_list(pairs: Counter, limit: int = 3) -> str:
    items = sorted(pairs.elements())
    text = ", ".join(f"({c}, {o})" for c, o in items[:limit])
    return text + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _pairs_compare(expected: torch.Tensor, got) -> Mismatch | None:
    """The pairs as a multiset: a (P, 2) int64 tensor, in any row order."""
    if isinstance(got, (list, tuple)):
        return Mismatch(f"returned a {type(got).__name__} of pairs; return them as a (P, 2) int64 tensor, "
                        "torch.tensor(pairs, dtype=torch.long).reshape(-1, 2) (the reshape keeps a sentence without "
                        "pairs (0, 2))", kind=ResultKind.WRONG_TYPE)
    if not isinstance(got, torch.Tensor):
        return Mismatch(f"returned {describe(got)} where a (P, 2) int64 tensor of pairs was expected",
                        kind=ResultKind.WRONG_TYPE)
    if got.dtype != LONG:
        return Mismatch(f"returned {str(got.dtype).replace('torch.', '')} values of shape {tuple(got.shape)}: word ids "
                        "are int64, a (P, 2) tensor even when there are no pairs: torch.tensor(pairs, "
                        "dtype=torch.long).reshape(-1, 2)", kind=ResultKind.WRONG_TYPE)
    if got.ndim != 2 or got.shape[1] != 2:
        turn = " (one ROW per pair: transpose it)" if got.ndim == 2 and got.shape[0] == 2 else ""
        return Mismatch(f"expected shape {tuple(expected.shape)}, one row (centre, context) per pair, got shape "
                        f"{tuple(got.shape)}{turn}")
    want, have = Counter(map(tuple, expected.tolist())), Counter(map(tuple, got.tolist()))
    if want == have:
        return None
    missing, extra = want - have, have - want
    parts = [f"expected {len(expected)} pairs, got {len(got)}"]
    if missing:
        parts.append(f"missing {_pair_list(missing)}")
    if extra:
        parts.append(f"not expected {_pair_list(extra)}")
    return Mismatch("; ".join(parts) + " (pairs as (centre, context), in any order)")


BOOKS_PAIRS = tuple(f"helpers.nn.embedding.{name}" for name in ("skipgram_pairs", "cbow_pairs", "bigram_pairs"))

SKIPGRAM = Exercise(
    id="08.skipgram_pairs",
    title="Skip-gram training pairs",
    kind="implement",
    points=1,
    prompt=(
        "skipgram_pairs(ids, window) returns every (centre, context) pair of one sentence: ids is a 1-D int64 tensor "
        "of word ids, and for each position t, each position c with 1 <= |c - t| <= window inside the sentence gives "
        "the pair (ids[t], ids[c]). Return a (P, 2) int64 tensor, one pair per row; the order of the rows does not "
        "matter (the check compares them as a multiset), but a pair that occurs twice counts twice."
    ),
    reference=_skipgram_pairs,
    cases=_skipgram_cases,
    compare=_pairs_compare,
    forbidden=(*BOOKS_PAIRS, "helpers.nn.embedding.pairs._window_grid"),
    instead="Write the loops (or the offsets) yourself: no pair function of the book's.",
    hints=[
        "Two loops: over the centre positions t, and over the offsets j = -window, ..., -1, 1, ..., window (0 is the "
        "centre itself). The context position is t + j.",
        "Keep only the context positions inside the sentence, 0 <= t + j < len(ids): a position outside it is no "
        "word (and ids[-1] would silently be the last one).",
        "pairs = [(ids[t].item(), ids[c].item()) for t in range(len(ids)) for c in range(max(0, t - window), "
        "min(len(ids), t + window + 1)) if c != t]; return torch.tensor(pairs, dtype=torch.long).reshape(-1, 2).",
    ],
    wrong={
        "The window reaches one word too far: window = 2 means the 2 nearest words on each side, offsets 1..window "
        "(range(1, window + 1) stops before window + 1).": _pairs_with(low=lambda w: -w - 1, high=lambda w: w + 1),
        "The window stops one word short: it includes the word `window` positions away (offsets up to and including "
        "window).": _pairs_with(low=lambda w: -w + 1, high=lambda w: w - 1),
        "The centre was paired with itself: offset 0 is the centre word, not one of its contexts.": (
            _pairs_with(centre=True)
        ),
        "Only the words AFTER the centre were taken: the context lies on both sides, offsets -window..-1 and "
        "1..window.": _pairs_with(low=lambda w: 1),
        "The window wrapped around the sentence (as torch.roll or a position modulo the length does): the word "
        "after the last is no word, and the first word is not next to the last.": _pairs_with(wrap="roll"),
        "Positions before the start were read with negative indices: ids[-1] is the LAST word, not a word before the "
        "first. Check 0 <= t + j as well as t + j < len(ids).": _pairs_with(wrap="negative"),
        "Only the centres with a full window were kept (that is CBOW's simplest choice): skip-gram pairs every "
        "centre, the first and last words included, with the neighbours it has.": _pairs_with(full_only=True),
        "Repeated pairs were removed (a set): each occurrence is a training example, and how often two words meet is "
        "exactly what the vectors learn.": _pairs_with(unique=True),
    },
)


# ---------------------------------------------------------------- the negative-sampling loss
def _negative_sampling_cases() -> list[Case]:
    g = gen(86)

    def vectors(B, D, K, dtype=F64, scale=1.0):
        return tuple(scale * torch.randn(*shape, generator=g, dtype=dtype) for shape in ((B, D), (B, D), (B, K, D)))

    def loud(B, D, K, score, dtype=F64):
        """Vectors whose scores reach +-score: example 0's first noise word scores +score, example 1's true context
        -score (the model is confidently wrong on both)."""
        center, context, negatives = vectors(B, D, K, dtype)
        negatives[0, 0] = score * center[0] / center[0].dot(center[0])
        context[1] = -score * center[1] / center[1].dot(center[1])
        return center, context, negatives

    return [
        Case("B = 4 examples, D = 5, K = 3 noise words each, float64", vectors(4, 5, 3),
             "Per example, -log sigma(u_o . v_c) asks the true context word to score high, and each of the K terms "
             "-log sigma(-u_k . v_c) asks a noise word to score low; the loss is their sum, averaged over the batch."),
        Case("B = 1, D = 3, K = 2, float64", vectors(1, 3, 2),
             "The K noise words' terms are ADDED: each is a separate binary question, 'is this the context word?', "
             "answered no."),
        Case("B = 6, D = 8, K = 5, float64", vectors(6, 8, 5),
             "The scores are dot products of each example's own vectors: u_o . v_c is (B,), u_k . v_c is (B, K), "
             "the centre vector broadcast against its K noise words."),
        Case("float32: B = 5, D = 4, K = 3", vectors(5, 4, 3, F32), "Any dtype: the loss keeps the inputs'."),
        Case("scores of +-50: B = 3, D = 4, K = 2, float64 (a noise word scoring +50, a context word -50)",
             loud(3, 4, 2, 50.0),
             "log sigma(-50) is about -50, but sigma(50) rounds to 1 in float64, so log(1 - sigma(50)) is log 0 = "
             "-inf. F.logsigmoid computes log sigma(s) without forming sigma(s), and stays finite."),
        Case("scores of +-120 in float32: B = 3, D = 4, K = 2 (a noise word scoring +120, a context word -120)",
             loud(3, 4, 2, 120.0, F32),
             "sigma(-120) is about 8e-53, below float32's smallest positive number (1.4e-45): it rounds to 0 and its "
             "log is -inf, though log sigma(-120) is just -120. F.logsigmoid never forms sigma(s)."),
        Case("B = 32, D = 16, K = 5, float64", vectors(32, 16, 5), hidden=True),
        Case("one noise word: B = 3, D = 2, K = 1, float64", vectors(3, 2, 1), hidden=True),
        Case("scores of +-20 in float32: B = 4, D = 6, K = 3", loud(4, 6, 3, 20.0, F32), hidden=True),
        Case("B = 2, D = 10, K = 15, float32", vectors(2, 10, 15, F32), hidden=True),
    ]


def _negative_sampling_loss(center, context, negatives) -> torch.Tensor:
    positive = (context * center).sum(-1)  # (B,)   u_o . v_c
    negative = (negatives * center[:, None, :]).sum(-1)  # (B, K)   u_k . v_c
    return (-F.logsigmoid(positive) - F.logsigmoid(-negative).sum(-1)).mean()


def _loss_with(sign=-1, over_k="sum", reduce="mean", naive=False, use_negatives=True, negatives_with="center",
               outer=-1):
    """The loss with one of the known mistakes: sign of the noise words' score inside log sigma (-1 is right),
    over_k "sum" or "mean", reduce "mean", "sum", "none" or "all" (the mean over B (K + 1) terms), naive
    log sigma through sigma, the noise words left out, scored against the context, outer: the overall sign."""

    def answer(center, context, negatives):
        positive = (context * center).sum(-1)
        against = center if negatives_with == "center" else context
        negative = (negatives * against[:, None, :]).sum(-1)
        if naive == "sigmoid-log":  # log sigma(s) as sigmoid(s).log(), with the right signs
            true, noise = torch.sigmoid(positive).log(), torch.sigmoid(-negative).log()
        elif naive:
            true, noise = torch.sigmoid(positive).log(), (1 - torch.sigmoid(negative)).log()
        else:
            true, noise = F.logsigmoid(positive), F.logsigmoid(sign * negative)
        if not use_negatives:
            return outer * true.mean()
        if reduce == "all":
            return outer * torch.cat([true[:, None], noise], dim=1).mean()
        per_example = outer * (true + (noise.sum(-1) if over_k == "sum" else noise.mean(-1)))
        return {"mean": per_example.mean(), "sum": per_example.sum(), "none": per_example}[reduce]

    return answer


NEGATIVE_SAMPLING = Exercise(
    id="08.negative_sampling",
    title="The negative-sampling loss",
    kind="implement",
    points=2,
    prompt=(
        "negative_sampling_loss(center, context, negatives) returns word2vec's negative-sampling loss averaged over "
        "a batch of B examples: for each example, with v_c its centre word's input vector, u_o its context word's "
        "output vector and u_1..u_K the output vectors of K noise words, -log sigma(u_o . v_c) - sum_k log "
        "sigma(-u_k . v_c). center (B, D), context (B, D), negatives (B, K, D) -> a 0-dim tensor in their dtype. "
        "It must stay finite for large scores."
    ),
    reference=_negative_sampling_loss,
    cases=_negative_sampling_cases,
    compare=_loss_compare,
    forbidden=(
        "torch.nn.functional.binary_cross_entropy_with_logits", "torch.binary_cross_entropy_with_logits",
        "torch.ops.aten.binary_cross_entropy_with_logits", "torch.ops.aten.binary_cross_entropy_with_logits.default",
        "torch.nn.functional.binary_cross_entropy", "torch._C._nn.binary_cross_entropy",
        "torch.ops.aten.binary_cross_entropy", "torch.ops.aten.binary_cross_entropy.default",
        "torch.nn.functional.soft_margin_loss", "torch._C._nn.soft_margin_loss", "torch.ops.aten.soft_margin_loss",
        "torch.ops.aten.soft_margin_loss.default", "torch.nn.BCEWithLogitsLoss", "torch.nn.BCELoss",
        "torch.nn.SoftMarginLoss", "helpers.nn.losses.binary_cross_entropy_with_logits",
        "helpers.nn.embedding.negative_sampling_loss",
    ),
    instead="Compute the scores with products and sums (or @, torch.bmm, torch.einsum) and use F.logsigmoid: no "
    "binary cross-entropy or margin loss of torch's, nor the book's loss.",
    hints=[
        "The scores first: s_o = (context * center).sum(-1), one per example (B,), and s_k = (negatives * "
        "center[:, None, :]).sum(-1), the centre vector against each of its K noise words, (B, K).",
        "log(1 - sigmoid(s)) breaks for large s: sigmoid(50) rounds to 1, so it is log 0; sigmoid(s).log() breaks "
        "too, below s = -100 or so in float32, where sigmoid(s) rounds to 0. F.logsigmoid(s) is stable for any s, "
        "and log(1 - sigma(s)) = log sigma(-s).",
        "The noise words' terms are summed over k, then the per-example losses averaged over the batch: "
        "(-F.logsigmoid(s_o) - F.logsigmoid(-s_k).sum(-1)).mean().",
    ],
    wrong={
        "The noise words' sign is flipped: log sigma(u_k . v_c) rewards a noise word for scoring HIGH. They are the "
        "words that are not the context, answered 'no': log sigma(-u_k . v_c) = log(1 - sigma(u_k . v_c)).": (
            _loss_with(sign=1)
        ),
        "The noise words' terms were averaged over k: each of the K is its own binary question, and their losses "
        "are SUMMED (then the examples are averaged).": _loss_with(over_k="mean"),
        "The mean was taken over all B (K + 1) terms, as a binary cross-entropy's default does: per example the K + 1 "
        "terms are summed, and only the B examples are averaged.": _loss_with(reduce="all"),
        "log sigma was computed as torch.sigmoid(s).log(): for a score of -120, sigma(-120) is about 8e-53, below "
        "float32's smallest positive number, so it rounds to 0 and its log is -inf (the true value is -120). "
        "F.logsigmoid(s) never forms sigma(s).": _loss_with(naive="sigmoid-log"),
        "log sigma was computed through sigma: sigma(s) rounds to exactly 1 for s above about 37 (float64) or 17 "
        "(float32), and log(1 - 1) = -inf. F.logsigmoid(-s) gives log(1 - sigma(s)) without rounding.": (
            _loss_with(naive=True)
        ),
        "The noise words were left out: without them every vector can score every word high (the loss goes to 0 by "
        "making all vectors large and alike); the K noise words are what push unrelated words apart.": (
            _loss_with(use_negatives=False)
        ),
        "The sign is wrong: that is the log-likelihood, which training maximises; the loss is its negative, "
        "-log sigma(u_o . v_c) - sum_k log sigma(-u_k . v_c), positive, and minimised.": _loss_with(outer=1),
        "The examples were summed: the loss is averaged over the batch, so that its size (and the learning rate that "
        "suits it) does not depend on B.": _loss_with(reduce="sum"),
        "The per-example losses were returned: the loss is one number, their mean over the batch, .mean().": (
            _loss_with(reduce="none")
        ),
        "The noise words were scored against the context vector: every score is with the CENTRE word's vector v_c, "
        "the true context's u_o . v_c and each noise word's u_k . v_c.": _loss_with(negatives_with="context"),
    },
)

EXERCISES = [SKIPGRAM, NEGATIVE_SAMPLING]
