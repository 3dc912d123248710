"""Release: write the student edition ``chapters/`` from the source notebooks in ``solutions/``.

For every ``solutions/NN_slug.ipynb``:

- the first cell becomes the book's setup cell (Colab-aware, repository URL from ``_config.yml``);
- outputs, execution counts and per-run metadata are removed (in both editions);
- in the student edition, each ``### BEGIN SOLUTION`` ... ``### END SOLUTION`` block in a code cell becomes
  ``# YOUR CODE HERE`` / ``raise NotImplementedError()`` at the block's indentation, and each
  ``<!-- BEGIN SOLUTION -->`` ... ``<!-- END SOLUTION -->`` block in a markdown cell becomes ``YOUR ANSWER HERE``.

Solution blocks must sit inside a function body: a top-level ``raise`` would stop the student's notebook.
"""

from __future__ import annotations

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

SETUP_TEMPLATE = """\
# Setup: run this cell first. Locally it only imports; on Colab it first installs the book's helpers.
import sys

if "google.colab" in sys.modules:
    import subprocess

    source = "{install}"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", source], check=True)

import helpers
import helpers.plot  # the book's figure style
from helpers.exercises import check, hint

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
    return result


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
        nb.cells.insert(0, nbformat.v4.new_code_cell(setup))
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
