"""A Jupyter kernel the grader can interrupt, restart and watch.

``Kernel.run`` executes one cell with a time limit. A cell that runs too long is interrupted (the kernel
gets SIGINT, as from Jupyter's stop button) and the next cell runs; a kernel that ignores the interrupt
is restarted. A kernel that dies (``os._exit``, a segfault) or that the ``MemoryWatchdog`` kills for using
too much memory is restarted too, and the caller replays the cells that had run.

nbclient and psutil come with the ``grading`` extra; they are imported only when a kernel starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from helpers.exercises.grading.records import Status

if TYPE_CHECKING:
    from nbformat import NotebookNode

INTERRUPT_GRACE = 10  # seconds an interrupted kernel has to become idle before it is restarted


def kernel_env() -> dict[str, str]:
    """The grader's environment for a student's kernel.

    One torch/OpenMP thread: the grader runs several kernels at once, and a chapter's small tensors gain
    nothing from more threads (torch reads ``OMP_NUM_THREADS`` when it starts). No strict mode, no progress
    file, figures to the non-interactive backend, and ``HELPERS_GRADING=1`` so explorers skip animations.
    """
    env = {k: v for k, v in os.environ.items() if k not in {"HELPERS_STRICT", "JPY_PARENT_PID"}}
    env.update(HELPERS_PROGRESS="0", HELPERS_GRADING="1", MPLBACKEND="Agg", PYTHONHASHSEED="0",
               OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    return env


class MemoryWatchdog(threading.Thread):
    """Kills the kernel's process tree when its resident memory exceeds ``limit_bytes``; sets ``tripped``."""

    def __init__(self, pid_of_kernel: Callable[[], int | None], limit_bytes: int):
        super().__init__(daemon=True)
        self.pid_of_kernel, self.limit = pid_of_kernel, limit_bytes
        self.tripped = False
        self._stop_event = threading.Event()

    def run(self) -> None:
        import psutil

        while not self._stop_event.wait(0.05):
            pid = self.pid_of_kernel()
            if not pid:
                continue
            try:
                root = psutil.Process(pid)
                tree = [root, *root.children(recursive=True)]
                used = sum(p.memory_info().rss for p in tree)
            except psutil.Error:
                continue
            if used > self.limit:
                self.tripped = True
                for process in reversed(tree):
                    with contextlib.suppress(psutil.Error):
                        process.send_signal(signal.SIGKILL)

    def stop(self) -> None:
        self._stop_event.set()


class Kernel:
    """A kernel running (a copy of) ``nb`` in ``workdir``; ``restarts`` counts the fresh kernels it needed."""

    def __init__(self, nb: NotebookNode, workdir: Path, memory_mb: int):
        from nbclient import NotebookClient

        self.nb, self.workdir = nb, workdir
        self.client = NotebookClient(
            nb, timeout=60, kernel_name="python3", allow_errors=True, interrupt_on_timeout=False,
            record_timing=False, resources={"metadata": {"path": str(workdir)}}, shutdown_kernel="immediate",
        )
        self.watchdog = MemoryWatchdog(self.pid, memory_mb * 2**20)
        self.restarts = 0

    def pid(self) -> int | None:
        km = self.client.km
        process = getattr(getattr(km, "provisioner", None), "process", None) if km else None
        return getattr(process, "pid", None)

    def start(self) -> None:
        self.client.km = self.client.create_kernel_manager()
        self.client.start_new_kernel(env=kernel_env(), cwd=str(self.workdir), stderr=subprocess.DEVNULL)
        self.client.start_new_kernel_client()
        if not self.watchdog.is_alive():
            self.watchdog.start()

    def stop(self) -> None:
        self.watchdog.stop()
        self._shutdown()

    def restart(self) -> None:
        self.restarts += 1
        self._shutdown()
        self.start()

    def run(self, cell: NotebookNode, index: int, timeout: float) -> Status | None:
        """Execute one cell: None, or TIMEOUT, KERNEL_DIED or MEMORY_LIMIT (the kernel is then usable again)."""
        from nbclient.exceptions import CellTimeoutError, DeadKernelError

        self.client.timeout = max(1, int(timeout))
        try:
            self._execute(cell, index)
            return None
        except CellTimeoutError:
            self._interrupt()
            return Status.TIMEOUT
        except (DeadKernelError, RuntimeError, OSError):
            status = Status.MEMORY_LIMIT if self.watchdog.tripped else Status.KERNEL_DIED
            self.watchdog.tripped = False
            self.restart()
            return status

    def run_extra(self, source: str, timeout: float) -> Status | None:
        """Execute code that is not one of the notebook's cells (appended to the grader's in-memory copy)."""
        import nbformat

        self.nb.cells.append(nbformat.v4.new_code_cell(source))
        return self.run(self.nb.cells[-1], len(self.nb.cells) - 1, timeout)

    def _execute(self, cell: NotebookNode, index: int) -> None:
        from nbclient.util import run_sync

        run_sync(self._execute_async)(cell, index)

    async def _execute_async(self, cell: NotebookNode, index: int) -> None:
        """nbclient's ``async_execute_cell``, leaving no task behind.

        On a timeout nbclient leaves the task that reads the cell's output running; it would go on taking
        (and dropping) the next cells' messages, so each later cell would wait out nbclient's IOPub timeout
        and lose its outputs.
        """
        before = asyncio.all_tasks()
        try:
            await self.client.async_execute_cell(cell, index)
        finally:
            leftover = asyncio.all_tasks() - before
            for task in leftover:
                task.cancel()
            await asyncio.gather(*leftover, return_exceptions=True)

    def _interrupt(self) -> None:
        """Interrupt the running cell; restart the kernel if it is not idle soon after."""
        import nbformat
        from nbclient.util import ensure_async, run_sync

        async def interrupt() -> None:
            await ensure_async(self.client.km.interrupt_kernel())

        try:
            run_sync(interrupt)()
            self.nb.cells.append(nbformat.v4.new_code_cell("pass"))
            self.client.timeout = INTERRUPT_GRACE
            self._execute(self.nb.cells[-1], len(self.nb.cells) - 1)
        except Exception:
            self.restart()

    def _shutdown(self) -> None:
        try:
            if self.client.km is not None:
                self.client._cleanup_kernel()
        except Exception:  # a kernel that is already gone
            self.client.km, self.client.kc = None, None
