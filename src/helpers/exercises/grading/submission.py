"""Grading one submission: read it, run it in a fresh kernel, probe each answer, judge the results.

``grade_submission`` never raises for a bad submission: whatever goes wrong becomes a ``Problem`` in the
record (its status and where), and what could still be graded is graded. Steps:

1. read the notebook (``notebooks``): an empty, non-notebook, malformed or other-chapter file stops here;
2. run its code cells in order in a ``Kernel``, in a temporary folder holding a copy of the file, with a
   limit per cell and per notebook; after a restart the cells that had run are replayed;
3. per exercise, a probe cell (``probe``) records the answer's results on every case;
4. the grader's own fresh copy of the tests judges those results (``runner.judge``, hidden cases included).
"""

from __future__ import annotations

import hashlib
import secrets
import shutil
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from helpers.exercises.catalogue import of_chapter
from helpers.exercises.grading.kernel import Kernel
from helpers.exercises.grading.notebooks import chapter_problem, graded_answers, read_notebook, student_name
from helpers.exercises.grading.probe import probe_cell, read_calls
from helpers.exercises.grading.records import ExerciseResult, Problem, Status, SubmissionRecord
from helpers.exercises.runner import judge
from helpers.exercises.spec import Exercise, Outcome, Report

if TYPE_CHECKING:
    from nbformat import NotebookNode

    from helpers.exercises.grading import Settings

MAX_CELL_NOTES = 8  # "cell N raised ..." notes kept per submission


def grade_submission(path: Path, folder: Path, chapter: str, settings: Settings) -> SubmissionRecord:
    """Grade one notebook of ``chapter``. Never raises for a bad submission."""
    started = time.perf_counter()
    record = SubmissionRecord(student=student_name(path, folder), file=path.relative_to(folder).as_posix(),
                              sha256=hashlib.sha256(path.read_bytes()).hexdigest(), chapter=chapter)
    exercises = of_chapter(chapter)
    nb, problem = read_notebook(path)
    if nb is not None:
        problem = chapter_problem(nb, chapter)
    if problem is not None:  # unreadable, or another chapter: nothing runs
        record.problems.append(problem)
        record.reason = problem.detail
        record.exercises = {e.id: ExerciseResult.not_graded(e.points, problem.detail) for e in exercises}
    elif nb is not None:
        _grade_notebook(nb, path, exercises, settings, record)
    record.seconds = round(time.perf_counter() - started, 2)
    return record


def _grade_notebook(nb: NotebookNode, path: Path, exercises: list[Exercise], settings: Settings,
                    record: SubmissionRecord) -> None:
    """Run the notebook and grade each exercise; fills ``record``."""
    answers, record.notes = graded_answers(nb, [e.id for e in exercises])
    missing = [e.id for e in exercises if e.id not in answers]
    results: dict[str, ExerciseResult] = {}
    with tempfile.TemporaryDirectory(prefix="grade-") as tmp:
        workdir = Path(tmp)
        shutil.copyfile(path, workdir / path.name)
        kernel = Kernel(nb, workdir, settings.memory_mb)
        try:
            phase = time.perf_counter()
            kernel.start()
            record.timing["kernel start"] = round(time.perf_counter() - phase, 2)
            _run_cells(kernel, nb, settings, record)
            phase = time.perf_counter()
            results = _probe_all(kernel, exercises, answers, workdir, settings, record)
            record.timing["grading"] = round(time.perf_counter() - phase, 2)
        except Exception as error:  # the grader itself must never stop the class's grading
            detail = f"could not run the notebook: {error.__class__.__name__}: {error}"[:300]
            record.problems.append(Problem(Status.KERNEL_DIED, detail))
        finally:
            phase = time.perf_counter()
            kernel.stop()
            record.timing["kernel stop"] = round(time.perf_counter() - phase, 2)
    if missing:
        record.problems.append(Problem(Status.MISSING_CELLS, f"no check() cell for {', '.join(missing)}"))
    not_graded = "no exercise cell (no check() call) in the notebook"
    record.exercises = {e.id: results.get(e.id) or ExerciseResult.not_graded(e.points, not_graded)
                        for e in exercises}
    record.reason = "; ".join([str(p) for p in record.problems] + record.notes)


def _run_cells(kernel: Kernel, nb: NotebookNode, settings: Settings, record: SubmissionRecord) -> None:
    """Run the notebook's code cells in order; a problem is recorded and the next cell runs."""
    deadline = time.monotonic() + settings.notebook_timeout
    succeeded: list[int] = []  # the cells to replay when the kernel has to be restarted
    for index, cell in list(enumerate(nb.cells)):
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            detail = f"the notebook's {settings.notebook_timeout:.0f} s ran out before cell {index + 1}"
            record.problems.append(Problem(Status.TIMEOUT, detail))
            return
        restarts, started = kernel.restarts, time.perf_counter()
        status = kernel.run(cell, index, min(settings.cell_timeout, remaining))
        record.cells_seconds = round(record.cells_seconds + time.perf_counter() - started, 2)
        if status is not None:
            record.problems.append(Problem(status, f"cell {index + 1}"))
        elif error := _error_of(cell):
            if len(record.notes) < MAX_CELL_NOTES:
                record.notes.append(f"cell {index + 1} raised {error}")
        else:
            succeeded.append(index)
        if kernel.restarts > restarts:  # a fresh kernel: bring back the state of the cells that ran
            for earlier in succeeded:
                kernel.run_extra(nb.cells[earlier].source, max(1.0, deadline - time.monotonic()))


def _error_of(cell: NotebookNode) -> str | None:
    """The error a cell raised, in one line ("RuntimeError: boom"), or None."""
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return f"{output.get('ename', 'Error')}: {str(output.get('evalue', ''))[:120]}"
    return None


def _probe_all(kernel: Kernel, exercises: list[Exercise], answers: dict[str, str], workdir: Path,
               settings: Settings, record: SubmissionRecord) -> dict[str, ExerciseResult]:
    """Probe and judge each exercise that has an answer."""
    handle = f"_grader_{secrets.token_hex(8)}"  # a kernel global the notebook cannot know in advance
    results = {}
    for exercise in exercises:
        if exercise.id not in answers:
            continue
        path = workdir / f"probe-{handle}-{exercise.id}.pt"
        path.unlink(missing_ok=True)
        status = kernel.run_extra(probe_cell(handle, exercise.id, answers[exercise.id], path),
                                  settings.probe_timeout)
        if status is not None:
            record.notes.append(f"grading {exercise.id}: {status.value}")
        outcome = read_calls(path, exercise)
        if isinstance(outcome, str):
            why = f"grading this exercise stopped: {status.value}" if status is not None else outcome
            report = Report(exercise, Outcome.ERROR, [], why)
        else:
            report = judge(exercise, exercise.cases(), outcome, include_hidden=True)
        results[exercise.id] = ExerciseResult.from_report(report)
    return results
