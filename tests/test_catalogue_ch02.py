"""The chapter 2 references against independent oracles: scipy.stats' log-densities and fits, torch's and scipy's
log-sum-exp, log-softmax and cross-entropies (computed in float64), autograd, and the exact values of the cases
with logits of +-1000. The derivations (02.gaussian_nll_constants, 02.generative_logit) and
02.nll_vs_mse are checked in tests/test_mle.py."""

import math

import numpy as np
import pytest
import scipy.special
import scipy.stats
import torch
import torch.nn.functional as F
from catalogue_support import label

from helpers.exercises.catalogue import ch02

F64 = torch.float64


def assert_close_in_float64(ours: torch.Tensor, expected, dtype: torch.dtype):
    """ours (computed in ``dtype``) agrees with a float64 oracle: tightly in float64, to float32's rounding else."""
    assert ours.dtype == dtype
    rtol, atol = (1e-12, 1e-12) if dtype == F64 else (1e-5, 1e-5)
    torch.testing.assert_close(ours.double(), torch.as_tensor(expected, dtype=F64), rtol=rtol, atol=atol)


@pytest.mark.parametrize("case", ch02.BERNOULLI_LL.cases(), ids=label)
def test_bernoulli_log_likelihood_matches_scipy(case):
    theta, x = case.args
    expected = [scipy.stats.bernoulli.logpmf(x.double().numpy(), t).sum() for t in theta.double().tolist()]
    assert_close_in_float64(ch02.BERNOULLI_LL.reference(*case.args), expected, x.dtype)


@pytest.mark.parametrize("case", ch02.GAUSSIAN_MLE.cases(), ids=label)
def test_gaussian_mle_matches_scipy_norm_fit(case):
    (x,) = case.args
    mu_hat, sigma_hat = ch02.GAUSSIAN_MLE.reference(x)
    flat = x.double().reshape(-1, x.shape[-1]).numpy()
    fits = np.array([scipy.stats.norm.fit(row) for row in flat]).reshape(*x.shape[:-1], 2)  # the MLE (mu, sigma)
    assert_close_in_float64(mu_hat, fits[..., 0], x.dtype)
    assert_close_in_float64(sigma_hat, fits[..., 1], x.dtype)


@pytest.mark.parametrize("case", ch02.BCE.cases(), ids=label)
def test_binary_cross_entropy_matches_torch(case):
    logits, target = case.args
    expected = F.binary_cross_entropy_with_logits(logits.double(), target.double())
    assert_close_in_float64(ch02.BCE.reference(*case.args), expected, logits.dtype)


def test_sigmoid_mse_gradient_matches_autograd():
    z = torch.tensor(ch02.SATURATION_LOGIT, dtype=F64, requires_grad=True)
    (0.5 * (torch.sigmoid(z) - 1.0) ** 2).backward()
    assert ch02.SIGMOID_MSE_GRADIENT.reference() == pytest.approx(z.grad.item(), rel=1e-12)


@pytest.mark.parametrize("case", ch02.LOGSUMEXP.cases(), ids=label)
def test_logsumexp_matches_torch_and_scipy(case):
    (x,) = case.args
    ours = ch02.LOGSUMEXP.reference(x)
    assert_close_in_float64(ours, torch.logsumexp(x.double(), -1), x.dtype)
    assert_close_in_float64(ours, scipy.special.logsumexp(x.double().numpy(), axis=-1), x.dtype)


@pytest.mark.parametrize("case", ch02.LOG_SOFTMAX.cases(), ids=label)
def test_log_softmax_matches_torch_and_scipy(case):
    (x,) = case.args
    ours = ch02.LOG_SOFTMAX.reference(x)
    assert_close_in_float64(ours, F.log_softmax(x.double(), -1), x.dtype)
    assert_close_in_float64(ours, scipy.special.log_softmax(x.double().numpy(), axis=-1), x.dtype)


@pytest.mark.parametrize("case", ch02.CROSS_ENTROPY.cases(), ids=label)
def test_cross_entropy_matches_torch(case):
    logits, target = case.args
    assert_close_in_float64(ch02.CROSS_ENTROPY.reference(*case.args), F.cross_entropy(logits.double(), target),
                            logits.dtype)


def test_the_stable_references_stay_finite_where_the_naive_formulas_do_not():
    """The cases with logits of +-1000: the references give the exact answers the cases' whys state."""
    huge = torch.tensor([[1000.0, 1000.0, 999.0], [-1000.0, -1001.0, -1002.0]], dtype=F64)
    expected = [1000 + math.log(2 + math.exp(-1)), -1000 + math.log(1 + math.exp(-1) + math.exp(-2))]
    torch.testing.assert_close(ch02.LOGSUMEXP.reference(huge), torch.tensor(expected, dtype=F64))
    rows = torch.tensor([[1000.0, 0.0, -1000.0], [-1000.0, -1000.0, -999.0]], dtype=F64)
    # row 1: logsumexp = 1000 + log(1 + e^-1000 + e^-2000), minus z[2] = -1000; row 2: -999 + log(1 + 2/e) + 1000
    losses = [2000 + math.log1p(math.exp(-1000) + math.exp(-2000)), 1 + math.log1p(2 / math.e)]
    assert ch02.CROSS_ENTROPY.reference(rows, torch.tensor([2, 0])).item() == pytest.approx(sum(losses) / 2, rel=1e-12)
