"""Seeing what a convolutional network looks at: feature maps, saliency, gradient ascent, deep dream (chapter 6).

All four ask autograd for a gradient with respect to the *input* instead of the weights:

    saliency          M[n, h, w] = max_c |d s_t(x_n) / d x[n, c, h, w]|             Simonyan et al. 2014
    gradient_ascent   I* = argmax_I  s_t(I) - lambda ||I||^2                          Simonyan et al. 2014
    deep_dream        I <- I + lr g / mean|g|,  g = d/dI (1/2 sum a(I)^2)           Mordvintsev et al. 2015
    feature_maps      a(x), the output of one layer                                  (a forward hook)

s_t is the raw score (logit) of class t, not its softmax probability: the softmax can grow by pushing the
other classes down, and the saliency would then show evidence against them as much as for t.
The model runs in eval mode (dropout off, batch norm with its running statistics, so every example is
processed on its own) and each module's mode is restored afterwards; the model's weights are never changed
and no ``.grad`` is left behind, on the weights or on the input.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn

__all__ = ["deep_dream", "feature_maps", "gradient_ascent", "saliency"]


@contextmanager
def eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """Put every submodule in eval mode inside the ``with`` block, then give each its own mode back.

    (``model.train(was_training)`` would not do: it sets all submodules alike, and would unfreeze a batch
    norm layer that was deliberately left in eval mode while fine-tuning.)
    """
    modes = [(module, module.training) for module in model.modules()]
    model.eval()
    try:
        yield model
    finally:
        for module, training in modes:
            module.training = training


@contextmanager
def capture(layer: nn.Module) -> Iterator[list[torch.Tensor]]:
    """A list that receives ``layer``'s output each time it runs, while inside the ``with`` block.

    The forward hook is removed on leaving the block, also when an error interrupts it.
    """
    outputs: list[torch.Tensor] = []
    handle = layer.register_forward_hook(lambda module, inputs, output: outputs.append(output))
    try:
        yield outputs
    finally:
        handle.remove()


def _submodule(model: nn.Module, layer: nn.Module | str) -> nn.Module:
    """``layer`` itself, or the submodule of that name ("features.3", as in ``model.named_modules()``)."""
    if isinstance(layer, str):
        return model.get_submodule(layer)
    if not any(module is layer for module in model.modules()):
        raise ValueError(f"{type(layer).__name__} is not a submodule of the model: pass one of model.modules(), "
                         "or its name from model.named_modules().")
    return layer


def _activation(model: nn.Module, layer: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Run model(x) and return what ``layer`` output on the way (its first call)."""
    with capture(layer) as outputs:
        model(x)
    if not outputs:
        raise ValueError(f"The layer {type(layer).__name__} did not run in model(x): pick a layer that forward uses.")
    return outputs[0]


def saliency(model: nn.Module, x: torch.Tensor, target: int | torch.Tensor) -> torch.Tensor:
    """|d logit_target / d x|, the maximum over channels: which pixels the class score is most sensitive to.

    x: (N, C, H, W), target: an int (the same class for all) or (N,) int64 -> (N, H, W).
    In eval mode the examples do not interact, so the gradient of the sum of the N scores gives each example
    its own gradient in one backward pass. For a linear model s = W x + b it is |W_t|, whatever x is.
    """
    if x.ndim != 4:
        raise ValueError(f"x must be a batch of images (N, C, H, W), got shape {tuple(x.shape)}; one image is x[None].")
    target = torch.as_tensor(target, device=x.device)
    if target.dtype != torch.int64:
        raise TypeError(f"target must be an int or an int64 tensor of class indices, got {target.dtype}.")
    if target.shape not in ((), (len(x),)):
        raise ValueError(f"target must be one int or one class per image, shape ({len(x)},), got "
                         f"{tuple(target.shape)}.")
    target = target.expand(len(x))
    x = x.detach().clone().requires_grad_(True)
    with eval_mode(model):
        logits = model(x)
    if logits.ndim != 2 or not bool(((target >= 0) & (target < logits.shape[1])).all()):
        raise ValueError(f"target must be a class index in [0, {logits.shape[-1]}) for logits of shape "
                         f"{tuple(logits.shape)}, got {target.tolist()}.")
    scores = logits.gather(1, target[:, None]).sum()
    (gradient,) = torch.autograd.grad(scores, x)  # fills no .grad anywhere, unlike scores.backward()
    return gradient.abs().amax(dim=1)


def gradient_ascent(
    model: nn.Module,
    target: int,
    shape: tuple[int, ...],
    steps: int = 100,
    lr: float = 0.1,
    weight_decay: float = 1e-3,
    start: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, list[float]]:
    """The image the model finds most typical of class ``target``: maximise s_t(I) - weight_decay ||I||^2.

    Plain gradient ascent, I <- I + lr (d s_t / dI - 2 weight_decay I), from ``start`` or else from small noise
    0.01 N(0, 1) drawn with ``generator``. The penalty keeps I bounded: for a linear model s = W I + b the
    objective is a concave quadratic with its maximum at I* = W_t / (2 weight_decay).
    shape: (C, H, W) or (1, C, H, W). Returns (image (1, C, H, W), [s_t(I) before each step]).
    """
    shape = tuple(shape)
    if len(shape) == 3:
        shape = (1, *shape)
    if len(shape) != 4 or shape[0] != 1:
        raise ValueError(f"shape must be one image's (C, H, W) or (1, C, H, W), got {shape}.")
    weight = next(model.parameters())  # the image takes the model's device and dtype
    if start is None:
        start = 0.01 * torch.randn(shape, generator=generator, dtype=weight.dtype)
    elif tuple(start.shape) != shape:
        raise ValueError(f"start must have shape {shape}, got {tuple(start.shape)}.")
    image = start.detach().to(weight, copy=True).requires_grad_(True)
    scores = []
    with eval_mode(model):
        for _ in range(steps):
            score = model(image)[0, target]
            objective = score - weight_decay * (image**2).sum()
            (gradient,) = torch.autograd.grad(objective, image)
            with torch.no_grad():
                image += lr * gradient
            scores.append(score.item())
    return image.detach(), scores


def feature_maps(model: nn.Module, layer: nn.Module | str, x: torch.Tensor) -> torch.Tensor:
    """The output of ``layer`` (a submodule, or its name) when ``model(x)`` runs: eval mode, no gradient.

    x: (N, C, H, W) -> (N, C_layer, H_layer, W_layer) for a convolutional layer: channel k is the k-th
    filter's feature map. The forward hook that catches it is removed afterwards, even on an error.
    """
    layer = _submodule(model, layer)
    with torch.no_grad(), eval_mode(model):
        return _activation(model, layer, x)


def deep_dream(
    model: nn.Module, layer: nn.Module | str, x: torch.Tensor, steps: int = 20, lr: float = 0.05
) -> torch.Tensor:
    """Amplify whatever ``layer`` sees in x: gradient ascent on the image for 1/2 sum a^2, a = layer's output.

    The gradient of 1/2 sum a^2 with respect to a is a itself: "set the layer's gradient to its activation"
    and back-propagate it to the image. Each step, per image n:

        g = d/dI (1/2 sum a(I)^2),   I <- I + lr g / mean(|g|)

    (dividing by the mean |g| makes every step the same size, however large the activations). x: (N, C, H, W)
    -> the new images, (N, C, H, W); x is not modified.
    """
    if x.ndim != 4:
        raise ValueError(f"x must be a batch of images (N, C, H, W), got shape {tuple(x.shape)}; one image is x[None].")
    layer = _submodule(model, layer)
    image = x.detach().clone()
    with eval_mode(model):
        for _ in range(steps):
            image.requires_grad_(True)
            activation = _activation(model, layer, image)
            (gradient,) = torch.autograd.grad(0.5 * (activation**2).sum(), image)
            step_size = gradient.abs().mean(dim=(1, 2, 3), keepdim=True).clamp_min(1e-12)
            image = (image + lr * gradient / step_size).detach()
    return image
