"""MLPClassifier: a small multilayer perceptron with sklearn's estimator interface, trained in torch (chapter 11).

The network maps x: (N, p) through hidden ReLU layers to K logits, one per class, and a softmax:

    h_0 = x,   h_l = relu(h_{l-1} W_l + b_l),   z = h_L W_out + b_out,   P(y = c | x) = softmax(z)_c

It is fitted by minimising sklearn's MLP objective, the mean cross-entropy plus an L2 penalty on the weights
(not the biases) whose strength alpha is divided by the number of examples:

    J(W) = -(1/N) sum_n log softmax(z_n)_{y_n}  +  (alpha / (2N)) sum_l ||W_l||_F^2

with full-batch Adam (sklearn's beta_1 = 0.9, beta_2 = 0.999, eps = 1e-8) for exactly max_iter epochs, one
step per epoch, from sklearn's Glorot-uniform initialisation U(-sqrt(6 / (fan_in + fan_out)), +...) drawn
from a torch.Generator seeded with random_state. The same data and random_state give the same model.

What it shares with sklearn.neural_network.MLPClassifier: the constructor names (hidden_layer_sizes,
alpha, learning_rate_init, max_iter, random_state), fit / predict / predict_proba / score / get_params /
set_params, classes_ (any integer labels, sorted), coefs_ / intercepts_ ((fan_in, fan_out) and (fan_out,)
per layer), loss_curve_, n_iter_. What differs: sklearn uses mini-batches of 200, stops early when the loss
stalls (tol, n_iter_no_change), and has one logistic output for two classes (here K = 2 softmax outputs),
so the fitted weights are not sklearn's. It is an honest sklearn estimator all the same: sklearn's clone and
cross_val_score accept it, and so does helpers.stats.cross_val_score. Computation in float32 on the CPU.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from helpers._checks import whole_number


def _as_tensor(data) -> torch.Tensor:
    return data if isinstance(data, torch.Tensor) else torch.as_tensor(np.asarray(data))


class MLPClassifier:
    """A ReLU MLP with a softmax output, fitted by full-batch Adam on cross-entropy + (alpha / 2N) ||W||^2.

    fit(X: (N, p), y: (N,) integer labels) -> self; predict_proba(X: (M, p)) -> (M, K) float32 rows summing
    to 1 (columns in the order of classes_); predict(X) -> (M,) int64 labels = classes_[argmax proba];
    score(X, y) -> accuracy as a float.
    """

    _estimator_type = "classifier"  # what sklearn < 1.6 reads; newer versions ask __sklearn_tags__

    def __init__(self, hidden_layer_sizes=(64,), *, alpha: float = 1e-4, learning_rate_init: float = 1e-3,
                 max_iter: int = 200, random_state: int | None = 0) -> None:
        # stored as given, checked in fit: sklearn's clone requires the constructor to change nothing
        self.hidden_layer_sizes = hidden_layer_sizes
        self.alpha = alpha
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.random_state = random_state

    # ------------------------------------------------------------ sklearn's estimator protocol
    def get_params(self, deep: bool = True) -> dict:
        """The constructor arguments, as sklearn's get_params."""
        return {"hidden_layer_sizes": self.hidden_layer_sizes, "alpha": self.alpha,
                "learning_rate_init": self.learning_rate_init, "max_iter": self.max_iter,
                "random_state": self.random_state}

    def set_params(self, **params) -> MLPClassifier:
        """Change constructor arguments (sklearn's set_params); the model must be fitted again."""
        for name, value in params.items():
            if name not in self.get_params():
                valid = list(self.get_params())
                raise ValueError(f"Invalid parameter {name!r} for MLPClassifier; the valid ones are {valid}.")
            setattr(self, name, value)
        return self

    def __sklearn_tags__(self):
        """sklearn >= 1.6 asks an estimator for its tags (is_classifier, cross_val_score's stratified folds).

        Only sklearn calls this, so sklearn is imported here, never when the helpers load.
        """
        from sklearn.utils import ClassifierTags, Tags, TargetTags

        return Tags(estimator_type="classifier", target_tags=TargetTags(required=True),
                    classifier_tags=ClassifierTags())

    def __repr__(self) -> str:
        return "MLPClassifier(" + ", ".join(f"{k}={v!r}" for k, v in self.get_params().items()) + ")"

    # ------------------------------------------------------------ fitting
    def _layer_sizes(self, n_features: int, n_classes: int) -> list[int]:
        hidden = self.hidden_layer_sizes
        hidden = [hidden] if isinstance(hidden, (int, np.integer)) else list(hidden)
        for size in hidden:
            whole_number("every hidden layer size", size)
        return [n_features, *map(int, hidden), n_classes]

    def _check_hyperparameters(self) -> None:
        if isinstance(self.alpha, bool) or not isinstance(self.alpha, (int, float)) or not self.alpha >= 0:
            raise ValueError(f"alpha is the L2 penalty strength and must be a number >= 0, got {self.alpha!r}.")
        lr = self.learning_rate_init
        if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not lr > 0:
            raise ValueError(f"learning_rate_init must be a number > 0 (Adam's step size), got {lr!r}.")
        whole_number("max_iter (the number of full-batch Adam steps)", self.max_iter)

    def fit(self, X, y) -> MLPClassifier:
        """Minimise J(W) by max_iter full-batch Adam steps. X: (N, p) numbers, y: (N,) integer labels -> self."""
        self._check_hyperparameters()
        X = self._check_X(X, fitted=False)
        y = _as_tensor(y)
        if y.ndim != 1 or len(y) != len(X):
            raise ValueError(f"y must be (n_samples,) = ({len(X)},) class labels, got shape {tuple(y.shape)}.")
        if y.is_floating_point() and not (y == y.round()).all():
            raise ValueError("y holds non-integer values: MLPClassifier needs class labels (for regression use a "
                             "regressor).")
        self.classes_, target = torch.unique(y.to(torch.int64), return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f"y holds one class only ({self.classes_.tolist()}): a classifier needs at least two.")
        self.n_features_in_ = X.shape[1]
        sizes = self._layer_sizes(X.shape[1], len(self.classes_))
        self.coefs_, self.intercepts_ = _glorot_uniform(sizes, self.random_state)
        params = self.coefs_ + self.intercepts_
        for p in params:
            p.requires_grad_(True)
        optimizer = torch.optim.Adam(params, lr=self.learning_rate_init, betas=(0.9, 0.999), eps=1e-8)
        penalty = self.alpha / (2 * len(X))
        self.loss_curve_ = []
        for _ in range(self.max_iter):
            optimizer.zero_grad(set_to_none=True)
            loss = F.cross_entropy(self._logits(X), target) + penalty * sum((w * w).sum() for w in self.coefs_)
            loss.backward()
            optimizer.step()
            self.loss_curve_.append(loss.item())
        for p in params:
            p.requires_grad_(False)
        self.loss_, self.n_iter_ = self.loss_curve_[-1], self.max_iter
        return self

    def _logits(self, X: torch.Tensor) -> torch.Tensor:
        """z = relu(... relu(X W_1 + b_1) ...) W_out + b_out. (N, p) -> (N, K)."""
        h = X
        for W, b in zip(self.coefs_[:-1], self.intercepts_[:-1]):
            h = torch.relu(torch.addmm(b, h, W))
        return torch.addmm(self.intercepts_[-1], h, self.coefs_[-1])

    # ------------------------------------------------------------ predicting
    def _check_X(self, X, fitted: bool = True) -> torch.Tensor:
        if fitted and not hasattr(self, "coefs_"):
            raise RuntimeError("This MLPClassifier is not fitted yet: call .fit(X, y) first.")
        X = _as_tensor(X)
        if X.ndim != 2:
            raise ValueError(f"X must be (n_samples, n_features), got shape {tuple(X.shape)}. Flatten images "
                             "first, e.g. X.flatten(1).")
        if fitted and X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} features, but MLPClassifier was fitted with {self.n_features_in_}.")
        return X.to(torch.float32)

    def predict_proba(self, X) -> torch.Tensor:
        """P(y = classes_[c] | x) = softmax(z)_c. X: (M, p) -> (M, K) float32."""
        with torch.no_grad():
            return torch.softmax(self._logits(self._check_X(X)), dim=1)

    def predict(self, X) -> torch.Tensor:
        """The most probable class: classes_[argmax_c z_c]. X: (M, p) -> (M,) int64."""
        X = self._check_X(X)
        with torch.no_grad():
            return self.classes_[self._logits(X).argmax(1)]

    def score(self, X, y) -> float:
        """Accuracy on (X, y): the fraction of examples whose predicted label equals y (sklearn's score)."""
        return float((self.predict(X) == _as_tensor(y).to(torch.int64)).double().mean())


def _glorot_uniform(sizes: list[int], random_state: int | None) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """sklearn's MLP initialisation: W_l (fan_in, fan_out), b_l (fan_out,) ~ U(-r, r), r = sqrt(6 / (fan_in + fan_out)).

    random_state None: a fresh, unpredictable seed (sklearn's None); an int: the same weights every time.
    """
    generator = torch.Generator()
    if random_state is None:
        generator.seed()
    else:
        generator.manual_seed(int(random_state))
    coefs, intercepts = [], []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        bound = math.sqrt(6.0 / (fan_in + fan_out))
        coefs.append((2 * torch.rand(fan_in, fan_out, generator=generator) - 1) * bound)
        intercepts.append((2 * torch.rand(fan_out, generator=generator) - 1) * bound)
    return coefs, intercepts
