"""A small convolutional network for the 8x8 digits (chapter 6).

Two rounds of "convolution, non-linearity, pooling" turn an 8x8 image into a few channels of 2x2 features,
and one linear layer reads the digit off them::

    x (N, 1, 8, 8)
    -> Conv2d(1, 16, 3, padding=1) -> ReLU -> MaxPool2d(2)      (N, 16, 4, 4)      (9 * 1 + 1) * 16  =  160
    -> Conv2d(16, 32, 3, padding=1) -> ReLU -> MaxPool2d(2)     (N, 32, 2, 2)      (9 * 16 + 1) * 32 = 4640
    -> flatten                                                  (N, 128)
    -> Linear(128, 10)                                          (N, 10) logits     (128 + 1) * 10    = 1290
                                                                                                      6090

The convolutions keep the image size (padding k // 2 for an odd kernel k); each pooling halves it.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

IMAGE_SIZE = 8  # scikit-learn's digits are 8 x 8, one gray channel


class SmallCNN(nn.Module):
    """[Conv2d(k x k, padding k // 2) -> ReLU -> MaxPool2d(2)] per entry of ``channels``, then one Linear.

    With channels = (c_1, ..., c_L), kernel k and K classes, an 8x8 image shrinks to s = 8 / 2^L pixels a side:

        x: (N, 1, 8, 8) -> features: (N, c_L, s, s) -> flatten (N, c_L s^2) -> classifier -> logits (N, K)

    Parameters: sum_l (k^2 c_{l-1} + 1) c_l  +  (c_L s^2 + 1) K, with c_0 = 1. The defaults (16, 32), k = 3,
    K = 10 give 160 + 4640 + 1290 = 6090.

    ``features`` is the convolutional part (an ``nn.Sequential``) and ``classifier`` the linear head, so
    fine-tuning reads as the words say: freeze with ``model.features.requires_grad_(False)``, replace the head
    with ``model.classifier = nn.Linear(model.classifier.in_features, 5)``.

    forward also takes flat digits, (N, 64), as ``helpers.data.digits()`` gives them: they are reshaped to
    (N, 1, 8, 8) (row by row, as the pixels are stored), so the same model serves both forms of the data.
    """

    def __init__(
        self,
        channels: Sequence[int] = (16, 32),
        num_classes: int = 10,
        kernel_size: int = 3,
        device: torch.device | str | None = None,
    ):
        super().__init__()
        channels = tuple(channels)
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd (1, 3, 5, ...) so that padding k // 2 keeps the 8x8 size, "
                             f"got {kernel_size!r}.")
        size = IMAGE_SIZE // 2 ** len(channels)
        if not channels or size < 1:
            raise ValueError(f"channels must list 1 to 3 layer widths (each pooling halves the 8x8 image), "
                             f"got {channels!r}.")
        layers: list[nn.Module] = []
        in_channels = 1
        for out_channels in channels:
            layers += [nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2, device=device),
                       nn.ReLU(),
                       nn.MaxPool2d(2)]
            in_channels = out_channels
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(in_channels * size * size, num_classes, device=device)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (N, 1, 8, 8) or (N, 64) -> logits: (N, num_classes)."""
        if x.ndim == 2 and x.shape[1] == IMAGE_SIZE**2:
            x = x.reshape(-1, 1, IMAGE_SIZE, IMAGE_SIZE)
        elif x.ndim != 4 or tuple(x.shape[1:]) != (1, IMAGE_SIZE, IMAGE_SIZE):
            raise ValueError(f"SmallCNN reads 8x8 gray digits: x must be (N, 1, 8, 8) or (N, 64), got "
                             f"{tuple(x.shape)}. One image is x[None] (or x[None, None] for an 8x8 tensor).")
        return self.classifier(self.features(x).flatten(1))
