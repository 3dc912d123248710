"""helpers.interpret against independent oracles: the closed-form input gradient of a linear classifier (W_c),
torch.func.jacrev on a small CNN, the closed-form iterates of gradient ascent on a concave quadratic, the layers
applied by hand, and a deep-dream step computed with autograd; plus eval mode, restored modes, no side effects."""

import pytest
import torch
from torch import nn

from helpers.interpret import deep_dream, feature_maps, gradient_ascent, saliency
from helpers.models import SmallCNN

F64 = torch.float64
TOL = {"rtol": 1e-10, "atol": 1e-12}


def randn(*shape, seed=0):
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=F64)


def linear_classifier(shape=(1, 8, 8), classes=10, seed=0):
    torch.manual_seed(seed)
    c, h, w = shape
    return nn.Sequential(nn.Flatten(), nn.Linear(c * h * w, classes)).double()


def small_cnn(seed=0, dropout=False):
    """SmallCNN with batch norm (so eval mode matters) and optionally dropout before the head, in float64."""
    torch.manual_seed(seed)
    model = SmallCNN(channels=(4, 6)).double()
    model.features.insert(1, nn.BatchNorm2d(4).double())
    norm = model.features[1]
    norm.running_mean.copy_(randn(4, seed=seed + 1))
    norm.running_var.copy_(randn(4, seed=seed + 2).abs() + 0.5)
    if dropout:
        model.classifier = nn.Sequential(nn.Dropout(0.5), model.classifier)
    return model


def snapshot(model):
    return {name: value.clone() for name, value in model.state_dict().items()}


def assert_untouched(model, before):
    after = model.state_dict()
    assert before.keys() == after.keys()
    assert all(torch.equal(before[name], after[name]) for name in before)
    assert all(p.grad is None for p in model.parameters())


# ---- saliency --------------------------------------------------------------------------------------------------


def test_saliency_of_a_linear_classifier_is_abs_w_c():
    model = linear_classifier()
    weight = model[1].weight.detach()
    x = randn(5, 1, 8, 8)
    for c in (0, 3, 9):
        expected = weight[c].abs().reshape(8, 8).expand(5, 8, 8)
        torch.testing.assert_close(saliency(model, x, c), expected, **TOL)
    targets = torch.tensor([4, 0, 9, 4, 2])
    torch.testing.assert_close(saliency(model, x, targets), weight[targets].abs().reshape(5, 8, 8), **TOL)


def test_saliency_takes_the_maximum_over_channels():
    model = linear_classifier(shape=(3, 4, 5), classes=4)
    w = model[1].weight.detach()[2].reshape(3, 4, 5)
    expected = torch.maximum(torch.maximum(w[0].abs(), w[1].abs()), w[2].abs())
    torch.testing.assert_close(saliency(model, randn(2, 3, 4, 5), 2), expected.expand(2, 4, 5), **TOL)


def test_saliency_is_the_gradient_of_the_logit_not_of_the_softmax():
    model = linear_classifier()
    x = randn(1, 1, 8, 8)
    x_grad = x.clone().requires_grad_(True)
    torch.log_softmax(model(x_grad), dim=1)[0, 3].backward()
    assert not torch.allclose(saliency(model, x, 3), x_grad.grad.abs()[:, 0])


def test_saliency_matches_jacrev_on_a_small_cnn():
    model = small_cnn().eval()
    x = randn(3, 1, 8, 8, seed=5)
    targets = torch.tensor([1, 7, 1])
    ours = saliency(model, x, targets)
    for n in range(3):
        jacobian = torch.func.jacrev(lambda image, n=n: model(image[None])[0, targets[n]])(x[n])  # (1, 8, 8)
        torch.testing.assert_close(ours[n], jacobian.abs().amax(dim=0), **TOL)


def test_saliency_runs_in_eval_mode_and_restores_every_module_s_mode():
    model = small_cnn(dropout=True).train()
    model.features[1].eval()  # a frozen batch norm, as when fine-tuning: must stay in eval mode afterwards
    modes = [m.training for m in model.modules()]
    x = randn(4, 1, 8, 8, seed=1)
    first, second = saliency(model, x, 2), saliency(model, x, 2)
    torch.testing.assert_close(first, second, rtol=0, atol=0)  # no dropout noise
    assert [m.training for m in model.modules()] == modes

    model.eval()
    x_grad = x.clone().requires_grad_(True)
    model(x_grad)[:, 2].sum().backward()  # the oracle, in eval mode by hand
    torch.testing.assert_close(first, x_grad.grad.abs().amax(dim=1), **TOL)


def test_saliency_leaves_no_trace():
    model = small_cnn().train()
    before = snapshot(model)
    x = randn(2, 1, 8, 8).requires_grad_(True)
    x_before = x.detach().clone()
    result = saliency(model, x, 0)
    assert x.grad is None and torch.equal(x.detach(), x_before)
    assert not result.requires_grad
    assert_untouched(model, before)  # no .grad, and batch norm's running statistics unchanged


def test_saliency_errors():
    model = linear_classifier()
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        saliency(model, randn(1, 8, 8), 0)
    with pytest.raises(TypeError, match="int64"):
        saliency(model, randn(2, 1, 8, 8), torch.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="one class per image"):
        saliency(model, randn(2, 1, 8, 8), torch.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match=r"\[0, 10\)"):
        saliency(model, randn(2, 1, 8, 8), 10)


# ---- gradient ascent -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("lr, weight_decay, steps", [(0.1, 1e-3, 100), (0.5, 0.4, 7), (0.9, 0.5, 60)])
def test_gradient_ascent_on_a_linear_model_follows_the_closed_form(lr, weight_decay, steps):
    """s(I) = w.I + b - lambda |I|^2 is a concave quadratic, maximal at I* = w / (2 lambda); gradient ascent
    contracts the distance to it by (1 - 2 lambda lr) each step: I_t = I* + (1 - 2 lambda lr)^t (I_0 - I*)."""
    model = linear_classifier()
    w, b = model[1].weight.detach()[6].reshape(1, 1, 8, 8), model[1].bias.detach()[6]
    start = randn(1, 1, 8, 8, seed=3)
    optimum = w / (2 * weight_decay)
    image, scores = gradient_ascent(model, 6, (1, 8, 8), steps, lr, weight_decay, start=start)
    factor = 1 - 2 * weight_decay * lr
    torch.testing.assert_close(image, optimum + factor**steps * (start - optimum), rtol=1e-9, atol=1e-9)
    iterates = [optimum + factor**t * (start - optimum) for t in range(steps)]
    assert scores == pytest.approx([((w * i).sum() + b).item() for i in iterates], rel=1e-9, abs=1e-9)
    if factor**steps < 1e-12:
        torch.testing.assert_close(image, optimum, rtol=1e-9, atol=1e-9)


def test_gradient_ascent_leaves_the_model_as_it_was():
    model = small_cnn(dropout=True).train()
    before = snapshot(model)
    start = randn(1, 1, 8, 8, seed=2)
    image, scores = gradient_ascent(model, 3, (1, 1, 8, 8), steps=15, lr=0.05, start=start)
    assert model.training and all(m.training for m in model.modules())
    assert_untouched(model, before)
    assert torch.equal(start, randn(1, 1, 8, 8, seed=2)) and image.shape == (1, 1, 8, 8)
    assert not image.requires_grad and len(scores) == 15
    assert scores[-1] > scores[0]


def test_gradient_ascent_random_start_is_seeded():
    model = small_cnn()
    runs = [gradient_ascent(model, 0, (1, 8, 8), steps=3, generator=torch.Generator().manual_seed(1)) for _ in range(2)]
    torch.testing.assert_close(runs[0][0], runs[1][0], rtol=0, atol=0)
    with pytest.raises(ValueError, match=r"\(C, H, W\)"):
        gradient_ascent(model, 0, (2, 1, 8, 8))
    with pytest.raises(ValueError, match="start must have shape"):
        gradient_ascent(model, 0, (1, 8, 8), start=torch.zeros(1, 8, 8, dtype=F64))


# ---- feature maps and deep dream --------------------------------------------------------------------------------


def test_feature_maps_equal_the_layer_applied_to_the_previous_layers_output():
    model = small_cnn(dropout=True).train()
    x = randn(3, 1, 8, 8, seed=4)
    layer = model.features[4]  # the second convolution
    assert isinstance(layer, nn.Conv2d)
    ours = feature_maps(model, layer, x)
    model.eval()
    with torch.no_grad():
        by_hand = layer(model.features[:4](x))
    torch.testing.assert_close(ours, by_hand, **TOL)
    torch.testing.assert_close(feature_maps(model, "features.4", x), by_hand, **TOL)
    assert not ours.requires_grad and ours.shape == (3, 6, 4, 4)
    assert len(layer._forward_hooks) == 0


def test_feature_maps_removes_its_hook_on_error_and_restores_modes():
    model = small_cnn().train()
    layer = model.features[0]
    with pytest.raises(ValueError, match=r"\(N, 1, 8, 8\)"):
        feature_maps(model, layer, randn(2, 1, 8, 7))
    assert len(layer._forward_hooks) == 0 and model.training

    class Fails(nn.Module):  # the error comes after the hooked layer has run
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 2, 3)

        def forward(self, x):
            self.conv(x)
            raise RuntimeError("boom")

    broken = Fails()
    with pytest.raises(RuntimeError, match="boom"):
        feature_maps(broken, broken.conv, torch.zeros(1, 1, 5, 5))
    assert len(broken.conv._forward_hooks) == 0


def test_feature_maps_errors():
    model = small_cnn()
    with pytest.raises(ValueError, match="not a submodule"):
        feature_maps(model, nn.Conv2d(1, 2, 3), randn(1, 1, 8, 8))
    model.unused = nn.ReLU()
    with pytest.raises(ValueError, match="did not run"):
        feature_maps(model, model.unused, randn(1, 1, 8, 8))
    with pytest.raises(AttributeError):
        feature_maps(model, "features.99", randn(1, 1, 8, 8))


def dream_step_by_hand(model, x, lr, depth):
    """One step of deep dream for one image, with the activation computed by the first ``depth`` layers."""
    image = x.clone().requires_grad_(True)
    activation = model.features[:depth](image)
    (gradient,) = torch.autograd.grad(0.5 * (activation**2).sum(), image)
    return (image + lr * gradient / gradient.abs().mean()).detach()


def test_deep_dream_step_matches_autograd_by_hand():
    model = small_cnn(dropout=True).train()
    before = snapshot(model)
    x = randn(2, 1, 8, 8, seed=6)
    x_before = x.clone()
    ours = deep_dream(model, model.features[2], x, steps=2, lr=0.05)  # after the first ReLU
    assert torch.equal(x, x_before) and all(m.training for m in model.modules())
    assert_untouched(model, before)
    assert len(model.features[2]._forward_hooks) == 0
    model.eval()
    for n in range(2):  # each image is normalised by its own mean |g|
        expected = dream_step_by_hand(model, dream_step_by_hand(model, x[n:n + 1], 0.05, 3), 0.05, 3)
        torch.testing.assert_close(ours[n:n + 1], expected, **TOL)


def test_deep_dream_gradient_of_half_sum_of_squares_is_the_activation():
    """The identity the docstring teaches: d(1/2 sum a^2)/da = a, so back-propagating a itself gives the same step."""
    model = small_cnn().eval()
    x = randn(1, 1, 8, 8, seed=7).requires_grad_(True)
    activation = model.features[:5](x)
    activation.backward(activation.detach())  # "set the layer's gradient to its activation"
    expected = (x + 0.1 * x.grad / x.grad.abs().mean()).detach()
    torch.testing.assert_close(deep_dream(model, "features.4", x.detach(), steps=1, lr=0.1), expected, **TOL)


def test_deep_dream_needs_a_batch():
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        deep_dream(small_cnn(), "features.0", randn(1, 8, 8))
