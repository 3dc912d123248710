"""The instructor's grader on a class of tricky submissions.

Each fixture notebook is small: the chapter's setup and import cells plus its exercise cells, taken from
solutions/ (so they stay in step with the book). Expected scores are computed by running the same
answers through ``assess`` in this process, never copied from the grader's output.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest

from helpers.exercises import assess
from helpers.exercises.catalogue import catalogue
from helpers.exercises.grade import STATUSES, GradingError, Settings, grade

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "solutions" / "01_learning_and_estimation.ipynb"
IDS = [i for i in catalogue() if i.startswith("01.")]
POINTS = sum(catalogue()[i].points for i in IDS)

BIASED_VARIANCE = '''def unbiased_variance(x):
    return ((x - x.mean(dim=-1, keepdim=True)) ** 2).mean(dim=-1)


check("01.unbiased_variance", unbiased_variance)'''
WRONG_LETTER = '''def diagnose_fit():
    return "a"


check("01.diagnose_fit", diagnose_fit)'''


def biased(x):
    return ((x - x.mean(dim=-1, keepdim=True)) ** 2).mean(dim=-1)


WRONG_SCORE = POINTS - sum(catalogue()[i].points for i in ("01.unbiased_variance", "01.diagnose_fit")) + sum(
    [assess("01.unbiased_variance", biased, include_hidden=True).score,
     assess("01.diagnose_fit", "a", include_hidden=True).score]
)


def code(source: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_code_cell(textwrap.dedent(source).strip())


def base_cells() -> tuple[list, dict[str, nbformat.NotebookNode]]:
    """(setup and import cells, {exercise id: solved exercise cell}) from the chapter's source."""
    nb = nbformat.read(SOURCE, as_version=4)
    head = [nb.cells[0]] + [c for c in nb.cells[1:6] if c.cell_type == "code" and "import" in c.source][:1]
    exercises = {}
    for cell in nb.cells:
        for exercise_id in IDS:
            if cell.cell_type == "code" and f'check("{exercise_id}"' in cell.source:
                exercises[exercise_id] = cell
    assert set(exercises) == set(IDS)
    return head, exercises


def notebook(cells: list, chapter: str = "01") -> str:
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                   "helpers": {"chapter": chapter}}
    nb.cells = [nbformat.v4.new_code_cell(c.source) if c.cell_type == "code" else c for c in cells]
    return nbformat.writes(nb)


def with_changes(replace: dict[str, str] | None = None, insert_after: dict[str, str] | None = None,
                 drop: tuple = (), duplicate: dict[str, str] | None = None, prefix: str = "") -> str:
    head, exercises = base_cells()
    cells = list(head) + ([code(prefix)] if prefix else [])
    for exercise_id in IDS:
        if exercise_id in drop:
            continue
        if duplicate and exercise_id in duplicate:
            cells.append(code(duplicate[exercise_id]))
        cells.append(code(replace[exercise_id]) if replace and exercise_id in replace else exercises[exercise_id])
        if insert_after and exercise_id in insert_after:
            cells.append(code(insert_after[exercise_id]))
    return notebook(cells)


TAMPER_CHECK = '''
def check(*args, **kwargs):
    print("✅ correct")
'''
TAMPER_HELPERS = '''
import helpers.exercises
import helpers.exercises.compare
import helpers.exercises.runner
from helpers.exercises.spec import Outcome, Report
helpers.exercises.runner.judge = lambda exercise, *args, **kwargs: Report(exercise, Outcome.CORRECT, [])
helpers.exercises.compare.close = lambda *a, **k: (lambda expected, got: None)
helpers.exercises.check = lambda *a, **k: print("✅ correct")
'''
TAMPER_TORCH = '''
import math
import torch
torch.allclose = lambda *a, **k: True
torch.equal = lambda *a, **k: True
torch.isclose = lambda *a, **k: torch.tensor(True)
math.isclose = lambda *a, **k: True
torch.Tensor.__eq__ = lambda self, other: torch.tensor(True)
'''


@pytest.fixture(scope="module")
def class_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("submissions")
    wrong = {"01.unbiased_variance": BIASED_VARIANCE, "01.diagnose_fit": WRONG_LETTER}
    files = {
        "correct.ipynb": with_changes(),
        "partly_wrong.ipynb": with_changes(replace=wrong),
        "unattempted.ipynb": (ROOT / "chapters" / SOURCE.name).read_text(),
        "syntax_error.ipynb": with_changes(replace={"01.unbiased_variance": BIASED_VARIANCE.replace("** 2)", "** 2")}),
        "exception_midway.ipynb": with_changes(insert_after={"01.expectation": "raise RuntimeError('boom')"}),
        "infinite_loop.ipynb": with_changes(insert_after={"01.expectation": "while True:\n    pass"}),
        "kernel_crash.ipynb": with_changes(insert_after={"01.expectation": "import os\nos._exit(1)"}),
        "memory_bomb.ipynb": with_changes(
            insert_after={"01.expectation": "import torch\nhog = [torch.ones(25_000_000) for _ in range(400)]"}),
        "malformed.ipynb": with_changes()[:200],
        "text_file.ipynb": "These are my answers: 1. b 2. (m-1)/m\n",
        "empty.ipynb": "",
        "other_chapter.ipynb": notebook([code('print("chapter 2")')], chapter="02"),
        "deleted_cells.ipynb": with_changes(drop=("01.select_degree", "01.mse_of_mean")),
        "duplicated_cells.ipynb": with_changes(duplicate={"01.unbiased_variance": BIASED_VARIANCE}),
        "tamper_check.ipynb": with_changes(replace=wrong, prefix=TAMPER_CHECK),
        "tamper_helpers.ipynb": with_changes(replace=wrong, prefix=TAMPER_HELPERS),
        "tamper_torch.ipynb": with_changes(replace=wrong, prefix=TAMPER_TORCH),
        "section_b/nested.ipynb": with_changes(),
        "uses_reference.ipynb": with_changes(replace={"01.unbiased_variance": (
            "from helpers.stats import unbiased_variance\n\n"
            'check("01.unbiased_variance", unbiased_variance)')}),
    }
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return folder


def digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


# generous per-cell limit: the setup cell imports torch, which is slow while the rest of `make test` runs
SETTINGS = Settings(cell_timeout=25, notebook_timeout=180, probe_timeout=60, memory_mb=1500)


@pytest.fixture(scope="module")
def graded(class_folder, tmp_path_factory):
    before = digest(class_folder)
    out = tmp_path_factory.mktemp("results")
    log: list[str] = []
    summary = grade(class_folder, out, jobs=2, settings=SETTINGS, log=log.append)
    assert digest(class_folder) == before, "the submitted files were modified"
    rows = {r["student"]: r for r in summary["submissions"]}
    return out, rows, log


EXPECTED = {  # student: (status, score)
    "correct": ("ok", POINTS),
    "partly_wrong": ("ok", WRONG_SCORE),
    "unattempted": ("ok", 0),
    "exception_midway": ("ok", POINTS),
    "infinite_loop": ("timeout", POINTS),
    "kernel_crash": ("kernel died", POINTS),
    "memory_bomb": ("memory limit", POINTS),
    "malformed": ("malformed notebook", 0),
    "text_file": ("not a notebook", 0),
    "empty": ("empty", 0),
    "other_chapter": ("wrong chapter", 0),
    "deleted_cells": ("missing exercise cells",
                      POINTS - catalogue()["01.select_degree"].points - catalogue()["01.mse_of_mean"].points),
    "duplicated_cells": ("ok", POINTS),
    "tamper_check": ("ok", WRONG_SCORE),
    "tamper_helpers": ("ok", WRONG_SCORE),
    "tamper_torch": ("ok", WRONG_SCORE),
    "section_b/nested": ("ok", POINTS),
    "uses_reference": ("ok", POINTS - catalogue()["01.unbiased_variance"].points),
}


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_status_and_score(graded, student):
    _, rows, _ = graded
    status, score = EXPECTED[student]
    assert rows[student]["status"] == status, rows[student]["reason"]
    assert status in STATUSES
    assert rows[student]["total"] == pytest.approx(score, abs=0.011), rows[student]["reason"]


def test_reasons_name_the_cell_and_the_problem(graded):
    _, rows, _ = graded
    assert "cell 5 raised RuntimeError: boom" in rows["exception_midway"]["reason"]
    assert rows["infinite_loop"]["reason"].startswith("timeout (cell 5)")
    assert rows["kernel_crash"]["reason"].startswith("kernel died (cell 5)")
    assert rows["memory_bomb"]["reason"].startswith("memory limit (cell 5)")
    assert "SyntaxError" in rows["syntax_error"]["reason"]
    assert "no check() cell for 01.mse_of_mean, 01.select_degree" in rows["deleted_cells"]["reason"]
    assert "01.unbiased_variance is checked 2 times" in rows["duplicated_cells"]["reason"]
    assert "chapter 02" in rows["other_chapter"]["reason"]
    syntax = rows["syntax_error"]["exercises"]
    assert syntax["01.unbiased_variance"]["score"] == 0
    assert sum(e["score"] for e in syntax.values()) == POINTS - catalogue()["01.unbiased_variance"].points


def test_the_books_own_function_is_not_an_answer(graded):
    _, rows, _ = graded
    result = rows["uses_reference"]["exercises"]["01.unbiased_variance"]
    assert result["score"] == 0 and "reference implementation" in result["detail"]


def test_probe_results_are_plain_values():
    import numpy as np
    import torch

    from helpers.exercises.probe import plain

    assert plain(np.float64(2.5)) == 2.5 and isinstance(plain(np.float64(2.5)), float)
    assert torch.equal(plain(np.arange(3)), torch.arange(3))
    assert plain((1, [np.int64(2)])) == (1, [2])
    assert plain(object()) == "<a object object>"
    t = torch.ones(2, requires_grad=True)
    assert not plain(t * 2).requires_grad


def test_unattempted_is_reported_as_such(graded):
    _, rows, _ = graded
    assert {e["outcome"] for e in rows["unattempted"]["exercises"].values()} == {"not attempted"}


def test_grades_csv_has_points_row_and_every_submission(graded, class_folder):
    out, rows, _ = graded
    lines = (out / "grades.csv").read_text().splitlines()
    header = lines[0].split(",")
    assert header[:1] == ["student"] and header[1:1 + len(IDS)] == IDS
    assert header[-4:] == ["total", "percent", "status", "reason"]
    assert lines[1].startswith("(points possible),") and f",{POINTS},100," in lines[1]
    assert len(lines) == 2 + len(list(class_folder.rglob("*.ipynb")))


def test_results_json_and_feedback(graded):
    out, rows, _ = graded
    results = json.loads((out / "results.json").read_text())
    assert results["chapter"] == "01" and results["points_possible"] == POINTS
    variance = rows["partly_wrong"]["exercises"]["01.unbiased_variance"]
    assert any(case["hidden"] for case in variance["cases"]) and variance["cases"][0]["message"]
    page = (out / "feedback" / "partly_wrong.md").read_text()
    assert "01.unbiased_variance" in page and "❌" in page and "hidden test" in page
    assert "torch.randn" not in page, "hidden tests are named with their message, never their code"
    assert (out / "feedback" / "section_b" / "nested.md").exists()


def test_rerun_skips_graded_submissions_unless_forced(graded, class_folder):
    out, rows, _ = graded
    log: list[str] = []
    grade(class_folder, out, jobs=2, settings=SETTINGS, log=log.append)
    assert all(line.startswith("skipped") for line in log) and len(log) == len(rows)
    single = class_folder.parent / "single"
    single.mkdir(exist_ok=True)
    (single / "empty.ipynb").write_text("")
    log.clear()
    settings = Settings(chapter="01")
    grade(single, out / "again", jobs=1, settings=settings, log=log.append)
    grade(single, out / "again", jobs=1, settings=settings, force=True, log=log.append)
    assert [line.split()[0] for line in log] == ["graded", "graded"]


def test_unusable_input_is_one_clear_line(tmp_path):
    with pytest.raises(GradingError, match="does not exist"):
        grade(tmp_path / "missing", tmp_path / "out")
    with pytest.raises(GradingError, match="no notebooks"):
        grade(tmp_path, tmp_path / "out")
    (tmp_path / "a.ipynb").write_text("")
    blocker = tmp_path.parent / f"{tmp_path.name}-file"
    blocker.write_text("not a folder")
    with pytest.raises(GradingError, match="cannot write to the output folder"):
        grade(tmp_path, blocker / "out")
    with pytest.raises(GradingError, match="must not be inside"):
        grade(tmp_path, tmp_path / "results")
    result = subprocess.run([sys.executable, "-m", "helpers.exercises", "grade", str(tmp_path / "missing")],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip().startswith("grade: ") and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
