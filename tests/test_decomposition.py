"""helpers.decomposition against sklearn.decomposition.PCA(svd_solver="full") and scipy.linalg.subspace_angles.

PCA: every attribute, transform, inverse_transform and fit_transform on random data (tall and wide) and on
sklearn's bundled digits, float64 at 1e-10, components_ with sklearn's signs; float n_components against sklearn
and against its definition written here; the reconstruction error against Eckart-Young's sum of the discarded
s_i^2 (numpy's singular values); components with zero variance (whose directions any SVD may choose) checked by
what defines them; errors. subspace_angles: random subspaces of every shape, rank-deficient bases, identical
(0) and orthogonal (pi/2) subspaces, an angle of 1e-8, where arccos of the cosine gives 0, and a mix of a small and
a large angle, where scipy 1.17 loses the small one (compared there with the angles built into the data)."""

import math

import numpy as np
import pytest
import scipy.linalg
import torch
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA as SkPCA
from tensors import DEVICES, F64, TOL, random

from helpers.decomposition import PCA, NotFittedError, subspace_angles

ATTRIBUTES = ["mean_", "components_", "explained_variance_", "explained_variance_ratio_", "singular_values_",
              "noise_variance_"]


def as_torch(a, like):
    return torch.as_tensor(np.asarray(a), dtype=like.dtype).to(like.device)


def same(ours, theirs):
    theirs = as_torch(theirs, ours)
    return ours.shape == theirs.shape and torch.allclose(ours, theirs, **TOL)


def digits():
    return torch.as_tensor(load_digits().data / 16.0, dtype=F64)


def fit_both(X, n_components):
    return PCA(n_components).fit(X), SkPCA(n_components, svd_solver="full").fit(X.cpu().numpy())


def assert_matches(ours, theirs, X, X_new, compare_transforms=True):
    for name in ATTRIBUTES:
        assert same(getattr(ours, name), getattr(theirs, name)), name
    assert (ours.n_components_, ours.n_samples_, ours.n_features_in_) == \
        (theirs.n_components_, theirs.n_samples_, theirs.n_features_in_)
    assert same(ours.transform(X), theirs.transform(X.cpu().numpy()))
    if compare_transforms:
        assert same(ours.transform(X_new), theirs.transform(X_new.cpu().numpy()))
        Z = random(5, ours.n_components_, seed=9, device=X.device)
        assert same(ours.inverse_transform(Z), theirs.inverse_transform(Z.cpu().numpy()))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("n_components", [None, 1, 3, 8, 0.5, 0.9, 0.999])
def test_pca_matches_sklearn_on_random_data(device, n_components):
    scale = torch.linspace(3.0, 0.1, 8, dtype=F64, device=device)  # distinct variances along the features
    X = random(50, 8, seed=1, device=device) @ random(8, 8, seed=2, device=device) * scale + 5.0
    ours, theirs = fit_both(X, n_components)
    assert_matches(ours, theirs, X, random(7, 8, seed=3, device=device) * 2)
    fitted = PCA(n_components).fit_transform(X)
    assert same(fitted, SkPCA(n_components, svd_solver="full").fit_transform(X.cpu().numpy()))
    assert all(t.device == X.device and t.dtype == F64 for t in (ours.components_, ours.mean_, fitted))


def test_pca_matches_sklearn_on_digits():
    X = digits()
    for n_components in (2, 10, 0.9):
        ours, theirs = fit_both(X, n_components)
        assert_matches(ours, theirs, X, X[:20] * 0.5 + 0.1)
        assert same(PCA(n_components).fit_transform(X), SkPCA(n_components, svd_solver="full").fit_transform(X))
    assert PCA(0.9).fit(X).n_components_ == 21


def test_pca_all_components_of_digits_and_the_three_constant_pixels():
    # pixels 0, 32 and 39 are 0 in every image: three zero singular values, whose singular vectors any basis of
    # span(e_0, e_32, e_39) may be. The other 61 components equal sklearn's; those three span the same space.
    X = digits()
    ours, theirs = fit_both(X, None)
    constant = torch.nonzero(X.std(dim=0) == 0).ravel().tolist()
    assert constant == [0, 32, 39] and ours.n_components_ == 64
    kept, null = ours.components_[:61], ours.components_[61:]
    assert same(kept, theirs.components_[:61])
    for name in ATTRIBUTES[2:]:
        assert torch.allclose(getattr(ours, name), as_torch(getattr(theirs, name), ours.mean_), atol=1e-10), name
    assert ours.singular_values_[61:].abs().max() < 1e-10
    pixels = torch.eye(64, dtype=F64)[:, constant]
    assert torch.allclose(null @ null.T, torch.eye(3, dtype=F64), **TOL)
    assert scipy.linalg.subspace_angles(null.T.numpy(), pixels.numpy()).max() < 1e-10
    assert same(ours.transform(X), theirs.transform(X.numpy()))  # the three null codes are 0 in both


def test_pca_wide_data():
    # n = 6 < p = 10: centred, the data has rank 5, so 5 components are defined; a 6th, with variance 0, is any
    # unit vector orthogonal to the data and to the other five
    X = random(6, 10, seed=4)
    ours, theirs = fit_both(X, 5)
    assert_matches(ours, theirs, X, random(3, 10, seed=5))
    ours, theirs = fit_both(X, None)
    assert ours.n_components_ == theirs.n_components_ == 6
    assert same(ours.components_[:5], theirs.components_[:5])
    assert ours.explained_variance_[5] < 1e-25
    assert same(ours.explained_variance_ratio_, theirs.explained_variance_ratio_)
    assert ours.noise_variance_ == 0 and same(ours.noise_variance_, theirs.noise_variance_)
    last = ours.components_[5]
    assert torch.allclose(ours.components_ @ last, torch.eye(6, dtype=F64)[5], **TOL)
    assert ((X - X.mean(dim=0)) @ last).abs().max() < 1e-12
    assert same(ours.transform(X), theirs.transform(X.numpy()))


def test_float_n_components_keeps_the_smallest_k_whose_share_exceeds_it():
    X = random(40, 6, seed=6) * torch.tensor([5.0, 4.0, 3.0, 2.0, 1.0, 0.5], dtype=F64)
    ratio = np.linalg.svd(X.numpy() - X.numpy().mean(0), compute_uv=False) ** 2
    cumulative = np.cumsum(ratio / ratio.sum())
    for q in np.linspace(0.01, 0.99, 23):
        k = PCA(float(q)).fit(X).n_components_
        assert k == SkPCA(float(q), svd_solver="full").fit(X.numpy()).n_components_
        assert cumulative[k - 1] > q and (k == 1 or cumulative[k - 2] <= q)


def test_reconstruction_error_is_the_discarded_variance():
    # Eckart-Young: ||X_c - X_hat_c||_F^2 = sum_{i > k} s_i^2, and no other k-dimensional projection does better
    X = digits()
    s = np.linalg.svd(X.numpy() - X.numpy().mean(0), compute_uv=False)
    for k in (1, 2, 5, 20):
        pca = PCA(k).fit(X)
        error = ((X - pca.inverse_transform(pca.transform(X))) ** 2).sum()
        assert math.isclose(error.item(), (s[k:] ** 2).sum(), rel_tol=1e-10)
        Q = torch.linalg.qr(pca.components_.T + 0.05 * random(64, k, seed=k))[0]  # a nearby subspace
        Xc = X - pca.mean_
        assert ((Xc - Xc @ Q @ Q.T) ** 2).sum() > error
    k = 2
    assert math.isclose(PCA(k).fit(X).noise_variance_.item(), (s[k:] ** 2 / (len(X) - 1)).mean(), rel_tol=1e-10)


def test_float32_stays_float32():
    X = random(30, 5, seed=7, dtype=torch.float32)
    pca = PCA(2).fit(X)
    assert pca.components_.dtype == pca.transform(X).dtype == torch.float32
    theirs = SkPCA(2, svd_solver="full").fit(X.numpy())
    assert torch.allclose(pca.components_, torch.as_tensor(theirs.components_), atol=1e-5)


def test_pca_errors():
    X = random(10, 4, seed=8)
    with pytest.raises(NotFittedError, match="call .fit"):
        PCA(2).transform(X)
    assert issubclass(NotFittedError, ValueError)
    with pytest.raises(ValueError, match="fit"):
        PCA(2).inverse_transform(X[:, :2])
    pca = PCA(2).fit(X)
    with pytest.raises(ValueError, match="3 features, but this PCA was fitted with 4"):
        pca.transform(X[:, :3])
    with pytest.raises(ValueError, match="3 columns, but this PCA keeps 2"):
        pca.inverse_transform(X[:, :3])
    for bad in (0, 5, -1):
        with pytest.raises(ValueError, match="between 1 and min"):
            PCA(bad).fit(X)
    for bad in (1.0, 0.0, 1.5, -0.2):
        with pytest.raises(ValueError, match="strictly"):
            PCA(bad).fit(X)
    for bad in ("mle", True, [2]):
        with pytest.raises(ValueError, match="None, an int or a float"):
            PCA(bad).fit(X)
    with pytest.raises(ValueError, match="at least 2 samples"):
        PCA().fit(X[:1])
    with pytest.raises(ValueError, match="2D"):
        PCA().fit(X[0])
    with pytest.raises(ValueError, match="NaN"):
        PCA().fit(torch.full((3, 2), math.nan, dtype=F64))
    with pytest.raises(TypeError, match="floating-point"):
        PCA().fit(X.numpy())
    assert repr(PCA(0.9)) == "PCA(n_components=0.9)" and PCA(3).get_params() == {"n_components": 3}


# ------------------------------------------------------------------------------------------- subspace angles
def scipy_angles(A, B):
    return scipy.linalg.subspace_angles(A.cpu().numpy(), B.cpu().numpy())


def where_scipy_chooses_as_we_do(A, B):
    """Per angle (largest first), whether scipy takes the same formula as we do: its mask comes from the cosines
    in descending order, ours from the cosines in the angles' order (ascending)."""
    QA, QB = scipy.linalg.orth(A.cpu().numpy()), scipy.linalg.orth(B.cpu().numpy())
    mask = scipy.linalg.svdvals(QA.T @ QB) ** 2 >= 0.5
    return torch.as_tensor(mask == mask[::-1])


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("shapes", [(6, 3, 2), (6, 2, 3), (5, 4, 4), (20, 1, 5), (9, 9, 1), (3, 3, 3), (8, 4, 3)])
def test_subspace_angles_match_scipy(device, shapes):
    # where scipy takes the other formula, the two agree at 1e-10 unless the angle is near 0 or pi/2, where
    # arccos or arcsin is ill-conditioned (an error of up to sqrt(2 eps) = 2e-8 in scipy's answer)
    n, a, b = shapes
    for seed in range(3):
        A, B = random(n, a, seed=seed, device=device), random(n, b, seed=seed + 10, device=device)
        ours, theirs = subspace_angles(A, B), as_torch(scipy_angles(A, B), A)
        assert ours.device == A.device and ours.shape == theirs.shape and torch.all(ours[:-1] >= ours[1:])
        exact = where_scipy_chooses_as_we_do(A, B).to(A.device) | ((ours > 1e-4) & (ours < math.pi / 2 - 1e-4))
        assert torch.allclose(ours[exact], theirs[exact], **TOL)
        assert torch.allclose(ours, theirs, rtol=0, atol=5e-8)


def test_shared_directions_give_zero_angles():
    # two 4-dimensional subspaces of R^5 share at least 3 directions: three angles of 0 (to rounding), found by
    # the sine formula; scipy reads one of them by arccos and can return about 2e-8 instead
    A, B = random(5, 4, seed=0), random(5, 4, seed=10)
    ours, theirs = subspace_angles(A, B), scipy_angles(A, B)
    assert ours[1:].abs().max() < 1e-14 and math.isclose(ours[0].item(), theirs[0], rel_tol=1e-10)


def test_rank_deficient_bases_match_scipy():
    A = random(7, 3, seed=1)
    A = torch.cat([A, A[:, :1] + 2 * A[:, 1:2]], dim=1)  # 4 columns, rank 3
    B = random(7, 4, seed=2)
    assert len(subspace_angles(A, B)) == 3 and same(subspace_angles(A, B), scipy_angles(A, B))


def test_identical_and_orthogonal_subspaces():
    A = random(8, 3, seed=3)
    same_span = A @ random(3, 3, seed=4)  # another basis of the same subspace
    assert subspace_angles(A, same_span).abs().max() < 1e-14
    Q = torch.linalg.qr(random(8, 8, seed=5))[0]
    right = subspace_angles(Q[:, :3], Q[:, 3:5] @ random(2, 2, seed=6))
    assert torch.allclose(right, torch.full((2,), math.pi / 2, dtype=F64), **TOL)
    H = torch.tensor(scipy.linalg.hadamard(4), dtype=F64)  # scipy's own example: 90 and 90 degrees
    assert torch.allclose(torch.rad2deg(subspace_angles(H[:, :2], H[:, 2:])), torch.tensor([90.0, 90.0], dtype=F64))


def test_a_tiny_angle_survives():
    # B tilts A's second axis by t = 1e-8 towards e_3: angles (t, 0). cos(1e-8) rounds to exactly 1 in float64,
    # so arccos of the cosine says 0; the sine formula gets t to full relative accuracy.
    t = 1e-8
    e = torch.eye(5, dtype=F64)
    A = torch.stack([e[0], e[1]], dim=1) @ random(2, 2, seed=7)
    B = torch.stack([e[0], math.cos(t) * e[1] + math.sin(t) * e[2]], dim=1)
    assert math.acos(math.cos(t)) == 0.0
    angles = subspace_angles(A, B)
    assert math.isclose(angles[0].item(), t, rel_tol=1e-6) and angles[1].abs() < 1e-15
    assert same(angles, scipy_angles(A, B))


@pytest.mark.parametrize("small", [1e-6, 1e-8])
def test_one_small_and_one_large_angle(small):
    # angles (1.5, small) by construction. scipy 1.17 takes arccos for the small one (its formula choice is read
    # in the wrong order) and loses it: 0.0 for 1e-8. Each angle here gets the formula its own cosine calls for.
    e = torch.eye(4, dtype=F64)
    A = torch.stack([e[0], e[1]], dim=1) @ random(2, 2, seed=8)
    B = torch.stack([math.cos(small) * e[0] + math.sin(small) * e[2], math.cos(1.5) * e[1] + math.sin(1.5) * e[3]],
                    dim=1)
    ours = subspace_angles(A, B)
    assert torch.allclose(ours, torch.tensor([1.5, small], dtype=F64), rtol=1e-7, atol=0)
    assert torch.allclose(ours, as_torch(scipy_angles(A, B), ours), rtol=0, atol=5e-8)


def test_subspace_angles_errors():
    with pytest.raises(ValueError, match="same number of rows"):
        subspace_angles(random(4, 2), random(5, 2))
    with pytest.raises(ValueError, match="2D"):
        subspace_angles(random(4), random(4, 2))
    with pytest.raises(TypeError, match="floating-point"):
        subspace_angles(torch.ones(4, 2, dtype=torch.int64), random(4, 2))
