"""The book as a whole, as a reader meets it (issue 17): headings in order, a glossary entry for every bold term,
links between chapters where one builds on another, and a caption and alt text on every figure.

The notebook-level tests read `solutions/` (the source; `chapters/` is generated from it by release, and
tests/test_release.py checks that the two are in sync). Markdown is parsed with MyST's own parser, so what
counts as a heading, a bold phrase or a link here is what the site renders: a `#` line inside a code fence is
not a heading, `**` inside a code span is not bold. The figure test and a second look at the links read the
built site (marked `site`)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import nbformat
import pytest
import yaml
from bs4 import BeautifulSoup
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from myst_parser.config.main import MdParserConfig
from myst_parser.mdit_to_docutils.base import default_slugify
from myst_parser.parsers.mdit import create_md_parser
from site_support import CHAPTER_PAGES

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions"
GLOSSARY = ROOT / "book" / "glossary.md"
CHAPTERS = sorted(p.stem for p in SOLUTIONS.glob("[0-9][0-9]_*.ipynb"))
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())

# Where a chapter uses another's results, data, code or definitions (found by reading the chapters), it says so
# with at least one link. Chapter -> the chapters it builds on.
BUILDS_ON = {
    "02": {"01": "estimators, their bias and standard error, the 1/m variance estimator, the noisy sine"},
    "03": {"02": "the cross-entropy and softmax outputs derived from maximum likelihood"},
    "04": {"03": "why weights start random; the MLP and fit() being optimised"},
    "05": {"01": "bias, variance and the validation set", "02": "maximum likelihood, which MAP extends with a prior",
           "04": "AdamW's decoupled weight decay"},
    "06": {"03": "the MLP rival, dead units and skip connections", "04": "the Hessian's stable-step condition",
           "05": "augment.shift and data augmentation"},
    "07": {"04": "gradient clipping and adaptive steps", "06": "parameter sharing across positions"},
    "08": {"03": "residual connections", "07": "the encoder-decoder and its one-vector bottleneck"},
    "09": {"02": "the reconstruction loss as a negative log-likelihood", "05": "the lasso's pull to zero"},
    "10": {"06": "SmallCNN, the classifier that judges the samples", "09": "the digits and the plain autoencoder"},
    "11": {"01": "the standard error, the validation set and kfold_indices", "05": "the dropout runs on 8 seeds",
           "09": "the ROC curve"},
}


# ---- reading the notebooks with MyST's parser -----------------------------------------------------------


@cache
def markdown_parser():
    """MyST's markdown-it parser with the book's extensions (_config.yml), as the site build uses it."""
    extensions = set(CONFIG.get("parse", {}).get("myst_enable_extensions", []))
    return create_md_parser(MdParserConfig(enable_extensions=extensions), RendererHTML)


def directive_body(token: Token) -> str | None:
    """The markdown body of a MyST directive fence (```{admonition} ...), without its options; None for a
    code fence or a directive whose body is not markdown (code, math)."""
    match = re.match(r"\{([\w-]+)\}", token.info.strip())
    if not match or match.group(1) in {"code", "code-block", "code-cell", "sourcecode", "math", "raw", "glossary"}:
        return None
    lines = token.content.split("\n")
    while lines and re.match(r"\s*:[\w-]+:", lines[0]):
        lines.pop(0)
    return "\n".join(lines)


def tokens(markdown: str) -> list[Token]:
    """The block tokens of `markdown`, with the bodies of directives (admonitions) parsed in place."""
    out = []
    for token in markdown_parser().parse(markdown):
        body = directive_body(token) if token.type in ("fence", "colon_fence") else None
        if body is None:
            out.append(token)
        else:
            out.extend(t for t in tokens(body) if t.type != "heading_open")  # a heading in a box is no section
    return out


@cache
def markdown_cells(stem: str) -> tuple[tuple[int, str], ...]:
    """(cell index, source) of every markdown cell of solutions/<stem>.ipynb."""
    nb = nbformat.read(SOLUTIONS / f"{stem}.ipynb", as_version=4)
    return tuple((i, cell.source) for i, cell in enumerate(nb.cells) if cell.cell_type == "markdown")


def inline_text(children: list[Token]) -> str:
    """The text a reader sees in a run of inline tokens (code and math keep their source)."""
    parts = []
    for child in children:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("math_inline", "math_inline_double"):
            parts.append(f"${child.content}$")
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    return " ".join("".join(parts).split())


def headings(stem: str) -> list[tuple[int, int, str, str]]:
    """(cell index, level, text, slug) of every section heading of a chapter, in order."""
    return headings_in(markdown_cells(stem))


def headings_in(cells) -> list[tuple[int, int, str, str]]:
    """headings() of (cell index, markdown) pairs; the slug is MyST's, from the heading's text and code."""
    found = []
    for index, source in cells:
        block = tokens(source)
        for i, token in enumerate(block):
            if token.type == "heading_open":
                children = block[i + 1].children or []
                title = "".join(c.content for c in children if c.type in ("text", "code_inline"))
                found.append((index, int(token.tag[1]), inline_text(children), default_slugify(title)))
    return found


def bold_phrases(markdown: str) -> list[str]:
    """The text of every **bold** run in `markdown`, whitespace collapsed."""
    found = []
    for block in tokens(markdown):
        children = block.children or []
        for i, child in enumerate(children):
            if child.type == "strong_open":
                depth, j = 1, i + 1
                while depth:
                    depth += {"strong_open": 1, "strong_close": -1}.get(children[j].type, 0)
                    j += 1
                found.append(inline_text(children[i + 1:j - 1]))
    return found


def links(markdown: str) -> list[tuple[str, str]]:
    """(href, link text) of every markdown link in `markdown`."""
    found = []
    for block in tokens(markdown):
        children = block.children or []
        for i, child in enumerate(children):
            if child.type == "link_open":
                j = next(k for k in range(i, len(children)) if children[k].type == "link_close")
                found.append((child.attrs.get("href", ""), inline_text(children[i + 1:j])))
    return found


# ---- the glossary -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GlossaryEntry:
    terms: tuple[str, ...]  # every term line: the first is the entry's name, the others its aliases
    definition: str


def parse_glossary(text: str) -> list[GlossaryEntry]:
    """The entries of the ```{glossary}``` block of a MyST page, in file order.

    Sphinx's glossary syntax: options (`:sorted:`) first; an entry is one or more term lines at the left margin
    followed by its definition, indented; a blank line may separate an entry from the next and paragraphs of a
    definition (whose lines stay indented). Several term lines before one definition are several names for it:
    the book uses the second and later lines as aliases. Raises ValueError on a page without a glossary block,
    an unclosed block, a definition without a term, or terms without a definition."""
    opening = re.search(r"^(`{3,}|:{3,})\{glossary\}[^\n]*\n", text, re.MULTILINE)
    if not opening:
        raise ValueError("no ```{glossary} block found")
    fence = opening.group(1)
    closing = re.compile(rf"^{re.escape(fence[0])}{{{len(fence)},}}\s*$", re.MULTILINE)
    end = closing.search(text, opening.end())
    if not end:
        raise ValueError(f"the {{glossary}} block opened with {fence} is never closed")
    lines = text[opening.end():end.start()].split("\n")
    while lines and re.match(r":[\w-]+:", lines[0]):
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    entries, terms, definition = [], [], []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            if terms and not definition:
                raise ValueError(f"glossary line {number}: a blank line between {terms} and their definition")
            if definition:
                definition.append("")
            continue
        if line[0].isspace():
            if not terms:
                raise ValueError(f"glossary line {number}: an indented definition with no term above it")
            definition.append(line.strip())
        else:
            if definition:
                entries.append(GlossaryEntry(tuple(terms), "\n".join(definition).strip()))
                terms, definition = [], []
            terms.append(line.strip())
    if terms and not definition:
        raise ValueError(f"glossary: the terms {terms} have no definition")
    if terms:
        entries.append(GlossaryEntry(tuple(terms), "\n".join(definition).strip()))
    return entries


def normalise(phrase: str) -> str:
    """How a bold phrase and a glossary name are compared: case-insensitive, whitespace collapsed, any dash as
    "-", curly quotes straight, the British -isation as the glossary's -ization."""
    phrase = unicodedata.normalize("NFKC", phrase).casefold()
    phrase = re.sub(r"[\u2010-\u2015\u2212]", "-", phrase).replace("\u2019", "'").replace("\u2018", "'")
    phrase = re.sub(r"isation", "ization", phrase)
    return " ".join(phrase.split())


def names(entry: GlossaryEntry) -> set[str]:
    """Every normalised name an entry answers to: each term line; each without its parenthesised parts
    ("Bias (of an estimator)" is also "Bias"); and an abbreviation in parentheses alone ("RNN")."""
    found = set()
    for term in entry.terms:
        found.add(normalise(term))
        found.add(normalise(re.sub(r"\s*\([^)]*\)", "", term)))
        found.update(normalise(a) for a in re.findall(r"\(([A-Z][\w-]*[A-Z][\w-]*)\)", term))
    return found


def is_label(phrase: str) -> bool:
    """A run-in paragraph label ("**A coin.**", "**Common mistake: ...**", "**a.**"), not a term."""
    return phrase.strip()[-1:] in {".", ":", "?", "!"}


def glossary_match(phrase: str, known: set[str]) -> bool:
    """Whether a bold phrase names a glossary entry: equal to one of its names, or that name's plural (+s, +es)."""
    phrase = normalise(phrase)
    return any(candidate in known for candidate in {phrase, phrase[:-1] if phrase.endswith("s") else phrase,
                                                    phrase[:-2] if phrase.endswith("es") else phrase})


@cache
def glossary_names() -> frozenset[str]:
    return frozenset(name for entry in parse_glossary(GLOSSARY.read_text()) for name in names(entry))


# ---- tests of the tools above (so that a failure below is about the book, not the parser) ------------------


SAMPLE_GLOSSARY = """\
# Glossary

Some text with a **bold** word outside the block.

````{glossary}
:sorted:
Bias (of an estimator)
  $\\mathbb{E}[\\hat\\theta] - \\theta$.

  A second paragraph.
Recurrent neural network (RNN)
RNNs
  A network with a loop.

Kernel (filter)
  The weights of a convolution.
````

After the block.
"""


def test_parse_glossary_reads_terms_aliases_and_definitions():
    entries = parse_glossary(SAMPLE_GLOSSARY)
    assert [e.terms for e in entries] == [("Bias (of an estimator)",), ("Recurrent neural network (RNN)", "RNNs"),
                                          ("Kernel (filter)",)]
    assert entries[0].definition == "$\\mathbb{E}[\\hat\\theta] - \\theta$.\n\nA second paragraph."
    assert entries[2].definition == "The weights of a convolution."
    assert names(entries[0]) == {"bias (of an estimator)", "bias"}
    assert names(entries[1]) == {"recurrent neural network (rnn)", "recurrent neural network", "rnn", "rnns"}
    known = set().union(*map(names, entries))
    for phrase in ["bias", "Bias", "recurrent neural\nnetworks", "RNN", "kernels", "Kernel (filter)"]:
        assert glossary_match(phrase, known), phrase
    for phrase in ["variance", "bia", "filter", "recurrent", "kernelss"]:
        assert not glossary_match(phrase, known), phrase


@pytest.mark.parametrize("broken, message", [
    ("no block here", "no ```{glossary} block"),
    ("```{glossary}\nTerm\n  Definition\n", "never closed"),
    ("```{glossary}\n  Definition first\n```\n", "no term above it"),
    ("```{glossary}\nTerm\n\n  Definition after a gap\n```\n", "blank line between"),
    ("```{glossary}\nA\n  a.\nB\n```\n", "have no definition"),
])
def test_parse_glossary_refuses_a_broken_block(broken, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_glossary(broken)


def test_glossary_terms_are_unique():
    """No term line twice in book/glossary.md (Sphinx would warn "duplicate term", which fails the build; two
    helpers adding the same entry is the likely way)."""
    seen: dict[str, str] = {}
    duplicates = []
    for entry in parse_glossary(GLOSSARY.read_text()):
        for term in entry.terms:
            if normalise(term) in seen:
                duplicates.append(f"{term!r} (also in the entry {seen[normalise(term)]!r})")
            seen[normalise(term)] = entry.terms[0]
    assert not duplicates, "book/glossary.md has duplicate terms:\n" + "\n".join(duplicates)


def test_markdown_reading_sees_what_the_site_renders():
    sample = ("# Title `x`\n\n**A label.** a **term** and **`code` term**, `**not bold**`\n\n"
              "```python\n# not a heading **nor bold**\n```\n\n"
              "```{admonition} Box\n:class: tip\n**boxed term** and [link](05_x.ipynb#sec)\n```\n\n"
              "## Section two\n")
    assert bold_phrases(sample) == ["A label.", "term", "code term", "boxed term"]
    assert [is_label(p) for p in bold_phrases(sample)] == [True, False, False, False]
    assert links(sample) == [("05_x.ipynb#sec", "link")]
    assert [(level, text) for _, level, text, _ in headings_in([(0, sample)])] == [(1, "Title x"), (2, "Section two")]
    assert default_slugify("1.2 Bias and `variance`!") == "12-bias-and-variance"


# ---- the chapters -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("stem", CHAPTERS)
def test_headings_are_in_order(stem):
    """One level-1 heading, the chapter's title, first; going down, no level is skipped (## then #### is not)."""
    found = headings(stem)
    assert found, f"{stem} has no heading"
    titles = [(cell, text) for cell, level, text, _ in found if level == 1]
    assert len(titles) == 1 and found[0][1] == 1, (
        f"{stem}: the title must be the one level-1 heading, and first; level-1 headings: {titles}")
    problems = [f"cell {cell}: {'#' * level} {text!r} follows a level-{previous} heading"
                for (_, previous, _, _), (cell, level, text, _) in zip(found, found[1:]) if level > previous + 1]
    assert not problems, f"{stem} skips heading levels:\n" + "\n".join(problems)


@pytest.mark.parametrize("stem", CHAPTERS)
def test_every_bold_term_is_in_the_glossary(stem):
    """The rule. A bold phrase (**...**, found by MyST's parser, whitespace collapsed) whose last character is
    `.`, `:`, `?` or `!` is a run-in label ("**A coin.**", "**Common mistake: ...**", "**a.**"), not a term.
    Every other bold phrase is a term, and must name an entry of book/glossary.md's {glossary} block: equal to
    one of the entry's term lines (the first is its name, further lines are aliases), or to a term line without
    its parenthesised parts, or to an abbreviation in parentheses, or to the plural (+s, +es) of any of these;
    compared case-insensitively, with whitespace collapsed, dashes unified and -isation read as -ization.
    Emphasis that is not a term is *italic*, not bold."""
    known = glossary_names()
    missing = [f"cell {cell}: **{phrase}**" for cell, source in markdown_cells(stem)
               for phrase in bold_phrases(source) if not is_label(phrase) and not glossary_match(phrase, known)]
    assert not missing, (
        f"{stem}: {len(missing)} bold phrases are neither labels (ending in . : ? !) nor glossary terms; add "
        "the term to book/glossary.md (or as an alias line of its entry), or make plain emphasis *italic*:\n"
        + "\n".join(missing))


CHAPTER_LINK = re.compile(r"(?:\./)?(?P<stem>\d\d_[\w-]+)\.ipynb(?:#(?P<anchor>.*))?")


def chapter_links(stem: str) -> list[tuple[int, str, str]]:
    """(cell index, href, text) of every link from a chapter to a chapter notebook (its own included)."""
    return [(cell, href, text) for cell, source in markdown_cells(stem) for href, text in links(source)
            if re.search(r"\d\d_[\w-]+\.(ipynb|md|html)\b", href) and not re.match(r"[a-z]+://", href)]


def heading_anchor_depth() -> int:
    """How deep MyST makes heading anchors (myst_heading_anchors; 0 when unset: then no #anchor resolves)."""
    sphinx = CONFIG.get("sphinx", {}).get("config", {})
    return int(CONFIG.get("parse", {}).get("myst_heading_anchors", sphinx.get("myst_heading_anchors", 0)) or 0)


@pytest.mark.parametrize("stem", CHAPTERS)
def test_links_between_chapters_resolve(stem):
    """A link to another chapter names its notebook in the same folder (`05_regularization.ipynb`, so that it
    works in both editions), the notebook exists, an `#anchor` is the slug MyST gives one of its headings, and a
    link whose text is "chapter N" leads to chapter N."""
    problems = []
    for cell, href, text in chapter_links(stem):
        match = CHAPTER_LINK.fullmatch(href)
        if not match:
            problems.append(f"cell {cell}: [{text}]({href}): link to the notebook in the same folder, "
                            "like 05_regularization.ipynb")
            continue
        target = match.group("stem")
        if not (SOLUTIONS / f"{target}.ipynb").exists():
            problems.append(f"cell {cell}: [{text}]({href}): there is no solutions/{target}.ipynb")
            continue
        anchor = match.group("anchor")
        if anchor is not None:
            slugs = {slug for _, level, _, slug in headings(target) if level <= heading_anchor_depth()}
            if anchor not in slugs:
                problems.append(f"cell {cell}: [{text}]({href}): #{anchor} is not a heading anchor of {target} "
                                f"(myst_heading_anchors = {heading_anchor_depth()}; anchors: {sorted(slugs)})")
        number = re.fullmatch(r"chapter (\d+)", text.strip(), re.IGNORECASE)
        if number and int(number.group(1)) != int(target[:2]):
            problems.append(f"cell {cell}: [{text}]({href}) says chapter {number.group(1)} but leads to {target}")
    assert not problems, f"{stem}:\n" + "\n".join(problems)


@pytest.mark.parametrize("stem", [s for s in CHAPTERS if s[:2] in BUILDS_ON])
def test_a_chapter_links_to_the_chapters_it_builds_on(stem):
    """Each known dependency (BUILDS_ON, found by reading the chapters) has at least one link."""
    linked = {CHAPTER_LINK.fullmatch(href).group("stem")[:2] for _, href, _ in chapter_links(stem)
              if CHAPTER_LINK.fullmatch(href)}
    missing = [f"chapter {int(number)} ({what})" for number, what in BUILDS_ON[stem[:2]].items()
               if number not in linked]
    assert not missing, (f"{stem} builds on these chapters but never links to them; write e.g. "
                         "[chapter 5](05_regularization.ipynb) where it uses them:\n" + "\n".join(missing))


def test_the_dependency_table_names_real_chapters():
    numbers = {stem[:2] for stem in CHAPTERS}
    assert set(BUILDS_ON) <= numbers
    assert all(set(deps) <= numbers and all(d < c for d in deps) for c, deps in BUILDS_ON.items())


# ---- figures ----------------------------------------------------------------------------------------------


def meaningful_alt(alt: str) -> bool:
    """Alt text that describes a picture: several words, not a file name or path."""
    alt = alt.strip()
    looks_like_a_file = re.search(r"\.(png|jpe?g|svg|gif)\b|_images/|^[\w./-]+$", alt, re.IGNORECASE)
    return len(alt.split()) >= 5 and not looks_like_a_file


@pytest.mark.parametrize("stem", CHAPTERS)
def test_figure_metadata_is_complete(stem):
    """A code cell that declares a figure for the site (myst-nb's cell metadata `mystnb.figure.caption` and
    `mystnb.image.alt`) declares both, a short visible caption and an alt text that describes what is plotted
    (and is not the caption again). Which cells draw figures only the built site knows: see the site test."""
    nb = nbformat.read(SOLUTIONS / f"{stem}.ipynb", as_version=4)
    problems = []
    for index, cell in enumerate(nb.cells):
        options = cell.metadata.get("mystnb")
        if cell.cell_type != "code" or not options or not ({"figure", "image"} & set(options)):
            continue
        caption = str(options.get("figure", {}).get("caption", "")).strip()
        alt = str(options.get("image", {}).get("alt", "")).strip()
        if not caption:
            problems.append(f"cell {index}: no mystnb.figure.caption")
        if not meaningful_alt(alt):
            problems.append(f"cell {index}: mystnb.image.alt {alt!r} does not describe the figure (5 words or more)")
        if caption and normalise(caption) == normalise(alt):
            problems.append(f"cell {index}: the alt text repeats the caption; describe what is plotted")
        if options.get("figure", {}).get("name"):
            problems.append(f"cell {index}: a figure name is given to every output of the cell: leave it out")
    assert not problems, f"{stem}:\n" + "\n".join(problems)


@pytest.mark.site
@pytest.mark.parametrize("page", CHAPTER_PAGES)
def test_every_figure_on_the_site_has_a_caption_and_alt_text(site, page):
    """Every image a code cell drew (src under _images/) sits in a <figure> with a non-empty <figcaption> and
    has alt text that describes it. Explorers' frames (data: URIs inside .helpers-explorer) are not checked here."""
    soup = BeautifulSoup((site / f"{page}.html").read_text(), "html.parser")
    article = soup.find("article")
    assert article is not None, f"{page}.html has no <article>"
    problems = []
    for number, img in enumerate(article.find_all("img"), start=1):
        if "_images/" not in img.get("src", "") or img.find_parent(class_="helpers-explorer"):
            continue
        figure = img.find_parent("figure")
        caption = figure.find("figcaption") if figure else None
        section = img.find_previous(["h1", "h2", "h3", "h4"])
        where = f"image {number} (under {section.get_text(strip=True).rstrip('#') if section else 'the top'!r})"
        if caption is None or not caption.get_text(strip=True):
            problems.append(f"{where}: no <figure> with a caption")
        if not meaningful_alt(img.get("alt", "")):
            problems.append(f"{where}: alt text {img.get('alt', '')!r} does not describe it")
    assert not problems, f"{page}: give the cell mystnb figure.caption and image.alt metadata:\n" + "\n".join(
        problems)


@pytest.mark.site
@pytest.mark.parametrize("page", CHAPTER_PAGES)
def test_links_between_chapter_pages_resolve_on_the_site(site, page):
    """Every link from a chapter page to a chapter page lands on an existing page and, with a #fragment, on an
    element with that id."""
    here = site / f"{page}.html"
    soup = BeautifulSoup(here.read_text(), "html.parser")
    problems = []
    for a in soup.find("article").find_all("a", href=True):
        href = a["href"]
        match = re.fullmatch(r"(?:\.\./(?:chapters|solutions)/)?(\d\d_[\w-]+\.html)(?:#(.*))?", href)
        if not match:
            continue
        target = (here.parent / href.split("#")[0]).resolve()
        if not target.exists():
            problems.append(f"{href}: no such page")
        elif match.group(2) and not BeautifulSoup(target.read_text(), "html.parser").find(id=match.group(2)):
            problems.append(f"{href}: no element with id {match.group(2)!r}")
    assert not problems, f"{page}:\n" + "\n".join(problems)
