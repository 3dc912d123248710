"""Statistics for the book: estimators, likelihoods and metrics, one module per idea.

    estimators   point estimators and how to judge them (bias, variance, standard error, MSE), Monte Carlo,
                 expectations, Bayes' rule on a grid, k-fold cross-validation indices (chapter 1)
    likelihood   Bernoulli and Gaussian log-likelihoods and their maximum-likelihood estimates (chapter 2)
    metrics      roc_curve and roc_auc_score, sklearn.metrics' twins (chapter 9's anomaly detection)

Every name is importable from ``helpers.stats`` directly: ``stats.unbiased_variance(x)``,
``stats.roc_auc_score(y_true, y_score)``.
"""

from helpers.stats.estimators import (
    EstimatorReport,
    bayes_posterior,
    bias_variance_mse,
    biased_variance,
    expectation,
    gaussian_draw,
    kfold_indices,
    monte_carlo,
    sample_mean,
    standard_error_of_mean,
    unbiased_variance,
)
from helpers.stats.likelihood import bernoulli_log_likelihood, bernoulli_mle, gaussian_log_likelihood, gaussian_mle
from helpers.stats.metrics import roc_auc_score, roc_curve

__all__ = [
    "EstimatorReport",
    "bayes_posterior",
    "bernoulli_log_likelihood",
    "bernoulli_mle",
    "bias_variance_mse",
    "biased_variance",
    "expectation",
    "gaussian_draw",
    "gaussian_log_likelihood",
    "gaussian_mle",
    "kfold_indices",
    "monte_carlo",
    "roc_auc_score",
    "roc_curve",
    "sample_mean",
    "standard_error_of_mean",
    "unbiased_variance",
]
