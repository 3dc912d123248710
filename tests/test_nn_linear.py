"""helpers.nn.linear against torch.nn.functional.linear."""

import pytest
import torch
import torch.nn.functional as F

from helpers.nn.linear import compose_linear


@pytest.mark.parametrize("d,h,k", [(3, 3, 3), (4, 6, 2), (1, 5, 1), (8, 3, 8)])
def test_composed_layer_equals_two_layers(d, h, k):
    g = torch.Generator().manual_seed(d * 100 + h * 10 + k)
    W1, b1 = torch.randn(h, d, generator=g, dtype=torch.float64), torch.randn(h, generator=g, dtype=torch.float64)
    W2, b2 = torch.randn(k, h, generator=g, dtype=torch.float64), torch.randn(k, generator=g, dtype=torch.float64)
    x = torch.randn(20, d, generator=g, dtype=torch.float64)
    W, b = compose_linear(W1, b1, W2, b2)
    assert W.shape == (k, d) and b.shape == (k,)
    assert torch.allclose(F.linear(x, W, b), F.linear(F.linear(x, W1, b1), W2, b2), rtol=1e-12, atol=1e-12)


def test_layers_that_do_not_chain_are_refused():
    with pytest.raises(ValueError, match="do not chain"):
        compose_linear(torch.zeros(3, 2), torch.zeros(3), torch.zeros(4, 5), torch.zeros(4))
