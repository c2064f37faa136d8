#!/usr/bin/env python
"""Open the built book in a headless browser and fail on broken pages.

For the intro and every chapter in ``book/_toc.yml`` this loads the built
page from a local server (``127.0.0.1`` only) in headless Chromium, dumps the
DOM after the page's scripts ran, and fails when

* a chapter page has no figure (``<img>`` in a cell output);
* an output cell shows an execution error (a traceback or an ``...Error:``
  line in an output area);
* a formula is left as raw TeX (``\\(`` or ``\\[`` in the page's text outside code): the book
  serves MathJax itself (``ci/fetch_mathjax.py``), so math must render without internet;
* the page raised a script error (recorded by a small ``window.onerror`` hook
  that the server injects into each page) or failed to load one of its own
  (local) resources. Resources from other hosts (MathJax's CDN) are reported
  as warnings: CI may run offline.

A screenshot of chapter 1 is kept at ``artifacts/ci/screenshot_ch01.png``
(git-ignored). Chromium is found on the PATH or installed with
``apt-get install -y chromium`` (Debian).

Usage::

    python ci/check_browser.py [--html book/_build/html] [--screenshot artifacts/ci/screenshot_ch01.png]
"""
from __future__ import annotations

import argparse
import functools
import html
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from html.parser import HTMLParser
from pathlib import Path
from typing import List, Optional, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parent))
from badges import ROOT, chapters  # noqa: E402

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--hide-scrollbars", "--enable-logging=stderr", "--v=0",
]
ERROR_HOOK = """<script>(function(){var errs=[];
function rec(s){errs.push(String(s).slice(0,300));document.documentElement.setAttribute('data-ci-errors',JSON.stringify(errs));}
window.addEventListener('error',function(e){var t=e.target;
 if(t&&t!==window&&(t.src||t.href)){rec('resource: '+(t.src||t.href));}
 else{rec('script: '+e.message+' at '+e.filename+':'+e.lineno);}},true);
window.addEventListener('unhandledrejection',function(e){rec('promise: '+(e.reason&&e.reason.message||e.reason));});
var ce=console.error;console.error=function(){rec('console.error: '+Array.prototype.join.call(arguments,' '));return ce.apply(console,arguments);};
document.documentElement.setAttribute('data-ci-errors','[]');})();</script>"""
RAW_MATH = re.compile(r"\\[(\[]")  # "\(" or "\[" as visible text: MathJax did not typeset it
ERROR_LINE = re.compile(r"^\s*([A-Za-z_][\w.]*(Error|Exception)|Traceback \(most recent call last\))\b", re.M)


def find_browser() -> str:
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    if shutil.which("apt-get") and hasattr(os, "geteuid") and os.geteuid() == 0:
        print("chromium not found: apt-get install -y chromium", flush=True)
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        if subprocess.run(["apt-get", "install", "-y", "-q", "chromium"], env=env).returncode != 0:
            subprocess.run(["apt-get", "update", "-q"], env=env, check=True)
            subprocess.run(["apt-get", "install", "-y", "-q", "chromium"], env=env, check=True)
        path = shutil.which("chromium")
        if path:
            return path
    raise SystemExit(f"no headless browser found (tried {', '.join(BROWSERS)}); install Debian's chromium")


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Static files; HTML pages get the error hook right after ``<head>``."""

    def log_message(self, *args) -> None:  # quiet
        pass

    def send_head(self):
        path = self.translate_path(self.path)
        if not path.endswith(".html") or not os.path.isfile(path):
            return super().send_head()
        body = Path(path).read_bytes().replace(b"<head>", b"<head>" + ERROR_HOOK.encode(), 1)
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        import io

        return io.BytesIO(body)


def serve(root: Path) -> Tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(_Handler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


class _PageParser(HTMLParser):
    """Counts figures in cell outputs and collects the text of output areas."""

    CODE = {"pre", "code", "script", "style", "textarea"}
    VOID = {"img", "br", "hr", "meta", "link", "input", "source", "wbr", "area", "base", "col", "embed", "track"}

    def __init__(self) -> None:
        super().__init__()
        self.images = 0
        self.output_depth = 0
        self.outputs: List[str] = []
        self.error_outputs = 0
        self.errors_attr: Optional[str] = None
        self.math = 0  # formulas MathJax rendered (mjx-container elements)
        self.raw_math: List[str] = []  # TeX delimiters left as text outside code: math that did not render
        self._code_depth = 0
        self._stack: List[Tuple[str, bool]] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html" and "data-ci-errors" in a:
            self.errors_attr = a["data-ci-errors"]
        classes = (a.get("class") or "").split()
        if tag == "img" and self.output_depth > 0:  # figures drawn by the code, not badges or logos
            self.images += 1
        if "traceback" in classes or ("output" in classes and "error" in classes):
            self.error_outputs += 1
        if tag == "mjx-container":
            self.math += 1
        if tag in self.VOID:
            return
        if tag in self.CODE:
            self._code_depth += 1
        is_output = "cell_output" in classes
        if is_output:
            self.output_depth += 1
            self.outputs.append("")
        self._stack.append((tag, is_output))

    def handle_endtag(self, tag):
        while self._stack:  # tolerate unclosed tags
            t, is_output = self._stack.pop()
            if t in self.CODE:
                self._code_depth -= 1
            if is_output:
                self.output_depth -= 1
            if t == tag:
                break

    def handle_data(self, data):
        if self._code_depth == 0 and RAW_MATH.search(data):
            self.raw_math.append(data.strip()[:80])
        if self.output_depth > 0:
            self.outputs[-1] += data


def check_page(browser: str, url: str, *, chapter: bool, screenshot: Optional[Path]) -> Tuple[List[str], List[str], dict]:
    problems, warnings = [], []
    with tempfile.TemporaryDirectory(prefix="ci-chromium-") as profile:
        cmd = [browser, *FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=8000",
               "--window-size=1280,2400", "--dump-dom", url]
        run = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
        if screenshot is not None:
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            shot = [browser, *FLAGS, f"--user-data-dir={profile}-shot", "--virtual-time-budget=8000",
                    "--window-size=1280,2400", f"--screenshot={screenshot}", url]
            subprocess.run(shot, capture_output=True, text=True, timeout=180)
            shutil.rmtree(f"{profile}-shot", ignore_errors=True)
    if run.returncode != 0 or "<html" not in run.stdout:
        return [f"browser exited with {run.returncode}: {run.stderr[-500:]}"], warnings, {}
    page = _PageParser()
    page.feed(run.stdout)
    if chapter and page.images < 1:
        problems.append("no <img> (figure) in the chapter's outputs")
    if page.error_outputs:
        problems.append(f"{page.error_outputs} error output(s) (traceback) in the page")
    for text in page.outputs:
        m = ERROR_LINE.search(html.unescape(text))
        if m:
            problems.append(f"an output cell shows an error: {m.group(0).strip()!r}")
    if page.raw_math:
        problems.append(f"{len(page.raw_math)} formula(s) shown as raw TeX (MathJax did not run?), e.g. "
                        f"{page.raw_math[0]!r}")
    if page.errors_attr is None:
        problems.append("the error hook did not run (page scripts did not execute?)")
    origin = url.split("/", 3)[:3]
    for err in json.loads(page.errors_attr or "[]"):
        local = "/".join(origin) in err or "127.0.0.1" in err
        if err.startswith("resource: ") and not local:
            warnings.append(f"external resource not loaded (offline?): {err[10:]}")
        else:
            problems.append(err)
    for line in run.stderr.splitlines():  # console messages the hook cannot see (e.g. parse errors)
        if "CONSOLE" in line and "Uncaught" in line:
            problems.append(f"console: {line.strip()[-300:]}")
    stats = {"images": page.images, "outputs": len(page.outputs), "math": page.math}
    return problems, warnings, stats


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--html", type=Path, default=ROOT / "book" / "_build" / "html")
    ap.add_argument("--screenshot", type=Path, default=ROOT / "artifacts" / "ci" / "screenshot_ch01.png")
    args = ap.parse_args(argv)
    if not (args.html / "intro.html").exists():
        raise SystemExit(f"{args.html}/intro.html not found: build the book first (bash ci/build_book.sh)")
    browser = find_browser()
    version = subprocess.run([browser, "--version"], capture_output=True, text=True).stdout.strip()
    print(f"browser: {version or browser}")
    server, base = serve(args.html)
    pages = [("intro.html", False)] + [(nb.stem + ".html", True) for nb in chapters()]
    failed = 0
    try:
        for i, (page, is_chapter) in enumerate(pages):
            shot = args.screenshot if is_chapter and page.startswith("01_") else None
            problems, warnings, stats = check_page(browser, f"{base}/{page}", chapter=is_chapter, screenshot=shot)
            status = "FAIL" if problems else "ok"
            print(f"{status:4} {page}: {stats.get('images', 0)} image(s), {stats.get('outputs', 0)} output(s), "
                  f"{stats.get('math', 0)} formula(s)"
                  + (f"; screenshot {shot}" if shot else ""))
            for w in sorted(set(warnings)):
                print(f"     warning: {w}")
            for p in problems:
                print(f"     error: {p}")
            failed += bool(problems)
    finally:
        server.shutdown()
    print(f"browser check: {len(pages) - failed}/{len(pages)} pages ok")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
