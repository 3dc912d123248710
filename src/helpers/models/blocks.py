"""The building blocks of the classic convolutional networks: VGG, residual and dense blocks (chapter 6).

    vgg_block         (3x3 conv, ReLU) x n, then 2x2 max pooling            Simonyan & Zisserman 2015
    ResidualBlock     relu(F(x) + shortcut(x))                              He et al. 2016
    DenseBlock        each layer's output concatenated to its input         Huang et al. 2017
    transition_block  BN -> ReLU -> 1x1 conv -> 2x2 average pooling         Huang et al. 2017

A 1x1 convolution needs no block of its own: ``nn.Conv2d(c_in, c_out, 1)`` is a linear layer
(c_in -> c_out) applied at every pixel, mixing channels and never neighbours.

Parameter counts: a k x k convolution has (k^2 c_in + 1) c_out parameters (k^2 c_in c_out without bias), a
BatchNorm2d over c channels 2c (its scale and shift; the running mean and variance are buffers, not
parameters). A convolution followed by batch normalisation has no bias here (as in torchvision): BN
subtracts the batch mean, which cancels any constant the bias adds, and then adds its own shift.
"""

from __future__ import annotations

import torch
from torch import nn

Device = torch.device | str | None


def vgg_block(in_channels: int, out_channels: int, num_convs: int, device: Device = None) -> nn.Sequential:
    """[Conv2d(3x3, padding 1) -> ReLU] x num_convs, then MaxPool2d(2): the unit VGG is built from.

    x: (N, C_in, H, W) -> (N, C_out, H // 2, W // 2): the convolutions keep the size, the pooling halves it.
    Parameters: (9 C_in + 1) C_out + (num_convs - 1) (9 C_out + 1) C_out.
    Two stacked 3x3 convolutions see a 5x5 window, three a 7x7 one, with fewer parameters than one large kernel.
    """
    if num_convs < 1:
        raise ValueError(f"num_convs must be a positive integer, got {num_convs!r}.")
    layers: list[nn.Module] = []
    for i in range(num_convs):
        layers += [nn.Conv2d(in_channels if i == 0 else out_channels, out_channels, 3, padding=1, device=device),
                   nn.ReLU()]
    layers.append(nn.MaxPool2d(2))
    return nn.Sequential(*layers)


class ResidualBlock(nn.Module):
    """y = relu(F(x) + shortcut(x)), F = conv3x3(stride) -> BN -> ReLU -> conv3x3 -> BN (ResNet's basic block).

    The block learns the residual F(x) = y - x; F = 0 makes it the identity, so stacking blocks cannot make a
    network worse at fitting, and the gradient flows back through the shortcut unchanged.

        x: (N, C_in, H, W) -> (N, C_out, H_out, W_out),  H_out = floor((H - 1) / stride) + 1

    The shortcut is the identity when the shape is kept (C_in = C_out, stride 1); otherwise a 1x1
    convolution with the same stride, then BN, brings x to the output's shape (He et al.'s option B).
    Parameters: 9 C_in C_out + 2 C_out + 9 C_out^2 + 2 C_out  [+ C_in C_out + 2 C_out for the 1x1 shortcut].
    Submodules: conv1, bn1, conv2, bn2 (as torchvision's BasicBlock) and shortcut (nn.Identity or the 1x1 conv + BN).
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, device: Device = None):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False, device=device)
        self.bn1 = nn.BatchNorm2d(out_channels, device=device)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False, device=device)
        self.bn2 = nn.BatchNorm2d(out_channels, device=device)
        if stride == 1 and in_channels == out_channels:
            self.shortcut: nn.Module = nn.Identity()
        else:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False, device=device),
                nn.BatchNorm2d(out_channels, device=device),
            )

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        """F(x) = bn2(conv2(relu(bn1(conv1(x))))). x: (N, C_in, H, W) -> (N, C_out, H_out, W_out)."""
        return self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.residual(x) + self.shortcut(x))


class DenseBlock(nn.Module):
    """num_layers layers, each BN -> ReLU -> conv3x3 (growth_rate channels), output concatenated to its input.

    Layer i sees everything before it, C_in + i g channels, and adds g new ones (g = growth_rate):

        x_0 = x,   x_{i+1} = cat([x_i, layer_i(x_i)], dim=1)

        x: (N, C_in, H, W) -> (N, C_in + num_layers g, H, W)       (``out_channels``)

    so the output's first C_in channels are the input itself, and each next g channels one layer's output.
    Parameters: sum_{i < num_layers} [2 (C_in + i g) + 9 (C_in + i g) g].
    """

    def __init__(self, in_channels: int, growth_rate: int, num_layers: int, device: Device = None):
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"num_layers must be a positive integer, got {num_layers!r}.")
        self.layers = nn.ModuleList()
        for i in range(num_layers):
            channels = in_channels + i * growth_rate
            self.layers.append(nn.Sequential(
                nn.BatchNorm2d(channels, device=device),
                nn.ReLU(),
                nn.Conv2d(channels, growth_rate, 3, padding=1, bias=False, device=device),
            ))
        self.out_channels = in_channels + num_layers * growth_rate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = torch.cat([x, layer(x)], dim=1)
        return x


def transition_block(in_channels: int, out_channels: int, device: Device = None) -> nn.Sequential:
    """BN -> ReLU -> Conv2d(1x1) -> AvgPool2d(2): DenseNet's way to shrink the channels and halve the image.

    x: (N, C_in, H, W) -> (N, C_out, H // 2, W // 2). Parameters: 2 C_in + C_in C_out.
    """
    return nn.Sequential(
        nn.BatchNorm2d(in_channels, device=device),
        nn.ReLU(),
        nn.Conv2d(in_channels, out_channels, 1, bias=False, device=device),
        nn.AvgPool2d(2),
    )
