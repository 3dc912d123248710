"""Fixtures for the unit tests (the repository-wide setup is in ../conftest.py)."""

from pathlib import Path

import matplotlib.pyplot as plt
import pytest
import site_support


@pytest.fixture(autouse=True)
def _close_figures():
    """Close every figure after each test: one left open (a test that failed before its plt.close) would reach
    the next tests on the same worker, such as test_widgets' check that explorers leak no figure."""
    yield
    plt.close("all")


# ---- the website (tests marked `site`; the machinery is in site_support.py) ---------------------------


@pytest.fixture(scope="module")
def site() -> Path:
    """The built site, _build/html (one build at a time across workers; cached)."""
    return site_support.build_site()


@pytest.fixture(scope="module")
def server(site):
    """The built site served on 127.0.0.1."""
    yield from site_support.serve(site)


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium (skipped without it, except in CI)."""
    yield from site_support.launch_chromium()


@pytest.fixture
def tab(browser, server):
    """A fresh 1280 x 800 tab; the test fails on any JavaScript error or request that leaves the site."""
    yield from site_support.open_tab(browser, server)
