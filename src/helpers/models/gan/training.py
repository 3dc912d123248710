"""Alternating GAN training, and the class histogram that measures mode collapse.

Each step of ``train_gan`` (Goodfellow et al., 2014, Algorithm 1 with k = 1; the non-saturating generator loss by
default, as in PyTorch's DCGAN tutorial):

    x     = batch_size real images drawn with replacement (and their labels, for a conditional GAN)
    z     ~ N(0, I) (batch_size, latent); y_fake ~ uniform over the classes (conditional only)
    fake  = G(z [, y_fake])
    D step: L_D = discriminator_loss(D(x [, y]), D(fake.detach() [, y_fake]))    one Adam step on D's parameters
    G step: L_G = generator_loss(D(fake [, y_fake]), saturating)                 one Adam step on G's parameters,
            through the discriminator just updated

Mode collapse is when G covers only some of the data's modes (here: draws only some digits). ``class_histogram``
measures it: a digit classifier's predicted classes on generated images, as fractions; a uniform 0.1 per class
means every digit is drawn equally often, a missing bar a missing mode.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from helpers._checks import whole_number
from helpers.models.gan.losses import discriminator_loss, generator_loss

__all__ = ["GANHistory", "class_histogram", "train_gan"]


@dataclass
class GANHistory:
    """What ``train_gan`` records, one entry per step (lists indexed by step, 0-based), and its snapshots.

    d_loss, g_loss: the two losses at each step (before that step's updates); d_real, d_fake: the mean of D(x)
    = sigmoid(logit) on the real batch and on the fake batch at the D step. snapshots: steps done -> generated
    images (snapshot_size, 1, 8, 8), mapped back to the data's [0, 1] by (G(z) + 1) / 2, always from the same z
    (and labels): step 0 is the untrained generator. z: that fixed noise (snapshot_size, latent); labels: the
    fixed labels (snapshot_size,) of a conditional GAN (arange % n_classes), None otherwise.
    """

    d_loss: list[float] = field(default_factory=list)
    g_loss: list[float] = field(default_factory=list)
    d_real: list[float] = field(default_factory=list)
    d_fake: list[float] = field(default_factory=list)
    snapshots: dict[int, torch.Tensor] = field(default_factory=dict)
    z: torch.Tensor | None = None
    labels: torch.Tensor | None = None

    @property
    def steps(self) -> int:
        return len(self.d_loss)


def _check_data(x: torch.Tensor, labels: torch.Tensor | None, n_classes: int) -> None:
    if not isinstance(x, torch.Tensor) or not x.is_floating_point() or x.ndim != 4 or tuple(x.shape[1:]) != (1, 8, 8):
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"train_gan: x must be floating-point images (N, 1, 8, 8), got {shape}: e.g. "
                         "digits(images=True).x_train * 2 - 1.")
    if float(x.min()) < -1 or float(x.max()) > 1:
        raise ValueError(f"train_gan: the images must lie in [-1, 1], the range of the generator's tanh, got values "
                         f"from {float(x.min()):.3g} to {float(x.max()):.3g}: scale digits in [0, 1] with x * 2 - 1.")
    if n_classes == 0 and labels is not None:
        raise ValueError("train_gan: labels are for a conditional GAN; these networks were built with n_classes=0. "
                         "Build both with n_classes=10, or drop labels.")
    if n_classes > 0:
        if labels is None:
            raise ValueError(f"train_gan: the networks are conditional (n_classes={n_classes}): pass labels, the "
                             "(N,) classes of x.")
        if not isinstance(labels, torch.Tensor) or labels.shape != (len(x),) or labels.is_floating_point():
            raise ValueError(f"train_gan: labels must be (N,) = ({len(x)},) integer classes, one per image.")
        if int(labels.min()) < 0 or int(labels.max()) >= n_classes:
            raise ValueError(f"train_gan: labels must lie in [0, {n_classes}).")


def train_gan(generator: nn.Module, discriminator: nn.Module, x: torch.Tensor, steps: int, lr: float = 2e-4,
              betas: tuple[float, float] = (0.5, 0.999), batch_size: int = 64, labels: torch.Tensor | None = None,
              saturating: bool = False, seed: int = 0, snapshot_every: int | None = None,
              device: torch.device | str | None = None, progress: bool | None = None,
              snapshot_size: int = 500) -> GANHistory:
    """Train ``generator`` G and ``discriminator`` D on images x (N, 1, 8, 8) in [-1, 1] by alternating steps.

    G is a ``Generator`` (anything with ``.latent`` and ``forward(z, labels)``), D a ``Discriminator``.

    Both are trained by Adam (``lr``, ``betas``; (0.5, 0.999) as in DCGAN) for ``steps`` steps of one D update and
    one G update (the module docstring). ``labels`` (N,): the classes of x, for networks built with n_classes > 0.
    ``saturating``: G minimises the minimax loss mean log(1 - D(G(z))) instead of -mean log D(G(z)).
    ``snapshot_every``: every that many steps (and at step 0 and the last step) G draws ``snapshot_size`` images
    from one fixed z, in eval mode (BatchNorm's running averages), kept in ``history.snapshots``.

    The batches, z and the fake labels come from one ``torch.Generator`` seeded with ``seed``, drawn on the CPU
    (in this order: the snapshots' z, then each step's rows of x, z and fake labels), so a run is reproducible (on
    the CPU bit for bit; on a GPU cuDNN's convolutions may differ in the last bits) and every device sees the same
    draws; seed the networks' initial weights yourself (``torch.manual_seed``) before building them. Like
    ``helpers.train.fit``, it trains on ``device`` (by default the best there is) and puts both networks back where
    they came from, in eval mode.
    """
    whole_number("steps", steps)
    whole_number("batch_size", batch_size)
    whole_number("snapshot_size", snapshot_size)
    if snapshot_every is not None:
        whole_number("snapshot_every", snapshot_every)
    if not isinstance(saturating, bool):
        raise TypeError(f"train_gan: saturating must be True or False, got {saturating!r}.")
    if not lr > 0:
        raise ValueError(f"train_gan: lr must be > 0, got {lr!r}.")
    n_classes = getattr(generator, "n_classes", 0)
    if getattr(discriminator, "n_classes", 0) != n_classes:
        raise ValueError(f"train_gan: the generator has n_classes={n_classes}, the discriminator "
                         f"{getattr(discriminator, 'n_classes', 0)}: build both conditional or both not.")
    _check_data(x, labels, n_classes)
    from tqdm.auto import tqdm

    from helpers.train import show_progress, to_training_device

    device, home = to_training_device(generator, device)
    discriminator.to(device)
    dtype = next(generator.parameters()).dtype  # float32 unless the networks were converted (e.g. .double())
    x = x.cpu()
    labels = None if labels is None else labels.cpu()
    draws = torch.Generator().manual_seed(seed)
    fixed_z = torch.randn(snapshot_size, generator.latent, generator=draws)
    fixed_labels = torch.arange(snapshot_size) % n_classes if n_classes else None
    optimizer_d = torch.optim.Adam(discriminator.parameters(), lr=lr, betas=betas)
    optimizer_g = torch.optim.Adam(generator.parameters(), lr=lr, betas=betas)
    history = GANHistory(z=fixed_z, labels=fixed_labels)

    def snapshot(step: int) -> None:
        generator.eval()
        with torch.no_grad():
            y = None if fixed_labels is None else fixed_labels.to(device)
            history.snapshots[step] = ((generator(fixed_z.to(device, dtype), y) + 1) / 2).cpu()
        generator.train()

    generator.train()
    discriminator.train()
    if snapshot_every is not None:
        snapshot(0)
    for step in tqdm(range(steps), desc="steps", disable=not show_progress(progress)):
        rows = torch.randint(len(x), (batch_size,), generator=draws)
        z = torch.randn(batch_size, generator.latent, generator=draws)
        real = x[rows].to(device, dtype)
        real_y = fake_y = None
        if n_classes:
            real_y = labels[rows].to(device)
            fake_y = torch.randint(n_classes, (batch_size,), generator=draws).to(device)
        fake = generator(z.to(device, dtype), fake_y)
        # D step: the fakes are detached, so no gradient reaches G
        real_logits = discriminator(real, real_y)
        fake_logits = discriminator(fake.detach(), fake_y)
        d_value = discriminator_loss(real_logits, fake_logits)
        if not torch.isfinite(d_value):
            raise FloatingPointError(f"train_gan: the discriminator's loss became {d_value.item()} at step {step}: "
                                     "lower lr.")
        optimizer_d.zero_grad()
        d_value.backward()
        optimizer_d.step()
        # G step, through the updated D; D's parameter gradients are cleared at its next step
        g_value = generator_loss(discriminator(fake, fake_y), saturating=saturating)
        optimizer_g.zero_grad()
        g_value.backward()
        optimizer_g.step()
        history.d_loss.append(d_value.item())
        history.g_loss.append(g_value.item())
        history.d_real.append(torch.sigmoid(real_logits.detach()).mean().item())
        history.d_fake.append(torch.sigmoid(fake_logits.detach()).mean().item())
        if snapshot_every is not None and ((step + 1) % snapshot_every == 0 or step + 1 == steps):
            snapshot(step + 1)
    generator.to(home).eval()
    discriminator.to(home).eval()
    return history


@torch.no_grad()
def class_histogram(classifier: nn.Module, images: torch.Tensor) -> torch.Tensor:
    """The fraction of ``images`` that ``classifier`` assigns to each class: (N, 1, 8, 8) or (N, 64) -> (K,).

    K is the number of the classifier's outputs; the fractions sum to 1. The images must be in the classifier's
    input range ([0, 1] for a classifier trained on ``helpers.data.digits``: map G's output with (G(z) + 1) / 2,
    as ``GANHistory.snapshots`` are). The classifier runs in eval mode, on its own device, and its mode is restored.
    """
    if not isinstance(images, torch.Tensor) or not images.is_floating_point() or len(images) == 0:
        raise ValueError("class_histogram: images must be a non-empty floating-point tensor (N, 1, 8, 8) or (N, 64).")
    was_training = classifier.training
    classifier.eval()
    parameter = next(classifier.parameters())
    logits = classifier(images.to(parameter.device, parameter.dtype))
    classifier.train(was_training)
    if logits.ndim != 2:
        raise ValueError(f"class_histogram: the classifier must return logits (N, K), got {tuple(logits.shape)}.")
    counts = torch.bincount(logits.argmax(dim=1), minlength=logits.shape[1])
    return (counts.to(torch.float64) / len(images)).cpu()
