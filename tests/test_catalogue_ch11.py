"""The chapter 11 references against independent oracles: scipy.stats.ttest_1samp and ttest_rel, scipy.stats.t (for the
catalogue's closed-form t tail), scipy.stats.norm and a simulated z-test (for the power), scikit-learn's
confusion_matrix, precision_recall_fscore_support and StratifiedKFold (the stratified folds by their properties,
checked here in plain Python). The known mistakes are checked to be what their diagnoses
say, every road to the library and to the book's helpers is closed, the answer cells of the chapter (from its notebook,
or from the builders' answers.py before the notebook exists) pass on every device, and the choices explain every
option without giving the right one away. And the checks that tests/test_catalogue.py makes of every chapter in
CHAPTERS, run on this module directly, so that they hold whether or not the chapter is registered."""

import ast
import importlib
import importlib.util
import math
import re
import types
import warnings
from collections import Counter
from pathlib import Path

import nbformat
import numpy as np
import pytest
import scipy.special
import scipy.stats
import torch
from catalogue_support import (
    assert_listed_in_order,
    assert_public_and_hidden_cases,
    correct,
    label,
    wrong_answer,
)
from sklearn.metrics import confusion_matrix as sklearn_confusion_matrix
from sklearn.metrics import precision_recall_fscore_support
from sklearn.model_selection import KFold, StratifiedKFold
from tensors import DEVICES

import helpers.stats
from helpers.exercises import Outcome, feedback
from helpers.exercises.catalogue import CHAPTERS, ch11, of_chapter
from helpers.exercises.catalogue.ch11 import choices, fold_checks, folds, metrics, power, shared, ttests
from helpers.exercises.forbid import resolve
from helpers.exercises.grading.probe import plain
from helpers.exercises.release import stub_code
from helpers.exercises.runner import call_all, judge, run
from helpers.exercises.spec import Call, Kind, ResultKind

F64 = torch.float64
ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "solutions" / "11_hypothesis_tests_and_evaluation.ipynb"
EXERCISES = {exercise.id: exercise for exercise in ch11.EXERCISES}
ORDER = ["11.t_statistic", "11.bulb_decision", "11.power", "11.paired_ttest", "11.confusion_matrix",
         "11.precision_recall_f1", "11.which_error", "11.stratified_kfold"]


def books(module):
    """The book's module (helpers.stats.hypothesis, ...)."""
    return importlib.import_module(module)


def public(exercise):
    return [case for case in exercise.cases() if not case.hidden]


# ---- the chapter's list (tests/test_catalogue.py checks every exercise: references, wrong answers, stubs) ----


def test_the_chapter_lists_its_exercises_in_order_with_three_kinds():
    assert "ch11" in CHAPTERS
    assert_listed_in_order(ch11.EXERCISES, of_chapter("11"), ORDER)
    assert [EXERCISES[i].kind for i in ORDER] == [Kind.IMPLEMENT, Kind.CHOICE, Kind.NUMBER, Kind.IMPLEMENT,
                                                  Kind.IMPLEMENT, Kind.IMPLEMENT, Kind.CHOICE, Kind.IMPLEMENT]


def test_every_exercise_that_computes_has_four_or_more_public_cases_and_a_hidden_one():
    assert_public_and_hidden_cases(ch11.EXERCISES)


# ---- the library answers: right when allowed, worth nothing under the exercise's forbidden list ----------------


def t_by_scipy(a, popmean):
    return torch.tensor(scipy.stats.ttest_1samp(a.numpy(), popmean).statistic, dtype=F64)


def paired_by_scipy(a, b):
    result = scipy.stats.ttest_rel(a.numpy(), b.numpy())
    return torch.tensor(result.statistic, dtype=F64), torch.tensor(result.pvalue, dtype=F64)


def power_by_the_books():
    return float(books("helpers.stats.hypothesis").normal_power(power.EFFECT, power.NOBS, power.ALPHA, "greater"))


def confusion_by_sklearn(y_true, y_pred, num_classes):
    return torch.from_numpy(sklearn_confusion_matrix(y_true.numpy(), y_pred.numpy(), labels=list(range(num_classes))))


def prf_by_sklearn(y_true, y_pred, zero_division=0.0):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p, r, f1, _ = precision_recall_fscore_support(y_true.numpy(), y_pred.numpy(), average="binary",
                                                      zero_division=zero_division)
    return float(p), float(r), float(f1)


def stratified_by_sklearn(y, n_splits):
    """sklearn's StratifiedKFold without shuffling (it warns when a class is smaller than n_splits)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [(torch.from_numpy(train), torch.from_numpy(test))
                for train, test in StratifiedKFold(n_splits).split(np.zeros(len(y)), y.numpy())]


LIBRARY_ANSWERS = {
    "11.t_statistic": t_by_scipy,
    "11.paired_ttest": paired_by_scipy,
    "11.confusion_matrix": confusion_by_sklearn,
    "11.precision_recall_f1": prf_by_sklearn,
    "11.stratified_kfold": stratified_by_sklearn,
    "11.power": power_by_the_books,  # the power has no library twin here but the book's (statsmodels not installed)
}


def test_every_exercise_that_computes_has_a_library_answer_and_forbids_something():
    asking = {e.id for e in ch11.EXERCISES if e.kind is not Kind.CHOICE}
    assert asking == set(LIBRARY_ANSWERS)
    assert all(e.forbidden for e in ch11.EXERCISES if e.kind is not Kind.CHOICE)


def test_the_forbidden_library_names_exist():
    """Every forbidden name outside the book's chapter-11 modules resolves now (SciPy, scikit-learn, NumPy, torch, the
    book's older modules); statsmodels' and torchmetrics' are listed only where they are installed."""
    for exercise in ch11.EXERCISES:
        library = [n for n in exercise.forbidden if not n.startswith(tuple(m + "." for m in shared.BOOKS_MODULES))]
        assert all(resolve(name) is not None for name in library), (exercise.id, library)
        assert not any(isinstance(resolve(name), types.ModuleType) for name in exercise.forbidden), exercise.id


BOOKS_NAMES = {
    shared.HYPOTHESIS: {"11.t_statistic": shared.BOOKS_TESTS, "11.paired_ttest": shared.BOOKS_TESTS,
                        "11.power": ("normal_power", "ttest_power")},
    shared.METRICS: {"11.confusion_matrix": ("confusion_matrix",),
                     "11.precision_recall_f1": ("precision_recall_fscore_support", "precision_score", "recall_score",
                                                "f1_score")},
    shared.MODEL_SELECTION: {"11.stratified_kfold": ("KFold", "StratifiedKFold", "cross_val_score")},
}


@pytest.mark.parametrize("module", shared.BOOKS_MODULES)
def test_the_books_names_are_forbidden_and_resolve(module):
    """The book's references are forbidden by their public names, and every such name resolves."""
    for exercise_id, names in BOOKS_NAMES[module].items():
        dotted = {f"{module}.{name}" for name in names}
        assert dotted <= set(EXERCISES[exercise_id].forbidden), exercise_id
        assert all(resolve(name) is not None for name in dotted), [n for n in dotted if resolve(n) is None]


@pytest.mark.parametrize("exercise_id", sorted(LIBRARY_ANSWERS))
def test_the_library_answers_agree_with_the_references_when_allowed(exercise_id):
    assert correct(EXERCISES[exercise_id], LIBRARY_ANSWERS[exercise_id]), exercise_id


@pytest.mark.parametrize("exercise_id", sorted(LIBRARY_ANSWERS))
def test_the_library_answers_score_nothing(exercise_id):
    report = run(EXERCISES[exercise_id], LIBRARY_ANSWERS[exercise_id], include_hidden=True)
    assert report.score == 0 and report.first_failure.kind is ResultKind.FORBIDDEN


# ---- every road to the library and to the book's helpers is closed ------------------------------------------------


def t_by_masked_scipy(a, popmean):
    return torch.tensor(float(scipy.stats.mstats.ttest_1samp(a.numpy(), popmean).statistic), dtype=F64)


def t_by_sem(a, popmean):
    return (a.mean() - popmean) / torch.tensor(scipy.stats.sem(a.numpy()), dtype=F64)


def t_by_the_books_standard_error(a, popmean):
    return (a.mean() - popmean) / helpers.stats.standard_error_of_mean(a)


def paired_by_one_sample_scipy(a, b):
    result = scipy.stats.ttest_1samp((a - b).numpy(), 0.0)
    return torch.tensor(result.statistic, dtype=F64), torch.tensor(result.pvalue, dtype=F64)


def prf_by_scores(y_true, y_pred, zero_division=0.0):
    from sklearn.metrics import f1_score, precision_score, recall_score

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return tuple(float(score(y_true.numpy(), y_pred.numpy(), zero_division=zero_division))
                     for score in (precision_score, recall_score, f1_score))


def prf_by_fbeta(y_true, y_pred, zero_division=0.0):
    from sklearn.metrics import fbeta_score

    p, r, _ = prf_by_counts(y_true, y_pred, zero_division)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return p, r, float(fbeta_score(y_true.numpy(), y_pred.numpy(), beta=1.0, zero_division=zero_division))


def prf_by_counts(y_true, y_pred, zero_division=0.0):
    """A student's honest version, in torch: counts, then the ratios."""
    tp = ((y_pred == 1) & (y_true == 1)).sum().item()
    fp = ((y_pred == 1) & (y_true == 0)).sum().item()
    fn = ((y_pred == 0) & (y_true == 1)).sum().item()
    p = tp / (tp + fp) if tp + fp else zero_division
    r = tp / (tp + fn) if tp + fn else zero_division
    return p, r, (2 * tp / (2 * tp + fp + fn) if tp + fp + fn else zero_division)


def confusion_by_display(y_true, y_pred, num_classes):
    from sklearn.metrics import ConfusionMatrixDisplay

    display = ConfusionMatrixDisplay.from_predictions(y_true.numpy(), y_pred.numpy(), labels=list(range(num_classes)))
    import matplotlib.pyplot as plt

    plt.close(display.figure_)
    return torch.from_numpy(display.confusion_matrix)


def rotated_blocks(blocks):
    """An honest stratified split built on ``blocks(members, k)``, the k contiguous blocks of a class's indices (the
    first n_c % k one longer): class c's block p goes to fold (s + p) % k, s = the labels of the classes before c.
    Those are the deal's counts (sorted by class, position s + i goes to fold (s + i) % k), by other means."""

    def split(y, k):
        fold, start = torch.empty(len(y), dtype=torch.int64), 0
        for c in torch.unique(y).tolist():
            members = (y == c).nonzero().flatten()
            for p, block in enumerate(blocks(members, k)):
                fold[block] = (start + p) % k
            start += len(members)
        every = torch.arange(len(y))
        return [(every[fold != j], every[fold == j]) for j in range(k)]

    return split


def padded(members, k):
    """How many indices a KFold-like splitter cuts for a class: at least k (one per fold); blocks_of drops the rest."""
    return max(len(members), k)


def blocks_of(tests, members):
    return [members[test[test < len(members)]] for test in tests]


def stratified_by_the_book(y, k):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model_selection = books("helpers.stats.model_selection")
        return [tuple(pair) for pair in model_selection.StratifiedKFold(k).split(torch.zeros(len(y), 1), y)]


ROADS = {
    "SciPy's masked ttest_1samp": ("11.t_statistic", t_by_masked_scipy, "scipy.stats.mstats.ttest_1samp"),
    "scipy.stats.sem": ("11.t_statistic", t_by_sem, "scipy.stats.sem"),
    "the book's standard error": ("11.t_statistic", t_by_the_books_standard_error,
                                  "helpers.stats.standard_error_of_mean"),
    "the book's ttest_1samp": ("11.t_statistic", lambda a, popmean: books("helpers.stats.hypothesis").ttest_1samp(
        a, popmean).statistic, "helpers.stats.hypothesis.ttest_1samp"),
    "ttest_1samp of the differences": ("11.paired_ttest", paired_by_one_sample_scipy, "scipy.stats.ttest_1samp"),
    "the book's ttest_rel": ("11.paired_ttest", lambda a, b: tuple(books("helpers.stats.hypothesis").ttest_rel(a, b)),
                             "helpers.stats.hypothesis.ttest_rel"),
    "ConfusionMatrixDisplay": ("11.confusion_matrix", confusion_by_display, "sklearn.metrics.confusion_matrix"),
    "the book's confusion_matrix": ("11.confusion_matrix", lambda y_true, y_pred, k: books(
        "helpers.stats.metrics").confusion_matrix(y_true, y_pred, labels=torch.arange(k)),
        "helpers.stats.metrics.confusion_matrix"),
    "sklearn's three scores": ("11.precision_recall_f1", prf_by_scores, "sklearn.metrics.precision_score"),
    "sklearn's fbeta_score": ("11.precision_recall_f1", prf_by_fbeta, "sklearn.metrics.fbeta_score"),
    "the book's f1_score": ("11.precision_recall_f1", lambda y_true, y_pred, zero_division=0.0: (
        *prf_by_counts(y_true, y_pred, zero_division)[:2],
        float(books("helpers.stats.metrics").f1_score(y_true, y_pred, zero_division=zero_division))),
        "helpers.stats.metrics.f1_score"),
    "numpy.array_split": ("11.stratified_kfold", rotated_blocks(lambda m, k: [
        torch.from_numpy(block) for block in np.array_split(m.numpy(), k)]), "numpy.array_split"),
    "torch.tensor_split": ("11.stratified_kfold", rotated_blocks(torch.tensor_split), "torch.tensor_split"),
    "Tensor.tensor_split": ("11.stratified_kfold", rotated_blocks(lambda m, k: m.tensor_split(k)),
                            "torch.Tensor.tensor_split"),
    "the book's chapter-1 kfold_indices": ("11.stratified_kfold", rotated_blocks(lambda m, k: blocks_of(
        [test for _, test in helpers.stats.kfold_indices(padded(m, k), k)], m)), "helpers.stats.kfold_indices"),
    "the book's KFold in each class": ("11.stratified_kfold", rotated_blocks(lambda m, k: blocks_of(
        [test for _, test in books("helpers.stats.model_selection").KFold(k).split(torch.zeros(padded(m, k), 1))],
        m)), "helpers.stats.model_selection.KFold"),
    "scikit-learn's KFold in each class": ("11.stratified_kfold", rotated_blocks(lambda m, k: blocks_of(
        [torch.from_numpy(test) for _, test in KFold(k).split(np.zeros(padded(m, k)))], m)),
        "sklearn.model_selection.KFold"),
    "the book's StratifiedKFold": ("11.stratified_kfold", stratified_by_the_book,  # its own __init__ names it
                                   "helpers.stats.model_selection.StratifiedKFold"),
}


@pytest.mark.parametrize("road", ROADS)
def test_every_road_to_the_library_is_closed(road):
    exercise_id, answer, name = ROADS[road]
    exercise = EXERCISES[exercise_id]
    assert correct(exercise, answer), road
    report = run(exercise, answer)
    assert report.score == 0 and report.first_failure.kind is ResultKind.FORBIDDEN
    assert report.first_failure.message.startswith(f"your answer calls {name}: ")
    assert exercise.instead in feedback.text(report)


def test_the_given_t_distribution_and_honest_building_blocks_are_allowed():
    def paired_with_scipy_cdf(a, b):
        d = a - b
        t = d.mean() / (d.std() / math.sqrt(len(d)))
        return t, 2 * scipy.stats.t.cdf(-abs(t.item()), len(d) - 1)

    def paired_with_stdtr(a, b):
        d = a - b
        t = d.mean() / (d.std() / math.sqrt(len(d)))
        return t.item(), float(2 * scipy.special.stdtr(len(d) - 1, -abs(t.item())))

    def confusion_by_loop(y_true, y_pred, num_classes):
        cm = torch.zeros(num_classes, num_classes, dtype=torch.long)
        for t, p in zip(y_true.tolist(), y_pred.tolist()):
            cm[t, p] += 1
        return cm

    honest = {
        "11.t_statistic": lambda a, popmean: ((a.mean() - popmean) / (a.std() / len(a) ** 0.5)).item(),
        "11.paired_ttest": paired_with_scipy_cdf,
        "11.confusion_matrix": confusion_by_loop,
        "11.precision_recall_f1": prf_by_counts,
        "11.power": lambda: 1 - scipy.stats.norm.cdf(scipy.stats.norm.ppf(0.95) - 0.5 * math.sqrt(20)),
    }
    for exercise_id, answer in honest.items():
        assert run(EXERCISES[exercise_id], answer, include_hidden=True).outcome is Outcome.CORRECT, exercise_id
    assert run(EXERCISES["11.paired_ttest"], paired_with_stdtr, include_hidden=True).outcome is Outcome.CORRECT
    if importlib.util.find_spec(shared.DISTRIBUTIONS) is not None:  # the book's t CDF, which the chapter gives
        stdtr = importlib.import_module(shared.DISTRIBUTIONS).stdtr

        def paired_with_the_books_stdtr(a, b):
            d = a - b
            t = d.mean() / (d.std() / math.sqrt(len(d)))
            return t, 2 * stdtr(len(d) - 1, -t.abs())

        assert run(EXERCISES["11.paired_ttest"], paired_with_the_books_stdtr,
                   include_hidden=True).outcome is Outcome.CORRECT


# ---- the t statistic and the paired test against SciPy -----------------------------------------------------------


@pytest.mark.parametrize("case", ttests.T_STATISTIC.cases(), ids=label)
def test_the_t_statistic_is_scipys(case):
    a, popmean = case.args
    ours = ttests.T_STATISTIC.reference(a, popmean)
    assert ours.shape == () and ours.dtype == F64
    assert ours.item() == pytest.approx(scipy.stats.ttest_1samp(a.numpy(), popmean).statistic, rel=1e-12, abs=1e-14)


def test_the_worked_examples_cases_are_the_notes_numbers_and_the_notes_slip_gives_theirs():
    cases = {case.label: case.args for case in ttests.T_STATISTIC.cases()}
    notes = next(args for text, args in cases.items() if "example 1" in text)
    bulbs = next(args for text, args in cases.items() if "bulb" in text)
    a, popmean = notes
    assert (a.mean().item(), a.std().item(), len(a), popmean) == pytest.approx((42.0, 6.0, 20, 44.0), rel=1e-12)
    assert ttests.T_STATISTIC.reference(*notes).item() == pytest.approx((42 - 44) / (6 / math.sqrt(20)), rel=1e-12)
    assert ttests.T_STATISTIC.reference(*notes).item() == pytest.approx(-1.4907, abs=5e-5)
    slip = wrong_answer(ttests.T_STATISTIC, "That is the lecture notes' s / sqrt(n - 1)")
    assert slip(*notes).item() == pytest.approx(-1.453, abs=5e-4)  # the notes' printed value
    b, mu0 = bulbs
    assert (b.sum().item(), (b**2).sum().item(), mu0) == pytest.approx((282.0, 8378.0, 28.0), rel=1e-12)
    assert ttests.T_STATISTIC.reference(*bulbs).item() == pytest.approx(0.0920, abs=5e-5)
    assert b.std().item() == pytest.approx(6.877, abs=5e-4)


@pytest.mark.parametrize("case", ttests.PAIRED_TTEST.cases(), ids=label)
def test_the_paired_test_is_scipys_ttest_rel(case):
    a, b = case.args
    t, p = ttests.PAIRED_TTEST.reference(a, b)
    want = scipy.stats.ttest_rel(a.numpy(), b.numpy())
    assert t.item() == pytest.approx(want.statistic, rel=1e-12)
    assert p.item() == pytest.approx(want.pvalue, rel=1e-9, abs=1e-15)


def test_the_closed_form_t_tail_is_scipys():
    for df in [*range(1, 41), 57, 99, 120]:
        for t in (0.0, 0.03, 0.5, 1.0, 1.96, 2.5, 4.0, 8.0, 25.0, -1.3, -6.0):
            want = 2 * scipy.stats.t.sf(abs(t), df)
            assert shared.t_two_sided_pvalue(t, df) == pytest.approx(want, rel=1e-9, abs=1e-14), (df, t)
            assert shared.t_lower_tail(t, df) == pytest.approx(scipy.stats.t.cdf(t, df), rel=1e-9, abs=1e-14)
    with pytest.raises(ValueError, match="integer df"):
        shared.t_two_sided_pvalue(1.0, 2.5)


def test_the_paired_case_claims_are_true():
    cases = {case.label: case.args for case in ttests.PAIRED_TTEST.cases()}
    a, b = cases["2 pairs: [0.9, 0.8] against [0.85, 0.78]"]
    t, p = ttests.PAIRED_TTEST.reference(a, b)
    assert p.item() == pytest.approx(1 - 2 * math.atan(abs(t.item())) / math.pi, rel=1e-12)  # df 1: the Cauchy
    assert ((a - b).std().item(), (a - b).mean().item()) == pytest.approx((0.0212, 0.035), abs=5e-5)
    shared_pairs = cases["12 pairs that share most of their variation"]
    d = shared_pairs[0] - shared_pairs[1]
    assert d.std() < 0.2 * min(shared_pairs[0].std(), shared_pairs[1].std())
    assert 1e-6 < ttests.PAIRED_TTEST.reference(*shared_pairs)[1].item() < 1e-4
    welch = scipy.stats.ttest_ind(*(x.numpy() for x in shared_pairs), equal_var=False)
    student = scipy.stats.ttest_ind(*(x.numpy() for x in shared_pairs))
    unpaired = wrong_answer(ttests.PAIRED_TTEST, "That is the unpaired two-sample statistic")(*shared_pairs)
    assert unpaired[0].item() == pytest.approx(student.statistic, rel=1e-12) == pytest.approx(welch.statistic)
    assert unpaired[1].item() == pytest.approx(student.pvalue, rel=1e-9)
    negative = cases["6 pairs where b is better: the differences are negative"]
    assert ttests.PAIRED_TTEST.reference(*negative)[0] < 0 < ttests.PAIRED_TTEST.reference(*cases[
        "two models' accuracies over 8 seeds, a better by about 0.01"])[0]


def test_the_paired_mistakes_are_what_they_say():
    a, b = ttests.PAIRED_TTEST.cases()[0].args
    t, p = ttests.PAIRED_TTEST.reference(a, b)
    n = len(a)
    one_tail = wrong_answer(ttests.PAIRED_TTEST, "That is a one-sided p-value")(a, b)[1].item()
    assert one_tail == pytest.approx(scipy.stats.ttest_rel(a.numpy(), b.numpy(), alternative="greater").pvalue)
    normal = wrong_answer(ttests.PAIRED_TTEST, "The p-value came from the normal")(a, b)[1].item()
    assert normal == pytest.approx(2 * scipy.stats.norm.sf(abs(t.item()))) and normal < p.item()
    df_n = wrong_answer(ttests.PAIRED_TTEST, "The degrees of freedom are n")(a, b)[1].item()
    assert df_n == pytest.approx(2 * scipy.stats.t.sf(abs(t.item()), n))
    doubled = wrong_answer(ttests.PAIRED_TTEST, "2 P(T <= t)")(a, b)[1].item()
    assert t > 0 and doubled == pytest.approx(2 * scipy.stats.t.cdf(t.item(), n - 1)) and doubled > 1


# ---- the power against SciPy's normal and a simulated z-test -------------------------------------------------------


def test_the_power_is_the_normal_closed_form_and_a_simulated_test():
    ours = power.POWER_EXERCISE.reference()
    d, n, alpha = power.EFFECT, power.NOBS, power.ALPHA
    assert ours == pytest.approx(scipy.stats.norm.sf(scipy.stats.norm.isf(alpha) - d * math.sqrt(n)), rel=1e-12)
    g = torch.Generator().manual_seed(11)
    trials = 200_000
    x = 3.0 + 2.0 * (torch.randn(trials, n, generator=g, dtype=F64) + d)  # mu0 = 3, sigma = 2, mu = mu0 + d sigma
    z = (x.mean(dim=1) - 3.0) / (2.0 / math.sqrt(n))
    rate = (z > scipy.stats.norm.isf(alpha)).double().mean().item()
    assert abs(rate - ours) < 4 * math.sqrt(ours * (1 - ours) / trials)
    assert f"{ours:.4f}" == "0.7228"
    if importlib.util.find_spec("helpers.stats.hypothesis") is not None:
        assert ours == pytest.approx(power_by_the_books(), rel=1e-10)


def test_the_power_mistakes_are_their_numbers_and_far_apart():
    exercise, ours = power.POWER_EXERCISE, power.POWER_EXERCISE.reference()
    d, n = power.EFFECT, power.NOBS
    numbers = {diagnosis.split(":")[0]: wrong() for diagnosis, wrong in exercise.wrong.items()}
    z95, z975 = scipy.stats.norm.isf(0.05), scipy.stats.norm.isf(0.025)
    assert wrong_answer(exercise, "The critical value 1.96")() == pytest.approx(scipy.stats.norm.sf(
        z975 - d * math.sqrt(n)), rel=1e-12)
    assert wrong_answer(exercise, "That is beta")() == pytest.approx(scipy.stats.norm.cdf(z95 - d * math.sqrt(n)))
    assert wrong_answer(exercise, "That is the one-sample t-test's power")() == pytest.approx(
        scipy.stats.nct.sf(scipy.stats.t.isf(0.05, n - 1), n - 1, d * math.sqrt(n)), rel=1e-10)
    values = [ours, *numbers.values()]  # each at least 5 times the tolerance (3 significant digits) from any other
    assert min(abs(a - b) for i, a in enumerate(values) for b in values[i + 1:]) > 5e-3 * max(values), numbers


def test_the_power_takes_three_digits_and_its_feedback_never_tells_the_number():
    exercise = power.POWER_EXERCISE
    for typed in (0.7228, 0.723, 1 - scipy.stats.norm.cdf(1.645 - 0.5 * math.sqrt(20)),
                  torch.tensor(exercise.reference(), dtype=F64)):
        assert run(exercise, typed).outcome is Outcome.CORRECT, typed
    for typed in (0.72, 0.7035, 0.6088):
        report = run(exercise, typed)
        assert report.outcome is Outcome.INCORRECT
        assert "0.7228" not in feedback.text(report) and "0.723" not in feedback.text(report)
    assert "not a probability" in run(exercise, 1.2).first_failure.message
    assert run(exercise, "0.72").first_failure.kind is ResultKind.WRONG_TYPE


# ---- the confusion matrix and precision / recall / F1 against scikit-learn ----------------------------------------


@pytest.mark.parametrize("case", metrics.CONFUSION_MATRIX.cases(), ids=label)
def test_the_confusion_matrix_is_sklearns(case):
    ours = metrics.CONFUSION_MATRIX.reference(*case.args)
    assert ours.dtype == torch.int64 and torch.equal(ours, confusion_by_sklearn(*case.args))
    assert ours.sum().item() == len(case.args[0])


def test_the_confusion_cases_hold_what_their_labels_say():
    cases = {case.label: case.args for case in metrics.CONFUSION_MATRIX.cases()}
    y_true, y_pred, k = cases["4 classes of which class 3 never occurs (neither true nor predicted), 12 samples"]
    assert k == 4 and 3 not in y_true.tolist() + y_pred.tolist()
    binary = metrics.CONFUSION_MATRIX.reference(*cases["binary: 10 labels, num_classes = 2"])
    assert binary[1, 0].item() == 2 and not torch.equal(binary, binary.T)
    repeated = _literal_single_counts(*cases["every sample of class 0 predicted 2: 6 samples, 3 classes"])
    assert repeated[0, 2].item() == 1  # what `cm[y_true, y_pred] += 1` really does: the diagnosis is no invention
    assert torch.equal(repeated, wrong_answer(metrics.CONFUSION_MATRIX, "cm[y_true, y_pred] += 1")(
        *cases["every sample of class 0 predicted 2: 6 samples, 3 classes"]))


def _literal_single_counts(y_true, y_pred, num_classes):
    cm = torch.zeros(num_classes, num_classes, dtype=torch.int64)
    cm[y_true, y_pred] += 1
    return cm


def test_a_float_table_with_the_right_counts_is_told_to_be_int64():
    report = run(metrics.CONFUSION_MATRIX, lambda y_true, y_pred, k: metrics.CONFUSION_MATRIX.reference(
        y_true, y_pred, k).double())
    assert report.first_failure.kind is ResultKind.WRONG_TYPE and "int64" in report.first_failure.message


def same_floats(x, y):
    return all((math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, rel=1e-12, abs=1e-15) for a, b in zip(x, y))


@pytest.mark.parametrize("case", metrics.PRECISION_RECALL_F1.cases(), ids=label)
def test_precision_recall_f1_are_sklearns(case):
    ours = metrics.PRECISION_RECALL_F1.reference(*case.args)
    assert all(isinstance(value, float) for value in ours)
    assert same_floats(ours, prf_by_sklearn(*case.args)), (ours, prf_by_sklearn(*case.args))


def test_the_zero_division_cases_cover_each_undefined_ratio_with_each_value():
    """Precision undefined (nothing predicted positive), recall undefined (nothing actually positive), both: each with
    zero_division 0.0, 1.0 and nan (and the default); the public cases hold each kind and each value."""
    covered, public_kinds = set(), set()
    for case in metrics.PRECISION_RECALL_F1.cases():
        y_true, y_pred, *rest = case.args
        zero_division = rest[0] if rest else 0.0
        kind = ("precision" if (y_pred == 1).sum() == 0 else "") + ("recall" if (y_true == 1).sum() == 0 else "")
        if kind:
            value = "nan" if math.isnan(zero_division) else zero_division
            covered.add((kind, value))
            if not case.hidden:
                public_kinds.add(kind)
                covered.add(("public", value))
    assert {(k, v) for k in ("precision", "recall", "precisionrecall") for v in (0.0, 1.0, "nan")} <= covered
    assert public_kinds == {"precision", "recall", "precisionrecall"}
    assert {("public", v) for v in (0.0, 1.0, "nan")} <= covered
    assert any(len(case.args) == 2 for case in public(metrics.PRECISION_RECALL_F1)), "the default zero_division"


def test_the_harmonic_mean_of_zeros_is_the_trap_the_diagnosis_names():
    case = next(c for c in metrics.PRECISION_RECALL_F1.cases() if c.label.startswith("no true positive"))
    assert prf_by_sklearn(*case.args) == (0.0, 0.0, 0.0)
    assert math.isnan(wrong_answer(metrics.PRECISION_RECALL_F1, "F1 came from 2 P R / (P + R)")(*case.args)[2])


# ---- the stratified folds: their properties, checked in plain Python; the mistakes are what they say -------------

STRATIFIED = folds.STRATIFIED_KFOLD


def broken(y, k, pairs) -> set[str]:
    """The properties of a stratified k-fold split that ``pairs`` breaks, in plain Python (lists, sets, Counters):
    "pairs" (not k pairs of 1-D int64 tensors), "partition" (the test folds do not hold 0..n-1 once each),
    "complement" (a train set is not the rest of 0..n-1), "order" (not increasing), "sizes" (a test fold not
    floor/ceil(n / k) long), "classes" (a class not floor/ceil(n_c / k) in a test fold)."""
    if len(pairs) != k or any(len(pair) != 2 or any(not isinstance(t, torch.Tensor) or t.dtype != torch.int64
                                                     or t.ndim != 1 for t in pair) for pair in pairs):
        return {"pairs"}
    labels, n, found = y.tolist(), len(y), set()
    trains, tests = [train.tolist() for train, _ in pairs], [test.tolist() for _, test in pairs]
    if sorted(i for test in tests for i in test) != list(range(n)):
        found.add("partition")
    for train, test in zip(trains, tests):
        if sorted(train) != sorted(set(range(n)) - set(test)):
            found.add("complement")
        if train != sorted(train) or test != sorted(test):
            found.add("order")
        if len(test) not in (n // k, -(-n // k)):
            found.add("sizes")
        in_fold = Counter(labels[i] for i in test if 0 <= i < n)
        if any(in_fold[c] not in (total // k, -(-total // k)) for c, total in Counter(labels).items()):
            found.add("classes")
    return found


HONEST = {
    "the reference": STRATIFIED.reference,
    "scikit-learn's StratifiedKFold": stratified_by_sklearn,
    "per-class blocks dealt on from where the last class stopped": rotated_blocks(torch.tensor_split),
}


@pytest.mark.parametrize("case", STRATIFIED.cases(), ids=label)
def test_the_reference_and_sklearns_stratified_kfold_have_every_property(case):
    y, k = case.args
    for name, split in HONEST.items():
        pairs = split(y, k)
        assert broken(y, k, pairs) == set(), name
        assert fold_checks.fold_problem(y, k, pairs) is None, name
    if importlib.util.find_spec("helpers.stats.model_selection") is not None:
        assert broken(y, k, stratified_by_the_book(y, k)) == set()


@pytest.mark.parametrize("name", HONEST)
def test_every_honest_algorithm_is_accepted_though_its_folds_differ(name):
    assert correct(STRATIFIED, HONEST[name]), name  # sklearn's without its guard: it is forbidden to the reader
    case = public(STRATIFIED)[2]
    theirs, ours = stratified_by_sklearn(*case.args), STRATIFIED.reference(*case.args)
    assert any(not torch.equal(a[1], b[1]) for a, b in zip(theirs, ours)), "the property check, not one split"
    reordered = lambda y, k: STRATIFIED.reference(y, k)[::-1]  # noqa: E731  (the folds in another order)
    assert correct(STRATIFIED, reordered)


def test_the_public_cases_hold_the_traps_they_name():
    cases = {case.label: case.args for case in public(STRATIFIED)}
    labels = list(cases)
    y, k = cases[labels[0]]
    assert labels[0].startswith("15 labels sorted by class") and torch.equal(y, y.sort().values)
    plain = [torch.from_numpy(test) for _, test in KFold(k).split(np.zeros(len(y)))]
    assert any(len(set(y[test].tolist())) < len(set(y.tolist())) for test in plain), "plain KFold leaves classes out"
    counts = {label: sorted(Counter(args[0].tolist()).values()) for label, args in cases.items()}
    assert [3, 10, 17] in counts.values()
    assert any(min(counts[label]) < args[1] for label, args in cases.items()), "a class smaller than n_splits"
    assert any(len(args[0]) % args[1] for args in cases.values()), "n % k != 0"
    assert any(not torch.equal(args[0], args[0].sort().values) for args in cases.values()), "shuffled labels"
    assert any(set(args[0].tolist()) == {3, 7, 9} for args in cases.values()), "classes that are not 0..C-1"
    assert max(len(case.args[0]) for case in STRATIFIED.cases() if case.hidden) >= 100
    for case in STRATIFIED.cases():  # every case valid for sklearn: some class at least n_splits strong
        y, k = case.args
        assert y.dtype == torch.int64 and y.ndim == 1 and 2 <= k <= len(y)
        assert max(Counter(y.tolist()).values()) >= k, case.label


def test_the_stratified_mistakes_are_what_their_diagnoses_say():
    mistakes = {start: wrong_answer(STRATIFIED, start) for start in (
        "The test folds are contiguous", "Each class is spread evenly", "The train indices include",
        "The folds are right but", "The pairs are (test, train)", "Fold j takes the examples", "The folds have the")}
    every_case = [case.args for case in STRATIFIED.cases()]
    for y, k in every_case:
        n = len(y)
        plain = mistakes["The test folds are contiguous"](y, k)
        assert all(torch.equal(a, torch.from_numpy(b)) for pair, want in zip(plain, KFold(k).split(np.zeros(n)))
                   for a, b in zip(pair, want))
        assert broken(y, k, mistakes["Each class is spread evenly"](y, k)) <= {"sizes"}
        leaky = mistakes["The train indices include"](y, k)
        assert broken(y, k, leaky) == {"complement"} and all(torch.equal(t, torch.arange(n)) for t, _ in leaky)
        unsorted = mistakes["The folds are right but"](y, k)
        assert broken(y, k, [(a.sort().values, b.sort().values) for a, b in unsorted]) == set()
        swapped = mistakes["The pairs are (test, train)"](y, k)
        assert broken(y, k, [(b, a) for a, b in swapped]) == set()
        strided = mistakes["Fold j takes the examples"](y, k)
        assert all(test.tolist() == list(range(j, n, k)) for j, (_, test) in enumerate(strided))
        assert broken(y, k, strided) <= {"classes"} and broken(y, k, mistakes["The folds have the"](y, k)) <= {
            "classes"}
    y, k = public(STRATIFIED)[2].args  # 3 / 10 / 17: the leftovers pile up in the first folds
    assert broken(y, k, mistakes["Each class is spread evenly"](y, k)) == {"sizes"}
    assert [len(test) for _, test in mistakes["Each class is spread evenly"](y, k)] == [7, 7, 6, 5, 5]
    for start in ("The test folds are contiguous", "Fold j takes the examples", "The folds have the"):
        assert any(broken(*args, mistakes[start](*args)) == {"classes"} for args in every_case), start


def from_sklearn(mistake):
    """A student's mistake made on sklearn's folds, not the reference's: ``mistake(y, pairs) -> pairs``."""
    return lambda y, k: mistake(y, stratified_by_sklearn(y, k))


STUDENTS_MISTAKES = {
    "The train indices include": lambda y, pairs: [(torch.arange(len(y)), test) for _, test in pairs],
    "The pairs are (test, train)": lambda y, pairs: [(test, train) for train, test in pairs],
    "The folds are right but": lambda y, pairs: [(train.flip(0), test.flip(0)) for train, test in pairs],
}


@pytest.mark.parametrize("start", STUDENTS_MISTAKES)
def test_a_mistake_is_named_by_its_properties_whatever_algorithm_chose_the_folds(start):
    cases = public(STRATIFIED)  # judged without the guard: sklearn stands for the student's own test folds here
    report = judge(STRATIFIED, cases, call_all(from_sklearn(STUDENTS_MISTAKES[start]), cases))
    assert report.outcome is Outcome.INCORRECT and report.passed == 0 and report.detail.startswith(start)


def test_a_split_wrong_in_no_known_way_gets_no_diagnosis():
    def half_right(y, k):  # the reference's folds with fold 0 left untested: no known mistake
        pairs = STRATIFIED.reference(y, k)
        return [(torch.arange(len(y)), test[:0]) if j == 0 else (train, test) for j, (train, test) in enumerate(pairs)]

    report = run(STRATIFIED, half_right)
    assert report.outcome is Outcome.INCORRECT and report.detail == ""


def problem(answer):
    """The first failure's kind and message for ``answer(y, k, reference pairs)`` on the sorted-labels case."""
    report = run(STRATIFIED, lambda y, k: answer(y, k, [tuple(p) for p in STRATIFIED.reference(y, k)]))
    assert report.first_failure.case.label.startswith("15 labels sorted by class")
    return report.first_failure.kind, report.first_failure.message


def test_the_feedback_names_the_property_the_fold_the_index_and_the_class():
    """On the sorted case (15 labels, 5 of each class, k = 5), whose reference tests on {j, j + 5, j + 10} in fold j."""
    wrong_type, wrong_value = ResultKind.WRONG_TYPE, ResultKind.WRONG_VALUE
    kind, message = problem(lambda y, k, pairs: iter(pairs))
    assert kind is wrong_type and "list(...)" in message
    assert "expected 5 (train, test) pairs" in problem(lambda y, k, pairs: pairs[:4])[1]
    kind, message = problem(lambda y, k, pairs: [(a.int(), b.int()) for a, b in pairs])
    assert kind is wrong_type and "as the train indices of split 0" in message and "int64" in message
    moved = lambda y, k, pairs: [(pairs[0][0], torch.tensor([0, 5, 15]))] + pairs[1:]  # noqa: E731
    assert problem(moved) == (wrong_value, "split 0's test indices hold 15, which is no index of y: with n = 15 "
                                           "labels the indices run from 0 to 14")
    assert problem(lambda y, k, pairs: [(pairs[0][0], pairs[0][1][:2])] + pairs[1:])[1].startswith(
        "index 10 is in no test fold")
    twice = lambda y, k, pairs: [(pairs[0][0], torch.tensor([0, 1, 5, 10]))] + pairs[1:]  # noqa: E731
    assert problem(twice)[1].startswith("index 1 is in test folds 0, 1: every index must be in exactly one test fold")
    assert problem(lambda y, k, pairs: [(torch.arange(15), test) for _, test in pairs])[1].startswith(
        "split 0 trains on index 0, which its test fold holds")
    assert problem(lambda y, k, pairs: [(train[1:], test) for train, test in pairs])[1].startswith(
        "split 0's train indices miss index 1, which its test fold does not hold either")
    assert problem(lambda y, k, pairs: [(train, test.flip(0)) for train, test in pairs])[1].startswith(
        "split 0's test indices are not in increasing order")

    def resized(y, k, pairs):  # fold 0 takes index 1 from fold 1: sizes 4 and 2
        fold = torch.empty(15, dtype=torch.int64)
        for j, (_, test) in enumerate(pairs):
            fold[test] = j
        fold[1] = 0
        return [(torch.arange(15)[fold != j], torch.arange(15)[fold == j]) for j in range(5)]

    assert problem(resized) == (
        wrong_value, "test fold 0 holds 4 examples (the test folds hold [4, 2, 3, 3, 3]); with n = 15 labels and "
        "n_splits = 5 every test fold holds exactly 3 (floor and ceil of 15 / 5): the folds must be as even as "
        "possible")

    def classes_swapped(y, k, pairs):  # folds 0 and 1 exchange their class-0 examples for class-1 ones
        tests = [test.clone() for _, test in pairs]
        tests[0][0], tests[1][1] = 6, 0
        tests = [test.sort().values for test in tests]
        return [(torch.arange(15)[~torch.isin(torch.arange(15), test)], test) for test in tests]

    assert problem(classes_swapped) == (
        wrong_value, "test fold 0 holds 0 examples of class 0 (its counts of the classes [0, 1, 2]: [0, 2, 1]); "
        "class 0 has 5 examples in y, so with n_splits = 5 every test fold holds exactly 1 of them (floor and ceil of "
        "5 / 5): spread each class evenly over the folds")


def test_the_answer_cell_refuses_more_folds_than_labels():
    answer = load_answer(answer_cells()["11.stratified_kfold"])
    with pytest.raises(ValueError, match="n_splits"):
        answer(torch.tensor([0, 1, 1]), 4)
    assert broken(torch.tensor([0, 1, 1]), 3, answer(torch.tensor([0, 1, 1]), 3)) == set()


# ---- the two choices: every option explained, none given away -----------------------------------------------------

CHOICES = [choices.BULB_DECISION, choices.WHICH_ERROR]


@pytest.mark.parametrize("exercise", CHOICES, ids=lambda e: e.id)
def test_the_choice_explains_every_option_and_gives_none_away(exercise):
    right = exercise.reference()
    assert set(exercise.options) == {right, *(wrong() for wrong in exercise.wrong.values())} == set("abcd")
    assert run(exercise, f" ({right.upper()}) ").outcome is Outcome.CORRECT
    lengths = [len(text) for text in exercise.options.values()]
    assert max(lengths) - min(lengths) < 20, "the right option must not stand out by its length"
    assert len(exercise.options[right]) < max(lengths), "nor be the longest"
    letter = re.compile(r"\(([abcd])\)|\boption ([abcd])\b", re.IGNORECASE)
    said = [exercise.id, exercise.title, exercise.prompt, *exercise.hints, *exercise.wrong,
            *(case.label for case in exercise.cases()), *(str(case.why) for case in exercise.cases())]
    assert not any(letter.search(text) for text in said), "no text names a letter"
    for diagnosis, wrong in exercise.wrong.items():
        report = run(exercise, wrong)
        text = feedback.text(report)
        assert report.detail == diagnosis and f"({wrong()}) is not the right option" in text
        assert f"({right})" not in text


def test_the_choices_right_letters_differ():
    assert choices.BULB_DECISION.reference() != choices.WHICH_ERROR.reference()


def test_the_bulb_numbers_and_claims_are_true():
    n, total, squares = 10, 282.0, 8378.0
    mean, s = total / n, math.sqrt((squares - n * (total / n) ** 2) / (n - 1))
    t = (mean - 28) / (s / math.sqrt(n))
    assert (mean, round(s, 3), round(t, 3)) == (28.2, 6.877, 0.092)
    assert (round(scipy.stats.t.isf(0.05, 9), 3), round(scipy.stats.t.isf(0.025, 9), 3)) == (1.833, 2.262)
    assert round(2 * scipy.stats.t.sf(t, 9), 2) == 0.93
    for text in choices.BULB_OPTIONS.values():
        assert "0.092" in text
    # (b)'s diagnosis: a mean of 30 is compatible with these data too
    assert 2 * scipy.stats.t.sf(abs((mean - 30) / (s / math.sqrt(n))), 9) > 0.05
    # (a)'s diagnosis: testing in the direction the sample points to rejects a true H0 about twice as often as alpha
    g = torch.Generator().manual_seed(3)
    x = torch.randn(40_000, n, generator=g, dtype=F64)
    t_sim = x.mean(dim=1) / (x.std(dim=1) / math.sqrt(n))
    rate = (t_sim.abs() > scipy.stats.t.isf(0.05, 9)).double().mean().item()
    assert rate == pytest.approx(0.10, abs=0.006)


def test_the_screening_numbers_are_true():
    """(c)'s diagnosis: with 1 case in 200, flagging no one is right on 199 samples of 200."""
    assert "1 in 200" in choices.SCREENING_QUESTION
    diagnosis = next(d for d in choices.WHICH_ERROR.wrong if d.startswith("Accuracy"))
    y_true = torch.zeros(2000, dtype=torch.long)
    y_true[::200] = 1
    accuracy = (y_true == torch.zeros_like(y_true)).double().mean().item()
    assert f"{100 * accuracy:.1f}% accurate" in diagnosis


# ---- the answer cells of the chapter: they pass, on every device -------------------------------------------------


def answer_cells() -> dict[str, str]:
    """{exercise id: the answer cell's source}, from the notebook's solutions (a cell with the solution markers,
    checked in the next cell)."""
    code = [c.source for c in nbformat.read(NOTEBOOK, as_version=4).cells if c.cell_type == "code"]
    cells = {}
    for source, after in zip(code, code[1:]):
        found = re.search(r"""check\(\s*["'](11\.\w+)["']""", after)
        if "BEGIN SOLUTION" in source and found:
            cells[found.group(1)] = source
    return cells


def load_answer(source: str):
    """Run the cell in the notebook's namespace (torch, math, stats) and return its last top-level def."""
    namespace = {"torch": torch, "math": math, "stats": helpers.stats}
    exec(compile(source, "answer cell", "exec"), namespace)
    last = [node.name for node in ast.parse(source).body if isinstance(node, (ast.FunctionDef, ast.ClassDef))][-1]
    return namespace[last]


def test_the_answer_cells_are_the_chapters_in_order_with_solution_markers():
    cells = answer_cells()
    assert list(cells) == ORDER
    for source in cells.values():
        assert source.count("### BEGIN SOLUTION") == source.count("### END SOLUTION") == 1


def test_the_notebook_reaches_stdtr_as_stats_stdtr():
    assert helpers.stats.stdtr is books(shared.DISTRIBUTIONS).stdtr


@pytest.mark.parametrize("exercise_id", ORDER)
def test_the_answer_cells_pass_every_test_including_hidden(exercise_id):
    answer = load_answer(answer_cells()[exercise_id])
    report = run(EXERCISES[exercise_id], answer, include_hidden=True)
    assert report.outcome is Outcome.CORRECT, report.first_failure


@pytest.mark.parametrize("exercise_id", ORDER)
def test_the_student_editions_cells_are_not_attempted(exercise_id):
    answer = load_answer(stub_code(answer_cells()[exercise_id], exercise_id))  # release's own stubbing
    assert run(EXERCISES[exercise_id], answer, include_hidden=True).outcome is Outcome.NOT_ATTEMPTED


@pytest.mark.parametrize("exercise_id", ORDER)
def test_the_grader_judges_the_recorded_results_of_the_answer_cells_alike(exercise_id):
    """What the grader decides: the probe's calls with their values recorded as plain data (grading.probe.plain),
    judged against the grader's own reference on every case."""
    exercise, answer = EXERCISES[exercise_id], load_answer(answer_cells()[exercise_id])
    cases = exercise.cases()
    calls = [Call(call.kind, plain(call.value), call.error, call.modified_input)
             for call in call_all(answer, cases, exercise.forbidden)]
    assert judge(exercise, cases, calls, include_hidden=True).outcome is Outcome.CORRECT


ON_TENSORS = ["11.t_statistic", "11.paired_ttest", "11.confusion_matrix", "11.precision_recall_f1"]


def to_cpu(value):
    if isinstance(value, torch.Tensor):
        return value.cpu()
    return tuple(to_cpu(v) for v in value) if isinstance(value, tuple) else value


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("exercise_id", ON_TENSORS)
def test_the_answer_cells_work_on_the_data_device(exercise_id, device):
    """The chapter's answers on tensors of the device (a GPU where there is one): the same result, on that device."""
    exercise = EXERCISES[exercise_id]
    answer = load_answer(answer_cells()[exercise_id])
    for case in exercise.cases():
        args = tuple(a.to(device) if isinstance(a, torch.Tensor) else a for a in case.args)
        got = answer(*args)
        first = got if isinstance(got, torch.Tensor) else got[0]
        if isinstance(first, torch.Tensor):
            assert first.device.type == torch.device(device).type, case.label
        assert exercise.compare(exercise.reference(*case.args), to_cpu(got)) is None, case.label


# ---- feedback about the failing item ---------------------------------------------------------------------------


def test_the_feedback_names_the_failing_item_its_input_and_the_mistake():
    normal_p = wrong_answer(ttests.PAIRED_TTEST, "The p-value came from the normal")
    report = run(ttests.PAIRED_TTEST, normal_p)
    text = feedback.text(report, next_hint="(1 of 3) a hint")
    assert report.first_failure.item == 1 and "problem: the p-value: " in text
    assert f"input: {public(ttests.PAIRED_TTEST)[0].label}" in text and "you returned: " in text
    assert "why it matters: Two-sided, with n - 1 = 7 degrees of freedom" in text
    assert f"likely cause: {report.detail}" in text and "Next hint: (1 of 3) a hint" in text
    swapped = run(metrics.PRECISION_RECALL_F1, wrong_answer(metrics.PRECISION_RECALL_F1, "Precision and recall are"))
    assert swapped.first_failure.item == 0 and "problem: precision: " in feedback.text(swapped)
