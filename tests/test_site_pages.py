"""The website's front pages and how a chapter travels: the landing page's chapter cards, the exercise index,
"how to use this book" with check()'s real feedback and a real explorer, the print stylesheet, and the weight
of every chapter page.

The oracles are independent of the extension that writes the pages (book/_ext/book_pages.py): the built
chapter pages (their explorers, their sections), the notebooks' nbgrader cells, and the catalogue."""

from __future__ import annotations

import gzip
import re
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse

import nbformat
import pytest
from bs4 import BeautifulSoup
from site_support import CHAPTER_PAGES, CHAPTERS, ROOT, visit

from helpers.exercises import catalogue

pytestmark = pytest.mark.site

MAX_PAGE_BYTES = 5_000_000  # issue 17: every chapter page, explorer frames included, under 5 MB


def soup(site: Path, name: str) -> BeautifulSoup:
    return BeautifulSoup((site / f"{name}.html").read_text(), "html.parser")


def graded_points(stem: str) -> list[int]:
    """The nbgrader points of each check() cell of a chapter's student notebook."""
    cells = nbformat.read(ROOT / "chapters" / f"{stem}.ipynb", as_version=4).cells
    return [c.metadata["nbgrader"]["points"] for c in cells
            if c.metadata.get("nbgrader", {}).get("grade") and not c.metadata["nbgrader"].get("solution")]


def target(site: Path, page: str, href: str) -> tuple[Path, str]:
    """The file and the fragment a relative link of ``page`` points at."""
    url = urlparse(urljoin(f"http://site/{page}.html", href))
    return site / unquote(url.path).lstrip("/"), url.fragment


def assert_link_lands(site: Path, page: str, href: str) -> BeautifulSoup:
    file, fragment = target(site, page, href)
    assert file.is_file(), f"{page}: {href} leads to no page"
    html = BeautifulSoup(file.read_text(), "html.parser")
    if fragment:
        assert html.find(id=fragment) is not None, f"{page}: {href} leads to no element with id {fragment!r}"
    return html


# ---- the landing page ----------------------------------------------------------------------------------


def cards(site: Path):
    return soup(site, "book/intro").select(".chapter-path .chapter-card")


def test_landing_page_has_a_card_per_chapter_in_order(site):
    found = cards(site)
    assert len(found) == len(CHAPTERS) == 11
    for number, (card, stem) in enumerate(zip(found, CHAPTERS), start=1):
        header = card.select_one(".sd-card-header")
        assert header.select_one(".chapter-number").get_text(strip=True) == str(number)
        link = header.find("a")
        assert target(site, "book/intro", link["href"])[0] == site / "chapters" / f"{stem}.html"
        chapter_title = soup(site, f"chapters/{stem}").find("h1").get_text(" ", strip=True).rstrip("#").strip()
        assert chapter_title == f"{number}. {link.get_text(' ', strip=True)}"


@pytest.mark.parametrize("index", range(len(CHAPTERS)), ids=CHAPTERS)
def test_card_counts_match_the_chapter(site, index):
    """Exercises and points from the notebook's graded cells; explorers counted on the built chapter page."""
    stem, card = CHAPTERS[index], cards(site)[index]
    footer = card.select_one(".sd-card-footer").get_text(" ", strip=True)
    points = graded_points(stem)
    assert re.search(rf"\b{len(points)} exercises?\b", footer), footer
    assert re.search(rf"\b{sum(points)} points?\b", footer), footer
    players = soup(site, f"chapters/{stem}").select("div.helpers-explorer")
    assert re.search(rf"\b{len(players)} explorers?\b", footer), footer
    assert len(card.select(".sd-card-footer li li")) == len(players), "a line per explorer"
    body = card.select_one(".sd-card-body")
    assert "After this chapter you can" in body.get_text() and len(body.select("li")) >= 3


def test_every_link_of_the_landing_page_lands(site):
    for card in cards(site):
        for link in card.find_all("a", href=True):
            assert_link_lands(site, "book/intro", link["href"])


# ---- the exercise index ----------------------------------------------------------------------------------


def index_rows(site: Path):
    return soup(site, "book/exercises").select("table.exercise-index tbody tr")


def test_exercise_index_lists_every_exercise_once(site):
    ids = [row.find_all("td")[4].get_text(strip=True) for row in index_rows(site)]
    assert sorted(ids) == sorted(catalogue()), "every exercise of the catalogue, each once"
    assert len(ids) == len(set(ids))
    for row in index_rows(site):
        cells = [td.get_text(" ", strip=True).replace("\u2019", "'") for td in row.find_all("td")]  # smartquotes
        exercise = catalogue()[cells[4]]
        assert cells[1:4] == [exercise.title, exercise.kind.description, str(exercise.points)]


def test_exercise_index_links_land_on_the_section_of_the_exercise_check_cell(site):
    pages: dict[Path, BeautifulSoup] = {}
    for row in index_rows(site):
        cells = row.find_all("td")
        exercise_id = cells[4].get_text(strip=True)
        for cell, folder in ((cells[0], "chapters"), (cells[5], "solutions")):
            href = cell.find("a")["href"]
            file, fragment = target(site, "book/exercises", href)
            assert file.parent.name == folder and file.stem[:2] == exercise_id[:2], (exercise_id, href)
            page = pages.setdefault(file, assert_link_lands(site, "book/exercises", href))
            section = page.find(id=fragment)
            assert section.name == "section", (exercise_id, href)
            inputs = " ".join(c.get_text() for c in section.select(".cell_input"))
            assert f'check("{exercise_id}"' in inputs, f"{href} is not the section of {exercise_id}'s check cell"
            assert section.find(re.compile("^h[1-6]$")).get_text().startswith("Exercise ")


def test_card_exercise_links_land_on_their_chapter_table(site):
    tables = {t["id"]: t for t in soup(site, "book/exercises").select("table.exercise-index")}
    for number, card in enumerate(cards(site), start=1):
        link = next(a for a in card.select(".sd-card-footer a") if "exercise" in a.get_text())
        _, fragment = target(site, "book/intro", link["href"])
        assert fragment in tables
        assert tables[fragment].caption.get_text(" ", strip=True).split(": ")[0].endswith(f"Chapter {number}. "
                                                                                           + cards_title(card))


def cards_title(card) -> str:
    return card.select_one(".sd-card-header a").get_text(" ", strip=True)


# ---- how to use this book ----------------------------------------------------------------------------------


def test_how_to_use_shows_real_feedback_and_a_real_explorer(site):
    page = soup(site, "book/how_to_use")
    wrong = page.select_one(".feedback-example .exercise-incorrect").get_text(" ", strip=True)
    right = page.select_one(".feedback-example .exercise-correct").get_text(" ", strip=True)
    assert "01.unbiased_variance" in wrong and "likely cause:" in wrong and "Next hint:" in wrong
    assert "01.unbiased_variance" in right and "tests passed" in right
    assert len(page.select("div.helpers-explorer input[type=range]")) == 2


def test_how_to_use_explorer_moves(tab, server):
    visit(tab, server, "book/how_to_use")
    image = tab.locator("div.helpers-explorer img").first
    before = image.get_attribute("src")
    slider = tab.locator("div.helpers-explorer input[type=range]").first
    slider.focus()
    tab.keyboard.press("ArrowRight")
    assert image.get_attribute("src") != before


# ---- print -----------------------------------------------------------------------------------------------

HIDDEN_IN_PRINT = [".bd-header", ".bd-sidebar-primary", ".bd-sidebar-secondary", ".bd-header-article",
                   ".prev-next-area", ".bd-footer", ".search-button-field", ".theme-switch-button",
                   ".dropdown-launch-buttons"]


def displayed(tab, selector: str) -> list[bool]:
    """For each element matching ``selector``: is it laid out (not display:none, itself or an ancestor)?"""
    return tab.eval_on_selector_all(selector, "els => els.map(e => e.getClientRects().length > 0)")


def test_a_chapter_prints_without_chrome_and_with_its_explorers_current_frame(tab, server):
    name = "chapters/01_learning_and_estimation"
    tab.set_viewport_size({"width": 1800, "height": 1000})  # wide enough for both sidebars to be docked
    visit(tab, server, name)
    for selector in HIDDEN_IN_PRINT:
        assert any(displayed(tab, selector)), f"{selector} is on the screen page (else this test proves nothing)"
    slider = tab.locator("div.helpers-explorer input[type=range]").first
    slider.focus()
    tab.keyboard.press("ArrowRight")  # the reader moved it: the print shows that frame and that value
    moved_src = tab.locator("div.helpers-explorer img").first.get_attribute("src")
    moved_value = tab.locator("div.helpers-explorer output").first.inner_text()

    tab.emulate_media(media="print")
    for selector in HIDDEN_IN_PRINT:
        assert not any(displayed(tab, selector)), f"{selector} is printed"
    assert not any(displayed(tab, "div.helpers-explorer input[type=range]")), "sliders are printed"
    image = tab.locator("div.helpers-explorer img").first
    assert image.is_visible() and image.get_attribute("src") == moved_src
    box = image.bounding_box()
    assert box["width"] > 200 and box["height"] > 100
    output = tab.locator("div.helpers-explorer output").first
    assert output.is_visible() and output.inner_text() == moved_value
    cut = tab.eval_on_selector_all(
        "div.highlight pre, div.cell_output pre",
        "els => els.filter(e => e.scrollWidth > e.clientWidth + 1).length")
    assert cut == 0, f"{cut} code or output blocks are cut at the right margin in print"
    pdf = tab.pdf(format="A4")
    assert pdf.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page\b", pdf)) > 5


# ---- page weight --------------------------------------------------------------------------------------------


def first_visit_files(browser, server: str, site: Path, name: str) -> list[Path]:
    """Every file of the site that Chromium fetches on a first visit of a page (cache empty): the HTML, with
    the explorers' frames inside it as data URIs, and the images, style sheets, scripts, fonts and search index
    it loads, MathJax's included."""
    context = browser.new_context()
    page = context.new_page()
    urls: list[str] = []
    page.on("requestfinished", lambda request: urls.append(request.url))
    visit(page, server, name)
    page.wait_for_load_state("networkidle")
    context.close()
    local = {unquote(urlparse(url).path).lstrip("/") for url in urls if url.startswith(server)}
    return [site / path for path in sorted(local)]


def test_every_chapter_page_weighs_under_5_mb(browser, server, site, capsys):
    """The weight of a first visit, as a static host serves it (gzip, as GitHub Pages and every common web
    server compress text; PNG and WOFF2 are compressed already) and as raw bytes. The limit applies to what
    travels: the gzip column."""
    weights = {}
    for name in CHAPTER_PAGES:
        files = first_visit_files(browser, server, site, name)
        assert site / f"{name}.html" in files
        raw = sum(f.stat().st_size for f in files)
        sent = sum(len(gzip.compress(f.read_bytes(), compresslevel=6)) for f in files)
        weights[name] = (sent, raw, (site / f"{name}.html").stat().st_size, len(files))
    rows = sorted(weights.items(), key=lambda kv: -kv[1][0])
    table = "\n".join(f"{name:48s} {sent / 1e6:5.2f} MB gzip  {raw / 1e6:5.2f} MB raw  (HTML {html / 1e6:4.2f} MB, "
                      f"{count} files)" for name, (sent, raw, html, count) in rows)
    with capsys.disabled():
        print("\nChapter pages by weight, first visit:\n" + table)
    heavy = [name for name, (sent, *_) in weights.items() if sent >= MAX_PAGE_BYTES]
    assert not heavy, f"pages of 5 MB or more: {heavy}\n{table}"
