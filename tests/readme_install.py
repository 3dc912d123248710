"""`make check-install`: run README.md's install lines for readers without `make`, exactly as written.

README.md's Quick start has two fenced blocks marked with an HTML comment `<!-- readme_install: posix ... -->`
and `<!-- readme_install: windows -->`. This script reads them from README.md itself, so it cannot drift from
what a reader sees, and:

1. checks that the Windows block is the POSIX block with only the venv and activation lines changed (the
   Windows lines cannot run here);
2. copies the repository into a temporary folder (a clone of HEAD, as a reader gets it; `--worktree`: the
   tracked files as they are on disk) and runs the POSIX block there, unchanged, in one bash (`set -e`), with
   a PATH and environment free of the book's own .venv. The last line starts JupyterLab, so tests/lab_check.py
   runs the block: it gives the server a free port, no browser and a known token through a Jupyter config
   file, waits until it serves, checks /lab and that /api/contents/ lists chapters/, and stops it;
3. with the .venv those lines made, imports every helpers module and executes one chapter in student mode
   (tests/venv_check.py), and checks that helpers is the copy's editable install.

One thing differs from a reader's machine: PIP_CONSTRAINT pins torch to the local CPU wheel (TORCH_SPEC, or
this interpreter's torch; pip's find-links supplies it), since PyPI's Linux torch is a multi-GB CUDA build.
Everything else comes from PyPI. The temporary folder is removed at the end (`--keep` keeps it).

Measured on 2026-11-23 (2 shared cores, Python 3.11.7): the lines installed and JupyterLab served chapters/
after 137 s (pip: torch 2.13.0+cpu, numpy 2.4.6, matplotlib 3.11.2, ipywidgets 8.1.9, jupyterlab and the rest
from PyPI); 172 helpers modules imported and chapter 02 ran in 12 s; 153 s in all.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from env_support import ROOT, source_tree, torch_spec  # noqa: E402
from lab_check import check_lab  # noqa: E402

NOTEBOOK = "chapters/02_maximum_likelihood.ipynb"  # the fastest chapter: 15 s in student mode here
INSTALL_SECONDS = 900  # from the first line until JupyterLab serves: venv, pip, torch and JupyterLab installs


def readme_block(readme: str, marker: str) -> list[str]:
    """The lines of the fenced block right after `<!-- readme_install: marker ... -->` in README.md."""
    pattern = rf"<!-- readme_install: {marker}\b[^>]*-->\s*\n```[a-z]*\n(.*?)\n```"
    match = re.search(pattern, readme, re.DOTALL)
    if not match:
        raise SystemExit(f"README.md has no fenced block after <!-- readme_install: {marker} -->")
    return [line for line in match[1].splitlines() if line.strip() and not line.lstrip().startswith("#")]


def check_windows_mirrors_posix(posix: list[str], windows: list[str]) -> None:
    """Both blocks: create a venv, activate it, then the same pip and jupyter lines."""
    assert len(posix) == len(windows), f"the README's blocks differ in length:\n{posix}\n{windows}"
    assert "-m venv .venv" in posix[0] and "-m venv .venv" in windows[0], "the first line must create .venv"
    assert posix[1] == "source .venv/bin/activate" and windows[1] == r".venv\Scripts\activate", (
        f"the second line must activate .venv: {posix[1]!r}, {windows[1]!r}")
    assert posix[2:] == windows[2:], f"after activation the blocks must agree:\n{posix[2:]}\n{windows[2:]}"
    assert posix[-1].startswith("jupyter lab"), f"the last line must start JupyterLab, not {posix[-1]!r}"


def reader_environment(tmp: Path) -> dict[str, str]:
    """This environment without the book's .venv (on PATH or activated), with torch pinned to the local wheel."""
    env = {name: value for name, value in os.environ.items()
           if name not in ("VIRTUAL_ENV", "PYTHONPATH", "PIP_REQUIRE_VIRTUALENV")}
    venv_bins = {str(ROOT / ".venv" / "bin"), str(Path(sys.prefix) / "bin")}
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if p not in venv_bins)
    constraints = tmp / "torch-constraint.txt"
    constraints.write_text(torch_spec() + "\n")
    env.update(PIP_CONSTRAINT=str(constraints), PIP_DISABLE_PIP_VERSION_CHECK="1", OMP_NUM_THREADS="1")
    return env


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--worktree", action="store_true",
                        help="run in a copy of the working tree instead of a clone of HEAD")
    args = parser.parse_args(argv)
    readme = (ROOT / "README.md").read_text()
    posix, windows = readme_block(readme, "posix"), readme_block(readme, "windows")
    check_windows_mirrors_posix(posix, windows)
    tmp = Path(tempfile.mkdtemp(prefix="readme-install-"))
    try:
        repo = source_tree(tmp / "repo", worktree=args.worktree)
        env = reader_environment(tmp)
        print("running README.md's lines:", *posix, sep="\n    ", flush=True)
        start = time.perf_counter()
        problems = check_lab("set -euo pipefail\n" + "\n".join(posix), repo, env, INSTALL_SECONDS)
        install_seconds = time.perf_counter() - start
        if problems:
            print("FAILED:", *problems, sep="\n", file=sys.stderr)
            return 1
        print(f"ok: the lines installed and JupyterLab served chapters/ ({install_seconds:.0f} s)", flush=True)
        python = repo / ".venv/bin/python"
        result = subprocess.run([str(python), str(ROOT / "tests/venv_check.py"), str(repo / NOTEBOOK)],
                                cwd=tmp, env=env, capture_output=True, text=True)
        lines = result.stdout.strip().splitlines()
        report = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {}
        if result.returncode != 0:
            print("FAILED in the README's .venv:", report.get("error") or result.stderr[-3000:], file=sys.stderr)
            return 1
        if Path(report["helpers_from"]) != repo / "src/helpers":
            print(f"FAILED: helpers came from {report['helpers_from']}, not the editable {repo / 'src/helpers'}",
                  file=sys.stderr)
            return 1
        versions = ", ".join(f"{name} {version}" for name, version in report["versions"].items() if version)
        print(f"ok: {report['modules']} helpers modules imported, {report['notebook']} ran in "
              f"{report['notebook_seconds']} s\n    {versions}")
        print(f"total {time.perf_counter() - start:.0f} s")
        return 0
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
