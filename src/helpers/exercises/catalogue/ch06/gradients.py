"""Chapter 6: the gradient of a convolution with respect to its weight, written as a convolution."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from helpers.exercises.catalogue.common import F64, close_by_dtype, gen
from helpers.exercises.forbid import AUTOGRAD
from helpers.exercises.spec import Case, Exercise

F32 = torch.float32


def _weight_grad_cases() -> list[Case]:
    g = gen(66)

    def conv(n, c_in, h, w, c_out, kh, kw, dtype=F64):
        x = torch.randn(n, c_in, h, w, generator=g, dtype=dtype)
        grad_output = torch.randn(n, c_out, h - kh + 1, w - kw + 1, generator=g, dtype=dtype)
        return x, (c_out, c_in, kh, kw), grad_output

    return [
        Case("input (2, 3, 6, 5) float64, weight_size (4, 3, 3, 2), grad_output (2, 4, 4, 4)",
             conv(2, 3, 6, 5, 4, 3, 2),
             "Tap (a, b) of kernel (o, c) multiplied input[n, c, i + a, j + b] to make y[n, o, i, j]: its gradient "
             "adds grad_output[n, o, i, j] times that pixel, over every example n and position (i, j)."),
        Case("one example, one channel: input (1, 1, 5, 5), weight_size (1, 1, 3, 3)", conv(1, 1, 5, 5, 1, 3, 3),
             "With one channel the gradient is the input correlated with grad_output, which acts as the kernel."),
        Case("a batch of 4: input (4, 2, 5, 6), weight_size (3, 2, 2, 3)", conv(4, 2, 5, 6, 3, 2, 3),
             "The same kernel is used for every example, so the gradients of all examples add up (a sum, not a "
             "mean: the loss decides any averaging, and grad_output already carries it)."),
        Case("input (3, 2, 7, 7) float32, weight_size (2, 2, 3, 3)", conv(3, 2, 7, 7, 2, 3, 3, dtype=F32),
             "Any dtype: the gradient keeps the input's."),
        Case("a 1x1 kernel: input (2, 3, 4, 5), weight_size (2, 3, 1, 1)", conv(2, 3, 4, 5, 2, 1, 1),
             "A 1x1 kernel sees one pixel per position: dL/dw[o, c] = sum_{n,i,j} g[n, o, i, j] x[n, c, i, j]."),
        Case("a kernel as large as the image: input (2, 2, 4, 3), weight_size (3, 2, 4, 3)", conv(2, 2, 4, 3, 3, 4, 3),
             "One output position: the gradient is grad_output times the whole image, summed over the batch."),
        Case("input (8, 4, 12, 10), weight_size (6, 4, 5, 3)", conv(8, 4, 12, 10, 6, 5, 3), hidden=True),
        Case("input (5, 3, 9, 11) float32, weight_size (4, 3, 3, 4)", conv(5, 3, 9, 11, 4, 3, 4, dtype=F32),
             hidden=True),
        Case("input (3, 2, 6, 6), weight_size (2, 2, 3, 3) given as a torch.Size",
             (lambda x, size, go: (x, torch.Size(size), go))(*conv(3, 2, 6, 6, 2, 3, 3)), hidden=True),
    ]


def _conv2d_weight(input: torch.Tensor, weight_size, grad_output: torch.Tensor) -> torch.Tensor:
    """dL/dW[o, c, a, b] = sum_{n,i,j} g[n, o, i, j] x[n, c, i + a, j + b]: the input correlated with g, with the
    batch and channel dimensions swapped so that the sum over n is the sum over a convolution's input channels."""
    return F.conv2d(input.transpose(0, 1), grad_output.transpose(0, 1)).transpose(0, 1)


def _backwards(input, weight_size, grad_output):
    """dL/dW[o, c, a, b] = sum g[n, o, i, j] x[n, c, i - a, j - b] (zero outside): the taps read the wrong way."""
    kh, kw = weight_size[2:]
    padded = F.pad(input, (kw - 1, 0, kh - 1, 0))
    return _conv2d_weight(padded, weight_size, grad_output)[..., :kh, :kw].flip(-2, -1)


WEIGHT_GRAD = Exercise(
    id="06.conv_weight_grad",
    title="The gradient of a convolution with respect to its weight",
    kind="implement",
    points=2,
    prompt=(
        "conv2d_weight(input, weight_size, grad_output) returns dL/dW for y = F.conv2d(input, W) (stride 1, no "
        "padding) given grad_output = dL/dy, as torch.nn.grad.conv2d_weight: dL/dW[o, c, a, b] = "
        "sum_n sum_{i,j} grad_output[n, o, i, j] input[n, c, i + a, j + b]. input (N, C_in, H, W), weight_size "
        "(C_out, C_in, kH, kW), grad_output (N, C_out, H - kH + 1, W - kW + 1) -> a tensor of shape weight_size. "
        "F.conv2d is allowed; autograd is not."
    ),
    reference=_conv2d_weight,
    cases=_weight_grad_cases,
    compare=close_by_dtype(float64=(1e-10, 1e-12), float32=(1e-4, 1e-4)),
    forbidden=("torch.nn.grad.conv2d_weight", "torch.nn.grad.conv2d_input", "torch.ops.aten.convolution_backward",
               *AUTOGRAD, "helpers.nn.conv_backward.conv2d_weight",
               "helpers.nn.conv_backward.conv2d_input", "helpers.nn.conv_backward.conv2d_backward"),
    instead="Loop over the kernel taps (a, b), or write the sum as one F.conv2d of the input with grad_output.",
    hints=[
        "Follow one weight: w[o, c, a, b] multiplied input[n, c, i + a, j + b] in every output y[n, o, i, j]. By the "
        "chain rule its gradient is the sum over n, i, j of grad_output[n, o, i, j] times that input pixel.",
        "For a fixed tap (a, b) the pixels input[:, :, a : a + H_out, b : b + W_out] line up with grad_output: "
        "torch.einsum('noij,ncij->oc', grad_output, that slice) gives dL/dW[:, :, a, b] for all o and c at once.",
        "All taps in one call: the formula is a correlation of the input with grad_output acting as the kernel, "
        "summed over n. Make n the channel dimension of both (.transpose(0, 1)), F.conv2d them, and transpose the "
        "result back to (C_out, C_in, kH, kW).",
    ],
    wrong={
        "The result is flipped: that is a convolution of the input with grad_output. The tap (a, b) multiplied "
        "input[i + a, j + b] in the forward pass (a correlation, no flip), so its gradient pairs grad_output[i, j] "
        "with input[i + a, j + b].": lambda input, size, go: _conv2d_weight(input, size, go).flip(-2, -1),
        "Only the first example of the batch was used: the kernel is shared by all N examples, so their "
        "contributions add up, sum_n.": lambda input, size, go: _conv2d_weight(input[:1], size, go[:1]),
        "The gradient was averaged over the batch: the sum over n is what the chain rule gives. Any 1/N belongs to "
        "the loss, and grad_output already contains it.": (
            lambda input, size, go: _conv2d_weight(input, size, go) / input.shape[0]
        ),
        "The output and input channels are swapped: dL/dW has the weight's shape (C_out, C_in, kH, kW), o first. "
        "(After the F.conv2d with batch and channels transposed, transpose dims 0 and 1 back.)": (
            lambda input, size, go: _conv2d_weight(input, size, go).transpose(0, 1)
        ),
        "The taps read the input at the wrong offset, input[i - a, j - b]: in the forward pass tap (a, b) met "
        "input[i + a, j + b] (y[i, j] = sum_{a,b} w[a, b] x[i + a, j + b]), so its gradient pairs grad_output[i, j] "
        "with input[i + a, j + b].": _backwards,
    },
)

EXERCISES = [WEIGHT_GRAD]
