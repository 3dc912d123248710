"""helpers.ensemble: bootstrap statistics against their closed forms, bagging's bookkeeping and reproducibility,
and the ensemble prediction as the average of the models' probabilities (never a worse log-loss)."""

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from helpers import data
from helpers.ensemble import bagging_fit, bagging_predict, bootstrap_indices

F64 = torch.float64


def gen(seed):
    return torch.Generator().manual_seed(seed)


# ---------------------------------------------------------------- the bootstrap
def test_bootstrap_indices_are_in_range_seeded_and_drawn_with_replacement():
    idx = bootstrap_indices(50, gen(0))
    assert idx.shape == (50,) and idx.dtype == torch.int64 and idx.min() >= 0 and idx.max() < 50
    assert torch.equal(idx, bootstrap_indices(50, gen(0))) and not torch.equal(idx, bootstrap_indices(50, gen(1)))
    assert len(idx.unique()) < 50  # repeats (all distinct has probability 50!/50^50)
    assert bootstrap_indices(1).tolist() == [0]
    with pytest.raises(ValueError, match="positive"):
        bootstrap_indices(0)


@pytest.mark.parametrize("n", [10, 1000])
def test_the_fraction_of_distinct_examples_is_one_minus_one_over_e(n):
    reps = 2000 if n == 10 else 300
    g = gen(2)
    fractions = torch.tensor([len(bootstrap_indices(n, g).unique()) / n for _ in range(reps)], dtype=F64)
    expected = 1 - (1 - 1 / n) ** n  # P(example i is drawn at least once); -> 1 - 1/e = 0.632
    assert abs(fractions.mean().item() - expected) < 5 * fractions.std().item() / math.sqrt(reps)
    if n == 1000:
        assert abs(expected - (1 - 1 / math.e)) < 2e-4


def test_how_often_an_example_is_drawn_is_binomial_n_one_over_n():
    n, reps = 200, 500
    g = gen(3)
    counts = torch.stack([torch.bincount(bootstrap_indices(n, g), minlength=n) for _ in range(reps)]).flatten()
    for k in range(4):  # P(count = k) = C(n, k) (1/n)^k (1 - 1/n)^(n - k), about e^-1 / k!
        p = math.comb(n, k) * (1 / n) ** k * (1 - 1 / n) ** (n - k)
        observed = (counts == k).double().mean().item()
        assert abs(observed - p) < 5 * math.sqrt(p * (1 - p) / counts.numel())
    assert counts.double().mean().item() == pytest.approx(1.0)  # exactly n draws over n examples


# ---------------------------------------------------------------- bagging
class MeanModel(nn.Module):
    """Predicts the mean target of its training sample and remembers an initial random number."""

    def __init__(self):
        super().__init__()
        self.register_buffer("mean", torch.zeros((), dtype=F64))
        self.register_buffer("init", torch.rand((), dtype=F64))  # from torch's global random state

    def forward(self, x):
        return self.mean.expand(len(x), 1)


def fit_mean(model, x, y):
    model.mean.fill_(y.mean())


def test_bagging_fit_trains_fresh_models_on_their_own_bootstrap_samples():
    x = torch.arange(30, dtype=F64).unsqueeze(1)
    y = x.squeeze(1) ** 2
    models, samples = bagging_fit(MeanModel, fit_mean, x, y, n_estimators=5, seed=4, return_indices=True)
    assert len(models) == len(samples) == 5 and len({id(m) for m in models}) == 5
    g = gen(4)
    for model, idx in zip(models, samples):
        assert torch.equal(idx, bootstrap_indices(30, g))  # the documented stream: one generator seeded with seed
        assert model.mean.item() == pytest.approx(y[idx].mean().item())
    assert len({round(m.mean.item(), 9) for m in models}) == 5  # different samples, different models
    assert len({m.init.item() for m in models}) == 5  # a different initialisation each


def test_bagging_is_reproducible_and_leaves_the_global_random_state_alone():
    x, y = torch.randn(20, 3, generator=gen(5)), torch.randn(20, generator=gen(6))
    state = torch.get_rng_state()
    first = bagging_fit(MeanModel, fit_mean, x, y, n_estimators=3, seed=7)
    assert torch.equal(torch.get_rng_state(), state)
    again = bagging_fit(MeanModel, fit_mean, x, y, n_estimators=3, seed=7)
    other = bagging_fit(MeanModel, fit_mean, x, y, n_estimators=3, seed=8)
    assert all(torch.equal(a.mean, b.mean) and torch.equal(a.init, b.init) for a, b in zip(first, again))
    assert not all(torch.equal(a.mean, b.mean) for a, b in zip(first, other))
    with pytest.raises(ValueError, match="same number"):
        bagging_fit(MeanModel, fit_mean, x, y[:-1])
    with pytest.raises(ValueError, match="n_estimators"):
        bagging_fit(MeanModel, fit_mean, x, y, n_estimators=0)


def test_bagging_predict_averages_probabilities_in_eval_mode():
    torch.manual_seed(0)
    models = [nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.5), nn.Linear(8, 3)).double() for _ in range(3)]
    x = torch.randn(6, 4, generator=gen(9), dtype=F64)
    for m in models:
        m.eval()
    expected = torch.stack([m(x).softmax(-1) for m in models]).mean(0)
    for m in models:
        m.train()
    ours = bagging_predict(models, x)
    assert torch.allclose(ours, expected, rtol=1e-14, atol=1e-15)  # dropout off: eval mode inside
    assert torch.allclose(ours.sum(-1), torch.ones(6, dtype=F64))
    assert all(m.training for m in models)  # modes restored
    assert torch.allclose(bagging_predict(models[:1], x), models[0].eval()(x).softmax(-1), rtol=1e-14, atol=1e-15)
    raw = bagging_predict(models, x, transform=None)  # regression: the mean output
    assert torch.allclose(raw, torch.stack([m.eval()(x) for m in models]).mean(0), rtol=1e-14, atol=1e-15)
    with pytest.raises(ValueError, match="at least one"):
        bagging_predict([], x)


def test_bagged_logistic_regressions_on_digits_never_lose_in_log_loss():
    split = data.digits(dtype=F64)
    x, y = split.x_train[:200], split.y_train[:200]

    def train(model, xb, yb):
        opt = torch.optim.Adam(model.parameters(), lr=0.05)
        for _ in range(60):
            opt.zero_grad()
            F.cross_entropy(model(xb), yb).backward()
            opt.step()

    models = bagging_fit(lambda: nn.Linear(64, 10).double(), train, x, y, n_estimators=5, seed=0)
    probs = bagging_predict(models, split.x_val)
    ensemble_loss = F.nll_loss(probs.log(), split.y_val).item()
    individual = [F.cross_entropy(m(split.x_val), split.y_val).item() for m in models]
    assert ensemble_loss <= sum(individual) / len(individual)  # Jensen: -log of a mean <= mean of -logs
    accuracy = (probs.argmax(-1) == split.y_val).double().mean().item()
    assert accuracy > 0.85
