"""What an exercise is (its cases, reference, hints, known-wrong answers and forbidden calls), and the records
of running an answer against it: a ``Call`` per case, a ``CaseResult`` per case, one ``Report``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class Kind(str, Enum):
    """What the student hands in."""

    IMPLEMENT = "implement"  # a function
    NUMBER = "number"  # a function of no arguments returning a number (or the number itself)
    CHOICE = "choice"  # a letter among the options
    DERIVE = "derive"  # a function returning a value from a derivation

    @property
    def description(self) -> str:
        return {
            "implement": "implement a function",
            "number": "compute a number",
            "choice": "choose among options",
            "derive": "fill a value in a derivation",
        }[self.value]


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
    why:   why this case matters, shown when it fails. For an answer that returns several items (a tuple),
           a dict {item index: text} says it only for the item it is about.
    hidden: run only when grading.
    """

    label: str
    args: tuple = ()
    why: str | dict[int, str] = ""
    hidden: bool = False

    def why_for(self, item: int | None) -> str:
        if isinstance(self.why, dict):
            return self.why.get(item, "") if item is not None else ""
        return self.why


Compare = Callable[[Any, Any], "Mismatch | str | None"]


@dataclass
class Exercise:
    """An entry of the catalogue.

    reference: the correct answer, with the same signature as the student's function (for ``number``,
               ``choice`` and ``derive`` exercises often a function of no arguments returning the value).
    cases:     builds the test cases (called lazily, seeded inside, so cases are the same on every run).
    compare(expected, got) -> None when ``got`` is right, else a ``Mismatch`` (or a sentence) saying what differs.
    wrong:     known-wrong answers, {diagnosis: function}; the catalogue test proves each is rejected, and
               ``check`` names the diagnosis when the student's failing item is what one of them returns.
    forbidden: dotted names the answer may not call (the library function that does the job, under all its
               aliases, and the book's own reference); see ``helpers.exercises.forbid``.
    instead:   what to use instead, shown when the answer calls a forbidden function.
    items:     names of the items of a tuple answer ("dE/dw1", ...), used in feedback.
    options:   for ``choice`` exercises, {letter: text}.
    """

    id: str
    title: str
    kind: Kind
    points: int
    prompt: str
    reference: Callable[..., Any]
    cases: Callable[[], list[Case]]
    compare: Compare
    hints: list[str]
    wrong: dict[str, Callable[..., Any]]
    forbidden: tuple[str, ...] = ()
    instead: str = ""
    items: tuple[str, ...] = ()
    options: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        try:
            self.kind = Kind(self.kind)
        except ValueError:
            raise ValueError(f"Exercise {self.id}: kind must be one of {[k.value for k in Kind]}, "
                             f"got {self.kind!r}.") from None
        if not self.hints:
            raise ValueError(f"Exercise {self.id} needs at least one hint.")
        if not self.wrong:
            raise ValueError(f"Exercise {self.id} needs at least one known-wrong answer.")
        if self.points < 1:
            raise ValueError(f"Exercise {self.id}: points must be positive, got {self.points}.")
        self.forbidden = tuple(self.forbidden)

    @property
    def chapter(self) -> str:
        """'01' for '01.unbiased_variance'."""
        return self.id.split(".", 1)[0]

    def item_name(self, item: int | None) -> str:
        if item is None:
            return ""
        return self.items[item] if item < len(self.items) else f"item {item}"


class CallKind(str, Enum):
    """What happened when an answer was called on one case."""

    RETURNED = "returned"
    RAISED = "raised"
    NOT_IMPLEMENTED = "not implemented"
    FORBIDDEN = "forbidden"


@dataclass
class Call:
    """One call of an answer. error: the exception in one line (RAISED) or the forbidden name (FORBIDDEN)."""

    kind: CallKind
    value: Any = None
    error: str = ""
    modified_input: str = ""  # which input the answer changed, and how, as a sentence ("" when none)


class ResultKind(str, Enum):
    """How one case went."""

    PASSED = "passed"
    WRONG_VALUE = "wrong value"  # a wrong number, shape or option: diagnosed against the known-wrong answers
    WRONG_TYPE = "wrong type"  # a NumPy array for a tensor, float64 for float32, the wrong device
    RAISED = "raised"
    FORBIDDEN = "forbidden"
    MODIFIED_INPUT = "modified its input"


@dataclass
class Mismatch:
    """What differs between a result and the expected one: a sentence, and the item of a tuple it is in."""

    message: str
    item: int | None = None
    kind: ResultKind = ResultKind.WRONG_VALUE


@dataclass
class CaseResult:
    """What happened on one case."""

    case: Case
    kind: ResultKind
    message: str = ""  # what went wrong, when it did
    got: Any = None
    expected: Any = None
    item: int | None = None  # the failing item of a tuple answer

    @property
    def passed(self) -> bool:
        return self.kind is ResultKind.PASSED


@dataclass
class Report:
    """The result of running an answer against an exercise's cases."""

    exercise: Exercise
    outcome: Outcome
    results: list[CaseResult]
    detail: str = ""  # for ERROR / NOT_ATTEMPTED, or the diagnosis of a known-wrong answer
    hidden_included: bool = False

    @property
    def passed(self) -> int:
        return sum(r.passed for r in self.results)

    @property
    def score(self) -> float:
        """Points earned: the exercise's points times the fraction of cases passed (0 unless run)."""
        if not self.results or self.outcome is Outcome.NOT_ATTEMPTED:
            return 0.0
        return round(self.exercise.points * self.passed / len(self.results), 2)

    @property
    def first_failure(self) -> CaseResult | None:
        return next((r for r in self.results if not r.passed), None)
