"""Statistics for the book: estimators, likelihoods and metrics, one module per idea.

    estimators   point estimators and how to judge them (bias, variance, standard error, MSE), Monte Carlo,
                 expectations, Bayes' rule on a grid, k-fold cross-validation indices (chapter 1)
    likelihood   Bernoulli and Gaussian log-likelihoods and their maximum-likelihood estimates (chapter 2)
    metrics      sklearn.metrics' twins (a package): confusion_matrix, accuracy_score, precision_recall_fscore_support,
                 precision_score, recall_score, f1_score (zero_division, UndefinedMetricWarning), precision_recall_curve
                 (chapter 11); roc_curve, roc_auc_score (chapter 9)
    model_selection  KFold, StratifiedKFold (sklearn's allocation), cross_val_score (chapter 11)
    distributions  Student's t: stdtr (CDF), stdtrit (quantile) and betainc, scipy.special's twins (chapter 11)
    hypothesis     t-tests and the z-test with scipy's / statsmodels' names; TestResult gives the p-value, critical
                   value, decision and confidence interval; the Nadeau-Bengio corrected test; power (chapter 11)

Every name is importable from ``helpers.stats`` directly: ``stats.unbiased_variance(x)``,
``stats.roc_auc_score(y_true, y_score)``.
"""

from helpers.stats.distributions import betainc, stdtr, stdtrit
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
from helpers.stats.hypothesis import (
    TestResult,
    corrected_ttest_rel,
    normal_power,
    ttest_1samp,
    ttest_1samp_from_stats,
    ttest_ind,
    ttest_power,
    ttest_rel,
    ztest,
)
from helpers.stats.likelihood import bernoulli_log_likelihood, bernoulli_mle, gaussian_log_likelihood, gaussian_mle
from helpers.stats.metrics import (
    UndefinedMetricWarning,
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_curve,
    precision_recall_fscore_support,
    precision_score,
    recall_score,
    roc_auc_score,
    roc_curve,
)
from helpers.stats.model_selection import KFold, StratifiedKFold, cross_val_score

__all__ = [
    "EstimatorReport",
    "KFold",
    "StratifiedKFold",
    "TestResult",
    "UndefinedMetricWarning",
    "accuracy_score",
    "bayes_posterior",
    "bernoulli_log_likelihood",
    "bernoulli_mle",
    "betainc",
    "bias_variance_mse",
    "biased_variance",
    "confusion_matrix",
    "corrected_ttest_rel",
    "cross_val_score",
    "expectation",
    "f1_score",
    "gaussian_draw",
    "gaussian_log_likelihood",
    "gaussian_mle",
    "kfold_indices",
    "monte_carlo",
    "normal_power",
    "precision_recall_curve",
    "precision_recall_fscore_support",
    "precision_score",
    "recall_score",
    "roc_auc_score",
    "roc_curve",
    "sample_mean",
    "standard_error_of_mean",
    "stdtr",
    "stdtrit",
    "ttest_1samp",
    "ttest_1samp_from_stats",
    "ttest_ind",
    "ttest_power",
    "ttest_rel",
    "unbiased_variance",
    "ztest",
]
