"""The chapter 9 references against independent oracles: sklearn's PCA and the book's, a linear autoencoder trained
on the digits, abs and sums written out, the book's masking noise (the same draw), torch.func.jacrev's Jacobian, a
loop over the units and exact fractions for the lecture notes' worked example, sklearn's BernoulliRBM with copied
weights and a sum over every hidden configuration. The known mistakes are checked to be what their diagnoses say,
every road to the library is closed, and the worked solutions pass. And the checks that tests/test_catalogue.py
makes of every chapter in CHAPTERS, run on this module directly, so that they hold before the chapter's notebook
exists."""

import itertools
import math
import re
from fractions import Fraction

import numpy as np
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
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA as SklearnPCA
from sklearn.neural_network import BernoulliRBM

from helpers import decomposition
from helpers.exercises import Outcome, feedback
from helpers.exercises.catalogue import CHAPTERS, ch09, of_chapter
from helpers.exercises.catalogue.ch09 import pca, rbm, regularizers, som
from helpers.exercises.catalogue.ch09.shared import CONTRACTIVE, MASKING, PCA, RBM, SOM, SPARSE
from helpers.exercises.forbid import resolve
from helpers.exercises.runner import run
from helpers.exercises.spec import Kind, ResultKind
from helpers.models import autoencoder as books_ae
from helpers.models import rbm as books_rbm
from helpers.models import som as books_som

F64 = torch.float64
EXERCISES = {exercise.id: exercise for exercise in ch09.EXERCISES}
ORDER = ["09.pca_reconstruction", "09.linear_ae", "09.sparse_penalty", "09.corrupt", "09.contractive_penalty",
         "09.som_update", "09.som_example", "09.rbm_free_energy", "09.gibbs_conditionals"]


# ---- the chapter's list (tests/test_catalogue.py checks every exercise: references, wrong answers, stubs) ----


def test_the_chapter_lists_its_exercises_in_order_with_three_kinds():
    assert "ch09" in CHAPTERS
    assert_listed_in_order(ch09.EXERCISES, of_chapter("09"), ORDER)


def test_every_exercise_that_computes_has_four_or_more_public_cases_and_a_hidden_one():
    assert_public_and_hidden_cases(ch09.EXERCISES)


@pytest.mark.parametrize("exercise_id", ORDER)
def test_every_known_mistake_is_named_on_the_public_cases_alone(exercise_id):
    """What tests/test_catalogue.py asks of the strict chapters, here before the chapter's notebook exists."""
    assert_every_mistake_named(EXERCISES[exercise_id])


def test_the_choice_explains_every_option():
    exercise = EXERCISES["09.linear_ae"]
    assert set(exercise.options) == {exercise.reference(), *(wrong() for wrong in exercise.wrong.values())}
    assert exercise.reference() == "b" and pca.LINEAR_AE_QUESTION in exercise.prompt
    assert run(exercise, lambda: " (B) ").outcome is Outcome.CORRECT
    lengths = [len(text) for text in exercise.options.values()]
    assert max(lengths) - min(lengths) < 20, "the right option must not stand out by its length"


# ---- the library answers: right when allowed, worth nothing under the exercise's forbidden list ----------------


def pca_by_sklearn(X, k):
    model = SklearnPCA(k).fit(X.numpy())
    return torch.from_numpy(model.inverse_transform(model.transform(X.numpy()))).to(X.dtype)


def contractive_by_jacrev(x, weight, bias):
    jacobians = torch.func.vmap(torch.func.jacrev(lambda row: torch.sigmoid(weight @ row + bias)))(x)
    return (jacobians**2).sum(dim=(1, 2)).mean()


def som_example_by_the_books_map():
    som_map = books_som.SelfOrganizingMap(1, 2, 4, learning_rate=0.6, sigma=0, decay="none")
    som_map.weights = torch.tensor(som.NOTES_WEIGHTS, dtype=F64)
    som_map.fit(torch.tensor(som.NOTES_SAMPLES, dtype=F64), shuffle=False, history_every=1)
    return som_map.history_[1:]


def sklearn_rbm(W, visible_bias, hidden_bias):
    """An unfitted BernoulliRBM given these weights (components_ is (H, V), as W)."""
    model = BernoulliRBM(n_components=W.shape[0])
    model.components_, model.intercept_visible_, model.intercept_hidden_ = (
        W.numpy(), visible_bias.numpy(), hidden_bias.numpy())
    model.n_features_in_ = W.shape[1]
    return model


def free_energy_by_sklearn(v, W, b, c):
    return torch.from_numpy(np.asarray(sklearn_rbm(W, b, c)._free_energy(v.numpy()))).to(v.dtype)


def conditionals_by_sklearn(v, h, W, b, c):
    hidden = sklearn_rbm(W, b, c).transform(v.numpy())
    visible = sklearn_rbm(W.T.contiguous(), c, b)._mean_hiddens(h.numpy())  # the RBM seen from the other side
    return torch.from_numpy(hidden).to(v.dtype), torch.from_numpy(visible).to(v.dtype)


LIBRARY_ANSWERS = {
    "09.pca_reconstruction": pca_by_sklearn,
    "09.sparse_penalty": lambda code, weight: weight * F.l1_loss(code, torch.zeros_like(code), reduction="sum")
    / len(code),
    "09.corrupt": lambda x, level, generator: books_ae.corrupt(x, "masking", level, generator),
    "09.contractive_penalty": contractive_by_jacrev,
    "09.som_update": books_som.som_update,
    "09.som_example": som_example_by_the_books_map,
    "09.rbm_free_energy": free_energy_by_sklearn,
    "09.gibbs_conditionals": conditionals_by_sklearn,
}


def test_every_exercise_that_computes_has_a_library_answer_and_forbids_names_that_exist():
    asking = {e.id for e in ch09.EXERCISES if e.kind is not Kind.CHOICE}
    assert asking == set(LIBRARY_ANSWERS)
    for exercise in ch09.EXERCISES:
        assert exercise.kind is Kind.CHOICE or exercise.forbidden
        assert all(resolve(name) is not None for name in exercise.forbidden), exercise.id
    assert all(resolve(name) is not None for name in (*PCA, *SPARSE, *MASKING, *CONTRACTIVE, *SOM, *RBM))


@pytest.mark.parametrize("exercise_id", sorted(LIBRARY_ANSWERS))
def test_the_library_answers_agree_with_the_references_when_allowed(exercise_id):
    assert correct(EXERCISES[exercise_id], LIBRARY_ANSWERS[exercise_id]), exercise_id


@pytest.mark.parametrize("exercise_id", sorted(LIBRARY_ANSWERS))
def test_the_library_answers_score_nothing(exercise_id):
    report = run(EXERCISES[exercise_id], LIBRARY_ANSWERS[exercise_id], include_hidden=True)
    assert report.score == 0 and report.first_failure.kind is ResultKind.FORBIDDEN


# ---- the PCA reconstruction against sklearn's PCA and the book's ---------------------------------------------


@pytest.mark.parametrize("case", pca.PCA_RECONSTRUCTION.cases(), ids=label)
def test_the_pca_reconstruction_is_sklearns_and_the_books(case):
    X, k = case.args
    ours = pca.PCA_RECONSTRUCTION.reference(X, k)
    assert ours.shape == X.shape and ours.dtype == X.dtype
    tol = dict(rtol=1e-9, atol=1e-10) if X.dtype == F64 else dict(rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(ours, pca_by_sklearn(X, k), **tol)
    books = decomposition.PCA(k).fit(X)
    torch.testing.assert_close(ours, books.inverse_transform(books.transform(X)), **tol)
    # the principal subspace is well defined: a clear gap between the k-th and the (k+1)-th singular values
    s = torch.linalg.svdvals((X - X.mean(0)).double())
    if k < min(X.shape) - 1:
        assert s[k - 1] > 1.2 * s[k]
    # Eckart-Young: what is left over is the discarded singular values' share, and the centred part has rank k
    residual = ((X.double() - ours.double()) ** 2).sum()
    assert residual.item() == pytest.approx((s[k:] ** 2).sum().item(), rel=1e-3 if X.dtype != F64 else 1e-9,
                                            abs=1e-6 if X.dtype != F64 else 1e-12)
    assert torch.linalg.matrix_rank((ours - X.mean(0)).double(), rtol=1e-5) == k


def pca_by_eigh(X, k):
    mean = X.mean(dim=0)
    covariance = (X - mean).T @ (X - mean) / (len(X) - 1)
    _, vectors = torch.linalg.eigh(covariance)  # ascending eigenvalues
    W = vectors[:, -k:]  # (p, k): the k of largest variance
    return (X - mean) @ W @ W.T + mean


def pca_by_left_vectors(X, k):
    mean = X.mean(dim=0)
    U, _, _ = torch.linalg.svd(X - mean, full_matrices=False)
    return U[:, :k] @ U[:, :k].T @ (X - mean) + mean  # the same projection, seen from the samples' side


def pca_by_full_svd(X, k):
    mean = X.mean(dim=0)
    U, S, Vh = torch.linalg.svd(X - mean)
    return (U[:, :k] * S[:k]) @ Vh[:k] + mean


def test_pca_by_eigh_by_the_left_vectors_and_by_the_full_svd_is_accepted():
    for answer in (pca_by_eigh, pca_by_left_vectors, pca_by_full_svd):
        assert run(pca.PCA_RECONSTRUCTION, answer, include_hidden=True).outcome is Outcome.CORRECT, answer


def test_the_pca_cases_tell_apart_the_least_variance_directions_of_svd_and_eigh():
    public = [c for c in pca.PCA_RECONSTRUCTION.cases() if not c.hidden]
    assert any(c.args[0].shape[0] < c.args[0].shape[1] for c in public), "n < p: eigh's zero directions show"
    assert {c.args[0].dtype for c in public} == {torch.float32, F64}
    assert any(c.args[1] == c.args[0].shape[1] for c in public), "k = p gives X back"
    X, k = next(c.args for c in public if c.args[0].shape[0] < c.args[0].shape[1])
    eigh_first = wrong_answer(pca.PCA_RECONSTRUCTION, "torch.linalg.eigh returns")(X, k)
    torch.testing.assert_close(eigh_first, X.mean(0).expand_as(X), rtol=0, atol=1e-12)  # zero-variance directions


def test_the_pca_mistakes_are_what_they_say():
    X, k = pca.PCA_RECONSTRUCTION.cases()[0].args
    mean = X.mean(0)
    torch.testing.assert_close(wrong_answer(pca.PCA_RECONSTRUCTION, "The mean was not added")(X, k),
                               pca.PCA_RECONSTRUCTION.reference(X, k) - mean)
    torch.testing.assert_close(wrong_answer(pca.PCA_RECONSTRUCTION, "One direction too many")(X, k),
                               pca_by_sklearn(X, k + 1))
    torch.testing.assert_close(wrong_answer(pca.PCA_RECONSTRUCTION, "One direction too few")(X, k),
                               pca_by_sklearn(X, k - 1))
    codes = wrong_answer(pca.PCA_RECONSTRUCTION, "The codes were returned")(X, k)
    model = SklearnPCA(k).fit(X.numpy())
    torch.testing.assert_close(codes.abs(), torch.from_numpy(np.abs(model.transform(X.numpy()))))  # up to sign
    standardised = wrong_answer(pca.PCA_RECONSTRUCTION, "The columns were divided")(X, k)
    scale = X.std(0)
    torch.testing.assert_close(standardised, pca_by_sklearn((X - mean) / scale, k) * scale + mean)


# ---- the linear autoencoder learns PCA's plane, in other axes ---------------------------------------------------


@pytest.fixture(scope="module")
def digits():
    return torch.tensor(load_digits().data / 16, dtype=F64)


def plane_error(X, basis):
    """The mean squared error of the orthogonal projection of the centred X on the span of basis's columns."""
    Q, _ = torch.linalg.qr(basis)
    Xc = X - X.mean(0)
    return ((Xc - Xc @ Q @ Q.T) ** 2).mean().item()


def test_the_linear_autoencoder_reaches_pcas_error_in_pcas_plane_with_other_axes(digits):
    X = digits.float()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = books_ae.Autoencoder(64, 2, activation=None)
    optimiser = torch.optim.Adam(model.parameters(), lr=0.05)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, 600)
    for _ in range(600):
        optimiser.zero_grad()
        loss = ((model(X) - X) ** 2).mean()
        loss.backward()
        optimiser.step()
        schedule.step()
    pca_error = ((pca.PCA_RECONSTRUCTION.reference(digits, 2) - digits) ** 2).mean().item()
    assert loss.item() == pytest.approx(pca_error, rel=1e-3)  # (b): the same error ...
    decoder = model.decoder[0].weight.detach().double()  # (64, 2)
    components = decomposition.PCA(2).fit(digits).components_.T
    assert torch.rad2deg(decomposition.subspace_angles(decoder, components)).max() < 1  # ... in the same plane
    gram = decoder.T @ decoder
    assert (gram - torch.eye(2, dtype=F64)).abs().max() > 1  # (a) is wrong: the columns are not orthonormal


def test_no_plane_beats_pcas_and_the_highest_variance_pixels_are_far_worse(digits):
    best = plane_error(digits, decomposition.PCA(2).fit(digits).components_.T)
    g = torch.Generator().manual_seed(9)
    random_planes = [plane_error(digits, torch.randn(64, 2, generator=g, dtype=F64)) for _ in range(200)]
    assert min(random_planes) > best  # (c) is wrong: Eckart-Young
    top_pixels = digits.var(0).topk(2).indices
    pixel_plane = torch.zeros(64, 2, dtype=F64)
    pixel_plane[top_pixels, [0, 1]] = 1.0
    assert plane_error(digits, pixel_plane) > 1.3 * best  # (d) is wrong


# ---- the sparse penalty, the masking noise and the contractive penalty -------------------------------------------


@pytest.mark.parametrize("case", regularizers.SPARSE_PENALTY.cases(), ids=label)
def test_the_sparse_penalty_is_the_books_and_a_sum_written_out(case):
    code, weight = case.args
    ours = regularizers.SPARSE_PENALTY.reference(code, weight)
    assert ours.shape == () and ours.dtype == code.dtype
    torch.testing.assert_close(ours, books_ae.sparse_penalty(code, weight), **tolerance(code.dtype))
    by_hand = weight * sum(sum(abs(value) for value in row) for row in code.double().tolist()) / len(code)
    assert ours.item() == pytest.approx(by_hand, rel=1e-12 if code.dtype == F64 else 1e-6, abs=1e-15)


NORM_ANSWERS = {
    "torch.linalg.vector_norm": lambda code, weight: weight * torch.linalg.vector_norm(code, ord=1, dim=1).mean(),
    "torch.linalg.norm": lambda code, weight: weight * torch.linalg.norm(code, ord=1, dim=1).mean(),
    "torch.norm": lambda code, weight: weight * torch.norm(code, p=1, dim=1).mean(),
    "torch.Tensor.norm": lambda code, weight: weight * code.norm(p=1, dim=1).mean(),
}


@pytest.mark.parametrize("name", NORM_ANSWERS)
def test_the_sparse_penalty_by_a_norm_is_right_and_forbidden(name):
    answer, exercise = NORM_ANSWERS[name], regularizers.SPARSE_PENALTY
    assert correct(exercise, answer)
    report = run(exercise, answer)
    assert report.score == 0 and report.first_failure.kind is ResultKind.FORBIDDEN
    assert report.first_failure.message.startswith(f"your answer calls {name}: ")
    assert name.removeprefix("torch.") in exercise.prompt and name.removeprefix("torch.") in exercise.instead


def rejected_with(exercise, answer, start):
    """The answer is rejected on the public cases, and on all of them, with the diagnosis that starts with start."""
    for hidden in (False, True):
        report = run(exercise, answer, include_hidden=hidden)
        assert report.outcome is Outcome.INCORRECT and report.detail.startswith(start), (report.detail, hidden)
        assert f"likely cause: {report.detail}" in feedback.text(report)


def test_the_swapped_axes_of_the_sparse_penalty_are_named():
    rejected_with(regularizers.SPARSE_PENALTY, lambda code, weight: weight * code.abs().sum(0).mean(),
                  "The absolute values were summed over the batch")


@pytest.mark.parametrize("case", regularizers.MASK_NOISE.cases(), ids=label)
def test_the_masking_noise_is_the_books_draw_for_draw(case):
    x, level, generator = case.args
    state = generator.get_state()
    ours = regularizers.MASK_NOISE.reference(x, level, torch.Generator().set_state(state))
    books = books_ae.corrupt(x, "masking", level, torch.Generator().set_state(state))
    assert ours.dtype == x.dtype and torch.equal(ours, books)
    zeroed = (ours == 0) & (x != 0)
    assert torch.equal(ours[~zeroed], x[~zeroed]), "the kept entries are unchanged"
    if x.numel() >= 1000:
        assert abs(zeroed.double().mean().item() - level) < 3 * math.sqrt(level * (1 - level) / x.numel())


def mask_in_place(x, level, generator):
    x[torch.rand(x.shape, generator=generator, dtype=x.dtype) < level] = 0
    return x


def test_masking_in_place_is_told_and_torch_where_is_accepted():
    report = run(regularizers.MASK_NOISE, mask_in_place)
    failure = report.first_failure
    assert report.outcome is Outcome.INCORRECT and failure.kind is ResultKind.MODIFIED_INPUT
    assert "changed its input x in place" in feedback.text(report)

    def by_where(x, level, generator):
        u = torch.rand(x.shape, generator=generator, dtype=x.dtype)
        return torch.where(u < level, torch.zeros_like(x), x)

    assert run(regularizers.MASK_NOISE, by_where, include_hidden=True).outcome is Outcome.CORRECT


def inverted_dropout_divided(x, level, generator):
    u = torch.rand(x.shape, generator=generator, dtype=x.dtype)
    return x * (u >= level) / (1 - level)


def inverted_dropout_multiplied(x, level, generator):
    u = torch.rand(x.shape, generator=generator, dtype=x.dtype)
    return x * (u >= level) * (1 / (1 - level))  # level = 1 raises ZeroDivisionError: that case is RAISED


@pytest.mark.parametrize("answer", [inverted_dropout_divided, inverted_dropout_multiplied])
def test_inverted_dropout_is_named_however_it_is_written(answer):
    rejected_with(regularizers.MASK_NOISE, answer, "The kept entries were divided by 1 - level")
    x = regularizers.MASK_NOISE.cases()[1].args[0].double()  # 1000 values: the two roundings differ somewhere
    assert not torch.equal(inverted_dropout_divided(x, 0.3, torch.Generator().manual_seed(0)),
                           inverted_dropout_multiplied(x, 0.3, torch.Generator().manual_seed(0)))


MASKS_WITHOUT_THE_GENERATOR = {
    "torch.rand_like": lambda x, level, generator: x * (torch.rand_like(x) >= level),
    "torch.rand, no generator": lambda x, level, generator: torch.where(
        torch.rand(x.shape, dtype=x.dtype) < level, torch.zeros_like(x), x),
}


@pytest.mark.parametrize("name", MASKS_WITHOUT_THE_GENERATOR)
def test_a_mask_without_the_generator_is_named(name):
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(3)
        rejected_with(regularizers.MASK_NOISE, MASKS_WITHOUT_THE_GENERATOR[name], "The generator was not used")
    assert "Draw u with generator=generator" in next(d for d in regularizers.MASK_NOISE.wrong if "generator was" in d)


def test_the_masks_of_other_mistakes_keep_their_own_diagnosis_and_a_scaled_x_is_no_masking():
    flipped = wrong_answer(regularizers.MASK_NOISE, "The mask is the other way round")
    rejected_with(regularizers.MASK_NOISE, flipped, "The mask is the other way round")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(4)
        report = run(regularizers.MASK_NOISE, lambda x, level, generator: 2 * x * (torch.rand_like(x) >= level))
    assert report.outcome is Outcome.INCORRECT and report.detail == ""


@pytest.mark.parametrize("case", regularizers.CONTRACTIVE_PENALTY.cases(), ids=label)
def test_the_contractive_penalty_is_the_jacobians_squared_norm_and_the_books(case):
    x, weight, bias = case.args
    ours = regularizers.CONTRACTIVE_PENALTY.reference(x, weight, bias)
    assert ours.shape == () and ours.dtype == x.dtype
    torch.testing.assert_close(ours, contractive_by_jacrev(x, weight, bias), **tolerance(x.dtype))
    torch.testing.assert_close(ours, books_ae.contractive_penalty(x, weight, bias), **tolerance(x.dtype))


def test_the_contractive_cases_need_the_transpose_and_the_saturated_case_is_small():
    cases = regularizers.CONTRACTIVE_PENALTY.cases()
    assert cases[0].args[1].shape[0] == cases[0].args[1].shape[1], "the first case is square: x @ W runs"
    untransposed = run(regularizers.CONTRACTIVE_PENALTY, wrong_answer(regularizers.CONTRACTIVE_PENALTY,
                                                                      "The weight was not"))
    assert untransposed.results[0].kind is ResultKind.WRONG_VALUE
    assert all(r.kind is ResultKind.RAISED for r in untransposed.results[1:])
    x, weight, bias = next(c.args for c in cases if "saturated" in c.label)
    h = torch.sigmoid(x @ weight.T + bias)
    assert ((h < 0.05) | (h > 0.95)).double().mean() > 0.5


# ---- the SOM update against the book's, and the worked example against exact fractions ---------------------------


@pytest.mark.parametrize("case", som.SOM_UPDATE.cases(), ids=label)
def test_the_som_update_is_the_books_and_a_loop_over_the_units(case):
    weights, x, lr = case.args
    ours = som.SOM_UPDATE.reference(weights, x, lr)
    assert ours.dtype == weights.dtype and ours.shape == weights.shape
    torch.testing.assert_close(ours, books_som.som_update(weights, x, lr), rtol=0, atol=0)
    distances = [sum((a - b) ** 2 for a, b in zip(x.tolist(), row)) for row in weights.tolist()]
    winner = distances.index(min(distances))  # the first of the nearest
    for j in range(len(weights)):
        moved = weights[j] + lr * (x - weights[j]) if j == winner else weights[j]
        torch.testing.assert_close(ours[j], moved, rtol=0, atol=0)


def som_update_in_place(weights, x, learning_rate):
    j = ((x - weights) ** 2).sum(dim=1).argmin()
    weights[j] += learning_rate * (x - weights[j])
    return weights


def test_the_som_update_in_place_is_told_and_cdist_is_accepted():
    report = run(som.SOM_UPDATE, som_update_in_place)
    assert report.first_failure.kind is ResultKind.MODIFIED_INPUT
    assert "changed its input weights in place" in feedback.text(report)

    def by_cdist(weights, x, learning_rate):
        j = torch.cdist(x[None], weights)[0].argmin()  # the square root changes no winner
        new = weights.clone()
        new[j] = (1 - learning_rate) * weights[j] + learning_rate * x
        return new

    assert run(som.SOM_UPDATE, by_cdist, include_hidden=True).outcome is Outcome.CORRECT


def notes_example_by_fractions():
    """The weights after each sample, with exact fractions: no torch, no catalogue code."""
    w = [[Fraction(str(v)) for v in row] for row in som.NOTES_WEIGHTS]
    eta, steps = Fraction("0.6"), []
    for x in som.NOTES_SAMPLES:
        d2 = [sum((xi - wi) ** 2 for xi, wi in zip(x, row)) for row in w]
        j = d2.index(min(d2))
        w[j] = [wi + eta * (xi - wi) for xi, wi in zip(x, w[j])]
        steps.append([row[:] for row in w])
    return steps


def test_the_worked_example_is_the_exact_one_and_the_books():
    exact = notes_example_by_fractions()
    assert [[float(v) for v in row] for row in exact[1]][0] == [0.888, 0.08, 0.352, 0.032]
    assert [[float(v) for v in row] for row in exact[3]][1] == [0.336, 0.952, 0.904, 0.288]
    ours = som.SOM_EXAMPLE.reference()
    assert ours.shape == (4, 2, 4) and ours.dtype == F64
    torch.testing.assert_close(ours, torch.tensor([[[float(v) for v in row] for row in step] for step in exact],
                                                  dtype=F64), rtol=0, atol=1e-15)
    torch.testing.assert_close(ours, som_example_by_the_books_map(), rtol=0, atol=1e-15)


def test_the_notes_slip_is_rejected_and_named_and_float32_is_accepted():
    # the notes' second step: w - eta (x - w) with w's 0.08 copied as 0.8, then the first entry miswritten
    w, eta = [Fraction(v) for v in ("0.72", "0.2", "0.88", "0.8")], Fraction("0.6")
    by_their_rule = [float(wi - eta * (xi - wi)) for xi, wi in zip(som.NOTES_SAMPLES[1], w)]
    assert by_their_rule == [0.552, 0.32, 1.408, 1.28] and list(som.NOTES_SLIP[1:]) == by_their_rule[1:]
    slip = wrong_answer(som.SOM_EXAMPLE, "That is the lecture notes' second step")()
    assert slip[1, 0].tolist() == list(som.NOTES_SLIP) == [-0.96, 0.32, 1.408, 1.28]
    report = run(som.SOM_EXAMPLE, slip)
    assert report.outcome is Outcome.INCORRECT and "(-0.96, 0.32, 1.408, 1.28)" in report.detail
    assert "after sample 2" in report.first_failure.message
    assert run(som.SOM_EXAMPLE, lambda: som.SOM_EXAMPLE.reference().float()).outcome is Outcome.CORRECT
    assert run(som.SOM_EXAMPLE, som.SOM_EXAMPLE.reference().tolist()).first_failure.kind is ResultKind.WRONG_TYPE


# ---- the RBM against sklearn's BernoulliRBM, the book's, and a sum over every hidden configuration -----------------


def free_energy_by_enumeration(v, W, b, c):
    """-log sum_h exp(-E(v, h)) over all 2^H binary h, in float64: E(v, h) = -b.v - c.h - h^T W v."""
    H = W.shape[0]
    hs = torch.tensor(list(itertools.product([0.0, 1.0], repeat=H)), dtype=F64)  # (2^H, H)
    v, W, b, c = v.double(), W.double(), b.double(), c.double()
    minus_energy = (v @ b)[:, None] + (hs @ c)[None, :] + (v @ W.T) @ hs.T  # (N, 2^H)
    return -torch.logsumexp(minus_energy, dim=1)


@pytest.mark.parametrize("case", rbm.FREE_ENERGY.cases(), ids=label)
def test_the_free_energy_is_sklearns_the_books_and_the_enumerated_one(case):
    v, W, b, c = case.args
    ours = rbm.FREE_ENERGY.reference(*case.args)
    assert ours.shape == (len(v),) and ours.dtype == v.dtype and ours.isfinite().all()
    torch.testing.assert_close(ours, free_energy_by_sklearn(*case.args), **tolerance(v.dtype))
    torch.testing.assert_close(ours, books_rbm.free_energy(*case.args), **tolerance(v.dtype))
    torch.testing.assert_close(ours.double(), free_energy_by_enumeration(*case.args),
                               **(tolerance(F64) if v.dtype == F64 else dict(rtol=1e-5, atol=1e-4)))
    s = v @ W.T + c
    assert not ((s.abs() > 18) & (s.abs() < 40)).any(), "F.softplus's threshold at 20 must not matter"


def test_the_large_inputs_break_the_literal_softplus_only_and_f_softplus_is_accepted():
    naive = wrong_answer(rbm.FREE_ENERGY, "log(1 + exp(s)) was computed literally")
    for case in rbm.FREE_ENERGY.cases():
        v, W, b, c = case.args
        if "large" in case.label:
            assert not naive(*case.args).isfinite().all()
        else:
            torch.testing.assert_close(naive(*case.args), rbm.FREE_ENERGY.reference(*case.args),
                                       **tolerance(v.dtype))
    assert sum("large" in c.label and not c.hidden for c in rbm.FREE_ENERGY.cases()) == 1
    by_softplus = lambda v, W, b, c: -(v @ b) - F.softplus(v @ W.T + c).sum(dim=1)  # noqa: E731
    assert run(rbm.FREE_ENERGY, by_softplus, include_hidden=True).outcome is Outcome.CORRECT


def conditionals_by_enumeration(v, h, W, b, c):
    """P(h_j = 1 | v) and P(v_i = 1 | h) as ratios of exp(-E) with the unit on to the sum with it on and off."""
    def energy(v, h):
        return -(v @ b) - (h @ c) - ((h @ W) * v).sum(-1)

    hidden, visible = torch.empty(len(v), len(c), dtype=F64), torch.empty(len(v), len(b), dtype=F64)
    for n, j in itertools.product(range(len(v)), range(len(c))):
        on, off = h[n].clone(), h[n].clone()
        on[j], off[j] = 1, 0
        e_on, e_off = energy(v[n], on).double(), energy(v[n], off).double()
        hidden[n, j] = 1 / (1 + torch.exp(e_on - e_off))
    for n, i in itertools.product(range(len(v)), range(len(b))):
        on, off = v[n].clone(), v[n].clone()
        on[i], off[i] = 1, 0
        visible[n, i] = 1 / (1 + torch.exp(energy(on, h[n]).double() - energy(off, h[n]).double()))
    return hidden, visible


@pytest.mark.parametrize("case", rbm.CONDITIONALS.cases(), ids=label)
def test_the_conditionals_are_sklearns_the_books_and_ratios_of_energies(case):
    v, h, W, b, c = case.args
    ours = rbm.CONDITIONALS.reference(*case.args)
    assert ours[0].shape == (len(v), len(c)) and ours[1].shape == v.shape and ours[0].dtype == v.dtype
    for mine, theirs in zip(ours, conditionals_by_sklearn(*case.args)):
        torch.testing.assert_close(mine, theirs, **tolerance(v.dtype))
    books = books_rbm.hidden_probabilities(v, W, c), books_rbm.visible_probabilities(h, W, b)
    torch.testing.assert_close(ours, books, **tolerance(v.dtype))
    tol = tolerance(F64) if v.dtype == F64 else dict(rtol=1e-5, atol=1e-6)
    for mine, theirs in zip(ours, conditionals_by_enumeration(*case.args)):
        torch.testing.assert_close(mine.double(), theirs, **tol)


# ---- every road to the library and to the book's helpers is closed ------------------------------------------------


def sparse_by_books(code, weight):
    from helpers.models import sparse_penalty  # the same function, reached through the package

    return sparse_penalty(code, weight)


def contractive_by_autograd(x, weight, bias):
    rows = []
    for row in x:
        leaf = row.clone().requires_grad_(True)
        h = torch.sigmoid(weight @ leaf + bias)
        rows.append(torch.stack([torch.autograd.grad(h[j], leaf, retain_graph=True)[0] for j in range(len(h))]))
    return (torch.stack(rows) ** 2).sum(dim=(1, 2)).mean()


def som_update_by_the_books_winner(weights, x, learning_rate):
    new = weights.clone()
    j = books_som.best_matching_unit(weights, x)
    new[j] += learning_rate * (x - weights[j])
    return new


ROADS = {
    "torch.pca_lowrank": (pca.PCA_RECONSTRUCTION, lambda X, k: (lambda U, S, V: (U * S) @ V.T + X.mean(0))(
        *torch.pca_lowrank(X, q=k, center=True, niter=8)), "torch.pca_lowrank"),
    "the book's PCA": (pca.PCA_RECONSTRUCTION, lambda X, k: (lambda m: m.inverse_transform(m.transform(X)))(
        decomposition.PCA(k).fit(X)), "helpers.decomposition.PCA"),
    "sklearn's TruncatedSVD": (pca.PCA_RECONSTRUCTION, lambda X, k: (lambda m, Xc: torch.from_numpy(
        m.inverse_transform(m.fit_transform(Xc))) + X.mean(0))(
        __import__("sklearn.decomposition").decomposition.TruncatedSVD(k, algorithm="arpack"),
        (X - X.mean(0)).numpy()), "sklearn.decomposition.TruncatedSVD"),
    "the book's sparse penalty": (regularizers.SPARSE_PENALTY, sparse_by_books,
                                  "helpers.models.autoencoder.sparse_penalty"),
    "nn.L1Loss": (regularizers.SPARSE_PENALTY, lambda code, weight: weight * torch.nn.L1Loss(reduction="sum")(
        code, torch.zeros_like(code)) / len(code), "torch.nn.L1Loss"),
    "dropout rescaled": (regularizers.MASK_NOISE, lambda x, level, generator: F.dropout(x, level) * (1 - level),
                         "torch.nn.functional.dropout"),
    "torch.autograd.grad": (regularizers.CONTRACTIVE_PENALTY, contractive_by_autograd, "torch.autograd.grad"),
    "the book's Jacobian penalty": (regularizers.CONTRACTIVE_PENALTY, lambda x, weight, bias: books_ae.jacobian_penalty(
        lambda row: torch.sigmoid(weight @ row + bias), x), "helpers.models.autoencoder.jacobian_penalty"),
    "the book's contractive penalty": (regularizers.CONTRACTIVE_PENALTY, books_ae.contractive_penalty,
                                       "helpers.models.autoencoder.contractive_penalty"),
    "the book's winner": (som.SOM_UPDATE, som_update_by_the_books_winner, "helpers.models.som.best_matching_unit"),
    "the book's update in the example": (som.SOM_EXAMPLE, lambda: torch.stack(list(__import__("itertools").accumulate(
        torch.tensor(som.NOTES_SAMPLES, dtype=F64), lambda w, x: books_som.som_update(w, x, 0.6),
        initial=torch.tensor(som.NOTES_WEIGHTS, dtype=F64)))[1:]), "helpers.models.som.som_update"),
    "the book's free energy": (rbm.FREE_ENERGY, books_rbm.free_energy, "helpers.models.rbm.free_energy"),
    "the book's conditionals": (rbm.CONDITIONALS, lambda v, h, W, b, c: (books_rbm.hidden_probabilities(v, W, c),
                                                                         torch.sigmoid(h @ W + b)),
                                "helpers.models.rbm.hidden_probabilities"),
}


@pytest.mark.parametrize("road", ROADS)
def test_every_road_to_the_library_is_closed(road):
    exercise, answer, name = ROADS[road]
    if road not in ("torch.pca_lowrank", "sklearn's TruncatedSVD", "dropout rescaled"):  # randomised, or k < p only
        assert correct(exercise, answer), road
    report = run(exercise, answer)
    assert report.score == 0 and report.first_failure.kind is ResultKind.FORBIDDEN
    assert report.first_failure.message.startswith(f"your answer calls {name}: ")
    assert exercise.instead in feedback.text(report)


# ---- the worked solutions (as in /work/ch09_builders/answers.py, the answer cells of the chapter's notebook) --


def solution_pca_reconstruct(X, k):
    mean = X.mean(dim=0)
    U, S, Vh = torch.linalg.svd(X - mean, full_matrices=False)
    W = Vh[:k]
    codes = (X - mean) @ W.T
    return codes @ W + mean


def solution_linear_ae():
    return "b"


def solution_sparse_penalty(code, weight):
    l1_norms = code.abs().sum(dim=1)
    return weight * l1_norms.mean()


def solution_mask_noise(x, level, generator):
    u = torch.rand(x.shape, generator=generator, dtype=x.dtype)
    keep = u >= level
    return x * keep


def solution_contractive_penalty(x, weight, bias):
    h = torch.sigmoid(x @ weight.T + bias)
    slopes = (h * (1 - h)) ** 2
    row_norms = (weight**2).sum(dim=1)
    return (slopes @ row_norms).mean()


def solution_som_update(weights, x, learning_rate):
    distances = ((x - weights) ** 2).sum(dim=1)
    j = distances.argmin()
    new = weights.clone()
    new[j] = weights[j] + learning_rate * (x - weights[j])
    return new


def solution_som_worked_example():
    w = torch.tensor([[0.3, 0.5, 0.7, 0.2], [0.6, 0.7, 0.4, 0.3]], dtype=torch.float64)
    samples = torch.tensor([[1, 0, 1, 0], [1, 0, 0, 0], [1, 1, 1, 1], [0, 1, 1, 0]], dtype=torch.float64)
    steps = []
    for x in samples:
        w = solution_som_update(w, x, 0.6)
        steps.append(w)
    return torch.stack(steps)


def solution_free_energy(v, W, b, c):
    hidden_input = v @ W.T + c
    return -(v @ b) - F.softplus(hidden_input).sum(dim=1)


def solution_conditionals(v, h, W, b, c):
    p_h = torch.sigmoid(v @ W.T + c)
    p_v = torch.sigmoid(h @ W + b)
    return p_h, p_v


SOLUTIONS = {"09.pca_reconstruction": solution_pca_reconstruct, "09.linear_ae": solution_linear_ae,
             "09.sparse_penalty": solution_sparse_penalty, "09.corrupt": solution_mask_noise,
             "09.contractive_penalty": solution_contractive_penalty, "09.som_update": solution_som_update,
             "09.som_example": solution_som_worked_example, "09.rbm_free_energy": solution_free_energy,
             "09.gibbs_conditionals": solution_conditionals}


@pytest.mark.parametrize("exercise_id", ORDER)
def test_the_worked_solutions_pass(exercise_id):
    report = run(EXERCISES[exercise_id], SOLUTIONS[exercise_id], include_hidden=True)
    assert report.outcome is Outcome.CORRECT, report.first_failure


# ---- the mistakes the review found without a diagnosis, written as a student would -----------------------------


def pca_codes_times_eigenvalues(X, k):
    mean = X.mean(dim=0)
    _, S, Vh = torch.linalg.svd(X - mean, full_matrices=False)
    eigenvalues = S[:k] ** 2 / (len(X) - 1)  # the covariance's, the variances along the directions
    return ((X - mean) @ Vh[:k].T * eigenvalues) @ Vh[:k] + mean


def pca_directions_of_uncentred_data(X, k):
    mean = X.mean(dim=0)
    Vh = torch.linalg.svd(X, full_matrices=False).Vh
    return (X - mean) @ Vh[:k].T @ Vh[:k] + mean


def test_the_pca_mistakes_of_the_notes_and_of_the_uncentred_svd_are_named():
    rejected_with(pca.PCA_RECONSTRUCTION, pca_codes_times_eigenvalues, "The codes were multiplied by the eigenvalues")
    rejected_with(pca.PCA_RECONSTRUCTION, pca_directions_of_uncentred_data, "The directions came from the SVD of X")


def contractive_detached_code(x, weight, bias):
    h = torch.sigmoid(x @ weight.T + bias).detach()  # the code's dependence on the weight is cut
    return ((h * (1 - h)) ** 2 @ (weight**2).sum(dim=1)).mean()


def test_a_detached_contractive_penalty_is_told_by_its_gradient():
    exercise = regularizers.CONTRACTIVE_PENALTY
    case = next(c for c in exercise.cases() if c.args[1].requires_grad)
    assert not case.hidden
    x, weight, bias = (a.detach().clone() for a in case.args)
    weight.requires_grad_()
    torch.testing.assert_close(contractive_detached_code(x, weight, bias), exercise.reference(x, weight, bias))
    (wanted,) = torch.autograd.grad(contractive_by_jacrev(x, weight, bias), weight)  # the oracle's gradient
    (got,) = torch.autograd.grad(contractive_detached_code(x, weight, bias), weight)
    assert (got - wanted).abs().max() > 1e-3
    report = run(exercise, contractive_detached_code)
    assert report.outcome is Outcome.INCORRECT and [r.case.label for r in report.results if not r.passed] == [
        case.label]
    assert "gradient with respect to the weight" in report.first_failure.message
    # the grader records values only (detached): there, and for an answer under torch.no_grad, the value decides
    assert run(exercise, lambda x, weight, bias: contractive_detached_code(x, weight, bias).detach(),
               include_hidden=True).outcome is Outcome.CORRECT


def som_update_by_l1(weights, x, learning_rate):
    j = (x - weights).abs().sum(dim=1).argmin()
    new = weights.clone()
    new[j] = weights[j] + learning_rate * (x - weights[j])
    return new


def test_an_l1_winner_gets_its_own_diagnosis_and_the_place_reads_as_unit_and_entry():
    rejected_with(som.SOM_UPDATE, som_update_by_l1, "The winner was picked by the L1 distance")
    report = run(som.SOM_UPDATE, lambda weights, x, learning_rate: weights.clone())
    weights, x, lr = report.first_failure.case.args
    difference = (som.SOM_UPDATE.reference(weights, x, lr) - weights).abs()
    unit, entry = divmod(int(difference.flatten().argmax()), weights.shape[1])  # close() names the largest gap
    assert (unit, entry) == (3, 1)
    assert f"unit {unit} (row {unit}), entry {entry}:" in report.first_failure.message
    assert "flat index" not in report.first_failure.message


def som_example_appended_then_updated(w=None):
    w = torch.tensor(som.NOTES_WEIGHTS, dtype=F64)
    steps = []
    for x in torch.tensor(som.NOTES_SAMPLES, dtype=F64):
        j = ((x - w) ** 2).sum(dim=1).argmin()
        w[j] += 0.6 * (x - w[j])
        steps.append(w)  # the same tensor, four times
    return torch.stack(steps)


def test_the_example_appended_and_updated_in_place_is_named():
    rejected_with(som.SOM_EXAMPLE, som_example_appended_then_updated, "All four entries are the final weights")


def numbers_in(text):
    return [float(token) for token in re.findall(r"-?\d+\.\d+", text)]


def test_the_example_feedback_never_shows_the_weights_after_samples_2_to_4():
    exact = notes_example_by_fractions()
    shown = {float(v) for row in exact[0] for v in row} | {v for row in som.NOTES_WEIGHTS for v in row}
    secret = {float(v) for step in exact[1:] for row in step for v in row} - shown
    assert {0.888, 0.352, 0.84, 0.336, 0.952, 0.904, 0.288} <= secret
    right = torch.tensor([[[float(v) for v in row] for row in step] for step in exact], dtype=F64)
    answers = [torch.zeros(4, 2, 4, dtype=F64)]
    for s, unit in itertools.product(range(1, 4), range(2)):  # right up to one unit of one sample, then zeros
        partly = right.clone()
        partly[s, unit:] = 0
        partly[s + 1:] = 0
        answers.append(partly)
    for s in range(1, 4):  # right but for one entry, everywhere after sample s
        partly = right.clone()
        partly[s:, :, 0] += 0.5
        answers.append(partly)
    for answer in answers:
        report = run(som.SOM_EXAMPLE, lambda answer=answer: answer, include_hidden=True)
        assert report.outcome is Outcome.INCORRECT
        leaked = [v for v in numbers_in(feedback.text(report)) if any(abs(v - w) < 1e-9 for w in secret)]
        assert not leaked, (feedback.text(report), leaked)
    s2 = right.clone()
    s2[1:] = 0
    message = run(som.SOM_EXAMPLE, lambda: s2).first_failure.message
    assert message.startswith("after sample 2") and "unit 1 is the nearer to x2" in message
    s3 = right.clone()
    s3[2:] = 0
    assert "unit 2 is the nearer to x3" in run(som.SOM_EXAMPLE, lambda: s3).first_failure.message
    assert "0.888" not in "".join(som.SOM_EXAMPLE.wrong) + "".join(som.SOM_EXAMPLE.hints)


def free_energy_b_and_c_swapped(v, W, b, c):
    return -(v @ c) - F.softplus(v @ W.T + b).sum(dim=1)


def conditionals_in_the_other_order(v, h, W, b, c):
    return torch.sigmoid(h @ W + b), torch.sigmoid(v @ W.T + c)


def conditionals_sampled(v, h, W, b, c):
    return torch.bernoulli(torch.sigmoid(v @ W.T + c)), torch.bernoulli(torch.sigmoid(h @ W + b))


def test_the_rbm_mistakes_of_the_review_are_named():
    rejected_with(rbm.FREE_ENERGY, free_energy_b_and_c_swapped, "The biases b and c were swapped")
    rejected_with(rbm.CONDITIONALS, conditionals_in_the_other_order, "The two were returned in the other order")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(5)
        rejected_with(rbm.CONDITIONALS, conditionals_sampled, "The units were sampled")


def test_the_catalogue_writes_logaddexp_with_a_tensor():
    zero_and_a_number = "logaddexp(0"
    for exercise in (rbm.FREE_ENERGY, rbm.CONDITIONALS):
        texts = [exercise.prompt, exercise.instead, *exercise.hints, *exercise.wrong,
                 *(case.why_for(None) for case in exercise.cases())]
        assert not any(zero_and_a_number in text for text in texts)
    s = torch.tensor([100.0, -120.0, 1.0])
    with pytest.raises(TypeError):
        torch.logaddexp(0, s)
    torch.testing.assert_close(torch.logaddexp(torch.zeros_like(s), s), F.softplus(s))


@pytest.mark.parametrize("exercise_id", [i for i in ORDER if EXERCISES[i].kind is not Kind.CHOICE])
def test_the_stubs_are_not_attempted(exercise_id):
    def stub(*args):
        raise NotImplementedError()

    assert run(EXERCISES[exercise_id], stub, include_hidden=True).outcome is Outcome.NOT_ATTEMPTED
