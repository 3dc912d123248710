"""helpers.exercises.index: what the landing page and the exercise index say, checked against the notebooks read
independently (markdown-it's parse of the goals, the check() cells and their nbgrader points, the explorer
calls counted by a regular expression) and against what check() really shows."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from markdown_it import MarkdownIt

import helpers.exercises as exercises
from helpers.exercises import catalogue, get
from helpers.exercises.index import (
    chapter_summaries,
    exercise_rows,
    explorers_in,
    feedback_html,
    worked_answer,
)
from helpers.exercises.spec import Outcome

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))


@pytest.fixture(scope="module")
def summaries():
    return {s.stem: s for s in chapter_summaries(ROOT)}


def notebook(path: Path):
    return nbformat.read(path, as_version=4)


def graded_cells(path: Path) -> list[tuple[str, int]]:
    """(exercise id, nbgrader points) of each locked test cell, the cell that calls check()."""
    found = []
    for cell in notebook(path).cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and not meta.get("solution"):
            found.append((re.search(r'check\("([^"]+)"', cell.source).group(1), meta["points"]))
    return found


def goals_by_markdown_it(path: Path) -> list[str]:
    """The items of the list after the "Learning goals" paragraph, as markdown-it parses the cell."""
    cell = next(c for c in notebook(path).cells if c.cell_type == "markdown" and "Learning goals" in c.source)
    tokens = MarkdownIt("commonmark").parse(cell.source)
    start = next(i for i, t in enumerate(tokens) if t.type == "inline" and "Learning goals" in t.content)
    items, depth = [], 0
    for token in tokens[start + 1:]:
        if token.type == "bullet_list_open":
            depth += 1
        elif token.type == "bullet_list_close":
            depth -= 1
            if depth == 0:
                break
        elif token.type == "inline" and depth == 1:
            items.append(" ".join(token.content.split()))
    return items


def test_one_summary_per_chapter_in_order(summaries):
    assert [s.stem for s in summaries.values()] == [p.stem for p in NOTEBOOKS]
    assert [s.number for s in summaries.values()] == list(range(1, len(NOTEBOOKS) + 1))
    for s in summaries.values():
        first_heading = next(c.source for c in notebook(ROOT / "solutions" / f"{s.stem}.ipynb").cells
                             if c.cell_type == "markdown").splitlines()[0]
        assert first_heading == f"# {s.number}. {s.title}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_exercise_count_and_points_match_the_notebooks_graded_cells(summaries, path):
    cells = graded_cells(path)
    summary = summaries[path.stem]
    assert summary.exercises == len(cells) > 0
    assert summary.points == sum(points for _, points in cells)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_learning_goals_are_the_list_markdown_it_reads(summaries, path):
    goals = summaries[path.stem].goals
    assert list(goals) == goals_by_markdown_it(path)
    assert len(goals) >= 3


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_explorers_are_the_explorer_calls(summaries, path):
    code = "\n".join(c.source for c in notebook(path).cells if c.cell_type == "code")
    calls = re.findall(r"(?<![\w.])explorer\(", code)
    sliders = re.findall(r"(?<![\w.])Slider\(", code)
    explorers = summaries[path.stem].explorers
    assert len(explorers) == len(calls) >= 1
    assert sum(len(e.sliders) for e in explorers) == len(sliders)
    assert all(label.strip() for e in explorers for label in e.sliders)


def test_explorers_in_reads_titles_and_labels_however_they_are_passed():
    source = '''
%matplotlib inline
explorer(render, "Positional title", degree=Slider(range(3), value=1, label="polynomial degree"),
         noise=Slider([0.1, 0.3], 0.1, "noise σ"))
helpers.widgets.explorer(lambda k: fig(k), title="Keyword title", k=Slider([1, 2]))
explorer(render, lam=Slider(values, values[0], LABEL))
'''
    found = explorers_in(source)
    assert [(e.title, e.sliders) for e in found] == [
        ("Positional title", ("polynomial degree", "noise σ")),
        ("Keyword title", ("k",)),  # no label: the keyword names it
        ("", ("lam",)),  # a label that is not a literal string: the keyword again
    ]


def test_exercise_rows_list_the_catalogue_in_the_chapters_order():
    rows = exercise_rows(ROOT)
    graded = [exercise_id for path in NOTEBOOKS for exercise_id, _ in graded_cells(path)]
    assert [r.id for r in rows] == graded
    assert sorted(r.id for r in rows) == sorted(catalogue())
    points = {exercise_id: p for path in NOTEBOOKS for exercise_id, p in graded_cells(path)}
    assert all(r.points == points[r.id] for r in rows)
    for chapter in {r.chapter for r in rows}:
        numbers = [r.number for r in rows if r.chapter == chapter]
        assert numbers == [f"{chapter}.{k}" for k in range(1, len(numbers) + 1)], "numbered 1, 2, ... in order"


def write_notebook(root: Path, cells: list) -> Path:
    (root / "solutions").mkdir(parents=True, exist_ok=True)
    path = root / "solutions" / "01_learning_and_estimation.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=cells), path)
    return path


def test_a_notebook_without_learning_goals_is_refused_with_what_to_add(tmp_path):
    write_notebook(tmp_path, [nbformat.v4.new_markdown_cell("# 1. Learning and estimation\n\nNo goals here.")])
    with pytest.raises(ValueError, match=r"01_learning_and_estimation.ipynb has no '\*\*Learning goals.\*\*'"):
        chapter_summaries(tmp_path)


def test_a_check_cell_outside_an_exercise_heading_is_refused(tmp_path):
    write_notebook(tmp_path, [nbformat.v4.new_markdown_cell("# 1. Learning and estimation\n\n## 1.1 Bayes"),
                              nbformat.v4.new_code_cell('check("01.posterior", answer)')])
    with pytest.raises(ValueError, match=r"check\('01.posterior', ...\) is not under an '### Exercise N.M"):
        exercise_rows(tmp_path)


def test_an_exercise_without_a_check_cell_is_refused(tmp_path):
    write_notebook(tmp_path, [nbformat.v4.new_markdown_cell("# 1. Learning and estimation\n\n### Exercise 1.1: x"),
                              nbformat.v4.new_code_cell('check("01.posterior", answer)')])
    with pytest.raises(ValueError, match=r"no check\(...\) cell for \['01.expectation'"):
        exercise_rows(tmp_path)


def test_an_empty_folder_is_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match="pass the book's root folder"):
        chapter_summaries(tmp_path)


def shown_by_check(monkeypatch, exercise_id: str, answer) -> str:
    """The HTML that check() displays in a fresh session."""
    shown = []
    monkeypatch.setattr(exercises, "show", lambda text, html: shown.append(html))
    monkeypatch.setattr(exercises, "_hints_given", {})
    monkeypatch.delenv("HELPERS_STRICT", raising=False)
    exercises.check(exercise_id, answer)
    return shown[0]


def test_feedback_html_is_what_check_shows_for_a_known_mistake(monkeypatch):
    exercise = get("01.unbiased_variance")
    mistake = next(answer for diagnosis, answer in exercise.wrong.items() if "divides by m" in diagnosis)
    outcome, html = feedback_html(exercise.id, mistake)
    assert outcome is Outcome.INCORRECT
    assert html == shown_by_check(monkeypatch, exercise.id, mistake)
    assert "likely cause: This divides by m" in html and "Next hint: (1 of" in html


def test_feedback_html_is_what_check_shows_for_the_worked_solution(monkeypatch):
    answer = worked_answer(ROOT, "01.unbiased_variance")
    outcome, html = feedback_html("01.unbiased_variance", answer)
    assert outcome is Outcome.CORRECT
    assert html == shown_by_check(monkeypatch, "01.unbiased_variance", answer)
    assert "exercise-correct" in html
