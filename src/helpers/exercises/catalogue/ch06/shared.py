"""What the chapter 6 exercises share: the library calls they forbid, an integer comparison, seeded modules."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from helpers.exercises.forbid import NUMPY_ESCAPE

# Every convolution torch has (a 2-D one is a 3-D one of depth 1, or a transposed one with the kernel flipped).
CONVOLUTIONS = (
    "torch.nn.functional.conv2d", "torch.conv2d", "torch.nn.Conv2d", "torch.nn.functional.conv1d", "torch.conv1d",
    "torch.nn.Conv1d", "torch.nn.functional.conv3d", "torch.conv3d", "torch.nn.Conv3d",
    "torch.nn.functional.conv_transpose1d", "torch.nn.functional.conv_transpose2d",
    "torch.nn.functional.conv_transpose3d", "torch.conv_transpose1d", "torch.conv_transpose2d",
    "torch.conv_transpose3d",
    "torch.nn.ConvTranspose1d", "torch.nn.ConvTranspose2d", "torch.nn.ConvTranspose3d", "torch.convolution",
    "torch._convolution", "torch.ops.aten.convolution", "torch.ops.aten.conv2d", "torch.ops.aten._convolution",
)
# SciPy's correlations and convolutions, reached through NumPy (which the checker cannot watch).
SCIPY_CONVOLUTIONS = (
    "scipy.signal.correlate2d", "scipy.signal.convolve2d", "scipy.signal.correlate", "scipy.signal.convolve",
    "scipy.signal.fftconvolve", "scipy.signal.oaconvolve", "scipy.ndimage.correlate", "scipy.ndimage.convolve",
    *NUMPY_ESCAPE,
)
# NumPy's 1-D convolutions, on lists (image.tolist()) where Tensor.numpy would be caught: a 2-D one is a sum of them.
NUMPY_CONVOLUTIONS = ("numpy.convolve", "numpy.correlate")
# The convolution theorem: a correlation is a product of Fourier transforms (every transform, forward and back).
_TRANSFORMS = ("fft", "ifft", "fft2", "ifft2", "fftn", "ifftn", "rfft", "irfft", "rfft2", "irfft2", "rfftn", "irfftn",
               "hfft", "ihfft")
FFTS = (*(f"torch.fft.{name}" for name in (*_TRANSFORMS, "hfft2", "ihfft2", "hfftn", "ihfftn")), "torch.stft",
        *(f"numpy.fft.{name}" for name in _TRANSFORMS))
UNFOLD = ("torch.nn.functional.unfold", "torch.nn.Unfold", "torch.Tensor.unfold", "torch._C._nn.im2col")
# Every window at once by strides: the unfold family, in torch and in NumPy (on a list, np.array(image.tolist())).
AS_STRIDED = ("torch.as_strided", "torch.as_strided_", "torch.Tensor.as_strided", "torch.Tensor.as_strided_",
              "numpy.lib.stride_tricks.as_strided", "numpy.lib.stride_tricks.sliding_window_view")
# The book's own convolutions (helpers.nn.conv_backward.conv2d_input is a transposed convolution).
BOOKS_CONVOLUTIONS = ("helpers.nn.conv.conv2d", "helpers.nn.conv.conv2d_loops", "helpers.nn.conv_backward.conv2d_input")
# What a convolution layer written by hand may not call (F.unfold, Tensor.unfold and as_strided are allowed there).
CONVOLUTION_LAYER = (*CONVOLUTIONS, *SCIPY_CONVOLUTIONS, *NUMPY_CONVOLUTIONS, *FFTS, *BOOKS_CONVOLUTIONS)
MAX_POOLS = (
    "torch.nn.functional.max_pool2d", "torch.nn.functional.max_pool2d_with_indices", "torch.max_pool2d",
    "torch._C._nn.max_pool2d_with_indices", "torch.mkldnn_max_pool2d", "torch.quantized_max_pool2d",
    "torch.nn.MaxPool2d", "torch.nn.functional.adaptive_max_pool2d", "torch._C._nn.adaptive_max_pool2d",
    "torch.nn.AdaptiveMaxPool2d", "torch.nn.functional.fractional_max_pool2d", "torch._C._nn.fractional_max_pool2d",
    "torch.nn.FractionalMaxPool2d", "torch.nn.functional.max_pool1d", "torch.max_pool1d",
    "torch.max_pool1d_with_indices", "torch.nn.MaxPool1d", "torch.nn.functional.max_pool3d", "torch.max_pool3d",
    "torch.nn.MaxPool3d", "helpers.nn.pooling.max_pool2d",
)


def seeded(seed: int, build: Callable[[], nn.Module], dtype: torch.dtype = torch.float64) -> nn.Module:
    """build() with torch's global generator seeded, and that generator left as it was: the same weights on every
    call, and the reader's own random stream untouched. The module stays in training mode, as after training."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build().to(dtype)
