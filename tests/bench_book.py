"""`make bench`, part 1: the book as its readers, instructors and maintainers meet it.

Each function measures one thing and returns ``{key: Measured(value, how)}``:
- ``notebook_times``: each notebook executed in a fresh kernel, one torch thread (solutions in strict mode,
  chapters in student mode), seconds; keys "solutions/01", "chapters/01", ...;
- ``cached_rebuild``: `make book`'s build with nothing changed, seconds;
- ``page_weights``: the heaviest chapter page of the built site, alone and on a first visit, megabytes;
- ``grader``: the grader's overhead per submission and a class of 30 graded with -j 2, seconds;
- ``clean_clone_suite``: `make test` in a fresh clone with a fresh .venv, as .ci/run runs it, minutes.
"""

from __future__ import annotations

import gzip
import os
import re
import shutil
import subprocess
import tempfile
import time
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

from bench_references import Measured
from site_support import jupyter_book_build, site_lock

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
LOGS = ROOT / "_build" / "bench"
EDITIONS = {"solutions": "1", "chapters": "not-attempted"}  # folder -> HELPERS_STRICT, as in ../conftest.py
MB = 1e6


def chapter_numbers() -> list[str]:
    """The chapters' two-digit numbers, from the notebooks in solutions/."""
    return sorted(path.name[:2] for path in (ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))


def notebook(folder: str, number: str) -> Path:
    (path,) = (ROOT / folder).glob(f"{number}_*.ipynb")
    return path


def execute(path: Path, strict: str) -> float:
    """Seconds to run every cell of the notebook at ``path`` in a fresh kernel, kernel start included."""
    import nbformat
    from nbclient import NotebookClient

    os.environ["HELPERS_STRICT"] = strict
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    return time.perf_counter() - start


def notebook_times(chapters: list[str] | None = None) -> dict[str, Measured]:
    """Both editions of each chapter (all, or ``chapters``), one after the other: the budget is for one notebook
    on the 2-core machine. Kernels inherit OMP_NUM_THREADS=1 (bench.py sets it): one torch thread."""
    results = {}
    for number in chapters or chapter_numbers():
        for folder, strict in EDITIONS.items():
            path = notebook(folder, number)
            seconds = execute(path, strict)
            results[f"{folder}/{number}"] = Measured(seconds, "fresh kernel, one torch thread, kernel start included")
            print(f"  executed {folder}/{path.name}: {seconds:.1f} s", flush=True)
    os.environ.pop("HELPERS_STRICT", None)
    return results


# ---- the website -------------------------------------------------------------------------------------------


def build_site() -> float:
    """Run `make book`'s build (cached: only changed notebooks execute) and return its seconds. Hold site_lock."""
    start = time.perf_counter()
    result = jupyter_book_build()
    if result.returncode != 0:
        raise RuntimeError("the site build failed:\n" + (result.stdout + result.stderr)[-3000:])
    return time.perf_counter() - start


@cache
def up_to_date_site() -> float:
    """Bring _build/html up to date (once per bench run) and return how long that took."""
    with site_lock():
        return build_site()


def cached_rebuild() -> dict[str, Measured]:
    """`make book` a second time with nothing changed (issue 2: "a cached make book rebuild")."""
    with site_lock():
        build_site()  # whatever changed since the last build executes here, untimed
        seconds = build_site()
    return {"rebuild": Measured(seconds, "jupyter-book build . --warningiserror --keep-going, nothing changed")}


class Loads(HTMLParser):
    """The site files a page makes the browser fetch as it loads: scripts, stylesheets, preloads, icons, images."""

    FETCHED_LINKS = {"stylesheet", "preload", "modulepreload", "icon"}

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attrs = dict(attrs)
        if tag in ("script", "img", "iframe", "source", "video", "audio", "embed") and attrs.get("src"):
            self.urls.append(attrs["src"])
        elif tag == "link" and self.FETCHED_LINKS & set((attrs.get("rel") or "").split()) and attrs.get("href"):
            self.urls.append(attrs["href"])


def local_file(url: str, base: Path, site: Path) -> Path | None:
    """The file under ``site`` that ``url`` (written in the file ``base``) names; None for data: and remote URLs."""
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or not parts.path:
        return None
    path = (base.parent / unquote(parts.path)).resolve()
    return path if path.is_file() and site.resolve() in path.parents else None


CSS_URL = re.compile(r"""url\(\s*["']?([^"')]+)""")
FONT_SOURCES = re.compile(r"@font-face\s*{[^}]*?\bsrc\s*:([^;}]*)")


def stylesheet_urls(css: str) -> list[str]:
    """The URLs a browser fetches for a stylesheet: its images, and of each font only the first source (the
    browser takes the first format it supports, woff2 before ttf); fonts never used are counted all the same."""
    fonts = [CSS_URL.findall(sources) for sources in FONT_SOURCES.findall(css)]
    fallbacks = {url for urls in fonts for url in urls[1:]}
    return [url for url in CSS_URL.findall(css) if url not in fallbacks]


def page_files(page: Path, site: Path) -> set[Path]:
    """The page and every site file it loads, with the files its stylesheets load (fonts, images)."""
    parser = Loads()
    parser.feed(page.read_text(encoding="utf-8"))
    files = {page} | {f for url in parser.urls if (f := local_file(url, page, site))}
    for css in [f for f in files if f.suffix == ".css"]:
        for url in stylesheet_urls(css.read_text(encoding="utf-8", errors="replace")):
            if f := local_file(url, css, site):
                files.add(f)
    return files


def page_weights(site: Path | None = None) -> dict[str, Measured]:
    """The heaviest chapter page (both editions) of the built site, in two views. "page": its HTML, explorer
    frames inline, and its figures. "first visit": that and every file the page loads when nothing is cached
    (the theme's scripts, styles and fonts, MathJax, the search index), shared by all pages and cached after
    the first. Files that scripts fetch later (MathJax's fonts) are not counted."""
    if site is None:
        up_to_date_site()
        site = HTML
    pages = sorted(site.glob("chapters/*.html")) + sorted(site.glob("solutions/*.html"))
    if not pages:
        why = f"no chapter pages in {site}: build the site first"
        return {"page": Measured(None, why), "first visit": Measured(None, why)}
    loads = {page: page_files(page, site) for page in pages}
    own = {page: sum(f.stat().st_size for f in files if f == page or "_images" in f.parts)
           for page, files in loads.items()}
    total = {page: sum(f.stat().st_size for f in files) for page, files in loads.items()}
    for page in sorted(own, key=own.get, reverse=True)[:3]:
        print(f"  page {page.relative_to(site)}: {own[page] / MB:.2f} MB, {total[page] / MB:.2f} MB on a first visit",
              flush=True)
    heaviest = max(own, key=own.get)
    html = heaviest.stat().st_size
    first = max(total, key=total.get)
    zipped = sum(len(gzip.compress(f.read_bytes(), 6)) for f in loads[first])
    return {"page": Measured(own[heaviest] / MB, f"{heaviest.relative_to(site)}: HTML {html / MB:.2f} MB, "
                             f"figures {(own[heaviest] - html) / MB:.2f} MB"),
            "first visit": Measured(total[first] / MB, f"{first.relative_to(site)}: the page {own[first] / MB:.2f} "
                                    f"MB, shared files {(total[first] - own[first]) / MB:.2f} MB; "
                                    f"{zipped / MB:.2f} MB gzipped")}


# ---- the grader --------------------------------------------------------------------------------------------


def grader(class_size: int = 30) -> dict[str, Measured]:
    """Issue 4's two budgets on chapter 1's worked solutions: "overhead" (grading one submission, all in, minus
    running its cells; after a first, warming run, as a worker is warm) and "class" (30 submissions, -j 2)."""
    from helpers.exercises.grading import Settings, grade
    from helpers.exercises.grading.submission import grade_submission

    source = notebook("solutions", "01")
    with tempfile.TemporaryDirectory(prefix="bench-grader-") as tmp:
        one = Path(tmp) / "one"
        one.mkdir()
        shutil.copy(source, one / "student.ipynb")
        grade_submission(one / "student.ipynb", one, "01", Settings())  # warm, as a worker is
        record = grade_submission(one / "student.ipynb", one, "01", Settings())
        overhead = Measured(record.seconds - record.cells_seconds,
                            f"{record.seconds:.1f} s to grade, {record.cells_seconds:.1f} s of it the student's cells")
        klass = Path(tmp) / "class"
        klass.mkdir()
        for n in range(class_size):
            shutil.copy(source, klass / f"student{n:02d}.ipynb")
        start = time.perf_counter()
        grade(klass, Path(tmp) / "results", jobs=2, log=lambda line: None)
        seconds = time.perf_counter() - start
    return {"overhead": overhead, "class": Measured(seconds, f"{class_size} copies of solutions/{source.name}")}


# ---- the whole suite ---------------------------------------------------------------------------------------


def run_logged(command: list[str], cwd: Path, env: dict, log: Path) -> tuple[float, int]:
    """Run ``command``, its output appended to ``log``; return (seconds, exit status)."""
    with open(log, "a") as out:
        out.write(f"$ {' '.join(command)}\n")
        out.flush()
        start = time.perf_counter()
        result = subprocess.run(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
    return time.perf_counter() - start, result.returncode


def slowest_tests(log: str) -> list[str]:
    """The lines of pytest's --durations report (`make test` asks for the slowest ten)."""
    _, _, after = log.rpartition(" durations ==")
    return re.findall(r"^\d+\.\d+s +\w+ +\S.*$", after.split("\n\n")[0], re.MULTILINE)


def pytest_summary(log: str) -> str:
    """pytest's last line: "4265 passed, 3 skipped in 503.12s (0:08:23)"."""
    found = re.findall(r"^=* ?(\d+ (?:passed|failed).*? in [\d.]+s(?: \([\d:]+\))?)", log, re.MULTILINE)
    return found[-1] if found else "no pytest summary in the log"


def clean_clone_suite() -> dict[str, Measured]:
    """`make test` as a new contributor or CI meets it: `git clone` of this repository's HEAD (committed work
    only), a fresh .venv installed by make (pip's local wheels and cache as this machine has them), then
    `CI=true bash .ci/run`. Key: "make test", minutes, installs included. The log, with the ten slowest tests,
    goes to _build/bench/make-test.log."""
    LOGS.mkdir(parents=True, exist_ok=True)
    log = LOGS / "make-test.log"
    log.write_text("")
    drop = {"HELPERS_STRICT", "HELPERS_PROGRESS", "VIRTUAL_ENV", "PYTHONPATH", "MAKEFLAGS", "MAKELEVEL"}
    env = {k: v for k, v in os.environ.items() if k not in drop} | {"CI": "true"}
    with tempfile.TemporaryDirectory(prefix="bench-clone-") as tmp:
        clone = Path(tmp) / "book"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=clone, capture_output=True,
                                text=True).stdout.strip()
        install, status = run_logged(["make", ".venv/.installed"], clone, env, log)
        suite, status = run_logged(["bash", ".ci/run"], clone, env, log) if status == 0 else (0.0, status)
    text = log.read_text()
    if status != 0:
        return {"make test": Measured(None, f"make test failed (exit {status}) in a clone of {commit}; "
                                            f"see {log.relative_to(ROOT)}")}
    for line in slowest_tests(text):
        print(f"  slow: {line}", flush=True)
    return {"make test": Measured((install + suite) / 60, f"clone of {commit}: {install / 60:.1f} min installing, "
                                  f"{suite / 60:.1f} min .ci/run; pytest: {pytest_summary(text)}")}
