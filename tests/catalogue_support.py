"""Small helpers the chapter catalogue tests share (tests/test_catalogue_chNN.py)."""

import torch


def label(case):
    """A case's label: the id pytest shows for a parametrised case."""
    return case.label


def tolerance(dtype):
    """allclose's rtol and atol for a case in ``dtype``: tight in float64, float32's precision otherwise."""
    return dict(rtol=1e-10, atol=1e-12) if dtype == torch.float64 else dict(rtol=1e-4, atol=1e-5)


def wrong_answer(exercise, start):
    """The known-wrong answer whose diagnosis starts with ``start``."""
    return next(w for d, w in exercise.wrong.items() if d.startswith(start))
