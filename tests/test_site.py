"""The website: it builds with warnings as errors, every page loads nothing from outside the site, and in a
real browser (headless Chromium, 1280 x 800) no page raises a JavaScript error or logs a console error or
warning, code cells show 120-character lines without horizontal scrolling, math is typeset, an explorer's
slider changes its figure, search finds every chapter, the launch links point at the right notebooks, and
axe-core finds no serious or critical accessibility problem on any page of the book (counts by impact in
_build/axe-report.json)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from site_support import AXE, CHAPTER_PAGES, CHAPTERS, EDITIONS, EXTERNAL, FRONT_PAGES, REPO, ROOT, run_axe, visit

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
    assert not [p for p in site.rglob("*") if "axe" in p.name.lower()], "axe-core is for the tests, not the site"


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


@pytest.mark.parametrize("name", FRONT_PAGES)
def test_no_javascript_errors(tab, server, name):
    """Every page loads without an uncaught exception, a console error or warning or a failed request (the
    `tab` fixture fails the test on any of them and lists them). The chapter pages are checked by the same
    fixture in each of the tests below that open them (explorer, code width, accessibility)."""
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


@pytest.mark.parametrize("name", CHAPTER_PAGES)
def test_chapter_math_and_explorer_in_the_browser(tab, server, name):
    """Math is typeset; the first explorer's slider, moved from the keyboard, changes the frame, the value
    shown and announced, and the frame's alt text (the figure and its new setting)."""
    visit(tab, server, name)
    assert tab.locator("mjx-container").count() >= 5, "math is typeset by the vendored MathJax"

    explorer = tab.locator(".helpers-explorer").first
    explorer.scroll_into_view_if_needed()
    image, slider = explorer.locator("img"), explorer.locator("input[type=range]").first
    shown = explorer.locator("output").first
    before, alt_before, value_before = image.get_attribute("src"), image.get_attribute("alt"), shown.inner_text()
    slider.focus()
    tab.keyboard.press("ArrowRight" if slider.input_value() != slider.get_attribute("max") else "ArrowLeft")
    tab.wait_for_function(
        "([el, src]) => el.getAttribute('src') !== src", arg=[image.element_handle(), before], timeout=5_000
    )
    assert image.get_attribute("src").startswith("data:image/png;base64,")
    value = shown.inner_text()
    assert value != value_before
    assert slider.get_attribute("aria-valuetext") == value, "a screen reader announces the value shown"
    label = slider.evaluate("input => [...input.labels].map(l => l.textContent.trim()).join(' ')")
    assert label, "the slider has a <label for>"
    alt = image.get_attribute("alt")
    assert alt != alt_before and f"{label} = {value}" in alt, f"the frame's alt text follows the slider: {alt!r}"

    edition, stem = name.split("/")
    colab = tab.locator(f"a[href*='colab.research.google.com/github/{REPO}/blob/main/{edition}/{stem}.ipynb']")
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



def test_colour_mode_button_is_named_by_the_mode_it_shows(tab, server):
    """The theme's colour-mode button shows one icon (Light, Dark or System Settings); book.js names the button
    after it, so what a reader sees is part of its name (axe's label-content-name-mismatch), at every click."""
    visit(tab, server, "book/intro")
    button = tab.locator("button.theme-switch-button:visible").first
    seen = set()
    for _ in range(3):
        shown = button.evaluate("""button => {
            const icon = button.querySelector(`.theme-switch[data-mode='${document.documentElement.dataset.mode}']`);
            const title = icon.getAttribute('title') || icon.querySelector('title').textContent;  // <i> or <svg>
            return [getComputedStyle(icon).display, title];
        }""")
        assert shown[0] != "none", "the icon of the current mode is the one shown"
        assert button.get_attribute("aria-label") == f"Color mode: {shown[1]}"
        seen.add(shown[1])
        button.click()
    assert seen == {"Light", "Dark", "System Settings"}

# One distinctive term from each chapter (most of them glossary terms) that the site's search must find there.
SEARCH_TERMS = {
    "01_learning_and_estimation": "overfitting",
    "02_maximum_likelihood": "Kullback",
    "03_feedforward_networks": "backpropagation",
    "04_optimization": "Nesterov",
    "05_regularization": "ridge",
    "06_convolutional_networks": "receptive",
    "07_recurrent_networks": "LSTM",
    "08_attention_and_transformers": "transformer",
    "09_autoencoders": "Boltzmann",
    "10_generative_models": "reparameterization",
    "11_hypothesis_tests_and_evaluation": "Welch",
}


@pytest.mark.parametrize("stem", CHAPTERS)
def test_search_finds_a_term_of_every_chapter(tab, server, stem):
    """search.html?q=TERM lists the chapter's page (Sphinx's search, on the index the build wrote)."""
    assert stem in SEARCH_TERMS, f"add a term of chapter {stem} to SEARCH_TERMS in tests/test_site.py"
    tab.goto(f"{server}/search.html?q={SEARCH_TERMS[stem]}")
    tab.wait_for_function(
        "() => (document.querySelector('#search-results .search-summary') || {}).textContent"
        "?.startsWith('Search finished')", timeout=30_000
    )
    found = tab.locator("#search-results li a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert any(href.split("?")[0].endswith(f"chapters/{stem}.html") for href in found), (
        f"searching {SEARCH_TERMS[stem]!r} does not list chapters/{stem}: {found[:10]}"
    )


# ---- accessibility (axe-core) --------------------------------------------------------------------------

AXE_PAGES = [name for name in FRONT_PAGES if name != "index"] + CHAPTER_PAGES  # index.html only redirects
# A problem of one of these impacts fails the test. heading-order is "moderate" in axe, but headings in order
# are how a screen-reader user moves through a chapter, so it fails the test too.
BLOCKING_IMPACTS = ("critical", "serious")
BLOCKING_RULES = ("heading-order",)
# The rules the issue names; each must have run on every page (and, on a chapter, found something to check).
NAMED_RULES = ("color-contrast", "image-alt", "label", "heading-order")
IMPACTS = ("critical", "serious", "moderate", "minor")
AXE_REPORT = ROOT / "_build" / "axe-report.json"


@pytest.fixture(scope="module")
def axe_report():
    """Collects axe's counts per page; written to _build/axe-report.json, with a one-line summary, at the end."""
    report: dict[str, dict] = {}
    yield report
    if not report:
        return
    totals = Counter()
    for counts in report.values():
        totals.update({impact: counts["nodes"][impact] for impact in IMPACTS})
    axe_version = AXE.read_text(errors="replace")[:40].split("axe v")[1].split()[0]
    AXE_REPORT.write_text(json.dumps({"axe-core": axe_version, "totals": dict(totals), "pages": report}, indent=1))
    print(f"\naxe-core {axe_version} on {len(report)} page views: " + ", ".join(
        f"{totals[impact]} {impact}" for impact in IMPACTS) + f" (violating nodes; per page: {AXE_REPORT})")


def axe_counts(results: dict) -> dict:
    """Violating nodes by impact, and each violated rule with its impact and node count."""
    nodes = Counter()
    for violation in results["violations"]:
        nodes[violation["impact"]] += len(violation["nodes"])
    return {
        "nodes": {impact: nodes[impact] for impact in IMPACTS},
        "rules": {v["id"]: {"impact": v["impact"], "nodes": len(v["nodes"])} for v in results["violations"]},
    }


def describe(violations: list[dict]) -> str:
    """One line per rule (id, impact, how many nodes, what it asks) and the first selectors it failed on."""
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}, {len(v['nodes'])} nodes): {v['help']}")
        for node in v["nodes"][:4]:
            summary = node.get("failureSummary", "").replace("\n", " ")[:200]
            lines.append(f"    {' '.join(map(str, node['target']))}  {summary}")
    return "\n".join(lines)


def images_without_a_description(tab) -> list[str]:
    """Figures whose alt text is no description: missing, or a file name (myst-nb's default for a notebook
    output without `mystnb.image.alt`). Decorative images (alt="", role presentation) do not count."""
    return tab.evaluate(r"""() => [...document.querySelectorAll('main img')]
        .filter(img => !img.hasAttribute('alt') || /\.(png|jpe?g|svg|gif|webp)$/i.test(img.alt.trim()))
        .map(img => (img.getAttribute('alt') || img.src).slice(0, 100))""")


def assert_accessible(results: dict, name: str) -> None:
    blocking = [v for v in results["violations"] if v["impact"] in BLOCKING_IMPACTS or v["id"] in BLOCKING_RULES]
    assert not blocking, f"{name}: axe-core finds\n" + describe(blocking)


@pytest.mark.parametrize("name", AXE_PAGES)
def test_axe_finds_no_serious_accessibility_problem(tab, server, name, axe_report):
    """axe-core's whole rule set (WCAG 2.x A and AA and best practices) on the page as a reader gets it, in
    light mode: no critical or serious violation and headings in order; every figure described."""
    visit(tab, server, name)
    results = run_axe(tab)
    axe_report[name] = axe_counts(results)
    kinds = ("violations", "passes", "incomplete", "inapplicable")
    ran = {rule["id"]: kind for kind in kinds for rule in results[kind]}
    assert set(NAMED_RULES) <= set(ran), f"{name}: axe did not run {set(NAMED_RULES) - set(ran)}"
    if name.startswith(EDITIONS):  # figures, an explorer's sliders, text and headings: the rules apply
        applied = [rule for rule in NAMED_RULES if ran[rule] != "inapplicable"]
        assert applied == list(NAMED_RULES), f"{name}: nothing to check for {set(NAMED_RULES) - set(applied)}"
    assert_accessible(results, name)
    undescribed = images_without_a_description(tab)
    axe_report[name]["images without a description"] = len(undescribed)
    assert not undescribed, f"{name}: {len(undescribed)} figures have no alt text (mystnb.image.alt): {undescribed[:3]}"


# Dark mode changes only colours, so only the contrast rule runs there, on the pages that show every kind of
# colour the site has: the front pages' text, links and tables, a student edition's code, verdict boxes ("not
# attempted"), progress table and explorer, and the worked solutions' verdict boxes ("correct"). (Every
# chapter page would add about 3 minutes to the suite for the same colours.)
DARK_PAGES = [name for name in AXE_PAGES if not name.startswith(EDITIONS)] + [
    f"chapters/{CHAPTERS[0]}", f"solutions/{CHAPTERS[0]}"]


@pytest.mark.parametrize("name", DARK_PAGES)
def test_axe_finds_enough_contrast_in_dark_mode(tab, server, name, axe_report):
    tab.emulate_media(color_scheme="dark")  # the theme's default mode is "auto": it follows the system
    visit(tab, server, name)
    assert tab.evaluate("document.documentElement.dataset.theme") == "dark"
    results = run_axe(tab, {"runOnly": ["color-contrast"]})
    axe_report[f"{name} (dark mode, contrast only)"] = axe_counts(results)
    assert_accessible(results, f"{name} in dark mode")
