"""The chapter 6 references against independent oracles: F.conv2d, scipy.signal.correlate2d, an index-arithmetic
shift, F.max_pool2d, autograd through F.conv2d and torch.nn.grad, nn.Module parameter counts, a linear model's
closed-form saliency and one autograd call per example. And the checks that tests/test_catalogue.py and
tests/test_forbid.py make of every chapter in CHAPTERS, run on this module directly, so that they hold before the
chapter's notebook exists (tests/test_catalogue.py runs the worked solutions from solutions/ once it does)."""

import math

import numpy as np
import pytest
import scipy.signal
import torch
import torch.nn.functional as F
from test_forbid import LIBRARY_ANSWERS
from torch import nn

from helpers.exercises import Outcome, feedback
from helpers.exercises.catalogue import CHAPTERS, ch06, of_chapter
from helpers.exercises.catalogue.ch06 import convolution, gradients, layers, networks
from helpers.exercises.runner import call_all, judge, run
from helpers.exercises.spec import Kind, ResultKind
from helpers.models import count_parameters
from helpers.nn.conv import conv_output_size

F64 = torch.float64
EXERCISES = {exercise.id: exercise for exercise in ch06.EXERCISES}
WRONG = [(e.id, diagnosis) for e in ch06.EXERCISES for diagnosis in e.wrong]
ORDER = ["06.conv2d_single", "06.equivariance_gap", "06.conv2d", "06.output_size", "06.max_pool2d",
         "06.conv_weight_grad", "06.param_count", "06.saliency", "06.freeze"]


def stub(*args):
    raise NotImplementedError()


def label(case):
    return case.label


def tolerance(dtype):
    return dict(rtol=1e-10, atol=1e-12) if dtype == F64 else dict(rtol=1e-4, atol=1e-5)


# ---- what tests/test_catalogue.py checks of every chapter ---------------------------------------------


def test_the_chapter_lists_its_nine_exercises_in_order():
    assert "ch06" in CHAPTERS
    assert [e.id for e in ch06.EXERCISES] == ORDER == [e.id for e in of_chapter("06")]
    assert len({e.kind for e in ch06.EXERCISES}) >= 3


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_reference_passes_public_and_hidden_tests(exercise_id):
    exercise = EXERCISES[exercise_id]
    cases = exercise.cases()
    report = judge(exercise, cases, call_all(exercise.reference, cases, forbidden=()), include_hidden=True)
    assert report.outcome is Outcome.CORRECT, report.first_failure
    assert report.score == exercise.points
    if exercise.kind in ("implement", "derive"):
        assert any(case.hidden for case in cases), "keep at least one test for grading"
        assert sum(not case.hidden for case in cases) >= 4


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_reference_calls_nothing_it_forbids(exercise_id):
    exercise = EXERCISES[exercise_id]
    assert run(exercise, exercise.reference, include_hidden=True).outcome is Outcome.CORRECT


@pytest.mark.parametrize("exercise_id,diagnosis", WRONG, ids=[f"{i}-{n}" for n, (i, _) in enumerate(WRONG)])
def test_known_wrong_answer_is_rejected_with_its_own_diagnosis(exercise_id, diagnosis):
    exercise = EXERCISES[exercise_id]
    report = run(exercise, exercise.wrong[diagnosis], include_hidden=True)
    assert report.outcome is Outcome.INCORRECT
    assert report.score < exercise.points
    assert report.detail == diagnosis
    text = feedback.text(report)
    assert f"input: {report.first_failure.case.label}" in text and "you returned: " in text
    assert f"likely cause: {diagnosis}" in text


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_stub_is_not_attempted(exercise_id):
    assert run(EXERCISES[exercise_id], stub).outcome is Outcome.NOT_ATTEMPTED


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_entry_is_complete(exercise_id):
    exercise = EXERCISES[exercise_id]
    assert exercise.kind in list(Kind) and exercise.title and exercise.prompt
    assert len(exercise.hints) >= 3, "graded hints, the last nearly the answer"
    labels = [case.label for case in exercise.cases()]
    assert all(labels) and len(set(labels)) == len(labels)
    if exercise.kind == "choice":
        assert exercise.reference() in exercise.options
        assert set(exercise.options) == {exercise.reference(), *(wrong() for wrong in exercise.wrong.values())}


def same_argument(x, y):
    if isinstance(x, torch.Tensor):
        return x.dtype == y.dtype and torch.equal(x, y)
    if isinstance(x, nn.Module):
        first, second = x.state_dict(), y.state_dict()
        return (type(x) is type(y) and x.training == y.training and first.keys() == second.keys()
                and all(torch.equal(first[k], second[k]) for k in first))
    return x == y  # numbers, shapes, and functions (the same object every time)


def test_cases_are_deterministic_and_leave_the_global_generator_alone():
    state = torch.get_rng_state()
    for exercise in ch06.EXERCISES:
        for a, b in zip(exercise.cases(), exercise.cases()):
            assert len(a.args) == len(b.args)
            assert all(same_argument(x, y) for x, y in zip(a.args, b.args)), (exercise.id, a.label)
    assert torch.equal(torch.get_rng_state(), state), "building the cases' modules must not draw from torch's stream"


# ---- the library answers (test_forbid.py checks that every one is caught) ------------------------------


@pytest.mark.parametrize("exercise_id", sorted(i for i in LIBRARY_ANSWERS if i.startswith("06.")))
def test_the_library_answers_agree_with_the_references_when_allowed(exercise_id):
    exercise = EXERCISES[exercise_id]
    cases = exercise.cases()
    report = judge(exercise, cases, call_all(LIBRARY_ANSWERS[exercise_id], cases, forbidden=()), True)
    assert report.outcome is Outcome.CORRECT, (exercise_id, report.first_failure)


SINGLE_CHANNEL_WAYS = {
    "scipy.signal.correlate2d": lambda image, kernel: torch.from_numpy(
        scipy.signal.correlate2d(np.array(image.tolist()), np.array(kernel.tolist()), mode="valid")),
    "F.unfold": lambda image, kernel: (kernel.flatten() @ F.unfold(image[None, None], kernel.shape)[0]).reshape(
        image.shape[0] - kernel.shape[0] + 1, -1),
    "Tensor.unfold": lambda image, kernel: (image.unfold(0, kernel.shape[0], 1).unfold(1, kernel.shape[1], 1)
                                            * kernel).sum((-2, -1)),
    "nn.Conv2d": lambda image, kernel: nn.Conv2d(1, 1, tuple(kernel.shape), bias=False, dtype=image.dtype)(
        image[None, None])[0, 0],
    "the book's conv2d_loops": lambda image, kernel: __import__("helpers.nn.conv").nn.conv.conv2d_loops(
        image[None, None], kernel[None, None])[0, 0],
}


@pytest.mark.parametrize("way", SINGLE_CHANNEL_WAYS)
def test_every_library_road_to_the_single_channel_convolution_is_closed(way):
    report = run(convolution.SINGLE, SINGLE_CHANNEL_WAYS[way])
    assert report.score == 0 and report.first_failure.kind is ResultKind.FORBIDDEN


def test_unfold_is_allowed_for_the_layer_and_autograd_is_not_for_the_weight_gradient():
    def im2col(input, weight, bias=None, stride=1, padding=0):
        return layers._conv2d(input, weight, bias, stride, padding)

    assert run(layers.CONV2D, im2col, include_hidden=True).outcome is Outcome.CORRECT

    def by_autograd(input, weight_size, grad_output):
        weight = torch.zeros(weight_size, dtype=input.dtype, requires_grad=True)
        return torch.autograd.grad(F.conv2d(input, weight), weight, grad_output)[0]

    report = run(gradients.WEIGHT_GRAD, by_autograd)
    assert report.score == 0 and "torch.autograd.grad" in report.first_failure.message


# ---- the single-channel convolution against scipy and F.conv2d ----------------------------------------


@pytest.mark.parametrize("case", convolution.SINGLE.cases(), ids=label)
def test_single_channel_convolution_is_scipys_correlate2d(case):
    image, kernel = case.args
    ours = convolution.SINGLE.reference(image, kernel)
    expected = scipy.signal.correlate2d(image.double().numpy(), kernel.double().numpy(), mode="valid")
    assert ours.dtype == image.dtype
    torch.testing.assert_close(ours.double(), torch.from_numpy(expected), **tolerance(image.dtype))
    torch.testing.assert_close(ours, F.conv2d(image[None, None], kernel[None, None])[0, 0], **tolerance(image.dtype))


def test_the_flipped_kernel_is_scipys_convolve2d():
    image, kernel = convolution.SINGLE.cases()[1].args
    flipped = next(w for d, w in convolution.SINGLE.wrong.items() if "flipped" in d)
    expected = scipy.signal.convolve2d(image.numpy(), kernel.numpy(), mode="valid")
    torch.testing.assert_close(flipped(image, kernel), torch.from_numpy(expected), rtol=1e-12, atol=1e-12)
    assert not torch.allclose(flipped(image, kernel), convolution.SINGLE.reference(image, kernel))


# ---- equivariance: the shift by index arithmetic ------------------------------------------------------


def shifted(t, shift):
    """t[..., i, j] moved to [..., (i + s0) % H, (j + s1) % W], by indexing (torch.roll's definition)."""
    h, w = t.shape[-2:]
    rows = (torch.arange(h) - shift[0]) % h
    cols = (torch.arange(w) - shift[1]) % w
    return t[..., rows[:, None], cols[None, :]]


@pytest.mark.parametrize("case", convolution.EQUIVARIANCE.cases(), ids=label)
def test_equivariance_gap_matches_an_index_arithmetic_shift(case):
    f, x, shift = case.args
    with torch.no_grad():
        expected = (f(shifted(x, shift)) - shifted(f(x), shift)).abs().max().item()
    gap = convolution.EQUIVARIANCE.reference(f, x, shift)
    assert isinstance(gap, float) and gap == pytest.approx(expected, rel=1e-6, abs=1e-6)
    text = case.label
    exact = "circular" in text or "ReLU" in text or shift == (0, 0)
    if exact:
        assert gap < (1e-5 if x.dtype == torch.float32 else 1e-12), text
    else:
        assert gap > 0.1, text  # zero padding at the border, or a layer with no tie to shifts at all


def test_a_gap_is_one_number_and_a_0_dim_tensor_will_do():
    def as_tensor(f, x, shift):
        def g(t):
            return torch.roll(t, shifts=shift, dims=(-2, -1))

        return (f(g(x)) - g(f(x))).abs().max()

    def elementwise(f, x, shift):
        return (f(torch.roll(x, shift, (-2, -1))) - torch.roll(f(x), shift, (-2, -1))).abs()

    assert run(convolution.EQUIVARIANCE, as_tensor, include_hidden=True).outcome is Outcome.CORRECT
    report = run(convolution.EQUIVARIANCE, elementwise)
    assert report.first_failure.kind is ResultKind.WRONG_TYPE
    assert "ONE number" in report.first_failure.message and ".max()" in report.first_failure.message
    assert "problem: your answer returned tensor" in feedback.text(report)


# ---- conv2d, the output size and max pooling against torch ---------------------------------------------


@pytest.mark.parametrize("case", layers.CONV2D.cases(), ids=label)
def test_conv2d_is_functional_conv2d(case):
    ours = layers.CONV2D.reference(*case.args)
    torch.testing.assert_close(ours, F.conv2d(*case.args), **tolerance(case.args[0].dtype))


def test_conv2d_cases_need_the_floor_the_stride_the_padding_and_the_bias():
    cases = layers.CONV2D.cases()
    full = [c.args for c in cases if len(c.args) == 5]
    assert any(stride > 1 and (x.shape[2] + 2 * padding - w.shape[2]) % stride for x, w, _, stride, padding in full)
    assert any(padding > 0 for *_, padding in full) and any(b is not None for _, _, b, *_ in full)
    assert any(len(c.args) == 2 for c in cases), "one case leaves bias, stride and padding to their defaults"


@pytest.mark.parametrize("case", layers.OUTPUT_SIZE.cases(), ids=label)
def test_output_size_is_what_conv2d_gives(case):
    size, kernel_size, *rest = case.args
    stride, padding, dilation = (*rest, *(1, 0, 1)[len(rest):])
    measured = F.conv2d(torch.zeros(1, 1, size, 3), torch.zeros(1, 1, kernel_size, 1), stride=(stride, 1),
                        padding=(padding, 0), dilation=(dilation, 1)).shape[2]
    ours = layers.OUTPUT_SIZE.reference(*case.args)
    assert type(ours) is int and ours == measured == conv_output_size(size, kernel_size, stride, padding, dilation)


def test_an_output_size_must_be_an_int():
    def floats(*args):
        return float(layers.OUTPUT_SIZE.reference(*args))

    report = run(layers.OUTPUT_SIZE, floats)
    assert report.first_failure.kind is ResultKind.WRONG_TYPE and "a float" in report.first_failure.message
    assert run(layers.OUTPUT_SIZE, lambda *a: np.int64(layers.OUTPUT_SIZE.reference(*a))).outcome is Outcome.CORRECT


@pytest.mark.parametrize("case", layers.MAX_POOL.cases(), ids=label)
def test_max_pool2d_is_functional_max_pool2d(case):
    ours = layers.MAX_POOL.reference(*case.args)
    assert ours.dtype == case.args[0].dtype
    torch.testing.assert_close(ours, F.max_pool2d(*case.args), rtol=0, atol=0)


def test_the_pooling_cases_hold_negative_values_and_minus_infinity():
    inputs = [c.args[0] for c in layers.MAX_POOL.cases()]
    assert any((x < 0).all() for x in inputs)
    windows_of_inf = [F.max_pool2d(x, *c.args[1:]) for x, c in zip(inputs, layers.MAX_POOL.cases())]
    assert any(torch.isneginf(y).any() for y in windows_of_inf), "a window of -inf only"


# ---- the weight gradient against autograd and torch.nn.grad --------------------------------------------


@pytest.mark.parametrize("case", gradients.WEIGHT_GRAD.cases(), ids=label)
def test_weight_gradient_is_autograds(case):
    x, weight_size, grad_output = case.args
    weight = torch.randn(weight_size, dtype=x.dtype, generator=torch.Generator().manual_seed(0)).requires_grad_()
    (F.conv2d(x, weight) * grad_output).sum().backward()
    ours = gradients.WEIGHT_GRAD.reference(*case.args)
    assert ours.shape == weight_size and ours.dtype == x.dtype
    torch.testing.assert_close(ours, weight.grad, **tolerance(x.dtype))
    torch.testing.assert_close(ours, torch.nn.grad.conv2d_weight(x, weight_size, grad_output), **tolerance(x.dtype))


# ---- the parameter count against nn.Module ------------------------------------------------------------


def vgg_head(flat_side=16):
    return nn.Sequential(nn.Conv2d(3, 64, 3, padding=1), nn.ReLU(), nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64 * flat_side**2, 10))


def test_parameter_count_is_the_modules_and_the_wrong_counts_are_what_they_say():
    model = vgg_head()
    assert model(torch.zeros(1, 3, 32, 32)).shape == (1, 10), "the head's input size follows from the pooling"
    assert networks.PARAM_COUNT.reference() == count_parameters(model) == 202570
    wrong = dict(zip(["biases", "pooling", "channels", "head", "convs"], networks.PARAM_COUNT.wrong.values()))
    assert wrong["biases"]() == sum(p.numel() for name, p in model.named_parameters() if name.endswith("weight"))
    assert wrong["pooling"]() == count_parameters(vgg_head(flat_side=32))
    assert wrong["head"]() == count_parameters(model[-1])
    assert wrong["convs"]() == count_parameters(model[:4])
    depthwise = nn.Conv2d(64, 64, 3, groups=64)  # one k x k kernel per output channel: C_out k^2 + C_out
    assert wrong["channels"]() == 2 * count_parameters(depthwise) + count_parameters(model[-1])


def test_a_parameter_count_must_be_an_int():
    report = run(networks.PARAM_COUNT, lambda: 202570.0)
    assert report.first_failure.kind is ResultKind.WRONG_TYPE and "a float" in report.first_failure.message


# ---- saliency: closed form for a linear model, one gradient per example for a CNN ----------------------


@pytest.mark.parametrize("case", networks.SALIENCY.cases(), ids=label)
def test_saliency_is_each_examples_own_gradient(case):
    model, x, target = case.args
    assert model.training, "the cases hand the model over in training mode, as after training"
    ours = networks.SALIENCY.reference(model, x, target)
    model.eval()
    maps = []
    for n in range(len(x)):  # one example at a time, one autograd call each
        image = x[n : n + 1].clone().requires_grad_(True)
        model(image)[0, target[n]].backward()
        maps.append(image.grad[0].abs().amax(dim=0))
    assert ours.shape == (x.shape[0], *x.shape[2:]) and ours.dtype == x.dtype
    torch.testing.assert_close(ours, torch.stack(maps), **tolerance(x.dtype))


@pytest.mark.parametrize("case", [c for c in networks.SALIENCY.cases() if "linear" in c.label], ids=label)
def test_the_saliency_of_a_linear_classifier_is_its_weight_row(case):
    model, x, target = case.args
    weight = model[1].weight.detach()  # (K, C H W): the logit of class c is W_c . x + b_c, its gradient W_c
    expected = weight[target].abs().reshape(x.shape).amax(dim=1)
    torch.testing.assert_close(networks.SALIENCY.reference(model, x, target), expected, rtol=0, atol=0)


def test_eval_mode_matters_for_the_cnn_cases_and_targets_differ_within_a_batch():
    for case in networks.SALIENCY.cases():
        model, x, target = case.args
        assert len(x) >= 2 and len(set(target.tolist())) >= 2
        if "CNN" in case.label:
            train = networks._saliency_with(eval_mode=False)(model, x, target)
            assert not torch.allclose(train, networks.SALIENCY.reference(model, x, target))
    assert {c.args[1].shape[1] for c in networks.SALIENCY.cases()} == {1, 3}


# ---- the fine-tuning choice -----------------------------------------------------------------------------


def test_the_freeze_question_offers_four_plans_and_answers_b():
    assert networks.FREEZE.reference() == "b"
    assert set(networks.FREEZE_OPTIONS) == {"a", "b", "c", "d"}
    assert "5 outputs" in networks.FREEZE_OPTIONS["b"] and "Freeze the convolutional" in networks.FREEZE_OPTIONS["b"]
    assert run(networks.FREEZE, lambda: " (B) ").outcome is Outcome.CORRECT
    assert math.isclose(run(networks.FREEZE, lambda: "d").score, 0)
