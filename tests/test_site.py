"""The website: it builds with warnings as errors, every page loads nothing from outside the site, and in a
real browser (headless Chromium, 1280 x 800) no page raises a JavaScript error or logs a console error or
warning, code cells show 120-character lines without horizontal scrolling, math is typeset, an explorer's
slider changes its figure and the launch links point at the right notebooks."""

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
STATIC = ROOT / "book" / "_static"  # the book's own CSS, JavaScript and favicon
REPO = "dl-book/interactive-deep-learning"
CHAPTERS = sorted(p.stem for p in (ROOT / "chapters").glob("[0-9][0-9]_*.ipynb"))
EDITIONS = ("chapters", "solutions")  # the student edition and the worked solutions
CHAPTER_PAGES = [f"{edition}/{stem}" for stem in CHAPTERS for edition in EDITIONS]
FRONT_PAGES = ["index", "book/intro", "book/how_to_use", "book/notation", "book/glossary", "book/references",
               "search", "genindex"]
VIEWPORT = {"width": 1280, "height": 800}  # a common laptop screen: code must fit on it
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
    command = [str(jb), "build", str(ROOT), "--warningiserror", "--keep-going"]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1500)
    log = result.stdout + result.stderr
    assert result.returncode == 0, "the site build failed (warnings are errors):\n" + log[-6000:]
    # Sphinx copies html_static_path only when it writes a page: after an edit to book/_static alone, a cached
    # build says "no targets are out of date" and keeps the old copies. Then rebuild every page.
    copies = {f: HTML / "_static" / f.name for f in STATIC.iterdir()}
    stale = [f for f, copy in copies.items() if not copy.exists() or copy.read_bytes() != f.read_bytes()]
    if stale:
        result = subprocess.run([*command, "--all"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=1500)
        assert result.returncode == 0, "the site build failed:\n" + (result.stdout + result.stderr)[-6000:]
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


def console_problem(message) -> str | None:
    """A console message that is an error: console.error and console.warn (the themes report misconfiguration
    with them, e.g. "Got invalid theme mode"), failed assertions, and Chromium's own resource errors."""
    if message.type in ("error", "warning", "assert"):
        where = message.location.get("url", "")
        return f"console.{message.type}: {message.text[:300]}" + (f" ({where})" if where else "")
    return None


@pytest.fixture
def tab(browser, server):
    """A fresh browser tab at 1280 x 800 that records every request and every page error, console error or
    warning and failed response; a test that ends with any of them fails, whatever it checked."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.requests, page.problems = [], []
    page.on("request", lambda request: page.requests.append(request.url))
    page.on("pageerror", lambda error: page.problems.append(f"uncaught {error.name}: {error.message[:300]}"))
    page.on("console", lambda message: (problem := console_problem(message)) and page.problems.append(problem))
    page.on("response", lambda response: response.status >= 400
            and page.problems.append(f"HTTP {response.status} for {response.url}"))
    yield page
    outside = [u for u in page.requests if not u.startswith((server, "data:", "blob:", "about:"))]
    problems = page.problems
    context.close()
    assert not outside, f"requests left 127.0.0.1: {outside[:10]}"
    assert not problems, "JavaScript errors in the browser:\n" + "\n".join(problems[:20])


def visit(tab, server: str, name: str) -> None:
    """Open a page and wait until it is done: loaded, its network quiet and, on a chapter, its math typeset."""
    tab.goto(f"{server}/{name}.html")
    tab.wait_for_load_state("networkidle")
    if name.startswith(EDITIONS):
        tab.wait_for_selector("mjx-container", state="attached", timeout=30_000)
        tab.evaluate("() => window.MathJax.startup.promise")  # resolves when the first typesetting is done
    tab.wait_for_timeout(300)  # late timers of the themes' scripts


@pytest.mark.parametrize("name", FRONT_PAGES + CHAPTER_PAGES)
def test_no_javascript_errors(tab, server, name):
    """Every page loads without an uncaught exception, a console error or warning or a failed request (the
    `tab` fixture fails the test on any of them and lists them)."""
    visit(tab, server, name)
    assert tab.title(), name
    problems, tab.problems[:] = list(tab.problems), []  # reported here, not again by the fixture
    assert not problems, f"{name}: JavaScript errors in the browser:\n" + "\n".join(problems[:20])


# The longest line a code cell may hold (pyproject.toml: ruff's line-length).
LINE_LENGTH = 120


@pytest.mark.parametrize("name", CHAPTER_PAGES)
def test_code_cells_fit_without_scrolling(tab, server, name):
    """At 1280 x 800 no code block (a cell's source or output) needs horizontal scrolling, and the widest
    code column holds a full 120-character line."""
    visit(tab, server, name)
    report = tab.evaluate("""() => {
        document.querySelectorAll('details').forEach(d => { d.open = true; });  // hidden cells count too
        const blocks = [...document.querySelectorAll('div.highlight pre')];
        const probe = document.createElement('span');
        probe.textContent = 'x'.repeat(100);
        blocks[0].appendChild(probe);
        const charWidth = probe.getBoundingClientRect().width / 100;
        probe.remove();
        const style = getComputedStyle(blocks[0]);
        const inner = Math.max(...blocks.map(b => b.clientWidth))
            - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
        const scrolling = blocks.filter(b => b.scrollWidth > b.clientWidth + 1).map(b =>
            `${b.scrollWidth - b.clientWidth}px too wide: ${b.textContent.split('\\n').reduce(
                (a, c) => c.length > a.length ? c : a, '').slice(0, 140)}`);
        return {count: blocks.length, columns: inner / charWidth, scrolling};
    }""")
    assert report["count"] > 10, f"{name}: code blocks not found"
    assert not report["scrolling"], f"{name}: code scrolls sideways at 1280 px:\n" + "\n".join(report["scrolling"])
    assert report["columns"] >= LINE_LENGTH, f"{name}: code shows {report['columns']:.1f} characters per line"


@pytest.mark.parametrize("width", [1280, 1920])
def test_page_contents_are_one_click_away(tab, server, width):
    """Below 1680 px the "on this page" list leaves the code column its width and opens as a drawer from the
    article header's button (book/_static/book.js makes that button work); from 1680 px it is docked."""
    tab.set_viewport_size({"width": width, "height": 800})
    visit(tab, server, f"chapters/{CHAPTERS[0]}")
    sections = "nav.page-toc a.nav-link"
    if width < 1680:
        assert not tab.locator("#pst-secondary-sidebar").is_visible()
        tab.locator(".bd-header-article button.secondary-toggle").click()
        drawer = tab.locator("#pst-secondary-sidebar-modal")
        tab.wait_for_function("() => document.getElementById('pst-secondary-sidebar-modal').open", timeout=5_000)
        assert drawer.locator(sections).first.is_visible()
        assert drawer.locator(sections).count() >= 5
        tab.keyboard.press("Escape")
        tab.wait_for_function("() => !document.getElementById('pst-secondary-sidebar-modal').open", timeout=5_000)
    else:
        assert tab.locator("#pst-secondary-sidebar").locator(sections).first.is_visible()


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
