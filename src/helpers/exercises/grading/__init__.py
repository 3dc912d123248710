"""Grade a class's notebooks: ``python -m helpers.exercises grade SUBMISSIONS --out RESULTS``.

Each submission runs in a fresh Jupyter kernel, several at a time, with time and memory limits; after the
student's cells a probe records each answer's results, and the grader judges them in its own process with
its own fresh copy of the tests. Each submission is graded on its own chapter (or only ``--chapter NN``),
and the class becomes one gradebook. The modules, in the order a submission meets them:

- ``notebooks``: finding the submissions, whose they are, reading them, which chapter, which answers;
- ``kernel``: the kernel a notebook runs in (time limits with interrupt, restart, memory watchdog);
- ``probe``: the code that runs in the student's kernel after the student's cells;
- ``submission``: grading one submission, from reading it to a ``SubmissionRecord``;
- ``records``: ``Status``, ``Problem``, ``ExerciseResult``, ``SubmissionRecord``;
- ``gradebook``: the records grouped by chapter and by student;
- ``outputs``: grades.csv, grades-NN.csv, results.json, the feedback pages and the cache;
- ``lms``: canvas.csv and moodle.csv, and the roster that maps our names to the LMS's;
- ``shards``: grading a slice of the class (``--shard I/N``) and checking slices before ``merge``.

Submissions already graded (same file, same grader: see ``fingerprint``) are not run again unless ``force``.
"""

from __future__ import annotations

import collections
import concurrent.futures
import dataclasses
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
from helpers.exercises.grading.gradebook import Gradebook
from helpers.exercises.grading.lms import Matching, Roster, RosterError, read_roster
from helpers.exercises.grading.notebooks import find_submissions, student_name, submission_chapter
from helpers.exercises.grading.outputs import CACHE, load_cached, save_cached, write_all
from helpers.exercises.grading.records import ExerciseResult, Problem, Status, SubmissionRecord
from helpers.exercises.grading.shards import Shard, ShardError, read_shards
from helpers.exercises.grading.submission import grade_submission

__all__ = ["Gradebook", "GradingError", "Settings", "Shard", "Status", "SubmissionRecord", "fingerprint", "grade",
           "main", "merge", "merge_main"]


class GradingError(Exception):
    """Unusable input: the message is one line that says what to do."""


@dataclass
class Settings:
    """The limits a submission runs under, and the chapter graded."""

    cell_timeout: float = 60.0  # seconds per student cell: the cell is interrupted, the next one runs
    notebook_timeout: float = 600.0  # seconds for all of a notebook's cells
    probe_timeout: float = 60.0  # seconds to probe one exercise
    memory_mb: int = 4096  # the kernel's process tree
    chapter: str | None = None  # grade only this chapter (others: "wrong chapter"); default: each its own


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
          log: Callable[[str], None] = print, shard: Shard | None = None, roster: Roster | None = None) -> Gradebook:
    """Grade every notebook under ``folder`` (or the slice ``shard`` of them), write the gradebook into
    ``out`` and return it. ``roster`` maps student names to the LMS's identifiers (see ``lms``)."""
    settings = settings or Settings()
    if settings.chapter is not None and not of_chapter(settings.chapter):
        raise GradingError(f"there are no exercises for chapter {settings.chapter!r} in the catalogue")
    every = _submissions(folder, out)
    paths = shard.select(every, folder) if shard else every
    _prepare_output(out)
    chapters = {path: submission_chapter(path, folder, settings.chapter) for path in paths}
    if shard is None and not any(chapters.values()):
        raise GradingError("none of the notebooks shows which chapter it is: pass --chapter NN")

    grader = fingerprint()
    records: list[SubmissionRecord] = []
    todo = []
    for path in paths:
        cached = None if force else _still_valid(out, path, folder, chapters[path], grader)
        if cached is not None:
            records.append(cached)
            log(f"skipped {cached.student}: already graded ({cached.total}/{cached.possible}, "
                f"{cached.status.value})")
        else:
            todo.append(path)

    for record in _grade_all(todo, folder, chapters, settings, max(1, jobs or os.cpu_count() or 1)):
        record.grader = grader
        records.append(record)
        save_cached(out, record)
        reason = f" - {record.reason[:100]}" if record.reason else ""
        log(f"graded {record.student}: {record.total}/{record.possible} ({record.percent}%), "
            f"{record.status.value}{reason}")

    book = Gradebook.of(records, grader, dataclasses.asdict(settings), shard.describe(every, folder) if shard else None)
    _report(write_all(out, book, roster), log)
    return book


def merge(shards: list[Path], out: Path, roster: Roster | None = None, log: Callable[[str], None] = print) -> Gradebook:
    """Merge the output folders of ``grade --shard I/N`` (I = 1..N) into one gradebook in ``out``: the same
    files one run over the whole class writes."""
    if any(out.resolve() == folder.resolve() for folder in shards):
        raise GradingError(f"the merged gradebook must not overwrite a shard: choose an --out other than {out}")
    try:
        outputs = read_shards(shards)
    except ShardError as error:
        raise GradingError(str(error)) from None
    records = [record for output in outputs for record in output.records]
    book = Gradebook.of(records, outputs[0].grader, outputs[0].settings)
    if not book.chapters:
        raise GradingError("none of the notebooks shows which chapter it is: grade the shards with --chapter NN")
    _prepare_output(out, cache=False)
    _report(write_all(out, book, roster), log)
    return book


def _report(matching: Matching, log: Callable[[str], None]) -> None:
    if matching.not_in_roster:
        log(f"not in the roster, left out of canvas.csv and moodle.csv ({len(matching.not_in_roster)}): "
            + ", ".join(matching.not_in_roster))
    if matching.no_submission:
        log(f"in the roster without a submission ({len(matching.no_submission)}): "
            + ", ".join(matching.no_submission))


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


def _prepare_output(out: Path, cache: bool = True) -> None:
    try:
        for folder in (out, out / "feedback", *([out / CACHE] if cache else [])):
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


def _grade_all(paths: list[Path], folder: Path, chapters: dict[Path, str], settings: Settings,
               jobs: int) -> Iterator[SubmissionRecord]:
    """Grade ``paths``, each on its chapter, ``jobs`` at a time, yielding each record as it is done."""
    if jobs == 1 or len(paths) <= 1:
        for path in paths:
            yield grade_submission(path, folder, chapters[path], settings)
        return
    context = multiprocessing.get_context("spawn")  # a clean process: no state shared with the grader's
    with concurrent.futures.ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        futures = {pool.submit(grade_submission, path, folder, chapters[path], settings): path for path in paths}
        for future in concurrent.futures.as_completed(futures):
            try:
                yield future.result()
            except Exception as error:  # a worker that crashed still gets a row
                path = futures[future]
                yield _worker_failed(path, folder, chapters[path], error)


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
        shard = Shard.parse(args.shard) if args.shard else None
        roster = read_roster(Path(args.roster)) if args.roster else None
        book = grade(Path(args.submissions), Path(args.out), args.jobs, args.force, settings, shard=shard,
                     roster=roster)
    except (GradingError, ShardError, RosterError) as error:
        print(f"grade: {error}", file=sys.stderr)
        return 2
    _summary(book, f"in {time.perf_counter() - started:.0f} s" + (f" (shard {shard})" if shard else ""), args.out)
    return 0


def merge_main(args: Namespace) -> int:
    """``python -m helpers.exercises grade merge SHARD... --out OUT``: 0, or 2 with a one-line error."""
    try:
        roster = read_roster(Path(args.roster)) if args.roster else None
        book = merge([Path(folder) for folder in args.shards], Path(args.out), roster)
    except (GradingError, RosterError) as error:
        print(f"grade merge: {error}", file=sys.stderr)
        return 2
    _summary(book, f"merged from {len(args.shards)} shard(s)", args.out)
    return 0


def _summary(book: Gradebook, how: str, out: str) -> None:
    statuses = collections.Counter(r.status.value for r in book.records)
    chapters = ", ".join(book.chapters) or "none"
    print(f"Graded {len(book.records)} submission(s) of {len(book.students())} student(s), chapter(s) {chapters}, "
          f"{how}: " + ", ".join(f"{n} {s}" for s, n in statuses.items()))
    print(f"Wrote {out}/grades.csv (per student), grades-NN.csv (per chapter), results.json, feedback/, "
          f"canvas.csv and moodle.csv")
