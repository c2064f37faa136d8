#!/usr/bin/env python
"""Every chapter has one source: ``book/NN_name.md``, a MyST Markdown notebook (jupytext).

It is paired with ``book/NN_name.ipynb``, the same cells executed in quick mode, whose outputs
are committed: nbval compares them and the book is built from them. People edit the ``.md``;
``ci/execute_chapters.py`` writes its cells into the ``.ipynb`` (``sync`` below) and executes it,
recording a hash of the code it ran. CI runs ``check``, which fails when a pair drifts:

* the ``.ipynb``'s cells are not the ``.md``'s (one was edited and the other not), or
* the ``.ipynb``'s outputs were made by other code than its cells hold now (it was synced but
  not re-executed).

Usage::

    python ci/chapters.py check                  # CI
    python ci/chapters.py sync book/03_*.md      # cells only, outputs of unchanged code cells kept
"""
from __future__ import annotations

import argparse
import difflib
import hashlib
import sys
from pathlib import Path
from typing import List

import jupytext
import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
from badges import ROOT, chapters  # noqa: E402

META_KEY = "noether_lite"  # notebook metadata: {"executed_code": sha256 of the code cells it ran}
VOLATILE_TAGS = {"remove-output"}  # added by ci/execute_chapters.py to cells that print nothing


def _rel(p: Path) -> str:
    try:
        return str(p.resolve().relative_to(ROOT))
    except ValueError:
        return str(p)


def source_of(nb_path: Path) -> Path:
    return nb_path.with_suffix(".md")


def code_hash(nb) -> str:
    """sha256 of the code cells' sources, in order (what an execution depends on)."""
    h = hashlib.sha256()
    for c in nb.cells:
        if c.cell_type == "code":
            h.update(c.source.encode())
            h.update(b"\0")
    return h.hexdigest()


def _tags(cell) -> List[str]:
    return [t for t in cell.metadata.get("tags", []) if t not in VOLATILE_TAGS or cell.cell_type != "code"]


def _key(cell):
    return cell.cell_type, cell.source.strip("\n"), tuple(_tags(cell))


def read_source(md: Path):
    return jupytext.read(md, fmt="md:myst")


def differences(md: Path, ipynb: Path) -> List[str]:
    """What differs between a chapter's source and its executed notebook (empty: in sync)."""
    if not md.exists():
        return [f"{_rel(md)} is missing: every chapter notebook needs its MyST source"]
    if not ipynb.exists():
        return [f"{_rel(ipynb)} is missing: run python ci/execute_chapters.py {_rel(md)}"]
    src, nb = read_source(md), nbformat.read(ipynb, as_version=4)
    a, b = [_key(c) for c in src.cells], [_key(c) for c in nb.cells]
    out = []
    if a != b:
        first = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
        what = (f"cell {first} ({a[first][0] if first < len(a) else 'none'} in the .md, "
                f"{b[first][0] if first < len(b) else 'none'} in the .ipynb)")
        out.append(f"{_rel(ipynb)}: cells differ from {_rel(md)} from {what}; edit the "
                   f".md and run python ci/execute_chapters.py {_rel(md)}")
    recorded = nb.metadata.get(META_KEY, {}).get("executed_code")
    if recorded != code_hash(nb):
        out.append(f"{_rel(ipynb)}: its outputs were not made by the code it holds (not re-executed "
                   f"since its cells changed); run python ci/execute_chapters.py {_rel(md)}")
    return out


def _stable_id(cell, index: int) -> str:
    return hashlib.sha1(f"{index}\0{cell.cell_type}\0{cell.source}".encode()).hexdigest()[:8]


def sync(md: Path) -> Path:
    """Write the cells of ``md`` into its ``.ipynb``; code cells whose source did not change keep
    their outputs, and every cell that matches an old one keeps its id."""
    ipynb = md.with_suffix(".ipynb")
    src = read_source(md)
    old = nbformat.read(ipynb, as_version=4) if ipynb.exists() else nbformat.v4.new_notebook()
    new_cells = []
    matcher = difflib.SequenceMatcher(a=[_key(c) for c in old.cells], b=[_key(c) for c in src.cells],
                                      autojunk=False)
    match, edited = {}, {}  # new index -> unchanged old cell / old cell it replaces (keeps its id)
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        for k in range(b1 - b0):
            if op == "equal":
                match[b0 + k] = old.cells[a0 + k]
            elif op == "replace" and k < a1 - a0 and old.cells[a0 + k].cell_type == src.cells[b0 + k].cell_type:
                edited[b0 + k] = old.cells[a0 + k]
    used = set()
    for i, cell in enumerate(src.cells):
        prev = match.get(i)
        if cell.cell_type == "code":
            c = nbformat.v4.new_code_cell(cell.source.strip("\n"))
            if prev is not None:
                c.outputs, c.execution_count = prev.outputs, prev.execution_count
        else:
            c = nbformat.v4.new_markdown_cell(cell.source.strip("\n"))
        c.metadata = dict(cell.metadata)
        tags = c.metadata.get("tags", [])
        if prev is not None and cell.cell_type == "code" and "remove-output" in prev.metadata.get("tags", []) \
                and "remove-output" not in tags:  # ci/execute_chapters.py's mark on a silent cell
            c.metadata["tags"] = [*tags, "remove-output"]
        like = prev if prev is not None else edited.get(i)
        cid = like.get("id") if like is not None else None
        c["id"] = cid if cid and cid not in used else _stable_id(cell, i)
        used.add(c["id"])
        new_cells.append(c)
    nb = nbformat.v4.new_notebook(cells=new_cells)
    nb.metadata = dict(old.metadata)
    nb.metadata["kernelspec"] = src.metadata.get("kernelspec", old.metadata.get("kernelspec"))
    nb.metadata.setdefault("language_info", {"name": "python", "pygments_lexer": "ipython3"})
    nb.metadata.pop("jupytext", None)
    nbformat.validate(nb)
    nbformat.write(nb, ipynb)
    return ipynb


def mark_executed(ipynb: Path) -> None:
    nb = nbformat.read(ipynb, as_version=4)
    nb.metadata[META_KEY] = {"executed_code": code_hash(nb)}
    nbformat.write(nb, ipynb)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("check", help="fail when a chapter's .md and .ipynb drift apart")
    s = sub.add_parser("sync", help="write .md cells into the .ipynb (outputs of unchanged code cells kept)")
    s.add_argument("sources", nargs="*", type=Path)
    args = ap.parse_args(argv)
    if args.cmd == "sync":
        for md in [p.resolve().with_suffix(".md") for p in args.sources] or [source_of(p) for p in chapters()]:
            print("synced", _rel(sync(md)))
        return 0
    problems = []
    nbs = chapters()
    for nb in nbs:
        problems += differences(source_of(nb), nb)
    for md in sorted((ROOT / "book").glob("[0-9][0-9]_*.md")):
        if not md.with_suffix(".ipynb").exists():
            problems.append(f"{_rel(md)} has no executed notebook beside it")
    for p in problems:
        print(p)
    print(f"chapters: {len(nbs)} pairs checked: " + ("in sync" if not problems else f"{len(problems)} problem(s)"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
