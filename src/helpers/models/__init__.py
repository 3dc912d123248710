"""The small models the chapters train, one idea per module.

polynomial   least-squares polynomial regression (chapter 1)
mlp          the multilayer perceptron, its weight-space symmetries, count_parameters (chapter 3)
"""

from helpers.models.mlp import MLP, count_parameters, weight_space_symmetries
from helpers.models.polynomial import PolynomialRegression, mse, polynomial_features, select_polynomial_degree

__all__ = [
    "MLP",
    "PolynomialRegression",
    "count_parameters",
    "mse",
    "polynomial_features",
    "select_polynomial_degree",
    "weight_space_symmetries",
]
