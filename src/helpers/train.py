"""One training loop for the whole book.

    history = fit(model, train_loader, loss_fn, optimizer, epochs=20, val_loader=val_loader)

Each epoch: for every minibatch (x, y), move it to the training device, compute loss_fn(model(x), y), back-propagate,
take an optimizer step; then evaluate on the validation loader. ``history`` keeps the mean training loss,
validation loss and metrics per epoch. With ``patience`` set, training stops when the validation loss has
not improved for that many epochs, and the best weights are restored (Goodfellow et al., Algorithm 7.1).
``retrain_on_all`` is the second pass of Algorithm 7.2: a fresh model trained on training + validation data
for the number of epochs that early stopping found.
"""

from __future__ import annotations

import copy
import math
import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.utils.data import DataLoader

from helpers.device import device as pick_device
from helpers.device import to_device

PROGRESS_ENV = "HELPERS_PROGRESS"


def accuracy(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Fraction of rows whose arg-max equals the label. logits: (N, K), target: (N,) -> 0-dim tensor."""
    return (logits.argmax(dim=-1) == target).float().mean()


@dataclass
class History:
    """Per-epoch record of a training run. Lists are indexed by epoch (0-based).

    best_epoch: the (0-based) epoch with the lowest validation loss, the first one on ties; the best model
    was trained for best_epoch + 1 epochs. None without a validation loader.
    """

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    metrics: dict[str, list[float]] = field(default_factory=dict)
    best_epoch: int | None = None
    stopped_early: bool = False

    @property
    def epochs(self) -> int:
        return len(self.train_loss)


def show_progress(progress: bool | None) -> bool:
    """Progress bars on unless ``progress=False`` or ``$HELPERS_PROGRESS=0`` (used by tests and the site build)."""
    if progress is not None:
        return progress
    if os.environ.get(PROGRESS_ENV, "").strip() in {"0", "false", "no"}:
        return False
    return "ipykernel" in sys.modules or sys.stderr.isatty()


def to_training_device(model: nn.Module, device: torch.device | str | None = None) -> tuple[torch.device, torch.device]:
    """Move ``model`` to ``device`` (None: the best there is, cuda > mps > cpu); returns (device, home), home being
    the device it came from. The book's training loops call ``model.to(home)`` when they finish, so that the code
    after them runs unchanged on a machine with or without a GPU."""
    device = pick_device() if device is None else torch.device(device)
    home = next(model.parameters()).device
    model.to(device)
    return device, home


@torch.no_grad()
def evaluate(
    model: nn.Module,
    loader: DataLoader,
    loss_fn: Callable,
    metrics: dict[str, Callable] | None = None,
    device: torch.device | None = None,
) -> dict[str, float]:
    """Mean loss and metrics of ``model`` over ``loader`` (weighted by batch size), in eval mode."""
    device = device or next(model.parameters()).device
    was_training = model.training
    model.eval()
    totals: dict[str, float] = {"loss": 0.0}
    count = 0
    for batch in loader:
        x, y = to_device(batch, device)
        output = model(x)
        totals["loss"] += loss_fn(output, y).item() * len(y)
        for name, metric in (metrics or {}).items():
            totals[name] = totals.get(name, 0.0) + metric(output, y).item() * len(y)
        count += len(y)
    model.train(was_training)
    if count == 0:
        raise ValueError("The loader yielded no batches: check that the data set is not empty.")
    return {name: total / count for name, total in totals.items()}


def fit(
    model: nn.Module,
    train_loader: DataLoader,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    optimizer: torch.optim.Optimizer,
    epochs: int,
    val_loader: DataLoader | None = None,
    metrics: dict[str, Callable] | None = None,
    patience: int | None = None,
    device: torch.device | str | None = None,
    progress: bool | None = None,
) -> History:
    """Train ``model`` for up to ``epochs`` passes over ``train_loader``; returns a ``History``.

    metrics: name -> f(output, target) -> 0-dim tensor, evaluated on the validation set each epoch.
    patience: stop after this many epochs without a lower validation loss, and restore the best weights
    (needs ``val_loader``).
    device: where to train, by default the best there is (cuda > mps > cpu); each batch is moved there. When
    training ends the model goes back to the device it came from, so the code after ``fit`` runs unchanged on
    a machine with or without a GPU (the book's tensors live on the CPU). To keep a model on the GPU, move it
    there first: ``model.to("cuda")``.
    """
    if epochs < 1:
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}.")
    if patience is not None and val_loader is None:
        raise ValueError("Early stopping watches the validation loss: pass val_loader=... or drop patience=.")
    device, home = to_training_device(model, device)
    history = History(metrics={name: [] for name in (metrics or {})})
    best_loss, best_state, epochs_without_improvement = math.inf, None, 0

    from tqdm.auto import tqdm

    bar = tqdm(range(epochs), desc="epochs", disable=not show_progress(progress), leave=True)
    for epoch in bar:
        model.train()
        total, count = 0.0, 0
        for batch in train_loader:
            x, y = to_device(batch, device)
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            if not torch.isfinite(loss):
                raise FloatingPointError(
                    f"The training loss became {loss.item()} in epoch {epoch}. Lower the learning rate, "
                    "or check the inputs for NaN/inf."
                )
            loss.backward()
            optimizer.step()
            total += loss.item() * len(y)
            count += len(y)
        history.train_loss.append(total / count)
        postfix = {"train_loss": f"{history.train_loss[-1]:.4f}"}

        if val_loader is not None:
            scores = evaluate(model, val_loader, loss_fn, metrics, device)
            history.val_loss.append(scores["loss"])
            for name in history.metrics:
                history.metrics[name].append(scores[name])
            postfix["val_loss"] = f"{scores['loss']:.4f}"
            if scores["loss"] < best_loss:
                best_loss, epochs_without_improvement = scores["loss"], 0
                history.best_epoch = epoch
                # state_dict() holds references to the live tensors, which the next optimizer step changes
                # in place: keep a deep copy, or "restoring" would restore the last weights
                best_state = copy.deepcopy(model.state_dict())
            else:
                epochs_without_improvement += 1
        bar.set_postfix(postfix)
        if patience is not None and epochs_without_improvement >= patience:
            history.stopped_early = True
            break

    if patience is not None and best_state is not None:
        model.load_state_dict(best_state)
    model.to(home)
    bar.close()
    return history


def retrain_on_all(
    make_model: Callable[[], nn.Module],
    make_optimizer: Callable[[Iterable[nn.Parameter]], torch.optim.Optimizer],
    train_loader_all: DataLoader,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    epochs: int,
    device: torch.device | str | None = None,
    progress: bool | None = None,
) -> tuple[nn.Module, History]:
    """Early stopping's second pass (Goodfellow et al., Algorithm 7.2): retrain from scratch on all the data.

    1. ``fit(model, train, ..., val_loader=val, patience=p)`` found the best number of epochs,
       ``history.best_epoch + 1``;
    2. this draws fresh initial weights with ``make_model()``, builds ``make_optimizer(model.parameters())``,
       and trains for that many epochs on ``train_loader_all`` (training + validation examples), with no
       validation set left to watch.

    Returns (model, history). The pass keeps the number of epochs; with more data per epoch that is more
    optimizer steps (the book's Algorithm 7.2 keeps the number of steps instead: scale ``epochs`` by
    n_train / n_all for that). Example::

        history = fit(make_model(), train, loss_fn, opt, epochs=200, val_loader=val, patience=10)
        model, _ = retrain_on_all(make_model, lambda p: torch.optim.Adam(p, 1e-3), train_and_val, loss_fn,
                                  epochs=history.best_epoch + 1)
    """
    if epochs < 1:
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}: pass history.best_epoch + 1 from the "
                         "early-stopped run (best_epoch is 0-based).")
    model = make_model()
    optimizer = make_optimizer(model.parameters())
    history = fit(model, train_loader_all, loss_fn, optimizer, epochs, device=device, progress=progress)
    return model, history
