"""ci/chapters.py: a chapter's MyST source and its executed notebook must not drift apart."""
import sys
from pathlib import Path

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "ci"))


chapters = pytest.importorskip("chapters")


SOURCE = """\
---
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---

# A chapter

```{code-cell} ipython3
x = 1 + 1
print(x)
```

Some prose.

```{code-cell} ipython3
print(x * 3)
```
"""


def _executed(tmp_path):
    md = tmp_path / "01_demo.md"
    md.write_text(SOURCE)
    ipynb = chapters.sync(md)
    nb = nbformat.read(ipynb, as_version=4)  # what an execution would add
    for cell, text in zip([c for c in nb.cells if c.cell_type == "code"], ["2\n", "6\n"]):
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
    nbformat.write(nb, ipynb)
    chapters.mark_executed(ipynb)
    return md, ipynb


def test_a_synced_and_executed_pair_is_in_sync(tmp_path):
    md, ipynb = _executed(tmp_path)
    assert chapters.differences(md, ipynb) == []


def test_editing_the_source_without_re_executing_is_drift(tmp_path):
    md, ipynb = _executed(tmp_path)
    md.write_text(SOURCE.replace("x * 3", "x * 4"))
    problems = chapters.differences(md, ipynb)
    assert len(problems) == 1 and "cells differ" in problems[0] and "cell 3" in problems[0]
    chapters.sync(md)  # cells written, outputs not re-made
    problems = chapters.differences(md, ipynb)
    assert len(problems) == 1 and "not re-executed" in problems[0]


def test_editing_the_notebook_by_hand_is_drift(tmp_path):
    md, ipynb = _executed(tmp_path)
    nb = nbformat.read(ipynb, as_version=4)
    nb.cells[2].source = "Other prose."
    nbformat.write(nb, ipynb)
    problems = chapters.differences(md, ipynb)
    assert len(problems) == 1 and "cells differ" in problems[0]


def test_sync_keeps_ids_and_outputs_of_unchanged_cells(tmp_path):
    md, ipynb = _executed(tmp_path)
    before = nbformat.read(ipynb, as_version=4)
    md.write_text(SOURCE.replace("Some prose.", "Other prose."))
    after = nbformat.read(chapters.sync(md), as_version=4)
    assert [c.id for c in before.cells] == [c.id for c in after.cells]
    assert after.cells[1].outputs == before.cells[1].outputs
    assert after.cells[3].outputs == before.cells[3].outputs
    assert after.cells[2].source == "Other prose."


def test_a_missing_notebook_is_reported(tmp_path):
    md = tmp_path / "02_demo.md"
    md.write_text(SOURCE)
    assert "is missing" in chapters.differences(md, md.with_suffix(".ipynb"))[0]


ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("folder", ["book", "solutions"])
def test_no_code_line_is_wider_than_88_characters(folder):
    """The HTML shows 88 characters of code; a wider line wraps or is clipped for the reader."""
    wide = []
    for nb_path in sorted((ROOT / folder).glob("[0-9][0-9]_*.ipynb")):
        for cell in nbformat.read(nb_path, as_version=4).cells:
            if cell.cell_type == "code":
                wide += [f"{nb_path.name}: {line}" for line in cell.source.splitlines() if len(line) > 88]
    assert not wide, "\n".join(wide)
