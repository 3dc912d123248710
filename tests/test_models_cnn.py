"""helpers.models' convolutional networks and blocks: shapes, parameter counts against closed forms written out
here and against the published torchvision figures, and each block's output against the same computation
done by hand with torch.nn.functional and the block's weights."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from helpers.data import digits
from helpers.models import (
    VGG16,
    AlexNet,
    DenseBlock,
    LeNet5,
    ResidualBlock,
    SmallCNN,
    classic,
    count_parameters,
    transition_block,
    vgg_block,
)

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
F64 = torch.float64
TOL = {"rtol": 1e-10, "atol": 1e-10}


def conv(k, c_in, c_out, bias=True):
    """A k x k convolution: k^2 c_in weights and one bias per output channel."""
    return (k * k * c_in + bias) * c_out


def linear(n_in, n_out):
    return (n_in + 1) * n_out


def bn(c):
    """BatchNorm2d: a scale and a shift per channel (the running statistics are buffers)."""
    return 2 * c


def randn(*shape, seed=0):
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=F64)


def randomise_batch_norm(model, seed=0):
    """Non-trivial running statistics and affine parameters, so that eval-mode batch norm does something."""
    g = torch.Generator().manual_seed(seed)
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            c = module.num_features
            module.running_mean.copy_(torch.randn(c, generator=g, dtype=F64))
            module.running_var.copy_(torch.rand(c, generator=g, dtype=F64) + 0.5)
            with torch.no_grad():
                module.weight.copy_(torch.randn(c, generator=g, dtype=F64))
                module.bias.copy_(torch.randn(c, generator=g, dtype=F64))


def batch_norm(x, module):
    """Eval-mode batch norm by hand: (x - running mean) / sqrt(running var + eps) * weight + bias, per channel."""
    shape = (1, -1, 1, 1)
    normalised = (x - module.running_mean.view(shape)) / (module.running_var.view(shape) + module.eps).sqrt()
    return normalised * module.weight.view(shape) + module.bias.view(shape)


# ---- SmallCNN ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("channels, kernel_size, num_classes, expected", [
    ((16, 32), 3, 10, conv(3, 1, 16) + conv(3, 16, 32) + linear(32 * 2 * 2, 10)),
    ((8,), 5, 10, conv(5, 1, 8) + linear(8 * 4 * 4, 10)),
    ((4, 8, 16), 3, 7, conv(3, 1, 4) + conv(3, 4, 8) + conv(3, 8, 16) + linear(16 * 1 * 1, 7)),
    ((6, 6), 1, 3, conv(1, 1, 6) + conv(1, 6, 6) + linear(6 * 2 * 2, 3)),
])
def test_small_cnn_parameter_count_and_shapes(channels, kernel_size, num_classes, expected):
    model = SmallCNN(channels, num_classes, kernel_size)
    assert count_parameters(model) == expected
    size = 8 // 2 ** len(channels)
    assert model.features(torch.zeros(5, 1, 8, 8)).shape == (5, channels[-1], size, size)
    assert model(torch.zeros(5, 1, 8, 8)).shape == (5, num_classes)


def test_small_cnn_default_is_the_chapters_6090_parameter_network():
    model = SmallCNN()
    assert count_parameters(model) == 160 + 4640 + 1290 == 6090
    convs = [m for m in model.features if isinstance(m, nn.Conv2d)]
    assert [(c.in_channels, c.out_channels, c.kernel_size, c.padding) for c in convs] == [
        (1, 16, (3, 3), (1, 1)), (16, 32, (3, 3), (1, 1))]
    assert sum(isinstance(m, nn.MaxPool2d) for m in model.features) == 2
    assert isinstance(model.classifier, nn.Linear) and model.classifier.in_features == 128


def test_small_cnn_reads_flat_digits_as_their_images():
    """The flat rows of helpers.data.digits() and its images are the same pixels: the outputs must agree."""
    torch.manual_seed(0)
    model = SmallCNN()
    flat, images = digits().x_test[:20], digits(images=True).x_test[:20]
    assert torch.equal(model(flat), model(images))


def test_small_cnn_head_can_be_replaced_and_features_frozen():
    torch.manual_seed(0)
    model = SmallCNN()
    model.classifier = nn.Linear(model.classifier.in_features, 5)
    model.features.requires_grad_(False)
    assert model(torch.zeros(3, 64)).shape == (3, 5)
    assert count_parameters(model) == linear(128, 5)


@pytest.mark.parametrize("shape", [(4, 1, 8, 9), (4, 3, 8, 8), (4, 63), (1, 8, 8), (64,), (2, 1, 1, 8, 8)])
def test_small_cnn_rejects_other_shapes(shape):
    with pytest.raises(ValueError, match=r"\(N, 1, 8, 8\) or \(N, 64\)"):
        SmallCNN()(torch.zeros(shape))


def test_small_cnn_constructor_errors():
    with pytest.raises(ValueError, match="odd"):
        SmallCNN(kernel_size=4)
    for channels in [(), (2, 2, 2, 2)]:
        with pytest.raises(ValueError, match="1 to 3"):
            SmallCNN(channels)


@pytest.mark.parametrize("device", DEVICES)
def test_small_cnn_on_each_device(device):
    model = SmallCNN(device=device)
    assert all(p.device.type == device for p in model.parameters())
    assert model(torch.zeros(2, 1, 8, 8, device=device)).device.type == device


# ---- LeNet-5, AlexNet, VGG-16 ----------------------------------------------------------------------------------


def test_lenet5_layers_shapes_and_count():
    model = LeNet5()
    expected = conv(5, 1, 6) + conv(5, 6, 16) + linear(400, 120) + linear(120, 84) + linear(84, 10)
    assert count_parameters(model) == expected == 61706
    x = torch.zeros(2, 1, 32, 32)
    assert model.features[:3](x).shape == (2, 6, 14, 14)
    assert model.features(x).shape == (2, 16, 5, 5)
    assert model(x).shape == (2, 10)
    assert sum(isinstance(m, nn.Tanh) for m in model.modules()) == 4
    assert sum(isinstance(m, nn.AvgPool2d) for m in model.modules()) == 2
    rgb = LeNet5(num_classes=5, in_channels=3)
    assert count_parameters(rgb) == expected - conv(5, 1, 6) + conv(5, 3, 6) - linear(84, 10) + linear(84, 5)
    assert rgb(torch.zeros(1, 3, 32, 32)).shape == (1, 5)
    with pytest.raises(ValueError, match="F.pad"):
        model(torch.zeros(2, 1, 28, 28))


ALEXNET_CONVS = [(11, 3, 64), (5, 64, 192), (3, 192, 384), (3, 384, 256), (3, 256, 256)]  # (k, C_in, C_out)
VGG16_CONFIG_D = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]


def vgg16_closed_form(num_classes):
    widths = [3] + [c for c in VGG16_CONFIG_D if c != "M"]
    convs = sum(conv(3, c_in, c_out) for c_in, c_out in zip(widths[:-1], widths[1:]))
    return convs + linear(512 * 7 * 7, 4096) + linear(4096, 4096) + linear(4096, num_classes)


@pytest.mark.parametrize("num_classes", [1000, 10])
def test_alexnet_and_vgg16_counts_match_closed_forms_on_meta(num_classes):
    alexnet, vgg = AlexNet(num_classes, device="meta"), VGG16(num_classes, device="meta")
    assert all(p.is_meta for p in [*alexnet.parameters(), *vgg.parameters()])
    alexnet_closed = (sum(conv(*layer) for layer in ALEXNET_CONVS)
                      + linear(256 * 6 * 6, 4096) + linear(4096, 4096) + linear(4096, num_classes))
    assert count_parameters(alexnet) == alexnet_closed
    assert count_parameters(vgg) == vgg16_closed_form(num_classes)
    x = torch.empty(2, 3, 224, 224, device="meta")
    assert alexnet(x).shape == vgg(x).shape == (2, num_classes)


def test_published_torchvision_parameter_counts():
    assert count_parameters(AlexNet(device="meta")) == 61_100_840
    assert count_parameters(VGG16(device="meta")) == 138_357_544


def test_layouts_and_state_dict_keys_are_torchvision_s():
    alexnet = AlexNet(device="meta")
    assert [(m.kernel_size[0], m.in_channels, m.out_channels) for m in alexnet.features
            if isinstance(m, nn.Conv2d)] == ALEXNET_CONVS
    assert alexnet.features(torch.empty(1, 3, 224, 224, device="meta")).shape == (1, 256, 6, 6)
    keys = {f"features.{i}.{p}" for i in (0, 3, 6, 8, 10) for p in ("weight", "bias")}
    keys |= {f"classifier.{i}.{p}" for i in (1, 4, 6) for p in ("weight", "bias")}
    assert set(alexnet.state_dict()) == keys

    vgg = VGG16(device="meta")
    layout = ["M" if isinstance(m, nn.MaxPool2d) else m.out_channels for m in vgg.features
              if isinstance(m, (nn.Conv2d, nn.MaxPool2d))]
    assert layout == VGG16_CONFIG_D
    assert vgg.features(torch.empty(1, 3, 224, 224, device="meta")).shape == (1, 512, 7, 7)
    conv_indices = [0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28]
    keys = {f"features.{i}.{p}" for i in conv_indices for p in ("weight", "bias")}
    keys |= {f"classifier.{i}.{p}" for i in (0, 3, 6) for p in ("weight", "bias")}
    assert set(vgg.state_dict()) == keys


def test_smallest_inputs_alexnet_and_vgg16_accept():
    alexnet, vgg = AlexNet(device="meta"), VGG16(device="meta")
    assert alexnet(torch.empty(1, 3, 63, 63, device="meta")).shape == (1, 1000)
    assert vgg(torch.empty(1, 3, 32, 32, device="meta")).shape == (1, 1000)
    with pytest.raises(RuntimeError):
        alexnet(torch.empty(1, 3, 62, 62, device="meta"))


def test_vgg16_starts_as_torchvision_initialises_it(monkeypatch):
    init, seen = classic.init_as_torchvision_vgg, []
    monkeypatch.setattr(classic, "init_as_torchvision_vgg", seen.append)
    model = VGG16(device="meta")
    assert seen == [model]  # the real one, on a small model below: 138M random numbers take seconds

    torch.manual_seed(0)
    small = nn.Sequential(nn.Conv2d(32, 64, 3), nn.Linear(300, 2000))
    init(small)
    convolution, dense = small
    assert not convolution.bias.any() and not dense.bias.any()
    fan_out = 64 * 3 * 3  # kaiming_normal_(mode="fan_out", nonlinearity="relu"): std = sqrt(2 / fan_out)
    assert convolution.weight.std().item() == pytest.approx((2 / fan_out) ** 0.5, rel=0.02)
    assert dense.weight.std().item() == pytest.approx(0.01, rel=0.01)
    on_meta = nn.Sequential(nn.Conv2d(3, 4, 3, device="meta"), nn.Linear(4, 2, device="meta"))
    init(on_meta)  # meta tensors hold no values: skipped, not an error
    assert all(p.is_meta for p in on_meta.parameters())


# ---- blocks ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("c_in, c_out, num_convs", [(3, 8, 1), (4, 4, 2), (2, 6, 3)])
def test_vgg_block(c_in, c_out, num_convs):
    torch.manual_seed(0)
    block = vgg_block(c_in, c_out, num_convs).double()
    assert count_parameters(block) == conv(3, c_in, c_out) + (num_convs - 1) * conv(3, c_out, c_out)
    x = randn(2, c_in, 8, 6)
    y = x
    for layer in block:
        if isinstance(layer, nn.Conv2d):
            y = F.relu(F.conv2d(y, layer.weight, layer.bias, padding=1))
    torch.testing.assert_close(block(x), F.max_pool2d(y, 2), **TOL)
    assert block(x).shape == (2, c_out, 4, 3)
    with pytest.raises(ValueError, match="positive"):
        vgg_block(3, 8, 0)


def residual_by_hand(block, x, stride):
    h = F.relu(batch_norm(F.conv2d(x, block.conv1.weight, stride=stride, padding=1), block.bn1))
    return batch_norm(F.conv2d(h, block.conv2.weight, padding=1), block.bn2)


def test_residual_block_with_identity_shortcut_is_relu_of_x_plus_f():
    torch.manual_seed(0)
    block = ResidualBlock(6, 6).double().eval()
    randomise_batch_norm(block)
    assert isinstance(block.shortcut, nn.Identity)
    assert count_parameters(block) == conv(3, 6, 6, bias=False) + bn(6) + conv(3, 6, 6, bias=False) + bn(6)
    x = randn(3, 6, 7, 5)
    torch.testing.assert_close(block(x), F.relu(x + residual_by_hand(block, x, 1)), **TOL)


def test_residual_block_with_zero_last_scale_is_relu():
    """F(x) = 0 when the last BN's scale and shift are 0: the block is then (after the ReLU) the identity."""
    torch.manual_seed(0)
    block = ResidualBlock(4, 4).double().eval()
    with torch.no_grad():
        block.bn2.weight.zero_()
        block.bn2.bias.zero_()
    x = randn(2, 4, 5, 5)
    torch.testing.assert_close(block(x), F.relu(x), **TOL)


@pytest.mark.parametrize("c_in, c_out, stride, size, size_out", [(4, 8, 1, 6, 6), (4, 8, 2, 8, 4), (6, 6, 2, 7, 4)])
def test_residual_block_with_projection_shortcut(c_in, c_out, stride, size, size_out):
    torch.manual_seed(0)
    block = ResidualBlock(c_in, c_out, stride).double().eval()
    randomise_batch_norm(block)
    projection, norm = block.shortcut
    assert isinstance(projection, nn.Conv2d) and projection.kernel_size == (1, 1) and projection.stride == (stride,) * 2
    expected_count = (conv(3, c_in, c_out, bias=False) + bn(c_out) + conv(3, c_out, c_out, bias=False) + bn(c_out)
                      + conv(1, c_in, c_out, bias=False) + bn(c_out))
    assert count_parameters(block) == expected_count
    x = randn(2, c_in, size, size)
    shortcut = batch_norm(F.conv2d(x, projection.weight, stride=stride), norm)
    y = block(x)
    assert y.shape == (2, c_out, size_out, size_out)
    torch.testing.assert_close(y, F.relu(residual_by_hand(block, x, stride) + shortcut), **TOL)


def test_residual_block_trains_with_batch_statistics():
    block = ResidualBlock(3, 5, stride=2).train()
    y = block(torch.randn(4, 3, 8, 8, generator=torch.Generator().manual_seed(0)))
    assert y.shape == (4, 5, 4, 4) and (y >= 0).all()
    y.sum().backward()
    assert all(p.grad is not None for p in block.parameters())


@pytest.mark.parametrize("c_in, growth, num_layers", [(3, 4, 1), (5, 2, 3), (1, 3, 4)])
def test_dense_block_concatenates_its_input_and_each_layer(c_in, growth, num_layers):
    torch.manual_seed(0)
    block = DenseBlock(c_in, growth, num_layers).double().eval()
    randomise_batch_norm(block)
    assert block.out_channels == c_in + num_layers * growth
    widths = [c_in + i * growth for i in range(num_layers)]
    assert count_parameters(block) == sum(bn(c) + conv(3, c, growth, bias=False) for c in widths)
    x = randn(2, c_in, 6, 5)
    y = block(x)
    assert y.shape == (2, block.out_channels, 6, 5)
    torch.testing.assert_close(y[:, :c_in], x, rtol=0, atol=0)
    for i, layer in enumerate(block.layers):
        norm, _, convolution = layer
        start = c_in + i * growth
        by_hand = F.conv2d(F.relu(batch_norm(y[:, :start], norm)), convolution.weight, padding=1)
        torch.testing.assert_close(y[:, start:start + growth], by_hand, **TOL)


def test_dense_block_needs_a_layer():
    with pytest.raises(ValueError, match="positive"):
        DenseBlock(3, 4, 0)


def test_transition_block():
    torch.manual_seed(0)
    block = transition_block(10, 4).double().eval()
    randomise_batch_norm(block)
    assert count_parameters(block) == bn(10) + conv(1, 10, 4, bias=False)
    x = randn(2, 10, 8, 6)
    norm, _, convolution, _ = block
    by_hand = F.avg_pool2d(F.conv2d(F.relu(batch_norm(x, norm)), convolution.weight), 2)
    y = block(x)
    assert y.shape == (2, 4, 4, 3)
    torch.testing.assert_close(y, by_hand, **TOL)


def test_one_by_one_convolution_is_a_linear_layer_at_every_pixel():
    torch.manual_seed(0)
    convolution = nn.Conv2d(5, 3, 1).double()
    dense = nn.Linear(5, 3).double()
    with torch.no_grad():
        dense.weight.copy_(convolution.weight[:, :, 0, 0])
        dense.bias.copy_(convolution.bias)
    x = randn(2, 5, 4, 6)
    per_pixel = dense(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)  # (N, H, W, C_in) -> (N, H, W, C_out)
    torch.testing.assert_close(convolution(x), per_pixel, **TOL)
    assert count_parameters(convolution) == count_parameters(dense) == 5 * 3 + 3


@pytest.mark.parametrize("device", DEVICES)
def test_blocks_on_each_device(device):
    x = torch.randn(2, 4, 8, 8, device=device)
    assert ResidualBlock(4, 8, 2, device=device)(x).shape == (2, 8, 4, 4)
    assert DenseBlock(4, 3, 2, device=device)(x).shape == (2, 10, 8, 8)
    assert transition_block(4, 2, device=device)(x).device.type == device
    assert vgg_block(4, 6, 2, device=device)(x).shape == (2, 6, 4, 4)
