"""check() and hint(): the four outcomes, strict mode, and feedback a student can act on."""

import pytest
import torch

from helpers import exercises
from helpers.exercises import ExerciseFailed, Outcome, assess, check, hint
from helpers.exercises.compare import choice, close, describe, equal
from helpers.exercises.spec import ResultKind


def stub(*args):
    raise NotImplementedError()


def unbiased(x):
    return ((x - x.mean(-1, keepdim=True)) ** 2).sum(-1) / (x.shape[-1] - 1)


def biased(x):
    return ((x - x.mean(-1, keepdim=True)) ** 2).mean(-1)


@pytest.fixture(autouse=True)
def student_mode(monkeypatch):
    monkeypatch.delenv("HELPERS_STRICT", raising=False)


def test_four_outcomes():
    assert assess("01.unbiased_variance", unbiased).outcome is Outcome.CORRECT
    assert assess("01.unbiased_variance", biased).outcome is Outcome.INCORRECT
    assert assess("01.unbiased_variance", stub).outcome is Outcome.NOT_ATTEMPTED
    assert assess("01.unbiased_variance", lambda x: x / 0 + undefined_name).outcome is Outcome.ERROR  # noqa: F821


def test_incorrect_feedback_names_input_result_reason_and_cause(capsys):
    check("01.unbiased_variance", biased)
    out = capsys.readouterr().out
    assert "❌ 01.unbiased_variance" in out
    assert "input: a sample of 10 values from N(2, 3^2), float64" in out
    assert "you returned: tensor" in out
    assert "likely cause: This divides by m" in out
    assert "Next hint: (1 of 3)" in out


def test_error_feedback_is_one_line_not_a_traceback(capsys):
    check("01.unbiased_variance", lambda x: 1 / 0)
    out = capsys.readouterr().out
    assert "could not check" in out and "ZeroDivisionError: division by zero" in out
    assert "Traceback" not in out


def test_not_attempted_feedback(capsys):
    check("01.select_degree", stub)
    assert "not attempted" in capsys.readouterr().out


def test_correct_feedback_mentions_hidden_tests(capsys):
    check("01.unbiased_variance", unbiased)
    out = capsys.readouterr().out
    assert "✅" in out and "hidden tests will also run when your notebook is graded" in out


def test_hidden_tests_run_only_when_asked():
    public = assess("01.unbiased_variance", unbiased)
    graded = assess("01.unbiased_variance", unbiased, include_hidden=True)
    assert len(graded.results) > len(public.results)
    assert graded.score == graded.exercise.points


def test_partial_credit_is_the_fraction_of_cases_passed():
    # right for 1-D float64 input only: fails the batch and float32 cases
    def only_vectors(x):
        if x.ndim > 1 or x.dtype != torch.float64:
            return torch.tensor(0.0)
        return unbiased(x)

    report = assess("01.unbiased_variance", only_vectors)
    assert report.outcome is Outcome.INCORRECT and 0 < report.score < report.exercise.points


def test_unknown_exercise_suggests_the_closest(capsys):
    check("01.unbiased_varianse", stub)
    assert "Did you mean '01.unbiased_variance'" in capsys.readouterr().out


def test_answer_that_edits_its_input_is_caught():
    def in_place(x):
        x -= x.mean(-1, keepdim=True)
        return (x**2).sum(-1) / (x.shape[-1] - 1)

    report = assess("01.unbiased_variance", in_place)
    assert report.outcome is Outcome.INCORRECT
    assert "in place" in report.first_failure.message


def test_plain_values_are_accepted_for_number_exercises():
    assert assess("01.mle_variance_factor", lambda m: (m - 1) / m).outcome is Outcome.CORRECT
    assert assess("01.diagnose_fit", "b").outcome is Outcome.CORRECT
    assert assess("01.unbiased_variance", 3.0).outcome is Outcome.ERROR  # implement needs a function


def test_strict_mode_raises_on_anything_but_correct(monkeypatch, capsys):
    monkeypatch.setenv("HELPERS_STRICT", "1")
    check("01.unbiased_variance", unbiased)
    for answer in (stub, biased, lambda x: 1 / 0):
        with pytest.raises(ExerciseFailed):
            check("01.unbiased_variance", answer)
    with pytest.raises(ExerciseFailed):
        check("no.such", stub)


def test_strict_not_attempted_mode(monkeypatch):
    monkeypatch.setenv("HELPERS_STRICT", "not-attempted")
    check("01.unbiased_variance", stub)
    with pytest.raises(ExerciseFailed, match="expects 'not attempted'"):
        check("01.unbiased_variance", unbiased)


def test_unknown_strict_value_is_explained(monkeypatch):
    monkeypatch.setenv("HELPERS_STRICT", "maybe")
    with pytest.raises(ValueError, match="use 1"):
        check("01.unbiased_variance", stub)


def test_hints_advance_then_repeat_the_last(capsys):
    exercises._hints_given.clear()
    count = len(exercises.get("01.unbiased_variance").hints)
    for _ in range(count + 1):
        hint("01.unbiased_variance")
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split(" of ")[0] for line in lines] == [
        f"💡 Hint for 01.unbiased_variance ({min(i, count - 1) + 1}" for i in range(count + 1)
    ]


def test_compare_helpers():
    def says(mismatch):
        return mismatch.message

    assert close()(torch.ones(2), torch.ones(2)) is None
    assert "shape" in says(close()(torch.ones(2), torch.ones(3)))
    assert close()(torch.ones(2, dtype=torch.float64), torch.ones(2)).kind is ResultKind.WRONG_TYPE
    assert "returned float32 where float64 was expected" in says(close()(torch.ones(2, dtype=torch.float64),
                                                                        torch.ones(2)))
    numpy_answer = close()(torch.ones(2), torch.ones(2).numpy())
    assert numpy_answer.kind is ResultKind.WRONG_TYPE and "NumPy array" in numpy_answer.message
    assert "expected a number" in says(close()(1.0, "1.0"))
    assert close()(float("nan"), float("nan")) is None
    item = close()((1.0, 2.0), (1.0, 3.0))
    assert item.item == 1 and item.message == "expected 2, got 3"
    assert close()([1.0, 2.0], (1.0, 2.0)) is None and close()([1.0], [2.0]).item == 0
    assert equal()(3, torch.tensor(3)) is None and equal()(3, 4)
    assert equal()(1, True) is not None
    options = {"a": "", "b": ""}
    assert choice(options)("a", " A ") is None
    assert "not one of the options" in says(choice(options)("a", "z"))
    assert "as a string" in says(choice(options)("a", 1))
    inf, nan = float("inf"), float("nan")
    pointed = says(close()(torch.tensor([-inf, 1.0, 2.0]), torch.tensor([-inf, 1.0, nan])))
    assert pointed.startswith("values differ: at flat index 2"), "point at the nan, not at the agreeing -inf"
    assert describe(torch.arange(10.0)).startswith("tensor [0, 1, 2, 3, ...]")
    assert len(describe("x" * 500)) <= 90


# ---- feedback about the failing item ---------------------------------------------------------------


def test_diagnosis_and_why_are_about_the_item_that_failed(capsys):
    import math

    def forgot_hidden_derivative_in_dw1(x, t, w1, w2, w3):
        h = 1 / (1 + math.exp(-w1 * x))
        y = 1 / (1 + math.exp(-(w2 * h + w3 * x)))
        delta = (y - t) * y * (1 - y)
        dx = delta * (w2 * h * (1 - h) * w1 + w3)
        return delta * w2 * x, delta * h, delta * x, dx  # only dE/dw1 is wrong: h (1 - h) is missing

    report = assess("03.skip_backprop", forgot_hidden_derivative_in_dw1)
    failure = report.first_failure
    assert failure.item == 0 and "h (1 - h)" in report.detail
    check("03.skip_backprop", forgot_hidden_derivative_in_dw1)
    out = capsys.readouterr().out
    assert "problem: dE/dw1:" in out and "two paths" not in out
    assert "likely cause: The hidden unit's sigmoid was skipped" in out


def test_forwards_topological_order_has_its_own_diagnosis():
    from helpers.nn.autograd import topological_order

    def forwards(root, inputs):
        order = topological_order(root)
        for node in order:
            node.grad = 0.0
        root.grad = 1.0
        for node in order:
            for child, local in zip(node.children, node.local_grads):
                child.grad += local * node.grad
        return tuple(x.grad for x in inputs)

    assert "visit it in reverse" in assess("03.autograd_grad", forwards).detail


def squares_exercise():
    """A made-up exercise, x -> x^2 on four numbers, with one known mistake: x^2 + 1."""
    from helpers.exercises.spec import Case, Exercise

    return Exercise(
        id="99.square", title="A square", kind="implement", points=1, prompt="x -> x^2", reference=lambda x: x * x,
        cases=lambda: [Case(f"x = {x}", (x,)) for x in (2.0, 3.0, 5.0, 7.0)], compare=close(), hints=["x * x"],
        wrong={"One too many.": lambda x: x * x + 1})


def test_a_mistake_that_meets_the_answer_on_fewer_than_half_the_failing_cases_is_not_named():
    from helpers.exercises.runner import run

    exercise = squares_exercise()
    other = run(exercise, lambda x: x * x + x - 1)  # wrong on all four; x^2 + 1 gives the same at x = 2 only
    assert [r.kind for r in other.results] == [ResultKind.WRONG_VALUE] * 4
    assert other.results[0].got == exercise.wrong["One too many."](2.0) == 5.0
    assert other.detail == "", "1 of 4 failing cases is a coincidence, not a diagnosis"
    assert "likely cause" not in exercises.feedback.text(other)
    assert run(exercise, lambda x: x * x + 1.0).detail == "One too many.", "all four failing cases agree"
    half = run(exercise, lambda x: x * x + (1 if x < 4 else -1))  # wrong on all four, agrees on two: enough
    assert half.passed == 0 and half.detail == "One too many."
    quarter = run(exercise, lambda x: x * x + (1 if x < 3 else -1))
    assert quarter.passed == 0 and quarter.detail == ""


def test_the_diagnosis_counts_only_the_wrong_values():
    from helpers.exercises.runner import run

    def one_wrong_value_then_crashes(x):  # the known mistake's value at x = 2, then three crashes
        if x > 2:
            raise ValueError("no")
        return x * x + 1

    report = run(squares_exercise(), one_wrong_value_then_crashes)
    assert [r.kind for r in report.results] == [ResultKind.WRONG_VALUE] + [ResultKind.RAISED] * 3
    assert report.detail == "One too many.", "1 of 1 wrong values agrees"


def test_a_numpy_array_or_a_wrong_dtype_is_said_in_one_line(capsys):
    check("01.unbiased_variance", lambda x: unbiased(x).numpy())
    out = capsys.readouterr().out
    assert "problem: your answer returned a NumPy array; return a torch.Tensor" in out
    assert "why it matters" not in out and "likely cause" not in out
    check("01.unbiased_variance", lambda x: unbiased(x.double()))
    out = capsys.readouterr().out
    assert "returned float64 where float32 was expected" in out and "why it matters" not in out


def test_progress_table_shows_the_last_verdicts(capsys):
    from helpers.exercises import progress
    from helpers.exercises.progress import forget

    forget()
    progress()
    assert "No exercise has been checked" in capsys.readouterr().out
    check("01.unbiased_variance", unbiased)
    check("01.standard_error", stub)
    check("01.expectation", lambda f, v, p: 1 / 0)
    check("01.diagnose_fit", "a")
    capsys.readouterr()
    progress()
    out = capsys.readouterr().out
    points = exercises.get("01.unbiased_variance").points
    total = sum(e.points for e in exercises.catalogue().values() if e.id.startswith("01."))
    count = len([e for e in exercises.catalogue().values() if e.id.startswith("01.")])
    assert f"Chapter 01: 1 of {count} exercises correct, {points} of {total} points" in out
    lines = {line.split()[1]: line for line in out.splitlines()[1:]}
    assert "correct" in lines["01.unbiased_variance"] and "not attempted" in lines["01.standard_error"]
    assert "could not check" in lines["01.expectation"] and "incorrect" in lines["01.diagnose_fit"]
    assert "not run" in lines["01.select_degree"]
    progress(2)
    assert "Chapter 02: 0 of 10 exercises correct" in capsys.readouterr().out  # nothing of chapter 2 checked
    forget()


def test_the_catalogue_listing_names_every_exercise_and_its_kind(capsys):
    from helpers.exercises.__main__ import main

    assert main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == list(exercises.catalogue())
    assert "implement a function" in lines[1] and "compute a number" in lines[0]


def contrast_ratio(foreground: str, background: str) -> float:
    """WCAG 2's contrast ratio of two #rrggbb colours (1 to 21), from the relative luminance of sRGB."""
    def luminance(colour: str) -> float:
        channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    light, dark = sorted([luminance(foreground), luminance(background)], reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_contrast_ratio_matches_wcag_examples():
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21)
    assert contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)  # the classic near miss


@pytest.mark.parametrize("answer", [unbiased, biased, stub, lambda x: x / 0 + undefined_name],  # noqa: F821
                         ids=["correct", "incorrect", "not_attempted", "error"])
def test_every_verdict_box_is_readable_on_its_own_background(answer):
    """The box sets its own background and text colour (a dark notebook theme or the site's dark mode would
    otherwise put our colours on a dark or grey ground); its headline and body text reach WCAG AA (4.5:1)."""
    import re

    from helpers.exercises import feedback

    box = feedback.to_html(assess("01.unbiased_variance", answer))
    background = re.search(r"background:(#[0-9a-f]{6})", box).group(1)
    text = re.search(r";color:(#[0-9a-f]{6})", box).group(1)
    headline = re.search(r"<strong style='color:(#[0-9a-f]{6})'>", box).group(1)
    assert contrast_ratio(headline, background) >= 4.5, (headline, background)
    assert contrast_ratio(text, background) >= 4.5, (text, background)
