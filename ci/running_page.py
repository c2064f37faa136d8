#!/usr/bin/env python
"""Write ``book/running.md`` ("Running it yourself") from the measured lab times.

The page is for users: how long each chapter takes in quick mode on a 2-core CPU (measured by
``ci/execute_chapters.py`` and ``noether-lite lab run``, stored in
``noether_lite/course/lab_times.json``), which full-mode runs have been measured, and the
commands. Nothing on it is typed by hand, so it cannot drift from the measurements.

    python ci/running_page.py            # write book/running.md (ci/build_book.sh does, before building)
    python ci/running_page.py --check    # exit 1 if book/running.md is not what the times give

The page is generated at build time and not committed, so a new measurement never leaves it stale.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TIMES = ROOT / "noether_lite" / "course" / "lab_times.json"
PAGE = ROOT / "book" / "running.md"
TITLES = {
    "01_symmetries": "Symmetries and conservation laws", "02_tailoring": "Tailoring and Theorem 1",
    "03_known_conservation": "A known conservation law", "04_meta_learned": "A meta-learned embedding",
    "05_symbolic": "Symbolic discovery", "06_video_ramps": "Video: objects on ramps",
    "07_controlled_pendulum": "Video: the controlled pendulum",
}


def _cell(entry) -> str:
    if not entry:
        return "not measured yet"
    s = entry["seconds"]
    return f"{s:.0f} s" if s < 120 else f"{s / 60:.1f} min"


def page() -> str:
    labs = json.loads(TIMES.read_text())["labs"]
    rows = []
    total = 0.0
    for stem, title in TITLES.items():
        t = labs.get(stem, {})
        q = t.get("quick", {}).get("cpu")
        total += q["seconds"] if q else 0.0
        rows.append(f"| {{doc}}`{stem}` | {_cell(q)} | {_cell(t.get('full', {}).get('cpu'))} | "
                    f"{_cell(t.get('full', {}).get('gpu'))} |")
    machines = sorted({e["machine"] for t in labs.values() for m in t.values() for e in m.values()})
    return "\n".join([
        "# Running it yourself",
        "",
        "Every chapter runs in two modes from its parameters cell: **quick** (the default, what the",
        "book shows and CI executes) and **full** (the paper-scale run). Set `NOETHER_QUICK=0`, or",
        "`QUICK = False` in the parameters cell, for full mode.",
        "",
        "## How long each chapter takes",
        "",
        "Measured wall times of a whole chapter, top to bottom (machines: " + "; ".join(machines) + "):",
        "",
        "| chapter | quick, CPU | full, CPU | full, GPU |",
        "|---|---|---|---|",
        *rows,
        "",
        f"The whole book in quick mode: {total / 60:.0f} min on that CPU. A laptop is usually faster;",
        "measure your own machine with `noether-lite lab run CHAPTER --force` (it records its time here).",
        "",
        "## Commands",
        "",
        "```bash",
        "pip install -e \".[book]\"                              # the package and the book tools",
        "python ci/execute_chapters.py book/03_known_conservation.md   # re-run one chapter",
        "noether-lite lab run 03 --mode quick --out labs/03    # run it as a lab: notebook, metrics.json",
        "noether-lite physics --system pendulum --full --seed 0 --json pendulum.json",
        "noether-lite video --dataset ramp --mode default --seed 0 --ckpt-dir ck --json ramp.json",
        "```",
        "",
        "Long runs take `--ckpt-dir`: an interrupted run (Ctrl-C, a lost session) resumes exactly",
        "where it stopped. On Colab, a GPU runtime runs the video chapters' full mode; the",
        "physics and symbolic chapters need no GPU.",
        "",
    ])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args(argv)
    text = page()
    if args.check:
        if not PAGE.exists() or PAGE.read_text() != text:
            print(f"{PAGE} is not what the measured times give: run python ci/running_page.py")
            return 1
        print("running page: up to date with the measured times")
        return 0
    PAGE.write_text(text)
    print(f"wrote {PAGE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
