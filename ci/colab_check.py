#!/usr/bin/env python
"""Run every chapter, exercise and solution notebook the way a fresh Colab runtime would.

What is Colab-like here:

* Python 3.12 in its own venv, with Colab's notebook stack pinned (``COLAB_PINS``) and the CUDA
  build of torch that PyPI serves for 3.12 (Colab brings its own torch; there is no GPU here, so
  it runs on the CPU). The venv is cached (``--venv``, default ``~/.cache/noether-lite/colab-py312``)
  and rebuilt only when the pins change.
* papermill runs *inside* that runtime, so the kernel is driven by Colab's ``jupyter-client``.
* ``google.colab`` is importable and imported at kernel start (an IPython startup file), so each
  notebook's setup cell takes its Colab branch and runs its own install command. The only change
  to the notebook is the URL in that command: the GitHub repository becomes this clone's commit
  (``git+file://...@SHA``), so what is installed is what is committed here, from a clone, as pip
  would fetch it from GitHub.
* Each notebook runs alone in an empty working folder: no checkout to read from. noether-lite is
  uninstalled before each notebook, so every setup cell installs it again.

Exit status 1 if any notebook fails (an exercise may stop at its first unsolved stub). Times go
to ``--out`` (JSON) and to stdout.

Usage::

    python ci/colab_check.py                 # all of book/NN_*.ipynb, exercises/, solutions/
    python ci/colab_check.py book/06_video_ramps.ipynb
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List

ROOT = Path(__file__).resolve().parents[1]
PYTHON_VERSION = "3.12"
# Colab's runtime as the issue tracker recorded it (notebook stack), plus its torch line.
COLAB_PINS = [
    "ipykernel==6.17.1",
    "ipython==7.34.0",
    "ipywidgets==7.7.1",
    "jupyter-client==6.1.12",
    "torch==2.13.0",
    "numpy",
    "matplotlib",
    "tqdm",
    "sympy",
    "papermill",  # the driver, inside the runtime (with Colab's jupyter-client)
]
sys.path.insert(0, str(ROOT / "ci"))
from badges import repository  # noqa: E402  (_config.yml names the repository, once)

GITHUB = "git+{0}@{3}".format(*repository())
STARTUP = "import google.colab  # noqa: F401  (a stand-in: the setup cells ask whether it is loaded)\n"


def find_python() -> str:
    """A Python 3.12 interpreter: ``$NOETHER_COLAB_PYTHON``, pyenv's 3.12, or ``python3.12``."""
    cands = [os.environ.get("NOETHER_COLAB_PYTHON")]
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    cands += [str(p / "bin" / "python") for p in sorted((pyenv_root / "versions").glob(PYTHON_VERSION + ".*"),
                                                        reverse=True)]
    cands.append(shutil.which("python3.12"))  # last: pyenv's shim answers to the name and fails
    for c in cands:
        if not c:
            continue
        r = subprocess.run([c, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                           capture_output=True, text=True)
        if r.returncode == 0 and r.stdout.strip() == PYTHON_VERSION:
            return c
    raise SystemExit(f"colab check: no Python {PYTHON_VERSION} found (set NOETHER_COLAB_PYTHON)")


def venv_ready(venv: Path) -> Path:
    """Create (or reuse) the Colab-like venv; return its python."""
    py = venv / "bin" / "python"
    stamp = venv / "colab-pins.json"
    if py.exists() and stamp.exists() and json.loads(stamp.read_text()) == COLAB_PINS:
        print(f"colab venv: reusing {venv}")
        return py
    t0 = time.perf_counter()
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([find_python(), "-m", "venv", str(venv)], check=True)
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--upgrade", "pip"], check=True)
    subprocess.run([str(py), "-m", "pip", "install", "-q", *COLAB_PINS], check=True)
    # the kernelspec names this venv's python, whatever PATH says
    subprocess.run([str(py), "-m", "ipykernel", "install", "--sys-prefix", "--name", "python3"],
                   check=True, capture_output=True)
    site = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    colab = Path(site) / "google" / "colab"
    colab.mkdir(parents=True, exist_ok=True)
    (colab / "__init__.py").write_text('"""A stand-in for Colab\'s google.colab (a test of the setup cells)."""\n')
    stamp.write_text(json.dumps(COLAB_PINS))
    print(f"colab venv: built {venv} in {time.perf_counter() - t0:.0f} s")
    return py


def head_requirement() -> str:
    sha = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], check=True,
                         capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    if dirty:
        print("colab check: the working tree has uncommitted changes; the notebooks install the "
              f"committed package ({sha[:12]})")
    return f"git+file://{ROOT}@{sha}"


def _cells_gone_quiet(committed: Dict, executed: Dict) -> List[int]:
    """Code cells (1-based) that have outputs in the committed notebook and none after this run:
    a section that comes out empty without a checkout (a file it could not find)."""
    def shown(o):
        return o.get("output_type") != "stream" or "".join(o.get("text", ""))

    def outputs(nb):
        return [sum(1 for o in c.get("outputs", []) if shown(o)) for c in nb["cells"] if c["cell_type"] == "code"]
    a, b = outputs(committed), outputs(executed)
    return [i + 1 for i, (x, y) in enumerate(zip(a, b)) if x and not y]


def run_one(py: Path, nb: Path, requirement: str, work: Path, timeout: int) -> Dict:
    text = nb.read_text(encoding="utf-8")
    if GITHUB not in text:
        return {"notebook": str(nb.relative_to(ROOT)), "status": "error", "seconds": 0.0,
                "result": f"no setup cell installing {GITHUB}", "files_written": []}
    folder = work / f"{nb.parent.name}_{nb.stem}"
    folder.mkdir(parents=True)
    src = folder / nb.name
    src.write_text(text.replace(GITHUB, requirement), encoding="utf-8")
    out = folder / ("executed_" + nb.name)
    ipython_dir = work / "ipython"
    (ipython_dir / "profile_default" / "startup").mkdir(parents=True, exist_ok=True)
    (ipython_dir / "profile_default" / "startup" / "00-colab.py").write_text(STARTUP)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NOETHER_", "PYTHON", "VIRTUAL_ENV"))}
    env.update(IPYTHONDIR=str(ipython_dir), PATH=f"{py.parent}:{env.get('PATH', '')}",
               MPLBACKEND="module://matplotlib_inline.backend_inline", PIP_DISABLE_PIP_VERSION_CHECK="1")
    subprocess.run([str(py), "-m", "pip", "uninstall", "-q", "-y", "noether-lite"], capture_output=True)
    t0 = time.perf_counter()
    driver = (
        "import sys, papermill\n"
        "from papermill.exceptions import PapermillExecutionError\n"
        "try:\n"
        "    papermill.execute_notebook(sys.argv[1], sys.argv[2], kernel_name='python3', cwd=sys.argv[3],\n"
        "                               progress_bar=False, execution_timeout=int(sys.argv[4]))\n"
        "    print('STATUS ok')\n"
        "except PapermillExecutionError as e:\n"
        "    stub = e.ename == 'NotImplementedError' and 'Exercise' in str(e.evalue)\n"
        "    print('STATUS stub' if stub else f'STATUS error {e.ename}: {e.evalue}'.splitlines()[0])\n"
    )
    try:
        r = subprocess.run([str(py), "-c", driver, str(src), str(out), str(folder), str(timeout)],
                           cwd=folder, env=env, capture_output=True, text=True, timeout=timeout + 120)
        lines = [ln for ln in r.stdout.splitlines() if ln.startswith("STATUS ")]
        status = lines[-1][7:] if lines else f"error (exit {r.returncode}): {r.stderr.strip().splitlines()[-1:] }"
    except subprocess.TimeoutExpired:
        status = f"error: no result after {timeout + 120} s"
    seconds = time.perf_counter() - t0
    installed = subprocess.run([str(py), "-m", "pip", "show", "noether-lite"], capture_output=True).returncode == 0
    if not installed and status in ("ok", "stub"):
        status = "error: the setup cell did not install noether-lite"
    if status == "ok" and out.exists():
        empty = _cells_gone_quiet(json.loads(text), json.loads(out.read_text(encoding="utf-8")))
        if empty:
            status = f"error: cell(s) {empty} printed or drew nothing here, unlike the committed notebook"
    kind = nb.parent.name
    ok = status == "ok" or (status == "stub" and kind == "exercises")
    left = sorted(p.name for p in folder.iterdir() if p not in (src, out))
    return {"notebook": str(nb.relative_to(ROOT)), "status": "ok" if ok else "error",
            "result": status, "seconds": round(seconds, 1), "files_written": left}


def main(argv: List[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("notebooks", nargs="*", type=Path)
    ap.add_argument("--venv", type=Path, default=Path.home() / ".cache" / "noether-lite" / "colab-py312")
    ap.add_argument("--out", type=Path, default=ROOT / "ci" / "out" / "colab_run.json")
    ap.add_argument("--timeout", type=int, default=900, help="seconds per cell (and per notebook + 120)")
    ap.add_argument("--find-python", action="store_true", help="print the Python 3.12 this would use; exit 1 if none")
    args = ap.parse_args(argv)
    if args.find_python:
        print(find_python())
        return 0
    nbs = [p.resolve() for p in args.notebooks] or (
        sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb")) + sorted((ROOT / "exercises").glob("*.ipynb"))
        + sorted((ROOT / "solutions").glob("*.ipynb")))
    py = venv_ready(args.venv)
    versions = subprocess.run(
        [str(py), "-c", "import sys, torch, IPython, ipykernel, ipywidgets, jupyter_client; "
         "print(f'python {sys.version.split()[0]}, torch {torch.__version__}, IPython {IPython.__version__}, '"
         "f'ipykernel {ipykernel.__version__}, ipywidgets {ipywidgets.__version__}, '"
         "f'jupyter_client {jupyter_client.__version__}')"], capture_output=True, text=True, check=True).stdout.strip()
    print(f"colab runtime: {versions}")
    requirement = head_requirement()
    results = []
    with tempfile.TemporaryDirectory(prefix="colab-") as tmp:
        for nb in nbs:
            res = run_one(py, nb, requirement, Path(tmp), args.timeout)
            results.append(res)
            print(f"{res['status']:5s} {res['seconds']:6.1f} s  {res['notebook']}  ({res['result']})", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"runtime": versions, "requirement": requirement, "notebooks": results},
                                   indent=2) + "\n")
    bad = [r for r in results if r["status"] != "ok"]
    total = sum(r["seconds"] for r in results)
    print(f"colab check: {len(results) - len(bad)}/{len(results)} notebooks ok, {total:.0f} s in all")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
