"""A learner's progress: the last verdict of each exercise checked in this session, as a small table.

``check`` records every report here; ``progress()`` shows the chapter last checked (``progress("03")`` a
given one): per exercise its title, points, last verdict (correct / incorrect / not attempted / could not
check / not run) and points earned on the public tests, and the chapter's total.
"""

from __future__ import annotations

import html
import sys

from helpers.exercises.catalogue import of_chapter
from helpers.exercises.spec import Outcome, Report

NOT_RUN = "not run"
_latest: dict[str, Report] = {}
_last_chapter: list[str] = []


def record(report: Report) -> None:
    """Remember ``report`` as the latest verdict of its exercise."""
    _latest[report.exercise.id] = report
    _last_chapter[:] = [report.exercise.chapter]


def forget() -> None:
    """Start a fresh session (tests)."""
    _latest.clear()
    _last_chapter.clear()


def rows(chapter: str) -> list[tuple[str, str, int, str, float]]:
    """(id, title, points, verdict, points earned) for each exercise of ``chapter``."""
    table = []
    for exercise in of_chapter(chapter):
        report = _latest.get(exercise.id)
        verdict = report.outcome.value if report else NOT_RUN
        earned = report.score if report and report.outcome is Outcome.CORRECT else 0.0
        table.append((exercise.id, exercise.title, exercise.points, verdict, earned))
    return table


def show(text: str, html_text: str) -> None:
    """Display rich output in a notebook, plain text elsewhere."""
    if "IPython" in sys.modules:
        from IPython import get_ipython

        if get_ipython() is not None:
            from IPython.display import display

            display({"text/plain": text, "text/html": html_text}, raw=True)
            return
    print(text)


ICONS = {"correct": "✅", "incorrect": "❌", "not attempted": "✏️", "could not check": "⚠️", NOT_RUN: "·"}


def progress(chapter: str | int | None = None) -> None:
    """Show the exercises of ``chapter`` ("03" or 3; default: the chapter last checked) with your verdicts."""
    if chapter is None:
        if not _last_chapter:
            show("No exercise has been checked in this session yet. progress('01') shows chapter 1's exercises.",
                 "<div>No exercise has been checked in this session yet.</div>")
            return
        chapter = _last_chapter[0]
    chapter = f"{int(chapter):02d}" if str(chapter).isdigit() else str(chapter)
    table = rows(chapter)
    if not table:
        show(f"There are no exercises for chapter {chapter!r}.", f"<div>No exercises for chapter {chapter}.</div>")
        return
    earned = sum(r[4] for r in table)
    possible = sum(r[2] for r in table)
    done = sum(r[3] == Outcome.CORRECT.value for r in table)
    total = f"{done} of {len(table)} exercises correct, {earned:g} of {possible} points"
    width = max(len(r[0]) for r in table)
    text_lines = [f"Chapter {chapter}: {total}"]
    text_lines += [f"  {ICONS[v]} {i:<{width}}  {p:>2} pt  {v:<15} {t}" for i, t, p, v, _ in table]
    cells = "".join(
        f"<tr><td>{ICONS[v]}</td><td><code>{html.escape(i)}</code></td><td>{html.escape(t)}</td>"
        f"<td style='text-align:right'>{e:g} / {p}</td><td>{html.escape(v)}</td></tr>"
        for i, t, p, v, e in table
    )
    html_text = (
        f"<table class='exercise-progress'><caption>Chapter {chapter}: {html.escape(total)}</caption>"
        "<thead><tr><th>mark</th><th>exercise</th><th>title</th><th>points</th><th>last verdict</th></tr></thead>"
        f"<tbody>{cells}</tbody></table>"
    )
    show("\n".join(text_lines), html_text)
