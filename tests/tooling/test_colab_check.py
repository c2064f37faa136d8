"""ci/colab_check.py: what the Colab-like run swaps in a notebook and what it counts as a failure."""
import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("colab_check", ROOT / "ci" / "colab_check.py")
cc = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cc)


def _nb(*outputs):
    return {"cells": [{"cell_type": "markdown", "source": "x"}] +
            [{"cell_type": "code", "source": "", "outputs": list(o)} for o in outputs]}


def test_a_cell_that_printed_in_the_book_and_prints_nothing_in_colab_is_reported():
    printed = {"output_type": "stream", "name": "stdout", "text": "seed 0: +0.2 dB\n"}
    figure = {"output_type": "display_data", "data": {"image/png": "..."}}
    blank = {"output_type": "stream", "name": "stdout", "text": []}
    committed = _nb([blank], [printed], [figure], [printed])
    assert cc._cells_gone_quiet(committed, _nb([], [printed], [figure], [printed])) == []  # blank: nothing lost
    assert cc._cells_gone_quiet(committed, _nb([blank], [blank], [], [printed])) == [2, 3]


@pytest.mark.parametrize("folder", ["book", "exercises", "solutions"])
def test_every_notebook_installs_from_the_url_the_check_replaces(folder):
    notebooks = sorted((ROOT / folder).glob("[0-9][0-9]_*.ipynb"))
    assert notebooks
    for nb in notebooks:
        setup = [c for c in json.loads(nb.read_text())["cells"] if c["cell_type"] == "code"][0]
        assert cc.GITHUB in "".join(setup["source"]), nb.name
