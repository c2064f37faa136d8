"""Labs for instructors: run a book chapter end to end, with parameters, and keep what it produced.

A *lab* is one chapter notebook of the book (``book/NN_name.ipynb``), executed with
papermill in quick or full mode on a chosen device and seed::

    noether-lite lab list
    noether-lite lab run 03 --mode quick --device cpu --seed 0 --out labs/03

:func:`run_lab` writes into the output folder

* ``NN_name.ipynb`` — the executed notebook;
* ``metrics.json`` — status, run time, mode, seed, device, versions, and every
  metric the chapter recorded with :func:`record_metric`;
* ``figures/`` — every PNG (and SVG) figure the notebook displayed.

A lab that already finished with the same parameters is not re-run unless
``force=True``. Labs need a source checkout of the repository (the chapters are
not part of the installed package); :func:`find_book_dir` looks for it.

Measured run times live in one file, ``noether_lite/course/lab_times.json``, which ships with
the package. :func:`run_lab` records its time there only when it runs the book of the
source checkout the package is imported from (an editable install), never into an
installed package; :func:`list_labs` prints them ("not measured yet" where there is none).
"""
from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import logging
import os
import platform
import re
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Union

from ..core.outputs import write_json

__all__ = [
    "MODES",
    "DEVICES",
    "METRICS_ENV",
    "Lab",
    "LabError",
    "find_book_dir",
    "list_labs",
    "format_labs",
    "run_lab",
    "record_metric",
    "record_lab_time",
    "load_lab_times",
    "main",
]

MODES = ("quick", "full")
DEVICES = ("auto", "cpu", "cuda")
METRICS_ENV = "NOETHER_LAB_METRICS"
BOOK_ENV = "NOETHER_BOOK_DIR"
_CHAPTER = re.compile(r"^(\d\d)_[\w-]+\.ipynb$")
_PACKAGE_TIMES = Path(__file__).with_name("lab_times.json")
_NOT_MEASURED = "not measured yet"


class LabError(RuntimeError):
    """A lab could not run (no book folder, no GPU, or the notebook failed)."""


@dataclass(frozen=True)
class Lab:
    """One chapter that can be run as a lab.

    Attributes:
        chapter: the notebook's stem, e.g. ``"03_known_conservation"``.
        title: the notebook's first ``#`` heading.
        path: the chapter notebook.
        times: measured seconds keyed ``"quick/cpu"``, ``"quick/gpu"``, ``"full/cpu"``,
            ``"full/gpu"``; ``None`` where not measured yet.
    """

    chapter: str
    title: str
    path: Path
    times: Dict[str, Optional[float]] = field(default_factory=dict)


# ----------------------------------------------------------------------------- finding chapters
def _package_checkout_book() -> Path:
    return Path(__file__).resolve().parents[1] / "book"


def find_book_dir(book_dir: Union[str, Path, None] = None) -> Path:
    """The book folder holding the chapter notebooks.

    Looks at, in order: ``book_dir``; ``$NOETHER_BOOK_DIR``; ``book/`` in the current
    directory or any parent; ``book/`` next to the package (an editable install).

    Raises:
        LabError: no folder with chapter notebooks (labs need a source checkout).
    """
    candidates: List[Path] = []
    if book_dir is not None:
        candidates.append(Path(book_dir))
    elif os.environ.get(BOOK_ENV):
        candidates.append(Path(os.environ[BOOK_ENV]))
    else:
        cwd = Path.cwd().resolve()
        candidates += [d / "book" for d in (cwd, *cwd.parents)]
        candidates.append(_package_checkout_book())
    for c in candidates:
        if c.is_dir() and any(_CHAPTER.match(p.name) for p in c.iterdir()):
            return c.resolve()
    where = ", ".join(str(c) for c in candidates[:3]) + (", ..." if len(candidates) > 3 else "")
    raise LabError(
        f"cannot find the book's chapter notebooks (book/NN_name.ipynb); looked in {where}. "
        "Labs run the chapters, which are not part of the installed package: clone the repository "
        "(git clone https://github.com/noether-lite/noether-lite) and run from inside it, "
        f"or pass book_dir= / set {BOOK_ENV}."
    )


def _chapters(book: Path) -> Dict[str, Path]:
    return {p.stem: p for p in sorted(book.glob("*.ipynb")) if _CHAPTER.match(p.name)}


def _resolve_chapter(chapter: Union[str, int], book: Path) -> str:
    chapters = _chapters(book)
    key = str(chapter).strip()
    if key.endswith(".ipynb"):
        key = key[:-6]
    if key in chapters:
        return key
    matches = [c for c in chapters if (key.isdigit() and c[:2] == f"{int(key):02d}") or c[3:] == key]
    if len(matches) == 1:
        return matches[0]
    raise ValueError(f"unknown chapter {chapter!r}; valid chapters: {', '.join(chapters) or '(none found)'} "
                     "(also accepted: the number, e.g. '3', or the name, e.g. 'known_conservation')")


def _title(path: Path) -> str:
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
        for cell in nb.get("cells", []):
            if cell.get("cell_type") == "markdown":
                for line in "".join(cell.get("source", "")).splitlines():
                    if line.startswith("# "):
                        return line[2:].strip()
    except (OSError, ValueError):
        pass
    return path.stem


# ----------------------------------------------------------------------------- measured times
def _times_path(book: Optional[Path]) -> Path:
    """The one measured-times file, ``noether_lite/course/lab_times.json``."""
    return _PACKAGE_TIMES


def load_lab_times(path: Union[str, Path, None] = None) -> Dict[str, Any]:
    """The measured-times table: ``{"labs": {chapter: {mode: {"cpu"|"gpu": {"seconds": ...}}}}}``."""
    p = Path(path) if path is not None else _times_path(_safe_book())
    if not p.exists():
        return {"labs": {}}
    data = json.loads(p.read_text(encoding="utf-8"))
    data.setdefault("labs", {})
    return data


def _safe_book() -> Optional[Path]:
    try:
        return find_book_dir()
    except LabError:
        return None


def record_lab_time(chapter: str, *, mode: str, device: str, seconds: float,
                    path: Union[str, Path, None] = None, machine: Optional[str] = None) -> Path:
    """Record one measured run time (``device`` is ``"cpu"`` or ``"gpu"``/``"cuda"``).

    Writes ``path`` (default: ``noether_lite/course/lab_times.json``, the one timing file).
    Chapter executors (CI) call this as well as :func:`run_lab`; a new measurement of the
    same chapter, mode and device replaces the old one.
    """
    _check_choice("mode", mode, MODES)
    kind = "gpu" if device in ("gpu", "cuda") else "cpu"
    if device not in ("cpu", "gpu", "cuda"):
        raise ValueError(f"device must be 'cpu' or 'gpu' for a measured time, got {device!r}")
    target = Path(path) if path is not None else _times_path(_safe_book())
    import torch

    entry = {
        "seconds": round(float(seconds), 1),
        "measured": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
        "machine": machine or _machine(kind),
        "torch": torch.__version__,
    }
    data = load_lab_times(target) if target.exists() else {"labs": {}}
    data.setdefault("note", "Measured lab run times (seconds), written by noether_lite.course.labs.record_lab_time.")
    data["labs"].setdefault(chapter, {}).setdefault(mode, {})[kind] = entry
    data["labs"] = dict(sorted(data["labs"].items()))
    target.parent.mkdir(parents=True, exist_ok=True)
    write_json(target, data, indent=2, sort_keys=True)
    return target


def _machine(kind: str) -> str:
    if kind == "gpu":
        import torch

        if torch.cuda.is_available():
            return torch.cuda.get_device_name(0)
    return f"{platform.machine()} CPU, {os.cpu_count()} cores"


def list_labs(book_dir: Union[str, Path, None] = None, *, times_path: Union[str, Path, None] = None) -> List[Lab]:
    """Every chapter of the book, with its measured run times (``None``: not measured yet)."""
    book = find_book_dir(book_dir)
    table = load_lab_times(times_path if times_path is not None else _times_path(book))["labs"]
    labs = []
    for stem, path in _chapters(book).items():
        rec = table.get(stem, {})
        times = {f"{m}/{d}": (rec.get(m, {}).get(d) or {}).get("seconds") for m in MODES for d in ("cpu", "gpu")}
        labs.append(Lab(chapter=stem, title=_title(path), path=path, times=times))
    return labs


def _fmt_time(s: Optional[float]) -> str:
    if s is None:
        return _NOT_MEASURED
    return f"{s:.0f} s" if s < 90 else f"{s / 60:.1f} min"


def format_labs(labs: List[Lab]) -> str:
    """A plain-text table of :func:`list_labs`."""
    cols = ["quick/cpu", "quick/gpu", "full/cpu", "full/gpu"]
    rows = [["chapter", "title", *cols]] + [[l.chapter, l.title, *(_fmt_time(l.times.get(c)) for c in cols)] for l in labs]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


# ----------------------------------------------------------------------------- metrics
def record_metric(name: str, value: Any) -> None:
    """Record a metric of the running lab (a no-op outside a lab).

    Chapters call ``record_metric("test_rmse", rmse)``; under :func:`run_lab`
    the value lands in ``metrics.json`` (the last value of a name wins). Tensors and
    numpy scalars are converted to Python numbers.
    """
    path = os.environ.get(METRICS_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps({"name": str(name), "value": _jsonable(value)}, ensure_ascii=False) + "\n")


def _jsonable(v: Any) -> Any:
    if hasattr(v, "detach"):  # torch tensor
        v = v.detach().cpu()
        return v.item() if v.numel() == 1 else v.tolist()
    if hasattr(v, "tolist"):  # numpy
        return v.tolist()
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, (int, float, str, bool)) or v is None:
        return v
    return str(v)


# ----------------------------------------------------------------------------- running
def _check_choice(what: str, value: Any, valid) -> None:
    if value not in valid:
        raise ValueError(f"unknown {what} {value!r}; valid: {', '.join(map(str, valid))}")


@contextlib.contextmanager
def _env(**values: str) -> Iterator[None]:
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _extract_figures(nb: Dict[str, Any], folder: Path) -> List[str]:
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("fig_*"):
        old.unlink()
    names = []
    for i, cell in enumerate(nb.get("cells", [])):
        k = 0
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            for mime, ext in (("image/png", "png"), ("image/svg+xml", "svg")):
                if mime in data:
                    k += 1
                    name = f"fig_cell{i:03d}_{k}.{ext}"
                    payload = data[mime]
                    payload = "".join(payload) if isinstance(payload, list) else payload
                    if ext == "png":
                        (folder / name).write_bytes(base64.b64decode(payload))
                    else:
                        (folder / name).write_text(payload, encoding="utf-8")
                    names.append(name)
    return names


def _read_metrics(path: Path) -> Dict[str, Any]:
    metrics: Dict[str, Any] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                rec = json.loads(line)
                metrics[rec["name"]] = rec["value"]
    return metrics


def run_lab(
    chapter: Union[str, int],
    *,
    mode: str = "quick",
    device: str = "auto",
    seed: int = 0,
    out: Union[str, Path, None] = None,
    force: bool = False,
    progress: bool = True,
    book_dir: Union[str, Path, None] = None,
    record_time: Optional[bool] = None,
    timeout: Optional[int] = None,
) -> Dict[str, Any]:
    """Execute one chapter with papermill and keep its notebook, metrics and figures.

    Args:
        chapter: ``"03_known_conservation"``, ``"03"``, ``3`` or ``"known_conservation"``.
        mode: ``"quick"`` (small, CI-sized) or ``"full"`` (the paper's sizes).
        device: ``"auto"`` (CUDA if available), ``"cpu"`` or ``"cuda"``.
        seed: passed to the chapter's ``SEED`` parameter.
        out: output folder (default ``labs/<chapter>-<mode>-<device>-seed<seed>``).
        force: re-run even if ``out`` holds a finished run with the same parameters.
        progress: show papermill's progress bar.
        book_dir: the folder of chapter notebooks (default: :func:`find_book_dir`).
        record_time: write the run time to the measured-times table (default: only when
            running the checkout's own book).
        timeout: per-cell timeout in seconds (default: none; the CLI's ``--timeout`` is 1800).

    The chapter's experiments checkpoint into ``out/checkpoints`` (``$NOETHER_CKPT_DIR``), so an
    interrupted lab resumes them when run again; a finished lab removes them. One run per ``out``
    at a time (a lock file).

    Returns:
        The contents of ``metrics.json``; ``status`` is ``"ok"`` (or ``"skipped"`` in the
        returned dict when a finished run was reused; the file keeps ``"ok"``).

    Raises:
        ValueError: an unknown chapter, mode or device (the message lists the valid ones),
            or a seed that is not an int.
        LabError: no book folder, ``device="cuda"`` without a GPU, or the notebook failed
            (its partial output and a ``metrics.json`` with ``status="error"`` are written).
    """
    _check_choice("mode", mode, MODES)
    _check_choice("device", device, DEVICES)
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise ValueError(f"seed must be an int, got {seed!r}")
    book = find_book_dir(book_dir)
    stem = _resolve_chapter(chapter, book)
    src = _chapters(book)[stem]
    import torch

    has_cuda = torch.cuda.is_available()
    if device == "cuda" and not has_cuda:
        raise LabError("device='cuda' but no CUDA GPU is available here; use --device cpu or auto")
    kind = "gpu" if device == "cuda" or (device == "auto" and has_cuda) else "cpu"
    out_dir = Path(out) if out is not None else Path("labs") / f"{stem}-{mode}-{device}-seed{seed}"
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ValueError(f"lab output folder {str(out_dir)!r} cannot be created ({e.strerror}); choose another --out") from None
    if not os.access(out_dir, os.W_OK | os.X_OK):
        raise ValueError(f"lab output folder {str(out_dir)!r} is not writable; choose another --out")
    with _out_lock(out_dir):
        return _run_lab_in(out_dir, stem, src, book, mode=mode, device=device, seed=seed, kind=kind, force=force,
                           progress=progress, timeout=timeout, record_time=record_time)


@contextlib.contextmanager
def _out_lock(out_dir: Path) -> Iterator[None]:
    """One ``lab run`` per output folder at a time: a second one is refused, not interleaved."""
    lock = out_dir / ".lab.lock"
    for _ in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            break
        except FileExistsError:
            try:
                pid = int(lock.read_text().strip() or 0)
            except (OSError, ValueError):
                pid = 0
            if pid and _alive(pid):
                raise LabError(f"another lab run (pid {pid}) is writing to {out_dir}; wait for it to finish "
                               f"or choose another --out") from None
            lock.unlink(missing_ok=True)  # left by a run that died: take it over
    else:  # pragma: no cover - a race lost twice
        raise LabError(f"could not lock {out_dir}; try again")
    try:
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
        yield
    finally:
        lock.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _run_lab_in(out_dir: Path, stem: str, src: Path, book: Path, *, mode: str, device: str, seed: int, kind: str,
                force: bool, progress: bool, timeout: Optional[int], record_time: Optional[bool]) -> Dict[str, Any]:
    import torch

    metrics_file = out_dir / "metrics.json"
    params = {"chapter": stem, "mode": mode, "device": device, "seed": seed, "chapter_sha256": _sha256(src)}

    if metrics_file.exists() and not force:
        try:
            old = json.loads(metrics_file.read_text(encoding="utf-8"))
        except ValueError:
            old = {}
        if old.get("status") == "ok" and all(old.get(k) == v for k, v in params.items()):
            if progress:
                print(f"{stem}: already finished in {out_dir} ({old.get('seconds', '?')} s); pass force=True / --force to re-run")
            return {**old, "status": "skipped"}

    import noether_lite
    import papermill

    nb_out = out_dir / f"{stem}.ipynb"
    raw = out_dir / ".metrics.jsonl"
    raw.unlink(missing_ok=True)
    started = datetime.now(timezone.utc)
    t0 = time.perf_counter()
    status, error = "ok", None
    ckpt_dir = out_dir / "checkpoints"  # the chapter's experiments resume from here after an interruption
    env = {"NOETHER_QUICK": "1" if mode == "quick" else "0", METRICS_ENV: str(raw.resolve()),
           "NOETHER_CKPT_DIR": str(ckpt_dir.resolve())}
    if device == "cpu":
        env["CUDA_VISIBLE_DEVICES"] = ""
    pm_log = logging.getLogger("papermill")
    level = pm_log.level
    pm_log.setLevel(logging.ERROR)  # papermill cannot parse the chapters' env-based QUICK line: noise
    try:
        with _env(**env):
            papermill.execute_notebook(
                str(src), str(nb_out),
                parameters={"QUICK": mode == "quick", "SEED": seed, "DEVICE": device},
                progress_bar=progress, cwd=str(book), kernel_name="python3",
                **({"execution_timeout": timeout} if timeout else {}),
            )
    except Exception as e:  # papermill's PapermillExecutionError, a dead kernel, a timeout
        status, error = "error", f"{type(e).__name__}: {str(e).strip().splitlines()[-1] if str(e).strip() else ''}"
    finally:
        pm_log.setLevel(level)
    seconds = time.perf_counter() - t0

    figures: List[str] = []
    if nb_out.exists():
        figures = _extract_figures(json.loads(nb_out.read_text(encoding="utf-8")), out_dir / "figures")
    result = {
        **params,
        "status": status,
        "error": error,
        "seconds": round(seconds, 1),
        "device_kind": kind,
        "started": started.isoformat(timespec="seconds"),
        "notebook": nb_out.name,
        "figures": [f"figures/{f}" for f in figures],
        "metrics": _read_metrics(raw),
        "versions": {"noether_lite": noether_lite.__version__, "torch": torch.__version__,
                     "python": platform.python_version()},
        "machine": _machine(kind),
    }
    raw.unlink(missing_ok=True)
    if status == "ok":  # finished: the checkpoints have served their purpose
        import shutil

        shutil.rmtree(ckpt_dir, ignore_errors=True)
    write_json(metrics_file, result, indent=2)
    if status != "ok":
        raise LabError(f"lab {stem} failed after {seconds:.0f} s ({error}); the partial notebook is {nb_out}")
    if record_time is None:
        record_time = book == _package_checkout_book().resolve()
    if record_time:
        # only into the source tree this package is imported from, never into an installed copy
        if (book.parent / "noether_lite" / "course" / "lab_times.json").resolve() == _PACKAGE_TIMES.resolve():
            record_lab_time(stem, mode=mode, device=kind, seconds=seconds, path=_PACKAGE_TIMES)
    return result


# ----------------------------------------------------------------------------- command line
def main(argv: Optional[List[str]] = None) -> int:
    """``python -m noether_lite.course.labs list|run ...``: the same as ``noether-lite lab ...``."""
    from ..cli import main as cli_main

    return cli_main(["lab", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
