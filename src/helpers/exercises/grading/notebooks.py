"""Reading submitted notebooks: which files, whose, which chapter, and which answer each exercise graded.

Everything here only reads: a submitted file is never modified (the kernel runs a copy, in memory).

Names. A *submission* is named by its path under the submissions folder, without ``.ipynb``
(``section_a/alice``, ``alice/01``). Its *student* is that name without the parts that name a chapter of the
book (``01``, ``ch01``, ``chapter-01``, ``01_learning_and_estimation``): ``alice/01.ipynb``,
``alice/ch02.ipynb`` and ``01/alice.ipynb`` all belong to student ``alice``; ``section_a/alice.ipynb`` is
student ``section_a/alice``, as a flat ``alice.ipynb`` is ``alice``. So a class of the whole book is
a folder per student (or per chapter), and a class of one chapter is a flat folder of notebooks.
"""

from __future__ import annotations

import ast
import collections
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from helpers.exercises.catalogue import CHAPTERS
from helpers.exercises.grading.records import Problem, Status

if TYPE_CHECKING:
    from nbformat import NotebookNode

# A cell that does not parse still tells which exercise it was for.
CHECK_PATTERN = re.compile(r"""check\(\s*["']([0-9]{2}\.\w+)["']\s*,\s*(\w+)""")
# A file or folder name that names a chapter: 01, ch01, chapter_01, 01_learning_and_estimation, Ch-02 ...
CHAPTER_NAME = re.compile(r"(?:ch(?:apter)?[ _-]?)?([0-9]{2})(?:[ _-].*)?", re.IGNORECASE)


class CheckCall(NamedTuple):
    """A ``check("01.x", answer)`` call: the cell it is in (from 0), the exercise, the answer's source."""

    cell: int
    exercise_id: str
    answer: str


def find_submissions(folder: Path) -> list[Path]:
    """Every notebook under ``folder``, in subfolders too (Jupyter's checkpoints excepted), sorted."""
    return sorted(p for p in folder.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts and p.is_file())


def student_name(path: Path, folder: Path) -> str:
    """The submission's name: ``section_a/alice`` for ``folder/section_a/alice.ipynb``."""
    return path.relative_to(folder).with_suffix("").as_posix()


def book_chapters() -> list[str]:
    """The chapters the catalogue has exercises for: ["01", "02", ...]."""
    return [name[2:] for name in CHAPTERS]


def named_chapter(part: str) -> str | None:
    """The chapter a file or folder name names (``"02"`` for ``ch02`` or ``02_maximum_likelihood``), or None."""
    found = CHAPTER_NAME.fullmatch(part)
    return found.group(1) if found and found.group(1) in book_chapters() else None


def student_of(submission: str) -> str:
    """The student a submission belongs to: its name without the parts that name a chapter.

    ``alice/01`` -> ``alice``; ``01/alice`` -> ``alice``; ``section_a/alice`` -> ``section_a/alice``; a name
    made only of chapters (``01``) stays itself.
    """
    parts = [part for part in submission.split("/") if named_chapter(part) is None]
    return "/".join(parts) or submission


def path_chapter(submission: str) -> str | None:
    """The chapter the submission's path names, the innermost first (``alice/02`` -> ``02``), or None."""
    for part in reversed(submission.split("/")):
        if chapter := named_chapter(part):
            return chapter
    return None


def read_notebook(path: Path) -> tuple[NotebookNode | None, Problem | None]:
    """(the notebook, None), or (None, what makes the file unusable)."""
    import nbformat

    raw = path.read_bytes()
    if not raw.strip():
        return None, Problem(Status.EMPTY, "the file is empty")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        if raw.lstrip()[:1] in (b"{", b"["):
            detail = f"the file is not valid JSON ({error.__class__.__name__}: {error})"
            return None, Problem(Status.MALFORMED, detail)
        return None, Problem(Status.NOT_A_NOTEBOOK, "the file is not a Jupyter notebook (it is not JSON)")
    if not isinstance(data, dict) or "cells" not in data:
        return None, Problem(Status.NOT_A_NOTEBOOK, "the file is JSON but not a Jupyter notebook (no cells)")
    try:
        nb = nbformat.reads(json.dumps(data), as_version=4)
        nbformat.validate(nb)
    except Exception as error:
        detail = f"the notebook does not follow the notebook format ({error})"[:300]
        return None, Problem(Status.MALFORMED, detail)
    return nb, None


def _parse(source: str) -> ast.Module | None:
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, SystemError):
        # SystemError: CPython 3.11 can fail spuriously in ast when threads use it (gh-106905)
        return None


def _is_check(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "check"
        and len(node.args) == 2
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    )


def check_calls(nb: NotebookNode) -> list[CheckCall]:
    """Every ``check("id", answer)`` call of the notebook's code cells, in order."""
    found = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        tree = _parse(cell.source)
        if tree is None:
            found += [CheckCall(index, m.group(1), m.group(2)) for m in CHECK_PATTERN.finditer(cell.source)]
            continue
        for node in ast.walk(tree):
            if _is_check(node):
                answer = ast.get_source_segment(cell.source, node.args[1]) or ""
                found.append(CheckCall(index, node.args[0].value, answer))
    return found


def notebook_chapter(nb: NotebookNode) -> str | None:
    """The chapter a notebook belongs to: its metadata (``release`` writes it), else its check() calls."""
    chapter = (nb.metadata.get("helpers") or {}).get("chapter")
    if isinstance(chapter, str) and chapter:
        return chapter
    chapters = [call.exercise_id.split(".")[0] for call in check_calls(nb)]
    return collections.Counter(chapters).most_common(1)[0][0] if chapters else None


def chapter_problem(nb: NotebookNode, chapter: str) -> Problem | None:
    """A WRONG_CHAPTER problem when the notebook is not (or does not show that it is) ``chapter``.

    ``chapter`` is "" when the grader could not tell the notebook's chapter (see ``submission_chapter``).
    """
    found = notebook_chapter(nb)
    if chapter and found == chapter:
        return None
    if found is None:
        return Problem(Status.WRONG_CHAPTER, "this notebook shows no sign of which chapter it is")
    if not chapter:
        return Problem(Status.WRONG_CHAPTER, f"this notebook is chapter {found}, which has no exercises in the book")
    return Problem(Status.WRONG_CHAPTER, f"this notebook is chapter {found}; only chapter {chapter} is graded "
                                         f"(--chapter {chapter})")


def submission_chapter(path: Path, folder: Path, only: str | None = None) -> str:
    """The chapter a submission is graded on: ``only`` when given (``--chapter``), else the notebook's own
    (its metadata, else its check() calls), else the one its path names (``alice/03.ipynb``), else ""."""
    if only:
        return only
    nb, _ = read_notebook(path)
    found = notebook_chapter(nb) if nb is not None else None
    if found is not None:
        return found if found in book_chapters() else ""
    return path_chapter(student_name(path, folder)) or ""


def graded_answers(nb: NotebookNode, exercise_ids: list[str]) -> tuple[dict[str, str], list[str]]:
    """({exercise id: the answer's source}, notes). The last check() call of an exercise is the one graded."""
    calls = [call for call in check_calls(nb) if call.exercise_id in exercise_ids]
    answers = {call.exercise_id: call.answer for call in calls}
    counts = collections.Counter(call.exercise_id for call in calls)
    notes = [f"{exercise_id} is checked {count} times; the answer defined last was graded"
             for exercise_id, count in sorted(counts.items()) if count > 1]
    return answers, notes
