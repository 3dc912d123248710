"""`make compat`: do the helpers work with every release their dependency ranges allow?

pyproject.toml's [project] dependencies are the ranges a reader gets with `pip install` of the helpers, on Colab
too, where the first cell of every chapter installs them next to Colab's own packages. So the ranges must
accept Colab's packages, and everything inside a range must work. For each profile this script resolves the
ranges with uv, builds a fresh venv under /tmp, installs the helpers from a clone of the repository (not
editable), imports every module of the package (walked with pkgutil) and executes one short chapter in student
mode (tests/venv_check.py). Profiles:

- oldest: the lowest version of each direct dependency that the ranges allow and that has a wheel for this
  Python (`uv pip compile --resolution lowest-direct --only-binary :all:`);
- newest: the newest releases the ranges allow;
- colab:  Colab's versions of everything but torch and Python (the COLAB pins below, as constraints);
- py312:  Colab's Python is 3.12 and this machine's torch wheel is for 3.11 only, so for 3.12 the script
  resolves (without installing) the ranges with all of Colab's pins, torch included, and the oldest set, and
  byte-compiles the helpers with a Python 3.12 interpreter when one is found (pyenv).

torch: PyPI's Linux torch is a multi-GB CUDA build, so every profile installs TORCH_SPEC, by default the torch
of the interpreter running this script (the book's .venv: torch==2.13.0+cpu from the local wheel folder named
by pip's find-links). The torch floor (torch>=2.0) is therefore not exercised here; to try it, point TORCH_SPEC
and TORCH_INDEX at PyTorch's CPU index (`TORCH_SPEC='torch==2.0.1+cpu'
TORCH_INDEX=https://download.pytorch.org/whl/cpu make compat`).

Usage: `make compat` or `.venv/bin/python tests/compat.py [oldest newest colab py312] [--keep] [--worktree]`.
The venvs and uv's cache live in one temporary folder, removed at the end (`--keep` keeps it).

Measured on 2026-11-23 (Python 3.11.7, torch 2.13.0+cpu for all, 2 shared cores; chapter 02 in student mode):
    oldest  numpy 1.23.2  scipy 1.9.2   scikit-learn 1.1.3  matplotlib 3.6.0   ipywidgets 7.7.0  tqdm 4.60.0
            nbformat 5.7.0  pyyaml 6.0: FAILED, every figure: matplotlib < 3.9 imports backend2gui from
            IPython.core.pylabtools, which IPython 9 (what a fresh install gets) no longer has. The matplotlib
            floor was raised from 3.5 to 3.9 (3.8.4 still imports it; 3.9.0 passes), then: ok, 171 modules.
    newest  numpy 2.4.6   scipy 1.17.1  scikit-learn 1.9.1  matplotlib 3.11.2  ipywidgets 8.1.9  tqdm 4.70.1: ok
    colab   numpy 2.0.2   scipy 1.16.3  scikit-learn 1.6.1  matplotlib 3.10.0  ipywidgets 7.7.1  tqdm 4.67.3
            ipykernel 6.17.1  ipython 7.34.0: ok
    py312   Colab's full set (torch 2.11.0) resolves on 3.12; the oldest set on 3.12 is numpy 1.26.0, scipy
            1.11.2, scikit-learn 1.3.1, matplotlib 3.9.0, torch 2.2.0 (first cp312 wheels); pyenv's 3.12.1
            byte-compiles the helpers: ok.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import tomllib  # Python 3.11+, like the book's .venv that runs this script

sys.path.insert(0, str(Path(__file__).resolve().parent))
from env_support import ROOT, find_links, run, source_tree, torch_spec  # noqa: E402

NOTEBOOK = "chapters/02_maximum_likelihood.ipynb"  # the fastest chapter: 15 s in student mode here
PROFILES = ("oldest", "newest", "colab", "py312")
RUNNER = ("nbclient", "ipykernel")  # what tests/venv_check.py needs to execute a notebook

# Colab's GPU runtime (Python 3.12), from googlecolab/backend-info's pip-freeze.gpu.txt, read 2026-11-23;
# torch there is 2.11.0+cu128 (PyPI's 2.11.0 has the same metadata).
COLAB = {"torch": "2.11.0", "numpy": "2.0.2", "scipy": "1.16.3", "scikit-learn": "1.6.1", "matplotlib": "3.10.0",
         "ipywidgets": "7.7.1", "tqdm": "4.67.3", "nbformat": "5.10.4", "pyyaml": "6.0.3", "ipykernel": "6.17.1",
         "ipython": "7.34.0", "jupyter-client": "7.4.9", "traitlets": "5.7.1", "nbclient": "0.10.4"}
COLAB_PYTHON = "3.12"
SHOWN = ("torch", "numpy", "scipy", "scikit-learn", "matplotlib", "ipywidgets", "tqdm", "nbformat", "pyyaml")


def project_dependencies(tree: Path, local_torch: bool = True) -> list[str]:
    """pyproject.toml's [project] dependencies; with `local_torch`, torch's range is replaced by `torch_spec()`."""
    with open(tree / "pyproject.toml", "rb") as file:
        dependencies = tomllib.load(file)["project"]["dependencies"]
    if not local_torch:
        return dependencies
    return [torch_spec() if requirement.startswith("torch") else requirement for requirement in dependencies]


def install_uv(work: Path) -> Path:
    """uv on PATH, else uv pip-installed into a venv of its own under `work`."""
    if found := shutil.which("uv"):
        return Path(found)
    run([sys.executable, "-m", "venv", str(work / "uv-venv")])
    run([str(work / "uv-venv/bin/python"), "-m", "pip", "install", "--quiet", "uv"])
    return work / "uv-venv/bin/uv"


class Uv:
    """uv with this run's cache, the local torch wheels and no network beyond PyPI (and TORCH_INDEX if set)."""

    def __init__(self, binary: Path, work: Path):
        self.binary = binary
        self.env = {**os.environ, "UV_CACHE_DIR": str(work / "uv-cache"), "UV_NO_PROGRESS": "1"}
        self.sources = [arg for link in find_links() for arg in ("--find-links", link)]
        if index := os.environ.get("TORCH_INDEX"):
            self.sources += ["--extra-index-url", index, "--index-strategy", "unsafe-best-match"]

    def __call__(self, *args: str, cwd: Path | None = None) -> str:
        return run([str(self.binary), *args], env=self.env, cwd=cwd).stdout

    def compile(self, requirements: list[str], work: Path, *, python: list[str], lowest: bool = False,
                constraints: dict[str, str] | None = None) -> str:
        """Resolve `requirements` (uv pip compile) for `python` (--python X or --python-version ...)."""
        source = work / "requirements.in"
        source.write_text("\n".join(requirements) + "\n")
        args = ["pip", "compile", str(source), "--only-binary", ":all:", "--no-header", "--no-annotate",
                "--resolution", "lowest-direct" if lowest else "highest", *python, *self.sources]
        if constraints:
            (work / "constraints.txt").write_text("".join(f"{n}=={v}\n" for n, v in constraints.items()))
            args += ["--constraint", str(work / "constraints.txt")]
        return self(*args)


def pinned(lock: str) -> dict[str, str]:
    """{name: version} of a compiled requirements file."""
    return {line.split("==")[0].lower(): line.split("==")[1] for line in lock.splitlines() if "==" in line}


def build_and_check(profile: str, uv: Uv, tree: Path, work: Path) -> dict:
    """Resolve `profile`, build its venv, install the helpers, run tests/venv_check.py; return its report."""
    work.mkdir()
    venv = work / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = str(venv / "bin/python")
    colab = {name: version for name, version in COLAB.items() if name != "torch"}
    lock = uv.compile(project_dependencies(tree), work, python=["--python", python], lowest=profile == "oldest",
                      constraints=colab if profile == "colab" else None)
    (work / "lock.txt").write_text(lock)
    uv("pip", "install", "--python", python, "--only-binary", ":all:", "-r", str(work / "lock.txt"), *uv.sources)
    uv("pip", "install", "--python", python, "--no-deps", str(tree))
    runner_constraints = ["--constraint", str(work / "lock.txt")]
    if profile == "colab":
        runner_constraints += ["--constraint", str(work / "constraints.txt")]
    uv("pip", "install", "--python", python, "--only-binary", ":all:", *RUNNER, *runner_constraints, *uv.sources)
    result = subprocess.run([python, str(ROOT / "tests/venv_check.py"), str(tree / NOTEBOOK)], cwd=work,
                            capture_output=True, text=True)
    lines = result.stdout.strip().splitlines()
    report = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {}
    report["error"] = None if result.returncode == 0 else report.get("error") or result.stderr[-3000:]
    if report.get("helpers_from") and not report["helpers_from"].startswith(str(venv)):
        report["error"] = f"helpers was imported from {report['helpers_from']}, not from the venv"
    report["resolved"] = {name: pinned(lock).get(name) for name in SHOWN}
    return report


def find_python(version: str) -> str | None:
    """A Python `version` interpreter: on PATH, else under pyenv's versions folder; None when there is none."""
    candidates = [shutil.which(f"python{version}")]
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates += sorted(str(p) for p in pyenv_root.glob(f"versions/{version}.*/bin/python{version}"))
    for candidate in filter(None, candidates):
        result = subprocess.run([candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                                capture_output=True, text=True)
        if result.returncode == 0 and result.stdout.strip() == version:
            return candidate
    return None


def check_py312(uv: Uv, tree: Path, work: Path) -> dict:
    """Colab's Python: resolve the ranges with Colab's pins and the oldest set; byte-compile the helpers."""
    work.mkdir()
    target = ["--python-version", COLAB_PYTHON, "--python-platform", "x86_64-manylinux_2_28"]
    dependencies = project_dependencies(tree, local_torch=False)
    report: dict = {"error": None}
    try:
        colab = pinned(uv.compile(dependencies, work, python=target, constraints=COLAB))
        report["resolved"] = {name: colab.get(name) for name in SHOWN}
        oldest = pinned(uv.compile(dependencies, work, python=target, lowest=True))
        report["oldest_on_3.12"] = {name: oldest.get(name) for name in SHOWN}
    except RuntimeError as error:
        report["error"] = f"the ranges do not resolve on Python {COLAB_PYTHON} with Colab's packages: {error}"
        return report
    interpreter = find_python(COLAB_PYTHON)
    if interpreter is None:
        report["compileall"] = f"skipped: no Python {COLAB_PYTHON} interpreter found (PATH, pyenv)"
    else:
        result = subprocess.run([interpreter, "-m", "compileall", "-q", "-d", "helpers", str(tree / "src/helpers")],
                                capture_output=True, text=True)
        report["compileall"] = f"{interpreter}: " + ("ok" if result.returncode == 0 else "FAILED")
        if result.returncode != 0:
            report["error"] = f"Python {COLAB_PYTHON} cannot compile the helpers:\n{result.stdout}{result.stderr}"
    return report


def describe(profile: str, report: dict, seconds: float) -> str:
    versions = " ".join(f"{name} {version}" for name, version in report.get("resolved", {}).items())
    lines = [f"{profile:7s} {'FAILED' if report['error'] else 'ok':6s} {seconds:5.0f} s  {versions}"]
    if profile == "py312":
        lines.append(f"        oldest on 3.12: {report.get('oldest_on_3.12')}; compileall: {report.get('compileall')}")
    elif not report["error"]:
        lines.append(f"        python {report['versions']['python']}, ipykernel {report['versions']['ipykernel']}, "
                     f"{report['modules']} modules imported, {report['notebook']} ran in "
                     f"{report['notebook_seconds']} s")
    if report["error"]:
        lines.append("        " + report["error"].replace("\n", "\n        "))
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("profiles", nargs="*", metavar="profile", help=f"any of {', '.join(PROFILES)} (default: all)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (venvs, uv cache)")
    parser.add_argument("--worktree", action="store_true",
                        help="test the working tree as it is on disk instead of a clone of HEAD")
    args = parser.parse_args(argv)
    if unknown := set(args.profiles) - set(PROFILES):
        parser.error(f"unknown profile {', '.join(sorted(unknown))}: choose among {', '.join(PROFILES)}")
    work = Path(tempfile.mkdtemp(prefix="compat-"))
    failed = False
    try:
        tree = source_tree(work / "repo", worktree=args.worktree)
        uv = Uv(install_uv(work), work)
        print(f"torch for every profile: {torch_spec()}; source: {'working tree' if args.worktree else 'HEAD'}",
              flush=True)
        for profile in args.profiles or PROFILES:
            start = time.perf_counter()
            try:
                if profile == "py312":
                    report = check_py312(uv, tree, work / profile)
                else:
                    report = build_and_check(profile, uv, tree, work / profile)
            except RuntimeError as error:
                report = {"error": str(error)}
            failed |= bool(report["error"])
            print(describe(profile, report, time.perf_counter() - start), flush=True)
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
