"""`make bench`: measured timings (not tests). Prints one line per measurement.

- each notebook executed in a fresh kernel (solutions in strict mode, chapters in student mode);
- a cached `jupyter-book build` with nothing changed;
- the unit tests;
- the grader: 30 submissions of chapter 1 with -j 2, and its overhead per submission beyond executing the
  notebook (grading one submission minus executing the same notebook in the grader's kernel settings).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from helpers.exercises.grading import Settings, grade
from helpers.exercises.grading.submission import grade_submission

ROOT = Path(__file__).resolve().parents[1]


def execute(path: Path, strict: str) -> float:
    os.environ["HELPERS_STRICT"] = strict
    os.environ["HELPERS_PROGRESS"] = "0"
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    return time.perf_counter() - start


def timed(command: list[str], env: dict | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True, env=env)
    return time.perf_counter() - start


def grading(tmp: Path) -> None:
    source = ROOT / "solutions" / "01_learning_and_estimation.ipynb"
    one = tmp / "one"
    one.mkdir()
    shutil.copy(source, one / "student.ipynb")
    grade_submission(one / "student.ipynb", one, "01", Settings())  # warm, as a worker is
    record = grade_submission(one / "student.ipynb", one, "01", Settings())
    overhead = record.seconds - record.cells_seconds
    print(f"grader overhead per submission: {overhead:.1f} s beyond the {record.cells_seconds:.1f} s of the "
          f"student's cells (budget 3 s)", flush=True)

    klass = tmp / "class"
    klass.mkdir()
    for n in range(30):
        shutil.copy(source, klass / f"student{n:02d}.ipynb")
    start = time.perf_counter()
    grade(klass, tmp / "results", jobs=2, log=lambda line: None)
    print(f"grading 30 chapter-1 submissions with -j 2: {time.perf_counter() - start:.0f} s (budget 180 s)",
          flush=True)


def main() -> None:
    for folder, strict in (("solutions", "1"), ("chapters", "not-attempted")):
        for path in sorted((ROOT / folder).glob("[0-9][0-9]_*.ipynb")):
            print(f"notebook {folder}/{path.name}: {execute(path, strict):.1f} s (budget 45 s)", flush=True)
    os.environ.pop("HELPERS_STRICT", None)
    jb = str(Path(sys.executable).with_name("jupyter-book"))
    timed([jb, "build", ".", "--warningiserror"])  # warm the cache
    print(f"cached site rebuild: {timed([jb, 'build', '.', '--warningiserror']):.1f} s (budget 30 s)", flush=True)
    unit = timed([sys.executable, "-m", "pytest", "-q", "-n", "2", "tests", "-m", "not site"])
    print(f"unit tests: {unit:.1f} s", flush=True)
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        grading(Path(tmp))


if __name__ == "__main__":
    main()
