"""What an exercise is: its test cases, its reference answer, its hints and its known-wrong answers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

KINDS = {
    "implement": "implement a function",
    "number": "compute a number",
    "choice": "choose among options",
    "derive": "fill a value in a derivation",
}


class Outcome(str, Enum):
    """The four verdicts ``check`` can give."""

    CORRECT = "correct"
    INCORRECT = "incorrect"
    NOT_ATTEMPTED = "not attempted"
    ERROR = "could not check"


@dataclass
class Case:
    """One test: call the answer with ``args`` and compare with the reference's result on the same args.

    label: the input in words, shown to the student ("a sample of 2 values").
    why:   why this case matters, shown when it fails.
    hidden: run only when grading.
    """

    label: str
    args: tuple = ()
    why: str = ""
    hidden: bool = False


@dataclass
class Exercise:
    """An entry of the catalogue.

    reference: the correct answer, with the same signature as the student's function (for ``number``,
    ``choice`` and ``derive`` exercises a function of no arguments returning the value).
    cases: builds the test cases (called lazily, seeded inside, so cases are the same on every run).
    compare(expected, got) -> None when ``got`` is right, else a sentence saying what differs.
    wrong: known-wrong answers, {diagnosis: function}; the catalogue test proves each is rejected, and
    ``check`` names the diagnosis when a student's answer behaves like one of them.
    options: for ``choice`` exercises, {letter: text}.
    """

    id: str
    title: str
    kind: str
    points: int
    prompt: str
    reference: Callable[..., Any]
    cases: Callable[[], list[Case]]
    compare: Callable[[Any, Any], str | None]
    hints: list[str]
    wrong: dict[str, Callable[..., Any]]
    options: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"Exercise {self.id}: kind must be one of {sorted(KINDS)}, got {self.kind!r}.")
        if not self.hints:
            raise ValueError(f"Exercise {self.id} needs at least one hint.")
        if not self.wrong:
            raise ValueError(f"Exercise {self.id} needs at least one known-wrong answer.")
        if self.points < 1:
            raise ValueError(f"Exercise {self.id}: points must be positive, got {self.points}.")


@dataclass
class CaseResult:
    """What happened on one case."""

    case: Case
    passed: bool
    message: str = ""  # what went wrong, when it did
    got: Any = None
    expected: Any = None


@dataclass
class Report:
    """The result of running an answer against an exercise's cases."""

    exercise: Exercise
    outcome: Outcome
    results: list[CaseResult]
    detail: str = ""  # for ERROR / NOT_ATTEMPTED / diagnosis of a known-wrong answer
    hidden_included: bool = False

    @property
    def passed(self) -> int:
        return sum(r.passed for r in self.results)

    @property
    def score(self) -> float:
        """Points earned: the exercise's points times the fraction of cases passed (0 unless run)."""
        if not self.results or self.outcome in (Outcome.NOT_ATTEMPTED,):
            return 0.0
        return round(self.exercise.points * self.passed / len(self.results), 2)

    @property
    def first_failure(self) -> CaseResult | None:
        return next((r for r in self.results if not r.passed), None)
