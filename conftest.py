"""Repository-wide pytest setup.

One torch thread per process. Under ``pytest -n 2`` each worker (and each notebook kernel it starts)
would otherwise start a thread per core, and the two-core machine thrashes: for this book's small models
one thread is several times faster. Kernels inherit the environment, so OMP_NUM_THREADS covers them.

Notebooks run under nbval. Before the first cell of each notebook we set ``HELPERS_STRICT``:
``solutions/`` must pass every check (strict), and ``chapters/`` (the student edition) must report every
exercise as not attempted and still run to the end.
"""

import os
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import pytest  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(1)

ROOT = Path(__file__).parent
STRICTNESS = {"solutions": "1", "chapters": "not-attempted"}


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    path = Path(str(item.fspath)).resolve()
    if path.suffix == ".ipynb":
        folder = path.parent.name
        os.environ["HELPERS_STRICT"] = STRICTNESS.get(folder, "")
        os.environ["HELPERS_PROGRESS"] = "0"
