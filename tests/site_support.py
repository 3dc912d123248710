"""What the site tests share: the build, a local server, headless Chromium and a tab that records problems.

The build runs once for every test file that needs it.

`jupyter-book build` into the one `_build/` folder must not run twice at once: under `pytest -n 2 --dist
loadfile` two site test files may sit on different workers. An exclusive lock on `_build/.site-build.lock`
serialises them; the second build finds the first one's cache and takes seconds."""

from __future__ import annotations

import fcntl
import functools
import http.server
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
STATIC = ROOT / "book" / "_static"  # the book's own CSS, JavaScript and favicon
REPO = "dl-book/interactive-deep-learning"
CHAPTERS = sorted(p.stem for p in (ROOT / "chapters").glob("[0-9][0-9]_*.ipynb"))
EDITIONS = ("chapters", "solutions")  # the student edition and the worked solutions
CHAPTER_PAGES = [f"{edition}/{stem}" for stem in CHAPTERS for edition in EDITIONS]


def toc_pages() -> list[str]:
    """Every page _toc.yml lists (its root, then each part's files), so a page added to the book is tested."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return [toc["root"]] + [entry["file"] for part in toc.get("parts", []) for entry in part.get("chapters", [])]


# The pages that are not chapters: index.html (a redirect to the root), the book's own pages, search, genindex.
FRONT_PAGES = ["index"] + [name for name in toc_pages() if not name.startswith(EDITIONS)] + ["search", "genindex"]
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




@contextmanager
def site_lock() -> Iterator[None]:
    """Hold the exclusive lock on _build/.site-build.lock: one `jupyter-book build` into _build/ at a time."""
    (ROOT / "_build").mkdir(exist_ok=True)
    with open(ROOT / "_build" / ".site-build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def jupyter_book_build(*options: str) -> subprocess.CompletedProcess:
    """One `make book` build (warnings are errors; cached execution: only changed notebooks run). Hold the lock."""
    env = {k: v for k, v in os.environ.items() if k != "HELPERS_STRICT"}
    env["HELPERS_PROGRESS"] = "0"
    jb = Path(sys.executable).with_name("jupyter-book")
    command = [str(jb), "build", str(ROOT), "--warningiserror", "--keep-going", *options]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1500)


def build_site() -> Path:
    """Build the book exactly as `make book` does (cached execution makes a rebuild fast); return _build/html."""
    with site_lock():
        result = jupyter_book_build()
        log = result.stdout + result.stderr
        assert result.returncode == 0, "the site build failed (warnings are errors):\n" + log[-6000:]
        # Sphinx copies html_static_path only when it writes a page: after an edit to book/_static alone, a
        # cached build says "no targets are out of date" and keeps the old copies. Then rebuild every page.
        copies = {f: HTML / "_static" / f.name for f in STATIC.iterdir() if f.is_file()}
        stale = [f for f, copy in copies.items() if not copy.exists() or copy.read_bytes() != f.read_bytes()]
        if stale:
            result = jupyter_book_build("--all")
            assert result.returncode == 0, "the site build failed:\n" + (result.stdout + result.stderr)[-6000:]
    return HTML


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # a browser that closes a connection early is not a failure of the site


def serve(site: Path):
    """Serve the built site on 127.0.0.1 (a free port) until the generator is closed; yield its address."""
    httpd = QuietServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(site)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def launch_chromium():
    """Headless Debian Chromium through playwright; skip (fail in CI) when it is not installed."""
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


def open_tab(browser, server: str):
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


AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"  # for the tests only: see its README


def run_axe(tab, options: dict | None = None) -> dict:
    """Run axe-core on the page open in `tab` and return its results (violations with every node; passes,
    incomplete and inapplicable rules with at most one node each). The script is injected into the page from
    tests/vendor, not requested: the site never loads it."""
    if not tab.evaluate("() => typeof window.axe === 'object'"):
        tab.add_script_tag(path=str(AXE))
    return tab.evaluate("options => axe.run(document, options)", {"resultTypes": ["violations"], **(options or {})})


def visit(tab, server: str, name: str) -> None:
    """Open a page and wait until it is done: loaded, its network quiet and, on a chapter, its math typeset."""
    tab.goto(f"{server}/{name}.html")
    tab.wait_for_load_state("networkidle")
    if name.startswith(EDITIONS):
        tab.wait_for_selector("mjx-container", state="attached", timeout=30_000)
        tab.evaluate("() => window.MathJax.startup.promise")  # resolves when the first typesetting is done
    tab.wait_for_timeout(300)  # late timers of the themes' scripts
