"""The chapter 10 references against independent oracles: torch.distributions' KL and a numerical integral, the affine
transform of eps and the reparameterized sample's statistics, F.binary_cross_entropy and a loop over the pixels,
BCE-with-logits and softplus written with math, SciPy's normal density, autograd through a detached sum that has
the reversed gradient, and the book's own functions. The known mistakes are checked to be what their diagnoses say,
every road to the library is closed, the worked solutions pass, and a small VAE trained both ways shows what 10.4
claims. And the checks that tests/test_catalogue.py makes of every chapter in CHAPTERS, run on this module directly,
so that they hold before the chapter is registered and its notebook exists."""

import importlib
import importlib.util
import math
import statistics

import pytest
import scipy.integrate
import scipy.stats
import torch
import torch.nn.functional as F
from catalogue_support import (
    assert_listed_in_order,
    assert_public_and_hidden_cases,
    correct,
    label,
    tolerance,
    wrong_answer,
)
from sklearn.datasets import load_digits
from torch import nn
from torch.distributions import Normal, kl_divergence
from torch.distributions.transforms import AffineTransform

from helpers.exercises import Outcome, feedback
from helpers.exercises.catalogue import CHAPTERS, ch10, of_chapter
from helpers.exercises.catalogue.ch10 import domain, elbo, gan, shared, vae
from helpers.exercises.forbid import resolve
from helpers.exercises.grading.probe import plain
from helpers.exercises.runner import call_all, judge, run
from helpers.exercises.spec import Call, Kind, ResultKind

F64 = torch.float64
EXERCISES = {exercise.id: exercise for exercise in ch10.EXERCISES}
ORDER = ["10.gaussian_kl", "10.reparameterize", "10.negative_elbo", "10.averaged_bce", "10.discriminator_loss",
         "10.generator_loss", "10.optimal_discriminator", "10.gradient_reversal"]


def books(module):
    """The book's module (helpers.models.vae, ...), or a skip while it is still being written."""
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not written yet")
    return importlib.import_module(module)


# ---- the chapter's list (tests/test_catalogue.py checks every exercise: references, wrong answers, stubs) ----


def test_the_chapter_lists_its_exercises_in_order_with_three_kinds():
    assert "ch10" in CHAPTERS
    assert_listed_in_order(ch10.EXERCISES, of_chapter("10"), ORDER)


def test_every_exercise_that_computes_has_four_or_more_public_cases_and_a_hidden_one():
    assert_public_and_hidden_cases(ch10.EXERCISES)


def test_the_choice_takes_a_letter_and_no_option_stands_out_by_its_length():
    exercise = EXERCISES["10.averaged_bce"]
    assert exercise.reference() == "b" and elbo.AVERAGED_QUESTION in exercise.prompt
    assert run(exercise, lambda: " (B) ").outcome is Outcome.CORRECT
    lengths = [len(text) for text in exercise.options.values()]
    assert max(lengths) - min(lengths) < 20, "the right option must not stand out by its length"


# ---- the library answers: right when allowed, worth nothing under the exercise's forbidden list ----------------


def kl_by_torch(mu, log_var):
    return kl_divergence(Normal(mu, torch.exp(0.5 * log_var)), Normal(torch.zeros_like(mu), torch.ones_like(mu)))


def elbo_by_torch(x_hat, x, mu, log_var):
    return (F.binary_cross_entropy(x_hat, x, reduction="sum") + kl_by_torch(mu, log_var).sum()) / len(x)


def discriminator_loss_by_bce(real_logits, fake_logits):
    return (F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
            + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)))


def d_star_by_scipy():
    p_data, p_g = scipy.stats.norm.pdf(gan.X0, *gan.DATA), scipy.stats.norm.pdf(gan.X0, *gan.MODEL)
    return float(p_data / (p_data + p_g))


def reversal_by_the_books(x, lambd, grad_output):
    from helpers.nn.gradient_reversal import grad_reverse

    x = x.detach().requires_grad_(True)
    y = grad_reverse(x, lambd)
    return y.detach(), torch.autograd.grad(y, x, grad_output)[0]


LIBRARY_ANSWERS = {
    "10.gaussian_kl": kl_by_torch,
    "10.reparameterize": lambda mu, log_var, eps: AffineTransform(mu, torch.exp(0.5 * log_var))(eps),
    "10.negative_elbo": elbo_by_torch,
    "10.discriminator_loss": discriminator_loss_by_bce,
    "10.generator_loss": lambda fake_logits: F.binary_cross_entropy_with_logits(
        fake_logits, torch.ones_like(fake_logits)),
    "10.optimal_discriminator": d_star_by_scipy,
    "10.gradient_reversal": reversal_by_the_books,
}


def test_every_exercise_that_computes_has_a_library_answer_and_forbids_something():
    asking = {e.id for e in ch10.EXERCISES if e.kind is not Kind.CHOICE}
    assert asking == set(LIBRARY_ANSWERS)
    assert all(e.kind is Kind.CHOICE or e.forbidden for e in ch10.EXERCISES)


def test_the_forbidden_library_names_exist():
    """Every forbidden name outside the book's chapter-10 modules resolves now (torch, SciPy, the standard library,
    the book's older modules)."""
    for exercise in ch10.EXERCISES:
        library = [n for n in exercise.forbidden if not n.startswith(tuple(m + "." for m in shared.BOOKS_MODULES))]
        assert all(resolve(name) is not None for name in library), (exercise.id, library)


@pytest.mark.parametrize("module", shared.BOOKS_MODULES)
def test_the_forbidden_names_of_the_books_modules_exist_once_they_are_written(module):
    """The book's references are forbidden by their public names: resolve() gives None (nothing forbidden) for a
    module that does not exist yet, so these are checked as soon as each module is there."""
    books(module)
    names = {n for e in ch10.EXERCISES for n in e.forbidden if n.startswith(module + ".")}
    assert names and all(resolve(name) is not None for name in names), names


@pytest.mark.parametrize("exercise_id", sorted(LIBRARY_ANSWERS))
def test_the_library_answers_agree_with_the_references_when_allowed(exercise_id):
    assert correct(EXERCISES[exercise_id], LIBRARY_ANSWERS[exercise_id]), exercise_id


@pytest.mark.parametrize("exercise_id", sorted(LIBRARY_ANSWERS))
def test_the_library_answers_score_nothing(exercise_id):
    report = run(EXERCISES[exercise_id], LIBRARY_ANSWERS[exercise_id], include_hidden=True)
    assert report.score == 0 and report.first_failure.kind is ResultKind.FORBIDDEN


# ---- the KL term against torch.distributions and a numerical integral ----------------------------------------


@pytest.mark.parametrize("case", vae.GAUSSIAN_KL_EXERCISE.cases(), ids=label)
def test_the_kl_is_torch_distributions_and_the_books(case):
    mu, log_var = case.args
    ours = vae.GAUSSIAN_KL_EXERCISE.reference(mu, log_var)
    assert ours.shape == mu.shape and ours.dtype == mu.dtype and (ours >= 0).all()
    torch.testing.assert_close(ours, kl_by_torch(mu, log_var), **tolerance(mu.dtype))
    torch.testing.assert_close(ours, books("helpers.models.vae").gaussian_kl(mu, log_var), **tolerance(mu.dtype))


def test_the_kl_is_the_integral_of_q_log_q_over_p():
    mu, log_var = vae.GAUSSIAN_KL_EXERCISE.cases()[0].args
    for m, lv in zip(mu.flatten().tolist()[:4], log_var.flatten().tolist()[:4]):
        q = scipy.stats.norm(m, math.exp(lv / 2))
        integral, _ = scipy.integrate.quad(lambda z, q=q: q.pdf(z) * (q.logpdf(z) - scipy.stats.norm.logpdf(z)),
                                           m - 30 * q.std(), m + 30 * q.std(), limit=200)
        ours = vae.GAUSSIAN_KL_EXERCISE.reference(torch.tensor(m, dtype=F64), torch.tensor(lv, dtype=F64)).item()
        assert ours == pytest.approx(integral, rel=1e-8, abs=1e-10)


def test_the_kl_cases_say_true_numbers_and_the_zero_case_is_zero():
    cases = vae.GAUSSIAN_KL_EXERCISE.cases()
    zero = next(c for c in cases if "the posterior is the prior" in c.label)
    assert torch.equal(vae.GAUSSIAN_KL_EXERCISE.reference(*zero.args), torch.zeros(3, 2, dtype=F64))
    mu, log_var = next(c.args for c in cases if "large" in c.label)
    kl = vae.GAUSSIAN_KL_EXERCISE.reference(mu, log_var)
    assert kl[0, 0].item() == pytest.approx(15, abs=0.5) and kl[1, 0].item() == pytest.approx(5e12, rel=0.1)
    notes = wrong_answer(vae.GAUSSIAN_KL_EXERCISE, "That is the lecture notes'")
    sigma = torch.exp(0.5 * log_var)
    torch.testing.assert_close(notes(mu, log_var), sigma**2 + mu**2 - torch.log(sigma) - 1)  # the notes, as written
    minus = wrong_answer(vae.GAUSSIAN_KL_EXERCISE, "That is -KL")(mu, log_var)
    torch.testing.assert_close(minus, -kl)


def kl_through_the_standard_deviation(mu, log_var):
    std = torch.exp(0.5 * log_var)
    return torch.log(1 / std) + (std**2 + mu**2) / 2 - 0.5


def test_other_ways_of_writing_the_kl_are_accepted():
    for answer in (kl_through_the_standard_deviation,
                   lambda mu, log_var: -0.5 * (1 + log_var - mu**2 - log_var.exp())):
        assert run(vae.GAUSSIAN_KL_EXERCISE, answer, include_hidden=True).outcome is Outcome.CORRECT


# ---- the reparameterized sample ----------------------------------------------------------------------------------


@pytest.mark.parametrize("case", vae.REPARAMETERIZE_EXERCISE.cases(), ids=label)
def test_the_sample_is_the_affine_transform_of_eps_and_the_books(case):
    mu, log_var, eps = case.args
    ours = vae.REPARAMETERIZE_EXERCISE.reference(mu, log_var, eps)
    assert ours.shape == mu.shape and ours.dtype == mu.dtype
    torch.testing.assert_close(ours, AffineTransform(mu, torch.exp(0.5 * log_var))(eps), **tolerance(mu.dtype))
    torch.testing.assert_close(ours, books("helpers.models.vae").reparameterize(mu, log_var, eps),
                               **tolerance(mu.dtype))


def test_the_sample_has_the_posteriors_moments_and_rsamples_gradients():
    mu, log_var = torch.tensor([1.5, -2.0], dtype=F64), torch.tensor([0.4, -1.2], dtype=F64)
    eps = torch.randn(200_000, 2, generator=torch.Generator().manual_seed(0), dtype=F64)
    z = vae.REPARAMETERIZE_EXERCISE.reference(mu, log_var, eps)
    assert torch.allclose(z.mean(0), mu, atol=0.01) and torch.allclose(z.var(0), log_var.exp(), rtol=0.01)
    # the gradients of Normal(mu, sigma).rsample() after the same seed, where rsample draws its own eps
    leaf_mu, leaf_log_var = mu.clone().requires_grad_(), log_var.clone().requires_grad_()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(1)
        sample = Normal(leaf_mu, torch.exp(0.5 * leaf_log_var)).rsample()
        torch.manual_seed(1)
        drawn = torch.randn(2, dtype=F64)
    wanted = torch.autograd.grad(sample.sum(), (leaf_mu, leaf_log_var))
    ours = vae.REPARAMETERIZE_EXERCISE.reference(leaf_mu, leaf_log_var, drawn)
    torch.testing.assert_close(ours, sample, rtol=0, atol=1e-15)
    torch.testing.assert_close(torch.autograd.grad(ours.sum(), (leaf_mu, leaf_log_var)), wanted, rtol=1e-12, atol=0)


def detached_scale(mu, log_var, eps):
    return mu + torch.exp(0.5 * log_var.detach()) * eps  # the encoder's log_var no longer learns


def test_a_sample_detached_from_log_var_is_told_by_its_gradient_and_a_fresh_draw_is_forbidden():
    exercise = vae.REPARAMETERIZE_EXERCISE
    report = run(exercise, detached_scale, include_hidden=True)
    failing = [r for r in report.results if not r.passed]
    assert report.outcome is Outcome.INCORRECT and len(failing) == 1 and not failing[0].case.hidden
    assert "gradient with respect to log_var" in failing[0].message
    for name, answer in {"torch.randn_like": lambda mu, log_var, eps: mu + torch.exp(0.5 * log_var) * torch.randn_like(
            mu), "torch.distributions.Normal.rsample": lambda mu, log_var, eps: Normal(
            mu, torch.exp(0.5 * log_var)).rsample()}.items():
        report = run(exercise, answer)
        assert report.first_failure.kind is ResultKind.FORBIDDEN
        assert report.first_failure.message.startswith(f"your answer calls {name}: ")
        assert "eps is given" in feedback.text(report)


# ---- the negative ELBO against F.binary_cross_entropy and a loop over the pixels ---------------------------------


def elbo_by_loops(x_hat, x, mu, log_var):
    """In Python floats: per image, the sum over the pixels of -(t log p + (1 - t) log(1 - p)) and over the latent
    dimensions of 1/2 (exp(lv) + m^2 - 1 - lv); then the mean over the images."""
    per_image = []
    for p_row, t_row, m_row, lv_row in zip(x_hat.tolist(), x.tolist(), mu.tolist(), log_var.tolist()):
        bce = -sum(t * math.log(p) + (1 - t) * math.log(1 - p) for p, t in zip(p_row, t_row))
        kl = sum(0.5 * (math.exp(lv) + m * m - 1 - lv) for m, lv in zip(m_row, lv_row))
        per_image.append(bce + kl)
    return sum(per_image) / len(per_image)


@pytest.mark.parametrize("case", elbo.NEGATIVE_ELBO_EXERCISE.cases(), ids=label)
def test_the_negative_elbo_is_torchs_the_loops_and_the_books(case):
    x_hat, x, mu, log_var = case.args
    ours = elbo.NEGATIVE_ELBO_EXERCISE.reference(*case.args)
    assert ours.shape == () and ours.dtype == x.dtype
    torch.testing.assert_close(ours, elbo_by_torch(*case.args), **tolerance(x.dtype))
    assert ours.item() == pytest.approx(elbo_by_loops(*case.args), rel=1e-12 if x.dtype == F64 else 1e-5)
    torch.testing.assert_close(ours, books("helpers.models.vae").negative_elbo(*case.args), **tolerance(x.dtype))


def elbo_with_the_default_bce(x_hat, x, mu, log_var):
    return F.binary_cross_entropy(x_hat, x) + (0.5 * (log_var.exp() + mu**2 - 1 - log_var)).sum(dim=1).mean()


def elbo_detached_kl(x_hat, x, mu, log_var):
    kl = 0.5 * (log_var.exp() + mu**2 - 1 - log_var)
    return F.binary_cross_entropy(x_hat, x, reduction="sum") / len(x) + kl.sum(dim=1).mean().detach()


def test_the_default_reduction_is_named_and_summed_bce_is_accepted_and_a_detached_kl_is_told():
    exercise = elbo.NEGATIVE_ELBO_EXERCISE
    report = run(exercise, elbo_with_the_default_bce)
    assert report.outcome is Outcome.INCORRECT and report.detail.startswith("The BCE was averaged over the pixels")
    assert "exercise 10.4 asks" in report.detail and f"likely cause: {report.detail}" in feedback.text(report)

    def summed(x_hat, x, mu, log_var):
        kl = 0.5 * (log_var.exp() + mu**2 - 1 - log_var)
        return (F.binary_cross_entropy(x_hat, x, reduction="sum") + kl.sum()) / len(x)

    assert run(exercise, summed, include_hidden=True).outcome is Outcome.CORRECT
    failing = [r for r in run(exercise, elbo_detached_kl, include_hidden=True).results if not r.passed]
    assert len(failing) == 1 and "gradient with respect to log_var and mu is not" in failing[0].message


# ---- the averaged BCE collapses the posterior: a small VAE on the digits, trained both ways -------------------


def train_small_vae(reduction, steps=120, seed=0):
    """A 64 -> 64 -> 2 (x2) VAE on 500 digits, full-batch Adam; returns (KL per image, spread of the codes' means,
    summed BCE of the reconstructions from the means, final loss)."""
    x = torch.tensor(load_digits().data[:500] / 16, dtype=torch.float32)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        encoder = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 4))
        decoder = nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 64))
    optimiser = torch.optim.Adam([*encoder.parameters(), *decoder.parameters()], lr=1e-2)
    g = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        mu, log_var = encoder(x).chunk(2, dim=1)
        x_hat = torch.sigmoid(decoder(vae.REPARAMETERIZE_EXERCISE.reference(
            mu, log_var, torch.randn(mu.shape, generator=g))))
        bce = F.binary_cross_entropy(x_hat, x, reduction="none")
        recon = bce.sum(dim=1) if reduction == "sum" else bce.mean(dim=1)
        loss = (recon + vae.GAUSSIAN_KL_EXERCISE.reference(mu, log_var).sum(dim=1)).mean()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    with torch.no_grad():
        mu, log_var = encoder(x).chunk(2, dim=1)
        kl = vae.GAUSSIAN_KL_EXERCISE.reference(mu, log_var).sum(dim=1).mean().item()
        reconstruction = F.binary_cross_entropy(torch.sigmoid(decoder(mu)), x, reduction="sum").item() / len(x)
    return kl, mu.std(dim=0).max().item(), reconstruction, loss.item()


def test_the_averaged_bce_collapses_the_posterior_and_the_summed_one_does_not():
    kl_sum, spread_sum, recon_sum, loss_sum = train_small_vae("sum")
    kl_mean, spread_mean, recon_mean, loss_mean = train_small_vae("mean")
    assert kl_mean < 1e-3 < 1 < kl_sum  # (b): the posteriors sit on the prior, KL near 0
    assert spread_mean < 0.05 < 0.5 < spread_sum  # the codes' means hardly move with the image
    assert recon_mean > 1.1 * recon_sum  # (a), (c): another optimum, with worse reconstructions
    assert math.isfinite(loss_mean) and math.isfinite(loss_sum) and loss_mean > 0  # (d): no divergence


# ---- the GAN losses against BCE-with-logits and math ----------------------------------------------------------


def softplus_by_math(u):
    return max(u, 0.0) + math.log1p(math.exp(-abs(u)))


@pytest.mark.parametrize("case", gan.DISCRIMINATOR_LOSS.cases(), ids=label)
def test_the_discriminator_loss_is_bce_with_logits_math_and_the_books(case):
    real, fake = case.args
    ours = gan.DISCRIMINATOR_LOSS.reference(real, fake)
    assert ours.shape == () and ours.dtype == real.dtype and ours.isfinite()
    torch.testing.assert_close(ours, discriminator_loss_by_bce(real, fake), **tolerance(real.dtype))
    by_math = (sum(softplus_by_math(-u) for u in real.tolist()) / len(real)
               + sum(softplus_by_math(u) for u in fake.tolist()) / len(fake))
    assert ours.item() == pytest.approx(by_math, rel=1e-12 if real.dtype == F64 else 1e-6)
    gan_module = books("helpers.models.gan")
    torch.testing.assert_close(ours, gan_module.discriminator_loss(real, fake), **tolerance(real.dtype))
    torch.testing.assert_close(ours, -gan_module.value_function(real, fake), **tolerance(real.dtype))


@pytest.mark.parametrize("case", gan.GENERATOR_LOSS.cases(), ids=label)
def test_the_generator_loss_is_bce_with_label_one_math_and_the_books(case):
    (fake,) = case.args
    ours = gan.GENERATOR_LOSS.reference(fake)
    assert ours.shape == () and ours.dtype == fake.dtype and ours.isfinite()
    torch.testing.assert_close(ours, LIBRARY_ANSWERS["10.generator_loss"](fake), **tolerance(fake.dtype))
    by_math = sum(softplus_by_math(-u) for u in fake.tolist()) / len(fake)
    assert ours.item() == pytest.approx(by_math, rel=1e-12 if fake.dtype == F64 else 1e-6)
    gan_module = books("helpers.models.gan")
    torch.testing.assert_close(ours, gan_module.generator_loss(fake), **tolerance(fake.dtype))
    saturating = wrong_answer(gan.GENERATOR_LOSS, "That is the minimax (saturating) loss")
    torch.testing.assert_close(saturating(fake), gan_module.generator_loss(fake, saturating=True),
                               **tolerance(fake.dtype))


def test_the_confident_logits_break_log_sigmoid_only():
    for exercise, start in ((gan.DISCRIMINATOR_LOSS, "log(sigmoid(l)) overflows"),
                            (gan.GENERATOR_LOSS, "log(sigmoid(l)) underflows")):
        naive = wrong_answer(exercise, start)
        public = [c for c in exercise.cases() if not c.hidden]
        for case in public:
            if "confident" in case.label:
                assert naive(*case.args).isinf()
            else:
                dtype = case.args[0].dtype
                torch.testing.assert_close(naive(*case.args), exercise.reference(*case.args),
                                           **(tolerance(F64) if dtype == F64 else dict(rtol=1e-5, atol=1e-6)))
        assert sum("confident" in c.label for c in public) == 1


def test_the_saturating_gradient_vanishes_where_the_why_says():
    rejected = next(c.args[0] for c in gan.GENERATOR_LOSS.cases() if "rejects" in c.label).clone().requires_grad_()
    (slope,) = torch.autograd.grad(gan.GENERATOR_LOSS.reference(rejected), rejected)
    saturating = wrong_answer(gan.GENERATOR_LOSS, "That is the minimax (saturating) loss")
    (vanishing,) = torch.autograd.grad(saturating(rejected), rejected)
    n = len(rejected)
    assert slope[0].item() * n == pytest.approx(-0.99995, abs=1e-5)
    assert vanishing[0].item() * n == pytest.approx(-0.000045, rel=0.01)
    assert torch.sigmoid(torch.tensor(-10.0)).item() == pytest.approx(4.5e-5, rel=0.01)
    assert torch.allclose(slope * n, -torch.sigmoid(-rejected.detach()))
    assert (slope.abs() > 1000 * vanishing.abs()).all()  # at every one of the rejected fakes


def discriminator_by_logsigmoid(real_logits, fake_logits):
    return -F.logsigmoid(real_logits).mean() - F.logsigmoid(-fake_logits).mean()


def discriminator_by_log1p(real_logits, fake_logits):
    return -torch.log(torch.sigmoid(real_logits)).mean() - torch.log1p(-torch.sigmoid(fake_logits)).mean()


def generator_minimax_as_written(fake_logits):
    return torch.log(1 - torch.sigmoid(fake_logits)).mean()


def test_the_gan_losses_written_as_students_do():
    assert run(gan.DISCRIMINATOR_LOSS, discriminator_by_logsigmoid, include_hidden=True).outcome is Outcome.CORRECT
    assert run(gan.GENERATOR_LOSS, lambda fake: -F.logsigmoid(fake).mean(), include_hidden=True).outcome is (
        Outcome.CORRECT)
    rejected_with(gan.DISCRIMINATOR_LOSS, discriminator_by_log1p, "log(sigmoid(l)) overflows")
    rejected_with(gan.GENERATOR_LOSS, generator_minimax_as_written, "That is the minimax (saturating) loss")
    rejected_with(gan.GENERATOR_LOSS, lambda fake: F.logsigmoid(fake).mean(), "The sign is flipped")
    rejected_with(gan.GENERATOR_LOSS, lambda fake: -F.logsigmoid(-fake).mean(), "That is the discriminator's loss")


# ---- the optimal discriminator against SciPy's densities -------------------------------------------------------


def test_the_optimal_discriminator_is_scipys_and_the_books_and_the_normalisation_matters():
    ours = gan.OPTIMAL_DISCRIMINATOR.reference()
    assert ours == pytest.approx(d_star_by_scipy(), rel=1e-12)
    gan_module = books("helpers.models.gan")
    x0 = torch.tensor([gan.X0], dtype=F64)
    books_d = gan_module.optimal_discriminator(gan_module.normal_pdf(x0, *gan.DATA),
                                               gan_module.normal_pdf(x0, *gan.MODEL))
    assert ours == pytest.approx(books_d.item(), rel=1e-12)
    unnormalised = wrong_answer(gan.OPTIMAL_DISCRIMINATOR, "The normalising factors were left out")()
    assert unnormalised < 0.5 < ours, "the diagnosis says the factors move D* to the other side of 1/2"
    values = [ours, *(wrong() for wrong in gan.OPTIMAL_DISCRIMINATOR.wrong.values())]
    assert min(abs(a - b) for i, a in enumerate(values) for b in values[i + 1:]) > 0.02
    assert run(gan.OPTIMAL_DISCRIMINATOR, ours).outcome is Outcome.CORRECT  # the number itself will do


def test_the_optimal_discriminator_takes_four_digits_and_its_feedback_never_tells_the_number():
    exercise, ours = gan.OPTIMAL_DISCRIMINATOR, gan.OPTIMAL_DISCRIMINATOR.reference()
    assert f"{ours:.4f}" == "0.6455" and run(exercise, 0.6455).outcome is Outcome.CORRECT
    assert run(exercise, torch.tensor(ours, dtype=F64)).outcome is Outcome.CORRECT
    for answer in (0.6454, 0.65, 0.0, 1.5, *(round(wrong(), 4) for wrong in exercise.wrong.values())):
        report = run(exercise, answer, include_hidden=True)
        assert report.outcome is Outcome.INCORRECT
        assert "0.6455" not in feedback.text(report), feedback.text(report)
    rejected_with(exercise, 0.4766, "The normalising factors were left out")  # as a reader would type it
    texts = [exercise.prompt, exercise.instead, *exercise.hints, *exercise.wrong, exercise.cases()[0].why_for(None)]
    assert not any("0.645" in text for text in texts)  # not even its first digits


# ---- the gradient-reversal layer ----------------------------------------------------------------------------------


def backprop_through(function):
    """The answer cell's reverse_and_backprop, for another Function (a student's)."""

    def reverse_and_backprop(x, lambd, grad_output):
        x = x.detach().requires_grad_(True)
        y = function.apply(x, lambd)
        try:
            (dx,) = torch.autograd.grad(y, x, grad_output)
        except RuntimeError as error:
            if "incorrect number of gradients" in str(error) or "not a Variable" in str(error):
                raise RuntimeError("backward must return one gradient per input of forward: (grad_x, None), None for "
                                   f"lambd ({error})") from None
            raise
        return y.detach(), dx

    return reverse_and_backprop


def function_with(forward=lambda ctx, x, lambd: x.view_as(x), backward=lambda ctx, g: (-ctx.lambd * g, None)):
    """A GradientReversal Function as a student writes it, with the given forward and backward."""

    class Student(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, lambd):
            ctx.lambd = lambd
            return forward(ctx, x, lambd)

        @staticmethod
        def backward(ctx, grad_output):
            return backward(ctx, grad_output)

    return Student


def reversal_by_detach(x, lambd, grad_output):
    """y = -lambd x + (1 + lambd) x.detach(): the value x, and the gradient -lambd, through ordinary autograd."""
    x = x.detach().requires_grad_(True)
    y = -lambd * x + (1 + lambd) * x.detach()
    return y.detach(), torch.autograd.grad(y, x, grad_output)[0]


@pytest.mark.parametrize("case", domain.GRADIENT_REVERSAL_EXERCISE.cases(), ids=label)
def test_the_reversal_is_the_books_and_autograd_through_a_detached_sum(case):
    x, lambd, grad_output = case.args
    y, dx = domain.GRADIENT_REVERSAL_EXERCISE.reference(x, lambd, grad_output)
    assert y.dtype == dx.dtype == x.dtype and y.shape == dx.shape == x.shape
    for oracle in (reversal_by_detach, reversal_by_the_books):
        want_y, want_dx = oracle(x, lambd, grad_output)
        torch.testing.assert_close(y, want_y, **tolerance(x.dtype))  # the detached sum's value rounds
        torch.testing.assert_close(dx, want_dx, **tolerance(x.dtype))
    assert torch.equal(y, x) and torch.equal(reversal_by_the_books(x, lambd, grad_output)[0], x)


def test_the_reversal_mistakes_written_as_functions_are_named():
    exercise = domain.GRADIENT_REVERSAL_EXERCISE
    mistakes = {
        "The gradient was not reversed": function_with(backward=lambda ctx, g: (ctx.lambd * g, None)),
        "lambd was left out of backward": function_with(backward=lambda ctx, g: (-g, None)),
        "The forward pass negated x": function_with(forward=lambda ctx, x, lambd: -x),
        "The forward pass scaled x by lambd": function_with(forward=lambda ctx, x, lambd: lambd * x),
    }
    for start, function in mistakes.items():
        rejected_with(exercise, backprop_through(function), start)
    for accepted in (function_with(forward=lambda ctx, x, lambd: x), function_with(forward=lambda ctx, x, lambd:
                                                                                     x.clone()),
                     function_with(backward=lambda ctx, g: (g.neg() * ctx.lambd, None))):
        assert run(exercise, backprop_through(accepted), include_hidden=True).outcome is Outcome.CORRECT


@pytest.mark.parametrize("backward", [lambda ctx, g: -ctx.lambd * g, lambda ctx, g: (-ctx.lambd * g,),
                                      lambda ctx, g: (-ctx.lambd * g, 0.0)], ids=["tensor", "one", "zero"])
def test_a_backward_without_none_for_lambd_is_told_what_to_return(backward):
    report = run(domain.GRADIENT_REVERSAL_EXERCISE, backprop_through(function_with(backward=backward)))
    assert report.outcome is Outcome.ERROR
    assert report.detail.startswith("RuntimeError: backward must return one gradient per input of forward: (grad_x, "
                                    "None), None for lambd")
    assert "(grad_x, None)" in feedback.text(report)


def test_the_reversal_stubs_are_not_attempted():
    def stub(*args):
        raise NotImplementedError()

    for function in (function_with(forward=lambda ctx, x, lambd: stub()),
                     function_with(backward=lambda ctx, g: stub())):
        report = run(domain.GRADIENT_REVERSAL_EXERCISE, backprop_through(function), include_hidden=True)
        assert report.outcome is Outcome.NOT_ATTEMPTED


# ---- every road to the library and to the book's helpers is closed ------------------------------------------------


def kl_by_the_registered_route(mu, log_var):
    """The function kl_divergence dispatches Normal-to-Normal to, called directly."""
    return torch.distributions.kl._kl_normal_normal(Normal(mu, torch.exp(0.5 * log_var)),
                                                   Normal(torch.zeros_like(mu), torch.ones_like(mu)))


def kl_by_its_module(mu, log_var):
    return torch.distributions.kl.kl_divergence(Normal(mu, torch.exp(0.5 * log_var)),
                                                Normal(torch.zeros_like(mu), torch.ones_like(mu)))


ROADS = {
    "kl_divergence by its module": (vae.GAUSSIAN_KL_EXERCISE, kl_by_its_module, "torch.distributions.kl_divergence"),
    "the registered Normal-Normal KL": (vae.GAUSSIAN_KL_EXERCISE, kl_by_the_registered_route,
                                        "torch.distributions.kl._kl_normal_normal"),
    "the book's gaussian_kl": (vae.GAUSSIAN_KL_EXERCISE, lambda mu, log_var: books("helpers.models.vae").gaussian_kl(
        mu, log_var), "helpers.models.vae.gaussian_kl"),
    "the book's reparameterize": (vae.REPARAMETERIZE_EXERCISE, lambda mu, log_var, eps: books(
        "helpers.models.vae").reparameterize(mu, log_var, eps), "helpers.models.vae.reparameterize"),
    "the book's negative_elbo": (elbo.NEGATIVE_ELBO_EXERCISE, lambda *args: books("helpers.models.vae").negative_elbo(
        *args), "helpers.models.vae.negative_elbo"),
    "nn.BCEWithLogitsLoss": (gan.DISCRIMINATOR_LOSS, lambda real, fake: nn.BCEWithLogitsLoss()(
        real, torch.ones_like(real)) + nn.BCEWithLogitsLoss()(fake, torch.zeros_like(fake)),
        "torch.nn.BCEWithLogitsLoss"),
    "Bernoulli's log_prob": (gan.DISCRIMINATOR_LOSS, lambda real, fake: -torch.distributions.Bernoulli(
        logits=real).log_prob(torch.ones_like(real)).mean() - torch.distributions.Bernoulli(logits=fake).log_prob(
        torch.zeros_like(fake)).mean(), "torch.distributions.Bernoulli.log_prob"),
    "the book's chapter-2 BCE": (gan.DISCRIMINATOR_LOSS, lambda real, fake: __import__(
        "helpers.nn.losses").nn.losses.binary_cross_entropy_with_logits(real, torch.ones_like(real))
        + __import__("helpers.nn.losses").nn.losses.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake)),
        "helpers.nn.losses.binary_cross_entropy_with_logits"),
    "the book's discriminator_loss": (gan.DISCRIMINATOR_LOSS, lambda real, fake: books(
        "helpers.models.gan").discriminator_loss(real, fake), "helpers.models.gan.discriminator_loss"),
    "torch.binary_cross_entropy_with_logits": (gan.GENERATOR_LOSS, lambda fake: torch.binary_cross_entropy_with_logits(
        fake, torch.ones_like(fake), None, None, 1), "torch.binary_cross_entropy_with_logits"),
    "the book's generator_loss": (gan.GENERATOR_LOSS, lambda fake: books("helpers.models.gan").generator_loss(fake),
                                  "helpers.models.gan.generator_loss"),
    "the standard library's NormalDist": (gan.OPTIMAL_DISCRIMINATOR, lambda: (lambda p, q: p / (p + q))(
        statistics.NormalDist(*gan.DATA).pdf(gan.X0), statistics.NormalDist(*gan.MODEL).pdf(gan.X0)),
        "statistics.NormalDist.pdf"),
    "torch's log_prob": (gan.OPTIMAL_DISCRIMINATOR, lambda: (lambda p, q: (p / (p + q)).item())(
        Normal(*gan.DATA).log_prob(torch.tensor(gan.X0)).exp(),
        Normal(*gan.MODEL).log_prob(torch.tensor(gan.X0)).exp()),
        "torch.distributions.Normal.log_prob"),
    "the book's optimal_discriminator": (gan.OPTIMAL_DISCRIMINATOR, lambda: (lambda g: g.optimal_discriminator(
        g.normal_pdf(torch.tensor(gan.X0), *gan.DATA), g.normal_pdf(torch.tensor(gan.X0), *gan.MODEL)).item())(
        books("helpers.models.gan")), "helpers.models.gan.normal_pdf"),
    "the book's Function, subclassed": (domain.GRADIENT_REVERSAL_EXERCISE, lambda *args: backprop_through(type(
        "Sneaky", (books("helpers.nn.gradient_reversal").GradientReversal,), {}))(*args),
        "helpers.nn.gradient_reversal.GradientReversal.forward"),
    "the book's layer": (domain.GRADIENT_REVERSAL_EXERCISE, lambda x, lambd, g: (lambda x: (lambda y: (
        y.detach(), torch.autograd.grad(y, x, g)[0]))(books("helpers.nn.gradient_reversal").GradientReversalLayer(
            lambd)(x)))(x.detach().requires_grad_()), "helpers.nn.gradient_reversal.GradientReversalLayer"),
}


@pytest.mark.parametrize("road", ROADS)
def test_every_road_to_the_library_is_closed(road):
    exercise, answer, name = ROADS[road]
    assert correct(exercise, answer), road
    report = run(exercise, answer)
    assert report.score == 0 and report.first_failure.kind is ResultKind.FORBIDDEN
    assert report.first_failure.message.startswith(f"your answer calls {name}: ")
    assert exercise.instead in feedback.text(report)


# ---- the worked solutions (as in /work/ch10_builders/answers.py, the answer cells of the chapter's notebook) -


def solution_gaussian_kl(mu, log_var):
    variance = torch.exp(log_var)
    return 0.5 * (variance + mu**2 - 1 - log_var)


def solution_reparameterize(mu, log_var, eps):
    std = torch.exp(0.5 * log_var)
    return mu + std * eps


def solution_negative_elbo(x_hat, x, mu, log_var):
    reconstruction = F.binary_cross_entropy(x_hat, x, reduction="none").sum(dim=1)
    kl = solution_gaussian_kl(mu, log_var).sum(dim=1)
    return (reconstruction + kl).mean()


def solution_averaged_bce():
    return "b"


def solution_discriminator_loss(real_logits, fake_logits):
    real_term = F.softplus(-real_logits).mean()
    fake_term = F.softplus(fake_logits).mean()
    return real_term + fake_term


def solution_generator_loss(fake_logits):
    return F.softplus(-fake_logits).mean()


def solution_d_star():
    def density(x, mean, std):
        return math.exp(-((x - mean) ** 2) / (2 * std**2)) / (std * math.sqrt(2 * math.pi))

    p_data = density(0.5, 0.0, 1.0)
    p_g = density(0.5, 1.0, 2.0)
    return p_data / (p_data + p_g)


class SolutionGradientReversal(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, lambd):
        ctx.lambd = lambd
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad_output):
        return -ctx.lambd * grad_output, None


SOLUTIONS = {"10.gaussian_kl": solution_gaussian_kl, "10.reparameterize": solution_reparameterize,
             "10.negative_elbo": solution_negative_elbo, "10.averaged_bce": solution_averaged_bce,
             "10.discriminator_loss": solution_discriminator_loss, "10.generator_loss": solution_generator_loss,
             "10.optimal_discriminator": solution_d_star,
             "10.gradient_reversal": backprop_through(SolutionGradientReversal)}


@pytest.mark.parametrize("exercise_id", ORDER)
def test_the_worked_solutions_pass(exercise_id):
    report = run(EXERCISES[exercise_id], SOLUTIONS[exercise_id], include_hidden=True)
    assert report.outcome is Outcome.CORRECT, report.first_failure


def rejected_with(exercise, answer, start):
    """The answer is rejected on the public cases, and on all of them, with the diagnosis that starts with start."""
    for hidden in (False, True):
        report = run(exercise, answer, include_hidden=hidden)
        assert report.outcome is Outcome.INCORRECT and report.detail.startswith(start), (report.detail, hidden)
        assert f"likely cause: {report.detail}" in feedback.text(report)


@pytest.mark.parametrize("exercise_id", [i for i in ORDER if EXERCISES[i].kind is not Kind.CHOICE])
def test_the_stubs_are_not_attempted(exercise_id):
    def stub(*args):
        raise NotImplementedError()

    assert run(EXERCISES[exercise_id], stub, include_hidden=True).outcome is Outcome.NOT_ATTEMPTED


# ---- a result cut from its inputs: told by check, judged by its value alone under the grader ------------------


def detached(answer):
    return lambda *args: answer(*args).detach()


def under_no_grad(answer):
    def cut(*args):
        with torch.no_grad():
            return answer(*args)

    return cut


def rebuilt(answer):
    """The value taken out of the graph and put back: torch.tensor(result.tolist())."""
    def cut(*args):
        result = answer(*args)
        return torch.tensor(result.tolist(), dtype=result.dtype)

    return cut


TRAINED_THROUGH = ["10.gaussian_kl", "10.reparameterize", "10.negative_elbo", "10.discriminator_loss",
                   "10.generator_loss"]


def graded(exercise, answer):
    """What the grader decides: the probe's calls with their values recorded detached (grading.probe.plain), judged
    against the grader's own reference on every case."""
    cases = exercise.cases()
    calls = [Call(call.kind, plain(call.value), call.error, call.modified_input)
             for call in call_all(answer, cases, exercise.forbidden)]
    return judge(exercise, cases, calls, include_hidden=True)


@pytest.mark.parametrize("exercise_id", TRAINED_THROUGH)
def test_a_result_without_a_graph_is_told_in_check_and_the_grader_judges_values(exercise_id):
    exercise, solution = EXERCISES[exercise_id], SOLUTIONS[exercise_id]
    trained = [c.label for c in exercise.cases()
               if any(isinstance(a, torch.Tensor) and a.requires_grad for a in c.args)]
    assert len(trained) == 1 and trained[0] in [c.label for c in exercise.cases() if not c.hidden]
    for cut in (detached(solution), under_no_grad(solution), rebuilt(solution)):
        report = run(exercise, cut, include_hidden=True)
        failing = [r for r in report.results if not r.passed]
        assert report.outcome is Outcome.INCORRECT and [r.case.label for r in failing] == trained
        assert failing[0].message == shared.NO_GRAPH and "carries no gradient" in feedback.text(report)
        assert graded(exercise, cut).outcome is Outcome.CORRECT  # the record holds values only
    assert graded(exercise, solution).outcome is Outcome.CORRECT
    assert run(exercise, solution, include_hidden=True).outcome is Outcome.CORRECT


def test_a_kl_through_numpy_fails_on_the_trained_case():
    def kl_by_numpy(mu, log_var):
        return torch.tensor(0.5 * (log_var.exp().numpy() + mu.numpy() ** 2 - 1 - log_var.numpy()))

    report = run(vae.GAUSSIAN_KL_EXERCISE, kl_by_numpy)
    failing = [r for r in report.results if not r.passed]
    assert report.outcome is Outcome.INCORRECT and [r.case.label for r in failing] == [
        "mu and log_var being trained (requires grad): (3, 2) float64"]
    assert failing[0].kind is ResultKind.RAISED and "numpy" in failing[0].message
