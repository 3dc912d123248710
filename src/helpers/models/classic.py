"""Three classic convolutional networks, layer for layer: LeNet-5, AlexNet and VGG-16 (chapter 6).

Their parameter counts tell the story of the field: LeNet-5 (1998) 61,706; AlexNet (2012) 61,100,840;
VGG-16 (2015) 138,357,544, of which 123,642,856 sit in the three fully connected layers.
AlexNet and VGG16 follow torchvision's layouts (same layers, same order, same ``state_dict`` keys:
``features``, ``avgpool``, ``classifier``), except that their ReLUs are not in place, so that a forward hook
on a convolution sees its output before the ReLU. Build them with ``device="meta"`` to count or inspect
them without allocating a byte: every layer then holds shapes only, and construction is immediate::

    count_parameters(VGG16(device="meta"))     # 138357544, in milliseconds
"""

from __future__ import annotations

import torch
from torch import nn

from helpers.models.blocks import vgg_block

Device = torch.device | str | None


class LeNet5(nn.Module):
    """LeNet-5 (LeCun et al. 1998) for 32x32 images, with tanh units and average pooling:

        x (N, C, 32, 32)
        -> Conv2d(C, 6, 5)  -> tanh -> AvgPool2d(2)     (N, 6, 28, 28) -> (N, 6, 14, 14)   (25 C + 1) 6
        -> Conv2d(6, 16, 5) -> tanh -> AvgPool2d(2)     (N, 16, 10, 10) -> (N, 16, 5, 5)   (25 * 6 + 1) 16 = 2416
        -> flatten                                      (N, 400)
        -> Linear(400, 120) -> tanh                     (N, 120)                            401 * 120     = 48120
        -> Linear(120, 84)  -> tanh                     (N, 84)                             121 * 84      = 10164
        -> Linear(84, K)                                (N, K) logits                       85 K

    With C = 1 and K = 10: 156 + 2416 + 48120 + 10164 + 850 = 61,706 parameters. The paper's count is about
    60,000 because its C3 layer connected each of the 16 maps to only some of the 6 maps below (a fixed
    connection table, to break symmetry and save computation); here every map sees all 6, as in modern
    re-implementations. The paper's subsampling layers also had a trainable scale and bias, and its output
    layer was made of RBF units; these are left out as well. MNIST's 28x28 digits are padded to 32x32
    (``F.pad(x, (2, 2, 2, 2))``), as in the paper.
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1, device: Device = None):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, 5, device=device), nn.Tanh(), nn.AvgPool2d(2),
            nn.Conv2d(6, 16, 5, device=device), nn.Tanh(), nn.AvgPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Linear(16 * 5 * 5, 120, device=device), nn.Tanh(),
            nn.Linear(120, 84, device=device), nn.Tanh(),
            nn.Linear(84, num_classes, device=device),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (N, C, 32, 32) -> logits: (N, num_classes)."""
        channels = self.features[0].in_channels
        if x.ndim != 4 or tuple(x.shape[1:]) != (channels, 32, 32):
            raise ValueError(f"LeNet5 reads (N, {channels}, 32, 32) images, got {tuple(x.shape)}. Pad 28x28 MNIST "
                             "with F.pad(x, (2, 2, 2, 2)); upsample 8x8 digits with F.interpolate(x, size=32).")
        return self.classifier(self.features(x).flatten(1))


class AlexNet(nn.Module):
    """AlexNet (Krizhevsky et al. 2012) in torchvision's single-GPU layout (``torchvision.models.alexnet``):

        x (N, 3, 224, 224)
        -> Conv2d(3, 64, 11, stride 4, padding 2) -> ReLU -> MaxPool2d(3, 2)   (N, 64, 55, 55) -> (N, 64, 27, 27)
        -> Conv2d(64, 192, 5, padding 2) -> ReLU -> MaxPool2d(3, 2)            (N, 192, 27, 27) -> (N, 192, 13, 13)
        -> Conv2d(192, 384, 3, padding 1) -> ReLU                               (N, 384, 13, 13)
        -> Conv2d(384, 256, 3, padding 1) -> ReLU                               (N, 256, 13, 13)
        -> Conv2d(256, 256, 3, padding 1) -> ReLU -> MaxPool2d(3, 2)            (N, 256, 13, 13) -> (N, 256, 6, 6)
        -> AdaptiveAvgPool2d(6) -> flatten                                      (N, 9216)
        -> Dropout -> Linear(9216, 4096) -> ReLU -> Dropout -> Linear(4096, 4096) -> ReLU -> Linear(4096, K)

    Parameters, (k^2 C_in + 1) C_out per convolution and (n_in + 1) n_out per linear layer:
    23,296 + 307,392 + 663,936 + 884,992 + 590,080 (convolutions, 2.5M) + 37,752,832 + 16,781,312 + 4,097,000
    (linear, 58.6M) = 61,100,840 for K = 1000.
    """

    def __init__(self, num_classes: int = 1000, dropout: float = 0.5, device: Device = None):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, 11, stride=4, padding=2, device=device), nn.ReLU(), nn.MaxPool2d(3, 2),
            nn.Conv2d(64, 192, 5, padding=2, device=device), nn.ReLU(), nn.MaxPool2d(3, 2),
            nn.Conv2d(192, 384, 3, padding=1, device=device), nn.ReLU(),
            nn.Conv2d(384, 256, 3, padding=1, device=device), nn.ReLU(),
            nn.Conv2d(256, 256, 3, padding=1, device=device), nn.ReLU(), nn.MaxPool2d(3, 2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(256 * 6 * 6, 4096, device=device), nn.ReLU(),
            nn.Dropout(dropout), nn.Linear(4096, 4096, device=device), nn.ReLU(),
            nn.Linear(4096, num_classes, device=device),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (N, 3, H, W), H, W >= 63 (224 in the paper) -> logits: (N, num_classes)."""
        return self.classifier(self.avgpool(self.features(x)).flatten(1))


def init_as_torchvision_vgg(model: nn.Module) -> None:
    """torchvision's VGG initialisation, in place: He-normal convolutions (fan_out), N(0, 0.01) linear weights,
    zero biases. Meta tensors hold no values and are skipped (and torch's first normal_ on "meta" takes a second)."""
    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)) and module.weight.is_meta:
            continue
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, 0.0, 0.01)
            nn.init.zeros_(module.bias)


VGG16_BLOCKS = ((3, 64, 2), (64, 128, 2), (128, 256, 3), (256, 512, 3), (512, 512, 3))  # (C_in, C_out, convs)


class VGG16(nn.Module):
    """VGG-16 (Simonyan & Zisserman 2015, configuration D) in torchvision's layout (``torchvision.models.vgg16``):

        x (N, 3, 224, 224)
        -> vgg_block(3, 64, 2)      (N, 64, 112, 112)        2 + 2 + 3 + 3 + 3 = 13 convolutions, all 3x3,
        -> vgg_block(64, 128, 2)    (N, 128, 56, 56)         each block halving the image and (but the last)
        -> vgg_block(128, 256, 3)   (N, 256, 28, 28)         doubling the channels
        -> vgg_block(256, 512, 3)   (N, 512, 14, 14)
        -> vgg_block(512, 512, 3)   (N, 512, 7, 7)
        -> AdaptiveAvgPool2d(7) -> flatten                   (N, 25088)
        -> Linear(25088, 4096) -> ReLU -> Dropout -> Linear(4096, 4096) -> ReLU -> Dropout -> Linear(4096, K)

    Parameters: 14,714,688 in the convolutions (sum of (9 C_in + 1) C_out) and 102,764,544 + 16,781,312 +
    4,097,000 in the linear layers: 138,357,544 for K = 1000. The blocks' layers are laid out in one flat
    ``features`` Sequential, as torchvision's are, so the ``state_dict`` keys match (features.0.weight, ...).
    Weights start as torchvision's do (``init_as_torchvision_vgg``).
    """

    def __init__(self, num_classes: int = 1000, dropout: float = 0.5, device: Device = None):
        super().__init__()
        blocks = [vgg_block(c_in, c_out, n, device=device) for c_in, c_out, n in VGG16_BLOCKS]
        self.features = nn.Sequential(*(layer for block in blocks for layer in block))
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096, device=device), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(4096, 4096, device=device), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(4096, num_classes, device=device),
        )
        init_as_torchvision_vgg(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (N, 3, H, W), H, W >= 32 (224 in the paper) -> logits: (N, num_classes)."""
        return self.classifier(self.avgpool(self.features(x)).flatten(1))
