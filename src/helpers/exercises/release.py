"""Release: write the student edition ``chapters/`` from the source notebooks in ``solutions/``.

For every ``solutions/NN_slug.ipynb``:

- the first cell becomes the book's setup cell (Colab-aware, repository URL from ``_config.yml``);
- outputs, execution counts and per-run metadata are removed (in both editions);
- in the student edition, each ``### BEGIN SOLUTION`` ... ``### END SOLUTION`` block in a code cell becomes
  ``# YOUR CODE HERE`` / ``raise NotImplementedError()`` at the block's indentation, and each
  ``<!-- BEGIN SOLUTION -->`` ... ``<!-- END SOLUTION -->`` block in a markdown cell becomes ``YOUR ANSWER HERE``.

Solution blocks must sit inside a function body: a top-level ``raise`` would stop the student's notebook.

nbgrader works too. An exercise is two code cells: the answer (the function with the solution block) and,
as the next code cell, its check, a cell holding nothing but ``check("NN.name", answer)``. Release writes
nbgrader cell metadata (schema 3) into both editions:

- the answer cell is an "autograded answer" cell (``solution: true``, ``grade: false``, ``locked: false``);
- the check cell is a locked "autograder tests" cell (``grade: true``, ``locked: true``) worth the
  catalogue's points for the exercise; in strict mode (``HELPERS_STRICT=1``) ``check`` raises unless the
  answer is correct, so nbgrader awards all of the points or none;
- a markdown cell with a solution block is a "manually graded answer" cell worth 0 points (our grader
  does not grade it either); every other cell carries no nbgrader metadata.

nbgrader's ids may hold only letters, digits, ``_`` and ``-`` (the ``grade_id`` pattern of its metadata
schema, ``nbgraderformat/v3.json``), so an exercise id's dot becomes a hyphen: exercise ``01.posterior``
is answer cell ``01-posterior`` and check cell ``01-posterior-tests`` (catalogue ids have no hyphen, so
the mapping can be read back). Release refuses (``ReleaseError``, naming the notebook and cell) a solution
block whose next code cell is not its check, a check cell that holds other code, a check that follows no
answer, and a chapter whose last cell is not ``progress()``, which shows the reader's verdicts.

The output depends only on the sources (no dates, no random ids): ``release --check`` compares bytes.
"""

from __future__ import annotations

import ast
import copy
import re
from pathlib import Path

import nbformat
import yaml

CODE_BEGIN, CODE_END = "### BEGIN SOLUTION", "### END SOLUTION"
MD_BEGIN, MD_END = "<!-- BEGIN SOLUTION -->", "<!-- END SOLUTION -->"
STUB = "{indent}# YOUR CODE HERE\n{indent}raise NotImplementedError()"
MD_STUB = "YOUR ANSWER HERE"
KEEP_NOTEBOOK_METADATA = ("kernelspec", "language_info", "helpers")
PROGRESS_CELL = "progress()"
NBGRADER_SCHEMA = 3
NBGRADER_ID = re.compile(r"[A-Za-z0-9_-]+")  # nbgrader's grade_id pattern
NBGRADER_WORDS = ("BEGIN SOLUTION", "END SOLUTION")  # nbgrader treats any line holding these as a marker
CHECK_CALL = re.compile(r"(?<![\w.])check\s*\(")

SETUP_TEMPLATE = """\
# Setup: run this cell first. Locally it only imports; on Colab it first installs the book's helpers.
import sys

if "google.colab" in sys.modules:
    import subprocess

    source = "{install}"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", source], check=True)

import helpers
import helpers.plot  # the book's figure style
from helpers.exercises import check, hint, progress

helpers.seed_everything(0)
DEVICE = helpers.device()
print(f"helpers {{helpers.__version__}} on {{DEVICE}}")"""


class ReleaseError(ValueError):
    """A source notebook that cannot be released; the message names the notebook and cell."""


def repository(config: Path) -> tuple[str, str]:
    """(url, branch) of the book's repository, from ``_config.yml``."""
    try:
        settings = yaml.safe_load(config.read_text())
        repo = settings["repository"]
        return repo["url"].rstrip("/"), repo.get("branch", "main")
    except (OSError, KeyError, TypeError, yaml.YAMLError) as error:
        raise ReleaseError(f"{config}: cannot read repository.url from it ({error}).") from None


def setup_source(config: Path) -> str:
    url, branch = repository(config)
    return SETUP_TEMPLATE.format(install=f"git+{url}@{branch}")


def stub_code(source: str, where: str) -> str:
    """Replace each solution block in a code cell's source with the stub, keeping the indentation."""
    lines, out, inside, indent = source.split("\n"), [], False, ""
    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        if stripped == CODE_BEGIN:
            if inside:
                raise ReleaseError(f"{where}, line {number}: a second {CODE_BEGIN} before {CODE_END}.")
            indent = line[: len(line) - len(line.lstrip())]
            if not indent:
                raise ReleaseError(
                    f"{where}, line {number}: a solution block at top level. Put it inside a function "
                    "(a top-level `raise NotImplementedError()` would stop the student's notebook)."
                )
            inside = True
            out.append(STUB.format(indent=indent))
        elif stripped == CODE_END:
            if not inside:
                raise ReleaseError(f"{where}, line {number}: {CODE_END} without {CODE_BEGIN}.")
            inside = False
        elif any(word in line for word in NBGRADER_WORDS):
            raise ReleaseError(
                f"{where}, line {number}: a marker must be alone on its line ({CODE_BEGIN!r} or {CODE_END!r}); "
                "nbgrader reads any line holding these words as one."
            )
        elif not inside:
            out.append(line)
    if inside:
        raise ReleaseError(f"{where}: {CODE_BEGIN} is never closed by {CODE_END}.")
    return "\n".join(out)


def stub_markdown(source: str, where: str) -> str:
    pattern = re.compile(re.escape(MD_BEGIN) + r".*?" + re.escape(MD_END), re.DOTALL)
    result = pattern.sub(MD_STUB, source)
    if MD_BEGIN in result or MD_END in result:
        raise ReleaseError(f"{where}: unbalanced {MD_BEGIN} / {MD_END} markers.")
    if any(word in result for word in NBGRADER_WORDS):
        raise ReleaseError(f"{where}: the words {NBGRADER_WORDS[0]!r} / {NBGRADER_WORDS[1]!r} outside the markers "
                           f"{MD_BEGIN} / {MD_END}; nbgrader would read them as a solution region.")
    return result


# ---------------------------------------------------------------- nbgrader


def grade_id(exercise_id: str) -> str:
    """nbgrader's id of an exercise's answer cell: '01.posterior' -> '01-posterior' (no dots in nbgrader ids)."""
    result = exercise_id.replace(".", "-")
    if not NBGRADER_ID.fullmatch(result) or "-" in exercise_id:
        raise ReleaseError(f"exercise id {exercise_id!r} cannot be an nbgrader id: use NN.name with letters, "
                           "digits and underscores.")
    return result


def check_call(source: str, where: str) -> str | None:
    """The exercise id when the cell is exactly ``check("NN.name", answer)``; None when it calls no ``check``.

    A cell that calls ``check`` and does anything else is refused: nbgrader grades the whole cell.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:  # IPython syntax (magics): fine unless it calls check
        if CHECK_CALL.search(source):
            raise ReleaseError(f"{where}: a cell that calls check() must be plain Python.") from None
        return None
    calls = [node for node in ast.walk(tree)
             if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "check"]
    if not calls:
        return None
    only = tree.body[0].value if len(tree.body) == 1 and isinstance(tree.body[0], ast.Expr) else None
    if (only is not calls[0] or len(calls) > 1 or len(only.args) != 2 or only.keywords
            or not isinstance(only.args[0], ast.Constant) or not isinstance(only.args[0].value, str)):
        raise ReleaseError(
            f"{where}: `check(\"NN.name\", answer)` must be alone in its cell, right after the answer cell "
            "(nbgrader grades the check cell as a whole)."
        )
    return only.args[0].value


def answer_metadata(exercise_id: str) -> dict:
    """nbgrader's "autograded answer" cell."""
    return {"grade": False, "grade_id": grade_id(exercise_id), "locked": False, "schema_version": NBGRADER_SCHEMA,
            "solution": True}


def check_metadata(exercise_id: str, points: int) -> dict:
    """nbgrader's "autograder tests" cell, locked, worth the exercise's points."""
    return {"grade": True, "grade_id": f"{grade_id(exercise_id)}-tests", "locked": True, "points": points,
            "schema_version": NBGRADER_SCHEMA, "solution": False}


def written_answer_metadata(cell_id: str) -> dict:
    """nbgrader's "manually graded answer" cell (a markdown answer), worth 0 points like in our grader."""
    return {"grade": True, "grade_id": f"answer-{cell_id}", "locked": False, "points": 0,
            "schema_version": NBGRADER_SCHEMA, "solution": True}


def exercise_points(exercise_id: str, where: str) -> int:
    from helpers.exercises.catalogue import get

    try:
        return get(exercise_id).points
    except KeyError as error:
        raise ReleaseError(f"{where}: {error.args[0]}") from None


def tag_for_nbgrader(nb: nbformat.NotebookNode, name: str) -> None:
    """Write nbgrader's metadata into the answer and check cells (in place); refuse a broken exercise layout."""
    pending: tuple[int, str] | None = None  # (index, where) of an answer cell waiting for its check cell
    seen: dict[str, str] = {}
    for index, cell in enumerate(nb.cells):
        where = f"{name}, cell {index + 1}"
        cell.metadata.pop("nbgrader", None)
        if cell.cell_type == "markdown" and MD_BEGIN in cell.source:
            cell.metadata["nbgrader"] = written_answer_metadata(cell.get("id") or f"cell-{index + 1}")
        if cell.cell_type != "code":
            continue
        exercise_id = check_call(cell.source, where)
        if pending is not None:
            answer_index, answer_where = pending
            if exercise_id is None:
                raise ReleaseError(
                    f"{answer_where}: the next code cell after a solution block must be its check, "
                    f"`check(\"NN.name\", answer)` alone, but cell {index + 1} is not."
                )
            if exercise_id in seen:
                raise ReleaseError(f"{where}: {exercise_id} is checked twice (first in {seen[exercise_id]}).")
            seen[exercise_id] = where
            nb.cells[answer_index].metadata["nbgrader"] = answer_metadata(exercise_id)
            cell.metadata["nbgrader"] = check_metadata(exercise_id, exercise_points(exercise_id, where))
            pending = None
        elif exercise_id is not None:
            raise ReleaseError(
                f"{where}: check({exercise_id!r}, ...) does not follow an answer cell: put it right after the "
                f"cell whose function holds the {CODE_BEGIN} block."
            )
        elif any(line.strip() == CODE_BEGIN for line in cell.source.split("\n")):
            pending = (index, where)
    if pending is not None:
        raise ReleaseError(f"{pending[1]}: the next code cell after a solution block must be its check, "
                           "`check(\"NN.name\", answer)` alone, but there is none.")


def require_progress(nb: nbformat.NotebookNode, name: str) -> None:
    """A chapter ends with the code cell ``progress()``, which shows the reader's verdicts."""
    last = nb.cells[-1] if nb.cells else None
    if last is None or last.cell_type != "code" or last.source.strip() != PROGRESS_CELL:
        raise ReleaseError(f"{name}, cell {len(nb.cells)}: a chapter's last cell must be the code cell "
                           f"`{PROGRESS_CELL}` (after Further reading), which shows the reader's progress.")


def clean(nb: nbformat.NotebookNode, setup: str, chapter: str | None = None) -> nbformat.NotebookNode:
    """A copy without outputs, execution counts or run metadata, whose first cell is the setup cell.

    The notebook's metadata records its chapter, which the grader reads.
    """
    nb = copy.deepcopy(nb)
    nb.metadata = {key: nb.metadata[key] for key in KEEP_NOTEBOOK_METADATA if key in nb.metadata}
    if chapter is not None:
        nb.metadata["helpers"] = {"chapter": chapter}
    nb.metadata.setdefault(
        "kernelspec", {"name": "python3", "display_name": "Python 3", "language": "python"}
    )
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        cell.metadata.pop("collapsed", None)
        cell.metadata.pop("scrolled", None)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    if not nb.cells or nb.cells[0].cell_type != "code":
        cell = nbformat.v4.new_code_cell(setup)
        cell.pop("id")  # nbformat's ids are random: a fixed one keeps release deterministic
        if nb.get("nbformat_minor", 5) >= 5:
            cell.id = "setup"
        nb.cells.insert(0, cell)
    nb.cells[0].source = setup
    nb.cells[0].metadata["tags"] = ["setup", "hide-input"]
    return nb


def student_edition(nb: nbformat.NotebookNode, name: str) -> nbformat.NotebookNode:
    nb = copy.deepcopy(nb)
    for index, cell in enumerate(nb.cells):
        where = f"{name}, cell {index + 1}"
        if cell.cell_type == "code":
            cell.source = stub_code(cell.source, where)
        elif cell.cell_type == "markdown":
            cell.source = stub_markdown(cell.source, where)
    return nb


def dumps(nb: nbformat.NotebookNode) -> str:
    return nbformat.writes(nb, version=4) + "\n"


def release(
    solutions: Path, chapters: Path, config: Path, check_only: bool = False, only: list[str] | None = None
) -> list[str]:
    """Write (or, with ``check_only``, compare) both editions. Returns the files that changed / differ.

    ``only``: chapter numbers (e.g. ["02"]) to release, leaving other chapters alone.
    """
    sources = sorted(solutions.glob("[0-9][0-9]_*.ipynb"))
    if only:
        sources = [s for s in sources if s.name[:2] in only]
    if not sources:
        raise ReleaseError(f"No source notebooks (NN_slug.ipynb) in {solutions}/.")
    setup = setup_source(config)
    changed = []
    for source in sources:
        try:
            nb = nbformat.read(source, as_version=4)
        except Exception as error:
            raise ReleaseError(f"{source}: not a readable notebook ({error}).") from None
        solution_nb = clean(nb, setup, chapter=source.name[:2])
        require_progress(solution_nb, source.name)
        tag_for_nbgrader(solution_nb, source.name)
        student_nb = student_edition(solution_nb, source.name)
        for path, edition in ((source, solution_nb), (chapters / source.name, student_nb)):
            text = dumps(edition)
            if not path.exists() or path.read_text() != text:
                changed.append(str(path))
                if not check_only:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_text(text)
    stale = set() if only else {p.name for p in chapters.glob("*.ipynb")} - {s.name for s in sources}
    for name in sorted(stale):
        changed.append(str(chapters / name))
        if not check_only:
            (chapters / name).unlink()
    return changed
