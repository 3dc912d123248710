"""Figures of chapter 6's second half: trained CNNs (filters, feature maps, saliency, shifted digits, transfer).

Every name in ``__all__`` is re-exported by ``helpers.plot``, so a notebook calls ``plot.<name>``.
"""

from __future__ import annotations

__all__: list[str] = []
