"""Grade a class's notebooks: ``python -m helpers.exercises grade SUBMISSIONS --out RESULTS``.

Each submission runs in a fresh Jupyter kernel, in its own temporary directory holding a copy of the
notebook, with a per-cell time limit (the cell is interrupted and the next one runs), a per-notebook
time limit, and a memory limit on the kernel's process tree; a kernel that dies is restarted and the
remaining cells run. After the student's cells, a probe (``helpers.exercises.probe``) calls each answer
on the exercise's public and hidden cases inside the kernel and saves plain results; the comparison with
the reference happens here, in the grader's own process, with its own fresh copy of the tests.

Outputs in RESULTS: ``grades.csv``, ``results.json``, ``feedback/<student>.md``. Submissions already
graded (same file contents, same grader) are not run again unless ``--force``.
"""

from __future__ import annotations

import ast
import collections
import concurrent.futures
import contextlib
import csv
import hashlib
import json
import multiprocessing
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

STATUSES = (
    "ok", "timeout", "kernel died", "memory limit", "not a notebook", "malformed notebook",
    "wrong chapter", "missing exercise cells", "empty",
)


class GradingError(Exception):
    """Unusable input: the message is one line that says what to do."""


@dataclass
class Settings:
    cell_timeout: float = 60.0  # seconds per student cell
    notebook_timeout: float = 600.0  # seconds for all of a notebook's cells
    probe_timeout: float = 60.0  # seconds to grade one exercise
    memory_mb: int = 4096  # the kernel's process tree
    chapter: str | None = None  # the chapter being graded; default: the class's most common


# ---------------------------------------------------------------- reading submissions


def find_submissions(folder: Path) -> list[Path]:
    return sorted(
        p for p in folder.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts and p.is_file()
    )


def student_name(path: Path, folder: Path) -> str:
    return path.relative_to(folder).with_suffix("").as_posix()


def read_notebook(path: Path) -> tuple[Any, str, str]:
    """(notebook or None, status, reason). Reads only; the file is never modified."""
    import nbformat

    raw = path.read_bytes()
    if not raw.strip():
        return None, "empty", "the file is empty"
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        if raw.lstrip()[:1] in (b"{", b"["):
            return None, "malformed notebook", f"the file is not valid JSON ({error.__class__.__name__}: {error})"
        return None, "not a notebook", "the file is not a Jupyter notebook (it is not JSON)"
    if not isinstance(data, dict) or "cells" not in data:
        return None, "not a notebook", "the file is JSON but not a Jupyter notebook (no cells)"
    try:
        nb = nbformat.reads(json.dumps(data), as_version=4)
        nbformat.validate(nb)
    except Exception as error:
        return None, "malformed notebook", f"the notebook does not follow the notebook format ({error})"[:300]
    return nb, "ok", ""


def check_calls(nb: Any) -> list[tuple[int, str, str]]:
    """(cell index, exercise id, answer expression source) for every ``check("id", answer)`` call."""
    found = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(cell.source)
        except (SyntaxError, ValueError, RecursionError, SystemError):
            # SystemError: CPython 3.11 can fail spuriously in ast when threads use it (gh-106905)
            tree = None
        if tree is None:  # a cell that does not parse still tells us which exercise it was for
            for match in re.finditer(r"""check\(\s*["']([0-9]{2}\.\w+)["']\s*,\s*(\w+)""", cell.source):
                found.append((index, match.group(1), match.group(2)))
            continue
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "check"
                and len(node.args) == 2
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found.append((index, node.args[0].value, ast.get_source_segment(cell.source, node.args[1]) or ""))
    return found


def notebook_chapter(nb: Any) -> str | None:
    """The chapter a notebook belongs to: its metadata, else the ids its check() calls use."""
    chapter = (nb.metadata.get("helpers") or {}).get("chapter")
    if isinstance(chapter, str) and chapter:
        return chapter
    ids = [exercise_id.split(".")[0] for _, exercise_id, _ in check_calls(nb)]
    return collections.Counter(ids).most_common(1)[0][0] if ids else None


# ---------------------------------------------------------------- running a kernel


class MemoryWatchdog(threading.Thread):
    """Kills the kernel's process tree when its resident memory exceeds the limit."""

    def __init__(self, pid_of_kernel, limit_bytes: int):
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
    """A notebook client whose kernel can be interrupted, restarted and watched."""

    def __init__(self, nb: Any, workdir: Path, env: dict[str, str], settings: Settings):
        from nbclient import NotebookClient

        self.nb, self.workdir, self.env, self.settings = nb, workdir, env, settings
        self.client = NotebookClient(
            nb, timeout=int(settings.cell_timeout), kernel_name="python3", allow_errors=True,
            interrupt_on_timeout=False, record_timing=False, resources={"metadata": {"path": str(workdir)}},
            shutdown_kernel="immediate",
        )
        self.watchdog = MemoryWatchdog(self.pid, settings.memory_mb * 2**20)
        self.restarts = 0

    def pid(self) -> int | None:
        km = self.client.km
        process = getattr(getattr(km, "provisioner", None), "process", None) if km else None
        return getattr(process, "pid", None)

    def start(self) -> None:
        self.client.km = self.client.create_kernel_manager()
        self.client.start_new_kernel(env=self.env, cwd=str(self.workdir), stderr=subprocess.DEVNULL)
        self.client.start_new_kernel_client()
        if not self.watchdog.is_alive():
            self.watchdog.start()

    def _shutdown(self) -> None:
        try:
            if self.client.km is not None:
                self.client._cleanup_kernel()
        except Exception:  # a kernel that is already gone
            self.client.km, self.client.kc = None, None

    def stop(self) -> None:
        self.watchdog.stop()
        self._shutdown()

    def restart(self) -> None:
        self.restarts += 1
        self._shutdown()
        self.start()

    def run(self, cell: Any, index: int, timeout: float) -> str | None:
        """Execute one cell. Returns None, or the problem: 'timeout', 'kernel died', 'memory limit'."""
        from nbclient.exceptions import CellTimeoutError, DeadKernelError

        self.client.timeout = max(1, int(timeout))
        try:
            self.client.execute_cell(cell, index)
            return None
        except CellTimeoutError:
            self._recover_from_timeout()
            return "timeout"
        except (DeadKernelError, RuntimeError, OSError):
            problem = "memory limit" if self.watchdog.tripped else "kernel died"
            self.watchdog.tripped = False
            self.restart()
            return problem

    def run_extra(self, source: str, timeout: float) -> str | None:
        """Execute code that is not one of the notebook's cells (appended to the grader's copy)."""
        import nbformat

        self.nb.cells.append(nbformat.v4.new_code_cell(source))
        return self.run(self.nb.cells[-1], len(self.nb.cells) - 1, timeout)

    def _recover_from_timeout(self) -> None:
        """Interrupt the cell; if the kernel stays busy, restart it."""
        import nbformat

        try:
            from nbclient.util import ensure_async, run_sync

            async def interrupt() -> None:
                await ensure_async(self.client.km.interrupt_kernel())

            run_sync(interrupt)()
            self.nb.cells.append(nbformat.v4.new_code_cell("pass"))
            self.client.timeout = 10
            self.client.execute_cell(self.nb.cells[-1], len(self.nb.cells) - 1)
            return
        except Exception:
            self.restart()


def _error_of(cell: Any) -> str | None:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return f"{output.get('ename', 'Error')}: {str(output.get('evalue', ''))[:120]}"
    return None


# ---------------------------------------------------------------- grading one submission


def probe_source(exercise_id: str, expression: str, path: Path) -> str:
    return (
        "from helpers.exercises.probe import probe as _grader_probe\n"
        f"_grader_probe({exercise_id!r}, lambda: ({expression}\n), {str(path)!r})"
    )


def judge_probe(exercise_id: str, path: Path, fallback: str) -> dict[str, Any]:
    """Compare the probe's recorded results with the grader's own reference; a JSON-ready result."""
    import torch

    from helpers.exercises.catalogue import get
    from helpers.exercises.runner import judge
    from helpers.exercises.spec import Call, CallKind, Outcome, Report

    exercise = get(exercise_id)
    cases = exercise.cases()
    record = None
    if path.exists():
        try:
            record = torch.load(path, weights_only=True)
        except Exception as error:
            fallback = f"the probe's results could not be read ({error.__class__.__name__})"
    if not isinstance(record, dict) or record.get("id") != exercise_id:
        report = Report(exercise, Outcome.ERROR, [], fallback or "the exercise could not be graded")
    elif record.get("problem"):
        report = Report(exercise, Outcome.ERROR, [], record["problem"])
    else:
        calls = []
        for case, call in zip(cases, record.get("calls", [])):
            if not isinstance(call, dict) or call.get("label") != case.label:
                calls.append(Call(CallKind.RAISED, error="the notebook changed this exercise's tests"))
                continue
            calls.append(Call(CallKind(call.get("kind", CallKind.RAISED)), call.get("value"),
                              str(call.get("error", "")), bool(call.get("modified_input"))))
        missing = len(cases) - len(calls)
        if missing > 0 and not any(c.kind is CallKind.NOT_IMPLEMENTED for c in calls):
            calls += [Call(CallKind.RAISED, error="not run: the grading of this exercise stopped early")] * missing
        report = judge(exercise, cases, calls, True)
    return result_of(report)


def result_of(report: Any) -> dict[str, Any]:
    from helpers.exercises.spec import Outcome

    return {
        "points": report.exercise.points,
        "score": report.score,
        "outcome": report.outcome.value,
        "detail": report.detail,
        "cases": [
            {"label": r.case.label, "hidden": r.case.hidden, "passed": r.passed, "message": r.message,
             "why": r.case.why}
            for r in report.results
        ],
        "attempted": report.outcome is not Outcome.NOT_ATTEMPTED,
    }


def blank_results(chapter_ids: list[str], reason: str) -> dict[str, Any]:
    from helpers.exercises.catalogue import get

    return {
        i: {"points": get(i).points, "score": 0.0, "outcome": "not graded", "detail": reason, "cases": [],
            "attempted": False}
        for i in chapter_ids
    }


def kernel_env(jobs: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"HELPERS_STRICT", "JPY_PARENT_PID"}}
    threads = str(max(1, (os.cpu_count() or 1) // max(1, jobs)))
    env.update(HELPERS_PROGRESS="0", HELPERS_GRADING="1", MPLBACKEND="Agg", PYTHONHASHSEED="0",
               OMP_NUM_THREADS=threads, MKL_NUM_THREADS=threads)
    return env


def grade_submission(path: str, folder: str, chapter: str, settings: dict, jobs: int = 1) -> dict[str, Any]:
    """Grade one notebook; returns its JSON-ready record. Never raises for a bad submission."""
    from helpers.exercises.catalogue import catalogue

    settings_ = Settings(**settings)
    source = Path(path)
    ids = [i for i in catalogue() if i.split(".")[0] == chapter]
    record: dict[str, Any] = {
        "student": student_name(source, Path(folder)), "file": str(source.relative_to(folder)),
        "sha256": hashlib.sha256(source.read_bytes()).hexdigest(), "chapter": chapter,
        "status": "ok", "reason": "", "notes": [], "seconds": 0.0, "cells_seconds": 0.0,
    }
    started = time.perf_counter()
    nb, status, reason = read_notebook(source)
    if nb is not None:
        found = notebook_chapter(nb)
        if found != chapter:
            status = "wrong chapter"
            reason = (f"this notebook is chapter {found}, the class is graded on chapter {chapter}" if found
                      else "this notebook shows no sign of which chapter it is")
    if nb is None or status != "ok":
        record.update(status=status, reason=reason, exercises=blank_results(ids, reason))
        return finish(record, started)

    calls = check_calls(nb)
    answers: dict[str, str] = {}
    counts = collections.Counter(exercise_id for _, exercise_id, _ in calls)
    for _, exercise_id, expression in calls:
        if exercise_id in ids:
            answers[exercise_id] = expression  # the last check() call for an exercise is the one graded
    for exercise_id, count in sorted(counts.items()):
        if exercise_id in ids and count > 1:
            record["notes"].append(f"{exercise_id} is checked {count} times; the answer defined last was graded")
    missing = [i for i in ids if i not in answers]

    with tempfile.TemporaryDirectory(prefix="grade-") as tmp:
        workdir = Path(tmp)
        shutil.copyfile(source, workdir / source.name)
        kernel = Kernel(nb, workdir, kernel_env(jobs), settings_)
        problems: list[str] = []
        try:
            phase = time.perf_counter()
            kernel.start()
            record["timing"] = {"kernel start": round(time.perf_counter() - phase, 2)}
            deadline = time.monotonic() + settings_.notebook_timeout
            succeeded: list[int] = []  # cells to replay when the kernel has to be restarted
            for index, cell in list(enumerate(nb.cells)):
                if cell.cell_type != "code" or not cell.source.strip():
                    continue
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    problems.append(f"timeout (the notebook's {settings_.notebook_timeout:.0f} s ran out "
                                    f"before cell {index + 1})")
                    break
                restarts, cell_started = kernel.restarts, time.perf_counter()
                problem = kernel.run(cell, index, min(settings_.cell_timeout, remaining))
                record["cells_seconds"] += time.perf_counter() - cell_started
                if problem:
                    problems.append(f"{problem} (cell {index + 1})")
                elif error := _error_of(cell):
                    if len(record["notes"]) < 8:
                        record["notes"].append(f"cell {index + 1} raised {error}")
                else:
                    succeeded.append(index)
                if kernel.restarts > restarts:  # a fresh kernel: bring back the state of the cells that ran
                    for earlier in succeeded:
                        kernel.run_extra(nb.cells[earlier].source, max(1, deadline - time.monotonic()))
            results, phase = {}, time.perf_counter()
            for exercise_id in ids:
                if exercise_id not in answers:
                    continue
                probe_path = workdir / f"probe-{exercise_id}.pt"
                probe = probe_source(exercise_id, answers[exercise_id], probe_path)
                problem = kernel.run_extra(probe, settings_.probe_timeout)
                fallback = f"grading this exercise stopped: {problem}" if problem else ""
                if problem:
                    record["notes"].append(f"grading {exercise_id}: {problem}")
                results[exercise_id] = judge_probe(exercise_id, probe_path, fallback)
        except Exception as error:  # the grader itself must never stop the class's grading
            problems.append(f"kernel died (could not run the notebook: {error.__class__.__name__}: {error})"[:300])
            results = {}
        finally:
            record.setdefault("timing", {})["grading"] = round(time.perf_counter() - phase, 2)
            phase = time.perf_counter()
            kernel.stop()
            record["timing"]["kernel stop"] = round(time.perf_counter() - phase, 2)

    reason_missing = "no exercise cell (no check() call) in the notebook"
    exercises = blank_results(ids, reason_missing)
    exercises.update(results)
    record["exercises"] = exercises
    if problems:
        record["status"] = problems[0].split(" (")[0]
    elif missing:
        record["status"] = "missing exercise cells"
    reasons = problems + ([f"no check() cell for {', '.join(missing)}"] if missing else []) + record["notes"]
    record["reason"] = "; ".join(reasons)
    return finish(record, started)


def finish(record: dict[str, Any], started: float) -> dict[str, Any]:
    exercises = record.get("exercises", {})
    record["total"] = round(sum(e["score"] for e in exercises.values()), 2)
    record["possible"] = sum(e["points"] for e in exercises.values())
    record["percent"] = round(100 * record["total"] / record["possible"], 1) if record["possible"] else 0.0
    record["seconds"] = round(time.perf_counter() - started, 2)
    record["cells_seconds"] = round(record.get("cells_seconds", 0.0), 2)
    return record


# ---------------------------------------------------------------- the class


def grader_fingerprint() -> str:
    """Changes whenever the grader or the catalogue changes, so cached grades are then recomputed."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _safe(name: str) -> str:
    return name.replace("/", "__")


def prepare_output(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
        (out / "feedback").mkdir(exist_ok=True)
        (out / ".graded").mkdir(exist_ok=True)
        probe = out / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as error:
        message = f"cannot write to the output folder {out} ({error.strerror}): choose another --out"
        raise GradingError(message) from None


def grade(folder: Path, out: Path, jobs: int | None = None, force: bool = False,
          settings: Settings | None = None, log=print) -> dict[str, Any]:
    """Grade every notebook under ``folder`` and write the results into ``out``; returns results.json."""
    settings = settings or Settings()
    if not folder.exists():
        raise GradingError(f"the submissions folder {folder} does not exist")
    if not folder.is_dir():
        raise GradingError(f"{folder} is a file; pass the folder that holds the submitted notebooks")
    paths = find_submissions(folder)
    if not paths:
        raise GradingError(f"no notebooks (*.ipynb) in {folder} or its subfolders")
    if out.resolve() == folder.resolve() or folder.resolve() in out.resolve().parents:
        raise GradingError("the output folder must not be inside the submissions folder: choose another --out")
    prepare_output(out)
    chapter = settings.chapter or class_chapter(paths)
    from helpers.exercises.catalogue import catalogue

    ids = [i for i in catalogue() if i.split(".")[0] == chapter]
    if not ids:
        raise GradingError(f"there are no exercises for chapter {chapter!r} in the catalogue")

    jobs = max(1, jobs or os.cpu_count() or 1)
    fingerprint = grader_fingerprint()
    records: dict[str, dict] = {}
    todo = []
    for path in paths:
        name = student_name(path, folder)
        cached = out / ".graded" / f"{_safe(name)}.json"
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if cached.exists() and not force:
            try:
                old = json.loads(cached.read_text())
                if old.get("sha256") == digest and old.get("grader") == fingerprint and old.get("chapter") == chapter:
                    records[name] = old
                    log(f"skipped {name}: already graded ({old['total']}/{old['possible']}, {old['status']})")
                    continue
            except (OSError, json.JSONDecodeError):
                pass
        todo.append(path)

    def store(record: dict) -> None:
        record["grader"] = fingerprint
        records[record["student"]] = record
        target = out / ".graded" / f"{_safe(record['student'])}.json"
        target.with_suffix(".tmp").write_text(json.dumps(record, indent=1))
        target.with_suffix(".tmp").replace(target)
        log(f"graded {record['student']}: {record['total']}/{record['possible']} ({record['percent']}%), "
            f"{record['status']}" + (f" - {record['reason'][:100]}" if record["reason"] else ""))

    args = [(str(p), str(folder), chapter, asdict(settings), jobs) for p in todo]
    if jobs == 1 or len(todo) <= 1:
        for a in args:
            store(grade_submission(*a))
    else:
        context = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
            futures = {pool.submit(grade_submission, *a): a[0] for a in args}
            for future in concurrent.futures.as_completed(futures):
                try:
                    store(future.result())
                except Exception as error:  # a worker that crashed still gets a row
                    path = Path(futures[future])
                    record = {"student": student_name(path, folder), "file": str(path.relative_to(folder)),
                              "sha256": "", "chapter": chapter, "status": "kernel died", "notes": [],
                              "reason": f"the grader's worker failed: {error.__class__.__name__}: {error}"[:300],
                              "exercises": blank_results(ids, "not graded")}
                    store(finish(record, time.perf_counter()))

    ordered = [records[student_name(p, folder)] for p in paths]
    return write_outputs(out, chapter, ids, ordered)


def class_chapter(paths: list[Path]) -> str:
    chapters = []
    for path in paths:
        nb, _, _ = read_notebook(path)
        if nb is not None and (chapter := notebook_chapter(nb)):
            chapters.append(chapter)
    if not chapters:
        raise GradingError("none of the notebooks shows which chapter it is: pass --chapter NN")
    return collections.Counter(chapters).most_common(1)[0][0]


def write_outputs(out: Path, chapter: str, ids: list[str], records: list[dict]) -> dict[str, Any]:
    from helpers.exercises.catalogue import get

    exercises = [{"id": i, "title": get(i).title, "points": get(i).points} for i in ids]
    possible = sum(e["points"] for e in exercises)
    with open(out / "grades.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", *ids, "total", "percent", "status", "reason"])
        writer.writerow(["(points possible)", *[e["points"] for e in exercises], possible, 100, "", ""])
        for r in records:
            writer.writerow([r["student"], *[r["exercises"][i]["score"] for i in ids], r["total"], r["percent"],
                             r["status"], r["reason"]])
    summary = {"chapter": chapter, "exercises": exercises, "points_possible": possible, "submissions": records}
    (out / "results.json").write_text(json.dumps(summary, indent=1))
    for r in records:
        target = out / "feedback" / f"{r['student']}.md"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(feedback_page(r, exercises))
    return summary


def feedback_page(record: dict, exercises: list[dict]) -> str:
    lines = [
        f"# Feedback for {record['student']}: chapter {record['chapter']}",
        "",
        f"**Score: {record['total']} / {record['possible']} ({record['percent']}%)** · status: {record['status']}",
    ]
    if record["reason"]:
        lines += ["", f"Notes from the grader: {record['reason']}"]
    for e in exercises:
        result = record["exercises"][e["id"]]
        lines += ["", f"## {e['id']} · {e['title']}: {result['score']} / {result['points']} points", ""]
        if result["detail"]:
            lines.append(f"- {result['outcome']}: {result['detail']}")
        elif not result["cases"]:
            lines.append(f"- {result['outcome']}")
        for n, case in enumerate(result["cases"], 1):
            name = f"hidden test {n}: {case['label']}" if case["hidden"] else f"test {n}: {case['label']}"
            if case["passed"]:
                lines.append(f"- ✅ {name}")
            else:
                why = f" (why it matters: {case['why']})" if case["why"] else ""
                lines.append(f"- ❌ {name}: {case['message']}{why}")
    return "\n".join(lines) + "\n"


def main(args: Any) -> int:
    settings = Settings(cell_timeout=args.cell_timeout, notebook_timeout=args.timeout,
                        probe_timeout=args.probe_timeout, memory_mb=args.memory_mb, chapter=args.chapter)
    try:
        started = time.perf_counter()
        summary = grade(Path(args.submissions), Path(args.out), args.jobs, args.force, settings)
    except GradingError as error:
        print(f"grade: {error}", file=sys.stderr)
        return 2
    statuses = collections.Counter(r["status"] for r in summary["submissions"])
    print(f"Graded {len(summary['submissions'])} submission(s) of chapter {summary['chapter']} in "
          f"{time.perf_counter() - started:.0f} s: " + ", ".join(f"{n} {s}" for s, n in statuses.items()))
    print(f"Wrote {args.out}/grades.csv, {args.out}/results.json and {args.out}/feedback/")
    return 0
