#!/usr/bin/env python
"""Execute the book's chapters from their MyST sources and record their wall times.

Each chapter listed in ``book/_toc.yml`` (or given on the command line, as its
``.md`` source or its ``.ipynb``) is first synced from ``book/NN_name.md`` into
``book/NN_name.ipynb`` (``ci/chapters.py``), then run top to bottom with the
``python3`` kernel, in ``book/``, and written back with its outputs and a hash of
the code that made them. Papermill's run-to-run metadata (timestamps, durations) is
removed afterwards so a re-run changes a notebook only where its outputs change.
Quick-mode wall times go to the one timing file, ``noether_lite/course/lab_times.json``
(what ``noether-lite lab list`` and the book's "Running it yourself" page print).

The book is built with ``execute_notebooks: auto``, and myst-nb's ``auto``
re-executes a notebook when *any* code cell has no output. So a cell that
printed nothing (the setup cell, a ``def``) is given one empty ``stdout``
output (tagged ``remove-output``) here: the committed notebook then counts as executed, and the build
uses its outputs as they are. A notebook stripped of its outputs is still
executed by the build.

Usage::

    python ci/execute_chapters.py                      # quick mode (the committed outputs)
    NOETHER_QUICK=0 python ci/execute_chapters.py      # full mode, e.g. for an instructor
    python ci/execute_chapters.py book/01_symmetries.md --max-seconds 180
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import nbformat
import papermill

sys.path.insert(0, str(Path(__file__).resolve().parent))
from badges import ROOT, chapters  # noqa: E402
from chapters import mark_executed, sync  # noqa: E402

TIMES = ROOT / "noether_lite" / "course" / "lab_times.json"
INLINE = "module://matplotlib_inline.backend_inline"


def finalize(path: Path) -> None:
    """Drop papermill's timestamps and durations and saved widget state; mark silent cells as executed."""
    nb = nbformat.read(path, as_version=4)
    nb.metadata.pop("papermill", None)
    # Saved widget state would make every page load require.js and the widget manager from CDNs,
    # to show widgets whose outputs the book removes anyway; live notebooks rebuild it.
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        if cell.metadata.get("tags") == []:  # papermill adds it; the .md source has none
            del cell.metadata["tags"]
        if cell.cell_type == "code" and not cell.outputs:
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="")]
            tags = cell.metadata.setdefault("tags", [])
            if "remove-output" not in tags:
                tags.append("remove-output")  # the empty marker is not rendered
    nbformat.write(nb, path)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("notebooks", nargs="*", type=Path, help="default: every chapter in book/_toc.yml")
    ap.add_argument("--max-seconds", type=float, default=None, help="fail if a chapter takes longer")
    ap.add_argument("--timeout", type=int, default=1200, help="per-cell timeout in seconds")
    args = ap.parse_args(argv)

    # The kernel must draw inline even when the caller set MPLBACKEND=Agg (as CI does).
    os.environ["MPLBACKEND"] = INLINE
    # The committed outputs are made under the pinned arithmetic whatever the caller's shell says
    # (the setup cell only sets a default); see noether_lite.numerics.
    from noether_lite.numerics import PINNED_ENV

    os.environ.update(PINNED_ENV)
    quick = os.environ.get("NOETHER_QUICK", "1") != "0"
    notebooks = [p.resolve().with_suffix(".ipynb") for p in args.notebooks] or chapters()
    slow = []
    for nb in notebooks:
        sync(nb.with_suffix(".md"))
        t0 = time.perf_counter()
        papermill.execute_notebook(
            str(nb), str(nb), kernel_name="python3", cwd=str(nb.parent),
            progress_bar=False, execution_timeout=args.timeout,
        )
        wall = time.perf_counter() - t0
        finalize(nb)
        mark_executed(nb)
        print(f"{nb.relative_to(ROOT)}: {wall:.1f} s", flush=True)
        if quick:  # the file records the quick mode, which is what is committed
            from noether_lite.course.labs import record_lab_time

            record_lab_time(nb.stem, mode="quick", device="cpu", seconds=wall, path=TIMES)
        if args.max_seconds is not None and wall > args.max_seconds:
            slow.append(f"{nb.name} took {wall:.0f} s > {args.max_seconds:.0f} s")
    for s in slow:
        print("too slow:", s, file=sys.stderr)
    return 1 if slow else 0


if __name__ == "__main__":
    sys.exit(main())
