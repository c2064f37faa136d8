#!/usr/bin/env python
"""Generate the exercise notebooks from the solution notebooks (one source of truth).

For each ``solutions/NN_name.ipynb`` this writes ``exercises/NN_name.ipynb`` in which

* every region of a code cell between a ``### BEGIN SOLUTION`` line and a
  ``### END SOLUTION`` line becomes ``raise NotImplementedError("Exercise: <name>")``,
  indented like the markers, where ``<name>`` is the function the region sits in
  (so the ``def`` line above the region, and the docstring, stay a valid function);
* outputs, execution counts and execution metadata are cleared;
* Colab badges and links point at ``exercises/`` instead of ``solutions/``.

Usage::

    python ci/make_exercises.py            # (re)write exercises/
    python ci/make_exercises.py --check    # exit 1 with a diff summary if exercises/ is stale

The output is deterministic (``nbformat.writes``: sorted keys, one-space indent).
"""
from __future__ import annotations

import argparse
import copy
import difflib
import re
import sys
from pathlib import Path
from typing import Dict, List, Optional

import nbformat

ROOT = Path(__file__).resolve().parents[1]
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
_DEF = re.compile(r"^\s*(?:async\s+)?def\s+([A-Za-z_]\w*)\s*\(")
_LINK = re.compile(r"(colab\.research\.google\.com/github/[^)\s]*?/blob/[^/)\s]+/)solutions/")
_EXECUTION_META = ("execution", "papermill", "collapsed", "scrolled")


class SolutionFormatError(ValueError):
    """A solution notebook whose markers are unbalanced or misplaced."""


def stub_source(source: str, *, where: str = "cell") -> str:
    """Replace each BEGIN/END SOLUTION region of a cell's source by a stub.

    Args:
        source: the code cell's source.
        where: a label for error messages (notebook and cell).

    Returns:
        The new source; unchanged if it has no markers.

    Raises:
        SolutionFormatError: a BEGIN without END (or the reverse), or nested markers.
    """
    lines = source.split("\n")
    out: List[str] = []
    inside = False
    current_def: Optional[str] = None
    for no, line in enumerate(lines, 1):
        stripped = line.strip()
        if stripped.startswith(BEGIN):
            if inside:
                raise SolutionFormatError(f"{where}, line {no}: nested {BEGIN!r}")
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            name = current_def or "this cell"
            out.append(f'{indent}raise NotImplementedError("Exercise: {name}")')
            continue
        if stripped.startswith(END):
            if not inside:
                raise SolutionFormatError(f"{where}, line {no}: {END!r} without {BEGIN!r}")
            inside = False
            continue
        if inside:
            continue
        m = _DEF.match(line)
        if m and not line.startswith((" ", "\t")):  # the top-level function the region belongs to
            current_def = m.group(1)
        out.append(line)
    if inside:
        raise SolutionFormatError(f"{where}: {BEGIN!r} without {END!r}")
    return "\n".join(out)


def make_exercise(nb: nbformat.NotebookNode, *, name: str = "notebook") -> nbformat.NotebookNode:
    """The exercise version of a solution notebook (a new object; ``nb`` is not changed)."""
    ex = nbformat.from_dict(copy.deepcopy(nb))
    for key in ("papermill", "widgets"):
        ex.metadata.pop(key, None)
    for i, cell in enumerate(ex.cells):
        for key in _EXECUTION_META:
            cell.metadata.pop(key, None)
        if cell.cell_type == "code":
            cell.source = stub_source(cell.source, where=f"{name}, cell {i}")
            cell.outputs = []
            cell.execution_count = None
        else:
            cell.source = _LINK.sub(r"\1exercises/", cell.source)
    return ex


def render(nb: nbformat.NotebookNode) -> str:
    """Deterministic text of a notebook."""
    return nbformat.writes(nb, version=4) + "\n"


def generate(solutions: Path) -> Dict[str, str]:
    """``{file name: exercise notebook text}`` for every ``*.ipynb`` in ``solutions``."""
    out: Dict[str, str] = {}
    for path in sorted(solutions.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        out[path.name] = render(make_exercise(nb, name=path.name))
    return out


def check(solutions: Path, exercises: Path, *, max_lines: int = 20) -> List[str]:
    """Differences between ``exercises`` and what ``solutions`` generate (empty list: up to date)."""
    want = generate(solutions)
    have = {p.name: p.read_text(encoding="utf-8") for p in sorted(exercises.glob("*.ipynb"))} if exercises.is_dir() else {}
    problems: List[str] = []
    for name in sorted(set(want) | set(have)):
        if name not in have:
            problems.append(f"missing: {exercises.name}/{name} (generate it)")
        elif name not in want:
            problems.append(f"extra: {exercises.name}/{name} has no solutions/{name} (delete it or add the solution)")
        elif want[name] != have[name]:
            diff = list(difflib.unified_diff(have[name].splitlines(), want[name].splitlines(),
                                             f"{exercises.name}/{name} (committed)", f"{exercises.name}/{name} (generated)", lineterm="", n=1))
            shown = "\n".join("    " + d for d in diff[:max_lines])
            more = f"\n    ... {len(diff) - max_lines} more diff lines" if len(diff) > max_lines else ""
            problems.append(f"differs: {exercises.name}/{name}\n{shown}{more}")
    return problems


def write(solutions: Path, exercises: Path) -> List[str]:
    """(Re)write ``exercises`` from ``solutions``; removes stale exercise notebooks. Returns changed names."""
    exercises.mkdir(parents=True, exist_ok=True)
    want = generate(solutions)
    changed = []
    for name, text in want.items():
        path = exercises / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed.append(name)
    for path in sorted(exercises.glob("*.ipynb")):
        if path.name not in want:
            path.unlink()
            changed.append(f"{path.name} (removed)")
    return changed


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="do not write; exit 1 if exercises/ differs from what solutions/ generate")
    ap.add_argument("--solutions", type=Path, default=ROOT / "solutions", help="solution notebooks (default: %(default)s)")
    ap.add_argument("--exercises", type=Path, default=ROOT / "exercises", help="exercise notebooks (default: %(default)s)")
    args = ap.parse_args(argv)
    if not args.solutions.is_dir():
        print(f"no solutions folder at {args.solutions}", file=sys.stderr)
        return 2
    try:
        if args.check:
            problems = check(args.solutions, args.exercises)
            if problems:
                print(f"exercises are out of date with solutions ({len(problems)} notebook(s)):", file=sys.stderr)
                for p in problems:
                    print("  " + p, file=sys.stderr)
                print("regenerate with: python ci/make_exercises.py", file=sys.stderr)
                return 1
            print(f"exercises up to date ({len(generate(args.solutions))} notebooks)")
            return 0
        changed = write(args.solutions, args.exercises)
        print(f"wrote {len(changed)} exercise notebook(s)" + (": " + ", ".join(changed) if changed else " (all up to date)"))
        return 0
    except SolutionFormatError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
