"""The chapter 6 references against independent oracles: F.conv2d, scipy.signal.correlate2d, an index-arithmetic
shift, F.max_pool2d, autograd through F.conv2d and torch.nn.grad, nn.Module parameter counts, a linear model's
closed-form saliency and one autograd call per example. And the checks that tests/test_catalogue.py and
tests/test_forbid.py make of every chapter in CHAPTERS, run on this module directly, so that they hold before the
chapter's notebook exists (tests/test_catalogue.py runs the worked solutions from solutions/ once it does)."""

import math
import re

import numpy as np
import pytest
import scipy.signal
import torch
import torch.nn.functional as F
from catalogue_support import label, tolerance
from test_forbid import LIBRARY_ANSWERS
from torch import nn

from helpers.exercises import Outcome, feedback
from helpers.exercises.catalogue import CHAPTERS, ch06, of_chapter
from helpers.exercises.catalogue.ch06 import convolution, gradients, layers, networks
from helpers.exercises.runner import call_all, judge, run
from helpers.exercises.spec import ResultKind
from helpers.models import count_parameters
from helpers.nn.conv import conv_output_size

F64 = torch.float64
EXERCISES = {exercise.id: exercise for exercise in ch06.EXERCISES}
ORDER = ["06.conv2d_single", "06.equivariance_gap", "06.conv2d", "06.output_size", "06.max_pool2d",
         "06.conv_weight_grad", "06.param_count", "06.saliency", "06.freeze"]


# ---- the chapter's list (tests/test_catalogue.py checks every exercise: references, wrong answers, stubs) ----


def test_the_chapter_lists_its_nine_exercises_in_order():
    assert "ch06" in CHAPTERS
    assert [e.id for e in ch06.EXERCISES] == ORDER == [e.id for e in of_chapter("06")]
    assert len({e.kind for e in ch06.EXERCISES}) >= 3


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


# ---- after review: escape routes closed, inputs left alone, ints, and feedback that reads well ----------
# The worked solutions of solutions/06_convolutional_networks.ipynb, the ones these fixes must keep passing.


def solution_conv2d_single(image, kernel):
    (H, W), (kH, kW) = image.shape, kernel.shape
    out = image.new_zeros(H - kH + 1, W - kW + 1)
    for i in range(H - kH + 1):
        for j in range(W - kW + 1):
            out[i, j] = (image[i : i + kH, j : j + kW] * kernel).sum()
    return out


def solution_conv2d(input, weight, bias=None, stride=1, padding=0):
    x = F.pad(input, (padding, padding, padding, padding))
    C_out, _, kH, kW = weight.shape
    H_out, W_out = (x.shape[2] - kH) // stride + 1, (x.shape[3] - kW) // stride + 1
    out = x.new_zeros(x.shape[0], C_out, H_out, W_out)
    for i in range(H_out):
        for j in range(W_out):
            window = x[:, :, i * stride : i * stride + kH, j * stride : j * stride + kW]
            out[:, :, i, j] = torch.einsum("ncab,ocab->no", window, weight)
    return out if bias is None else out + bias[:, None, None]


def solution_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    span = dilation * (kernel_size - 1) + 1
    return (size + 2 * padding - span) // stride + 1


def solution_max_pool2d(input, kernel_size, stride=None):
    k = kernel_size
    s = k if stride is None else stride
    return input.unfold(2, k, s).unfold(3, k, s).amax(dim=(-2, -1))


def solution_param_count():
    conv1 = 64 * 3 * 3 * 3 + 64
    conv2 = 64 * 64 * 3 * 3 + 64
    linear = 64 * 16 * 16 * 10 + 10
    return conv1 + conv2 + linear


def solution_saliency(model, x, target):
    model.eval()
    x = x.detach().clone().requires_grad_(True)
    scores = model(x)[torch.arange(len(x)), target]
    (grad,) = torch.autograd.grad(scores.sum(), x)
    return grad.abs().amax(dim=1)


SOLUTIONS = {"06.conv2d_single": solution_conv2d_single, "06.conv2d": solution_conv2d,
             "06.output_size": solution_output_size, "06.max_pool2d": solution_max_pool2d,
             "06.param_count": solution_param_count, "06.saliency": solution_saliency,
             "06.freeze": lambda: "b"}


@pytest.mark.parametrize("exercise_id", SOLUTIONS)
def test_the_worked_solutions_still_pass(exercise_id):
    report = run(EXERCISES[exercise_id], SOLUTIONS[exercise_id], include_hidden=True)
    assert report.outcome is Outcome.CORRECT, report.first_failure


def as_strided_windows(image, kernel):
    (H, W), (kH, kW) = image.shape, kernel.shape
    rows, cols = image.stride()
    windows = image.as_strided((H - kH + 1, W - kW + 1, kH, kW), (rows, cols, rows, cols))
    return torch.einsum("ijab,ab->ij", windows, kernel)


def torch_as_strided_windows(image, kernel):
    (H, W), (kH, kW) = image.shape, kernel.shape
    rows, cols = image.stride()
    return (torch.as_strided(image, (H - kH + 1, W - kW + 1, kH, kW), (rows, cols, rows, cols)) * kernel).sum((-2, -1))


def rows_by_numpy_convolve(image, kernel, correlate=False):
    """Each output row a sum over the kernel's rows of 1-D NumPy convolutions, on lists (no Tensor.numpy)."""
    (H, W), (kH, kW) = image.shape, kernel.shape
    out = image.new_zeros(H - kH + 1, W - kW + 1)
    for a in range(kH):
        for i in range(H - kH + 1):
            row = (np.correlate(image[i + a].tolist(), kernel[a].tolist(), "valid") if correlate else
                   np.convolve(image[i + a].tolist(), kernel[a].flip(0).tolist(), "valid"))
            out[i] += torch.tensor(row, dtype=image.dtype)
    return out


def by_torch_fft(image, kernel):
    (H, W), (kH, kW) = image.shape, kernel.shape
    product = torch.fft.rfft2(image) * torch.fft.rfft2(kernel.flip(0, 1), s=(H, W))
    return torch.fft.irfft2(product, s=(H, W))[kH - 1 :, kW - 1 :]


def by_numpy_fft(image, kernel):
    (H, W), (kH, kW) = image.shape, kernel.shape
    product = np.fft.fft2(image.tolist()) * np.fft.fft2(kernel.flip(0, 1).tolist(), s=(H, W))
    return torch.tensor(np.fft.ifft2(product).real[kH - 1 :, kW - 1 :].tolist(), dtype=image.dtype)


def by_sliding_window_view(image, kernel):
    windows = np.lib.stride_tricks.sliding_window_view(np.array(image.tolist()), tuple(kernel.shape))
    return torch.tensor(np.einsum("ijab,ab->ij", windows, np.array(kernel.tolist())).tolist(), dtype=image.dtype)


ESCAPES = {
    "Tensor.as_strided": (as_strided_windows, "torch.Tensor.as_strided"),
    "torch.as_strided": (torch_as_strided_windows, "torch.as_strided"),
    "np.convolve on lists": (rows_by_numpy_convolve, "numpy.convolve"),
    "np.correlate on lists": (lambda image, kernel: rows_by_numpy_convolve(image, kernel, True), "numpy.correlate"),
    "torch.fft": (by_torch_fft, "torch.fft.rfft2"),
    "np.fft on lists": (by_numpy_fft, "numpy.fft.fft2"),
    "sliding_window_view on lists": (by_sliding_window_view, "numpy.lib.stride_tricks.sliding_window_view"),
}


@pytest.mark.parametrize("way", ESCAPES)
def test_strided_views_numpy_convolutions_and_fourier_transforms_are_closed(way):
    answer, name = ESCAPES[way]
    exercise = convolution.SINGLE
    cases = exercise.cases()
    allowed = judge(exercise, cases, call_all(answer, cases, forbidden=()), include_hidden=True)
    assert allowed.outcome is Outcome.CORRECT, "the escape computes the right thing when nothing is forbidden"
    report = run(exercise, answer)
    assert report.score == 0 and report.first_failure.kind is ResultKind.FORBIDDEN
    assert report.first_failure.message.startswith(f"your answer calls {name}: ")
    assert "Fourier transform" in feedback.text(report)


def test_the_layer_allows_strided_windows_but_not_a_fourier_transform():
    def strided(input, weight, bias=None, stride=1, padding=0):
        x = F.pad(input, (padding,) * 4)
        (n, c, h, w), (kh, kw) = x.shape, weight.shape[2:]
        s = x.stride()
        shape = (n, c, (h - kh) // stride + 1, (w - kw) // stride + 1, kh, kw)
        windows = x.as_strided(shape, (s[0], s[1], s[2] * stride, s[3] * stride, s[2], s[3]))
        y = torch.einsum("ncijab,ocab->noij", windows, weight)
        return y if bias is None else y + bias[:, None, None]

    def fourier(input, weight, bias=None, stride=1, padding=0):
        x = F.pad(input, (padding,) * 4)
        (h, w), (kh, kw) = x.shape[2:], weight.shape[2:]
        spectra = torch.einsum("nchw,ochw->nohw", torch.fft.rfft2(x), torch.fft.rfft2(weight.flip(-2, -1), s=(h, w)))
        y = torch.fft.irfft2(spectra, s=(h, w))[..., kh - 1 :, kw - 1 :][..., ::stride, ::stride]
        return y if bias is None else y + bias[:, None, None]

    def numpy_rows(input, weight, bias=None, stride=1, padding=0):
        y = solution_conv2d(input, weight, bias, stride, padding)
        np.convolve(input[0, 0, 0].tolist(), weight[0, 0, 0].tolist())  # one row through NumPy is enough
        return y

    assert run(layers.CONV2D, strided, include_hidden=True).outcome is Outcome.CORRECT
    cases = layers.CONV2D.cases()
    assert judge(layers.CONV2D, cases, call_all(fourier, cases), True).outcome is Outcome.CORRECT
    for answer, name in ((fourier, "torch.fft.rfft2"), (numpy_rows, "numpy.convolve")):
        failure = run(layers.CONV2D, answer).first_failure
        assert failure.kind is ResultKind.FORBIDDEN and failure.message.startswith(f"your answer calls {name}")


def saliency_on_the_callers_x(model, x, target):
    model.eval()
    x.requires_grad_(True)
    model(x).gather(1, target[:, None]).sum().backward()
    return x.grad.abs().amax(dim=1)


def saliency_by_backward(model, x, target):
    model.eval()
    x = x.detach().clone().requires_grad_(True)
    model(x).gather(1, target[:, None]).sum().backward()
    return x.grad.abs().amax(dim=1)


def test_a_saliency_answer_that_changes_the_callers_x_is_told_to_work_on_a_copy():
    cases = networks.SALIENCY.cases()
    allowed = judge(networks.SALIENCY, cases, call_all(saliency_on_the_callers_x, cases), True)
    assert allowed.first_failure.kind is ResultKind.MODIFIED_INPUT, "the values are right: only x is wrong"
    report = run(networks.SALIENCY, saliency_on_the_callers_x)
    assert report.score == 0 and report.first_failure.kind is ResultKind.MODIFIED_INPUT
    text = feedback.text(report)
    assert "problem: your answer changed the input x: it now requires grad and has a .grad" in text
    assert "x.detach().clone().requires_grad_(True)" in text and "you returned" not in text
    x = cases[0].args[1]
    assert not x.requires_grad and x.grad is None, "the case's own x was never handed to the answer"


def test_a_saliency_answer_that_leaves_grads_on_the_model_is_told_to_use_autograd_grad():
    report = run(networks.SALIENCY, saliency_by_backward)
    assert report.score == 0 and report.first_failure.kind is ResultKind.MODIFIED_INPUT
    text = feedback.text(report)
    assert "problem: your answer left a .grad on the parameters of model (1.weight, ...)" in text
    assert "torch.autograd.grad(score, input)" in text

    def freezes_the_model(model, x, target):
        model.requires_grad_(False)
        return solution_saliency(model, x, target)

    failure = run(networks.SALIENCY, freezes_the_model).first_failure
    assert failure.kind is ResultKind.MODIFIED_INPUT and "no longer requires grad" in failure.message
    assert "or .backward()" not in networks.SALIENCY.hints[-1], "the last hint no longer suggests .backward()"


def test_a_wrong_value_from_an_answer_that_also_changed_x_says_both():
    def negated_on_the_callers_x(model, x, target):
        return -saliency_on_the_callers_x(model, x, target)

    report = run(networks.SALIENCY, negated_on_the_callers_x)
    failure = report.first_failure
    assert failure.kind is ResultKind.WRONG_VALUE and failure.message.startswith("values differ")
    assert "(and your answer changed the input x: it now requires grad" in failure.message


@pytest.mark.parametrize("exercise", [layers.OUTPUT_SIZE, networks.PARAM_COUNT], ids=["output_size", "param_count"])
def test_a_whole_number_as_a_tensor_is_told_to_be_an_int(exercise):
    def as_tensor(*given):
        return torch.tensor(exercise.reference(*given))

    report = run(exercise, as_tensor)
    assert report.outcome is Outcome.INCORRECT and report.first_failure.kind is ResultKind.WRONG_TYPE
    assert "a tensor" in report.first_failure.message
    assert "return an int (use .item() or compute with ints)" in feedback.text(report)
    wrong_value = run(exercise, lambda *given: torch.tensor(exercise.reference(*given) + 1)).first_failure
    assert wrong_value.kind is ResultKind.WRONG_VALUE, "a wrong number is told as a wrong number first"


def counts_the_modules():
    model = nn.Sequential(nn.Conv2d(3, 64, 3, padding=1), nn.Conv2d(64, 64, 3, padding=1), nn.Linear(64 * 16 * 16, 10))
    return sum(p.numel() for p in model.parameters())


def counts_one_layer_at_a_time():
    layers_ = [nn.Conv2d(3, 64, 3), nn.Conv2d(64, 64, 3), nn.Linear(64 * 16 * 16, 10)]
    return sum(layer.weight.numel() + layer.bias.numel() for layer in layers_)


def counts_lazy_modules():
    model = nn.Sequential(nn.LazyLinear(10))
    model(torch.zeros(1, 64 * 16 * 16))
    return sum(p.numel() for p in model.parameters()) + 1792 + 36928


@pytest.mark.parametrize("answer,name", [(counts_the_modules, "torch.nn.Conv2d"),
                                         (counts_one_layer_at_a_time, "torch.nn.Conv2d"),
                                         (counts_lazy_modules, "torch.nn.Linear"),
                                         (lambda: count_parameters(vgg_head()), "torch.nn.Conv2d")])
def test_building_the_layers_to_count_them_is_forbidden(answer, name):
    assert answer() == 202570
    report = run(networks.PARAM_COUNT, answer)
    assert report.score == 0 and report.first_failure.kind is ResultKind.FORBIDDEN
    assert report.first_failure.message.startswith(f"your answer calls {name}")
    assert "asks for the arithmetic" in report.first_failure.message


def test_the_parameter_count_feedback_gives_no_part_of_the_answer_away():
    conv1, conv2, linear = 64 * 3 * 9 + 64, 64 * 64 * 9 + 64, 64 * 16 * 16 * 10 + 10
    parts = {conv1, conv2, linear, conv1 + conv2, conv2 + linear, conv1 + linear, 64 + 64 + 10, 64 * 16 * 16 * 10,
             64 * 3 * 9, 64 * 64 * 9, 202570}
    case = networks.PARAM_COUNT.cases()[0]
    for text in [*networks.PARAM_COUNT.wrong, case.why, networks.PARAM_COUNT.instead, networks.PARAM_COUNT.prompt]:
        numbers = {int(n) for n in re.findall(r"\d+", text)}
        assert not numbers & parts, (text, numbers & parts)


def test_the_dilated_span_d_times_k_has_its_own_diagnosis_and_a_case_tells_it_from_the_missing_plus_one():
    wrong = {d.split(":")[0]: w for d, w in layers.OUTPUT_SIZE.wrong.items()}
    span_dk = wrong["The dilated kernel was taken to span d k pixels"]
    no_plus_one = wrong["The + 1 is missing"]
    public = [c.args for c in layers.OUTPUT_SIZE.cases() if not c.hidden]
    assert any(span_dk(*a) != no_plus_one(*a) and span_dk(*a) != solution_output_size(*a) for a in public)
    report = run(layers.OUTPUT_SIZE, span_dk)
    assert report.detail.startswith("The dilated kernel was taken to span d k pixels")
    assert run(layers.OUTPUT_SIZE, no_plus_one).detail.startswith("The + 1 is missing")


def test_a_near_miss_in_max_pooling_shows_the_digits_that_differ():
    def near_miss(input, kernel_size, stride=None):
        return solution_max_pool2d(input, kernel_size, stride) * (1 + 1e-9)

    message = run(layers.MAX_POOL, near_miss).first_failure.message
    expected, got = re.search(r"expected (\S+), got (\S+) \(off by", message).groups()
    assert expected != got and "off by 1.5e-08" in message, message  # the 15 of the first case, 15 * 1e-9 off


def test_wrong_types_read_as_sentences_after_your_answer():
    freeze = feedback.text(run(networks.FREEZE, lambda: 2))
    assert "problem: your answer returned 2; answer with one of the letters 'a', 'b', 'c', 'd'" in freeze
    dotted = feedback.text(run(networks.FREEZE, lambda: "b."))
    assert "problem: your answer returned 'b.', which is not one of the options" in dotted

    def as_list(input, weight_size, grad_output):
        return gradients.WEIGHT_GRAD.reference(input, weight_size, grad_output).tolist()

    listed = feedback.text(run(gradients.WEIGHT_GRAD, as_list))
    assert "problem: your answer returned a list, [[[[" in listed and "where a torch.Tensor of shape (" in listed
    for text in (freeze, dotted, listed):
        assert "your answer answer" not in text and "your answer expected" not in text
