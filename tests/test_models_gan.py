"""helpers.models.gan against independent oracles: the losses against F.binary_cross_entropy_with_logits (values and
gradients, float64 at 1e-12, logits of +-100 and +-1000 included), the densities against scipy.stats.norm.pdf, D*
against a numerical maximisation of the pointwise objective and V(D*, G) against -log 4 + 2 JSD from
scipy.spatial.distance.jensenshannon, the vanishing gradient of the minimax loss against sigmoid written here, the
networks against the same layers built by hand from torch.nn, train_gan against a training step written out here with
torch's losses and optimizers, class_histogram against a count by a loop, and the errors."""

import copy
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy.optimize import minimize_scalar
from scipy.spatial.distance import jensenshannon
from scipy.stats import norm
from tensors import DEVICES, F64, leaf, random
from torch import nn

from helpers.models.gan import (
    Discriminator,
    GANHistory,
    Generator,
    class_histogram,
    discriminator_loss,
    generator_loss,
    normal_pdf,
    optimal_discriminator,
    softplus,
    train_gan,
    value_function,
)

EXACT = {"rtol": 1e-12, "atol": 1e-12}
EXTREMES = torch.tensor([-1000.0, -100.0, -40.0, -1e-300, 0.0, 1e-300, 40.0, 100.0, 1000.0], dtype=F64)


def _logits(n, seed, device="cpu"):
    """Random logits of several scales, with the extremes appended."""
    return torch.cat([random(n, seed=seed, device=device) * 5, EXTREMES.to(device)])


def _bce(logits, target):
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, float(target)))


# ---------------------------------------------------------------- the losses against torch
@pytest.mark.parametrize("device", DEVICES)
def test_discriminator_loss_is_bce_real_as_1_plus_bce_fake_as_0_values_and_gradients(device):
    real, fake = _logits(20, 1, device), _logits(13, 2, device)
    ours_in, theirs_in = (leaf(real), leaf(fake)), (leaf(real), leaf(fake))
    ours = discriminator_loss(*ours_in)
    theirs = _bce(theirs_in[0], 1) + _bce(theirs_in[1], 0)
    assert ours.shape == () and ours.dtype == F64 and ours.device.type == device
    torch.testing.assert_close(ours, theirs, **EXACT)
    for a, b in zip(torch.autograd.grad(ours, ours_in), torch.autograd.grad(theirs, theirs_in)):
        torch.testing.assert_close(a, b, **EXACT)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("saturating", [False, True])
def test_generator_loss_against_bce(device, saturating):
    """Non-saturating: BCE(fake, 1) = -mean log D(G(z)); saturating: mean log(1 - D(G(z))) = -BCE(fake, 0)."""
    fake = _logits(30, 3, device)
    ours_in, theirs_in = leaf(fake), leaf(fake)
    ours = generator_loss(ours_in, saturating=saturating)
    theirs = -_bce(theirs_in, 0) if saturating else _bce(theirs_in, 1)
    torch.testing.assert_close(ours, theirs, **EXACT)
    torch.testing.assert_close(torch.autograd.grad(ours, ours_in)[0], torch.autograd.grad(theirs, theirs_in)[0],
                               **EXACT)


def test_value_function_is_minus_the_discriminator_loss_and_the_naive_formula_where_that_is_finite():
    real, fake = random(25, seed=4) * 3, random(17, seed=5) * 3
    naive = torch.log(torch.sigmoid(real)).mean() + torch.log(1 - torch.sigmoid(fake)).mean()
    torch.testing.assert_close(value_function(real, fake), naive, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(value_function(real, fake), -(_bce(real, 1) + _bce(fake, 0)), **EXACT)
    zero = torch.zeros(5, dtype=F64)  # D = 1/2 everywhere: V = -log 4
    assert value_function(zero, zero).item() == pytest.approx(-math.log(4), rel=1e-15)


def test_the_losses_stay_finite_where_log_sigmoid_overflows():
    fake = torch.tensor([100.0], dtype=F64)  # D is fooled completely; 1 - sigmoid(100) rounds to 0
    assert torch.isinf(torch.log(1 - torch.sigmoid(fake))).all()  # the naive formula breaks here
    real = torch.tensor([-100.0], dtype=F64)
    torch.testing.assert_close(discriminator_loss(real, fake), torch.tensor(200.0, dtype=F64), **EXACT)
    assert generator_loss(torch.tensor([-1000.0], dtype=F64)).item() == 1000.0
    torch.testing.assert_close(softplus(torch.tensor([1000.0, -1000.0, 0.0], dtype=F64)),
                               torch.tensor([1000.0, 0.0, math.log(2)], dtype=F64), **EXACT)
    g = torch.tensor([30.0], dtype=F64, requires_grad=True)  # F.softplus would return 30 exactly (threshold 20)
    torch.testing.assert_close(softplus(g), torch.log1p(torch.exp(g.detach())), rtol=1e-15, atol=0)


@pytest.mark.parametrize("logit", [-5.0, -20.0, -50.0])
def test_the_minimax_generator_loss_saturates_where_d_rejects_the_fakes(logit):
    """d/dl log(1 - sigmoid(l)) = -sigmoid(l) -> 0 as l -> -inf; d/dl -log sigmoid(l) = -(1 - sigmoid(l)) -> -1."""
    l_sat = torch.tensor([logit], dtype=F64, requires_grad=True)
    l_ns = torch.tensor([logit], dtype=F64, requires_grad=True)
    (g_sat,) = torch.autograd.grad(generator_loss(l_sat, saturating=True), l_sat)
    (g_ns,) = torch.autograd.grad(generator_loss(l_ns), l_ns)
    sigmoid = 1 / (1 + math.exp(-logit))
    assert g_sat.item() == pytest.approx(-sigmoid, rel=1e-12)
    assert g_ns.item() == pytest.approx(-(1 - sigmoid), rel=1e-12)
    assert abs(g_sat.item()) < 1e-2 * abs(g_ns.item())  # the minimax gradient is (almost) gone
    assert g_sat.item() < 0 and g_ns.item() < 0  # both push the logit up, towards "real"


# ---------------------------------------------------------------- densities and the optimal discriminator
@pytest.mark.parametrize("device", DEVICES)
def test_normal_pdf_against_scipy(device):
    x = random(40, seed=6, device=device) * 4
    for mean, std in [(0.0, 1.0), (1.5, 0.3), (-2.0, 2.5)]:
        expected = torch.from_numpy(norm.pdf(x.cpu().numpy(), loc=mean, scale=std)).to(device)
        torch.testing.assert_close(normal_pdf(x, mean, std), expected, rtol=1e-12, atol=0)
    means, stds = torch.tensor([0.0, 1.0, -1.0], dtype=F64), torch.tensor([1.0, 0.5, 2.0], dtype=F64)
    grid = torch.linspace(-3, 3, 7, dtype=F64)[:, None]  # broadcast (7, 1) against (3,)
    expected = norm.pdf(grid.numpy(), loc=means.numpy(), scale=stds.numpy())
    np.testing.assert_allclose(normal_pdf(grid, means, stds).numpy(), expected, rtol=1e-12)
    assert normal_pdf(torch.zeros(2, dtype=torch.float32)).dtype == torch.float32


def test_optimal_discriminator_against_scipy_densities():
    x = torch.linspace(-6, 8, 141, dtype=F64)
    p_data, p_g = norm.pdf(x.numpy(), 0.0, 1.0), norm.pdf(x.numpy(), 2.0, 0.5)
    d_star = optimal_discriminator(normal_pdf(x, 0.0, 1.0), normal_pdf(x, 2.0, 0.5))
    np.testing.assert_allclose(d_star.numpy(), p_data / (p_data + p_g), rtol=1e-12)
    same = normal_pdf(x, 1.0, 2.0)
    assert torch.equal(optimal_discriminator(same, same), torch.full_like(x, 0.5))
    edge = optimal_discriminator(torch.tensor([0.0, 0.0, 2.0]), torch.tensor([0.0, 3.0, 0.0]))
    assert math.isnan(edge[0]) and edge[1:].tolist() == [0.0, 1.0]  # undefined where both densities vanish


def _maximise_by_lbfgs(a: float, b: float) -> float:
    """argmax over y in (0, 1) of a log y + b log(1 - y), by L-BFGS on the logit of y (autograd's gradients)."""
    logit = torch.zeros((), dtype=F64, requires_grad=True)
    optimizer = torch.optim.LBFGS([logit], lr=1, max_iter=100, tolerance_grad=1e-14, tolerance_change=0)

    def closure():
        optimizer.zero_grad()
        loss = -(a * F.logsigmoid(logit) + b * F.logsigmoid(-logit))
        loss.backward()
        return loss

    optimizer.step(closure)
    return torch.sigmoid(logit).item()


@pytest.mark.parametrize("a, b", [(0.3, 0.7), (2.0, 0.1), (1e-3, 5.0), (1.0, 1.0)])
def test_d_star_maximises_the_pointwise_objective(a, b):
    """f(y) = a log y + b log(1 - y) maximised numerically: bounded Brent on y, and L-BFGS on the logit."""
    expected = minimize_scalar(lambda y: -(a * math.log(y) + b * math.log(1 - y)), bounds=(1e-12, 1 - 1e-12),
                               method="bounded", options={"xatol": 1e-12}).x
    d_star = optimal_discriminator(torch.tensor(a, dtype=F64), torch.tensor(b, dtype=F64)).item()
    assert d_star == pytest.approx(expected, abs=1e-8)
    assert _maximise_by_lbfgs(a, b) == pytest.approx(d_star, abs=1e-9)


def test_v_at_d_star_is_minus_log_4_plus_twice_the_jensen_shannon_divergence():
    """On a grid (discrete distributions p, q): sum p log D* + q log(1 - D*) = -log 4 + 2 JSD(p, q), where
    scipy's jensenshannon returns sqrt(JSD) (natural log). The pairs overlap enough that 1 - D* stays > 0 in
    float64 over the grid."""
    x = torch.linspace(-6, 8, 1401, dtype=F64)
    for (m1, s1), (m2, s2) in [((0.0, 1.0), (1.5, 1.3)), ((0.0, 1.0), (0.0, 1.0)), ((-1.0, 2.0), (2.0, 1.5))]:
        p, q = normal_pdf(x, m1, s1), normal_pdf(x, m2, s2)
        p, q = p / p.sum(), q / q.sum()
        d = optimal_discriminator(p, q)
        value = (p * torch.log(d)).sum() + (q * torch.log1p(-d)).sum()
        jsd = jensenshannon(p.numpy(), q.numpy()) ** 2
        assert value.item() == pytest.approx(-math.log(4) + 2 * jsd, abs=1e-10)
        assert 0 <= jsd <= math.log(2) + 1e-12


# ---------------------------------------------------------------- the networks
def _by_hand_generator(latent, c, k):
    """The module docstring's generator, from torch.nn layers; the same order of parameters."""
    return nn.ModuleList([nn.Linear(latent + k, 4 * c), nn.BatchNorm1d(4 * c),
                          nn.ConvTranspose2d(c, c // 2, 4, 2, 1), nn.BatchNorm2d(c // 2),
                          nn.ConvTranspose2d(c // 2, 1, 4, 2, 1)])


def _run_by_hand_generator(layers, z, c):
    lin, bn1, up1, bn2, up2 = layers
    h = torch.relu(bn1(lin(z))).reshape(len(z), c, 2, 2)
    return torch.tanh(up2(torch.relu(bn2(up1(h)))))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("n_classes", [0, 10])
@pytest.mark.parametrize("train", [True, False])
def test_generator_is_the_documented_stack_of_layers(device, n_classes, train):
    torch.manual_seed(0)
    ours = Generator(latent=5, channels=8, n_classes=n_classes).to(device, F64).train(train)
    hand = _by_hand_generator(5, 8, n_classes).to(device, F64).train(train)
    hand.load_state_dict(dict(zip(hand.state_dict(), ours.state_dict().values())))
    z = random(6, 5, seed=7, device=device)
    labels = torch.tensor([3, 0, 9, 3, 1, 2], device=device) if n_classes else None
    out = ours(z, labels)
    z_in = torch.cat([z, F.one_hot(labels, 10).to(F64)], 1) if n_classes else z
    assert out.shape == (6, 1, 8, 8) and out.device.type == device and out.dtype == F64
    torch.testing.assert_close(out, _run_by_hand_generator(hand, z_in, 8), **EXACT)
    assert out.abs().max() < 1


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("n_classes", [0, 3])
def test_discriminator_is_the_documented_stack_of_layers(device, n_classes):
    torch.manual_seed(1)
    ours = Discriminator(channels=4, n_classes=n_classes).to(device, F64)
    hand = nn.ModuleList([nn.Conv2d(1 + n_classes, 4, 4, 2, 1), nn.Conv2d(4, 8, 4, 2, 1), nn.Linear(32, 1)])
    hand.to(device, F64).load_state_dict(dict(zip(hand.state_dict(), ours.state_dict().values())))
    x = random(5, 1, 8, 8, seed=8, device=device)
    labels = torch.tensor([2, 0, 1, 2, 2], device=device) if n_classes else None
    logits = ours(x, labels)
    if n_classes:
        planes = torch.zeros(5, n_classes, 8, 8, dtype=F64, device=device)
        for i, y in enumerate(labels.tolist()):
            planes[i, y] = 1.0
        x = torch.cat([x, planes], 1)
    conv1, conv2, linear = hand
    expected = linear(F.leaky_relu(conv2(F.leaky_relu(conv1(x), 0.2)), 0.2).flatten(1))[:, 0]
    assert logits.shape == (5,) and logits.device.type == device
    torch.testing.assert_close(logits, expected, **EXACT)
    flat = ours(x[:, :1].reshape(5, 64), labels)  # flat digits as helpers.data.digits gives them
    torch.testing.assert_close(flat, expected, **EXACT)


def test_conditional_outputs_depend_on_the_labels():
    torch.manual_seed(2)
    generator, discriminator = Generator(n_classes=10).eval(), Discriminator(n_classes=10)
    z = torch.randn(4, 32)
    assert not torch.allclose(generator(z, torch.tensor([0, 0, 0, 0])), generator(z, torch.tensor([1, 1, 1, 1])))
    x = torch.rand(4, 1, 8, 8) * 2 - 1
    assert not torch.allclose(discriminator(x, torch.tensor([0, 1, 2, 3])), discriminator(x, torch.tensor([4] * 4)))


def test_network_errors():
    generator, conditional = Generator(), Generator(n_classes=10)
    with pytest.raises(ValueError, match=r"z must be \(N, latent\) = \(N, 32\)"):
        generator(torch.randn(4, 16))
    with pytest.raises(ValueError, match="n_classes=0 .* takes no labels"):
        generator(torch.randn(4, 32), torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError, match="conditional .*pass labels"):
        conditional(torch.randn(4, 32))
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 10\), got values from 0 to 10"):
        conditional(torch.randn(2, 32), torch.tensor([0, 10]))
    with pytest.raises(TypeError, match="labels must be an integer tensor"):
        conditional(torch.randn(2, 32), torch.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"labels must be \(N,\) = \(2,\)"):
        conditional(torch.randn(2, 32), torch.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match=r"Discriminator reads 8x8 gray images.*\(3, 3, 8, 8\)"):
        Discriminator()(torch.rand(3, 3, 8, 8))
    with pytest.raises(ValueError, match="n_classes must be 0 .* or at least 2"):
        Discriminator(n_classes=1)
    with pytest.raises(TypeError, match="channels must be a whole number"):
        Generator(channels=8.0)


# ---------------------------------------------------------------- training
def _digits_like(n=48, seed=0, n_classes=3):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 1, 8, 8, generator=g) * 2 - 1, torch.randint(n_classes, (n,), generator=g)


def _networks(n_classes=0, seed=0, dtype=torch.float32):
    torch.manual_seed(seed)
    return (Generator(latent=4, channels=8, n_classes=n_classes).to(dtype),
            Discriminator(channels=4, n_classes=n_classes).to(dtype))


@pytest.mark.parametrize("saturating", [False, True])
@pytest.mark.parametrize("n_classes", [0, 3])
def test_train_gan_takes_alternating_steps_as_written_out_with_torch(saturating, n_classes):
    """Three steps of train_gan against D and G steps written here with F.binary_cross_entropy_with_logits and
    torch.optim.Adam, from the same draws (documented order: snapshot z, then rows, z, fake labels per step)."""
    x, y = _digits_like(n_classes=max(n_classes, 1))
    x = x.double()
    generator, discriminator = _networks(n_classes, dtype=F64)
    hand_g, hand_d = copy.deepcopy(generator), copy.deepcopy(discriminator)
    history = train_gan(generator, discriminator, x, 3, lr=1e-3, betas=(0.5, 0.9), batch_size=8,
                        labels=y if n_classes else None, saturating=saturating, seed=5, snapshot_size=7,
                        device="cpu", progress=False)
    draws = torch.Generator().manual_seed(5)
    torch.randn(7, 4, generator=draws)  # the snapshots' z
    opt_d = torch.optim.Adam(hand_d.parameters(), lr=1e-3, betas=(0.5, 0.9))
    opt_g = torch.optim.Adam(hand_g.parameters(), lr=1e-3, betas=(0.5, 0.9))
    d_losses, g_losses = [], []
    for _ in range(3):
        rows = torch.randint(len(x), (8,), generator=draws)
        z = torch.randn(8, 4, generator=draws).double()
        real_y = fake_y = None
        if n_classes:
            real_y, fake_y = y[rows], torch.randint(n_classes, (8,), generator=draws)
        fake = hand_g(z, fake_y)
        err_d = _bce(hand_d(x[rows], real_y), 1) + _bce(hand_d(fake.detach(), fake_y), 0)
        opt_d.zero_grad()
        err_d.backward()
        opt_d.step()
        logits = hand_d(fake, fake_y)
        err_g = -_bce(logits, 0) if saturating else _bce(logits, 1)
        opt_g.zero_grad()
        err_g.backward()
        opt_g.step()
        d_losses.append(err_d.item())
        g_losses.append(err_g.item())
    np.testing.assert_allclose(history.d_loss, d_losses, rtol=1e-10)
    np.testing.assert_allclose(history.g_loss, g_losses, rtol=1e-10)
    for ours, theirs in [(generator, hand_g), (discriminator, hand_d)]:
        for (name, a), b in zip(ours.state_dict().items(), theirs.state_dict().values()):
            torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-10, msg=name)
    assert history.steps == 3 and (np.array(history.g_loss) < 0).all() == saturating  # log(1 - D) < 0


@pytest.mark.parametrize("device", DEVICES)
def test_train_gan_is_deterministic_and_snapshots_come_from_a_fixed_z(device):
    """Bitwise on the CPU; on a GPU cuDNN's convolutions may differ in the last bits from run to run."""
    tol = {"rtol": 0, "atol": 0} if device == "cpu" else {"rtol": 1e-4, "atol": 1e-5}
    x, _ = _digits_like()
    runs = []
    for _ in range(2):
        generator, discriminator = _networks()
        start = copy.deepcopy(generator).eval()
        runs.append((train_gan(generator, discriminator, x, 7, snapshot_every=3, seed=1, snapshot_size=12,
                               device=device, progress=False), generator, start))
    (first, generator, start), (second, *_) = runs
    assert isinstance(first, GANHistory)
    for name in ("d_loss", "g_loss", "d_real", "d_fake"):
        torch.testing.assert_close(torch.tensor(getattr(first, name)), torch.tensor(getattr(second, name)), **tol)
    assert sorted(first.snapshots) == [0, 3, 6, 7]
    for k in first.snapshots:
        torch.testing.assert_close(first.snapshots[k], second.snapshots[k], **tol)
    assert first.z.shape == (12, 4) and first.labels is None
    with torch.no_grad():
        torch.testing.assert_close(first.snapshots[0], (start(first.z) + 1) / 2, **tol)
        torch.testing.assert_close(first.snapshots[7], (generator(first.z) + 1) / 2, **tol)
    assert not generator.training  # back in eval mode
    assert len(first.d_real) == len(first.d_fake) == 7 and all(0 < v < 1 for v in first.d_real + first.d_fake)
    other = train_gan(*_networks(), x, 7, seed=2, device=device, progress=False)
    assert other.d_loss != first.d_loss and other.snapshots == {}


def test_train_gan_conditional_snapshots_cycle_through_the_classes():
    x, y = _digits_like(n_classes=3)
    history = train_gan(*_networks(3), x, 2, labels=y, snapshot_every=1, snapshot_size=7, progress=False)
    assert history.labels.tolist() == [0, 1, 2, 0, 1, 2, 0]
    assert sorted(history.snapshots) == [0, 1, 2] and history.snapshots[2].shape == (7, 1, 8, 8)
    assert all(float(s.min()) >= 0 and float(s.max()) <= 1 for s in history.snapshots.values())


@pytest.mark.parametrize("device", DEVICES)
def test_train_gan_puts_the_networks_back_home(device):
    x, _ = _digits_like()
    generator, discriminator = _networks()
    history = train_gan(generator, discriminator, x, 2, device=device, snapshot_every=1, progress=False)
    assert {p.device.type for p in [*generator.parameters(), *discriminator.parameters()]} == {"cpu"}
    assert all(s.device.type == "cpu" for s in history.snapshots.values())


def test_train_gan_errors():
    x, y = _digits_like()
    with pytest.raises(ValueError, match=r"must lie in \[-1, 1\].*x \* 2 - 1"):
        train_gan(*_networks(), (x + 1) * 2, 1, progress=False)
    with pytest.raises(ValueError, match=r"x must be floating-point images \(N, 1, 8, 8\), got \(48, 64\)"):
        train_gan(*_networks(), x.reshape(48, 64), 1, progress=False)
    with pytest.raises(ValueError, match="labels are for a conditional GAN"):
        train_gan(*_networks(), x, 1, labels=y, progress=False)
    with pytest.raises(ValueError, match="conditional .*pass labels"):
        train_gan(*_networks(3), x, 1, progress=False)
    with pytest.raises(ValueError, match=r"labels must be \(N,\) = \(48,\)"):
        train_gan(*_networks(3), x, 1, labels=y[:5], progress=False)
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\)"):
        train_gan(*_networks(3), x, 1, labels=y + 1, progress=False)
    with pytest.raises(ValueError, match="generator has n_classes=3, the discriminator 0"):
        train_gan(_networks(3)[0], _networks()[1], x, 1, labels=y, progress=False)
    with pytest.raises(ValueError, match="steps must be at least 1"):
        train_gan(*_networks(), x, 0, progress=False)
    with pytest.raises(TypeError, match="saturating must be True or False"):
        train_gan(*_networks(), x, 1, saturating="yes", progress=False)
    with pytest.raises(ValueError, match="lr must be > 0"):
        train_gan(*_networks(), x, 1, lr=0.0, progress=False)


def test_loss_errors():
    with pytest.raises(TypeError, match="real_logits must be a torch.Tensor"):
        discriminator_loss([0.0], torch.zeros(1))
    with pytest.raises(TypeError, match="fake_logits must be a floating-point tensor"):
        generator_loss(torch.zeros(3, dtype=torch.long))
    with pytest.raises(ValueError, match="fake_logits is empty"):
        value_function(torch.zeros(2), torch.zeros(0))
    with pytest.raises(ValueError, match="std is a standard deviation and must be > 0"):
        normal_pdf(torch.zeros(2), 0.0, 0.0)
    with pytest.raises(ValueError, match="p_g holds densities.*not log p"):
        optimal_discriminator(torch.ones(2), torch.tensor([0.5, -1.0]))


# ---------------------------------------------------------------- class_histogram
class _FixedLogits(nn.Module):
    """A 'classifier' whose logits are given: class of image i = the argmax of row i."""

    def __init__(self, logits):
        super().__init__()
        self.logits = nn.Parameter(logits, requires_grad=False)
        self.seen = None

    def forward(self, x):
        self.seen = x
        return self.logits[: len(x)]


def test_class_histogram_counts_the_predicted_classes():
    logits = random(37, 10, seed=9)
    classifier = _FixedLogits(logits).train()
    images = torch.rand(37, 1, 8, 8)
    histogram = class_histogram(classifier, images)
    counts = [0] * 10
    for row in logits.tolist():
        counts[row.index(max(row))] += 1
    assert histogram.shape == (10,) and histogram.dtype == F64
    assert histogram.tolist() == pytest.approx([c / 37 for c in counts], abs=1e-15)
    assert histogram.sum().item() == pytest.approx(1.0)
    assert classifier.training and classifier.seen.dtype == F64  # mode restored; images in the classifier's dtype
    with pytest.raises(ValueError, match="non-empty floating-point"):
        class_histogram(classifier, torch.zeros(0, 64))
