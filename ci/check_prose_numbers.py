#!/usr/bin/env python
"""Fail when a chapter's prose carries a decimal number that its code did not print.

Numbers in a chapter's markdown must come from its code: a printed sentence, a table the code
prints, or a glued value. This check reads every ``book/NN_name.md`` and reports each decimal
number (``0.044``, ``2.99``) in a markdown cell, outside math (``$...$``, ``$$...$$``), inline code
and glue roles. What truly is prose (a definition such as a friction coefficient) is allowed in
``ci/prose_numbers_allowed.txt``: one ``FILE NUMBER  # why`` per line.

    python ci/check_prose_numbers.py            # exit 1 listing each unglued number
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ALLOWED = ROOT / "ci" / "prose_numbers_allowed.txt"
NUMBER = re.compile(r"(?<![\w.])\d+\.\d+(?:e[-+]?\d+)?(?![\w.])")
STRIP = re.compile(r"\$\$.*?\$\$|\$[^$\n]*\$|`[^`\n]*`|\{glue(?::\w+)?\}`[^`]*`", re.S)


def allowed() -> set:
    out = set()
    if ALLOWED.exists():
        for line in ALLOWED.read_text().splitlines():
            line = line.split("#", 1)[0].strip()
            if line:
                name, number = line.split()
                out.add((name, number))
    return out


def prose_numbers(path: Path):
    """(line number, number, line) for each decimal number in the markdown of ``path``."""
    lines = path.read_text(encoding="utf-8").splitlines()
    i, in_code, in_math, front = 0, False, False, lines[:1] == ["---"]
    for n, line in enumerate(lines, 1):
        if front:
            if n > 1 and line.strip() == "---":
                front = False
            continue
        if line.lstrip().startswith("```"):
            in_code = not in_code
            continue
        if in_code:
            continue
        if line.count("$$") % 2 == 1:
            in_math = not in_math
            continue
        if in_math:
            continue
        text = STRIP.sub(" ", line)
        for m in NUMBER.finditer(text):
            yield n, m.group(0), line.strip()


def main() -> int:
    ok = allowed()
    bad = 0
    for path in sorted((ROOT / "book").glob("[0-9][0-9]_*.md")):
        for n, number, line in prose_numbers(path):
            if (path.name, number) in ok:
                continue
            bad += 1
            print(f"{path.relative_to(ROOT)}:{n}: {number} in prose is not printed by the code: {line[:90]}")
    if bad:
        print(f"{bad} number(s) in prose: print them from a cell (or glue them), or, if a number is a "
              f"definition, allow it in {ALLOWED.relative_to(ROOT)}", file=sys.stderr)
        return 1
    print("prose numbers: every decimal number in the chapters' prose is printed by their code or allowed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
