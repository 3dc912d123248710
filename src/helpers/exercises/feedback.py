"""Turn a Report into the short verdict a student reads (plain text and HTML)."""

from __future__ import annotations

import html

from helpers.exercises.compare import describe
from helpers.exercises.spec import Outcome, Report, ResultKind

ICONS = {
    Outcome.CORRECT: "✅",
    Outcome.INCORRECT: "❌",
    Outcome.NOT_ATTEMPTED: "✏️",
    Outcome.ERROR: "⚠️",
}
# The verdict box carries its own background and text colour, so it reads the same on a white page, in a dark
# notebook theme and on the website in dark mode (where the theme shows HTML outputs on #ced6dd). Each
# outcome's colour (the headline and the left border) against its background, WCAG contrast ratios, at least
# 4.5 for text (tests/test_exercises.py computes them): 6.6, 6.8, 7.2, 6.2; the body text 14 to 15.
COLOURS = {
    Outcome.CORRECT: "#166534",
    Outcome.INCORRECT: "#a3211a",
    Outcome.NOT_ATTEMPTED: "#4d5156",
    Outcome.ERROR: "#8a4b00",
}
BACKGROUNDS = {
    Outcome.CORRECT: "#eef8f1",
    Outcome.INCORRECT: "#fdf0ef",
    Outcome.NOT_ATTEMPTED: "#f1f3f4",
    Outcome.ERROR: "#fdf4e7",
}
TEXT_COLOUR = "#1f2328"

# A message about the answer that starts with what it did reads as a sentence after "your answer".
ANSWER_VERBS = ("returned ", "raised ", "calls ", "changed ", "left ")


def lines(report: Report, next_hint: str | None = None) -> list[str]:
    """The verdict as a headline followed by detail lines; ``next_hint``, when given, closes an incorrect one."""
    ex = report.exercise
    head = f"{ICONS[report.outcome]} {ex.id} · {ex.title}: {report.outcome.value}"
    hidden = sum(c.hidden for c in ex.cases())
    if report.outcome is Outcome.CORRECT:
        n = len(report.results)
        body = [f"{'All ' if n > 1 else ''}{n} test{'s' * (n != 1)} passed: {ex.points} point{'s' * (ex.points != 1)}."]
        if hidden and not report.hidden_included:
            body.append(f"{hidden} hidden test{'s' * (hidden != 1)} will also run when your notebook is graded.")
        return [head, *body]
    if report.outcome is Outcome.NOT_ATTEMPTED:
        return [
            head,
            "Replace `raise NotImplementedError()` with your code, then run this cell again.",
            f'Stuck? hint("{ex.id}") gives a hint.',
        ]
    if report.outcome is Outcome.ERROR:
        where = report.results[0].case.label if report.results else ""
        return [
            head,
            f"Your code raised {report.detail}" + (f" when called with {where}." if where else "."),
            f'Fix the error and run this cell again; hint("{ex.id}") gives a hint.',
        ]
    failure = report.first_failure
    assert failure is not None
    item = ex.item_name(failure.item)
    problem = f"{item}: {failure.message}" if item else failure.message
    kinds_about_the_answer = (ResultKind.RAISED, ResultKind.FORBIDDEN, ResultKind.MODIFIED_INPUT, ResultKind.WRONG_TYPE)
    if failure.kind in kinds_about_the_answer and not item and problem.startswith(ANSWER_VERBS):
        problem = f"your answer {problem}"  # "returned a NumPy array ...", not "expected a tensor ..."
    body = [
        f"Passed {report.passed} of {len(report.results)} tests. First failure:",
        f"  input: {failure.case.label}",
        f"  problem: {problem}",
    ]
    if failure.kind is ResultKind.WRONG_VALUE:  # a type or a forbidden call says all there is to say in one line
        got = failure.got[failure.item] if failure.item is not None else failure.got
        body.append(f"  you returned: {describe(got)}" + (f" for {item}" if item else ""))
        if why := failure.case.why_for(failure.item):
            body.append(f"  why it matters: {why}")
        if report.detail:
            body.append(f"  likely cause: {report.detail}")
    body.append(f"Next hint: {next_hint}" if next_hint else f'Hint: hint("{ex.id}")')
    return [head, *body]


def text(report: Report, next_hint: str | None = None) -> str:
    return "\n".join(lines(report, next_hint))


def to_html(report: Report, next_hint: str | None = None) -> str:
    head, *body = lines(report, next_hint)
    colour, background = COLOURS[report.outcome], BACKGROUNDS[report.outcome]
    items = "".join(f"<div style='margin-left:1.2em'>{html.escape(line)}</div>" for line in body)
    return (
        f"<div class='exercise-check exercise-{report.outcome.name.lower()}' "
        f"style='border-left:4px solid {colour};background:{background};color:{TEXT_COLOUR};"
        f"padding:4px 10px;margin:4px 0;font-family:sans-serif'>"
        f"<strong style='color:{colour}'>{html.escape(head)}</strong>{items}</div>"
    )
