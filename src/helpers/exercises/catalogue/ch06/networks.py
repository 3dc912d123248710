"""Chapter 6: whole networks: counting a VGG-style head's parameters, a saliency map, what to freeze to fine-tune."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from helpers.exercises.catalogue.ch06.shared import seeded
from helpers.exercises.catalogue.common import F64, close_by_dtype, gen, whole_number
from helpers.exercises.compare import choice
from helpers.exercises.spec import Case, Exercise

F32 = torch.float32


# ---------------------------------------------------------------- the parameters of a VGG-style network
def _conv_parameters(c_in: int, c_out: int, k: int) -> int:
    return c_out * c_in * k * k + c_out  # one k x k kernel per (output, input) channel pair, one bias per output


def _vgg_head_parameters() -> int:
    flat = 64 * 16 * 16  # the 2x2 max-pool halves 32x32 to 16x16 and has no parameters
    return _conv_parameters(3, 64, 3) + _conv_parameters(64, 64, 3) + (flat * 10 + 10)


# Building the layers and counting their parameters: the book's counters, the layers' constructors, and the
# Module methods that list parameters (whatever layers were built: nn.LazyConv2d, a torchvision model, ...).
MODULE_COUNTING = (
    "helpers.nn.conv.conv_parameter_count", "helpers.models.count_parameters", "torch.nn.Conv2d", "torch.nn.Linear",
    "torch.nn.Module.parameters", "torch.nn.Module.named_parameters", "torch.nn.Module.state_dict",
)

VGG_NETWORK = ("input 3x32x32 -> conv(3 -> 64, 3x3, padding 1) + ReLU -> conv(64 -> 64, 3x3, padding 1) + ReLU -> "
               "2x2 max-pool (stride 2) -> flatten -> Linear(64 * 16 * 16 -> 10)")

PARAM_COUNT = Exercise(
    id="06.param_count",
    title="The parameters of a VGG-style network",
    kind="number",
    points=1,
    prompt=(
        f"vgg_head_parameters() returns, as an int, the number of trainable parameters (weights and biases) of "
        f"{VGG_NETWORK}. Work it out with arithmetic."
    ),
    reference=_vgg_head_parameters,
    cases=lambda: [Case(VGG_NETWORK, (),
                        "Each convolution has C_out C_in k^2 weights and C_out biases, whatever the image size; the "
                        "linear layer has in x out weights and out biases; ReLU and pooling have none.")],
    compare=whole_number("a number of parameters"),
    forbidden=MODULE_COUNTING,
    instead="This exercise asks for the arithmetic, not for the layers built and counted: C_out * C_in * k * k + "
    "C_out per convolution, in * out + out for the linear layer.",
    hints=[
        "A convolution's parameters do not depend on the image size: C_out kernels of shape (C_in, k, k), plus one "
        "bias per output channel. ReLU and max-pooling have no parameters.",
        "The linear layer's input is the flattened output of the pooling layer: 64 channels of 16 x 16 after the "
        "2x2 pool. It has in x out weights plus out biases.",
        "(64 * 3 * 9 + 64) + (64 * 64 * 9 + 64) + (64 * 16 * 16 * 10 + 10).",
    ],
    wrong={
        "The biases were forgotten: every convolution has one bias per output channel and the linear layer one per "
        "output.": lambda: 64 * 3 * 9 + 64 * 64 * 9 + 64 * 16 * 16 * 10,
        "The pooling was ignored: the 2x2 max-pool halves 32x32 to 16x16, so the linear layer sees 64 * 16 * 16 = "
        "16384 inputs, not 64 * 32 * 32.": lambda: 1792 + 36928 + (64 * 32 * 32 * 10 + 10),
        "The kernels were counted without their input channels: each of the C_out kernels is (C_in, k, k), so a "
        "convolution has C_out C_in k^2 weights, not C_out k^2.": lambda: 2 * (64 * 9 + 64) + 163850,
        "Only the linear layer was counted: the two convolutions have parameters too, C_out C_in k^2 weights and "
        "C_out biases each.": lambda: 163850,
        "Only the convolutions were counted: the final linear layer has in x out weights and out biases, by far the "
        "most of the network.": lambda: 1792 + 36928,
    },
)


# ---------------------------------------------------------------- a saliency map
def _linear(c, h, w, k):
    return lambda: nn.Sequential(nn.Flatten(), nn.Linear(c * h * w, k))


def _with_statistics(model: nn.Module) -> nn.Module:
    """Give every batch norm layer of ``model`` running statistics and affine parameters away from 0 and 1, as
    after training, so that its eval mode and its training mode differ."""
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.running_mean.normal_()
            module.running_var.uniform_(0.5, 2.0)
            nn.init.normal_(module.weight, 1.0, 0.3)
            nn.init.normal_(module.bias, 0.0, 0.3)
    return model


def _cnn(c, h, w, k, dropout=True):
    """conv 3x3 (c -> 4) + batch norm + ReLU + 2x2 max-pool, then (dropout and) a linear layer to k classes."""
    def build():
        return _with_statistics(nn.Sequential(
            nn.Conv2d(c, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
            *([nn.Dropout(0.5)] if dropout else []), nn.Linear(4 * (h // 2) * (w // 2), k)))

    return build


def _saliency_cases() -> list[Case]:
    g = gen(68)

    def case(label, seed, build, shape, target, dtype=F64, why="", hidden=False):
        x = torch.randn(*shape, generator=g, dtype=dtype)
        return Case(label, (seeded(seed, build, dtype), x, torch.tensor(target)), why, hidden)

    return [
        case("a linear classifier (4 classes), x: (3, 1, 4, 5) float64, target [2, 0, 3]", 0, _linear(1, 4, 5, 4),
             (3, 1, 4, 5), [2, 0, 3],
             why="For a linear model the logit of class c is W_c . x + b_c, so its gradient is W_c: the saliency of "
                 "each example is |W_target| as an image."),
        case("a linear classifier (5 classes), x: (2, 3, 4, 4) float64, target [1, 4]", 1, _linear(3, 4, 4, 5),
             (2, 3, 4, 4), [1, 4],
             why="With 3 channels the map keeps, at each pixel, the largest |gradient| of the three."),
        case("a CNN with batch norm (no dropout), given in training mode, x: (4, 3, 6, 6) float64, target "
             "[0, 2, 2, 1]", 2, _cnn(3, 6, 6, 3, dropout=False), (4, 3, 6, 6), [0, 2, 2, 1],
             why="In eval mode batch norm uses its running statistics, so each example's map depends on that example "
                 "only; in training mode it would mix the batch."),
        case("a CNN with batch norm and dropout, given in training mode, x: (3, 3, 8, 8) float64, target [3, 0, 1]",
             3, _cnn(3, 8, 8, 4), (3, 3, 8, 8), [3, 0, 1],
             why="model.eval() turns dropout off: the map must not depend on a random mask."),
        # no dropout here either: an answer left in training mode is then the known-wrong one on 2 of the 3 public
        # CNN cases (and 3 of 5 in all), enough for its diagnosis (dropout's masks differ from run to run)
        case("a CNN with batch norm (no dropout), one channel, x: (3, 1, 8, 8) float32, target [1, 1, 0]", 4,
             _cnn(1, 8, 8, 2, dropout=False), (3, 1, 8, 8), [1, 1, 0], dtype=F32, why="Any dtype: the map keeps x's."),
        case("a CNN with batch norm and dropout, x: (8, 3, 12, 12) float64, 6 classes", 5, _cnn(3, 12, 12, 6),
             (8, 3, 12, 12), [5, 0, 3, 3, 1, 2, 4, 0], hidden=True),
        case("a linear classifier, x: (5, 3, 6, 6) float32, 3 classes", 6, _linear(3, 6, 6, 3), (5, 3, 6, 6),
             [2, 1, 0, 2, 1], dtype=F32, hidden=True),
        case("a CNN with batch norm, one channel, x: (6, 1, 6, 8) float64", 7, _cnn(1, 6, 8, 4, dropout=False),
             (6, 1, 6, 8), [3, 2, 1, 0, 1, 2], hidden=True),
    ]


def _saliency(model: nn.Module, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    model.eval()  # dropout off, batch norm with its running statistics: the examples do not interact
    x = x.detach().clone().requires_grad_(True)
    scores = model(x).gather(1, target[:, None]).sum()  # each example's own class score (logit)
    (gradient,) = torch.autograd.grad(scores, x)
    return gradient.abs().amax(dim=1)


def _own_logits(logits, target):
    return logits.gather(1, target[:, None]).sum()


def _saliency_with(score=_own_logits, reduce=lambda g: g.abs().amax(dim=1), eval_mode=True):
    """The saliency map with one of the known mistakes."""

    def answer(model, x, target):
        if eval_mode:
            model.eval()
        x = x.detach().clone().requires_grad_(True)
        (gradient,) = torch.autograd.grad(score(model(x), target), x)
        return reduce(gradient)

    return answer


SALIENCY = Exercise(
    id="06.saliency",
    title="A saliency map",
    kind="implement",
    points=2,
    prompt=(
        "saliency(model, x, target) returns the saliency map of each image for its target class: "
        "max over channels of |d logit_target / d x|, where logit_target is the model's raw score (logit) for "
        "class target[n] on image n. x: (N, C, H, W), target: (N,) int64 -> (N, H, W) in x's dtype. Put the model "
        "in eval mode first (model.eval(); leaving it there is fine). Leave x and the model's parameters as they "
        "were: no requires_grad or .grad on x, no .grad on the parameters."
    ),
    reference=_saliency,
    cases=_saliency_cases,
    compare=close_by_dtype(float64=(1e-9, 1e-12), float32=(1e-4, 1e-6)),
    forbidden=("helpers.interpret.saliency",),
    instead="Ask autograd for the gradient of the target logits with respect to a copy of x that requires grad.",
    hints=[
        "model.eval() first: dropout off, batch norm with its running statistics. Then make a copy of x that "
        "requires grad, x = x.detach().clone().requires_grad_(True), and run the model on it: logits (N, K).",
        "Pick each example's own class score, logits[n, target[n]] (logits.gather(1, target[:, None]) or "
        "logits[torch.arange(N), target]). In eval mode the examples do not interact, so one gradient of their SUM "
        "gives every example its own gradient.",
        "torch.autograd.grad(scores.sum(), x)[0] is (N, C, H, W) (unlike .backward(), it fills no .grad of the "
        "model's parameters); its absolute value, maximum over the channels: .abs().amax(dim=1).",
    ],
    wrong={
        "That is the gradient of the softmax probability: saliency uses the raw class score, the logit. The "
        "probability can also rise by pushing the OTHER classes down, so its gradient mixes in evidence against "
        "them.": _saliency_with(score=lambda logits, t: logits.softmax(1).gather(1, t[:, None]).sum()),
        "That is the gradient of the cross-entropy loss (the dE/dx of the lecture notes, averaged over the batch, so "
        "1/N too small): saliency uses the raw class score, the logit, whose gradient says which pixels raise the "
        "evidence for the class.": _saliency_with(score=lambda logits, t: F.cross_entropy(logits, t)),
        "That is the gradient of the cross-entropy loss, -log p_target: saliency uses the raw class score, the "
        "logit, not the loss or the log-probability (which also depend on the other classes).": (
            _saliency_with(score=lambda logits, t: F.cross_entropy(logits, t, reduction="sum"))
        ),
        "The absolute value is missing: a pixel matters as much when raising it lowers the score as when it raises "
        "it. Take |gradient| before the maximum over channels.": _saliency_with(reduce=lambda g: g.amax(dim=1)),
        "The channels were summed: the map keeps, at each pixel, the LARGEST |gradient| over the channels, "
        ".abs().amax(dim=1).": _saliency_with(reduce=lambda g: g.abs().sum(dim=1)),
        "The channels were averaged: the map keeps, at each pixel, the LARGEST |gradient| over the channels, "
        ".abs().amax(dim=1).": _saliency_with(reduce=lambda g: g.abs().mean(dim=1)),
        "The channels were not reduced: the map is (N, H, W), the maximum of |gradient| over the channels at each "
        "pixel (.abs().amax(dim=1)).": _saliency_with(reduce=lambda g: g.abs()),
        "The model was left in training mode: dropout then zeroes random units, and batch norm normalises with the "
        "batch's statistics, so each map depends on chance and on the other images. Call model.eval() first.": (
            _saliency_with(eval_mode=False)
        ),
        "That is the gradient of the sum of ALL logits: each example's map is about its own target class only, "
        "logits[n, target[n]].": _saliency_with(score=lambda logits, t: logits.sum()),
        "Every example's gradient was taken for class target[0]: each example n has its own target[n], "
        "logits.gather(1, target[:, None]).": _saliency_with(score=lambda logits, t: logits[:, t[0]].sum()),
    },
)


# ---------------------------------------------------------------- what to freeze to fine-tune
FREEZE_OPTIONS = {
    "a": "Train a new network of the same shape from random weights on the 200 photos.",
    "b": "Freeze the convolutional layers, replace the last linear layer by a new one with 5 outputs, and train only "
         "it.",
    "c": "Freeze the last layer, and train the convolutional layers on the 200 photos.",
    "d": "Replace the last layer, then train every layer at once with the learning rate of the original training.",
}

FREEZE = Exercise(
    id="06.freeze",
    title="What to freeze when fine-tuning",
    kind="choice",
    points=1,
    prompt=(
        "A CNN was trained on 100,000 labelled photos of everyday objects. You have 200 labelled photos of 5 new kinds "
        "of object. Which plan is most likely to work best? Return the letter."
    ),
    reference=lambda: "b",
    cases=lambda: [Case("a pretrained CNN, 200 labelled photos of 5 new kinds of object", (),
                        "The early layers hold general features (edges, textures, parts) that transfer; 200 photos "
                        "are enough to fit a small new head on them, not to learn the features.")],
    compare=choice(FREEZE_OPTIONS),
    options=FREEZE_OPTIONS,
    hints=[
        "Ask what 200 photos can teach: enough to fit a few thousand weights, not the millions of a whole CNN.",
        "Which layers hold knowledge that is useful for new objects too (edges, textures, parts), and which layer "
        "is tied to the OLD classes?",
        "Keep the general features fixed and learn only what must be new: the last layer, with 5 outputs.",
    ],
    wrong={
        "200 examples are far too few to learn all the weights of a CNN from scratch: it would overfit. The "
        "pretrained features are exactly what the small data set lacks; reuse them.": lambda: "a",
        "The last layer's outputs are the OLD classes: it is exactly the part that must be replaced (5 outputs). "
        "The early layers hold the general features (edges, textures) that transfer; keep those.": lambda: "c",
        "A freshly initialised head sends large random gradients into the good features, and a large learning rate "
        "on 200 examples overwrites them. Train the new head first; fine-tune everything only later, with a much "
        "smaller learning rate (and more data).": lambda: "d",
    },
)

EXERCISES = [PARAM_COUNT, SALIENCY, FREEZE]
