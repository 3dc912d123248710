"""A graded class as one gradebook: every submission, grouped by chapter and by student.

A class may hold notebooks of several chapters (a course of the whole book): each submission was graded on
its own chapter (``notebooks.submission_chapter``), and the gradebook groups them

- by chapter: one table per chapter, a row per submission and a column per exercise (``grades-NN.csv``);
- by student (``notebooks.student_of``: ``alice/01`` and ``alice/02`` are student ``alice``): one row per
  student with a score per chapter, the course total, a status and a reason (``grades.csv``).

Per student and chapter one submission counts: the one with the highest score (on a tie, the first by file
name); when a student handed in a chapter more than once, the reason says so and names the files. A chapter
a student handed nothing in for is an empty cell, counts 0 in the total, and is named in the reason.

A submission whose chapter could not be told (an empty or broken file whose name names no chapter) keeps
chapter "" in its record (``results.json``) and is listed, with its status and no points, under the class's
most common chapter, as a class of one chapter always listed it. The gradebook depends only on the set of
records, never on their order or on how the class was split into shards: N shards merged give the same
gradebook as one run.
"""

from __future__ import annotations

import collections
import dataclasses
from dataclasses import dataclass, field
from typing import Any

from helpers.exercises.catalogue import of_chapter
from helpers.exercises.grading.notebooks import student_of
from helpers.exercises.grading.records import ExerciseResult, Status, SubmissionRecord


@dataclass
class StudentRow:
    """One student's line of the course gradebook."""

    student: str
    scores: dict[str, float | None]  # chapter -> the counted submission's score; None: nothing handed in
    counted: dict[str, str]  # chapter -> the counted submission's file
    possible: int
    status: str
    reason: str

    @property
    def total(self) -> float:
        return round(sum(score for score in self.scores.values() if score is not None), 2)

    @property
    def percent(self) -> float:
        return round(100 * self.total / self.possible, 1) if self.possible else 0.0

    def to_json(self) -> dict[str, Any]:
        return {"student": self.student, "scores": self.scores, "counted": self.counted, "total": self.total,
                "possible": self.possible, "percent": self.percent, "status": self.status, "reason": self.reason}


@dataclass
class Gradebook:
    """Every submission's record (sorted by file), the grader's fingerprint, its settings, and the shard
    this gradebook is a slice of (None for a whole class). Build it with ``Gradebook.of``."""

    records: list[SubmissionRecord]
    grader: str = ""
    settings: dict[str, Any] = field(default_factory=dict)
    shard: dict[str, Any] | None = None

    @classmethod
    def of(cls, records: list[SubmissionRecord], grader: str = "", settings: dict[str, Any] | None = None,
           shard: dict[str, Any] | None = None) -> Gradebook:
        """The gradebook of ``records``, given in any order."""
        return cls(sorted(records, key=lambda record: record.file), grader, dict(settings or {}), shard)

    @property
    def chapters(self) -> list[str]:
        """The chapters graded, in book order."""
        return sorted({record.chapter for record in self.records if record.chapter})

    @staticmethod
    def exercises(chapter: str) -> list[dict[str, Any]]:
        return [{"id": e.id, "title": e.title, "points": e.points} for e in of_chapter(chapter)]

    def points_possible(self, chapter: str | None = None) -> int:
        """The points of one chapter, or of every chapter graded (the course total)."""
        chapters = [chapter] if chapter else self.chapters
        return sum(e["points"] for c in chapters for e in self.exercises(c))

    @property
    def unknown_chapter_listed_under(self) -> str:
        """Where submissions of unknown chapter are listed: the most common chapter (the lowest on a tie),
        or "" when no submission shows a chapter."""
        counts = collections.Counter(record.chapter for record in self.records if record.chapter)
        return min(counts, key=lambda c: (-counts[c], c)) if counts else ""

    def listed(self) -> list[SubmissionRecord]:
        """The records as the tables and feedback pages show them: one of unknown chapter is listed under
        ``unknown_chapter_listed_under`` with each of its exercises not graded, for the reason it gives."""
        chapter = self.unknown_chapter_listed_under
        return [record if record.chapter or not chapter else _listed_under(record, chapter) for record in self.records]

    def of_chapter(self, chapter: str) -> list[SubmissionRecord]:
        """The submissions listed under ``chapter``, by student then file."""
        return sorted((r for r in self.listed() if r.chapter == chapter), key=lambda r: (student_of(r.student), r.file))

    def students(self) -> list[StudentRow]:
        """One row per student, sorted by name."""
        by_student: dict[str, list[SubmissionRecord]] = collections.defaultdict(list)
        for record in self.listed():
            by_student[student_of(record.student)].append(record)
        return [self._row(student, by_student[student]) for student in sorted(by_student)]

    def _row(self, student: str, records: list[SubmissionRecord]) -> StudentRow:
        scores: dict[str, float | None] = {}
        counted: dict[str, str] = {}
        statuses, reasons = [], []
        for chapter in self.chapters:
            handed_in = [r for r in records if r.chapter == chapter]
            if not handed_in:
                scores[chapter] = None
                reasons.append(f"no submission for chapter {chapter}")
                continue
            best = max(handed_in, key=lambda r: r.total)  # the first of the best, records being sorted by file
            scores[chapter], counted[chapter] = best.total, best.file
            attempts = [r.file for r in handed_in if r.status is not Status.WRONG_CHAPTER]
            if len(attempts) > 1:
                reasons.append(f"chapter {chapter} handed in {len(attempts)} times ({', '.join(attempts)}): "
                               f"the best, {best.file}, counts")
            if best.status is not Status.OK:
                statuses.append(best.status.value)
                reasons.append(f"chapter {chapter}: {best.status.value} (see grades-{chapter}.csv)")
        for record in records:  # the chapter of a submission could not be told, and there is no class chapter
            if not record.chapter:
                statuses.append(record.status.value)
                reasons.append(f"{record.file}: {record.reason}")
        status = statuses[0] if statuses else Status.OK.value
        return StudentRow(student, scores, counted, self.points_possible(), status, "; ".join(reasons))

    def to_json(self) -> dict[str, Any]:
        """The content of ``results.json``."""
        return {
            "grader": self.grader,
            "settings": self.settings,
            "shard": self.shard,
            "chapters": {c: {"exercises": self.exercises(c), "points_possible": self.points_possible(c)}
                         for c in self.chapters},
            "points_possible": self.points_possible(),
            "students": [row.to_json() for row in self.students()],
            "submissions": [record.to_json() for record in self.records],
        }


def _listed_under(record: SubmissionRecord, chapter: str) -> SubmissionRecord:
    exercises = {e.id: ExerciseResult.not_graded(e.points, record.reason) for e in of_chapter(chapter)}
    return dataclasses.replace(record, chapter=chapter, exercises=exercises)
