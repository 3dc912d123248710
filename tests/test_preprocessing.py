"""helpers.preprocessing against sklearn.preprocessing: attributes, transform, inverse_transform and fit_transform,
constant and near-constant features, options, and errors."""

import numpy as np
import pytest
import torch
from sklearn import preprocessing as sk

from helpers import data
from helpers.preprocessing import MaxAbsScaler, MinMaxScaler, StandardScaler

F64 = torch.float64
TOL = {"rtol": 1e-12, "atol": 1e-12}


def table(n=40, seed=0):
    """Features of very different location and scale, one constant, one constant up to rounding, one negative."""
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 6, generator=g, dtype=F64) * torch.tensor([1.0, 100.0, 1e-3, 1.0, 1.0, 5.0], dtype=F64)
    X = X + torch.tensor([0.0, 1e4, -3.0, 0.0, 0.0, -50.0], dtype=F64)
    X[:, 3] = 7.0  # exactly constant
    X[:, 4] = 0.1 + torch.tensor([0.0, 1e-17] * (n // 2), dtype=F64)  # constant up to rounding
    return X


def close(ours, theirs):
    if theirs is None:
        return ours is None
    theirs = torch.as_tensor(np.array(theirs), dtype=F64)
    return ours.dtype == F64 and ours.shape == theirs.shape and torch.allclose(ours, theirs, **TOL)


SCALERS = {
    "StandardScaler": (StandardScaler, sk.StandardScaler, {}),
    "StandardScaler(with_mean=False)": (StandardScaler, sk.StandardScaler, {"with_mean": False}),
    "StandardScaler(with_std=False)": (StandardScaler, sk.StandardScaler, {"with_std": False}),
    "StandardScaler(neither)": (StandardScaler, sk.StandardScaler, {"with_mean": False, "with_std": False}),
    "MinMaxScaler": (MinMaxScaler, sk.MinMaxScaler, {}),
    "MinMaxScaler((-1, 3))": (MinMaxScaler, sk.MinMaxScaler, {"feature_range": (-1, 3)}),
    "MinMaxScaler(clip)": (MinMaxScaler, sk.MinMaxScaler, {"feature_range": (-2, 2), "clip": True}),
    "MaxAbsScaler": (MaxAbsScaler, sk.MaxAbsScaler, {}),
    "MaxAbsScaler(clip)": (MaxAbsScaler, sk.MaxAbsScaler, {"clip": True}),
}
ATTRIBUTES = ["mean_", "var_", "scale_", "data_min_", "data_max_", "data_range_", "min_", "max_abs_"]


@pytest.mark.parametrize("name", SCALERS)
def test_scalers_match_sklearn(name):
    ours_cls, theirs_cls, kwargs = SCALERS[name]
    X, X_new = table(seed=1), table(n=10, seed=2) * 1.5  # new data partly outside the training range
    ours, theirs = ours_cls(**kwargs).fit(X), theirs_cls(**kwargs).fit(X.numpy())
    for attribute in ATTRIBUTES:
        if hasattr(theirs, attribute):
            assert close(getattr(ours, attribute), getattr(theirs, attribute)), attribute
    assert ours.n_features_in_ == theirs.n_features_in_ and ours.n_samples_seen_ == theirs.n_samples_seen_
    for Z in (X, X_new):
        assert close(ours.transform(Z), theirs.transform(Z.numpy()))
        assert close(ours.inverse_transform(Z), theirs.inverse_transform(Z.numpy()))
    assert close(ours_cls(**kwargs).fit_transform(X), theirs_cls(**kwargs).fit_transform(X.numpy()))
    assert ours.get_params() == theirs.get_params()


@pytest.mark.parametrize("name", SCALERS)
def test_inverse_transform_undoes_transform_and_the_input_is_left_alone(name):
    ours_cls, _, kwargs = SCALERS[name]
    X = table(seed=3)
    before = X.clone()
    scaler = ours_cls(**kwargs).fit(X)
    Z = scaler.transform(X)
    assert torch.equal(X, before) and Z is not X
    if not kwargs.get("clip"):
        assert torch.allclose(scaler.inverse_transform(Z), X, rtol=1e-12, atol=1e-9)


def test_what_each_scaler_promises_on_the_training_data():
    X = table(seed=4)
    varying = [0, 1, 2, 5]  # the non-constant features
    z = StandardScaler().fit_transform(X)
    assert torch.allclose(z.mean(0), torch.zeros(6, dtype=F64), atol=1e-12)
    assert torch.allclose(z[:, varying].var(0, correction=0), torch.ones(4, dtype=F64), atol=1e-12)
    assert torch.equal(z[:, 3], torch.zeros(len(X), dtype=F64))  # constant: scale 1, maps to 0
    m = MinMaxScaler((-1, 3)).fit_transform(X)
    assert torch.allclose(m[:, varying].amin(0), torch.full((4,), -1.0, dtype=F64), atol=1e-12)
    assert torch.allclose(m[:, varying].amax(0), torch.full((4,), 3.0, dtype=F64), atol=1e-12)
    assert torch.equal(m[:, 3], torch.full((len(X),), -1.0, dtype=F64))  # constant: maps to a
    a = MaxAbsScaler().fit_transform(X)
    assert a.abs().amax(0)[[0, 1, 2, 3, 5]].tolist() == pytest.approx([1.0] * 5)
    assert torch.equal(torch.sign(a), torch.sign(X))  # no shift: signs and zeros are kept


def test_near_constant_features_get_scale_one_like_sklearn():
    X = table(seed=5)
    ours, theirs = StandardScaler().fit(X), sk.StandardScaler().fit(X.numpy())
    assert ours.scale_[4] == theirs.scale_[4] == 1.0 and ours.scale_[3] == 1.0
    assert 0 < ours.var_[4] < 1e-30  # a rounding-level variance, not a real spread
    assert close(ours.transform(X), theirs.transform(X.numpy()))


def test_digits_pixels_that_are_always_zero_are_left_at_zero():
    x = data.digits(dtype=F64).x_train
    for ours, theirs in ((StandardScaler(), sk.StandardScaler()), (MinMaxScaler(), sk.MinMaxScaler()),
                         (MaxAbsScaler(), sk.MaxAbsScaler())):
        z = ours.fit_transform(x)
        assert close(z, theirs.fit_transform(x.numpy()))
        assert torch.equal(z[:, 0], torch.zeros(len(x), dtype=F64))  # the corner pixel is never inked


def test_float32_and_devices_follow_the_input():
    X = table(seed=6).float()
    z = StandardScaler().fit_transform(X)
    assert z.dtype == torch.float32
    theirs = sk.StandardScaler().fit_transform(X.numpy())
    assert np.allclose(z.numpy(), theirs, rtol=1e-5, atol=1e-5)


def test_errors_say_what_to_do():
    with pytest.raises(ValueError, match=r"unsqueeze\(1\)"):
        StandardScaler().fit(torch.zeros(5))
    with pytest.raises(TypeError, match="floating-point"):
        MinMaxScaler().fit(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="NaN"):
        MaxAbsScaler().fit(torch.tensor([[1.0], [float("nan")]]))
    with pytest.raises(RuntimeError, match="not fitted"):
        StandardScaler().transform(torch.zeros(3, 2))
    with pytest.raises(ValueError, match="fitted with 6"):
        MinMaxScaler().fit(table()).transform(torch.zeros(3, 2, dtype=F64))
    with pytest.raises(ValueError) as theirs:
        sk.MinMaxScaler(feature_range=(1, 0)).fit(np.zeros((3, 2)))
    with pytest.raises(ValueError) as ours:
        MinMaxScaler(feature_range=(1, 0)).fit(torch.zeros(3, 2))
    assert str(ours.value) == str(theirs.value)
    assert repr(MinMaxScaler()) == "MinMaxScaler(clip=False, copy=True, feature_range=(0, 1))"
