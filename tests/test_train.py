import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from helpers import models
from helpers.train import History, accuracy, evaluate, fit, retrain_on_all, show_progress


def toy_loaders(seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(256, 2, generator=g)
    y = (x[:, 0] + x[:, 1] > 0).long()
    train = DataLoader(TensorDataset(x[:192], y[:192]), batch_size=32, shuffle=True, generator=g)
    val = DataLoader(TensorDataset(x[192:], y[192:]), batch_size=64)
    return train, val


DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.mark.parametrize("device", DEVICES)
def test_fit_lowers_the_loss_and_learns(device):
    torch.manual_seed(0)
    train, val = toy_loaders()
    model = models.MLP((2, 16, 2)).to(device)
    before = evaluate(model, val, nn.functional.cross_entropy, {"accuracy": accuracy}, torch.device(device))
    history = fit(model, train, nn.functional.cross_entropy, torch.optim.Adam(model.parameters(), 0.02),
                  epochs=15, val_loader=val, metrics={"accuracy": accuracy}, device=device, progress=False)
    assert next(model.parameters()).device.type == device
    assert history.epochs == 15 and len(history.val_loss) == 15
    assert history.train_loss[-1] < 0.5 * history.train_loss[0]
    assert history.val_loss[-1] < before["loss"]
    assert history.metrics["accuracy"][-1] > 0.9


class Memoriser(nn.Module):
    """Validation loss that rises after the first epoch: early stopping must trigger and restore epoch 0."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return x * 0 + self.w


def test_early_stopping_honours_patience_and_restores_best():
    x = torch.zeros(8, 1)
    train = DataLoader(TensorDataset(x, torch.full((8, 1), 5.0)), batch_size=8)
    val = DataLoader(TensorDataset(x, torch.full((8, 1), 1.0)), batch_size=8)
    model = Memoriser()
    history = fit(model, train, nn.functional.mse_loss, torch.optim.SGD(model.parameters(), lr=0.1),
                  epochs=50, val_loader=val, patience=3, device="cpu", progress=False)
    # w moves from 0 towards 5: validation loss (w-1)^2 falls until w passes 1, then rises
    best = min(range(history.epochs), key=history.val_loss.__getitem__)
    assert history.stopped_early and history.best_epoch == best
    assert history.epochs == best + 1 + 3
    restored = evaluate(model, val, nn.functional.mse_loss, device=torch.device("cpu"))["loss"]
    assert restored == pytest.approx(history.val_loss[best])


class Scalar(nn.Module):
    """Predicts one learned number w for every input: with MSE and SGD its trajectory has a closed form."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(1, dtype=torch.float64))

    def forward(self, x):
        return x * 0 + self.w


def constant_loader(*targets, n=8):
    """Full-batch loader of n zeros per target value, labelled with that value: MSE = mean of (w - t)^2."""
    y = torch.cat([torch.full((n, 1), float(t), dtype=torch.float64) for t in targets])
    return DataLoader(TensorDataset(torch.zeros_like(y), y), batch_size=len(y))


def after_steps(t, target, lr=0.1):
    """w_t of gradient descent on (w - target)^2 from w_0 = 0: w_t = target (1 - (1 - 2 lr)^t)."""
    return target * (1 - (1 - 2 * lr) ** t)


@pytest.mark.parametrize("device", DEVICES)
def test_best_epoch_known_by_construction_and_restored_from_a_deep_copy(device):
    # training pulls w towards 5 along w_t = 5 (1 - 0.8^t); the validation target is w_3, reached after
    # epoch 2 (0-based): validation loss 0 there, larger before and after
    val_target = after_steps(3, 5.0)
    model = Scalar()
    history = fit(model, constant_loader(5.0), nn.functional.mse_loss, torch.optim.SGD(model.parameters(), lr=0.1),
                  epochs=50, val_loader=constant_loader(val_target), patience=3, device=device, progress=False)
    assert history.best_epoch == 2 and history.stopped_early and history.epochs == 2 + 1 + 3
    expected_val = [(after_steps(t, 5.0) - val_target) ** 2 for t in range(1, 7)]
    assert history.val_loss == pytest.approx(expected_val, abs=1e-12)
    assert history.val_loss[2] == min(history.val_loss)
    # restored: w_3, not the last weights w_6 (what a state_dict() kept by reference would "restore")
    assert model.w.item() == pytest.approx(val_target, abs=1e-12)
    assert abs(after_steps(6, 5.0) - val_target) > 0.5


def test_without_patience_best_epoch_is_recorded_but_the_last_weights_are_kept():
    model = Scalar()
    history = fit(model, constant_loader(5.0), nn.functional.mse_loss, torch.optim.SGD(model.parameters(), lr=0.1),
                  epochs=6, val_loader=constant_loader(after_steps(3, 5.0)), device="cpu", progress=False)
    assert history.best_epoch == 2 and not history.stopped_early and history.epochs == 6
    assert model.w.item() == pytest.approx(after_steps(6, 5.0), abs=1e-12)


@pytest.mark.parametrize("device", DEVICES)
def test_fit_trains_on_the_device_and_returns_the_model_where_it_was(device):
    torch.manual_seed(0)
    train, val = toy_loaders()
    model = models.MLP((2, 16, 2))  # on the CPU, as the book's notebooks build them
    seen = set()

    def loss_fn(output, target):
        seen.add((output.device.type, target.device.type, next(model.parameters()).device.type))
        return nn.functional.cross_entropy(output, target)

    before = [p.detach().clone() for p in model.parameters()]
    fit(model, train, loss_fn, torch.optim.Adam(model.parameters(), 0.02), epochs=2, val_loader=val, patience=1,
        device=device, progress=False)
    assert seen == {(device, device, device)}  # every batch and the model on the training device
    assert {p.device.type for p in model.parameters()} == {"cpu"}  # and the model back where it came from
    assert any(not torch.equal(a, b.cpu()) for a, b in zip(before, model.parameters()))  # trained


@pytest.mark.parametrize("device", DEVICES)
def test_second_pass_retrains_a_fresh_model_on_train_and_validation_for_the_best_epochs(device):
    val_target = after_steps(3, 5.0)
    first = Scalar()
    history = fit(first, constant_loader(5.0), nn.functional.mse_loss, torch.optim.SGD(first.parameters(), lr=0.1),
                  epochs=50, val_loader=constant_loader(val_target), patience=3, device=device, progress=False)
    made = []

    def make_model():
        made.append(Scalar())
        return made[-1]

    model, second = retrain_on_all(make_model, lambda params: torch.optim.SGD(params, lr=0.1),
                                   constant_loader(5.0, val_target), nn.functional.mse_loss,
                                   epochs=history.best_epoch + 1, device=device, progress=False)
    assert made == [model] and model is not first  # fresh weights, not the early-stopped model's
    assert second.epochs == 3 and second.val_loss == [] and second.best_epoch is None
    # full batch over both sets: the pull is towards the mean target, for exactly 3 steps
    assert model.w.item() == pytest.approx(after_steps(3, (5.0 + val_target) / 2), abs=1e-12)
    assert next(model.parameters()).device.type == "cpu"  # made on the CPU, trained on device, back home
    with pytest.raises(ValueError, match="best_epoch"):
        retrain_on_all(make_model, torch.optim.SGD, constant_loader(5.0), nn.functional.mse_loss, epochs=0)


def test_fit_reports_bad_arguments_and_divergence():
    train, val = toy_loaders()
    model = models.MLP((2, 2))
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    with pytest.raises(ValueError, match="val_loader"):
        fit(model, train, nn.functional.cross_entropy, opt, epochs=1, patience=2, progress=False)
    with pytest.raises(ValueError, match="epochs"):
        fit(model, train, nn.functional.cross_entropy, opt, epochs=0, progress=False)
    huge = torch.optim.SGD(model.parameters(), lr=1e30)
    with pytest.raises(FloatingPointError, match="Lower the learning rate"):
        fit(model, train, lambda out, y: (out**2).sum() * 1e30, huge, epochs=3, device="cpu", progress=False)


def test_progress_bars_follow_the_argument_then_the_environment(monkeypatch):
    assert show_progress(True) and not show_progress(False)
    monkeypatch.setenv("HELPERS_PROGRESS", "0")
    assert not show_progress(None)
    assert show_progress(True)


def test_history_defaults():
    assert History().epochs == 0 and History().best_epoch is None
