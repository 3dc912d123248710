import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from helpers import models
from helpers.train import History, accuracy, evaluate, fit, show_progress


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
