"""Cells and notebook writing shared by the chapter generators.

``ci/make_physics_chapters.py``, ``ci/make_video_chapters.py`` and
``ci/build_05_symbolic.py`` build their chapters from these. The Colab badge and
the setup cell come from :mod:`badges` (``_config.yml`` names the repository
once), so a generated chapter always passes ``python ci/badges.py --check``.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Dict, List

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

sys.path.insert(0, str(Path(__file__).resolve().parent))
from badges import badge_line, setup_source  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PARAMS = '''\
import os

QUICK = os.environ.get("NOETHER_QUICK", "1") != "0"  # quick mode: ~3 min on 2 CPU cores
SEED = 0
DEVICE = "auto"'''


def md(s: str):
    c = new_markdown_cell(s.strip("\n"))
    c.metadata["tags"] = []
    return c


def code(s: str, tags=None):
    c = new_code_cell(s.strip("\n"))
    c.metadata["tags"] = list(tags or [])
    return c


def head(name: str, title: str) -> List:
    """Title with the Colab badge, the Colab setup cell and the parameters cell."""
    badge = badge_line(ROOT / "book" / f"{name}.ipynb")
    return [md(f"# {title}\n\n{badge}"), code(setup_source(), ["colab-setup", "hide-input", "remove-output"]),
            code(PARAMS, ["parameters", "remove-output"])]


def build(name: str, cells, readings: Dict[str, str], *, keep_outputs: bool = True) -> Path:
    """Write ``book/<name>.ipynb``.

    A markdown cell whose whole text is a key of ``readings`` (e.g. ``"READ_MAIN"``) is
    replaced by its reading. With ``keep_outputs``, code cells whose source did not change keep their
    outputs, so editing prose needs no re-execution.

    Raises:
        KeyError: a ``READ_`` placeholder without a reading.
    """
    for c in cells:
        if c.cell_type != "markdown":
            continue
        if c.source in readings:
            c.source = readings[c.source].strip("\n")
        elif c.source.startswith("READ_"):
            raise KeyError(f"{name}: no reading for {c.source}")
    nb = new_notebook(cells=cells)
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python", "pygments_lexer": "ipython3"},
    }
    path = ROOT / "book" / f"{name}.ipynb"
    if keep_outputs and path.exists():
        old = {c.source: c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"}
        for c in nb.cells:
            if c.cell_type == "code" and c.source in old:
                c.outputs, c.execution_count = old[c.source].outputs, old[c.source].execution_count
    nbformat.validate(nb)
    nbformat.write(nb, path)
    return path


def main(makers, readings_of, doc: str, argv=None) -> None:
    """Command line of a generator: ``makers`` return ``(name, cells)``; ``readings_of(name)``
    gives that chapter's readings."""
    import argparse

    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--clear", action="store_true", help="drop existing outputs (default: keep the outputs of "
                    "code cells whose source did not change, so editing prose needs no re-execution)")
    args = ap.parse_args(argv)
    for make in makers:
        name, cells = make()
        print("wrote", build(name, cells, readings_of(name), keep_outputs=not args.clear).relative_to(ROOT))
