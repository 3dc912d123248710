"""helpers.models.domain_adversarial against equations written here and autograd.

DANN: the layers and the forward pass against F.linear on the model's own parameters; the gradients of the summed
loss L_y + L_d through the reversal against autograd without it: the features get dL_y - lambda dL_d, the heads
their own loss's gradient (float64, 1e-10). train_dann against training loops written here in float64: lambd 0 is
the same run as a loop whose domain classifier sees detached features (plain training), lambd > 0 (constant and
Ganin's schedule) the same run as a loop that assembles each parameter's gradient by hand from two autograd calls
and takes torch's Adam step; minibatches drawn as documented. The game itself on rotated moons: without reversal
the domain classifier tells the domains apart, with it the features confuse it and the target accuracy rises."""

import math

import pytest
import torch
import torch.nn.functional as F
from tensors import DEVICES, F64, TOL, random

from helpers.data.moons import rotate, two_moons
from helpers.models.domain_adversarial import DANN, DANNHistory, accuracy, ganin_lambda, train_dann


def model(seed=0, device="cpu", **kwargs):
    torch.manual_seed(seed)
    return DANN(**kwargs).to(device=device, dtype=F64)


def layers(m):
    f1, _, f2, _ = m.features
    d1, _, d2 = m.domain_classifier
    return f1, f2, m.label_predictor, d1, d2


def by_hand(m, x):
    f1, f2, y, d1, d2 = layers(m)
    h = torch.relu(F.linear(torch.relu(F.linear(x, f1.weight, f1.bias)), f2.weight, f2.bias))
    domain = F.linear(torch.relu(F.linear(h, d1.weight, d1.bias)), d2.weight, d2.bias)[:, 0]
    return h, F.linear(h, y.weight, y.bias), domain


# ------------------------------------------------------------------------------------------------ the model
@pytest.mark.parametrize("device", DEVICES)
def test_forward_is_the_equations(device):
    m = model(device=device, n_features=3, hidden=7, n_classes=4)
    assert [(lin.in_features, lin.out_features) for lin in layers(m)] == [(3, 7), (7, 7), (7, 4), (7, 7), (7, 1)]
    x = random(5, 3, seed=1, device=device)
    class_logits, domain_logits = m(x, 0.5)
    _, expected_class, expected_domain = by_hand(m, x)
    assert class_logits.shape == (5, 4) and domain_logits.shape == (5,) and class_logits.device == x.device
    assert torch.allclose(class_logits, expected_class, **TOL) and torch.allclose(domain_logits, expected_domain, **TOL)
    assert torch.equal(m.predict(x), expected_class.argmax(dim=1))
    assert repr(m.reversal) == "GradientReversalLayer(lambd=1.0)"


@pytest.mark.parametrize("lambd", [1.0, 0.3, 0.0, None])
def test_the_features_get_the_class_gradient_minus_lambda_times_the_domain_gradient(lambd):
    m = model(seed=2)
    m.reversal.lambd = 0.7  # used when lambd is None
    strength = 0.7 if lambd is None else lambd
    x, y = random(12, 2, seed=3), torch.tensor([0, 1] * 6)
    d = torch.tensor([0.0] * 6 + [1.0] * 6, dtype=F64)
    class_logits, domain_logits = m(x, lambd)
    total = F.cross_entropy(class_logits[:6], y[:6]) + F.binary_cross_entropy_with_logits(domain_logits, d)
    got = torch.autograd.grad(total, list(m.parameters()))

    f1, f2, head, d1, d2 = layers(m)  # the oracle: autograd without any reversal, each loss on its own
    h, class_plain, domain_plain = by_hand(m, x)
    features = [f1.weight, f1.bias, f2.weight, f2.bias]
    heads = [head.weight, head.bias, d1.weight, d1.bias, d2.weight, d2.bias]
    class_loss = F.cross_entropy(class_plain[:6], y[:6])
    domain_loss = F.binary_cross_entropy_with_logits(domain_plain, d)
    g_y = torch.autograd.grad(class_loss, features + heads, retain_graph=True, allow_unused=True)
    g_d = torch.autograd.grad(domain_loss, features + heads, allow_unused=True)
    g_y = [torch.zeros_like(p) if g is None else g for p, g in zip(features + heads, g_y)]
    g_d = [torch.zeros_like(p) if g is None else g for p, g in zip(features + heads, g_d)]
    expected = [gy - strength * gd for gy, gd in zip(g_y[:4], g_d[:4])] + [gy + gd for gy, gd in zip(g_y[4:], g_d[4:])]
    by_name = dict(zip([n for n, _ in m.named_parameters()], got))
    order = ["features.0.weight", "features.0.bias", "features.2.weight", "features.2.bias", "label_predictor.weight",
             "label_predictor.bias", "domain_classifier.0.weight", "domain_classifier.0.bias",
             "domain_classifier.2.weight", "domain_classifier.2.bias"]
    for name, e in zip(order, expected):
        assert torch.allclose(by_name[name], e, **TOL), name


def test_accuracy_counts_the_right_predictions():
    m = model(seed=4)
    x = random(40, 2, seed=5)
    y = torch.randint(2, (40,), generator=torch.Generator().manual_seed(6))
    predicted = by_hand(m, x)[1].argmax(dim=1)
    assert accuracy(m, x, y) == pytest.approx(sum(int(p == t) for p, t in zip(predicted, y)) / 40, abs=1e-15)


def test_ganin_schedule():
    assert ganin_lambda(0.0) == 0.0 and ganin_lambda(1.0) == pytest.approx(2 / (1 + math.exp(-10)) - 1, abs=1e-15)
    assert ganin_lambda(0.1) == pytest.approx(math.tanh(0.5), abs=1e-15)  # 2/(1+e^-2u) - 1 = tanh(u)


# ------------------------------------------------------------------------------------------------ training
def _domains(n=30, seed=0):
    sx, sy = two_moons(n, 0.1, seed)
    tx, ty = two_moons(n, 0.1, seed + 100)
    return sx.double(), sy, rotate(tx.double(), 35), ty


def test_lambda_zero_is_plain_training_with_a_domain_classifier_on_detached_features():
    sx, sy, tx, _ = _domains()
    ours = model(seed=7)
    history = train_dann(ours, sx, sy, tx, steps=15, lambd=0.0, lr=1e-2, device="cpu", progress=False)
    theirs = model(seed=7)
    optimizer = torch.optim.Adam(theirs.parameters(), lr=1e-2)
    d = torch.cat([torch.zeros(len(sx)), torch.ones(len(tx))]).double()
    class_losses = []
    for _ in range(15):
        h = theirs.features(torch.cat([sx, tx]))
        class_loss = F.cross_entropy(theirs.label_predictor(h[: len(sx)]), sy)
        domain_loss = F.binary_cross_entropy_with_logits(theirs.domain_classifier(h.detach())[:, 0], d)
        optimizer.zero_grad()
        (class_loss + domain_loss).backward()
        optimizer.step()
        class_losses.append(class_loss.item())
    for (name, a), b in zip(ours.named_parameters(), theirs.parameters()):
        assert torch.allclose(a, b, **TOL), name
    assert history.class_loss == pytest.approx(class_losses, rel=1e-10) and history.lambd == [0.0] * 15


@pytest.mark.parametrize("schedule", ["constant", "ganin"])
def test_lambda_positive_is_adam_on_hand_assembled_gradients(schedule):
    sx, sy, tx, _ = _domains(seed=1)
    steps, lambd = 12, 1.5
    ours = model(seed=8)
    history = train_dann(ours, sx, sy, tx, steps=steps, lambd=lambd, lr=5e-3, schedule=schedule, device="cpu",
                         progress=False)
    theirs = model(seed=8)
    optimizer = torch.optim.Adam(theirs.parameters(), lr=5e-3)
    features = list(theirs.features.parameters())
    heads = list(theirs.label_predictor.parameters()) + list(theirs.domain_classifier.parameters())
    d = torch.cat([torch.zeros(len(sx)), torch.ones(len(tx))]).double()
    strengths = []
    for step in range(steps):
        p = step / steps
        strength = lambd * (2 / (1 + math.exp(-10 * p)) - 1 if schedule == "ganin" else 1.0)
        strengths.append(strength)
        h = theirs.features(torch.cat([sx, tx]))
        class_loss = F.cross_entropy(theirs.label_predictor(h[: len(sx)]), sy)
        domain_loss = F.binary_cross_entropy_with_logits(theirs.domain_classifier(h)[:, 0], d)
        g_y = torch.autograd.grad(class_loss, features + heads, retain_graph=True, allow_unused=True)
        g_d = torch.autograd.grad(domain_loss, features + heads, allow_unused=True)
        for i, param in enumerate(features + heads):
            gy = torch.zeros_like(param) if g_y[i] is None else g_y[i]
            gd = torch.zeros_like(param) if g_d[i] is None else g_d[i]
            param.grad = gy - strength * gd if i < len(features) else gy + gd
        optimizer.step()
    for (name, a), b in zip(ours.named_parameters(), theirs.parameters()):
        assert torch.allclose(a, b, **TOL), name
    assert history.lambd == pytest.approx(strengths, abs=1e-15) and len(history.domain_loss) == steps
    assert history.lambd[0] == 0.0 if schedule == "ganin" else history.lambd[0] == lambd


def test_minibatches_are_drawn_with_the_seed():
    sx, sy, tx, _ = _domains(seed=2)

    def run(seed):
        m = model(seed=9)
        train_dann(m, sx, sy, tx, steps=5, batch_size=8, seed=seed, device="cpu", progress=False)
        return torch.cat([p.detach().flatten() for p in m.parameters()])

    assert torch.equal(run(0), run(0)) and not torch.equal(run(0), run(1))
    # the oracle: the rows drawn as documented, a source batch then a target batch per step
    g = torch.Generator().manual_seed(3)
    theirs = model(seed=9)
    optimizer = torch.optim.Adam(theirs.parameters(), lr=1e-2)
    for _ in range(5):
        rows_s, rows_t = torch.randint(len(sx), (8,), generator=g), torch.randint(len(tx), (8,), generator=g)
        h = theirs.features(torch.cat([sx[rows_s], tx[rows_t]]))
        loss = F.cross_entropy(theirs.label_predictor(h[:8]), sy[rows_s]) + F.binary_cross_entropy_with_logits(
            theirs.domain_classifier(h)[:, 0], torch.tensor([0.0] * 8 + [1.0] * 8, dtype=F64))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    m = model(seed=9)
    train_dann(m, sx, sy, tx, steps=5, batch_size=8, seed=3, lambd=-1.0, device="cpu", progress=False)  # no reversal
    for a, b in zip(m.parameters(), theirs.parameters()):
        assert torch.allclose(a, b, **TOL)


@pytest.mark.parametrize("device", DEVICES)
def test_the_model_goes_back_home(device):
    sx, sy, tx, _ = _domains(seed=3)
    m = model(seed=10)
    history = train_dann(m, sx, sy, tx, steps=3, device=device, progress=False)
    assert isinstance(history, DANNHistory) and next(m.parameters()).device.type == "cpu"


def test_the_game_on_rotated_moons():
    # float32, the chapter's recipe for one seed: the plain network's domain classifier separates the domains (its
    # loss far below log 2), DANN's features confuse it, and DANN does better on the target
    sx, sy = two_moons(200, 0.1, 4)
    tx, ty = two_moons(200, 0.1, 104)
    tx = rotate(tx, 35)
    runs = {}
    for lambd in (0.0, 1.0):
        torch.manual_seed(4)
        m = DANN()
        history = train_dann(m, sx, sy, tx, steps=200, lambd=lambd, lr=1e-2, device="cpu", progress=False)
        runs[lambd] = (sum(history.domain_loss[-20:]) / 20, accuracy(m, sx, sy), accuracy(m, tx, ty))
    (plain_domain, plain_source, plain_target), (dann_domain, dann_source, dann_target) = runs[0.0], runs[1.0]
    assert plain_domain < 0.5 * math.log(2) + 0.15 and dann_domain > 0.8 * math.log(2)
    assert plain_source == 1.0 and dann_source > 0.95
    assert plain_target < 0.8 and dann_target > plain_target + 0.1


def test_errors():
    sx, sy, tx, _ = _domains()
    m = model()
    with pytest.raises(ValueError, match="schedule must be 'constant' or 'ganin'"):
        train_dann(m, sx, sy, tx, schedule="linear")
    with pytest.raises(ValueError, match=r"source_x \(N, D\), source_y \(N,\)"):
        train_dann(m, sx, sy[:-1], tx)
    with pytest.raises(TypeError, match="lambd must be a real number"):
        train_dann(m, sx, sy, tx, lambd="1")
    with pytest.raises(TypeError, match="steps must be a whole number"):
        train_dann(m, sx, sy, tx, steps=1.5)
    with pytest.raises(ValueError, match=r"x must be \(N, 2\)"):
        m(random(4, 3))
    with pytest.raises(ValueError, match="n_classes must be at least 2"):
        DANN(n_classes=1)
