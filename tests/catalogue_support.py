"""Small helpers the chapter catalogue tests share (tests/test_catalogue_chNN.py)."""

import torch

from helpers.exercises import Outcome, feedback
from helpers.exercises.runner import call_all, judge, run


def label(case):
    """A case's label: the id pytest shows for a parametrised case."""
    return case.label


def tolerance(dtype):
    """allclose's rtol and atol for a case in ``dtype``: tight in float64, float32's precision otherwise."""
    return dict(rtol=1e-10, atol=1e-12) if dtype == torch.float64 else dict(rtol=1e-4, atol=1e-5)


def wrong_answer(exercise, start):
    """The known-wrong answer whose diagnosis starts with ``start``."""
    return next(w for d, w in exercise.wrong.items() if d.startswith(start))


def correct(exercise, answer, hidden=True):
    """Whether ``answer`` passes the exercise's cases (the hidden ones too unless ``hidden=False``)."""
    cases = [c for c in exercise.cases() if hidden or not c.hidden]
    return judge(exercise, cases, call_all(answer, cases), hidden).outcome is Outcome.CORRECT


def assert_listed_in_order(exercises, in_chapter, order):
    """A chapter module's EXERCISES are ``order``, as the catalogue lists them: 6+ exercises of 3+ kinds."""
    assert [e.id for e in exercises] == order == [e.id for e in in_chapter]
    assert len(order) >= 6 and len({e.kind for e in exercises}) >= 3, "a chapter has 6+ exercises of 3+ kinds"


def assert_public_and_hidden_cases(exercises):
    """Every exercise that computes something has 4+ public cases and at least one hidden one."""
    for exercise in exercises:
        if exercise.kind in ("implement", "derive"):
            cases = exercise.cases()
            assert sum(not case.hidden for case in cases) >= 4, exercise.id
            assert any(case.hidden for case in cases), exercise.id


def assert_every_mistake_named(exercise):
    """What tests/test_catalogue.py asks of the strict chapters: the reference passes, 3+ hints, and every
    known-wrong answer is rejected with its own diagnosis, on the public cases alone as with the hidden ones."""
    assert run(exercise, exercise.reference, include_hidden=True).outcome is Outcome.CORRECT
    assert len(exercise.hints) >= 3
    for diagnosis, wrong in exercise.wrong.items():
        for hidden in (True, False):
            report = run(exercise, wrong, include_hidden=hidden)
            assert report.outcome is Outcome.INCORRECT and report.detail == diagnosis, (diagnosis, hidden)
            assert f"likely cause: {diagnosis}" in feedback.text(report)
