"""What the book's front pages say about its chapters, read from the sources so the pages cannot drift.

The website's landing page shows a card per chapter and the exercise index lists every exercise; both are
generated at build time from what this module returns (the Sphinx extension book/_ext/book_pages.py turns it
into pages):

    chapter_summaries(root)   per chapter: title, learning goals, exercises and points, explorers
    exercise_rows(root)       per exercise: its number in the chapter ("1.7"), title, kind, points
    feedback_html(id, answer) the HTML that check() shows for an answer, for the "how to use" page

Exercise counts and points come from the catalogue (``helpers.exercises.catalogue``); the learning goals, the
exercise numbers and the explorers come from the source notebooks in ``solutions/``: the markdown cell with
"**Learning goals.**", the "### Exercise N.M" heading above each ``check(...)`` cell, and each
``explorer(render, title, name=Slider(values, value, label))`` call.
"""

from __future__ import annotations

import ast
import contextlib
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from helpers.exercises import feedback
from helpers.exercises.catalogue import get, of_chapter
from helpers.exercises.runner import run
from helpers.exercises.spec import Kind, Outcome

GOALS_MARKER = "**Learning goals.**"
CHECK_CALL = re.compile(r"""^check\(\s*["'](\d\d\.\w+)["']""", re.MULTILINE)
EXERCISE_HEADING = re.compile(r"^#+\s*Exercise\s+(\d+\.\d+)\b", re.MULTILINE)
CHAPTER_HEADING = re.compile(r"^#\s+(\d+)\.\s+(.+)$", re.MULTILINE)


@dataclass(frozen=True)
class ExplorerSummary:
    """One explorer of a chapter: its title ("" when it has none) and the labels of its sliders."""

    title: str
    sliders: tuple[str, ...]


@dataclass(frozen=True)
class ChapterSummary:
    """What a chapter's card on the landing page shows."""

    number: int
    stem: str  # "01_learning_and_estimation": the notebook's name in chapters/ and solutions/
    title: str  # "Learning and estimation"
    goals: tuple[str, ...]  # the learning goals, as MyST markdown
    exercises: int
    points: int
    explorers: tuple[ExplorerSummary, ...]


@dataclass(frozen=True)
class ExerciseRow:
    """One line of the exercise index."""

    id: str  # "01.unbiased_variance", what check() and hint() take
    chapter: int
    stem: str
    number: str  # "1.7", as the chapter's heading numbers it
    title: str
    kind: Kind
    points: int


def chapter_notebooks(root: Path) -> list[Path]:
    """The source notebooks, solutions/NN_slug.ipynb, in chapter order."""
    paths = sorted((Path(root) / "solutions").glob("[0-9][0-9]_*.ipynb"))
    if not paths:
        raise FileNotFoundError(f"No chapter notebooks in {Path(root) / 'solutions'}: pass the book's root folder.")
    return paths


def chapter_title(notebook: nbformat.NotebookNode, path: Path) -> tuple[int, str]:
    """(1, "Learning and estimation") from the first markdown heading "# 1. Learning and estimation"."""
    for cell in notebook.cells:
        if cell.cell_type == "markdown" and (match := CHAPTER_HEADING.search(cell.source)):
            return int(match.group(1)), match.group(2).strip()
    raise ValueError(f"{path.name} has no title heading '# N. Title': add one to its first markdown cell.")


def learning_goals(notebook: nbformat.NotebookNode, path: Path) -> list[str]:
    """The bullets that follow "**Learning goals.**", each joined into one line of markdown."""
    for cell in notebook.cells:
        if cell.cell_type != "markdown" or GOALS_MARKER not in cell.source:
            continue
        goals: list[str] = []
        for line in cell.source.split(GOALS_MARKER, 1)[1].splitlines()[1:]:
            if line.startswith("- "):
                goals.append(line[2:].strip())
            elif line.startswith("  ") and line.strip() and goals:
                goals[-1] += " " + line.strip()  # a bullet continued on the next line
            elif line.strip() and goals:
                break  # the first paragraph after the list
        if goals:
            return goals
    raise ValueError(f"{path.name} has no '{GOALS_MARKER}' list of '- ' bullets: the landing page shows them.")


def _text(node: ast.expr | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _argument(call: ast.Call, position: int, keyword: str) -> ast.expr | None:
    """The argument given at ``position`` or as ``keyword=`` (None when absent)."""
    if len(call.args) > position:
        return call.args[position]
    return next((k.value for k in call.keywords if k.arg == keyword), None)


def _called(call: ast.Call, name: str) -> bool:
    func = call.func
    return (isinstance(func, ast.Name) and func.id == name) or (isinstance(func, ast.Attribute) and func.attr == name)


def explorers_in(source: str) -> list[ExplorerSummary]:
    """The ``explorer(...)`` calls in a cell's code: title and slider labels (a slider without a label is
    named by its keyword)."""
    code = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))
    found = []
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Call) and _called(node, "explorer"):
            labels = []
            for keyword in node.keywords:
                if isinstance(keyword.value, ast.Call) and _called(keyword.value, "Slider"):
                    labels.append(_text(_argument(keyword.value, 2, "label")) or keyword.arg)
            found.append(ExplorerSummary(_text(_argument(node, 1, "title")) or "", tuple(labels)))
    return found


def exercise_numbers(notebook: nbformat.NotebookNode, path: Path) -> dict[str, str]:
    """{exercise id: "1.7"}: the number of the "### Exercise 1.7: ..." heading above each check(...) cell."""
    numbers: dict[str, str] = {}
    heading = None
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            headings = EXERCISE_HEADING.findall(cell.source)
            heading = headings[-1] if headings else (None if re.search(r"^#", cell.source, re.M) else heading)
        elif match := CHECK_CALL.search(cell.source):
            if heading is None:
                raise ValueError(f"{path.name}: the cell check({match.group(1)!r}, ...) is not under an "
                                 "'### Exercise N.M: title' heading; add one above the exercise.")
            numbers.setdefault(match.group(1), heading)
    return numbers


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def chapter_summaries(root: Path) -> list[ChapterSummary]:
    """One summary per chapter, in order: the landing page's cards."""
    summaries = []
    for path in chapter_notebooks(root):
        notebook = _read(path)
        number, title = chapter_title(notebook, path)
        exercises = of_chapter(path.name[:2])
        explorers = [e for cell in notebook.cells if cell.cell_type == "code" for e in explorers_in(cell.source)]
        summaries.append(ChapterSummary(
            number=number, stem=path.stem, title=title, goals=tuple(learning_goals(notebook, path)),
            exercises=len(exercises), points=sum(e.points for e in exercises), explorers=tuple(explorers),
        ))
    return summaries


def exercise_rows(root: Path) -> list[ExerciseRow]:
    """Every exercise of the catalogue, in the order the chapters ask them."""
    rows = []
    for path in chapter_notebooks(root):
        numbers = exercise_numbers(_read(path), path)
        exercises = of_chapter(path.name[:2])
        missing = [e.id for e in exercises if e.id not in numbers]
        if missing:
            raise ValueError(f"{path.name} has no check(...) cell for {missing}: every exercise of the catalogue "
                             "needs one in its chapter.")
        rows += [ExerciseRow(id=e.id, chapter=int(path.name[:2]), stem=path.stem, number=numbers[e.id],
                             title=e.title, kind=e.kind, points=e.points) for e in exercises]
    return rows


def worked_answer(root: Path, exercise_id: str) -> Any:
    """The answer of ``solutions/``' worked solution: the chapter's setup and import cells, then its answer cell,
    run in one namespace (the narrative in between is skipped)."""
    path = next(p for p in chapter_notebooks(root) if p.name[:2] == exercise_id[:2])
    code = [cell for cell in _read(path).cells if cell.cell_type == "code"]
    namespace: dict[str, Any] = {}
    with contextlib.redirect_stdout(io.StringIO()):  # the setup cell prints the helpers' version
        for cell in code[:2]:  # the setup cell and the chapter's imports
            exec(compile(cell.source, f"{path.name}, setup", "exec"), namespace)
    for index, cell in enumerate(code):
        if (match := CHECK_CALL.search(cell.source)) and match.group(1) == exercise_id:
            answer_cell = code[index - 1].source if "BEGIN SOLUTION" not in cell.source else cell.source
            answer_code = "\n".join(line for line in answer_cell.splitlines() if not line.startswith("check("))
            exec(compile(answer_code, f"{path.name}, {exercise_id}", "exec"), namespace)
            name = re.search(r"""check\(\s*["'][^"']+["']\s*,\s*(\w+)""", cell.source).group(1)
            return namespace[name]
    raise ValueError(f"{path.name} has no check({exercise_id!r}, ...) cell.")


def feedback_html(exercise_id: str, answer: Any) -> tuple[Outcome, str]:
    """(outcome, HTML) that ``check(exercise_id, answer)`` shows in a fresh session (for an incorrect answer, with
    the exercise's first hint, as check gives it the first time)."""
    exercise = get(exercise_id)
    report = run(exercise, answer)
    next_hint = f"(1 of {len(exercise.hints)}) {exercise.hints[0]}" if report.outcome is Outcome.INCORRECT else None
    return report.outcome, feedback.to_html(report, next_hint)
