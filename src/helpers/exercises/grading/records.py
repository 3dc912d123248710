"""What grading a submission produces: its status, its problems, a result per exercise, one record.

A ``SubmissionRecord`` is what a row of ``grades.csv``, an entry of ``results.json`` and a feedback page are
made from. It is also the grader's cache (``OUT/.graded/<student>.json``), hence ``to_json``/``from_json``.

The status is never read back out of a sentence: each problem is a ``Problem(status, detail)`` and the
submission's status is the status of its first problem ("ok" when there is none).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any

from helpers.exercises.spec import Outcome, Report

NOT_GRADED = "not graded"  # the outcome of an exercise the grader could not run


class Status(str, Enum):
    """A submission's status: a column of ``grades.csv``."""

    OK = "ok"
    TIMEOUT = "timeout"
    KERNEL_DIED = "kernel died"
    MEMORY_LIMIT = "memory limit"
    NOT_A_NOTEBOOK = "not a notebook"
    MALFORMED = "malformed notebook"
    WRONG_CHAPTER = "wrong chapter"
    MISSING_CELLS = "missing exercise cells"
    EMPTY = "empty"


@dataclass(frozen=True)
class Problem:
    """Something that went wrong with a submission, and where: ``Problem(Status.TIMEOUT, "cell 5")``."""

    status: Status
    detail: str

    def __str__(self) -> str:
        return f"{self.status.value} ({self.detail})"


@dataclass
class CaseRecord:
    """One test case of one exercise: its input in words, whether it passed, and why not."""

    label: str
    hidden: bool
    passed: bool
    message: str = ""
    why: str = ""


@dataclass
class ExerciseResult:
    """The grade of one exercise. ``outcome`` is an ``Outcome`` value, or "not graded"."""

    points: int
    score: float
    outcome: str
    detail: str = ""
    cases: list[CaseRecord] = field(default_factory=list)
    attempted: bool = False

    @classmethod
    def from_report(cls, report: Report) -> ExerciseResult:
        cases = [CaseRecord(r.case.label, r.case.hidden, r.passed, r.message, r.case.why_for(r.item))
                 for r in report.results]
        return cls(report.exercise.points, report.score, report.outcome.value, report.detail, cases,
                   attempted=report.outcome is not Outcome.NOT_ATTEMPTED)

    @classmethod
    def not_graded(cls, points: int, reason: str) -> ExerciseResult:
        return cls(points, 0.0, NOT_GRADED, reason)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ExerciseResult:
        cases = [CaseRecord(**case) for case in data.get("cases", [])]
        return cls(data["points"], data["score"], data["outcome"], data.get("detail", ""), cases,
                   data.get("attempted", False))


@dataclass
class SubmissionRecord:
    """Everything the grader found out about one submitted notebook."""

    student: str  # the file's path under the submissions folder, without .ipynb
    file: str
    sha256: str  # of the submitted file: a changed file is graded again
    chapter: str
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # cells that raised, exercises checked twice, ...
    reason: str = ""  # the problems and notes in one line, for grades.csv
    exercises: dict[str, ExerciseResult] = field(default_factory=dict)
    seconds: float = 0.0  # grading this submission, all in
    cells_seconds: float = 0.0  # running the student's cells
    timing: dict[str, float] = field(default_factory=dict)  # kernel start, grading, kernel stop
    grader: str = ""  # the grader's fingerprint: cached records of another grader are not used

    @property
    def status(self) -> Status:
        return self.problems[0].status if self.problems else Status.OK

    @property
    def total(self) -> float:
        return round(sum(e.score for e in self.exercises.values()), 2)

    @property
    def possible(self) -> int:
        return sum(e.points for e in self.exercises.values())

    @property
    def percent(self) -> float:
        return round(100 * self.total / self.possible, 1) if self.possible else 0.0

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["problems"] = [{"status": p.status.value, "detail": p.detail} for p in self.problems]
        data.update(status=self.status.value, total=self.total, possible=self.possible, percent=self.percent)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SubmissionRecord:
        """The record ``to_json`` wrote (KeyError or ValueError when it is not one)."""
        return cls(
            student=data["student"], file=data["file"], sha256=data["sha256"], chapter=data["chapter"],
            problems=[Problem(Status(p["status"]), p["detail"]) for p in data["problems"]],
            notes=list(data["notes"]), reason=data["reason"],
            exercises={i: ExerciseResult.from_json(e) for i, e in data["exercises"].items()},
            seconds=data["seconds"], cells_seconds=data["cells_seconds"], timing=dict(data["timing"]),
            grader=data["grader"],
        )
