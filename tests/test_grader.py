"""The instructor's grader on a class of tricky submissions.

Each fixture notebook is small: the chapter's setup and import cells plus its exercise cells, taken from
solutions/ (so they stay in step with the book). Expected scores are computed by running the same
answers through ``assess`` in this process, never copied from the grader's output.

Two classes are graded: the main one with generous limits (importing torch is slow while the rest of
`make test` runs), and the submissions that hit a limit (an infinite loop, a crash, a memory bomb) with a
short cell timeout and a small memory limit, so that hitting them costs seconds.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest

import helpers
from helpers import stats
from helpers.exercises import assess
from helpers.exercises.catalogue import get, of_chapter
from helpers.exercises.grading import GradingError, Settings, Status, fingerprint, grade
from helpers.exercises.grading.kernel import kernel_env
from helpers.exercises.grading.records import SubmissionRecord

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "solutions" / "01_learning_and_estimation.ipynb"
IDS = [e.id for e in of_chapter("01")]
POINTS = sum(get(i).points for i in IDS)

BIASED_VARIANCE = '''def unbiased_variance(x):
    return ((x - x.mean(dim=-1, keepdim=True)) ** 2).mean(dim=-1)


check("01.unbiased_variance", unbiased_variance)'''
WRONG_LETTER = '''def diagnose_fit():
    return "a"


check("01.diagnose_fit", diagnose_fit)'''
WRAPS_REFERENCE = '''def standard_error(x):
    return stats.unbiased_variance(x).sqrt() / x.shape[-1] ** 0.5


check("01.standard_error", standard_error)'''
BOOM = "raise RuntimeError('boom')"
LOOP = "while True:\n    pass"
CRASH = "import os\nos._exit(1)"
BOMB = "import torch\nhog = [torch.ones(25_000_000) for _ in range(400)]"


def points(*ids: str) -> int:
    return sum(get(i).points for i in ids)


def biased(x):
    return ((x - x.mean(dim=-1, keepdim=True)) ** 2).mean(dim=-1)


def wraps_reference(x):
    return stats.unbiased_variance(x).sqrt() / x.shape[-1] ** 0.5


WRONG_SCORE = POINTS - points("01.unbiased_variance", "01.diagnose_fit") + sum(
    [assess("01.unbiased_variance", biased, include_hidden=True).score,
     assess("01.diagnose_fit", "a", include_hidden=True).score]
)


def code(source: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_code_cell(textwrap.dedent(source).strip())


def is_answer(cell: nbformat.NotebookNode) -> bool:
    return "BEGIN SOLUTION" in cell.source or re.search(r"^def ", cell.source, re.MULTILINE) is not None


def base_cells() -> tuple[list, dict[str, list[nbformat.NotebookNode]]]:
    """(setup and import cells, {exercise id: its solved cells}) from the chapter's source.

    An exercise is its ``check("id", ...)`` cell and, when that cell holds only the check, the answer cell
    right before it.
    """
    nb = nbformat.read(SOURCE, as_version=4)
    head = [nb.cells[0]] + [c for c in nb.cells[1:6] if c.cell_type == "code" and "import" in c.source][:1]
    exercises = {}
    for index, cell in enumerate(nb.cells):
        found = re.search(r"""check\(\s*["'](01\.\w+)["']""", cell.source) if cell.cell_type == "code" else None
        if found and found.group(1) in IDS:
            before = [c for c in nb.cells[:index] if c.cell_type == "code"][-1:]
            exercises[found.group(1)] = ([] if is_answer(cell) else before) + [cell]
    assert set(exercises) == set(IDS)
    return head, exercises


def notebook(cells: list, chapter: str = "01") -> str:
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                   "helpers": {"chapter": chapter}}
    nb.cells = [nbformat.v4.new_code_cell(c.source) if c.cell_type == "code" else c for c in cells]
    return nbformat.writes(nb)


def with_changes(replace: dict[str, str] | None = None, insert_after: dict[str, str] | None = None,
                 drop: tuple = (), duplicate: dict[str, str] | None = None, prefix: tuple[str, ...] = (),
                 first: str = "") -> str:
    """The chapter's exercises, solved, with some replaced, dropped, duplicated or followed by a cell; the
    ``prefix`` cells after the setup, and a ``first`` cell before it."""
    head, exercises = base_cells()
    replace, insert_after, duplicate = replace or {}, insert_after or {}, duplicate or {}
    cells = ([code(first)] if first else []) + list(head) + [code(source) for source in prefix]
    for exercise_id, solved in exercises.items():
        if exercise_id in drop:
            continue
        if exercise_id in duplicate:
            cells.append(code(duplicate[exercise_id]))
        cells += [code(replace[exercise_id])] if exercise_id in replace else solved
        if exercise_id in insert_after:
            cells.append(code(insert_after[exercise_id]))
    return notebook(cells)


def cell_number(folder: Path, student: str, source: str) -> int:
    """The number (from 1, as the grader's reasons say it) of the cell holding ``source``."""
    nb = nbformat.read(folder / f"{student}.ipynb", as_version=4)
    return next(n for n, cell in enumerate(nb.cells, 1) if cell.source == textwrap.dedent(source).strip())


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
# Patch what the probe runs so that every answer "returns" the reference's value and nothing is forbidden.
TAMPER_PROBE = '''
import dataclasses
import importlib

from helpers.exercises.spec import Call, CallKind

catalogue = importlib.import_module("helpers.exercises.catalogue")
_real_get, _asked = catalogue.get, {}


def get(exercise_id):
    _asked["exercise"] = dataclasses.replace(_real_get(exercise_id), forbidden=())
    return _asked["exercise"]


def call_answer(answer, case, guard=None):
    return Call(CallKind.RETURNED, _asked["exercise"].reference(*case.args))


def call_all(answer, cases, forbidden=()):
    return [call_answer(answer, case) for case in cases]


for _name in ("helpers.exercises", "helpers.exercises.catalogue", "helpers.exercises.grading.probe"):
    importlib.import_module(_name).get = get
for _name in ("helpers.exercises.runner", "helpers.exercises.grading.probe"):
    importlib.import_module(_name).call_all = call_all
    importlib.import_module(_name).call_answer = call_answer
'''

TAMPERING = (TAMPER_CHECK, TAMPER_HELPERS, TAMPER_TORCH, TAMPER_PROBE)


def write_class(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return folder


def digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def graded_class(folder: Path, out: Path, settings: Settings) -> tuple[dict[str, SubmissionRecord], list[str]]:
    """Grade ``folder`` into ``out``, checking that no submitted file changed: ({student: record}, log)."""
    before = digest(folder)
    log: list[str] = []
    book = grade(folder, out, jobs=2, settings=settings, log=log.append)
    assert digest(folder) == before, "the submitted files were modified"
    return {r.student: r for r in book.records}, log


@pytest.fixture(scope="module")
def class_folder(tmp_path_factory) -> Path:
    wrong = {"01.unbiased_variance": BIASED_VARIANCE, "01.diagnose_fit": WRONG_LETTER}
    return write_class(tmp_path_factory.mktemp("submissions"), {
        "section_b/correct.ipynb": with_changes(),
        "partly_wrong.ipynb": with_changes(replace=wrong),
        "unattempted.ipynb": (ROOT / "chapters" / SOURCE.name).read_text(),
        "cell_errors.ipynb": with_changes(insert_after={"01.expectation": BOOM},
                                          replace={"01.unbiased_variance": BIASED_VARIANCE.replace("** 2)", "** 2")}),
        "malformed.ipynb": with_changes()[:200],
        "text_file.ipynb": "These are my answers: 1. b 2. (m-1)/m\n",
        "empty.ipynb": "",
        "other_chapter.ipynb": notebook([code('print("chapter 2")')], chapter="02"),
        "deleted_cells.ipynb": with_changes(drop=("01.select_degree", "01.mse_of_mean")),
        "duplicated_cells.ipynb": with_changes(duplicate={"01.unbiased_variance": BIASED_VARIANCE}),
        "tampered.ipynb": with_changes(replace=wrong, prefix=TAMPERING),
        "uses_reference.ipynb": with_changes(replace={
            "01.unbiased_variance": 'from helpers.stats import unbiased_variance\n\ncheck("01.unbiased_variance", '
                                    'unbiased_variance)',
            "01.standard_error": WRAPS_REFERENCE}),
    })


@pytest.fixture(scope="module")
def limits_folder(tmp_path_factory) -> Path:
    """The crash comes first (a fresh kernel, nothing to replay); the memory bomb's kernel has cells to replay."""
    return write_class(tmp_path_factory.mktemp("limits"), {
        "infinite_loop.ipynb": with_changes(insert_after={"01.expectation": LOOP}),
        "kernel_crash.ipynb": with_changes(first=CRASH),
        "memory_bomb.ipynb": with_changes(insert_after={"01.expectation": BOMB}),
    })


# generous limits: the setup cell imports torch, which is slow while the rest of `make test` runs
SETTINGS = Settings(cell_timeout=30, notebook_timeout=180, probe_timeout=60, memory_mb=2000)
# shorter ones for the submissions that hit them. The setup cell (importing torch, ~3 s on a quiet machine)
# still has to fit in a cell's time on a loaded one: at 8 s it timed out once while other work ran.
LIMITS = Settings(cell_timeout=20, notebook_timeout=180, probe_timeout=60, memory_mb=1000)


@pytest.fixture(scope="module")
def graded(class_folder, tmp_path_factory):
    out = tmp_path_factory.mktemp("results")
    rows, log = graded_class(class_folder, out, SETTINGS)
    return out, rows, log


@pytest.fixture(scope="module")
def limited(limits_folder, tmp_path_factory) -> dict[str, SubmissionRecord]:
    rows, _ = graded_class(limits_folder, tmp_path_factory.mktemp("limits-results"), LIMITS)
    return rows


EXPECTED = {  # student: (status, score)
    "section_b/correct": ("ok", POINTS),
    "partly_wrong": ("ok", WRONG_SCORE),
    "unattempted": ("ok", 0),
    "cell_errors": ("ok", POINTS - points("01.unbiased_variance")),
    "malformed": ("malformed notebook", 0),
    "text_file": ("not a notebook", 0),
    "empty": ("empty", 0),
    "other_chapter": ("missing exercise cells", 0),  # graded on its own chapter, 02, whose cells it lacks
    "deleted_cells": ("missing exercise cells", POINTS - points("01.select_degree", "01.mse_of_mean")),
    "duplicated_cells": ("ok", POINTS),
    "tampered": ("ok", WRONG_SCORE),
    "uses_reference": ("ok", POINTS - points("01.unbiased_variance", "01.standard_error")
                       + assess("01.standard_error", wraps_reference, include_hidden=True).score),
}
EXPECTED_AT_LIMITS = {
    "infinite_loop": ("timeout", POINTS),
    "kernel_crash": ("kernel died", POINTS),
    "memory_bomb": ("memory limit", POINTS),
}


def assert_graded(record: SubmissionRecord, status: str, score: float) -> None:
    assert record.status is Status(status), record.reason
    assert record.total == pytest.approx(score, abs=0.011), record.reason


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_status_and_score(graded, student):
    _, rows, _ = graded
    assert_graded(rows[student], *EXPECTED[student])


@pytest.mark.parametrize("student", sorted(EXPECTED_AT_LIMITS))
def test_status_and_score_at_the_limits(limited, student):
    assert_graded(limited[student], *EXPECTED_AT_LIMITS[student])


def test_reasons_name_the_cell_and_the_problem(graded, class_folder, limited, limits_folder):
    _, rows, _ = graded
    assert f"cell {cell_number(class_folder, 'cell_errors', BOOM)} raised RuntimeError: boom" in rows[
        "cell_errors"].reason
    assert "SyntaxError" in rows["cell_errors"].reason
    assert rows["cell_errors"].exercises["01.unbiased_variance"].score == 0
    for student, source in (("infinite_loop", LOOP), ("kernel_crash", CRASH), ("memory_bomb", BOMB)):
        status = EXPECTED_AT_LIMITS[student][0]
        assert limited[student].reason.startswith(f"{status} (cell {cell_number(limits_folder, student, source)})")
    deleted = ", ".join(i for i in IDS if i in ("01.mse_of_mean", "01.select_degree"))  # in catalogue order
    assert f"no check() cell for {deleted}" in rows["deleted_cells"].reason
    assert "01.unbiased_variance is checked 2 times" in rows["duplicated_cells"].reason
    assert rows["other_chapter"].chapter == "02" and "no check() cell for 02." in rows["other_chapter"].reason


def test_tampering_gains_nothing(graded):
    """Every tampering cell ran without error, and the notebook scored exactly what its wrong answers earn:
    the probe's fresh copy of ``helpers`` ignores the notebook's patched ``call_all``, ``call_answer`` and
    ``get``, and the comparison in the grader's process ignores the patched torch, math and ``judge``."""
    _, rows, _ = graded
    assert rows["tampered"].reason == "", rows["tampered"].reason  # no cell raised
    assert rows["tampered"].total == pytest.approx(WRONG_SCORE, abs=0.011)
    for exercise_id, result in rows["tampered"].exercises.items():
        assert [c.passed for c in result.cases] == [c.passed for c in rows["partly_wrong"].exercises[exercise_id].cases]


def test_the_books_own_function_is_not_an_answer(graded):
    _, rows, _ = graded
    result = rows["uses_reference"].exercises["01.unbiased_variance"]
    assert result.score == 0 and "reference implementation" in result.detail
    # a function of the student's own that calls a forbidden one: the probe's FORBIDDEN calls reach the judge
    wrapper = rows["uses_reference"].exercises["01.standard_error"]
    expected = assess("01.standard_error", wraps_reference, include_hidden=True)
    assert [c.message for c in wrapper.cases] == [r.message for r in expected.results]


def test_probe_results_are_plain_values():
    import numpy as np
    import torch

    from helpers.exercises.grading.probe import plain

    assert plain(np.float64(2.5)) == 2.5 and isinstance(plain(np.float64(2.5)), float)
    assert torch.equal(plain(np.arange(3)), torch.arange(3))
    assert plain((1, [np.int64(2)])) == (1, [2])
    assert plain(object()) == "<a object object>"
    t = torch.ones(2, requires_grad=True)
    assert not plain(t * 2).requires_grad


def test_unattempted_is_reported_as_such(graded):
    _, rows, _ = graded
    assert {e.outcome for e in rows["unattempted"].exercises.values()} == {"not attempted"}


def test_grades_csv_has_points_row_and_every_submission(graded, class_folder):
    """grades.csv has a row per student and a column per chapter (other_chapter.ipynb brought chapter 02);
    grades-01.csv a row per submission of chapter 01 (and those whose chapter cannot be told) and a column
    per exercise."""
    out, _, _ = graded
    course = (out / "grades.csv").read_text().splitlines()
    assert course[0].split(",") == ["student", "chapter 01", "chapter 02", "total", "percent", "status", "reason"]
    points_02 = sum(e.points for e in of_chapter("02"))
    assert course[1].split(",") == ["(points possible)", str(POINTS), str(points_02), str(POINTS + points_02), "100",
                                    "", ""]
    lines = (out / "grades-01.csv").read_text().splitlines()
    header = lines[0].split(",")
    assert header[:2] == ["student", "file"] and header[2:2 + len(IDS)] == IDS
    assert header[-4:] == ["total", "percent", "status", "reason"]
    assert lines[1].startswith("(points possible),,") and f",{POINTS},100," in lines[1]
    assert len(course) == len(lines) + 1 == 2 + len(list(class_folder.rglob("*.ipynb")))


def test_results_json_and_feedback(graded):
    out, _, _ = graded
    results = json.loads((out / "results.json").read_text())
    assert results["chapters"]["01"]["points_possible"] == POINTS
    submissions = {s["student"]: s for s in results["submissions"]}
    variance = submissions["partly_wrong"]["exercises"]["01.unbiased_variance"]
    assert any(case["hidden"] for case in variance["cases"]) and variance["cases"][0]["message"]
    assert submissions["deleted_cells"]["status"] == "missing exercise cells"
    page = (out / "feedback" / "partly_wrong.md").read_text()
    assert "01.unbiased_variance" in page and "❌" in page and "hidden test" in page
    assert "torch.randn" not in page, "hidden tests are named with their message, never their code"
    assert (out / "feedback" / "section_b" / "correct.md").exists()


def test_rerun_skips_graded_submissions_unless_forced(graded, class_folder):
    out, rows, _ = graded
    log: list[str] = []
    book = grade(class_folder, out, jobs=2, settings=SETTINGS, log=log.append)
    assert all(line.startswith("skipped") for line in log) and len(log) == len(rows)
    assert {r.student: (r.status, r.total) for r in book.records} == {s: (r.status, r.total) for s, r in rows.items()}
    single = class_folder.parent / "single"
    single.mkdir(exist_ok=True)
    (single / "empty.ipynb").write_text("")
    log.clear()
    settings = Settings(chapter="01")
    grade(single, out / "again", jobs=1, settings=settings, log=log.append)
    grade(single, out / "again", jobs=1, settings=settings, force=True, log=log.append)
    assert [line.split()[0] for line in log] == ["graded", "graded"]


def test_records_survive_the_cache(graded):
    _, rows, _ = graded
    for record in rows.values():
        assert SubmissionRecord.from_json(json.loads(json.dumps(record.to_json()))) == record


def test_fingerprint_covers_every_module_of_helpers(tmp_path):
    from helpers.exercises.grading import source_fingerprint

    installed = Path(helpers.__file__).parent
    assert fingerprint() == source_fingerprint(installed, helpers.__version__)
    copy = tmp_path / "helpers"
    shutil.copytree(installed, copy, ignore=shutil.ignore_patterns("__pycache__"))
    before = source_fingerprint(copy, "0.1.0")
    assert source_fingerprint(copy, "0.2.0") != before
    deep = sorted(copy.glob("*/*.py"))[0]  # a module in a subpackage (nn/, exercises/, ...)
    for changed in (deep, copy / "train.py"):
        original = changed.read_text()
        changed.write_text(original + "\n# a changed reference\n")
        assert source_fingerprint(copy, "0.1.0") != before, changed
        changed.write_text(original)
    assert source_fingerprint(copy, "0.1.0") == before


def test_kernels_use_one_thread():
    """Several kernels run at once and a chapter's tensors are small: one thread each (torch reads the
    variables when it starts), and never the test suite's strict mode."""
    env = kernel_env()
    assert env["OMP_NUM_THREADS"] == env["MKL_NUM_THREADS"] == "1" and "HELPERS_STRICT" not in env


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
