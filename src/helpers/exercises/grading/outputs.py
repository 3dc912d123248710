"""What the grader writes into the output folder.

- ``grades.csv``: the course gradebook. A header, a *points possible* row, then one row per student: a
  column per chapter graded (``chapter 01``: the points of the submission that counts, empty when the
  student handed in nothing for it), ``total``, ``percent`` (of every chapter's points), ``status`` (``ok``,
  or the status of the first chapter that is not) and ``reason``;
- ``grades-NN.csv``: per chapter, a row per submission: ``student``, ``file``, a column per exercise,
  ``total``, ``percent``, ``status`` and ``reason`` (why an exercise scored what it did is in the feedback);
- ``results.json``: the grader's fingerprint and settings, the shard (None for a whole class), each
  chapter's exercises, the students' rows, and every submission's record with every test case;
- ``feedback/<submission>.md``: per exercise the points, what passed, what failed and why (hidden tests
  are named by their description and message, never their code);
- ``canvas.csv`` and ``moodle.csv``: the LMS exports (``lms``);
- ``.graded/<submission>.json``: the cache, one record per submission, so that a run that was interrupted,
  or run again, grades only what changed.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from helpers.exercises.grading.gradebook import Gradebook
from helpers.exercises.grading.lms import Matching, Roster, write_lms
from helpers.exercises.grading.notebooks import student_of
from helpers.exercises.grading.records import SubmissionRecord

CACHE = ".graded"
RESULTS = "results.json"


def write_all(out: Path, book: Gradebook, roster: Roster | None = None) -> Matching:
    """Write grades.csv, grades-NN.csv, results.json, the feedback pages and the LMS exports; return who
    the LMS exports could not match with the roster."""
    write_course_csv(out / "grades.csv", book)
    for stale in out.glob("grades-*.csv"):  # a chapter an earlier run into this folder graded, not this one
        if stale.stem.removeprefix("grades-") not in book.chapters:
            stale.unlink()
    for chapter in book.chapters:
        write_chapter_csv(out / f"grades-{chapter}.csv", book, chapter)
    write_atomically(out / RESULTS, json.dumps(book.to_json(), indent=1))
    for record in book.listed():
        page = out / "feedback" / f"{record.student}.md"
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(feedback_page(record, book.exercises(record.chapter) if record.chapter else []))
    return write_lms(out, book, roster)


def write_course_csv(path: Path, book: Gradebook) -> None:
    chapters = book.chapters
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", *[f"chapter {c}" for c in chapters], "total", "percent", "status", "reason"])
        writer.writerow(["(points possible)", *[book.points_possible(c) for c in chapters], book.points_possible(),
                         100, "", ""])
        for row in book.students():
            scores = ["" if row.scores[c] is None else row.scores[c] for c in chapters]
            writer.writerow([row.student, *scores, row.total, row.percent, row.status, row.reason])


def write_chapter_csv(path: Path, book: Gradebook, chapter: str) -> None:
    exercises = book.exercises(chapter)
    ids = [e["id"] for e in exercises]
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "file", *ids, "total", "percent", "status", "reason"])
        writer.writerow(["(points possible)", "", *[e["points"] for e in exercises], book.points_possible(chapter),
                         100, "", ""])
        for r in book.of_chapter(chapter):
            writer.writerow([student_of(r.student), r.file, *[r.exercises[i].score for i in ids], r.total, r.percent,
                             r.status.value, r.reason])


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that an interrupted run leaves the old file or the new, never half."""
    partial = path.with_name(path.name + ".tmp")
    partial.write_text(text)
    partial.replace(path)


def feedback_page(record: SubmissionRecord, exercises: list[dict[str, Any]]) -> str:
    """The student's feedback, in Markdown."""
    lines = [
        f"# Feedback for {record.student}: chapter {record.chapter}",
        "",
        f"**Score: {record.total} / {record.possible} ({record.percent}%)** · status: {record.status.value}",
    ]
    if record.reason:
        lines += ["", f"Notes from the grader: {record.reason}"]
    for e in exercises:
        result = record.exercises[e["id"]]
        lines += ["", f"## {e['id']} · {e['title']}: {result.score} / {result.points} points", ""]
        if result.detail:
            lines.append(f"- {result.outcome}: {result.detail}")
        elif not result.cases:
            lines.append(f"- {result.outcome}")
        for n, case in enumerate(result.cases, 1):
            name = f"hidden test {n}: {case.label}" if case.hidden else f"test {n}: {case.label}"
            if case.passed:
                lines.append(f"- ✅ {name}")
            else:
                why = f" (why it matters: {case.why})" if case.why else ""
                lines.append(f"- ❌ {name}: {case.message}{why}")
    return "\n".join(lines) + "\n"


def _cache_path(out: Path, student: str) -> Path:
    return out / CACHE / f"{student.replace('/', '__')}.json"


def load_cached(out: Path, student: str) -> SubmissionRecord | None:
    """The cached record of ``student``, or None (none, or unreadable)."""
    try:
        return SubmissionRecord.from_json(json.loads(_cache_path(out, student).read_text()))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def save_cached(out: Path, record: SubmissionRecord) -> None:
    """Write the record atomically, so an interrupted run leaves no half-written file."""
    write_atomically(_cache_path(out, record.student), json.dumps(record.to_json(), indent=1))
