"""The grader on a class of the whole book: chapters mixed in one folder, one gradebook, the LMS exports,
and the class graded in shards then merged.

The class is small (four notebooks that run, of two chapters, a few cells each, and three broken files), so
grading it costs seconds. Expected gradebooks are written out by hand from the rules book/instructors.md states:
a correct answer earns its exercise's points (the catalogue's, the only number taken from the package), a
stub or a missing cell earns 0, a student's chapter is the best of their submissions of it, the course total
is the sum over chapters. The merge is compared with an unsharded run of the same class, file by file.
"""

from __future__ import annotations

import csv
import json
import random
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from helpers.exercises import grading
from helpers.exercises.catalogue import get, of_chapter
from helpers.exercises.grading import GradingError, Settings, Shard, grade, merge
from helpers.exercises.grading.lms import RosterError, read_roster
from helpers.exercises.grading.notebooks import find_submissions, path_chapter, student_of
from helpers.exercises.grading.shards import ShardError

HEAD = "import torch\n\nfrom helpers.exercises import check"
DIAGNOSE_FIT = 'def diagnose_fit():\n    return "b"\n\n\ncheck("01.diagnose_fit", diagnose_fit)'
UNBIASED = ('def unbiased_variance(x):\n    d = x - x.mean(dim=-1, keepdim=True)\n'
            '    return (d * d).sum(dim=-1) / (x.shape[-1] - 1)\n\n\ncheck("01.unbiased_variance", unbiased_variance)')
UNBIASED_STUB = ('def unbiased_variance(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()\n\n\n'
                 'check("01.unbiased_variance", unbiased_variance)')
NLL_VS_MSE = 'def nll_vs_mse():\n    return "a"\n\n\ncheck("02.nll_vs_mse", nll_vs_mse)'
LOGSUMEXP = ('def logsumexp(x):\n    m = x.amax(dim=-1, keepdim=True)\n'
             '    return (m + (x - m).exp().sum(dim=-1, keepdim=True).log()).squeeze(-1)\n\n\n'
             'check("02.logsumexp", logsumexp)')
BERNOULLI = ('def bernoulli_log_likelihood(theta, x):\n    heads = x.sum()\n    tails = x.shape[-1] - heads\n'
             '    return torch.xlogy(heads, theta) + torch.xlogy(tails, 1 - theta)\n\n\n'
             'check("02.bernoulli_log_likelihood", bernoulli_log_likelihood)')

SETTINGS = Settings(cell_timeout=30, notebook_timeout=180, probe_timeout=60, memory_mb=2000)
TIMINGS = ("seconds", "cells_seconds", "timing")  # the fields of a record that differ from run to run


def notebook(*sources: str, chapter: str | None = None) -> str:
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    if chapter:
        nb.metadata["helpers"] = {"chapter": chapter}
    nb.cells = [nbformat.v4.new_code_cell(source) for source in (HEAD, *sources)]
    return nbformat.writes(nb)


COURSE = {
    "alice/01.ipynb": notebook(DIAGNOSE_FIT, UNBIASED, chapter="01"),
    "alice/02.ipynb": notebook(NLL_VS_MSE, LOGSUMEXP, chapter="02"),
    "bob/01.ipynb": notebook(DIAGNOSE_FIT, UNBIASED_STUB, chapter="01"),
    "bob/ch01.ipynb": notebook(DIAGNOSE_FIT, chapter="01")[:150],  # malformed; its name says chapter 01
    "carol.ipynb": notebook(BERNOULLI),  # no metadata: its check() calls say chapter 02
    "dave/02_maximum_likelihood.ipynb": "",  # empty; its name says chapter 02
    "erin.ipynb": "my answers: b, a\n",  # says nothing: listed under the most common chapter (01 and 02 tie: 01)
}
ROSTER = """student,name,canvas_id,sis_user_id,sis_login_id,section,email,username,idnumber
alice,"Liddell, Alice",101,S-1,aliddell,A,alice@uni.example,aliddell,1001
bob,"Builder, Bob",102,S-2,bbuilder,B,bob@uni.example,bbuilder,1002
carol,"Danvers, Carol",103,S-3,cdanvers,A,carol@uni.example,cdanvers,1003
zoe,"Washburne, Zoe",104,S-4,zwashburne,B,zoe@uni.example,zwashburne,1004
"""


def write_class(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return folder


def rows(path: Path) -> list[list[str]]:
    with open(path, newline="") as handle:
        return list(csv.reader(handle))


def without_timings(results: dict) -> dict:
    for submission in results["submissions"]:
        for name in TIMINGS:
            submission.pop(name)
    return results


def files_under(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module", autouse=True)
def one_version_of_the_book():
    """Every run of this module grades with the fingerprint the package had when the module started. Other
    work in the same checkout may edit ``helpers`` while these tests run, and a merge rightly refuses shards
    graded by two versions (that refusal is tested on a shard whose results.json names another grader)."""
    version = grading.fingerprint()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(grading, "fingerprint", lambda: version)
        yield


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    return write_class(tmp_path_factory.mktemp("course"), COURSE)


@pytest.fixture(scope="module")
def roster(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("roster") / "roster.csv"
    path.write_text(ROSTER)
    return path


@pytest.fixture(scope="module")
def whole(course, roster, tmp_path_factory):
    """The class graded in one run: (output folder, log)."""
    out, log = tmp_path_factory.mktemp("whole"), []
    grade(course, out, jobs=2, settings=SETTINGS, log=log.append, roster=read_roster(roster))
    return out, log


@pytest.fixture(scope="module")
def merged(course, roster, tmp_path_factory) -> tuple[Path, list[Path]]:
    """The class graded in 3 shards, then merged: (merged folder, shard folders)."""
    base = tmp_path_factory.mktemp("sharded")
    shards = [base / f"shard-{i}" for i in (1, 2, 3)]
    for i, out in enumerate(shards, start=1):
        grade(course, out, jobs=2, settings=SETTINGS, log=lambda line: None, shard=Shard(i, 3))
    merge(shards, base / "merged", roster=read_roster(roster), log=lambda line: None)
    return base / "merged", shards


# -- the chapter points, from the catalogue: the only numbers the expectations take from the package --------------

P01 = sum(e.points for e in of_chapter("01"))
P02 = sum(e.points for e in of_chapter("02"))
ALICE_01 = get("01.diagnose_fit").points + get("01.unbiased_variance").points
ALICE_02 = get("02.nll_vs_mse").points + get("02.logsumexp").points
BOB_01 = get("01.diagnose_fit").points
CAROL_02 = get("02.bernoulli_log_likelihood").points
MISSING = "missing exercise cells"


def percent(score: float) -> str:
    return str(round(100 * score / (P01 + P02), 1))


def test_student_and_chapter_names():
    assert [student_of(s) for s in ("alice/01", "alice/ch02", "01/alice", "alice/02_maximum_likelihood",
                                    "Chapter-03/section_a/alice", "section_a/alice", "alice", "01")] == [
        "alice", "alice", "alice", "alice", "section_a/alice", "section_a/alice", "alice", "01"]
    assert [path_chapter(s) for s in ("alice/01", "ch03/alice", "alice", "alice/hw1", "alice/99")] == [
        "01", "03", None, None, None]  # 99 names no chapter of the book


def test_course_gradebook(whole):
    out, _ = whole
    assert (ALICE_01, ALICE_02, BOB_01, CAROL_02) == (4, 4, 1, 2)
    assert rows(out / "grades.csv") == [
        ["student", "chapter 01", "chapter 02", "total", "percent", "status", "reason"],
        ["(points possible)", str(P01), str(P02), str(P01 + P02), "100", "", ""],
        ["alice", "4.0", "4.0", "8.0", percent(8), MISSING,
         f"chapter 01: {MISSING} (see grades-01.csv); chapter 02: {MISSING} (see grades-02.csv)"],
        ["bob", "1.0", "", "1.0", percent(1), MISSING,
         "chapter 01 handed in 2 times (bob/01.ipynb, bob/ch01.ipynb): the best, bob/01.ipynb, counts; "
         f"chapter 01: {MISSING} (see grades-01.csv); no submission for chapter 02"],
        ["carol", "", "2.0", "2.0", percent(2), MISSING,
         f"no submission for chapter 01; chapter 02: {MISSING} (see grades-02.csv)"],
        ["dave", "", "0.0", "0.0", "0.0", "empty",
         "no submission for chapter 01; chapter 02: empty (see grades-02.csv)"],
        ["erin", "0.0", "", "0.0", "0.0", "not a notebook",
         "chapter 01: not a notebook (see grades-01.csv); no submission for chapter 02"],
    ]


def test_chapter_tables(whole):
    out, _ = whole
    table = rows(out / "grades-01.csv")
    ids = [e.id for e in of_chapter("01")]
    assert table[0] == ["student", "file", *ids, "total", "percent", "status", "reason"]
    assert table[1] == ["(points possible)", "", *[str(get(i).points) for i in ids], str(P01), "100", "", ""]
    assert [(r[0], r[1], r[-4], r[-2]) for r in table[2:]] == [
        ("alice", "alice/01.ipynb", "4.0", MISSING), ("bob", "bob/01.ipynb", "1.0", MISSING),
        ("bob", "bob/ch01.ipynb", "0.0", "malformed notebook"), ("erin", "erin.ipynb", "0.0", "not a notebook")]
    alice = dict(zip(ids, table[2][2:2 + len(ids)], strict=True))
    assert alice["01.diagnose_fit"] == "1.0" and alice["01.unbiased_variance"] == "3.0"
    assert {alice[i] for i in ids if i not in ("01.diagnose_fit", "01.unbiased_variance")} == {"0.0"}
    bob = dict(zip(ids, table[3][2:2 + len(ids)], strict=True))
    assert bob["01.unbiased_variance"] == "0.0"  # the stub
    assert [(r[1], r[-4], r[-2]) for r in rows(out / "grades-02.csv")[2:]] == [
        ("alice/02.ipynb", "4.0", MISSING), ("carol.ipynb", "2.0", MISSING),
        ("dave/02_maximum_likelihood.ipynb", "0.0", "empty")]


def test_results_json_and_feedback(whole):
    out, _ = whole
    results = json.loads((out / "results.json").read_text())
    assert results["shard"] is None and results["settings"]["chapter"] is None
    assert {c: v["points_possible"] for c, v in results["chapters"].items()} == {"01": P01, "02": P02}
    submissions = {s["file"]: s for s in results["submissions"]}
    assert submissions["carol.ipynb"]["chapter"] == "02"  # from its check() calls
    assert submissions["erin.ipynb"]["chapter"] == ""  # the record says it is unknown; the tables list it under 01
    assert [s["student"] for s in results["students"]] == ["alice", "bob", "carol", "dave", "erin"]
    assert (out / "feedback" / "alice" / "02.md").read_text().startswith("# Feedback for alice/02: chapter 02")
    assert "01.unbiased_variance" in (out / "feedback" / "bob" / "01.md").read_text()


def test_lms_exports_with_a_roster(whole):
    out, log = whole
    assert rows(out / "canvas.csv") == [
        ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Chapter 01 exercises", "Chapter 02 exercises"],
        ["Points Possible", "", "", "", "", str(P01), str(P02)],
        ["Liddell, Alice", "101", "S-1", "aliddell", "A", "4.0", "4.0"],
        ["Builder, Bob", "102", "S-2", "bbuilder", "B", "1.0", ""],
        ["Danvers, Carol", "103", "S-3", "cdanvers", "A", "", "2.0"],
    ]
    assert rows(out / "moodle.csv") == [
        ["Email address", "Username", "ID number", "Chapter 01 exercises", "Chapter 02 exercises"],
        ["alice@uni.example", "aliddell", "1001", "4.0", "4.0"],
        ["bob@uni.example", "bbuilder", "1002", "1.0", ""],
        ["carol@uni.example", "cdanvers", "1003", "", "2.0"],
    ]
    assert "not in the roster, left out of canvas.csv and moodle.csv (2): dave, erin" in log
    assert "in the roster without a submission (1): zoe" in log


def test_shards_are_a_partition_whatever_the_listing_order(course):
    paths = find_submissions(course)
    slices = [Shard(i, 3).select(paths, course) for i in (1, 2, 3)]
    shuffled = paths[:]
    random.Random(0).shuffle(shuffled)
    assert [Shard(i, 3).select(shuffled, course) for i in (1, 2, 3)] == slices
    names = [p.relative_to(course).as_posix() for s in slices for p in s]
    assert sorted(names) == sorted(COURSE) and len(names) == len(set(names))
    assert [len(s) for s in slices] == [3, 2, 2]
    assert [p.relative_to(course).as_posix() for p in slices[1]] == ["alice/02.ipynb", "carol.ipynb"]  # 2nd, 5th


def test_shards_merged_equal_one_run(whole, merged):
    out, _ = whole
    merged_out, shards = merged
    for name in ("grades.csv", "grades-01.csv", "grades-02.csv", "canvas.csv", "moodle.csv"):
        assert (merged_out / name).read_bytes() == (out / name).read_bytes(), name
    one = without_timings(json.loads((out / "results.json").read_text()))
    assert without_timings(json.loads((merged_out / "results.json").read_text())) == one
    assert files_under(merged_out / "feedback") == files_under(out / "feedback")
    assert sorted(files_under(merged_out / "feedback")) == sorted(
        f.replace(".ipynb", ".md") for f in COURSE)
    # each shard's own gradebook holds only its slice
    assert [len(json.loads((s / "results.json").read_text())["submissions"]) for s in shards] == [3, 2, 2]


def test_merge_from_the_command_line(merged, tmp_path):
    _, shards = merged
    run = [sys.executable, "-m", "helpers.exercises", "grade", "merge", *map(str, shards), "--out", str(tmp_path)]
    result = subprocess.run(run, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "7 submission(s) of 5 student(s), chapter(s) 01, 02" in result.stdout
    assert (tmp_path / "grades.csv").read_bytes() == (merged[0] / "grades.csv").read_bytes()
    result = subprocess.run(run[:-3] + ["--out", str(tmp_path)], capture_output=True, text=True)  # shard 3 left out
    assert result.returncode == 2 and result.stderr.strip().splitlines() == [
        "grade merge: shard 3/3 missing: grade it (`grade SUBMISSIONS --out OUT_I --shard I/N`) and pass its "
        "folder too"]


# -- bad shards: each error says what to do. These classes run no kernel: every file is broken or of another
# chapter, so grading them takes milliseconds. ------------------------------------------------------------------

BROKEN = {"a.ipynb": "", "b.ipynb": "not json", "c/02.ipynb": notebook(chapter="02"), "d.ipynb": "{"}


@pytest.fixture
def broken(tmp_path) -> Path:
    return write_class(tmp_path / "broken", BROKEN)


def shard_of(folder: Path, out: Path, index: int, count: int, **settings) -> Path:
    grade(folder, out, jobs=1, settings=Settings(chapter="01", **settings), log=lambda line: None,
          shard=Shard(index, count))
    return out


def test_only_one_chapter_with_chapter_option(broken, tmp_path):
    """--chapter 01: the chapter-02 notebook is listed with status "wrong chapter", nothing of it runs."""
    book = grade(broken, tmp_path / "out", jobs=1, settings=Settings(chapter="01"), log=lambda line: None)
    record = next(r for r in book.records if r.file == "c/02.ipynb")
    assert record.status.value == "wrong chapter" and record.total == 0 and record.timing == {}
    assert "chapter 02; only chapter 01 is graded (--chapter 01)" in record.reason
    assert rows(tmp_path / "out" / "grades.csv")[0][:2] == ["student", "chapter 01"]
    assert len(rows(tmp_path / "out" / "grades-01.csv")) == 2 + len(BROKEN)


def test_merge_refuses_what_it_cannot_merge(broken, tmp_path):
    s1, s2, s3 = (shard_of(broken, tmp_path / f"s{i}", i, 3) for i in (1, 2, 3))

    def refused(folders: list[Path], match: str, out: Path | None = None) -> None:
        with pytest.raises(GradingError, match=match):
            merge(folders, out or tmp_path / "merged", log=lambda line: None)

    refused([s1, s2], r"shard 3/3 missing: grade it")
    refused([s1], r"shards 2/3, 3/3 missing: grade them")
    refused([s1, s1, s2, s3], r"shard 1/3 is given more than once")
    refused([s1, s2, s3], r"must not overwrite a shard", out=s2)
    refused([s1, shard_of(broken, tmp_path / "t2", 2, 2), s3], r"is shard 1/3 but .* is shard 2/2: merge the shards "
                                                               r"of one split")
    refused([s1, shard_of(broken, tmp_path / "u2", 2, 3, cell_timeout=5), s3],
            r"different settings \(cell_timeout 60.0 and 5\): grade every shard with the same options")
    other = shard_of(broken, tmp_path / "v2", 2, 3)
    (other / "results.json").write_text((other / "results.json").read_text().replace("\"chapter\": \"01\"",
                                                                                    "\"chapter\": \"02\"", 1))
    refused([s1, other, s3], r"different settings \(chapter '01' and '02'\)")
    grown = write_class(tmp_path / "grown", {**BROKEN, "e.ipynb": ""})
    refused([s1, shard_of(grown, tmp_path / "w2", 2, 3), s3], r"cut from different submissions")
    older = tmp_path / "older"
    shutil.copytree(s2, older)
    data = json.loads((older / "results.json").read_text())
    (older / "results.json").write_text(json.dumps({**data, "grader": "0123456789abcdef"}))
    refused([s1, older, s3], r"different versions of the grader .* grade every shard with the same version")
    (older / "results.json").write_text(json.dumps({**data, "submissions": data["submissions"][:-1]}))
    refused([s1, older, s3], r"is incomplete: it holds 0 of its 1 submissions; grade shard 2/3 again")
    (older / "results.json").write_text("{\"shard\": {\"index\": 2}}")
    refused([s1, older, s3], r"is not the grader's results \(KeyError")
    refused([s1, tmp_path / "nowhere", s3], r"is not a folder")
    (tmp_path / "empty").mkdir()
    refused([s1, tmp_path / "empty", s3], r"is not the grader's output \(it has no results.json\)")
    grade(broken, tmp_path / "unsharded", jobs=1, settings=Settings(chapter="01"), log=lambda line: None)
    refused([s1, tmp_path / "unsharded", s3], r"graded without --shard, not a slice")
    merge([s3, s1, s2], tmp_path / "merged", log=lambda line: None)  # any order
    for name in ("grades.csv", "grades-01.csv", "canvas.csv"):
        assert (tmp_path / "merged" / name).read_bytes() == (tmp_path / "unsharded" / name).read_bytes()


def test_shard_option_is_checked():
    for text in ("0/3", "4/3", "3", "a/b", "1/0"):
        with pytest.raises(ShardError, match="write I/N with 1 <= I <= N"):
            Shard.parse(text)
    assert Shard.parse("2/8") == Shard(2, 8) and str(Shard(2, 8)) == "2/8"


def test_lms_exports_without_a_roster(broken, tmp_path):
    """Without a roster the student names are the logins (Canvas's SIS Login ID, Moodle's username)."""
    grade(broken, tmp_path / "out", jobs=1, settings=Settings(chapter="01"), log=lambda line: None)
    canvas = rows(tmp_path / "out" / "canvas.csv")
    assert canvas[2:] == [[s, "", "", s, "", "0.0"] for s in ("a", "b", "c", "d")]
    assert rows(tmp_path / "out" / "moodle.csv")[1:] == [["", s, "", "0.0"] for s in ("a", "b", "c", "d")]


@pytest.mark.parametrize("text, match", [
    ("name,email\nAlice,a@x\n", "has no 'student' column"),
    ("student,e-mail\nalice,a@x\n", "unknown column\\(s\\) 'e-mail'"),
    ("student,email\nalice,a@x\nalice,b@x\n", "'alice' is in the roster .* twice \\(line 3\\)"),
    ("student,name\nalice,Alice\n", "line 2 of the roster .* \\(alice\\) has no identifier"),
    ("student,email\n,a@x\n", "line 2 of the roster .* has no student name"),
    ("", "is empty"),
])
def test_bad_rosters_are_refused(tmp_path, text, match):
    path = tmp_path / "roster.csv"
    path.write_text(text)
    with pytest.raises(RosterError, match=match):
        read_roster(path)


def test_roster_from_a_spreadsheet(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_bytes("\ufeffStudent, Email \r\n alice ,a@x\r\n\r\n".encode())  # BOM, CRLF, spaces, blank line
    assert {k: v.email for k, v in read_roster(path).items()} == {"alice": "a@x"}
