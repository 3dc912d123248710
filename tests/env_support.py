"""Shared by the scripts that build throwaway environments (tests/compat.py, tests/readme_install.py).

- `source_tree`: a fresh copy of the repository, as a reader gets it (a clone of the committed HEAD), or of the
  working tree (`worktree=True`: the tracked files as they are on disk, uncommitted edits included);
- `torch_spec` and `find_links`: which torch to install and where the local wheels lie, because PyPI's Linux
  torch is a multi-GB CUDA build that a compatibility check does not need;
- `run`: a command with its output kept, and the command line in the error when it fails.
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    """Run `command`, capturing its output; on failure raise with the command line and the output's end."""
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        output = (result.stdout + result.stderr)[-4000:]
        raise RuntimeError(f"`{' '.join(map(str, command))}` exited with {result.returncode}:\n{output}")
    return result


def source_tree(dest: Path, worktree: bool = False) -> Path:
    """Copy the repository into `dest` (which must not exist) and return it.

    By default a `git clone` of HEAD: what a reader who clones the repository gets, unaffected by edits in
    progress. With `worktree=True`, every tracked file as it is on disk now.
    """
    if not worktree:
        run(["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(dest)])
        return dest
    listed = run(["git", "ls-files", "-z"], cwd=ROOT).stdout.split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    return dest


def find_links() -> list[str]:
    """The folders pip's configuration names in find-links (PIP_FIND_LINKS or pip.conf), e.g. /opt/wheels."""
    value = os.environ.get("PIP_FIND_LINKS")
    if value is None:
        result = subprocess.run([sys.executable, "-m", "pip", "config", "get", "global.find-links"],
                                capture_output=True, text=True)
        value = result.stdout if result.returncode == 0 else ""
    return [link for link in value.split() if link]


def torch_spec() -> str:
    """The torch requirement for a throwaway environment: $TORCH_SPEC, else the torch of this interpreter.

    The default (run from the book's .venv, `torch==2.13.0+cpu` here) comes from the local wheel folder, so
    no environment downloads torch. Set TORCH_SPEC (and TORCH_INDEX, an extra index URL such as
    https://download.pytorch.org/whl/cpu) to try another torch.
    """
    if spec := os.environ.get("TORCH_SPEC"):
        return spec
    try:
        return f"torch=={importlib.metadata.version('torch')}"
    except importlib.metadata.PackageNotFoundError:
        message = ("No torch in this interpreter: run from the book's .venv (make ...), or set TORCH_SPEC, e.g. "
                   "TORCH_SPEC='torch==2.13.0+cpu' TORCH_INDEX=https://download.pytorch.org/whl/cpu")
        raise SystemExit(message) from None
