"""Every exercise accepts its reference answer and rejects each known-wrong answer and the stub; the
references themselves agree with independent oracles; the notebooks check every exercise exactly once."""

import re
from collections import Counter
from pathlib import Path

import nbformat
import numpy as np
import pytest
import scipy.stats
import torch

from helpers import stats
from helpers.exercises import Outcome, assess, catalogue
from helpers.exercises.catalogue import chapter_of
from helpers.exercises.spec import Kind

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = list(catalogue().values())
IDS = [e.id for e in EXERCISES]
WRONG = [(e.id, diagnosis) for e in EXERCISES for diagnosis in e.wrong]
CHECK_CALL = re.compile(r"""check\(\s*["']([^"']+)["']""")


def stub(*args):
    raise NotImplementedError()


@pytest.mark.parametrize("exercise_id", IDS)
def test_reference_passes_public_and_hidden_tests(exercise_id):
    exercise = catalogue()[exercise_id]
    report = assess(exercise_id, exercise.reference, include_hidden=True)
    assert report.outcome is Outcome.CORRECT, report.first_failure
    assert report.score == exercise.points
    if exercise.kind in ("implement", "derive"):  # a number or a choice has one answer: nothing to hide
        assert any(case.hidden for case in exercise.cases()), "keep at least one test for grading"


@pytest.mark.parametrize("exercise_id,diagnosis", WRONG, ids=[f"{i}-{n}" for n, (i, _) in enumerate(WRONG)])
def test_known_wrong_answer_is_rejected_and_diagnosed(exercise_id, diagnosis):
    wrong = catalogue()[exercise_id].wrong[diagnosis]
    report = assess(exercise_id, wrong, include_hidden=True)
    assert report.outcome is Outcome.INCORRECT
    assert report.score < catalogue()[exercise_id].points
    assert report.detail in catalogue()[exercise_id].wrong, "feedback names a known mistake"


@pytest.mark.parametrize("exercise_id", IDS)
def test_stub_is_not_attempted(exercise_id):
    assert assess(exercise_id, stub).outcome is Outcome.NOT_ATTEMPTED


@pytest.mark.parametrize("exercise_id", IDS)
def test_entry_is_complete(exercise_id):
    exercise = catalogue()[exercise_id]
    assert exercise.kind in list(Kind) and exercise.title and exercise.prompt and exercise.hints
    assert all(case.label for case in exercise.cases())
    if exercise.kind == "choice":
        assert exercise.reference() in exercise.options


def test_cases_are_deterministic():
    for exercise in EXERCISES:
        first, second = exercise.cases(), exercise.cases()
        for a, b in zip(first, second):
            for x, y in zip(a.args, b.args):
                if isinstance(x, torch.Tensor):
                    assert torch.equal(x, y), exercise.id


def chapter_notebooks():
    return sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))


@pytest.mark.parametrize("path", chapter_notebooks(), ids=lambda p: p.stem)
def test_each_chapter_checks_each_of_its_exercises_once(path):
    chapter = path.name[:2]
    expected = {e.id for e in EXERCISES if chapter_of(e.id) == chapter}
    kinds = {e.kind for e in EXERCISES if chapter_of(e.id) == chapter}
    assert len(expected) >= 6 and len(kinds) >= 3, "a chapter has 6+ exercises of 3+ kinds"
    for edition in (path, ROOT / "chapters" / path.name):
        nb = nbformat.read(edition, as_version=4)
        calls = Counter(m for c in nb.cells if c.cell_type == "code" for m in CHECK_CALL.findall(c.source))
        assert set(calls) == expected, f"{edition.name}: checks {sorted(calls)} != catalogue {sorted(expected)}"
        assert all(n == 1 for n in calls.values()), f"{edition.name} checks an exercise twice: {calls}"


# ---- the chapter 1 references against independent oracles -------------------------------------


def test_posterior_reference_matches_hand_computation():
    from helpers.exercises.catalogue import ch01

    p, sens, fpr = ch01.PREVALENCE, ch01.SENSITIVITY, ch01.FALSE_POSITIVE_RATE
    assert ch01.POSTERIOR.reference() == pytest.approx(sens * p / (sens * p + fpr * (1 - p)), rel=1e-6)


def test_expectation_reference_matches_scipy():
    from helpers.exercises.catalogue import ch01

    for case in ch01.EXPECTATION.cases():
        f, values, probs = case.args
        oracle = scipy.stats.rv_discrete(values=(np.arange(len(values)), probs.numpy()))
        outcomes = f(values).numpy()
        expected = oracle.expect(lambda k, outcomes=outcomes: outcomes[np.asarray(k, dtype=int)])
        assert ch01.EXPECTATION.reference(*case.args).item() == pytest.approx(expected, rel=1e-9)


def test_select_degree_reference_matches_numpy_polyfit():
    from helpers.exercises.catalogue import ch01

    for case in ch01.SELECT_DEGREE.cases():
        x_train, y_train, x_val, y_val, degrees = case.args
        zt, zv = 2 * x_train.numpy() - 1, 2 * x_val.numpy() - 1
        errors = [np.mean((np.polyval(np.polyfit(zt, y_train.numpy(), d), zv) - y_val.numpy()) ** 2) for d in degrees]
        assert ch01.SELECT_DEGREE.reference(*case.args) == list(degrees)[int(np.argmin(errors))]


def test_number_answers_match_simulation():
    from helpers.exercises.catalogue import ch01

    closed_form = ch01.MC_STD**2 / ch01.MC_M  # Var(mean of m draws) = sigma^2 / m, and the mean is unbiased
    simulated = ch01.MSE_OF_MEAN.reference()
    assert simulated == pytest.approx(closed_form, rel=0.02) and simulated != closed_form
    for m in (2, 5):
        biased = stats.monte_carlo(stats.biased_variance, stats.gaussian_draw(0.0, 1.0, m), 1.0, 200_000, seed=m)
        assert ch01.BIAS_FACTOR.reference(m) == pytest.approx(biased.estimates.mean().item(), rel=0.02)


def test_variance_and_standard_error_references_match_scipy():
    from helpers.exercises.catalogue import ch01

    for case in ch01.VARIANCE.cases() + ch01.STANDARD_ERROR.cases():
        x = case.args[0].double().numpy()
        assert np.allclose(stats.unbiased_variance(torch.tensor(x)).numpy(), np.var(x, axis=-1, ddof=1))
        assert np.allclose(stats.standard_error_of_mean(torch.tensor(x)).numpy(), scipy.stats.sem(x, axis=-1))
