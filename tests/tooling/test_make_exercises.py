"""ci/make_exercises.py: solutions -> exercises round trip, and the --check drift detector."""
import importlib.util
import json
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

ROOT = Path(__file__).resolve().parents[2]


_spec = importlib.util.spec_from_file_location("make_exercises", ROOT / "ci" / "make_exercises.py")


mx = importlib.util.module_from_spec(_spec)


_spec.loader.exec_module(mx)


BADGE = ("[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
         "(https://colab.research.google.com/github/noether-lite/noether-lite/blob/main/solutions/01_demo.ipynb)")


def _solution_nb():
    code = new_code_cell(
        'def double(x):\n    """Twice x."""\n    ### BEGIN SOLUTION\n    y = 2 * x\n    return y\n    ### END SOLUTION\n\n\n'
        'def half(x):\n    ### BEGIN SOLUTION\n    return x / 2\n    ### END SOLUTION',
        execution_count=3, outputs=[new_output("stream", name="stdout", text="hi\n")])
    code.metadata["tags"] = ["exercise"]
    code.metadata["execution"] = {"iopub.status.busy": "2024-01-01"}
    nb = new_notebook(cells=[new_markdown_cell(BADGE), code, new_code_cell("print(double(2))", execution_count=4)])
    for i, c in enumerate(nb.cells):
        c["id"] = f"c{i}"
    return nb


@pytest.fixture
def dirs(tmp_path):
    sol, ex = tmp_path / "solutions", tmp_path / "exercises"
    sol.mkdir()
    nbformat.write(_solution_nb(), sol / "01_demo.ipynb")
    return sol, ex


def test_round_trip_stubs_outputs_and_badge(dirs):
    sol, ex = dirs
    assert mx.main(["--solutions", str(sol), "--exercises", str(ex)]) == 0
    nb = nbformat.read(ex / "01_demo.ipynb", as_version=4)
    assert "/blob/main/exercises/01_demo.ipynb" in nb.cells[0].source and "solutions/" not in nb.cells[0].source
    src = nb.cells[1].source
    assert "2 * x" not in src and "BEGIN SOLUTION" not in src and '"""Twice x."""' in src
    for c in nb.cells:
        if c.cell_type == "code":
            assert c.outputs == [] and c.execution_count is None and "execution" not in c.metadata
    ns = {}
    exec(src, ns)  # still valid Python: each def is a stub raising with the exercise's name
    for name in ("double", "half"):
        with pytest.raises(NotImplementedError, match=f"Exercise: {name}"):
            ns[name](1)
    assert nb.cells[1].metadata["tags"] == ["exercise"]  # tags (used by the checks) survive


def test_output_is_deterministic(dirs):
    sol, ex = dirs
    first = mx.generate(sol)
    assert mx.generate(sol) == first
    json.loads(first["01_demo.ipynb"])  # valid JSON


def test_check_fails_on_drift_and_regeneration_fixes_it(dirs, capsys):
    sol, ex = dirs
    args = ["--solutions", str(sol), "--exercises", str(ex)]
    assert mx.main(args + ["--check"]) == 1  # nothing generated yet: missing
    assert "missing" in capsys.readouterr().err
    assert mx.main(args) == 0
    assert mx.main(args + ["--check"]) == 0
    path = ex / "01_demo.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[1].source = nb.cells[1].source.replace('raise NotImplementedError("Exercise: half")', "return x / 2")
    nbformat.write(nb, path)  # someone edited the generated exercise by hand
    assert mx.main(args + ["--check"]) == 1
    err = capsys.readouterr().err
    assert "differs: exercises/01_demo.ipynb" in err and "return x / 2" in err
    assert mx.main(args) == 0
    assert mx.main(args + ["--check"]) == 0
    (ex / "99_stale.ipynb").write_text(path.read_text())
    assert mx.main(args + ["--check"]) == 1
    assert "extra" in capsys.readouterr().err
    mx.main(args)
    assert not (ex / "99_stale.ipynb").exists()


def test_solution_changes_are_detected(dirs):
    sol, ex = dirs
    mx.write(sol, ex)
    nb = nbformat.read(sol / "01_demo.ipynb", as_version=4)
    nb.cells[1].source = nb.cells[1].source.replace("def half(x):", "def half(x, y=0):")
    nbformat.write(nb, sol / "01_demo.ipynb")
    assert mx.check(sol, ex)


def test_unbalanced_markers_are_an_error():
    with pytest.raises(mx.SolutionFormatError, match="without"):
        mx.stub_source("def f():\n    ### BEGIN SOLUTION\n    return 1")
    with pytest.raises(mx.SolutionFormatError, match="without"):
        mx.stub_source("def f():\n    return 1\n    ### END SOLUTION")
    with pytest.raises(mx.SolutionFormatError, match="nested"):
        mx.stub_source("def f():\n    ### BEGIN SOLUTION\n    ### BEGIN SOLUTION\n    ### END SOLUTION")
    assert mx.stub_source("x = 1") == "x = 1"


def test_repository_exercises_are_up_to_date():
    assert mx.check(ROOT / "solutions", ROOT / "exercises") == []
