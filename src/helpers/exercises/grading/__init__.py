"""Grade a class's notebooks: ``python -m helpers.exercises grade SUBMISSIONS --out RESULTS``.

Each submission runs in a fresh Jupyter kernel, several at a time, with time and memory limits; after the
student's cells a probe records each answer's results, and the grader judges them in its own process with
its own fresh copy of the tests. The modules, in the order a submission meets them:

- ``notebooks``: finding the submissions, whose they are, reading them, which chapter, which answers;
- ``kernel``: the kernel a notebook runs in (time limits with interrupt, restart, memory watchdog);
- ``probe``: the code that runs in the student's kernel after the student's cells;
- ``submission``: grading one submission, from reading it to a ``SubmissionRecord``;
- ``records``: ``Status``, ``Problem``, ``ExerciseResult``, ``SubmissionRecord``;
- ``outputs``: grades.csv, results.json, the feedback pages and the cache.

Submissions already graded (same file, same grader: see ``fingerprint``) are not run again unless ``force``.
"""

from __future__ import annotations

import collections
import concurrent.futures
import hashlib
import multiprocessing
import os
import sys
import time
from argparse import Namespace
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import helpers
from helpers.exercises.catalogue import of_chapter
from helpers.exercises.grading.notebooks import class_chapter, find_submissions, student_name
from helpers.exercises.grading.outputs import CACHE, Gradebook, load_cached, save_cached, write_all
from helpers.exercises.grading.records import ExerciseResult, Problem, Status, SubmissionRecord
from helpers.exercises.grading.submission import grade_submission

__all__ = ["GradingError", "Settings", "Status", "SubmissionRecord", "fingerprint", "grade", "main"]


class GradingError(Exception):
    """Unusable input: the message is one line that says what to do."""


@dataclass
class Settings:
    """The limits a submission runs under, and the chapter graded."""

    cell_timeout: float = 60.0  # seconds per student cell: the cell is interrupted, the next one runs
    notebook_timeout: float = 600.0  # seconds for all of a notebook's cells
    probe_timeout: float = 60.0  # seconds to probe one exercise
    memory_mb: int = 4096  # the kernel's process tree
    chapter: str | None = None  # the chapter graded; default: the class's most common


def source_fingerprint(root: Path, version: str) -> str:
    """A digest of every ``.py`` file under ``root`` (names and contents) and of ``version``."""
    digest = hashlib.sha256(version.encode())
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def fingerprint() -> str:
    """The grader's fingerprint: any change to the ``helpers`` package (the grader, the catalogue, or a
    reference implementation anywhere in it) or to its version changes it, and cached grades are redone."""
    return source_fingerprint(Path(helpers.__file__).parent, helpers.__version__)


def grade(folder: Path, out: Path, jobs: int | None = None, force: bool = False, settings: Settings | None = None,
          log: Callable[[str], None] = print) -> Gradebook:
    """Grade every notebook under ``folder``, write the results into ``out`` and return them."""
    settings = settings or Settings()
    paths = _submissions(folder, out)
    _prepare_output(out)
    chapter = settings.chapter or class_chapter(paths)
    if chapter is None:
        raise GradingError("none of the notebooks shows which chapter it is: pass --chapter NN")
    if not of_chapter(chapter):
        raise GradingError(f"there are no exercises for chapter {chapter!r} in the catalogue")

    grader = fingerprint()
    records: dict[str, SubmissionRecord] = {}
    todo = []
    for path in paths:
        cached = None if force else _still_valid(out, path, folder, chapter, grader)
        if cached is not None:
            records[cached.student] = cached
            log(f"skipped {cached.student}: already graded ({cached.total}/{cached.possible}, "
                f"{cached.status.value})")
        else:
            todo.append(path)

    for record in _grade_all(todo, folder, chapter, settings, max(1, jobs or os.cpu_count() or 1)):
        record.grader = grader
        records[record.student] = record
        save_cached(out, record)
        reason = f" - {record.reason[:100]}" if record.reason else ""
        log(f"graded {record.student}: {record.total}/{record.possible} ({record.percent}%), "
            f"{record.status.value}{reason}")

    book = Gradebook(chapter, [records[student_name(p, folder)] for p in paths])
    write_all(out, book)
    return book


def _submissions(folder: Path, out: Path) -> list[Path]:
    """The notebooks to grade; a GradingError when the folders make no sense."""
    if not folder.exists():
        raise GradingError(f"the submissions folder {folder} does not exist")
    if not folder.is_dir():
        raise GradingError(f"{folder} is a file; pass the folder that holds the submitted notebooks")
    paths = find_submissions(folder)
    if not paths:
        raise GradingError(f"no notebooks (*.ipynb) in {folder} or its subfolders")
    if out.resolve() == folder.resolve() or folder.resolve() in out.resolve().parents:
        raise GradingError("the output folder must not be inside the submissions folder: choose another --out")
    return paths


def _prepare_output(out: Path) -> None:
    try:
        for folder in (out, out / "feedback", out / CACHE):
            folder.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as error:
        message = f"cannot write to the output folder {out} ({error.strerror}): choose another --out"
        raise GradingError(message) from None


def _still_valid(out: Path, path: Path, folder: Path, chapter: str, grader: str) -> SubmissionRecord | None:
    """The cached record of this submission if it was graded from the same file, chapter and grader."""
    cached = load_cached(out, student_name(path, folder))
    if cached is None or (cached.grader, cached.chapter) != (grader, chapter):
        return None
    return cached if cached.sha256 == hashlib.sha256(path.read_bytes()).hexdigest() else None


def _grade_all(paths: list[Path], folder: Path, chapter: str, settings: Settings,
               jobs: int) -> Iterator[SubmissionRecord]:
    """Grade ``paths``, ``jobs`` at a time, yielding each record as it is done."""
    if jobs == 1 or len(paths) <= 1:
        for path in paths:
            yield grade_submission(path, folder, chapter, settings)
        return
    context = multiprocessing.get_context("spawn")  # a clean process: no state shared with the grader's
    with concurrent.futures.ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        futures = {pool.submit(grade_submission, path, folder, chapter, settings): path for path in paths}
        for future in concurrent.futures.as_completed(futures):
            try:
                yield future.result()
            except Exception as error:  # a worker that crashed still gets a row
                yield _worker_failed(futures[future], folder, chapter, error)


def _worker_failed(path: Path, folder: Path, chapter: str, error: Exception) -> SubmissionRecord:
    detail = f"the grader's worker failed: {error.__class__.__name__}: {error}"[:300]
    return SubmissionRecord(
        student=student_name(path, folder), file=path.relative_to(folder).as_posix(), sha256="", chapter=chapter,
        problems=[Problem(Status.KERNEL_DIED, detail)], reason=detail,
        exercises={e.id: ExerciseResult.not_graded(e.points, "not graded") for e in of_chapter(chapter)},
    )


def main(args: Namespace) -> int:
    """``python -m helpers.exercises grade``: 0, or 2 with a one-line error for unusable input."""
    settings = Settings(cell_timeout=args.cell_timeout, notebook_timeout=args.timeout,
                        probe_timeout=args.probe_timeout, memory_mb=args.memory_mb, chapter=args.chapter)
    started = time.perf_counter()
    try:
        book = grade(Path(args.submissions), Path(args.out), args.jobs, args.force, settings)
    except GradingError as error:
        print(f"grade: {error}", file=sys.stderr)
        return 2
    statuses = collections.Counter(r.status.value for r in book.records)
    print(f"Graded {len(book.records)} submission(s) of chapter {book.chapter} in "
          f"{time.perf_counter() - started:.0f} s: " + ", ".join(f"{n} {s}" for s, n in statuses.items()))
    print(f"Wrote {args.out}/grades.csv, {args.out}/results.json and {args.out}/feedback/")
    return 0
