"""Fixtures for the unit tests (the repository-wide setup is in ../conftest.py)."""

import matplotlib.pyplot as plt
import pytest


@pytest.fixture(autouse=True)
def _close_figures():
    """Close every figure after each test: one left open (a test that failed before its plt.close) would reach
    the next tests on the same worker, such as test_widgets' check that explorers leak no figure."""
    yield
    plt.close("all")
