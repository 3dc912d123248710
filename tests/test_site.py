"""The website: it builds with warnings as errors, every page loads nothing from outside the site, and in a
real browser (headless Chromium, 1280 x 800) no page raises a JavaScript error or logs a console error or
warning, code cells show 120-character lines without horizontal scrolling, math is typeset, an explorer's
slider changes its figure and the launch links point at the right notebooks."""

from __future__ import annotations

from pathlib import Path

import pytest
from site_support import CHAPTER_PAGES, CHAPTERS, EXTERNAL, FRONT_PAGES, REPO, visit

pytestmark = pytest.mark.site


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
