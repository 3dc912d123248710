"""The student edition is exactly what `make release` writes; notebooks are stored clean."""

from pathlib import Path

import nbformat
import pytest

from helpers.exercises.__main__ import main
from helpers.exercises.release import (
    CODE_BEGIN,
    MD_BEGIN,
    ReleaseError,
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
    ### END SOLUTION


check("01.f", f)'''


def test_stub_replaces_block_at_its_indentation():
    assert stub_code(SOLVED, "cell") == '''def f(x):
    """doc"""
    # YOUR CODE HERE
    raise NotImplementedError()


check("01.f", f)'''


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


def test_release_round_trip(tmp_path):
    solutions, chapters = tmp_path / "solutions", tmp_path / "chapters"
    solutions.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("old setup"), nbformat.v4.new_code_cell(SOLVED)]
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", text="hi")]
    nb.cells[1].execution_count = 3
    nbformat.write(nb, solutions / "01_demo.ipynb")
    (chapters).mkdir()
    (chapters / "09_stale.ipynb").write_text("{}")

    changed = release(solutions, chapters, CONFIG)
    assert str(chapters / "09_stale.ipynb") in changed and not (chapters / "09_stale.ipynb").exists()
    student = nbformat.read(chapters / "01_demo.ipynb", as_version=4)
    solved = nbformat.read(solutions / "01_demo.ipynb", as_version=4)
    assert student.cells[0].source == solved.cells[0].source == setup_source(CONFIG)
    assert "raise NotImplementedError()" in student.cells[1].source and CODE_BEGIN in solved.cells[1].source
    assert solved.cells[1].outputs == [] and solved.cells[1].execution_count is None
    assert release(solutions, chapters, CONFIG, check_only=True) == []
    (solutions / "01_demo.ipynb").write_text((solutions / "01_demo.ipynb").read_text().replace("f)", "f)  # edited"))
    assert release(solutions, chapters, CONFIG, check_only=True) == [str(chapters / "01_demo.ipynb")]


def test_release_only_some_chapters(tmp_path):
    solutions, chapters = tmp_path / "solutions", tmp_path / "chapters"
    solutions.mkdir()
    for name in ("01_a.ipynb", "02_b.ipynb"):
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell("setup"), nbformat.v4.new_code_cell(SOLVED)]
        nbformat.write(nb, solutions / name)
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
