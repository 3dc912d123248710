"""helpers.models.autoregressive against enumeration and autograd.

chain_rule_log_prob against the sum of logs written with math.log. On D = 4, every one of the 2^D vectors: the model's
probabilities sum to 1, and each conditional p(x_i | x_<i) equals the one got by marginalising the enumerated joint.
The autoregressive property: d logit_i / d x_j = 0 for j >= i (autograd Jacobian), and log_prob equals the chain rule
with each conditional read from a separate forward pass in which x_>=i is scrambled. Sampling frequencies against
the enumerated joint (chi-square, scipy). FVSBN against its formula by loops; MADE's masks against their definition.
Training on a distribution whose entropy is known in closed form."""

import itertools
import math

import pytest
import torch
from scipy.stats import chisquare
from tensors import DEVICES, F64, close, leaf, random
from torch import nn

from helpers.models.autoregressive import FVSBN, MADE, chain_rule_log_prob, made_masks, train_autoregressive

D = 4
ALL = torch.tensor(list(itertools.product([0.0, 1.0], repeat=D)), dtype=F64)  # (16, 4), x_1 is the first column


def scrambled(model):
    """Random weights and biases (the zero initialisation of FVSBN would make every conditional 1/2)."""
    with torch.no_grad():
        for k, p in enumerate(model.parameters()):
            p.copy_(random(*p.shape, seed=100 + k) * 1.5)
    return model


def models(device="cpu"):
    torch.manual_seed(0)
    return {"fvsbn": scrambled(FVSBN(D)).to(device=device, dtype=F64),
            "made": scrambled(MADE(D, hidden=7)).to(device=device, dtype=F64),
            "made-no-direct": scrambled(MADE(D, hidden=7, direct=False)).to(device=device, dtype=F64)}


# ---------------------------------------------------------------- chain_rule_log_prob
@pytest.mark.parametrize("device", DEVICES)
def test_chain_rule_log_prob_is_the_sum_of_the_log_conditionals(device):
    g = torch.Generator().manual_seed(1)
    probs = torch.rand(5, 6, generator=g, dtype=F64).to(device)
    x = (torch.rand(5, 6, generator=g, dtype=F64) < 0.5).to(device=device, dtype=F64)
    expected = [sum(math.log(p if v == 1 else 1 - p) for p, v in zip(row_p, row_x))
                for row_p, row_x in zip(probs.tolist(), x.tolist())]
    ours = chain_rule_log_prob(leaf(probs), x)
    assert close(ours, torch.tensor(expected, dtype=F64, device=device))
    p = leaf(probs)
    chain_rule_log_prob(p, x).sum().backward()
    assert close(p.grad, torch.where(x == 1, 1 / probs, -1 / (1 - probs)))  # d/dp of log p or log(1 - p)


def test_chain_rule_log_prob_at_certain_conditionals():
    x = torch.tensor([[1.0, 0.0]], dtype=F64)
    assert chain_rule_log_prob(torch.tensor([[1.0, 0.0]], dtype=F64), x).item() == 0.0  # certain and right
    assert chain_rule_log_prob(torch.tensor([[0.0, 0.5]], dtype=F64), x).item() == -math.inf  # certain and wrong


def test_chain_rule_log_prob_errors():
    x = torch.tensor([[1.0, 0.0]])
    with pytest.raises(ValueError, match=r"both be \(N, D\)"):
        chain_rule_log_prob(torch.rand(1, 3), x)
    with pytest.raises(ValueError, match="binary.*x > 0.5"):
        chain_rule_log_prob(torch.rand(1, 2), torch.tensor([[0.3, 1.0]]))
    with pytest.raises(ValueError, match="probabilities in"):
        chain_rule_log_prob(torch.tensor([[1.5, 0.5]]), x)
    with pytest.raises(TypeError, match="x must be a floating-point tensor"):
        chain_rule_log_prob(torch.rand(1, 2), x.long())


# ---------------------------------------------------------------- enumeration
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("kind", ["fvsbn", "made", "made-no-direct"])
def test_the_joint_sums_to_one_and_its_conditionals_are_the_models(device, kind):
    model = models(device)[kind]
    joint = model.log_prob(ALL.to(device)).exp().cpu()
    assert abs(joint.sum().item() - 1) < 1e-12 and (joint > 0).all()
    conditionals = model.conditionals(ALL.to(device)).cpu()
    for n, x in enumerate(ALL):
        for i in range(D):
            prefix = (ALL[:, :i] == x[:i]).all(dim=1)  # every vector that starts like x
            marginal = joint[prefix].sum()
            ones = joint[prefix & (ALL[:, i] == 1)].sum()
            assert abs(conditionals[n, i].item() - (ones / marginal).item()) < 1e-12


@pytest.mark.parametrize("kind", ["fvsbn", "made", "made-no-direct"])
def test_logit_i_depends_on_x_before_i_only(kind):
    model = models()[kind]
    later = torch.ones(D, D, dtype=torch.bool).triu()  # j >= i
    used = torch.zeros(D, D, dtype=torch.bool)
    for seed in range(5):  # at several points: a ReLU unit off at one point is on at another
        jacobian = torch.autograd.functional.jacobian(lambda v: model(v[None])[0], random(D, seed=2 + seed))  # (i, j)
        assert (jacobian[later] == 0).all()
        used |= jacobian != 0
    assert used[~later].all()  # and every earlier input does count


def test_log_prob_is_the_chain_rule_with_each_conditional_from_its_own_pass():
    """p(x_i = 1 | x_<i) read from a pass in which x_i, ..., x_D are replaced by random values: if the model peeked
    at them, the result would change."""
    for kind, model in models().items():
        x = ALL[[3, 6, 9, 15]]
        probs = torch.empty_like(x)
        for i in range(D):
            fake = x.clone()
            fake[:, i:] = random(len(x), D - i, seed=10 + i)
            probs[:, i] = torch.sigmoid(model(fake)[:, i])
        expected = chain_rule_log_prob(probs, x)
        assert close(model.log_prob(x), expected), kind


@pytest.mark.parametrize("device", DEVICES)
def test_sampling_frequencies_match_the_enumerated_joint(device):
    model = models(device)["made"]
    joint = model.log_prob(ALL.to(device)).exp().detach().cpu()
    samples = model.sample(20000, generator=torch.Generator(device).manual_seed(3)).cpu()
    assert samples.shape == (20000, D) and samples.dtype == F64 and set(samples.unique().tolist()) <= {0.0, 1.0}
    codes = (samples * 2.0 ** torch.arange(D - 1, -1, -1, dtype=F64)).sum(1).long()  # ALL's row order
    counts = torch.bincount(codes, minlength=2**D).double()
    assert chisquare(counts.numpy(), (joint * 20000).numpy()).pvalue > 1e-3
    assert (counts / 20000 - joint).abs().max() < 0.015


def test_sampling_is_reproducible_with_a_generator():
    model = models()["fvsbn"]
    first = model.sample(50, generator=torch.Generator().manual_seed(4))
    assert torch.equal(first, model.sample(50, generator=torch.Generator().manual_seed(4)))
    assert not torch.equal(first, model.sample(50, generator=torch.Generator().manual_seed(5)))


# ---------------------------------------------------------------- the models' formulas
def test_fvsbn_is_a_strictly_lower_triangular_linear_layer():
    model = models()["fvsbn"]
    x = random(3, D, seed=6)
    expected = torch.empty(3, D, dtype=F64)
    for n in range(3):
        for i in range(D):
            expected[n, i] = model.bias[i] + sum(model.weight[i, j] * x[n, j] for j in range(i))
    assert close(model(x), expected)
    assert sum(p.numel() for p in FVSBN(64).parameters()) == 64 * 64 + 64  # the upper part is masked, not removed


def test_made_masks_follow_their_definition():
    into_hidden, into_output = made_masks(5, 9)
    degrees = [1 + k % 4 for k in range(9)]
    for k in range(9):
        for j in range(5):
            assert into_hidden[k, j] == float(degrees[k] >= j + 1)
            assert into_output[j, k] == float(j + 1 > degrees[k])
    paths = into_output @ into_hidden  # paths from input j to output i through the hidden layer
    assert (paths.triu() == 0).all() and (paths.tril(-1)[1:, :-1].diagonal() > 0).all()


def test_made_forward_against_its_formula():
    model = models()["made"]
    x = random(3, D, seed=7)
    m_in, m_out = made_masks(D, 7)
    h = torch.relu(x @ (model.hidden_layer.weight * m_in.to(F64)).T + model.hidden_layer.bias)
    expected = (h @ (model.output_layer.weight * m_out.to(F64)).T + model.output_layer.bias
                + x @ (model.direct_layer.weight * torch.ones(D, D, dtype=F64).tril(-1)).T)
    assert close(model(x), expected)


# ---------------------------------------------------------------- training
@pytest.mark.parametrize("device", DEVICES)
def test_training_reaches_the_entropy_of_a_known_distribution(device):
    """x_1 ~ Bernoulli(0.3), x_2 = x_1, x_3 = 1 - x_1: H = -0.3 log 0.3 - 0.7 log 0.7 nats; the independent
    baseline would pay 3 H."""
    g = torch.Generator().manual_seed(8)
    first = (torch.rand(600, generator=g) < 0.3).float()
    x = torch.stack([first, first, 1 - first], 1)
    torch.manual_seed(9)
    model = FVSBN(3)
    history = train_autoregressive(model, x, epochs=60, lr=0.1, batch_size=100, seed=10, device=device,
                                   progress=False)
    assert next(model.parameters()).device.type == "cpu"
    p = first.mean().item()
    entropy = -p * math.log(p) - (1 - p) * math.log(1 - p)  # the empirical distribution's
    assert history[0] > history[-1] and len(history) == 60
    nll = -model.log_prob(x).mean().item()
    assert entropy < nll < entropy + 0.02
    again = [train_autoregressive(_fresh(9, 3), x, epochs=2, lr=0.1, batch_size=100, seed=10, device=device,
                                  progress=False) for _ in range(2)]
    assert again[0] == again[1] == history[:2]


def _fresh(seed, d):
    torch.manual_seed(seed)
    return FVSBN(d)


def test_train_autoregressive_errors():
    with pytest.raises(ValueError, match=r"\(N, D\) tensor of 0.0 / 1.0"):
        train_autoregressive(FVSBN(3), torch.rand(5, 3), epochs=1)
    with pytest.raises(ValueError, match="epochs must be at least 1"):
        train_autoregressive(FVSBN(3), torch.ones(5, 3), epochs=0)


def test_model_errors():
    with pytest.raises(ValueError, match=r"\(N, 4\) binary vectors.*reshape"):
        FVSBN(4)(torch.zeros(2, 2, 2))
    with pytest.raises(ValueError, match="n_features must be at least 2"):
        MADE(1)
    with pytest.raises(TypeError, match="hidden must be a whole number"):
        MADE(4, hidden=2.0)
    assert isinstance(MADE(4), nn.Module)
