#!/usr/bin/env python
"""Put a local copy of MathJax 3 into ``book/_mathjax/mathjax/`` so the book's math renders offline.

The built pages then load ``_static/mathjax/tex-mml-chtml.js`` (``book/_ext/page_fixes.py`` points
Sphinx's ``mathjax_path`` at it when it exists) instead of a CDN, so a book opened from disk, or
served on a machine without internet, still shows formulas rather than raw ``\\(`` text.

MathJax comes from the npm registry's tarball of one pinned release, checked against its
published SHA-512, and is cached in ``~/.cache/noether-lite/``. Only what the CommonHTML component
needs is copied (the component, its TeX extensions, fonts, menu and accessibility code: ~3 MB).
When the tarball can be neither found nor fetched, this says so and exits 0: the book then uses
the CDN (math renders online only).

Usage::

    python ci/fetch_mathjax.py          # called by ci/build_book.sh
"""
from __future__ import annotations

import base64
import hashlib
import io
import shutil
import sys
import tarfile
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VERSION = "3.2.2"
URL = f"https://registry.npmjs.org/mathjax/-/mathjax-{VERSION}.tgz"
SHA512 = "Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/FEsPsjKPZGJvtRZM1vO+geW0OhGw=="
KEEP = ("tex-mml-chtml.js", "input/tex/extensions/", "output/chtml/fonts/woff-v2/", "ui/", "a11y/")
DEST = ROOT / "book" / "_mathjax" / "mathjax"  # not _static: Jupyter Book adds every .js there to each page
CACHE = Path.home() / ".cache" / "noether-lite" / f"mathjax-{VERSION}.tgz"


def _sound(data: bytes) -> bool:
    return base64.b64encode(hashlib.sha512(data).digest()).decode() == SHA512


def tarball() -> bytes | None:
    if CACHE.exists() and _sound(CACHE.read_bytes()):
        return CACHE.read_bytes()
    try:
        with urllib.request.urlopen(URL, timeout=60) as r:
            data = r.read()
    except OSError as e:
        print(f"mathjax: cannot fetch {URL} ({e}); the book will load MathJax from its CDN "
              f"(math renders online only)")
        return None
    if not _sound(data):
        print(f"mathjax: {URL} does not match its published SHA-512; not used (the book loads the CDN)")
        return None
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    CACHE.write_bytes(data)
    return data


def main() -> int:
    stamp = DEST / "VERSION"
    if stamp.exists() and stamp.read_text().strip() == VERSION and (DEST / KEEP[0]).exists():
        print(f"mathjax: local copy {VERSION} in {DEST.relative_to(ROOT)}")
        return 0
    data = tarball()
    if data is None:
        shutil.rmtree(DEST, ignore_errors=True)
        return 0
    shutil.rmtree(DEST, ignore_errors=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for m in tar.getmembers():
            rel = m.name.removeprefix("package/es5/")
            if m.isfile() and rel != m.name and rel.startswith(KEEP) and ".." not in rel:
                out = DEST / rel
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_bytes(tar.extractfile(m).read())
    stamp.write_text(VERSION + "\n")
    size = sum(p.stat().st_size for p in DEST.rglob("*") if p.is_file())
    print(f"mathjax: {VERSION} copied to {DEST.relative_to(ROOT)} ({size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
