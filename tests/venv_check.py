"""Run by a fresh environment's own Python: import every helpers module, then execute one chapter notebook.

`tests/compat.py` and `tests/readme_install.py` build an environment the way a reader would (the oldest or the
newest dependencies, or the README's install lines) and then call::

    <env>/bin/python tests/venv_check.py chapters/02_maximum_likelihood.ipynb

It uses only the standard library, nbformat and nbclient, so it needs nothing from the book's own .venv.
On success it prints one JSON line (the Python and package versions, where helpers was imported from, the
number of modules imported, the notebook's seconds) and exits 0; on failure it prints what failed and exits 1.

The notebook runs in the student mode of the test suite (HELPERS_STRICT=not-attempted: every check must report
"not attempted" and the notebook must still run to the end), on one torch thread, without progress bars.
A last cell prints the kernel's sys.prefix, so a kernel that silently ran in another environment fails, and the
chapter's own last cell, progress(), must list every exercise the notebook checks as "not attempted".
"""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import os
import pkgutil
import re
import sys
import time
import traceback
from pathlib import Path

PACKAGES = ("torch", "numpy", "scipy", "scikit-learn", "matplotlib", "ipywidgets", "tqdm", "nbformat", "pyyaml",
            "ipykernel", "ipython", "nbclient")
KERNEL_ENV = {"HELPERS_STRICT": "not-attempted", "HELPERS_PROGRESS": "0", "OMP_NUM_THREADS": "1",
              "MPLBACKEND": "Agg"}


def versions() -> dict[str, str | None]:
    """The installed version of each package that matters to the notebooks (None: not installed)."""
    found: dict[str, str | None] = {"python": ".".join(map(str, sys.version_info[:3]))}
    for name in PACKAGES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = None
    return found


def import_every_module() -> list[str]:
    """Import helpers and each of its modules and subpackages; return their names.

    `helpers.exercises.__main__` is skipped: it is the command-line entry point and runs the CLI when imported.
    """
    import helpers

    names = ["helpers"]
    for module in pkgutil.walk_packages(helpers.__path__, "helpers.", onerror=_raise):
        if module.name.endswith(".__main__"):
            continue
        importlib.import_module(module.name)
        names.append(module.name)
    return names


def _raise(name: str) -> None:
    raise ImportError(f"walking the helpers package failed at {name}")


def execute(notebook: Path) -> float:
    """Execute `notebook` in a fresh python3 kernel of this environment; return the seconds it took."""
    import nbformat
    from nbclient import NotebookClient

    os.environ.update(KERNEL_ENV)
    nb = nbformat.read(notebook, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("import sys\nprint(sys.prefix)"))
    start = time.perf_counter()
    client = NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(notebook.parent)}})
    client.execute()
    seconds = time.perf_counter() - start
    printed = "".join(out.get("text", "") for out in nb.cells[-1].outputs).strip()
    if Path(printed).resolve() != Path(sys.prefix).resolve():
        raise RuntimeError(f"the notebook's kernel ran in {printed!r}, not in this environment ({sys.prefix}): "
                           "a python3 kernelspec elsewhere on the Jupyter path takes precedence")
    check_progress(nb)
    return seconds


def check_progress(nb) -> None:
    """The chapter's last cell, progress(), lists each exercise the notebook checks as "not attempted".

    The exercise ids come from the notebook's own check("NN.name", ...) calls; in the student edition every
    answer is still the stub, so that is the state progress() must show.
    """
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    last = code[-2]  # code[-1] is the sys.prefix cell appended above
    if last.source.strip() != "progress()":
        raise RuntimeError(f"the chapter's last code cell is {last.source.strip()!r}, not progress()")
    shown = "".join(out.get("data", {}).get("text/plain", "") + out.get("text", "") for out in last.outputs)
    ids = sorted(set(re.findall(r'check\("(\d\d\.[\w.]+)"', "".join(cell.source for cell in code))))
    lines = {exercise: [line for line in shown.splitlines() if f" {exercise} " in line] for exercise in ids}
    wrong = [exercise for exercise in ids if not any("not attempted" in line for line in lines[exercise])]
    if not ids or wrong:
        raise RuntimeError(f"progress() does not show {wrong or 'any exercise'} as not attempted:\n{shown}")


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not argv[0].endswith(".ipynb"):
        print("usage: <env>/bin/python tests/venv_check.py path/to/chapter.ipynb", file=sys.stderr)
        return 2
    notebook = Path(argv[0]).resolve()
    report: dict = {"versions": versions()}
    try:
        report["modules"] = len(import_every_module())
        import helpers

        report["helpers_from"] = str(Path(helpers.__file__).parent)
        report["notebook"] = notebook.name
        report["notebook_seconds"] = round(execute(notebook), 1)
    except Exception as error:  # report any failure in one place, with its traceback, then fail
        traceback.print_exc()
        if hasattr(error, "ename"):  # nbclient's CellExecutionError: the cell's exception, in one line
            report["error"] = f"a cell of {notebook.name} raised {error.ename}: {error.evalue}"
        else:
            report["error"] = f"{type(error).__name__}: {error}"
        print(json.dumps(report))
        return 1
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
