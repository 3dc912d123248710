"""What the grader writes into the output folder.

- ``grades.csv``: a header, a *points possible* row, then one row per submission: a column per exercise,
  ``total``, ``percent``, ``status`` and ``reason``;
- ``results.json``: the chapter, its exercises, and every submission's record with every test case;
- ``feedback/<student>.md``: per exercise the points, what passed, what failed and why (hidden tests are
  named by their description and message, never their code);
- ``.graded/<student>.json``: the cache, one record per submission, so that a run that was interrupted, or
  run again, grades only what changed.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from helpers.exercises.catalogue import of_chapter
from helpers.exercises.grading.records import SubmissionRecord

CACHE = ".graded"


@dataclass
class Gradebook:
    """A graded class: the chapter and one record per submission, in the order of the files."""

    chapter: str
    records: list[SubmissionRecord]

    @property
    def exercises(self) -> list[dict[str, Any]]:
        return [{"id": e.id, "title": e.title, "points": e.points} for e in of_chapter(self.chapter)]

    @property
    def points_possible(self) -> int:
        return sum(e["points"] for e in self.exercises)

    def to_json(self) -> dict[str, Any]:
        """The content of ``results.json``."""
        return {"chapter": self.chapter, "exercises": self.exercises, "points_possible": self.points_possible,
                "submissions": [record.to_json() for record in self.records]}


def write_all(out: Path, book: Gradebook) -> None:
    """Write grades.csv, results.json and the feedback pages."""
    write_grades_csv(out / "grades.csv", book)
    (out / "results.json").write_text(json.dumps(book.to_json(), indent=1))
    for record in book.records:
        page = out / "feedback" / f"{record.student}.md"
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(feedback_page(record, book.exercises))


def write_grades_csv(path: Path, book: Gradebook) -> None:
    ids = [e["id"] for e in book.exercises]
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", *ids, "total", "percent", "status", "reason"])
        writer.writerow(["(points possible)", *[e["points"] for e in book.exercises], book.points_possible, 100,
                         "", ""])
        for r in book.records:
            writer.writerow([r.student, *[r.exercises[i].score for i in ids], r.total, r.percent, r.status.value,
                             r.reason])


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
    target = _cache_path(out, record.student)
    partial = target.with_suffix(".tmp")
    partial.write_text(json.dumps(record.to_json(), indent=1))
    partial.replace(target)
