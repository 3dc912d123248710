"""The student edition is exactly what `make release` writes; notebooks are stored clean."""

from pathlib import Path

import nbformat
import pytest

from helpers.exercises.__main__ import main
from helpers.exercises.catalogue import get
from helpers.exercises.release import (
    CODE_BEGIN,
    MD_BEGIN,
    PROGRESS_CELL,
    ReleaseError,
    grade_id,
    release,
    setup_source,
    stub_code,
    stub_markdown,
)

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "_config.yml"
NOTEBOOKS = sorted((ROOT / "solutions").glob("*.ipynb")) + sorted((ROOT / "chapters").glob("*.ipynb"))

SOLVED = '''def f(x):
    """doc"""
    ### BEGIN SOLUTION
    y = x + 1
    return y
    ### END SOLUTION'''
CHECK = 'check("01.expectation", f)'
ANSWER_TAGS = {"grade": False, "grade_id": "01-expectation", "locked": False, "schema_version": 3, "solution": True}
CHECK_TAGS = {"grade": True, "grade_id": "01-expectation-tests", "locked": True,
              "points": get("01.expectation").points, "schema_version": 3, "solution": False}


def chapter(*sources: str) -> nbformat.NotebookNode:
    """A source notebook: a setup cell, the given cells (markdown when they start with '#'), progress()."""
    nb = nbformat.v4.new_notebook()
    cells = ["old setup", *sources, PROGRESS_CELL]
    nb.cells = [nbformat.v4.new_markdown_cell(c) if c.startswith("# ") else nbformat.v4.new_code_cell(c)
                for c in cells]
    return nb


def write(folder: Path, name: str, nb: nbformat.NotebookNode) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / name)
    return folder / name


def test_stub_replaces_block_at_its_indentation():
    assert stub_code(SOLVED, "cell") == '''def f(x):
    """doc"""
    # YOUR CODE HERE
    raise NotImplementedError()'''


def test_nested_blocks_keep_their_own_indentation():
    source = "class A:\n    def g(self):\n        ### BEGIN SOLUTION\n        return 1\n        ### END SOLUTION\n"
    assert "        raise NotImplementedError()" in stub_code(source, "cell")


@pytest.mark.parametrize(
    "source,message",
    [
        ("### BEGIN SOLUTION\nx = 1\n### END SOLUTION", "inside a function"),
        ("def f():\n    ### BEGIN SOLUTION\n    return 1", "never closed"),
        ("def f():\n    return 1\n    ### END SOLUTION", "without"),
        ("def f():\n    ### BEGIN SOLUTION\n    ### BEGIN SOLUTION\n", "second"),
        ("def f():\n    ### BEGIN SOLUTION  (x)\n    return 1\n    ### END SOLUTION", "alone on its line"),
        ("def f():\n    return 'END SOLUTION'", "alone on its line"),
    ],
)
def test_malformed_blocks_are_refused_with_the_cell_named(source, message):
    with pytest.raises(ReleaseError, match=message) as error:
        stub_code(source, "01_x.ipynb, cell 7")
    assert "cell 7" in str(error.value)


def test_markdown_answers():
    text = "Explain.\n\n<!-- BEGIN SOLUTION -->\nBecause.\n<!-- END SOLUTION -->\n"
    assert stub_markdown(text, "cell") == "Explain.\n\nYOUR ANSWER HERE\n"
    with pytest.raises(ReleaseError, match="unbalanced"):
        stub_markdown("<!-- BEGIN SOLUTION -->", "cell")
    with pytest.raises(ReleaseError, match="nbgrader would read them"):
        stub_markdown("Write BEGIN SOLUTION here.", "cell")


def test_release_round_trip(tmp_path):
    solutions, chapters = tmp_path / "solutions", tmp_path / "chapters"
    nb = chapter(SOLVED, CHECK)
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", text="hi")]
    nb.cells[1].execution_count = 3
    write(solutions, "01_demo.ipynb", nb)
    chapters.mkdir()
    (chapters / "09_stale.ipynb").write_text("{}")

    changed = release(solutions, chapters, CONFIG)
    assert str(chapters / "09_stale.ipynb") in changed and not (chapters / "09_stale.ipynb").exists()
    student = nbformat.read(chapters / "01_demo.ipynb", as_version=4)
    solved = nbformat.read(solutions / "01_demo.ipynb", as_version=4)
    assert student.cells[0].source == solved.cells[0].source == setup_source(CONFIG)
    assert "raise NotImplementedError()" in student.cells[1].source and CODE_BEGIN in solved.cells[1].source
    assert solved.cells[1].outputs == [] and solved.cells[1].execution_count is None
    assert student.cells[2].source == solved.cells[2].source == CHECK
    assert student.cells[-1].source == PROGRESS_CELL
    assert release(solutions, chapters, CONFIG, check_only=True) == []
    (solutions / "01_demo.ipynb").write_text((solutions / "01_demo.ipynb").read_text().replace("f)", "f)  # edited"))
    assert release(solutions, chapters, CONFIG, check_only=True) == [str(chapters / "01_demo.ipynb")]


def test_release_tags_answer_and_check_cells_for_nbgrader_in_both_editions(tmp_path):
    solutions, chapters = tmp_path / "solutions", tmp_path / "chapters"
    nb = chapter("# Exercise: write f.", SOLVED, "# Markdown between answer and check is fine.", CHECK,
                 "x = 1", "# Explain.\n\n<!-- BEGIN SOLUTION -->\nBecause.\n<!-- END SOLUTION -->")
    nb.cells[5].metadata["nbgrader"] = {"grade": True, "grade_id": "stale", "points": 9}  # removed by release
    nb.cells[4].metadata["nbgrader"] = {"grade_id": "old", "points": 99}  # replaced by release
    write(solutions, "01_demo.ipynb", nb)
    release(solutions, chapters, CONFIG)
    for edition in (solutions, chapters):
        cells = nbformat.read(edition / "01_demo.ipynb", as_version=4).cells
        tags = [cell.metadata.get("nbgrader") for cell in cells]
        assert tags[2] == ANSWER_TAGS and tags[4] == CHECK_TAGS, edition
        assert tags[6] == {"grade": True, "grade_id": f"answer-{cells[6].id}", "locked": False, "points": 0,
                           "schema_version": 3, "solution": True}
        assert [i for i, t in enumerate(tags) if t] == [2, 4, 6], "no other cell is tagged"


def test_nbgrader_ids_have_no_dots():
    assert grade_id("01.posterior") == "01-posterior"
    assert grade_id("03.skip_backprop") == "03-skip_backprop"
    with pytest.raises(ReleaseError, match="cannot be an nbgrader id"):
        grade_id("01.a-b")


@pytest.mark.parametrize(
    "cells,message,cell",
    [
        ((SOLVED, "x = 1", CHECK), "must be its check.*cell 3 is not", 2),
        ((SOLVED,), "must be its check.*cell 3 is not", 2),  # the next code cell is progress()
        ((SOLVED + "\n\n\n" + CHECK,), "must be alone in its cell", 2),  # the old one-cell layout
        ((SOLVED, "print(1)\n" + CHECK), "must be alone in its cell", 3),
        ((SOLVED, "for g in [f]:\n    " + CHECK), "must be alone in its cell", 3),
        ((SOLVED, 'check("01.expectation", f, strict=True)'), "must be alone in its cell", 3),
        (("x = 1", CHECK), "does not follow an answer cell", 3),
        ((SOLVED, CHECK, SOLVED, CHECK), "checked twice", 5),
        ((SOLVED, 'check("01.no_such_exercise", f)'), "no exercise", 3),
    ],
)
def test_release_refuses_a_broken_exercise_layout(tmp_path, cells, message, cell):
    write(tmp_path / "solutions", "01_demo.ipynb", chapter(*cells))
    with pytest.raises(ReleaseError, match=message) as error:
        release(tmp_path / "solutions", tmp_path / "chapters", CONFIG)
    assert f"01_demo.ipynb, cell {cell}" in str(error.value)
    assert not (tmp_path / "chapters").exists(), "nothing is written"


def test_release_refuses_a_chapter_that_does_not_end_with_progress(tmp_path):
    nb = chapter(SOLVED, CHECK)
    nb.cells.append(nbformat.v4.new_markdown_cell("## Further reading"))
    write(tmp_path / "solutions", "01_demo.ipynb", nb)
    with pytest.raises(ReleaseError, match=r"01_demo.ipynb, cell 5: .*`progress\(\)`"):
        release(tmp_path / "solutions", tmp_path / "chapters", CONFIG)
    nb.cells[-1] = nbformat.v4.new_code_cell("progress('01')")
    write(tmp_path / "solutions", "01_demo.ipynb", nb)
    with pytest.raises(ReleaseError, match="progress"):
        release(tmp_path / "solutions", tmp_path / "chapters", CONFIG)


def test_release_is_deterministic(tmp_path):
    """Same sources, same bytes: no dates, no random cell ids, no key order that varies."""
    source = chapter("# Title", SOLVED, CHECK)
    source.cells.pop(0)  # release inserts the setup cell before the title
    for run in ("a", "b"):
        write(tmp_path / run / "solutions", "01_demo.ipynb", source)
        release(tmp_path / run / "solutions", tmp_path / run / "chapters", CONFIG)
    for edition in ("solutions", "chapters"):
        first = (tmp_path / "a" / edition / "01_demo.ipynb").read_bytes()
        assert first == (tmp_path / "b" / edition / "01_demo.ipynb").read_bytes()
    again = release(tmp_path / "a" / "solutions", tmp_path / "a" / "chapters", CONFIG)
    assert again == [], "a second run changes nothing"


def test_release_only_some_chapters(tmp_path):
    solutions, chapters = tmp_path / "solutions", tmp_path / "chapters"
    for name in ("01_a.ipynb", "02_b.ipynb"):
        write(solutions, name, chapter(SOLVED, CHECK))
    changed = release(solutions, chapters, CONFIG, only=["02"])
    assert sorted(changed) == [str(chapters / "02_b.ipynb"), str(solutions / "02_b.ipynb")]
    assert not (chapters / "01_a.ipynb").exists()
    assert nbformat.read(chapters / "02_b.ipynb", as_version=4).metadata["helpers"] == {"chapter": "02"}


def test_release_refuses_an_unreadable_source(tmp_path):
    (tmp_path / "01_bad.ipynb").write_text("not json")
    with pytest.raises(ReleaseError, match="not a readable notebook"):
        release(tmp_path, tmp_path / "out", CONFIG)
    assert main(["release", "--solutions", str(tmp_path), "--chapters", str(tmp_path / "o"),
                 "--config", str(CONFIG)]) == 2


def test_setup_cell_installs_from_the_configured_repository():
    source = setup_source(CONFIG)
    assert "git+https://github.com/dl-book/interactive-deep-learning@main" in source
    assert '"google.colab" in sys.modules' in source
    assert "from helpers.exercises import check, hint, progress" in source
    compile(source, "setup", "exec")


# ---- the committed notebooks --------------------------------------------------------------------


def test_chapters_are_exactly_what_release_writes(capsys):
    assert NOTEBOOKS, "no notebooks found"
    assert main(["release", "--check", "--solutions", str(ROOT / "solutions"), "--chapters",
                 str(ROOT / "chapters"), "--config", str(CONFIG)]) == 0, capsys.readouterr().err


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_notebooks_are_stored_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{path.name}: strip outputs"


@pytest.mark.parametrize("path", sorted((ROOT / "chapters").glob("*.ipynb")), ids=lambda p: p.name)
def test_student_edition_has_no_solutions(path):
    text = path.read_text()
    assert CODE_BEGIN not in text and MD_BEGIN not in text


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_exercise_is_an_answer_cell_and_a_check_cell_and_the_chapter_ends_with_progress(path):
    cells = nbformat.read(path, as_version=4).cells
    assert cells[-1].cell_type == "code" and cells[-1].source == PROGRESS_CELL
    checks = [(i, c) for i, c in enumerate(cells)
              if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")]
    assert checks, "no exercise"
    for index, cell in checks:
        exercise_id = cell.source.split('"')[1]
        answer = cells[index - 1]
        assert cell.source.startswith("check(") and "\n" not in cell.source
        assert answer.metadata["nbgrader"] == {**ANSWER_TAGS, "grade_id": grade_id(exercise_id)}
        assert cell.metadata["nbgrader"]["points"] == get(exercise_id).points
