"""Figures of chapter 6's first half: the convolution itself (windows, receptive fields, padding, pooling).

Every name in ``__all__`` is re-exported by ``helpers.plot``, so a notebook calls ``plot.<name>``.
"""

from __future__ import annotations

__all__: list[str] = []
