"""The gradebook as a learning-management system imports it: ``canvas.csv`` and ``moodle.csv``.

Both files hold one column per chapter graded, titled ``Chapter NN exercises``, whose cells are the points of
the submission that counts (``grades.csv``'s chapter columns); a chapter the student handed nothing in for is
an empty cell. Neither file has a total: each LMS computes its own.

**Canvas** (Grades > Import). Columns, in the order Canvas's importer requires:

- ``Student``: the student's name (Canvas matches by it only when no id below matches);
- ``ID``: the Canvas user id; ``SIS User ID`` and ``SIS Login ID``: the institution's ids; Canvas matches a
  row by ``ID``, else ``SIS User ID``, else ``SIS Login ID``, else the name;
- ``Section``: informational (Canvas requires the column, it is the last student column);
- one column per chapter; a title that is not an assignment of the course creates one, with the points of
  the second row, ``Points Possible``. To fill an existing assignment instead, rename the column to its
  title, or to ``Title (id)`` as Canvas's own export writes it. An empty cell leaves Canvas's grade as it is.

Followed: Canvas's importer, ``app/models/gradebook_importer.rb`` in instructure/canvas-lms (the header
test: ``Student``, ``ID``, optional ``SIS User ID`` + ``SIS Login ID``, ``Section`` last; the row starting
``Points Possible``; assignments by ``(id)`` or title, else new; "" or "-" is no score), and the Canvas
Instructor Guide, "How do I import grades in the Gradebook?" (community.canvaslms.com), with the Ohio State
guide "Import a CSV file into Carmen Grades" (teaching.resources.osu.edu) on the required columns.

**Moodle** (Grades > Import > CSV file). Moodle asks which column identifies the user ("Map from") and
which user field it is ("Map to": email address, username or ID number), then which grade item each
chapter column goes to (an existing item, or a new one). Columns: ``Email address``, ``Username``, ``ID
number`` (fill the ones your roster has and map one of them), then one column per chapter. An empty cell is
imported as "no grade". Followed: MoodleDocs "Grade import" (docs.moodle.org/405/en/Grade_import) and
Moodle's importer, ``grade/import/csv/classes/load_data.php`` in moodle/moodle (users by id, idnumber,
email or username; "" or "-" is no grade; a column mapped to "new" becomes a new grade item).

**Roster** (``--roster roster.csv``): maps our student names (``grades.csv``'s first column) to the LMS's
identifiers. Columns (a header row; only ``student`` is required, the others as your LMS needs):
``student``, ``name``, ``canvas_id``, ``sis_user_id``, ``sis_login_id``, ``section``, ``email``,
``username``, ``idnumber``. Without a roster the student names are taken to be the LMS logins (Canvas's
``SIS Login ID``, Moodle's ``Username``). With one, a graded student missing from it is left out of both
files, and reported; so is a roster entry without a submission.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from helpers.exercises.grading.gradebook import Gradebook

CANVAS_STUDENT_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
MOODLE_USER_COLUMNS = ["Email address", "Username", "ID number"]
IDENTIFIERS = ("canvas_id", "sis_user_id", "sis_login_id", "email", "username", "idnumber")


class RosterError(ValueError):
    """A roster that cannot be used: the message says what to fix."""


@dataclass(frozen=True)
class Person:
    """One roster entry: our student name and the LMS's identifiers for that student."""

    student: str
    name: str = ""
    canvas_id: str = ""
    sis_user_id: str = ""
    sis_login_id: str = ""
    section: str = ""
    email: str = ""
    username: str = ""
    idnumber: str = ""


Roster = dict[str, Person]  # our student name -> the person
COLUMNS = tuple(f.name for f in fields(Person))


def read_roster(path: Path) -> Roster:
    """The roster in ``path`` (UTF-8, with or without a byte-order mark, as spreadsheets save it)."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError) as error:
        raise RosterError(f"cannot read the roster {path} ({error}): pass a UTF-8 CSV file") from None
    if not rows:
        raise RosterError(f"the roster {path} is empty: it needs a header row ({', '.join(COLUMNS)})")
    header = [cell.strip().lower() for cell in rows[0]]
    unknown = [name for name in header if name not in COLUMNS]
    if "student" not in header or unknown:
        problem = f"unknown column(s) {', '.join(map(repr, unknown))}" if unknown else "no 'student' column"
        raise RosterError(f"the roster {path} has {problem}: its header names columns among {', '.join(COLUMNS)}")
    roster: Roster = {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        values = {name: (row[i].strip() if i < len(row) else "") for i, name in enumerate(header)}
        person = Person(**values)
        if not person.student:
            raise RosterError(f"line {line} of the roster {path} has no student name: fill its 'student' cell")
        if person.student in roster:
            raise RosterError(f"{person.student!r} is in the roster {path} twice (line {line}): keep one line")
        if not any(getattr(person, name) for name in IDENTIFIERS):
            raise RosterError(f"line {line} of the roster {path} ({person.student}) has no identifier: fill one of "
                              f"{', '.join(IDENTIFIERS)}")
        roster[person.student] = person
    return roster


@dataclass
class Matching:
    """Who made it into the LMS files: the graded students missing from the roster, and the roster's
    students without a submission (both empty without a roster)."""

    not_in_roster: list[str]
    no_submission: list[str]


def write_lms(out: Path, book: Gradebook, roster: Roster | None = None) -> Matching:
    """Write ``canvas.csv`` and ``moodle.csv`` into ``out``; say who could not be matched."""
    rows = book.students()
    graded = [row.student for row in rows]
    people = roster if roster is not None else {s: Person(s, name=s, sis_login_id=s, username=s) for s in graded}
    matching = Matching([s for s in graded if s not in people], sorted(set(people) - set(graded)))
    exported = [(people[row.student], row) for row in rows if row.student in people]
    chapters = book.chapters
    titles = [f"Chapter {c} exercises" for c in chapters]
    with open(out / "canvas.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CANVAS_STUDENT_COLUMNS + titles)
        writer.writerow(["Points Possible", "", "", "", "", *[book.points_possible(c) for c in chapters]])
        for person, row in exported:
            ids = [person.name or person.student, person.canvas_id, person.sis_user_id, person.sis_login_id,
                   person.section]
            writer.writerow(ids + _scores(row.scores, chapters))
    with open(out / "moodle.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(MOODLE_USER_COLUMNS + titles)
        for person, row in exported:
            writer.writerow([person.email, person.username, person.idnumber] + _scores(row.scores, chapters))
    return matching


def _scores(scores: dict[str, float | None], chapters: list[str]) -> list[float | str]:
    return ["" if scores[c] is None else scores[c] for c in chapters]
