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
from torch import nn

from helpers import stats
from helpers.exercises import Outcome, assess, catalogue, feedback
from helpers.exercises.catalogue import chapter_of
from helpers.exercises.runner import call_all, judge, run
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
    cases = exercise.cases()
    report = judge(exercise, cases, call_all(exercise.reference, cases, forbidden=()), include_hidden=True)
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


# ---- the stricter standard of chapters 5 onwards (chapters 1-4 join when they meet it: issue 17) -----------

STRICT_CHAPTERS = ("05", "06", "07", "08", "09", "10", "11")
STRICT = [e.id for e in EXERCISES if chapter_of(e.id) in STRICT_CHAPTERS]
STRICT_WRONG = [(i, diagnosis) for i, diagnosis in WRONG if chapter_of(i) in STRICT_CHAPTERS]
# whose known-wrong answers are diagnosed on the public cases too (05.label_smoothing's unstable softmax shows only
# on the hidden cases' large logits, by design: test_catalogue_ch05 checks it is caught and told why)
DIAGNOSED_ON_PUBLIC_CASES = ("06", "07", "08", "09", "10", "11")


@pytest.mark.parametrize("exercise_id", STRICT)
def test_reference_calls_nothing_it_forbids(exercise_id):
    exercise = catalogue()[exercise_id]
    assert run(exercise, exercise.reference, include_hidden=True).outcome is Outcome.CORRECT


@pytest.mark.parametrize("exercise_id,diagnosis", STRICT_WRONG,
                         ids=[f"{i}-{n}" for n, (i, _) in enumerate(STRICT_WRONG)])
def test_known_wrong_answer_gets_its_own_diagnosis_in_the_feedback(exercise_id, diagnosis):
    exercise = catalogue()[exercise_id]
    for hidden in (True, False) if chapter_of(exercise_id) in DIAGNOSED_ON_PUBLIC_CASES else (True,):
        report = run(exercise, exercise.wrong[diagnosis], include_hidden=hidden)
        assert report.outcome is Outcome.INCORRECT and report.score < exercise.points, hidden
        assert report.detail == diagnosis, hidden
        text = feedback.text(report)
        assert f"input: {report.first_failure.case.label}" in text and "you returned: " in text
        assert f"likely cause: {diagnosis}" in text


@pytest.mark.parametrize("exercise_id", STRICT)
def test_entry_has_graded_hints_distinct_cases_and_every_option_explained(exercise_id):
    exercise = catalogue()[exercise_id]
    assert len(exercise.hints) >= 3, "graded hints, the last nearly the answer"
    labels = [case.label for case in exercise.cases()]
    assert len(set(labels)) == len(labels)
    if exercise.kind == "choice":
        assert set(exercise.options) == {exercise.reference(), *(wrong() for wrong in exercise.wrong.values())}


def same_argument(x, y) -> bool:
    """Equal case arguments: tensors (dtype too), generators by state, modules by mode and weights, nested."""
    if isinstance(x, torch.Tensor):
        return x.dtype == y.dtype and torch.equal(x, y)
    if isinstance(x, torch.Generator):
        return torch.equal(x.get_state(), y.get_state())
    if isinstance(x, nn.Module):
        first, second = x.state_dict(), y.state_dict()
        return (type(x) is type(y) and x.training == y.training and first.keys() == second.keys()
                and all(torch.equal(first[k], second[k]) for k in first))
    if isinstance(x, (tuple, list)):
        return type(x) is type(y) and len(x) == len(y) and all(same_argument(a, b) for a, b in zip(x, y))
    return type(x) is type(y) and (x == y or (x != x and y != y))  # nan is an argument too (11.precision_recall_f1)


@pytest.mark.parametrize("exercise_id", STRICT)
def test_cases_are_deterministic_and_leave_the_global_generator_alone(exercise_id):
    exercise = catalogue()[exercise_id]
    state = torch.get_rng_state()
    for a, b in zip(exercise.cases(), exercise.cases()):
        assert same_argument(a.args, b.args), a.label
    assert torch.equal(torch.get_rng_state(), state), "building the cases must not draw from torch's stream"


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
        in_catalogue = [e.id for e in EXERCISES if chapter_of(e.id) == chapter]
        assert list(calls) == in_catalogue, "list the chapter's exercises in the order it asks them (progress)"
        assert all(n == 1 for n in calls.values()), f"{edition.name} checks an exercise twice: {calls}"


# ---- the chapter 1 references against independent oracles -------------------------------------


def test_posterior_reference_matches_hand_computation():
    from helpers.exercises.catalogue import ch01

    p, sens, fpr = ch01.PREVALENCE, ch01.SENSITIVITY, ch01.FALSE_POSITIVE_RATE
    assert ch01.POSTERIOR.reference() == pytest.approx(sens * p / (sens * p + fpr * (1 - p)), rel=1e-6)


def test_simulated_sample_means_match_theory():
    from helpers.exercises.catalogue import ch01

    estimates = ch01.MSE_OF_MEAN.reference(0, 200_000)
    closed_form = ch01.MC_STD**2 / ch01.MC_M  # Var(mean of m draws) = sigma^2 / m, and the mean is unbiased
    assert estimates.shape == (200_000,) and estimates.dtype == torch.float64
    assert (estimates**2).mean().item() == pytest.approx(closed_form, rel=0.01)
    assert abs(estimates.mean().item()) < 4 * (closed_form / 200_000) ** 0.5
    for m in (2, 5):
        biased = stats.monte_carlo(stats.biased_variance, stats.gaussian_draw(0.0, 1.0, m), 1.0, 200_000, seed=m)
        assert ch01.BIAS_FACTOR.reference(m) == pytest.approx(biased.estimates.mean().item(), rel=0.02)


def test_simulation_check_rejects_typed_numbers_and_wrong_counts():
    from helpers.exercises.catalogue import ch01

    typed = [lambda seed, trials: 0.404, lambda seed, trials: torch.tensor(0.4, dtype=torch.float32),
             lambda seed, trials: ch01._sample_means(seed, 100),  # a 100-trial simulation
             lambda seed, trials: ch01._sample_means(seed, trials).float()]
    for answer in typed:
        report = assess("01.mse_of_mean", answer)
        assert report.outcome is Outcome.INCORRECT and report.score == 0
    def honest(seed, trials):  # its own seeds: accepted as a simulation, not as a copy of the reference
        generator = torch.Generator().manual_seed(seed + 999)
        return (2 * torch.randn(trials, 10, dtype=torch.float64, generator=generator)).mean(-1)

    assert assess("01.mse_of_mean", honest, include_hidden=True).outcome is Outcome.CORRECT


def test_variance_and_standard_error_references_match_scipy():
    from helpers.exercises.catalogue import ch01

    for case in ch01.VARIANCE.cases() + ch01.STANDARD_ERROR.cases():
        x = case.args[0].double().numpy()
        assert np.allclose(stats.unbiased_variance(torch.tensor(x)).numpy(), np.var(x, axis=-1, ddof=1))
        assert np.allclose(stats.standard_error_of_mean(torch.tensor(x)).numpy(), scipy.stats.sem(x, axis=-1))


# ---- number references against independent oracles (chapter 2's are in test_mle.py) ----------------


def test_rbf_xor_outputs_match_sklearn():
    from sklearn.metrics.pairwise import rbf_kernel

    from helpers.exercises.catalogue import ch03
    from helpers.nn.rbf import XOR_INPUTS

    features = rbf_kernel(XOR_INPUTS.numpy(), XOR_INPUTS.numpy(), gamma=0.5)
    assert np.allclose(ch03.RBF_XOR.reference().numpy(), features @ np.array(ch03.XOR_WEIGHTS), atol=1e-12)


def test_posterior_matches_natural_frequencies():
    from helpers.exercises.catalogue import ch01

    people = 1_000_000
    sick = people * ch01.PREVALENCE
    true_pos, false_pos = sick * ch01.SENSITIVITY, (people - sick) * ch01.FALSE_POSITIVE_RATE
    assert ch01.POSTERIOR.reference() == pytest.approx(true_pos / (true_pos + false_pos), rel=1e-9)


# ---- the worked solutions in solutions/ pass the hidden tests too, without forbidden calls -----------


def solved_answers(path: Path) -> dict[str, object]:
    """{exercise id: the answer} from a chapter's worked solutions: its setup and import cells, then each
    answer cell, run in one namespace (as the notebook would, without the narrative in between)."""
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    namespace: dict[str, object] = {}
    for cell in code[:2]:  # the setup cell and the chapter's imports
        exec(compile(cell.source, f"{path.name} setup", "exec"), namespace)
    answers = {}
    for index, cell in enumerate(code):
        for match in re.finditer(r"""check\(\s*["']([^"']+)["']\s*,\s*(\w+)\s*\)""", cell.source):
            exercise_id, name = match.groups()
            answer_cell = cell if "BEGIN SOLUTION" in cell.source else code[index - 1]
            source = "\n".join(line for line in answer_cell.source.splitlines() if not line.startswith("check("))
            exec(compile(source, f"{path.name} {exercise_id}", "exec"), namespace)
            answers[exercise_id] = namespace[name]
    return answers


@pytest.mark.parametrize("path", chapter_notebooks(), ids=lambda p: p.stem)
def test_worked_solutions_pass_every_test_including_hidden(path, monkeypatch):
    monkeypatch.delenv("HELPERS_STRICT", raising=False)
    answers = solved_answers(path)
    assert set(answers) == {e.id for e in EXERCISES if chapter_of(e.id) == path.name[:2]}
    for exercise_id, answer in answers.items():
        report = assess(exercise_id, answer, include_hidden=True)
        assert report.outcome is Outcome.CORRECT, (exercise_id, report.first_failure)
