"""An exercise that asks for X forbids X: every way of reaching X is caught, honest code is not, and the
student's session is left as it was."""

import math
import sys
import types

import numpy as np
import pytest
import scipy.special
import scipy.stats
import torch
import torch.nn.functional as F

from helpers.exercises import Outcome, assess, catalogue, check
from helpers.exercises.forbid import Guard, resolve
from helpers.exercises.spec import Kind, ResultKind
from helpers.nn import autograd, losses

LSE = "02.logsumexp"


def honest_logsumexp(x):
    top = x.max(dim=-1, keepdim=True).values
    return (top + (x - top).exp().sum(dim=-1, keepdim=True).log()).squeeze(-1)


def wrapper(x):
    return losses.logsumexp(x)


def swallowed(x):
    try:
        torch.logsumexp(x, -1, "not a bool")  # raises inside torch, and the answer hides it
    except Exception:
        return honest_logsumexp(x)
    return None


from torch import logsumexp as lse  # noqa: E402  (imported under another name before the exercise)

WAYS = {
    "torch.logsumexp": lambda x: torch.logsumexp(x, -1),
    "an alias imported earlier": lambda x: lse(x, dim=-1),
    "getattr": lambda x: torch.logsumexp(x, -1),
    "the Tensor method": lambda x: x.logsumexp(-1),
    "torch.special": lambda x: torch.special.logsumexp(x, -1),
    "scipy through NumPy": lambda x: torch.from_numpy(scipy.special.logsumexp(x.numpy(), axis=-1)),
    "scipy on a copy": lambda x: torch.tensor(scipy.special.logsumexp(np.array(x.tolist()), axis=-1),
                                              dtype=x.dtype),
    "np.logaddexp.reduce": lambda x: torch.tensor(np.logaddexp.reduce(np.array(x.tolist()), axis=-1),
                                                  dtype=x.dtype),
    "the book's reference in a wrapper": wrapper,
    "the book's reference itself": losses.logsumexp,
    "a forbidden call whose error is swallowed": swallowed,
    "log_softmax to get there": lambda x: (x - torch.log_softmax(x, -1))[..., 0],
}


@pytest.mark.parametrize("way", WAYS)
def test_every_way_to_the_forbidden_function_is_caught(way):
    report = assess(LSE, WAYS[way])
    assert report.outcome is Outcome.INCORRECT and report.score == 0
    failure = report.first_failure
    assert failure.kind is ResultKind.FORBIDDEN
    assert failure.message.startswith("your answer calls ")
    assert "compute it yourself" in failure.message or "stay in torch" in failure.message


def test_the_message_names_the_call_and_what_to_do(capsys):
    check(LSE, lambda x: torch.logsumexp(x, -1))
    out = capsys.readouterr().out
    assert "problem: your answer calls torch.logsumexp: this exercise asks you to compute it yourself" in out
    assert "your answer your answer" not in out
    assert catalogue()[LSE].instead in out
    assert "you returned" not in out and "why it matters" not in out


def test_honest_building_blocks_are_allowed():
    assert assess(LSE, honest_logsumexp, include_hidden=True).outcome is Outcome.CORRECT
    own = honest_logsumexp  # a student's own function of the same name is theirs, not the library's
    assert assess("02.log_softmax", lambda x: x - own(x)[..., None], include_hidden=True).outcome is Outcome.CORRECT


def test_the_session_is_left_as_it_was():
    def profiler(frame, event, arg):
        return None

    sys.setprofile(profiler)
    try:
        assess(LSE, lambda x: torch.logsumexp(x, -1))
        assert sys.getprofile() is profiler
    finally:
        sys.setprofile(None)
    assert torch._C._len_torch_function_stack() == 0  # no mode left behind
    x = torch.randn(3, 4)
    assert torch.allclose(torch.logsumexp(x, -1), honest_logsumexp(x))  # the forbidden function works again


def test_a_name_means_the_function_even_where_a_submodule_shares_it():
    import importlib

    gradcheck_module = importlib.import_module("torch.autograd.gradcheck")
    assert resolve("torch.autograd.gradcheck") is torch.autograd.gradcheck is not gradcheck_module
    assert resolve("torch.autograd.gradcheck.get_numerical_jacobian") is gradcheck_module.get_numerical_jacobian
    assert callable(resolve("torch.autograd.gradcheck")) and resolve("scipy.special.logsumexp") is not None
    assert resolve("torch.no_such_function") is None and resolve("no_such_package.f") is None


def test_functions_behind_one_shared_decorator_are_told_apart():
    """scipy wraps sem, tvar and ttest_1samp in the same decorator: forbidding two of them names the one
    called, and leaves the third alone."""
    x = np.arange(5.0)
    guard = Guard(["scipy.stats.tvar", "scipy.stats.sem"])
    with guard:
        scipy.stats.sem(x)
    assert guard.violation == "scipy.stats.sem"
    with guard:
        scipy.stats.ttest_1samp(x, 0.0)
    assert guard.violation is None


def test_a_guard_records_without_raising():
    guard = Guard(["torch.logsumexp"])
    with guard:
        value = torch.logsumexp(torch.zeros(2), 0)
    assert guard.violation == "torch.logsumexp" and value.item() == pytest.approx(np.log(2))
    with guard:
        torch.exp(torch.zeros(2)).sum()
    assert guard.violation is None


# ---- the library call each exercise forbids, as a student would write it ----------------------------
def torch_sgd_step(param, grad, buf, lr, momentum, nesterov=False):
    """One step of torch.optim.SGD from the given buffer: (new param, new buffer); with momentum 0 torch keeps no
    buffer, and the step's direction, the gradient, stands in for it."""
    p = param.clone().requires_grad_(True)
    optimizer = torch.optim.SGD([p], lr=lr, momentum=momentum, nesterov=nesterov)
    if buf is not None and momentum != 0:
        optimizer.state[p]["momentum_buffer"] = buf.clone()
    p.grad = grad.clone()
    optimizer.step()
    return p.detach(), optimizer.state[p].get("momentum_buffer", grad)


def torch_adam_step(param, grad, exp_avg, exp_avg_sq, step, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
    """Update number ``step`` of torch.optim.Adam from the given moments."""
    p = param.clone().requires_grad_(True)
    optimizer = torch.optim.Adam([p], lr=lr, betas=betas, eps=eps)
    optimizer.state[p] = {"step": torch.tensor(float(step - 1)), "exp_avg": exp_avg.clone(),
                          "exp_avg_sq": exp_avg_sq.clone()}
    p.grad = grad.clone()
    optimizer.step()
    return p.detach(), optimizer.state[p]["exp_avg"], optimizer.state[p]["exp_avg_sq"]


def torch_clip(grads, max_norm):
    params = [torch.zeros_like(g, requires_grad=True) for g in grads]
    for p, g in zip(params, grads):
        p.grad = g.clone()
    total = torch.nn.utils.clip_grad_norm_(params, max_norm)
    return [p.grad for p in params], total.item()


def torch_batch_norm(x, gamma, beta, running_mean, running_var, training, momentum=0.1, eps=1e-5):
    running_mean, running_var = running_mean.clone(), running_var.clone()
    y = F.batch_norm(x, running_mean, running_var, gamma, beta, training, momentum, eps)
    return y, running_mean, running_var


def torch_sgd_weight_decay(param, grad, lr, weight_decay):
    p = param.clone().requires_grad_(True)
    p.grad = grad.clone()
    torch.optim.SGD([p], lr=lr, weight_decay=weight_decay).step()
    return p.detach()


def sklearn_ridge(X, y, alpha):
    from sklearn.linear_model import Ridge

    model = Ridge(alpha=alpha).fit(X.numpy(), y.numpy())
    return torch.as_tensor(model.coef_, dtype=X.dtype), torch.as_tensor(model.intercept_, dtype=X.dtype)


def fit_on_a_scripted_curve(val_losses, patience):
    """helpers.train.fit on a model whose validation loss at epoch e is val_losses[e]: (best_epoch, epochs run)."""
    from helpers.train import fit

    curve = iter(val_losses)

    def loss_fn(output, target):
        if torch.is_grad_enabled():  # a training step: a loss with a (zero) gradient for the optimizer
            return (output * 0.0).sum()
        return torch.tensor(next(curve), dtype=torch.float64)  # fit evaluates under no_grad: the next loss

    one = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.zeros(1, 1), torch.zeros(1)), batch_size=1)
    model = torch.nn.Linear(1, 1)
    history = fit(model, one, loss_fn, torch.optim.SGD(model.parameters(), lr=0.1), len(val_losses), val_loader=one,
                  patience=patience, device="cpu", progress=False)
    return history.best_epoch, history.epochs


def scipy_log_uniform(low, high, n, generator):
    seed = int(torch.randint(2**31 - 1, (1,), generator=generator))
    return torch.from_numpy(scipy.stats.loguniform(low, high).rvs(n, random_state=seed))


def numpy_equivariance_gap(f, x, shift):
    """The gap with NumPy's roll: g(t) = np.roll(t, shift, axis=(-2, -1))."""
    shifted = f(torch.from_numpy(np.roll(x.numpy(), shift, axis=(-2, -1)))).detach().numpy()
    return float(np.abs(shifted - np.roll(f(x).detach().numpy(), shift, axis=(-2, -1))).max())


def conv_output_size_by_running_conv2d(size, kernel_size, stride=1, padding=0, dilation=1):
    """Measure it: run F.conv2d on a (size x 1) image and read the output's height."""
    image, kernel = torch.zeros(1, 1, size, 1), torch.zeros(1, 1, kernel_size, 1)
    return F.conv2d(image, kernel, stride=(stride, 1), padding=(padding, 0), dilation=(dilation, 1)).shape[2]


def vgg_head_count_parameters():
    from helpers.models import count_parameters

    nn = torch.nn
    model = nn.Sequential(nn.Conv2d(3, 64, 3, padding=1), nn.ReLU(), nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64 * 16 * 16, 10))
    return count_parameters(model)


def negative_sampling_by_bce(center, context, negatives):
    """Binary cross-entropy with logits u . v_c: target 1 for the context word, 0 for each noise word, summed over
    the K + 1 questions and averaged over the batch."""
    scores = torch.cat([(context * center).sum(-1, keepdim=True), (negatives * center[:, None]).sum(-1)], dim=1)
    targets = torch.zeros_like(scores)
    targets[:, 0] = 1.0
    return F.binary_cross_entropy_with_logits(scores, targets, reduction="sum") / len(center)


LIBRARY_ANSWERS = {
    "01.posterior": lambda: __import__("helpers").stats.bayes_posterior(torch.tensor([0.01, 0.99]),
                                                                        torch.tensor([0.95, 0.05]))[0].item(),
    "01.expectation": lambda f, v, p: __import__("helpers").stats.expectation(f, v, p),
    "01.unbiased_variance": lambda x: x.var(-1),
    "01.standard_error": lambda x: x.std(-1) / x.shape[-1] ** 0.5,
    "01.bias_variance_mse": lambda e, t: (e.mean() - t, e.var(correction=0), F.mse_loss(e, torch.full_like(e, t))),
    "01.mse_of_mean": lambda seed, trials: __import__("helpers").stats.monte_carlo(
        lambda x: x.mean(-1), __import__("helpers").stats.gaussian_draw(0.0, 2.0, 10), 0.0, trials, seed).estimates,
    "01.select_degree": lambda *args: __import__("helpers").models.select_polynomial_degree(*args),
    "01.kfold_indices": lambda n, k: [(torch.from_numpy(train), torch.from_numpy(val)) for train, val in
                                      __import__("sklearn.model_selection").model_selection.KFold(k).split(range(n))],
    "02.bernoulli_log_likelihood": lambda theta, x: torch.stack(
        [torch.distributions.Bernoulli(probs=t).log_prob(x).sum() for t in theta]),
    "02.gaussian_mle": lambda x: (x.mean(-1), x.std(-1, correction=0)),
    "02.binary_cross_entropy": F.binary_cross_entropy_with_logits,
    "02.sigmoid_mse_gradient": lambda: torch.func.grad(lambda z: 0.5 * (torch.sigmoid(z) - 1) ** 2)(
        torch.tensor(-4.0, dtype=torch.float64)).item(),
    "02.logsumexp": lambda x: torch.logsumexp(x, -1),
    "02.log_softmax": lambda x: F.log_softmax(x, -1),
    "02.cross_entropy": F.cross_entropy,
    "03.collapse_linear": lambda *layers: __import__("helpers.nn.linear").nn.linear.compose_linear(*layers),
    "03.stable_softplus": F.softplus,
    "03.swish_grad": lambda x: torch.func.vmap(torch.func.grad(F.silu))(x.flatten()).reshape(x.shape),
    "03.skip_backprop": lambda *args: autograd.skip_network_grads(*args),
    "03.autograd_grad": lambda root, inputs: (root.backward(), tuple(x.grad for x in inputs))[1],
    "03.linear_backward": lambda g, x, w, b: torch.autograd.grad(
        F.linear(x.requires_grad_(), w.requires_grad_(), b), (x, w), g) + (None if b is None else g.sum(0),),
    "03.numerical_grad": lambda f, x, eps: __import__("helpers").nn.gradcheck.numerical_grad(f, x, eps),
    "03.gradient_error": lambda f, x, g: __import__("helpers").nn.gradcheck.relative_error(
        g, __import__("helpers").nn.gradcheck.numerical_grad(f, x)),
    "03.count_symmetries": lambda: __import__("helpers").models.weight_space_symmetries((5, 3)),
    "03.rbf_xor": lambda: __import__("helpers").nn.rbf.rbf_features(
        __import__("helpers").nn.rbf.XOR_INPUTS, __import__("helpers").nn.rbf.XOR_INPUTS, 0.5)
    @ torch.tensor([-0.8, 0.9, 0.9, -0.8], dtype=torch.float64),
    "04.gd_stability": lambda H: (2 / torch.linalg.matrix_norm(H, 2).item(), torch.linalg.cond(H).item()),
    "04.iterations_per_epoch": lambda n, b, drop_last=False: len(
        torch.utils.data.DataLoader(range(n), b, drop_last=drop_last)),
    "04.momentum_step": torch_sgd_step,
    "04.nesterov_step": lambda param, grad, buf, lr, momentum: torch_sgd_step(param, grad, buf, lr, momentum, True),
    "04.adam_step": torch_adam_step,
    "04.newton_step": lambda f, x: x - torch.linalg.solve(torch.func.hessian(f)(x), torch.func.grad(f)(x)),
    "04.clip_grad_norm": torch_clip,
    "04.init_std": lambda shape, scheme: torch.nn.init.calculate_gain("relu") / math.sqrt(
        torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))[0]) if scheme == "he" else math.sqrt(
        2 / sum(torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape)))),
    "04.batch_norm": torch_batch_norm,
    "05.weight_decay_step": torch_sgd_weight_decay,
    "05.l1_prox_step": lambda param, grad, lr, lambd: F.softshrink(param - lr * grad, lr * lambd),
    "05.ridge_fit": sklearn_ridge,
    "05.early_stopping": fit_on_a_scripted_curve,
    "05.label_smoothing": lambda logits, target, eps: F.cross_entropy(logits, target, label_smoothing=eps),
    "05.inverted_dropout": lambda x, p, training, generator: F.dropout(x, p, training),
    "05.log_uniform": scipy_log_uniform,
    "06.conv2d_single": lambda image, kernel: F.conv2d(image[None, None], kernel[None, None])[0, 0],
    "06.equivariance_gap": numpy_equivariance_gap,
    "06.conv2d": F.conv2d,
    "06.output_size": conv_output_size_by_running_conv2d,
    "06.max_pool2d": F.max_pool2d,
    "06.conv_weight_grad": torch.nn.grad.conv2d_weight,
    "06.param_count": vgg_head_count_parameters,
    "06.saliency": lambda model, x, target: __import__("helpers.interpret").interpret.saliency(model, x, target),
    # torch's functional cells want a batch dimension: one example goes in as a batch of one
    "07.rnn_step": lambda input, hx, *weights: torch.rnn_tanh_cell(
        input.reshape(-1, input.shape[-1]), hx.reshape(-1, hx.shape[-1]), *weights).reshape(hx.shape),
    "07.bptt_scalar": lambda w, u, xs, h0: tuple(torch.func.grad(lambda p: __import__("functools").reduce(
        lambda h, x: torch.tanh(p[0] * h + p[1] * x), xs, torch.tensor(float(h0), dtype=torch.float64)))(
        torch.tensor([w, u], dtype=torch.float64)).tolist()),
    "07.leaky_unit": lambda input, hx, w_ih, w_hh, b, alpha: (1 - alpha) * hx + alpha * torch.rnn_tanh_cell(
        input.reshape(-1, input.shape[-1]), hx.reshape(-1, hx.shape[-1]), w_ih, w_hh, b).reshape(hx.shape),
    "07.gru_step": lambda input, hx, *weights: torch.gru_cell(
        input.reshape(-1, input.shape[-1]), hx.reshape(-1, hx.shape[-1]), *weights).reshape(hx.shape),
    "07.lstm_step": lambda input, state, *weights: tuple(t.reshape(state[0].shape) for t in torch.lstm_cell(
        input.reshape(-1, input.shape[-1]), tuple(s.reshape(-1, s.shape[-1]) for s in state), *weights)),
    "07.lstm_params": lambda input_size, hidden_size, num_layers=1, bidirectional=False, bias=True: sum(
        p.numel() for p in torch.nn.LSTM(input_size, hidden_size, num_layers, bias=bias,
                                         bidirectional=bidirectional).parameters()),
    "08.attention": F.scaled_dot_product_attention,
    "08.causal_mask": lambda length: torch.nn.Transformer.generate_square_subsequent_mask(length) == 0,
    "08.split_heads": lambda x, num_heads: __import__("helpers.nn.attention").nn.attention.split_heads(x, num_heads),
    "08.merge_heads": lambda x: __import__("helpers.nn.attention").nn.attention.merge_heads(x),
    "08.mha_params": lambda: sum(p.numel() for p in torch.nn.MultiheadAttention(64, 8).parameters()),
    "08.positional": lambda length, d_model: __import__("helpers.nn.attention").nn.attention.sinusoidal_encoding(
        length, d_model),
    "08.skipgram_pairs": lambda ids, window: __import__("helpers.nn.embedding").nn.embedding.skipgram_pairs(
        ids, window),
    "08.negative_sampling": negative_sampling_by_bce,
}


from test_catalogue_ch09 import LIBRARY_ANSWERS as CH09_LIBRARY_ANSWERS  # noqa: E402

LIBRARY_ANSWERS.update(CH09_LIBRARY_ANSWERS)

from test_catalogue_ch10 import LIBRARY_ANSWERS as CH10_LIBRARY_ANSWERS  # noqa: E402

LIBRARY_ANSWERS.update(CH10_LIBRARY_ANSWERS)

from test_catalogue_ch11 import LIBRARY_ANSWERS as CH11_LIBRARY_ANSWERS  # noqa: E402

LIBRARY_ANSWERS.update(CH11_LIBRARY_ANSWERS)


# Exercises of the chapters in CHAPTERS; a chapter not listed yet (its notebook still to come) tests its own.
@pytest.mark.parametrize("exercise_id", sorted(i for i in LIBRARY_ANSWERS if i in catalogue()))
def test_the_forbidden_library_call_scores_nothing(exercise_id):
    report = assess(exercise_id, LIBRARY_ANSWERS[exercise_id], include_hidden=True)
    assert report.outcome is Outcome.INCORRECT and report.score == 0, report.first_failure
    assert report.first_failure.kind is ResultKind.FORBIDDEN


def test_every_exercise_that_computes_something_forbids_something():
    asking = [e for e in catalogue().values() if e.kind in (Kind.IMPLEMENT, Kind.NUMBER)]
    assert all(e.forbidden for e in asking), [e.id for e in asking if not e.forbidden]
    assert set(LIBRARY_ANSWERS) >= {e.id for e in asking}, "give every such exercise a forbidden-call test"


@pytest.mark.parametrize("exercise_id", sorted(catalogue()))
def test_forbidden_names_exist_and_a_public_reference_is_forbidden(exercise_id):
    exercise = catalogue()[exercise_id]
    missing = [name for name in exercise.forbidden if resolve(name) is None]
    assert not missing, f"{exercise_id} forbids names that do not exist: {missing}"
    modules = [name for name in exercise.forbidden if isinstance(resolve(name), types.ModuleType)]
    assert not modules, f"{exercise_id} forbids modules, which nothing calls: {modules}"
    reference = exercise.reference
    module = getattr(reference, "__module__", "") or ""
    public = module.startswith("helpers.") and not module.startswith("helpers.exercises")
    if public and reference.__name__ != "<lambda>":
        # by any public name: helpers.stats.unbiased_variance is helpers.stats.estimators.unbiased_variance
        assert any(resolve(name) is reference for name in exercise.forbidden), (
            f"forbid the book's own reference {module}.{reference.__qualname__}")


def test_leaving_torch_for_numpy_is_told_to_stay_in_torch():
    def through_numpy(H):
        eigenvalues = np.linalg.eigvalsh(H.numpy())
        return 2 / eigenvalues[-1], eigenvalues[-1] / eigenvalues[0]

    report = assess("04.gd_stability", through_numpy)
    assert report.first_failure.kind is ResultKind.FORBIDDEN
    assert "stay in torch" in report.first_failure.message
