"""binder/: the environment mybinder.org builds for the Launch -> Binder button.

repo2docker reads binder/ in preference to the top-level requirements.txt (which holds the site and test tools
and a torch range that would pull a multi-GB CUDA build on Binder). These tests hold binder/requirements.txt
to what the notebooks need, against pyproject.toml (the helpers' declared dependencies, an independent list):

- it uses PyTorch's CPU wheel index and pins torch's CPU build;
- it pins exactly the helpers' dependencies, each inside pyproject.toml's range, and installs the helpers;
- runtime.txt names a Python that pyproject.toml accepts;
- every pin resolves: `pip install --dry-run` of the file, with the CPU index replaced by pip's local wheel
  folder when that folder holds the pinned torch (this machine reaches PyPI but not download.pytorch.org),
  resolves to exactly the pinned versions, a CPU torch and no CUDA package. It needs PyPI (as `make` does)
  and takes about 10 s.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib
from env_support import ROOT, find_links
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

BINDER = ROOT / "binder"
CPU_INDEX = "--extra-index-url https://download.pytorch.org/whl/cpu"


def lines() -> list[str]:
    """binder/requirements.txt without comments and blank lines."""
    text = (BINDER / "requirements.txt").read_text()
    return [line.split(" #")[0].strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def pins() -> dict[str, Version]:
    """{canonical name: pinned version} of binder/requirements.txt; every requirement must be pinned with ==."""
    found = {}
    for line in lines():
        if line.startswith("-"):
            continue
        requirement = Requirement(line)
        specifiers = list(requirement.specifier)
        assert len(specifiers) == 1 and specifiers[0].operator == "==", f"{line!r} is not pinned with =="
        found[canonicalize_name(requirement.name)] = Version(specifiers[0].version)
    return found


def project() -> dict:
    with open(ROOT / "pyproject.toml", "rb") as file:
        return tomllib.load(file)["project"]


def project_ranges() -> dict[str, SpecifierSet]:
    """{canonical name: range} of pyproject.toml's [project] dependencies (the helpers' runtime needs)."""
    return {canonicalize_name(r.name): r.specifier for r in map(Requirement, project()["dependencies"])}


def test_uses_the_cpu_build_of_torch():
    assert CPU_INDEX in lines(), f"binder/requirements.txt must contain the line {CPU_INDEX!r}"
    torch = pins()["torch"]
    assert torch.local == "cpu", f"torch is pinned to {torch}: pin the CPU build, torch==X.Y.Z+cpu"


def test_pins_exactly_the_helpers_dependencies_inside_their_ranges():
    pinned, ranges = pins(), project_ranges()
    assert set(pinned) == set(ranges), (
        f"binder/requirements.txt pins {sorted(pinned)}; the helpers need {sorted(ranges)} (pyproject.toml): "
        f"extra {sorted(set(pinned) - set(ranges))}, missing {sorted(set(ranges) - set(pinned))}")
    outside = {name: str(version) for name, version in pinned.items() if not ranges[name].contains(version)}
    assert not outside, f"pins outside pyproject.toml's ranges: {outside}"
    assert "-e ." in lines(), "binder/requirements.txt must install the helpers themselves (-e .)"


def test_runtime_is_a_python_the_helpers_accept():
    runtime = (BINDER / "runtime.txt").read_text().strip()
    match = re.fullmatch(r"python-(3\.\d+)", runtime)
    assert match, f"binder/runtime.txt holds {runtime!r}; repo2docker expects e.g. python-3.11"
    assert SpecifierSet(project()["requires-python"]).contains(Version(match[1]))


def local_torch_folder(torch: Version) -> str | None:
    """The find-links folder that holds the pinned torch wheel for this Python, if any."""
    tag = f"cp{sys.version_info.major}{sys.version_info.minor}"
    for folder in find_links():
        if list(Path(folder).glob(f"torch-{torch}-{tag}-{tag}-*.whl")):
            return folder
    return None


def test_every_pin_resolves(tmp_path):
    runtime = (BINDER / "runtime.txt").read_text().strip()
    here = f"python-{sys.version_info.major}.{sys.version_info.minor}"
    if runtime != here:
        pytest.skip(f"binder/runtime.txt asks for {runtime}; this interpreter is {here}")
    pinned = pins()
    folder = local_torch_folder(pinned["torch"])
    source = (BINDER / "requirements.txt").read_text()
    if folder:
        source = source.replace(CPU_INDEX, f"--find-links {folder}")
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(source)
    report = tmp_path / "report.json"
    result = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
                             "--report", str(report), "-r", str(requirements)], cwd=ROOT, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, f"binder/requirements.txt does not resolve:\n{result.stderr[-3000:]}"
    resolved = {canonicalize_name(item["metadata"]["name"]): Version(item["metadata"]["version"])
                for item in json.loads(report.read_text())["install"]}
    differ = {name: (str(version), str(resolved.get(name))) for name, version in pinned.items()
              if resolved.get(name) != version}
    assert not differ, f"resolved versions differ from the pins (pin, resolved): {differ}"
    assert "dlbook-helpers" in resolved, "the helpers (-e .) are not in the resolution"
    cuda = sorted(name for name in resolved if name.startswith(("nvidia-", "triton")))
    assert not cuda, f"the CPU build should pull no CUDA package, got {cuda}"
