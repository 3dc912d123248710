"""A restricted Boltzmann machine with binary units, and ``BernoulliRBM``, ``sklearn.neural_network.BernoulliRBM``.

Visible units v in {0,1}^V, hidden units h in {0,1}^H, weights W (H, V) (sklearn's ``components_``), visible
biases b (V,) (``intercept_visible_``), hidden biases c (H,) (``intercept_hidden_``)::

    energy          E(v, h) = -b.v - c.h - h^T W v          p(v, h) = exp(-E(v, h)) / Z,   Z = sum_{v,h} exp(-E)
    free energy     F(v) = -log sum_h exp(-E(v, h)) = -b.v - sum_j softplus(c_j + W_j.v),   p(v) = exp(-F(v)) / Z
    conditionals    P(h_j = 1 | v) = sigmoid(c_j + W_j.v),   P(v_i = 1 | h) = sigmoid(b_i + h.W_:i)

No connections within a layer ("restricted"), so given one layer the units of the other are independent: a Gibbs
step samples all of h given v, then all of v given h. The log-likelihood gradient is a difference of two
correlations, the data's minus the model's::

    d log p(v) / dW = P(h = 1 | v) v^T  -  E_{p(v', h')}[h' v'^T]

The second term needs samples from the model. Contrastive divergence (CD-k, Hinton 2002: the textbook's, in
``contrastive_divergence_step``) starts a Gibbs chain AT THE DATA and runs it k steps. sklearn's BernoulliRBM
uses persistent CD (PCD, Tieleman 2008, "stochastic maximum likelihood"): one chain of ``batch_size`` particles,
``h_samples_``, kept from one update to the next and advanced one Gibbs step per mini-batch, so it can wander far
from the data and visit the model's spurious modes. ``BernoulliRBM`` follows sklearn exactly, random numbers
included: it draws them from a numpy ``RandomState`` in sklearn's order, so the same ``random_state`` gives the
same trajectory (``components_``, intercepts, ``h_samples_``) as sklearn's. Its ``score_samples`` is sklearn's
pseudo-likelihood, V log sigmoid(F(v~) - F(v)) with v~ = v with one random bit flipped (a stochastic estimate of
sum_i log P(v_i | v_-i)). For a tiny RBM (V <= 16) ``exact_log_partition`` enumerates all 2^V visible vectors
(the hiddens are summed in closed form by F), which gives exact log-likelihoods (``log_probability``).
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
import torch

from helpers._checks import whole_number

__all__ = [
    "BernoulliRBM",
    "binary_vectors",
    "contrastive_divergence_step",
    "energy",
    "exact_log_partition",
    "free_energy",
    "gibbs_step",
    "hidden_probabilities",
    "log_probability",
    "sample_bernoulli",
    "visible_probabilities",
]

MAX_ENUMERATED_VISIBLE = 16  # 2^16 = 65536 visible vectors


def energy(v: torch.Tensor, h: torch.Tensor, W: torch.Tensor, b: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """E(v, h) = -b.v - c.h - h^T W v: v (..., V), h (..., H), W (H, V), b (V,), c (H,) -> (...)."""
    return -(v * b).sum(-1) - (h * c).sum(-1) - ((h @ W) * v).sum(-1)


def free_energy(v: torch.Tensor, W: torch.Tensor, b: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """F(v) = -b.v - sum_j log(1 + exp(c_j + W_j.v)): v (..., V) -> (...). sklearn's ``_free_energy``.

    softplus by ``torch.logaddexp(0, .)``, exact for large arguments (F.softplus switches to x above 20).
    """
    return -(v * b).sum(-1) - torch.logaddexp(torch.zeros((), dtype=v.dtype, device=v.device), v @ W.T + c).sum(-1)


def hidden_probabilities(v: torch.Tensor, W: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """P(h = 1 | v) = sigmoid(v W^T + c): v (..., V) -> (..., H). sklearn's ``transform``."""
    return torch.sigmoid(v @ W.T + c)


def visible_probabilities(h: torch.Tensor, W: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """P(v = 1 | h) = sigmoid(h W + b): h (..., H) -> (..., V)."""
    return torch.sigmoid(h @ W + b)


def sample_bernoulli(p: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Independent Bernoulli(p) draws, 1.0 where u < p for u ~ U[0, 1) from ``generator``: same shape and dtype."""
    u = torch.rand(p.shape, generator=generator, dtype=p.dtype, device=p.device)
    return (u < p).to(p.dtype)


def gibbs_step(v: torch.Tensor, W: torch.Tensor, b: torch.Tensor, c: torch.Tensor,
               generator: torch.Generator | None = None) -> torch.Tensor:
    """One Gibbs step v -> h ~ P(h | v) -> v' ~ P(v | h), both sampled: v (..., V) -> v' (..., V)."""
    h = sample_bernoulli(hidden_probabilities(v, W, c), generator)
    return sample_bernoulli(visible_probabilities(h, W, b), generator)


def contrastive_divergence_step(v0: torch.Tensor, W: torch.Tensor, b: torch.Tensor, c: torch.Tensor, k: int = 1,
                                lr: float = 0.1, generator: torch.Generator | None = None
                                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One CD-k update on a batch v0 (N, V): returns NEW (W, b, c); the inputs are not modified.

    The chain starts at the data: h ~ P(h | v0), then k times v_k ~ P(v | h), h ~ P(h | v_k) (the last h is not
    drawn: its probabilities are used). With q0 = P(h = 1 | v0) and qk = P(h = 1 | v_k)::

        W += lr/N (q0^T v0 - qk^T v_k),   b += lr mean(v0 - v_k),   c += lr mean(q0 - qk)

    Random numbers are drawn in chain order (h0, v1, h1, ..., v_k) by ``sample_bernoulli``. Unlike sklearn's
    BernoulliRBM (persistent CD: its chain continues from the previous update's ``h_samples_``, not from v0),
    this is the non-persistent CD-k of Hinton (2002).
    """
    whole_number("k", k)
    if v0.ndim != 2 or v0.shape[1] != W.shape[1]:
        raise ValueError(f"contrastive_divergence_step: v0 must be a batch (N, V) with V = W.shape[1] = "
                         f"{W.shape[1]}, got shape {list(v0.shape)}; one sample is v0[None].")
    q0 = hidden_probabilities(v0, W, c)
    h = sample_bernoulli(q0, generator)
    for step in range(k):
        vk = sample_bernoulli(visible_probabilities(h, W, b), generator)
        qk = hidden_probabilities(vk, W, c)
        if step < k - 1:
            h = sample_bernoulli(qk, generator)
    n = v0.shape[0]
    return (W + lr / n * (q0.T @ v0 - qk.T @ vk), b + lr * (v0 - vk).mean(0), c + lr * (q0 - qk).mean(0))


def binary_vectors(n: int, dtype: torch.dtype = torch.float64, device: torch.device | str | None = None
                   ) -> torch.Tensor:
    """All 2^n vectors of {0,1}^n as rows, in binary counting order (the last bit changes fastest): (2^n, n)."""
    whole_number("n", n, at_least=0)
    bits = torch.arange(n - 1, -1, -1, device=device)
    return ((torch.arange(2**n, device=device)[:, None] >> bits) & 1).to(dtype)


def exact_log_partition(W: torch.Tensor, b: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """log Z = log sum_v exp(-F(v)), by enumerating the 2^V visible vectors (V <= 16): a scalar."""
    V = W.shape[1]
    if V > MAX_ENUMERATED_VISIBLE:
        raise ValueError(f"exact_log_partition enumerates all 2^V visible vectors: V = {V} is too many "
                         f"(at most {MAX_ENUMERATED_VISIBLE}). For larger RBMs estimate log Z (e.g. by annealed "
                         "importance sampling) or compare models by pseudo-likelihood.")
    return torch.logsumexp(-free_energy(binary_vectors(V, W.dtype, W.device), W, b, c), 0)


def log_probability(v: torch.Tensor, W: torch.Tensor, b: torch.Tensor, c: torch.Tensor,
                    log_partition: torch.Tensor | None = None) -> torch.Tensor:
    """log p(v) = -F(v) - log Z: v (..., V) -> (...). log Z is enumerated unless ``log_partition`` is given."""
    log_z = exact_log_partition(W, b, c) if log_partition is None else log_partition
    return -free_energy(v, W, b, c) - log_z


def check_random_state(seed: None | int | np.random.RandomState) -> np.random.RandomState:
    """sklearn's ``check_random_state``: None -> numpy's global RandomState, an int -> a new one, or the instance."""
    if seed is None:
        return np.random.mtrand._rand
    if isinstance(seed, Integral) and not isinstance(seed, bool):
        return np.random.RandomState(seed)
    if isinstance(seed, np.random.RandomState):
        return seed
    raise ValueError(f"random_state must be None, an int or a numpy RandomState (as in sklearn), got {seed!r}.")


class BernoulliRBM:
    """``sklearn.neural_network.BernoulliRBM`` on torch tensors: same constructor, attributes, methods, numbers.

    Attributes after ``fit``: ``components_`` W (n_components, n_features), ``intercept_hidden_`` c
    (n_components,), ``intercept_visible_`` b (n_features,), ``h_samples_`` (batch_size, n_components): the
    persistent chain's hidden states, and ``n_features_in_``. Trained by persistent contrastive divergence
    (see the module's docstring); random numbers come from a numpy RandomState as in sklearn, so a given int
    ``random_state`` reproduces sklearn's trajectory. ``fit`` keeps X's dtype (float32 or float64),
    ``partial_fit`` works in float64, as sklearn. One difference: ``gibbs`` returns 0/1 in v's dtype, not bool.
    """

    def __init__(self, n_components: int = 256, *, learning_rate: float = 0.1, batch_size: int = 10,
                 n_iter: int = 10, verbose: int = 0, random_state: None | int | np.random.RandomState = None):
        whole_number("n_components", n_components)
        whole_number("batch_size", batch_size)
        whole_number("n_iter", n_iter, at_least=0)
        if not learning_rate > 0:
            raise ValueError(f"learning_rate must be > 0, got {learning_rate!r}.")
        self.n_components, self.learning_rate, self.batch_size = n_components, learning_rate, batch_size
        self.n_iter, self.verbose, self.random_state = n_iter, verbose, random_state

    # --- checks and sampling ------------------------------------------------------------------------------------
    def _check_X(self, X: torch.Tensor, where: str, reset: bool = False) -> torch.Tensor:
        if not isinstance(X, torch.Tensor) or X.dtype not in (torch.float32, torch.float64) or X.ndim != 2:
            got = f"shape {list(X.shape)} {X.dtype}" if isinstance(X, torch.Tensor) else type(X).__name__
            raise TypeError(f"BernoulliRBM.{where}: X must be a 2-D float32 or float64 torch tensor (n_samples, "
                            f"n_features) of values in [0, 1], got {got}. Binary data: X.double().")
        if not reset:
            if not hasattr(self, "components_"):
                raise RuntimeError(f"This BernoulliRBM is not fitted yet: call .fit(X) before .{where}.")
            if X.shape[1] != self.n_features_in_:
                raise ValueError(f"BernoulliRBM.{where}: X has {X.shape[1]} features, but the RBM was fitted "
                                 f"with {self.n_features_in_}.")
        return X

    @staticmethod
    def _uniform(rng: np.random.RandomState, like: torch.Tensor) -> torch.Tensor:
        """U[0, 1) numbers of like's shape, float64 from numpy (compared in float64, as numpy does)."""
        return torch.from_numpy(rng.uniform(size=tuple(like.shape))).to(like.device)

    def _mean_hiddens(self, v: torch.Tensor) -> torch.Tensor:
        return hidden_probabilities(v, self.components_, self.intercept_hidden_)

    def _sample_hiddens(self, v: torch.Tensor, rng: np.random.RandomState) -> torch.Tensor:
        p = self._mean_hiddens(v)
        return (self._uniform(rng, p) < p).to(p.dtype)

    def _sample_visibles(self, h: torch.Tensor, rng: np.random.RandomState) -> torch.Tensor:
        p = visible_probabilities(h, self.components_, self.intercept_visible_)
        return (self._uniform(rng, p) < p).to(p.dtype)

    def _free_energy(self, v: torch.Tensor) -> torch.Tensor:
        return free_energy(v, self.components_, self.intercept_visible_, self.intercept_hidden_)

    # --- the public methods ---------------------------------------------------------------------------------------
    def transform(self, X: torch.Tensor) -> torch.Tensor:
        """P(h = 1 | v = X) = sigmoid(X W^T + c): (n_samples, n_features) -> (n_samples, n_components)."""
        return self._mean_hiddens(self._check_X(X, "transform"))

    def gibbs(self, v: torch.Tensor) -> torch.Tensor:
        """One Gibbs step v -> h -> v', both sampled, from ``random_state_``: (n_samples, n_features) -> same."""
        v = self._check_X(v, "gibbs")
        if not hasattr(self, "random_state_"):
            self.random_state_ = check_random_state(self.random_state)
        return self._sample_visibles(self._sample_hiddens(v, self.random_state_), self.random_state_)

    def _fit(self, v_pos: torch.Tensor, rng: np.random.RandomState) -> torch.Tensor:
        """One PCD update on a mini-batch: positive phase at the data, negative phase one step along the chain.
        Returns the chains' visible states of this negative phase (sklearn keeps only the hidden ones)."""
        h_pos = self._mean_hiddens(v_pos)
        v_neg = self._sample_visibles(self.h_samples_, rng)
        h_neg = self._mean_hiddens(v_neg)
        lr = float(self.learning_rate) / v_pos.shape[0]
        self.components_ = self.components_ + lr * (h_pos.T @ v_pos - h_neg.T @ v_neg)
        self.intercept_hidden_ = self.intercept_hidden_ + lr * (h_pos.sum(0) - h_neg.sum(0))
        self.intercept_visible_ = self.intercept_visible_ + lr * (v_pos.sum(0) - v_neg.sum(0))
        self.h_samples_ = (self._uniform(rng, h_neg) < h_neg).to(h_neg.dtype)
        return v_neg

    def _initialise(self, n_features: int, rng: np.random.RandomState, dtype: torch.dtype,
                    device: torch.device, scale: float = 0.01) -> None:
        weights = rng.normal(0, scale, (self.n_components, n_features))  # sklearn's scale is 0.01
        self.components_ = torch.from_numpy(weights).to(device=device, dtype=dtype)
        self.intercept_hidden_ = torch.zeros(self.n_components, dtype=dtype, device=device)
        self.intercept_visible_ = torch.zeros(n_features, dtype=dtype, device=device)
        self.h_samples_ = torch.zeros(self.batch_size, self.n_components, dtype=dtype, device=device)
        self.n_features_in_ = n_features

    def partial_fit(self, X: torch.Tensor, y: None = None) -> BernoulliRBM:
        """One PCD update on X as a single mini-batch (initialising on the first call), in float64."""
        first = not hasattr(self, "components_")
        X = self._check_X(X, "partial_fit", reset=first).to(torch.float64)
        if not hasattr(self, "random_state_"):
            self.random_state_ = check_random_state(self.random_state)
        if first:
            self._initialise(X.shape[1], self.random_state_, torch.float64, X.device)
        self._fit(X, self.random_state_)
        return self

    def fit(self, X: torch.Tensor, y: None = None) -> BernoulliRBM:
        """``n_iter`` passes over X in mini-batches of ``batch_size`` (in order; the last may be smaller)."""
        X = self._check_X(X, "fit", reset=True)
        rng = check_random_state(self.random_state)
        self._initialise(X.shape[1], rng, X.dtype, X.device)
        n = X.shape[0]
        for iteration in range(1, self.n_iter + 1):
            for start in range(0, n, self.batch_size):
                self._fit(X[start:start + self.batch_size], rng)
            if self.verbose:
                print(f"[BernoulliRBM] Iteration {iteration}, pseudo-likelihood = "
                      f"{self.score_samples(X).mean().item():.2f}")
        return self

    def fit_transform(self, X: torch.Tensor, y: None = None) -> torch.Tensor:
        return self.fit(X).transform(X)

    def score_samples(self, X: torch.Tensor) -> torch.Tensor:
        """sklearn's pseudo-likelihood of each (binary) row: n_features * log sigmoid(F(v~) - F(v)) -> (n_samples,).

        v~ is v with one bit, drawn at random per row from ``check_random_state(random_state)``, flipped: with an
        int random_state every call flips the same bits.
        """
        v = self._check_X(X, "score_samples")
        rng = check_random_state(self.random_state)
        rows, cols = torch.arange(v.shape[0]), torch.from_numpy(rng.randint(0, v.shape[1], v.shape[0]))
        flipped = v.clone()
        flipped[rows, cols] = 1 - flipped[rows, cols]
        gap = self._free_energy(flipped) - self._free_energy(v)
        return -v.shape[1] * torch.logaddexp(torch.zeros((), dtype=gap.dtype, device=gap.device), -gap)

    def __repr__(self) -> str:
        return (f"BernoulliRBM(n_components={self.n_components}, learning_rate={self.learning_rate}, "
                f"batch_size={self.batch_size}, n_iter={self.n_iter}, random_state={self.random_state!r})")
