"""Principal component analysis as ``sklearn.decomposition.PCA`` (the "full" solver), and principal angles between
subspaces as ``scipy.linalg.subspace_angles``, on torch tensors.

PCA. Centre the data, X_c = X - mean_ (X: (n, p), mean_: (p,)), and take the thin SVD X_c = U S V^T, with
U: (n, r), S = diag(s_1 >= ... >= s_r), V^T: (r, p), r = min(n, p). The rows of V^T are the principal axes,
orthonormal directions ordered by how much of the data's variance lies along each::

    components_ = W = first k rows of V^T                          (k, p)
    explained_variance_ = s_i^2 / (n - 1)                          the sample variance along axis i (1/(n-1))
    explained_variance_ratio_ = s_i^2 / sum_j s_j^2                its share of the total variance
    transform:          Z = (X - mean_) W^T                        (m, p) -> (m, k), the codes
    inverse_transform:  X_hat = Z W + mean_                        (m, k) -> (m, p), the reconstruction

On the training data Z = U_k S_k (which is what ``fit_transform`` returns). X_hat is the orthogonal projection
of X onto the k-dimensional affine subspace mean_ + span(W), and by the Eckart-Young theorem U_k S_k V_k^T is the
best rank-k approximation of X_c in squared error (Frobenius norm): no other rank-k matrix, hence no other
k-dimensional linear code and linear decoder, reconstructs the centred data better. The squared error left over
is sum_{i>k} s_i^2, and ``noise_variance_`` is the mean of the discarded variances (probabilistic PCA's sigma^2).

An SVD fixes each pair (u_i, v_i) only up to a joint sign. As sklearn >= 1.5 (``svd_flip(U, Vt,
u_based_decision=False)``), the sign is chosen so that the largest-|value| entry of each row of components_ is
positive (the first such entry on a tie), so components_ equal sklearn's, not just up to sign.

``n_components``: None keeps all r; an int k in [1, r]; a float q in (0, 1) keeps the smallest k whose
cumulative explained_variance_ratio_ exceeds q (strictly: sklearn's ``searchsorted(..., side="right") + 1``).
(sklearn also accepts 0 and "mle", and has whiten and other solvers; these are left out.) Using a PCA before
``fit`` raises ``NotFittedError``, a ValueError, as sklearn's.

Principal angles. For subspaces spanned by the columns of A: (n, a) and B: (n, b), with orthonormal bases Q_A,
Q_B, the cosines of the principal angles 0 <= theta_1 <= ... <= theta_min(a, b) <= pi/2 are the singular values
of Q_A^T Q_B. arccos loses accuracy for small angles (cos theta = 1 - theta^2/2: an angle of 1e-8 rad is lost
under rounding), so, as scipy, the angles are also computed from their sines, the singular values of the part of
Q_B outside span(Q_A), Q_B - Q_A (Q_A^T Q_B), and arcsin is used for the angles whose cosine is large
(cos^2 >= 1/2, theta <= 45 degrees). Identical subspaces give 0, orthogonal ones pi/2.

One deliberate difference from scipy (1.17): scipy picks the formula for the i-th angle (largest first) from the
i-th cosine in DESCENDING order, i.e. from the i-th smallest angle, so when small and large angles mix it can
take arccos for a small angle: for angles (1.5, 1e-8) scipy returns (1.5, 0.0). Here each angle's formula is
chosen from its own cosine, which gives (1.5, 1e-8); wherever scipy's choice is the same, so are the results.
"""

from __future__ import annotations

import numbers

import torch

__all__ = ["PCA", "NotFittedError", "subspace_angles"]


class NotFittedError(ValueError, AttributeError):
    """Raised when a PCA is used before ``fit``; a ValueError and an AttributeError, as sklearn's."""


def _check_matrix(X: torch.Tensor, where: str, name: str = "X") -> torch.Tensor:
    if not isinstance(X, torch.Tensor) or not X.is_floating_point():
        got = X.dtype if isinstance(X, torch.Tensor) else type(X).__name__
        raise TypeError(f"{where}: {name} must be a floating-point torch tensor, got {got}. "
                        f"Use torch.as_tensor({name}).double().")
    if X.ndim != 2 or X.numel() == 0:
        raise ValueError(f"{where}: expected a non-empty 2D tensor (n_samples, n_features), got shape "
                         f"{tuple(X.shape)}. Reshape your data: X.unsqueeze(0) for a single sample.")
    if not torch.isfinite(X).all():
        raise ValueError(f"{where}: {name} contains NaN or infinity: fill or drop those values first.")
    return X


def _flip_signs(U: torch.Tensor, Vt: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """sklearn's svd_flip(U, Vt, u_based_decision=False): the largest-|value| entry of each row of Vt positive.

    U: (n, r), Vt: (r, p) -> the same, with column i of U and row i of Vt multiplied by the same sign.
    """
    biggest = Vt.abs().argmax(dim=1)  # the first maximum on a tie, as numpy's argmax
    signs = torch.sign(Vt.gather(1, biggest[:, None]))[:, 0]
    return U * signs, Vt * signs[:, None]


class PCA:
    """Principal component analysis by the SVD of the centred data, as ``sklearn.decomposition.PCA``.

    X: (n_samples, n_features). After ``fit(X)``: mean_ (p,), components_ (k, p), explained_variance_ (k,),
    explained_variance_ratio_ (k,), singular_values_ (k,), noise_variance_ (a 0-d tensor), n_components_ = k,
    n_samples_, n_features_in_. The tensors have X's dtype and device. See the module's docstring.
    """

    def __init__(self, n_components: int | float | None = None) -> None:
        self.n_components = n_components

    def get_params(self, deep: bool = True) -> dict:
        return {"n_components": self.n_components}

    def __repr__(self) -> str:
        return f"PCA(n_components={self.n_components!r})"

    def _check_n_components(self, n_samples: int, n_features: int) -> int | float:
        k, r = self.n_components, min(n_samples, n_features)
        if k is None:
            return r
        if isinstance(k, bool) or not isinstance(k, numbers.Real):
            raise ValueError(f"PCA: n_components must be None, an int or a float in (0, 1), got {k!r}. "
                            "('mle' and the other solvers of sklearn are not implemented here.)")
        if isinstance(k, numbers.Integral):
            if not 1 <= k <= r:
                raise ValueError(f"PCA: n_components={k} must be between 1 and min(n_samples, n_features)={r}: "
                                 f"ask for fewer components, or give more samples.")
            return int(k)
        if not 0 < k < 1:
            raise ValueError(f"PCA: a float n_components={k} is a share of the variance and must lie strictly "
                             f"between 0 and 1; for a number of components pass an int, e.g. {round(k)}.")
        return float(k)

    def _check_fitted(self, where: str) -> None:
        if not hasattr(self, "components_"):
            raise NotFittedError(f"This PCA is not fitted yet: call .fit(X_train) before .{where}.")

    def _svd(self, X: torch.Tensor) -> torch.Tensor:
        """Fit on X and return U_k S_k, the training data's codes."""
        X = _check_matrix(X, "PCA.fit")
        n, p = X.shape
        if n < 2:
            raise ValueError(f"PCA.fit: needs at least 2 samples (the variance divides by n - 1), got {n}.")
        k = self._check_n_components(n, p)
        self.mean_ = X.mean(dim=0)
        U, S, Vt = torch.linalg.svd(X - self.mean_, full_matrices=False)  # X_c = U diag(S) Vt
        U, Vt = _flip_signs(U, Vt)
        variance = S**2 / (n - 1)
        ratio = variance / variance.sum()
        if isinstance(k, float):  # the smallest k whose cumulative share exceeds the float
            k = int(torch.searchsorted(ratio.cumsum(0), torch.tensor(k, dtype=ratio.dtype, device=ratio.device),
                                       right=True)) + 1
            k = min(k, len(S))  # a share of 1 - 1e-17 that rounding never reaches
        self.noise_variance_ = variance[k:].mean() if k < len(S) else torch.zeros((), dtype=S.dtype, device=S.device)
        self.n_samples_, self.n_features_in_, self.n_components_ = n, p, k
        self.components_ = Vt[:k].clone()
        self.explained_variance_, self.explained_variance_ratio_ = variance[:k].clone(), ratio[:k].clone()
        self.singular_values_ = S[:k].clone()
        return U[:, :k] * S[:k]

    def fit(self, X: torch.Tensor, y: object = None) -> PCA:
        """Learn mean_ and the principal axes from the training data X: (n, p)."""
        self._svd(X)
        return self

    def fit_transform(self, X: torch.Tensor, y: object = None) -> torch.Tensor:
        """fit(X), then the codes of X: U_k S_k, (n, p) -> (n, k); equals fit(X).transform(X) up to rounding."""
        return self._svd(X)

    def transform(self, X: torch.Tensor) -> torch.Tensor:
        """Z = (X - mean_) W^T, the coordinates along the principal axes: (m, p) -> (m, k)."""
        self._check_fitted("transform")
        X = _check_matrix(X, "PCA.transform")
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"PCA.transform: X has {X.shape[1]} features, but this PCA was fitted with "
                             f"{self.n_features_in_}: transform data with the training data's columns.")
        return (X - self.mean_) @ self.components_.T

    def inverse_transform(self, Z: torch.Tensor) -> torch.Tensor:
        """X_hat = Z W + mean_, back in the data space: (m, k) -> (m, p). Exact only if k = p (else a projection)."""
        self._check_fitted("inverse_transform")
        Z = _check_matrix(Z, "PCA.inverse_transform", "Z")
        if Z.shape[1] != self.n_components_:
            raise ValueError(f"PCA.inverse_transform: Z has {Z.shape[1]} columns, but this PCA keeps "
                             f"{self.n_components_} components: pass the output of .transform.")
        return Z @ self.components_ + self.mean_


def _orth(A: torch.Tensor) -> torch.Tensor:
    """An orthonormal basis of A's column space, as ``scipy.linalg.orth``: (n, a) -> (n, rank).

    The left singular vectors whose singular value exceeds s_max * eps * max(n, a) (the numerical rank).
    """
    U, S, _ = torch.linalg.svd(A, full_matrices=False)
    tol = S.max() * torch.finfo(S.dtype).eps * max(A.shape)
    return U[:, : int((tol < S).sum())]


def subspace_angles(A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
    """The principal angles (radians, largest first) between the column spaces of A and B.

    A: (n, a), B: (n, b) -> (min(rank A, rank B),), as ``scipy.linalg.subspace_angles`` (Knyazev and
    Argentati, 2002). With orthonormal bases Q_A, Q_B (``orth``: by SVD, so rank-deficient A or B are fine):

        sigma = singular values of Q_A^T Q_B (descending)           the cosines
        mu = singular values of Q_B - Q_A (Q_A^T Q_B)               the sines (Q_A and Q_B swapped if a < b)
        theta_i = arcsin(mu_i) if cos(theta_i)^2 >= 1/2 else arccos(cos(theta_i)),   largest angle first

    The sine formula keeps angles near 0 accurate (arccos(1 - theta^2/2) cannot see theta = 1e-8), the cosine
    formula those near pi/2. Unlike scipy, each angle's formula is chosen from its own cosine (see the module's
    docstring); where scipy makes the same choice, the results agree.
    """
    A, B = _check_matrix(A, "subspace_angles", "A"), _check_matrix(B, "subspace_angles", "B")
    if A.shape[0] != B.shape[0]:
        raise ValueError(f"subspace_angles: A and B must have the same number of rows (the dimension of the "
                         f"space), got {A.shape[0]} and {B.shape[0]}. Their columns span the subspaces.")
    QA, QB = _orth(A), _orth(B)
    cosines = QA.T @ QB
    sigma = torch.linalg.svdvals(cosines)
    outside = QB - QA @ cosines if QA.shape[1] >= QB.shape[1] else QA - QB @ cosines.T
    cos_theta = sigma.flip(0)  # ascending cosines: the angles' order, largest first
    by_cosine = torch.arccos(cos_theta.clamp(-1.0, 1.0))
    by_sine = torch.arcsin(torch.linalg.svdvals(outside).clamp(-1.0, 1.0))  # descending sines: the same order
    return torch.where(cos_theta**2 >= 0.5, by_sine, by_cosine)
