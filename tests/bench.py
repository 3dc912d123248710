"""`make bench`: measured timings (not tests). Prints one line per measurement.

- each notebook executed in a fresh kernel (solutions in strict mode, chapters in student mode);
- a cached `jupyter-book build` with nothing changed;
- the unit tests.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

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


if __name__ == "__main__":
    main()
