"""helpers.models.cyclegan against formulas written here with F.l1_loss, F.binary_cross_entropy_with_logits and
F.mse_loss (float64, 1e-10), autograd for where the gradients go, one training step against Adam steps taken by hand
on copies of the four models, the translators' receptive field by autograd, thicken against a loop, and the unpaired
split as a permutation of its input."""

import copy

import pytest
import torch
import torch.nn.functional as F
from tensors import DEVICES, F64, close, leaf, random
from torch import nn

from helpers.models.cyclegan import (
    ConvTranslator,
    DomainDiscriminator,
    MLPTranslator,
    cycle_consistency_loss,
    cyclegan_losses,
    invert,
    thicken,
    train_cyclegan,
    unpaired_digits,
)


class Scorer(nn.Module):
    """A discriminator for (N, D) vectors: Linear(D, 1) -> (N,) logits."""

    def __init__(self, d):
        super().__init__()
        self.linear = nn.Linear(d, 1)

    def forward(self, x):
        return self.linear(x).squeeze(1)


def four(d=5, seed=0, device="cpu"):
    """G, F (Linear(d, d) then tanh), D_X, D_Y (Linear(d, 1)), float64, seeded."""
    torch.manual_seed(seed)
    models = [nn.Sequential(nn.Linear(d, d), nn.Tanh()), nn.Sequential(nn.Linear(d, d), nn.Tanh()), Scorer(d),
              Scorer(d)]
    return [m.to(device=device, dtype=F64) for m in models]


# ---------------------------------------------------------------- cycle_consistency_loss
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("shape", [(7,), (4, 6), (3, 1, 8, 8)])
def test_cycle_consistency_loss_is_l1_loss_with_its_gradients(device, shape):
    x, cycled = random(*shape, seed=1, device=device), random(*shape, seed=2, device=device)
    ours_x, ours_c, theirs_x, theirs_c = leaf(x), leaf(cycled), leaf(x), leaf(cycled)
    ours, theirs = cycle_consistency_loss(ours_x, ours_c), F.l1_loss(theirs_c, theirs_x)
    assert ours.ndim == 0 and close(ours, theirs)
    weight = random(1, seed=3, device=device)[0]
    (ours * weight).backward()
    (theirs * weight).backward()
    assert close(ours_x.grad, theirs_x.grad) and close(ours_c.grad, theirs_c.grad)


def test_cycle_consistency_loss_is_zero_for_a_perfect_round_trip_and_errors():
    x = random(4, 3, seed=4)
    assert cycle_consistency_loss(x, x.clone()).item() == 0.0
    with pytest.raises(ValueError, match=r"same shape.*\(4, 3\) and \(4, 1, 3\).*F\(G\(x\)\)"):
        cycle_consistency_loss(x, x[:, None])
    with pytest.raises(TypeError, match="must be tensors"):
        cycle_consistency_loss(x.numpy(), x)


# ---------------------------------------------------------------- cyclegan_losses
def _written_out(G, Fm, D_X, D_Y, x, y, weight, adversarial):
    """Every term from its definition, with torch's own losses."""
    if adversarial == "log":
        def gen(s):
            return F.binary_cross_entropy_with_logits(s, torch.ones_like(s))

        def disc(real, fake):
            return (F.binary_cross_entropy_with_logits(real, torch.ones_like(real))
                    + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake)))
    else:
        def gen(s):
            return F.mse_loss(s, torch.ones_like(s))

        def disc(real, fake):
            return F.mse_loss(real, torch.ones_like(real)) + F.mse_loss(fake, torch.zeros_like(fake))
    out = {"adversarial_G": gen(D_Y(G(x))), "adversarial_F": gen(D_X(Fm(y))),
           "cycle_x": F.l1_loss(Fm(G(x)), x), "cycle_y": F.l1_loss(G(Fm(y)), y),
           "D_Y": disc(D_Y(y), D_Y(G(x))), "D_X": disc(D_X(x), D_X(Fm(y)))}
    out["generators"] = (out["adversarial_G"] + out["adversarial_F"]
                         + weight * (F.l1_loss(Fm(G(x)), x) + F.l1_loss(G(Fm(y)), y)))
    return out


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("adversarial", ["log", "least_squares"])
@pytest.mark.parametrize("weight", [10.0, 0.0, 2.5])
def test_every_term_equals_its_formula(device, adversarial, weight):
    G, Fm, D_X, D_Y = four(device=device)
    x, y = random(6, 5, seed=5, device=device), random(9, 5, seed=6, device=device) * 3  # N_x != N_y
    ours = cyclegan_losses(G, Fm, D_X, D_Y, x, y, cycle_weight=weight, adversarial=adversarial)
    theirs = _written_out(G, Fm, D_X, D_Y, x, y, weight, adversarial)
    assert set(ours) == set(theirs)
    for key in theirs:
        assert ours[key].ndim == 0 and close(ours[key], theirs[key]), key


def test_log_loss_is_stable_for_confident_discriminators():
    G, Fm, D_X, D_Y = four()
    with torch.no_grad():
        D_Y.linear.bias.fill_(-1000.0)  # D_Y rejects everything: -log sigmoid(l) = -l + log(1 + e^l) ~ -l, not inf
    x = random(3, 5, seed=7)
    losses = cyclegan_losses(G, Fm, D_X, D_Y, x, random(3, 5, seed=8))
    logits = D_Y(G(x))
    assert (logits < -990).all()
    assert abs(losses["adversarial_G"].item() - (-logits).mean().item()) < 1e-9 and torch.isfinite(losses["D_Y"])


def test_identity_generators_give_zero_cycle_loss():
    _, _, D_X, D_Y = four()
    losses = cyclegan_losses(nn.Identity(), nn.Identity(), D_X, D_Y, random(4, 5, seed=9), random(7, 5, seed=10))
    assert losses["cycle_x"].item() == 0.0 and losses["cycle_y"].item() == 0.0
    assert close(losses["generators"], losses["adversarial_G"] + losses["adversarial_F"])


def test_gradients_reach_the_generators_and_the_discriminators_losses_do_not():
    G, Fm, D_X, D_Y = four()
    x, y = random(6, 5, seed=11), random(6, 5, seed=12)
    losses = cyclegan_losses(G, Fm, D_X, D_Y, x, y)
    generators = [*G.parameters(), *Fm.parameters()]
    for p, g in zip(generators, torch.autograd.grad(losses["generators"], generators, retain_graph=True)):
        assert g.abs().sum() > 0, p.shape
    for key in ("D_X", "D_Y"):  # the translations are detached: nothing flows back to G or F
        grads = torch.autograd.grad(losses[key], generators, retain_graph=True, allow_unused=True)
        assert all(g is None for g in grads)
    # each discriminator's loss reaches its own discriminator only
    assert all(g is None for g in torch.autograd.grad(losses["D_Y"], list(D_X.parameters()), retain_graph=True,
                                                      allow_unused=True))
    assert all(g.abs().sum() > 0 for g in torch.autograd.grad(losses["D_Y"], list(D_Y.parameters())))


def test_cyclegan_losses_errors():
    G, Fm, D_X, D_Y = four()
    x = random(2, 5, seed=13)
    with pytest.raises(ValueError, match="'log'.*'least_squares'.*got 'wasserstein'"):
        cyclegan_losses(G, Fm, D_X, D_Y, x, x, adversarial="wasserstein")
    with pytest.raises(ValueError, match="cycle_weight is lambda >= 0"):
        cyclegan_losses(G, Fm, D_X, D_Y, x, x, cycle_weight=-1.0)


# ---------------------------------------------------------------- train_cyclegan: one step by hand
@pytest.mark.parametrize("adversarial", ["log", "least_squares"])
def test_one_training_step_is_an_adam_step_of_each_side_on_its_own_loss(adversarial):
    models = four(seed=14)
    copies = [copy.deepcopy(m) for m in models]
    x, y = random(10, 5, seed=15), random(12, 5, seed=16)
    lr, betas, batch, weight, seed = 0.01, (0.5, 0.999), 4, 3.0, 17
    history = train_cyclegan(*models, x, y, steps=1, lr=lr, betas=betas, batch_size=batch, cycle_weight=weight,
                             adversarial=adversarial, seed=seed, device="cpu", progress=False)
    # by hand: the same draws, then the generators' step on their loss alone and the discriminators' on theirs
    generator = torch.Generator().manual_seed(seed)
    xb = x[torch.randint(len(x), (batch,), generator=generator)]
    yb = y[torch.randint(len(y), (batch,), generator=generator)]
    G, Fm, D_X, D_Y = copies
    terms = _written_out(G, Fm, D_X, D_Y, xb, yb, weight, adversarial)
    gen_params, disc_params = [*G.parameters(), *Fm.parameters()], [*D_X.parameters(), *D_Y.parameters()]
    gen_grads = torch.autograd.grad(terms["generators"], gen_params)
    disc_grads = torch.autograd.grad(terms["D_X"] + terms["D_Y"], disc_params)
    for params, grads in ((gen_params, gen_grads), (disc_params, disc_grads)):
        optimizer = torch.optim.Adam(params, lr=lr, betas=betas)
        for p, g in zip(params, grads):
            p.grad = g
        optimizer.step()
    for ours, theirs in zip(models, copies):
        for a, b in zip(ours.parameters(), theirs.parameters()):
            assert close(a.detach(), b.detach())
    assert set(history) == set(terms)
    for key in terms:
        assert len(history[key]) == 1 and abs(history[key][0] - terms[key].item()) < 1e-10


@pytest.mark.parametrize("device", DEVICES)
def test_train_cyclegan_puts_the_models_back_home_and_is_reproducible(device):
    x, y = random(8, 5, seed=18), random(8, 5, seed=19)
    runs = []
    for _ in range(2):
        models = four(seed=20)
        runs.append(train_cyclegan(*models, x, y, steps=3, batch_size=4, seed=21, device=device, progress=False))
        assert all(next(m.parameters()).device.type == "cpu" for m in models)
    assert runs[0] == runs[1] and len(runs[0]["generators"]) == 3


def test_train_cyclegan_errors():
    x = random(4, 5, seed=22)
    with pytest.raises(ValueError, match="steps must be at least 1"):
        train_cyclegan(*four(), x, x, steps=0)
    with pytest.raises(TypeError, match="batch_size must be a whole number"):
        train_cyclegan(*four(), x, x, batch_size=2.5)


# ---------------------------------------------------------------- the demo's pieces
def test_translators_and_discriminator_shapes_and_ranges():
    torch.manual_seed(23)
    images = torch.rand(5, 1, 8, 8, dtype=F64)
    for model in (ConvTranslator(), ConvTranslator(4, kernel_size=5), MLPTranslator(hidden=16)):
        out = model.to(F64)(images)
        assert out.shape == images.shape and ((out > 0) & (out < 1)).all()
    assert DomainDiscriminator(hidden=8).to(F64)(images).shape == (5,)
    with pytest.raises(ValueError, match="kernel_size must be odd"):
        ConvTranslator(kernel_size=2)


@pytest.mark.parametrize("kernel_size", [1, 3])
def test_conv_translator_output_pixel_sees_only_its_patch(kernel_size):
    torch.manual_seed(24)
    model = ConvTranslator(4, kernel_size).to(F64)
    image = torch.rand(1, 1, 8, 8, dtype=F64)
    jacobian = torch.autograd.functional.jacobian(model, image).reshape(8, 8, 8, 8)  # out (i, j), in (k, l)
    reach = kernel_size - 1  # two k x k layers: output (i, j) sees inputs with |i - k| <= k - 1 and |j - l| <= k - 1
    rows = torch.arange(8)
    near = (rows[:, None] - rows[None, :]).abs() <= reach  # (i, k)
    inside = near[:, None, :, None] & near[None, :, None, :]  # (i, j, k, l)
    assert torch.equal(jacobian != 0, inside)  # LeakyReLU and sigmoid never have a zero slope

def test_mlp_translator_output_pixel_sees_every_input_pixel():
    torch.manual_seed(25)
    jacobian = torch.autograd.functional.jacobian(MLPTranslator(hidden=32).to(F64), torch.rand(1, 1, 8, 8, dtype=F64))
    assert (jacobian.reshape(64, 64) != 0).all()


def test_invert_and_thicken_against_loops():
    images = torch.rand(3, 1, 5, 6, generator=torch.Generator().manual_seed(26), dtype=F64)
    assert torch.equal(invert(images), 1 - images)
    expected = torch.empty_like(images)
    for n in range(3):
        for i in range(5):
            for j in range(6):
                expected[n, 0, i, j] = images[n, 0, i:i + 2, j:j + 2].max()  # the 2 x 2 block, cut at the border
    assert torch.equal(thicken(images), expected)
    with pytest.raises(ValueError, match=r"\(N, 1, H, W\)"):
        thicken(images[:, 0])


@pytest.mark.parametrize("transform, undo", [("invert", invert), ("thicken", None)])
def test_unpaired_digits_splits_the_images_into_two_disjoint_halves(transform, undo):
    images = torch.rand(11, 1, 4, 4, generator=torch.Generator().manual_seed(27), dtype=F64)
    x, y = unpaired_digits(images, transform, seed=3)
    assert x.shape == (6, 1, 4, 4) and y.shape == (5, 1, 4, 4)
    rows = {tuple(r.tolist()): i for i, r in enumerate(images.flatten(1))}
    x_ids = [rows[tuple(r.tolist())] for r in x.flatten(1)]  # every x is one of the images, as it is
    rest = sorted(set(range(11)) - set(x_ids))
    assert len(set(x_ids)) == 6
    # y holds the transforms of exactly the other five images (in some order)
    transformed = invert(images[rest]) if transform == "invert" else thicken(images[rest])
    assert sorted(map(tuple, y.flatten(1).tolist())) == sorted(map(tuple, transformed.flatten(1).tolist()))
    again = unpaired_digits(images, transform, seed=3)
    assert torch.equal(again[0], x) and torch.equal(again[1], y)
    assert not torch.equal(unpaired_digits(images, transform, seed=4)[0], x)


def test_unpaired_digits_errors():
    with pytest.raises(ValueError, match="'invert' or 'thicken', got 'flip'"):
        unpaired_digits(torch.rand(4, 1, 8, 8), "flip")
    with pytest.raises(ValueError, match=r"\(N, 1, H, W\).*digits\(images=True\)"):
        unpaired_digits(torch.rand(4, 64))
