"""Command line: ``python -m helpers.exercises release [--check] | list | grade DIR --out OUT [--shard I/N]
| grade merge SHARD_OUT... --out OUT``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.exercises", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    rel = commands.add_parser("release", help="write chapters/ (student edition) from solutions/")
    rel.add_argument("--solutions", type=Path, default=Path("solutions"))
    rel.add_argument("--chapters", type=Path, default=Path("chapters"))
    rel.add_argument("--config", type=Path, default=Path("_config.yml"))
    rel.add_argument("--check", action="store_true", help="write nothing; exit 1 if anything is out of date")
    rel.add_argument("--only", nargs="+", metavar="NN", help="release only these chapters, e.g. --only 02 03")
    commands.add_parser("list", help="list the exercise catalogue")
    gr = commands.add_parser("grade", help="grade a folder of submitted notebooks (or: grade merge SHARD_OUT...)",
                             epilog="grade merge SHARD_OUT... --out OUT [--roster FILE] combines the output folders "
                                    "of grade --shard 1/N ... N/N into one gradebook ('merge' is a keyword here: "
                                    "write ./merge for a submissions folder of that name)")
    gr.add_argument("submissions", help="folder of submitted notebooks (subfolders allowed)")
    gr.add_argument("--out", default="results", help="output folder (default: results)")
    gr.add_argument("-j", "--jobs", type=int, default=None, help="submissions graded in parallel (default: cores)")
    gr.add_argument("--force", action="store_true", help="grade again even if already graded")
    gr.add_argument("--chapter", default=None,
                    help="grade only this chapter, e.g. 01; other chapters get status 'wrong chapter' "
                         "(default: each notebook on its own chapter)")
    gr.add_argument("--shard", default=None, metavar="I/N",
                    help="grade only slice I of N of the submissions (sorted paths, every N-th), then grade merge")
    gr.add_argument("--roster", default=None, metavar="FILE",
                    help="CSV mapping student names to LMS ids for canvas.csv and moodle.csv (columns: student, "
                         "name, canvas_id, sis_user_id, sis_login_id, section, email, username, idnumber)")
    gr.add_argument("--cell-timeout", type=float, default=60.0, help="seconds per cell (default: 60)")
    gr.add_argument("--timeout", type=float, default=600.0, help="seconds per notebook (default: 600)")
    gr.add_argument("--probe-timeout", type=float, default=60.0, help="seconds to grade one exercise (default: 60)")
    gr.add_argument("--memory-mb", type=int, default=4096, help="memory limit of a kernel in MB (default: 4096)")
    argv = sys.argv[1:] if argv is None else argv
    if argv[:2] == ["grade", "merge"]:
        return _merge(argv[2:])
    args = parser.parse_args(argv)

    if args.command == "list":
        from helpers.exercises import catalogue

        for exercise in catalogue().values():
            print(f"{exercise.id:32} {exercise.points} pt  {exercise.kind.description:28} {exercise.title}")
        return 0

    if args.command == "grade":
        from helpers.exercises.grading import main as grade_main

        return grade_main(args)

    from helpers.exercises.release import ReleaseError, release

    try:
        changed = release(args.solutions, args.chapters, args.config, check_only=args.check, only=args.only)
    except ReleaseError as error:
        print(f"release: {error}", file=sys.stderr)
        return 2
    if args.check:
        if changed:
            print("Out of date (run `make release`):\n  " + "\n  ".join(changed), file=sys.stderr)
            return 1
        print("chapters/ and solutions/ are up to date.")
        return 0
    print("\n".join(f"wrote {path}" for path in changed) or "Nothing to do: everything is up to date.")
    return 0


def _merge(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.exercises grade merge",
                                     description="Combine the output folders of grade --shard 1/N ... N/N into one "
                                                 "gradebook, as one unsharded run writes it.")
    parser.add_argument("shards", nargs="+", metavar="SHARD_OUT", help="the --out folders of the shard runs")
    parser.add_argument("--out", required=True, help="the merged gradebook's folder (not one of the shards)")
    parser.add_argument("--roster", default=None, metavar="FILE", help="CSV mapping student names to LMS ids")
    from helpers.exercises.grading import merge_main

    return merge_main(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
