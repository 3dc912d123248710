"""The website: it builds with warnings as errors, every page loads nothing from outside the site, and in a
real browser (headless Chromium) math is typeset, an explorer's slider changes its figure and the launch
links point at the right notebooks."""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

pytestmark = pytest.mark.site

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
REPO = "dl-book/interactive-deep-learning"
CHAPTERS = sorted(p.stem for p in (ROOT / "chapters").glob("[0-9][0-9]_*.ipynb"))
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]
EXTERNAL = re.compile(
    r"""<(?:script|img|iframe|source|audio|video)\b[^>]*\bsrc\s*=\s*["']?(?:https?:)?//"""
    r"""|<link\b[^>]*\bhref\s*=\s*["']?(?:https?:)?//"""
    r"""|@import\s+(?:url\()?["']?(?:https?:)?//|url\(\s*["']?(?:https?:)?//""",
    re.IGNORECASE,
)


@pytest.fixture(scope="module")
def site() -> Path:
    """Build the book exactly as `make book` does (cached execution makes a rebuild fast)."""
    env = {k: v for k, v in os.environ.items() if k != "HELPERS_STRICT"}
    env["HELPERS_PROGRESS"] = "0"
    jb = Path(sys.executable).with_name("jupyter-book")
    result = subprocess.run(
        [str(jb), "build", str(ROOT), "--warningiserror", "--keep-going"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=1500,
    )
    log = result.stdout + result.stderr
    assert result.returncode == 0, "the site build failed (warnings are errors):\n" + log[-6000:]
    return HTML


def page(site: Path, name: str) -> str:
    return (site / f"{name}.html").read_text()


def test_every_page_of_the_toc_is_built(site):
    pages = ["book/intro", "book/how_to_use", "book/notation", "book/glossary", "book/references", "search"]
    for name in pages:
        assert (site / f"{name}.html").exists(), name
    for stem in CHAPTERS:
        assert (site / "chapters" / f"{stem}.html").exists()
        assert (site / "solutions" / f"{stem}.html").exists()
        assert (site / "_sources" / "chapters" / f"{stem}.ipynb").exists(), "download .ipynb"


def test_no_page_or_stylesheet_loads_anything_from_outside(site):
    offenders = []
    for path in list(site.rglob("*.html")) + list(site.rglob("*.css")):
        if "mathjax" in path.parts:
            continue
        for match in EXTERNAL.finditer(path.read_text(errors="replace")):
            offenders.append(f"{path.relative_to(site)}: {match.group(0)[:120]}")
    assert not offenders, "\n".join(offenders[:20])
    assert (site / "_static" / "mathjax" / "tex-chtml.js").exists(), "MathJax is vendored"


@pytest.mark.parametrize("stem", CHAPTERS)
def test_launch_and_download_links(site, stem):
    html = page(site, f"chapters/{stem}")
    assert f'https://colab.research.google.com/github/{REPO}/blob/main/chapters/{stem}.ipynb' in html
    assert f"https://mybinder.org/v2/gh/{REPO}/main?urlpath=tree/chapters/{stem}.ipynb" in html
    assert f"https://github.com/{REPO}" in html
    assert f"_sources/chapters/{stem}.ipynb" in html


@pytest.mark.parametrize("stem", CHAPTERS)
def test_student_and_solution_editions_show_their_verdicts(site, stem):
    student, solved = page(site, f"chapters/{stem}"), page(site, f"solutions/{stem}")
    assert "exercise-not_attempted" in student and "exercise-correct" not in student
    assert "exercise-correct" in solved and "exercise-incorrect" not in solved
    assert "exercise-error" not in student + solved


def test_bibliography_is_rendered(site):
    references = page(site, "book/references")
    assert "Goodfellow" in references and "Deep Learning" in references


# ---- in a browser ------------------------------------------------------------------------------


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # a browser that closes a connection early is not a failure of the site


@pytest.fixture(scope="module")
def server(site):
    httpd = QuietServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(site)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        message = "Chromium is not installed (apt-get install -y chromium); the browser test needs it."
        if os.environ.get("CI"):
            pytest.fail(message + " CI must install it (.ci/run does, as root).")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def tab(browser, server):
    context = browser.new_context()
    page = context.new_page()
    page.requests = []
    page.on("request", lambda request: page.requests.append(request.url))
    yield page
    outside = [u for u in page.requests if not u.startswith((server, "data:", "blob:", "about:"))]
    context.close()
    assert not outside, f"requests left 127.0.0.1: {outside[:10]}"


def test_landing_page_renders(tab, server):
    tab.goto(server + "/index.html")
    tab.wait_for_url("**/book/intro.html")
    tab.wait_for_load_state("load")
    assert "Deep Learning, Interactively" in tab.title()
    assert tab.locator("nav.bd-docs-nav a", has_text="Learning and estimation").count() >= 1


@pytest.mark.parametrize("stem", CHAPTERS)
def test_chapter_math_and_explorer_in_the_browser(tab, server, stem):
    tab.goto(f"{server}/chapters/{stem}.html")
    tab.wait_for_selector("mjx-container", state="attached", timeout=30_000)
    assert tab.locator("mjx-container").count() >= 5, "math is typeset by the vendored MathJax"

    explorer = tab.locator(".helpers-explorer").first
    explorer.scroll_into_view_if_needed()
    image, slider = explorer.locator("img"), explorer.locator("input[type=range]").first
    before, label_before = image.get_attribute("src"), explorer.locator("output").first.inner_text()
    slider.focus()
    tab.keyboard.press("ArrowRight")
    tab.wait_for_function(
        "([el, src]) => el.getAttribute('src') !== src", arg=[image.element_handle(), before], timeout=5_000
    )
    assert image.get_attribute("src").startswith("data:image/png;base64,")
    assert explorer.locator("output").first.inner_text() != label_before

    colab = tab.locator(f"a[href*='colab.research.google.com/github/{REPO}/blob/main/chapters/{stem}.ipynb']")
    assert colab.count() >= 1


def test_dark_mode_and_search(tab, server):
    tab.goto(server + "/book/intro.html")
    tab.wait_for_load_state("load")
    theme = lambda: tab.evaluate("document.documentElement.dataset.theme")  # noqa: E731
    light = tab.evaluate("getComputedStyle(document.body).backgroundColor")
    for _ in range(3):  # the switch cycles through auto, light and dark
        tab.locator("button.theme-switch-button").first.click()
        if theme() == "dark":
            break
    assert theme() == "dark"
    assert tab.evaluate("getComputedStyle(document.body).backgroundColor") != light
    tab.goto(server + "/search.html?q=variance")
    tab.wait_for_selector("#search-results li", timeout=20_000)
    assert tab.locator("#search-results li a", has_text="Learning and estimation").count() >= 1
