#!/usr/bin/env python
"""Write (or check) every Colab badge and Colab setup cell from ``_config.yml``.

``repository.url`` and ``repository.branch`` in ``_config.yml`` are the one
place that names the GitHub repository. This script derives from them:

* each chapter's Colab badge, a markdown line in its first cell::

    [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/ORG/REPO/blob/BRANCH/book/CHAPTER.ipynb)

* each chapter's setup cell (the code cell tagged ``colab-setup``), which
  installs ``noether-lite`` (no extras) from the repository only inside Colab, and everywhere pins
  the CPU arithmetic (:mod:`noether_lite.numerics`) before the chapter imports torch;

and it checks that no other repository URL of this project (a Colab link, a
``git+https`` install, or a ``github.com/.../noether-lite`` link) appears in
the chapters, ``book/*.md``, ``README.md`` or the exercise and solution notebooks.

Usage::

    python ci/badges.py --check   # CI: exit 1 and list the differences
    python ci/badges.py --write   # rewrite badges and setup cells of the chapter sources (book/*.md);
                                  # then python ci/execute_chapters.py
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import List, Tuple

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
BADGE_IMG = "https://colab.research.google.com/assets/colab-badge.svg"
SETUP_TAG = "colab-setup"
SETUP_TEMPLATE = '''\
# Setup, written by ci/badges.py from _config.yml. In Colab: install noether-lite alone
# (torch, sympy and ipywidgets stay as Colab has them). Everywhere: pin the CPU
# arithmetic (thread count, kernels), so a CPU run gives the book's numbers on any
# x86 machine.
import os
import subprocess
import sys

# MKL and ATen read these once, when torch starts
os.environ.setdefault("MKL_CBWR", "AVX2")
os.environ.setdefault("ATEN_CPU_CAPABILITY", "avx2")
PACKAGE = "{requirement}"
if "google.colab" in sys.modules:
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", PACKAGE], check=True)

from noether_lite.numerics import reproducible_cpu
from noether_lite.viz import book_style

reproducible_cpu(threads=2)
book_style()  # figures readable at the page width'''


def repository() -> Tuple[str, str, str, str]:
    """``(url, org, repo, branch)`` from ``_config.yml``."""
    cfg = yaml.safe_load((ROOT / "_config.yml").read_text())
    url = cfg["repository"]["url"].rstrip("/")
    branch = cfg["repository"].get("branch", "main")
    m = re.fullmatch(r"https://github\.com/([\w.-]+)/([\w.-]+)", url)
    if not m:
        raise SystemExit(f"_config.yml repository.url is not a https://github.com/ORG/REPO URL: {url!r}")
    return url, m.group(1), m.group(2), branch


def chapters() -> List[Path]:
    """Chapter notebooks listed in ``book/_toc.yml``, in order."""
    toc = yaml.safe_load((ROOT / "book" / "_toc.yml").read_text())
    files: List[str] = []

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                files.append(node["file"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(toc.get("parts", toc.get("chapters", [])))
    out = []
    for f in files:
        p = ROOT / "book" / f
        p = p if p.suffix else p.with_suffix(".ipynb")
        if p.suffix == ".ipynb" and p.exists():
            out.append(p)
    return out


def badge_line(nb_path: Path) -> str:
    _, org, repo, branch = repository()
    rel = nb_path.relative_to(ROOT).as_posix()
    return f"[![Open In Colab]({BADGE_IMG})](https://colab.research.google.com/github/{org}/{repo}/blob/{branch}/{rel})"


def setup_source() -> str:
    url, _, _, branch = repository()
    return SETUP_TEMPLATE.format(requirement=f"noether-lite @ git+{url}@{branch}")


def _read(path: Path):
    if path.suffix == ".md":  # a chapter's MyST source (ci/chapters.py)
        import jupytext

        return jupytext.read(path, fmt="md:myst")
    return nbformat.read(path, as_version=4)


def _write(nb, path: Path) -> None:
    if path.suffix == ".md":
        import jupytext

        jupytext.write(nb, path, fmt="md:myst")
    else:
        nbformat.write(nb, path)


def sync_notebook(path: Path, *, write: bool) -> List[str]:
    """Bring one notebook's (or chapter source's) badge and setup cell in line; return the
    problems found. The badge of a chapter source points at its executed ``.ipynb``."""
    nb = _read(path)
    problems: List[str] = []
    want_badge = badge_line(path.with_suffix(".ipynb"))
    first = nb.cells[0] if nb.cells else None
    if first is None or first.cell_type != "markdown":
        raise SystemExit(f"{path}: the first cell must be a markdown title cell")
    lines = first.source.splitlines()
    idx = [i for i, line in enumerate(lines) if "colab.research.google.com/github/" in line]
    if not idx:
        problems.append("no Colab badge in the first cell")
        lines = lines[:1] + ["", want_badge] + lines[1:]
    else:
        for i in idx:
            if lines[i].strip() != want_badge:
                problems.append(f"stale Colab badge: {lines[i].strip()}")
                lines[i] = want_badge
    first.source = "\n".join(lines)

    setup = [c for c in nb.cells if c.cell_type == "code" and SETUP_TAG in c.metadata.get("tags", [])]
    if len(setup) != 1:
        problems.append(f"expected exactly one code cell tagged {SETUP_TAG!r}, found {len(setup)}")
    elif setup[0].source != setup_source():
        problems.append("setup cell differs from the template")
        setup[0].source = setup_source()
    if write and problems and len(setup) == 1:
        _write(nb, path)
    return problems


URL_PATTERNS = [
    re.compile(r"colab\.research\.google\.com/github/([\w.-]+/[\w.-]+)/blob/([\w.-]+)/"),
    re.compile(r"git\+https://github\.com/([\w.-]+/[\w.-]+?)(?:\.git)?@([\w.-]+)"),
    re.compile(r"github\.com/([\w.-]+/noether-lite)\b()"),
]


def stray_urls(path: Path) -> List[str]:
    """URLs in ``path`` that name this project at another repository or branch."""
    _, org, repo, branch = repository()
    text = path.read_text(encoding="utf-8")
    bad = []
    for pat in URL_PATTERNS:
        for m in pat.finditer(text):
            slug, br = m.group(1), m.group(2)
            if slug != f"{org}/{repo}" or (br and br != branch):
                bad.append(m.group(0))
    return bad


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--check", action="store_true", help="report differences, exit 1 if any")
    mode.add_argument("--write", action="store_true", help="rewrite badges and setup cells in place")
    args = ap.parse_args(argv)

    failures = 0
    for nb in chapters():  # the sources; ci/chapters.py checks that each .ipynb holds its source's cells
        nb = nb.with_suffix(".md")
        for problem in sync_notebook(nb, write=args.write):
            print(f"{nb.relative_to(ROOT)}: {problem}" + (" (fixed)" if args.write else ""))
            failures += not args.write
    others = sorted((ROOT / "book").glob("*.md")) + [p for p in (ROOT / "README.md",) if p.exists()]
    others += sorted((ROOT / "book").glob("*.ipynb"))
    others += sorted((ROOT / "exercises").glob("*.ipynb")) + sorted((ROOT / "solutions").glob("*.ipynb"))
    for path in others:
        for url in stray_urls(path):
            print(f"{path.relative_to(ROOT)}: names another repository or branch: {url}")
            failures += 1
    url, *_ , branch = repository()
    print(f"badges: {len(chapters())} chapter(s) checked against {url} ({branch}): "
          + ("OK" if not failures else f"{failures} problem(s)"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
