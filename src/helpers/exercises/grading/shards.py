"""A class graded in slices, on as many machines as a scheduler gives: ``grade DIR --out OUT_I --shard I/N``
on each, then ``grade merge OUT_1 ... OUT_N --out OUT``.

The slice. The submissions are sorted by their path under DIR as plain strings (``alice/01.ipynb``), so
every machine and file system agrees on the order whatever order it lists files in; shard I of N takes the
submissions at positions I, I + N, I + 2N, ... (from 1). The N shards are disjoint, together they hold every
submission, and their sizes differ by at most one.

Each shard writes an ordinary output folder (its own partial gradebook) whose ``results.json`` also records
the slice: I, N, a fingerprint of the whole class's listing (every path), and the shard's files.
``read_shards`` checks that the folders are the N distinct shards of one split of one listing, graded by one
grader with one set of settings, each complete; the caller then builds the gradebook of all their records,
which is exactly what one run over the whole class writes.
"""

from __future__ import annotations

import collections
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from helpers.exercises.grading.records import SubmissionRecord

RESULTS = "results.json"
HOW = "grade SUBMISSIONS --out OUT_I --shard I/N"


class ShardError(ValueError):
    """Shards that cannot be merged, or a --shard that makes no sense: the message says what to do."""


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` (from 1) of ``count``."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        """``Shard(2, 8)`` for ``"2/8"``."""
        try:
            index, count = (int(part) for part in text.split("/"))
        except ValueError:
            index = count = 0
        if not 1 <= index <= count:
            raise ShardError(f"--shard {text!r}: write I/N with 1 <= I <= N, e.g. --shard 2/8 for the second of 8")
        return cls(index, count)

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def select(self, paths: list[Path], folder: Path) -> list[Path]:
        """This shard's submissions among all of the class's ``paths``."""
        return sorted(paths, key=lambda p: relative(p, folder))[self.index - 1::self.count]

    def describe(self, paths: list[Path], folder: Path) -> dict[str, Any]:
        """What ``results.json`` records of the slice, for ``read_shards`` to check."""
        return {"index": self.index, "count": self.count, "listing": listing_fingerprint(paths, folder),
                "class_size": len(paths), "files": [relative(p, folder) for p in self.select(paths, folder)]}


def relative(path: Path, folder: Path) -> str:
    return path.relative_to(folder).as_posix()


def listing_fingerprint(paths: list[Path], folder: Path) -> str:
    """A digest of the class's listing (every path under the submissions folder, sorted)."""
    names = sorted(relative(p, folder) for p in paths)
    return hashlib.sha256("\n".join(names).encode()).hexdigest()[:16]


@dataclass
class ShardOutput:
    """One shard's output folder, read back."""

    folder: Path
    shard: Shard
    listing: str
    files: list[str]
    grader: str
    settings: dict[str, Any]
    records: list[SubmissionRecord]


def read_shards(folders: list[Path]) -> list[ShardOutput]:
    """The shards in ``folders``, checked to be the complete set of one split: a ShardError otherwise."""
    if not folders:
        raise ShardError(f"no shard folders to merge: pass the --out folders of the `{HOW}` runs")
    shards = [read_shard(folder) for folder in folders]
    for other in shards[1:]:
        _check_same_split(shards[0], other)
    _check_complete(shards)
    return shards


def read_shard(folder: Path) -> ShardOutput:
    """One shard's output, or a ShardError that says why ``folder`` is not one."""
    path = folder / RESULTS
    if not folder.is_dir():
        raise ShardError(f"{folder} is not a folder: pass the --out folders of the `{HOW}` runs")
    if not path.is_file():
        raise ShardError(f"{folder} is not the grader's output (it has no {RESULTS}): pass the --out folders of "
                         f"the `{HOW}` runs")
    try:
        data = json.loads(path.read_text())
        if data["shard"] is None:
            raise ShardError(f"{folder} is a whole class graded without --shard, not a slice: merge only the "
                             f"folders written by `{HOW}`")
        slice_ = data["shard"]
        shard = Shard(int(slice_["index"]), int(slice_["count"]))
        records = [SubmissionRecord.from_json(record) for record in data["submissions"]]
        output = ShardOutput(folder, shard, str(slice_["listing"]), list(slice_["files"]), str(data["grader"]),
                             dict(data["settings"]), records)
    except (OSError, ValueError, KeyError, TypeError) as error:
        if isinstance(error, ShardError):
            raise
        raise ShardError(f"{path} is not the grader's results ({error.__class__.__name__}: {error}): grade that "
                         f"shard again") from None
    if sorted(r.file for r in records) != sorted(output.files):
        raise ShardError(f"{folder} is incomplete: it holds {len(records)} of its {len(output.files)} submissions; "
                         f"grade shard {shard} again")
    return output


def _check_same_split(first: ShardOutput, other: ShardOutput) -> None:
    pair = f"{first.folder} and {other.folder}"
    if first.shard.count != other.shard.count:
        raise ShardError(f"{first.folder} is shard {first.shard} but {other.folder} is shard {other.shard}: merge "
                         f"the shards of one split (the same N)")
    if first.listing != other.listing:
        raise ShardError(f"{pair} were cut from different submissions (another folder, or files added or removed "
                         f"between their runs): grade every shard of the same folder again")
    if first.grader != other.grader:
        raise ShardError(f"{pair} were graded by different versions of the grader or the book (fingerprints "
                         f"{first.grader} and {other.grader}): grade every shard with the same version")
    changed = [f"{key} {first.settings.get(key)!r} and {other.settings.get(key)!r}"
               for key in sorted(set(first.settings) | set(other.settings))
               if first.settings.get(key) != other.settings.get(key)]
    if changed:
        raise ShardError(f"{pair} were graded with different settings ({'; '.join(changed)}): grade every shard "
                         f"with the same options")


def _check_complete(shards: list[ShardOutput]) -> None:
    count = shards[0].shard.count
    seen = collections.defaultdict(list)
    for output in shards:
        seen[output.shard.index].append(str(output.folder))
    for index, folders in sorted(seen.items()):
        if len(folders) > 1:
            raise ShardError(f"shard {index}/{count} is given more than once ({', '.join(folders)}): pass each "
                             f"shard's folder once")
    missing = [f"{index}/{count}" for index in range(1, count + 1) if index not in seen]
    if missing:
        raise ShardError(f"shard{'s' if len(missing) > 1 else ''} {', '.join(missing)} missing: grade "
                         f"{'them' if len(missing) > 1 else 'it'} (`{HOW}`) and pass "
                         f"{'their folders' if len(missing) > 1 else 'its folder'} too")
    owners = collections.defaultdict(list)
    for output in shards:
        for file in output.files:
            owners[file].append(str(output.folder))
    overlap = {file: folders for file, folders in owners.items() if len(folders) > 1}
    if overlap:
        file, folders = min(overlap.items())
        raise ShardError(f"{len(overlap)} submission(s) are in more than one shard ({file} in {', '.join(folders)}): "
                         f"the shards overlap; grade every shard of one split again")
