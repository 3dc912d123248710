"""nbgrader works too: `generate_assignment` on a chapter from solutions/, then `autograde` with
HELPERS_STRICT=1, gives the points our own grader gives.

One nbgrader course in a temporary folder: the full chapter from solutions/ is the assignment's source;
two students submit, one the worked solutions, one the student edition from chapters/. To keep the test
fast the submissions are trimmed to what the exercises need (the setup cell, the chapter's import cell,
the answer and check cells, and progress()); nbgrader grades only the tagged cells, so the points are the
same as for the whole notebook. Our grader's points come from the same answers, graded on the public and
hidden tests by `helpers.exercises.assess` (what `make grade` runs inside its probe).
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

pytest.importorskip("nbgrader")

from nbgrader.api import Gradebook  # noqa: E402
from nbgrader.nbgraderformat import MetadataValidator, ValidationError  # noqa: E402

from helpers.exercises import assess  # noqa: E402
from helpers.exercises.catalogue import of_chapter  # noqa: E402
from helpers.exercises.release import grade_id  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = "02_maximum_likelihood"  # the fastest chapter to execute
ASSIGNMENT = "ch02"
STUDENTS = {"worked": ROOT / "solutions" / f"{CHAPTER}.ipynb", "unattempted": ROOT / "chapters" / f"{CHAPTER}.ipynb"}
NOTEBOOKS = sorted((ROOT / "solutions").glob("*.ipynb")) + sorted((ROOT / "chapters").glob("*.ipynb"))


def trimmed(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The setup cell, the chapter's import cell, every nbgrader cell and the closing progress() cell."""
    imports = [c for c in nb.cells[1:6] if c.cell_type == "code" and "import" in c.source][:1]
    nb.cells = [nb.cells[0], *imports, *(c for c in nb.cells if "nbgrader" in c.metadata), nb.cells[-1]]
    return nb


def nbgrader(course: Path, *args: str, strict: bool = False) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HELPERS_", "JPY_"))}
    env.update(
        PATH=os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),  # nbgrader runs `alembic`
        JUPYTER_CONFIG_DIR=str(course / ".jupyter"),  # no instructor's own nbgrader config
        OMP_NUM_THREADS="1", HELPERS_PROGRESS="0", MPLBACKEND="Agg",
    )
    if strict:
        env["HELPERS_STRICT"] = "1"
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0 and "ERROR" not in done.stderr, done.stderr[-4000:]


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    course = tmp_path_factory.mktemp("course")
    (course / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.root = {str(course)!r}\nc.Execute.timeout = 300\n")
    source = course / "source" / ASSIGNMENT
    source.mkdir(parents=True)
    shutil.copyfile(STUDENTS["worked"], source / f"{CHAPTER}.ipynb")  # the real, full chapter
    nbgrader(course, "generate_assignment", ASSIGNMENT)
    for student, path in STUDENTS.items():
        folder = course / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(trimmed(nbformat.read(path, as_version=4)), folder / f"{CHAPTER}.ipynb")
    nbgrader(course, "autograde", ASSIGNMENT, strict=True)
    return course


def nbgrader_points(course: Path, student: str) -> dict[str, float]:
    """{exercise id: points} from nbgrader's gradebook."""
    exercise_of = {f"{grade_id(e.id)}-tests": e.id for e in of_chapter(CHAPTER[:2])}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        notebook = gradebook.find_submission_notebook(CHAPTER, ASSIGNMENT, student)
        return {exercise_of[grade.name]: grade.score for grade in notebook.grades}


def our_points(path: Path) -> dict[str, float]:
    """{exercise id: points} from our grader: each answer on the public and hidden tests."""
    nb = trimmed(nbformat.read(path, as_version=4))
    namespace: dict = {}
    checks = []
    for cell in nb.cells[:-1]:  # not progress()
        if cell.metadata.get("nbgrader", {}).get("grade"):
            call = ast.parse(cell.source).body[0].value  # check("02.name", answer)
            checks.append((call.args[0].value, ast.unparse(call.args[1])))
        else:
            exec(compile(cell.source, f"{path.name} cell {cell.get('id')}", "exec"), namespace)
    return {exercise_id: assess(exercise_id, eval(answer, namespace), include_hidden=True).score
            for exercise_id, answer in checks}


def test_generate_assignment_writes_our_student_edition(course):
    released = nbformat.read(course / "release" / ASSIGNMENT / f"{CHAPTER}.ipynb", as_version=4)
    ours = nbformat.read(STUDENTS["unattempted"], as_version=4)
    assert [c.source for c in released.cells] == [c.source for c in ours.cells]
    for theirs, mine in zip(released.cells, ours.cells):
        tags = {k: v for k, v in theirs.metadata.get("nbgrader", {}).items() if k not in {"checksum", "cell_type"}}
        assert tags == mine.metadata.get("nbgrader", {})


def test_autograde_gives_our_graders_points(course):
    possible = sum(e.points for e in of_chapter(CHAPTER[:2]))
    worked = nbgrader_points(course, "worked")
    assert worked == our_points(STUDENTS["worked"]), "nbgrader and our grader agree on the worked solutions"
    assert sum(worked.values()) == possible, worked
    unattempted = nbgrader_points(course, "unattempted")
    assert unattempted == our_points(STUDENTS["unattempted"]), "and on the student edition"
    assert set(unattempted) == set(worked) and sum(unattempted.values()) == 0, unattempted
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        assert gradebook.find_submission_notebook(CHAPTER, ASSIGNMENT, "worked").max_score == possible


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_notebooks_carry_valid_nbgrader_metadata(path):
    MetadataValidator().validate_nb(nbformat.read(path, as_version=4))


def test_nbgrader_refuses_a_dotted_grade_id():
    """Why release maps '02.logsumexp' to '02-logsumexp': nbgrader's ids allow letters, digits, _ and - only."""
    nb = nbformat.read(STUDENTS["worked"], as_version=4)
    answer = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution"))
    answer.metadata["nbgrader"]["grade_id"] = answer.metadata["nbgrader"]["grade_id"].replace("-", ".", 1)
    with pytest.raises(ValidationError, match="does not match"):
        MetadataValidator().validate_nb(nb)
