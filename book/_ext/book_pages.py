"""The book's front pages, generated at build time from the chapters and the exercise catalogue.

Registered in _config.yml (sphinx: local_extensions). Four directives:

    ```{chapter-cards}```                    the landing page's path: a card per chapter (book/intro.md)
    ```{exercise-index}```                   every exercise, a table per chapter, linked to its section
    ```{check-feedback} 01.unbiased_variance
    :mistake: divides by m
    ```                                      the HTML check() shows for the catalogue's known-wrong answer
                                             so diagnosed (without :mistake:, for the worked solution)
    ```{explorer-example}```                 a real explorer's HTML player (book/how_to_use.md)

The data come from ``helpers.exercises.index`` (tested in tests/test_exercise_index.py). The links of the
exercise index point at the section that holds each exercise's ``check(...)`` cell: while Sphinx reads a
chapter, ``collect_exercise_anchors`` records that section's id; when the index page is written,
``resolve_exercise_links`` turns each placeholder into a link (a missing section is a build warning, an error
under --warningiserror). The pages with these directives are re-read on every build, so a changed catalogue
or notebook always reaches them.
"""

from __future__ import annotations

import re
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from helpers.exercises import get
from helpers.exercises.index import (
    CHECK_CALL,
    ChapterSummary,
    ExplorerSummary,
    chapter_summaries,
    exercise_rows,
    feedback_html,
    worked_answer,
)

logger = logging.getLogger(__name__)
EDITIONS = {"chapters": "the chapter", "solutions": "worked solution"}  # docname folder: what a link opens


class exercise_link(nodes.Inline, nodes.TextElement):
    """A link to the section of an exercise's check cell, resolved once every chapter has been read."""


def _remember(directive: SphinxDirective) -> None:
    """Note that this page uses a generated directive, so that every build reads it again."""
    directive.env.book_pages_docs = getattr(directive.env, "book_pages_docs", set()) | {directive.env.docname}


def _escape(text: str) -> str:
    """Plain text made safe inside markdown (titles and slider labels may hold * _ [ ] < >)."""
    return re.sub(r"([\\`*_\[\]<>])", r"\\\1", text)


def _explorer_line(explorer: ExplorerSummary) -> str:
    moves = ", ".join(_escape(label) for label in explorer.sliders)
    return f"*{_escape(explorer.title)}*: move {moves}" if explorer.title else f"move {moves}"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' * (count != 1)}"


SHOWN_GOALS = 3  # on the card; the rest in a dropdown below them


def card_markdown(chapter: ChapterSummary) -> str:
    """One chapter's card (sphinx-design's grid-item-card with its header and footer), as MyST markdown."""
    goals = [f"- {goal}" for goal in chapter.goals]
    lines = [
        ":::::{grid-item-card}",
        ":class-card: chapter-card",
        ":class-header: chapter-card-header",
        "",
        "::::{card-header}",
        f'<span class="chapter-number">{chapter.number}</span> '
        f"{{doc}}`{_escape(chapter.title)} </chapters/{chapter.stem}>`",
        "::::",
        "",
        "After this chapter you can",
        "",
        *goals[:SHOWN_GOALS],
        "",
    ]
    if len(goals) > SHOWN_GOALS:
        lines += [f"::::{{dropdown}} {_plural(len(goals) - SHOWN_GOALS, 'more goal')}",
                  ":class-container: chapter-more", "", *goals[SHOWN_GOALS:], "::::", ""]
    lines += [
        "::::{card-footer}",
        f"- {{ref}}`{_plural(chapter.exercises, 'exercise')} <{index_label(chapter.number)}>`, "
        f"{_plural(chapter.points, 'point')}; {{doc}}`worked solutions </solutions/{chapter.stem}>`",
        f"- **{_plural(len(chapter.explorers), 'explorer')}**" + (":" if chapter.explorers else ""),
        *(f"  - {_explorer_line(explorer)}" for explorer in chapter.explorers),
        "::::",
        ":::::",
        "",
    ]
    return "\n".join(lines)


class ChapterCards(SphinxDirective):
    """The chapters as a path: one card each, in order."""

    def run(self) -> list[nodes.Node]:
        _remember(self)
        cards = "\n".join(card_markdown(chapter) for chapter in chapter_summaries(Path(self.env.srcdir)))
        markdown = f"::::::{{grid}} 1\n:gutter: 3\n:class-container: chapter-path\n\n{cards}\n::::::\n"
        container = nodes.container(classes=["chapter-cards"])
        self.state.nested_parse(StringList(markdown.splitlines(), source="chapter-cards"), self.content_offset,
                                container)
        return [container]


def _cell(*children: nodes.Node) -> nodes.entry:
    return nodes.entry("", nodes.paragraph("", "", *children))


def _table(title: str, header: list[str], rows: list[list[nodes.entry]]) -> nodes.table:
    group = nodes.tgroup(cols=len(header))
    group += [nodes.colspec(colwidth=1) for _ in header]
    group += nodes.thead("", nodes.row("", *[_cell(nodes.Text(h)) for h in header]))
    group += nodes.tbody("", *[nodes.row("", *row) for row in rows])
    return nodes.table("", nodes.title("", title), group, classes=["exercise-index"])


def index_label(chapter: int) -> str:
    """The label of a chapter's table in the exercise index ({ref}`... <exercises-chapter-3>`)."""
    return f"exercises-chapter-{chapter}"


class ExerciseIndex(SphinxDirective):
    """Every exercise of the catalogue: a table per chapter, each row linked to the exercise's section."""

    def run(self) -> list[nodes.Node]:
        _remember(self)
        root = Path(self.env.srcdir)
        titles = {c.number: c.title for c in chapter_summaries(root)}
        rows = exercise_rows(root)
        tables = []
        for number, title in titles.items():
            chapter = [r for r in rows if r.chapter == number]
            body = [[
                _cell(exercise_link("", f"Exercise {r.number}", exercise_id=r.id, edition="chapters")),
                _cell(nodes.Text(r.title)),
                _cell(nodes.Text(r.kind.description)),
                _cell(nodes.Text(str(r.points))),
                _cell(nodes.literal("", r.id)),
                _cell(exercise_link("", f"solution {r.number}", exercise_id=r.id, edition="solutions")),
            ] for r in chapter]
            points = sum(r.points for r in chapter)
            caption = f"Chapter {number}. {title}: {_plural(len(chapter), 'exercise')}, {_plural(points, 'point')}"
            table = _table(caption, ["Exercise", "Title", "Kind", "Points", "Id", "Worked"], body)
            table["ids"], table["names"] = [index_label(number)], [index_label(number)]
            self.state.document.note_explicit_target(table)  # a label, as "(exercises-chapter-3)=" would make
            tables.append(table)
        total = nodes.paragraph("", f"{_plural(len(rows), 'exercise')} in {len(titles)} chapters, "
                                    f"{_plural(sum(r.points for r in rows), 'point')} in all.",
                                classes=["exercise-index-total"])
        return [total, *tables]


class CheckFeedback(SphinxDirective):
    """What check() shows: for the catalogue's known-wrong answer whose diagnosis contains the words of
    :mistake:, or, without it, for the worked solution in solutions/."""

    required_arguments = 1
    option_spec = {"mistake": directives.unchanged_required}

    def run(self) -> list[nodes.Node]:
        _remember(self)
        exercise_id = self.arguments[0]
        exercise = get(exercise_id)
        if "mistake" in self.options:
            words = self.options["mistake"]
            mistakes = [answer for diagnosis, answer in exercise.wrong.items() if words in diagnosis]
            if len(mistakes) != 1:
                raise self.error(f"{len(mistakes)} of {exercise_id}'s known-wrong answers have {words!r} in their "
                                 f"diagnosis; give words from exactly one of: {list(exercise.wrong)}")
            answer = mistakes[0]
        else:
            answer = worked_answer(Path(self.env.srcdir), exercise_id)
        _, html = feedback_html(exercise_id, answer)
        return [nodes.raw("", f"<div class='feedback-example'>{html}</div>", format="html")]


class ExplorerExample(SphinxDirective):
    """Chapter 11's z-test explorer with two of its three sliders (9 frames): a real player, made at build time."""

    def run(self) -> list[nodes.Node]:
        _remember(self)
        from helpers import plot
        from helpers.widgets import Slider, explorer

        example = explorer(lambda effect_size, nobs: plot.sampling_frame(effect_size, nobs, 0.05, "greater"),
                           "The one-sided z-test at α = 0.05: the statistic under H0 and under H1",
                           effect_size=Slider([0.2, 0.5, 0.8], value=0.5, label="effect size d"),
                           nobs=Slider([5, 10, 30], value=10, label="sample size n"))
        return [nodes.raw("", example.to_html(), format="html")]


# ---- the links of the exercise index ------------------------------------------------------------------


def collect_exercise_anchors(app: Sphinx, doctree: nodes.document) -> None:
    """While a chapter page is read: {(edition, exercise id): (page, id of the section of its check cell)}."""
    docname = app.env.docname
    edition = docname.split("/", 1)[0]
    if edition not in EDITIONS:
        return
    anchors = app.env.book_pages_anchors = getattr(app.env, "book_pages_anchors", {})
    for block in doctree.findall(nodes.literal_block):
        parent = block.parent
        if parent is None or "cell_input" not in parent.get("classes", []):
            continue  # only a code cell's source, not an output or a code example in the text
        match = CHECK_CALL.search(block.astext())
        section = block.parent
        while section is not None and not isinstance(section, nodes.section):
            section = section.parent
        if match and section is not None and (edition, match.group(1)) not in anchors:
            anchors[(edition, match.group(1))] = (docname, section["ids"][0])


def resolve_exercise_links(app: Sphinx, doctree: nodes.document, fromdocname: str) -> None:
    anchors = getattr(app.env, "book_pages_anchors", {})
    for placeholder in list(doctree.findall(exercise_link)):
        key = (placeholder["edition"], placeholder["exercise_id"])
        if key not in anchors:
            logger.warning(f"exercise index: no section holds the check cell of {key[1]} in {key[0]}/",
                           location=placeholder)
            placeholder.replace_self(nodes.Text(placeholder.astext()))
            continue
        docname, anchor = anchors[key]
        uri = app.builder.get_relative_uri(fromdocname, docname) + "#" + anchor
        what = f"{EDITIONS[key[0]]} {key[1]}"
        link = nodes.reference("", "", *placeholder.children, internal=True, refuri=uri, reftitle=what)
        placeholder.replace_self(link)


def purge(app: Sphinx, env, docname: str) -> None:
    env.book_pages_docs = getattr(env, "book_pages_docs", set()) - {docname}
    anchors = getattr(env, "book_pages_anchors", {})
    env.book_pages_anchors = {key: value for key, value in anchors.items() if value[0] != docname}


def merge(app: Sphinx, env, docnames: set[str], other) -> None:
    env.book_pages_docs = getattr(env, "book_pages_docs", set()) | getattr(other, "book_pages_docs", set())
    anchors = getattr(env, "book_pages_anchors", {})
    anchors.update({k: v for k, v in getattr(other, "book_pages_anchors", {}).items() if v[0] in docnames})
    env.book_pages_anchors = anchors


def always_reread(app: Sphinx, env, added: set[str], changed: set[str], removed: set[str]) -> list[str]:
    """The generated pages depend on the catalogue and every chapter: read them again on every build."""
    return sorted(getattr(env, "book_pages_docs", set()) - set(removed))


def setup(app: Sphinx) -> dict:
    app.add_node(exercise_link)
    app.add_directive("chapter-cards", ChapterCards)
    app.add_directive("exercise-index", ExerciseIndex)
    app.add_directive("check-feedback", CheckFeedback)
    app.add_directive("explorer-example", ExplorerExample)
    app.connect("doctree-read", collect_exercise_anchors)
    app.connect("doctree-resolved", resolve_exercise_links)
    app.connect("env-purge-doc", purge)
    app.connect("env-merge-info", merge)
    app.connect("env-get-outdated", always_reread)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True, "env_version": 1}
