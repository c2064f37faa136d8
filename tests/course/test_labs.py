"""noether_lite.course.labs: listing, parameter errors, and running a tiny synthetic chapter."""
import json
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

import noether_lite.course.labs as labs

CELLS = [
    new_markdown_cell("# 1. A tiny chapter"),
    new_code_cell('import os\nQUICK = os.environ.get("NOETHER_QUICK", "1") != "0"\nSEED = 0\nDEVICE = "auto"'),
    new_code_cell(
        "import noether_lite.course.labs as labs\n"
        'labs.record_metric("quick", QUICK)\nlabs.record_metric("seed", SEED)\nlabs.record_metric("device", DEVICE)\n'
        'labs.record_metric("env_quick", os.environ["NOETHER_QUICK"])'),
    new_code_cell(
        "import base64\nfrom IPython.display import Image, display\n"
        "png = base64.b64decode('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==')\n"
        "display(Image(data=png))"),
]


@pytest.fixture
def book(tmp_path):
    book = tmp_path / "book"
    book.mkdir()
    nb = new_notebook(cells=[c.copy() for c in CELLS], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    nb.cells[1].metadata["tags"] = ["parameters"]
    nbformat.write(nb, book / "01_tiny.ipynb")
    nbformat.write(nb, book / "02_other.ipynb")
    (book / "intro.md").write_text("# not a chapter\n")
    return book


def test_list_labs_reads_measured_times(book, tmp_path):
    times = tmp_path / "times.json"
    labs.record_lab_time("01_tiny", mode="quick", device="cpu", seconds=12.34, path=times)
    found = labs.list_labs(book, times_path=times)
    assert [l.chapter for l in found] == ["01_tiny", "02_other"]
    assert found[0].title == "1. A tiny chapter"
    assert found[0].times["quick/cpu"] == 12.3 and found[0].times["full/gpu"] is None
    table = labs.format_labs(found)
    assert "12 s" in table and "not measured yet" in table
    data = json.loads(times.read_text())
    assert data["labs"]["01_tiny"]["quick"]["cpu"]["seconds"] == 12.3


def test_there_is_one_timing_file_and_it_ships_with_the_package():
    root = Path(labs.__file__).resolve().parents[2]
    assert not (root / "ci" / "lab_times.json").exists() and not (root / "ci" / "chapter_times.json").exists()
    times = json.loads(Path(labs.__file__).with_name("lab_times.json").read_text())
    assert labs._times_path(None) == Path(labs.__file__).with_name("lab_times.json")
    assert times["labs"]["01_symmetries"]["quick"]["cpu"]["seconds"] > 0


def test_unknown_chapter_and_parameters_list_the_valid_ones(book, tmp_path):
    with pytest.raises(ValueError, match="valid chapters: 01_tiny, 02_other"):
        labs.run_lab("07", book_dir=book, out=tmp_path / "o")
    with pytest.raises(ValueError, match="valid: quick, full"):
        labs.run_lab("01", mode="fast", book_dir=book)
    with pytest.raises(ValueError, match="valid: auto, cpu, cuda"):
        labs.run_lab("01", device="tpu", book_dir=book)
    with pytest.raises(ValueError, match="seed"):
        labs.run_lab("01", seed="0", book_dir=book)
    assert labs._resolve_chapter(1, book) == labs._resolve_chapter("tiny", book) == "01_tiny"


def test_missing_book_is_a_clear_error(tmp_path):
    with pytest.raises(labs.LabError, match="source checkout|clone"):
        labs.find_book_dir(tmp_path / "nowhere")


def test_record_metric_is_a_noop_outside_a_lab(monkeypatch, tmp_path):
    monkeypatch.delenv(labs.METRICS_ENV, raising=False)
    assert labs.record_metric("x", 1.5) is None  # nothing to show as a cell's output
    assert not list(tmp_path.iterdir())
    f = tmp_path / "m.jsonl"
    monkeypatch.setenv(labs.METRICS_ENV, str(f))
    import torch

    labs.record_metric("rmse", torch.tensor(0.25))
    assert json.loads(f.read_text()) == {"name": "rmse", "value": 0.25}


def test_run_lab_writes_notebook_metrics_figures_and_skips_rerun(book, tmp_path):
    out = tmp_path / "lab"
    res = labs.run_lab("01", mode="full", device="cpu", seed=7, out=out, book_dir=book, progress=False)
    assert res["status"] == "ok"
    assert (out / "01_tiny.ipynb").exists()
    figs = sorted((out / "figures").iterdir())
    assert len(figs) == 1 and figs[0].suffix == ".png" and figs[0].read_bytes().startswith(b"\x89PNG")
    m = json.loads((out / "metrics.json").read_text())
    assert m["status"] == "ok" and m["mode"] == "full" and m["seed"] == 7 and m["device"] == "cpu"
    assert m["metrics"] == {"quick": False, "seed": 7, "device": "cpu", "env_quick": "0"}
    assert m["seconds"] > 0 and m["figures"] == [f"figures/{figs[0].name}"]
    again = labs.run_lab("01_tiny", mode="full", device="cpu", seed=7, out=out, book_dir=book, progress=False)
    assert again["status"] == "skipped" and again["started"] == m["started"]
    # other parameters (or force) run it again
    res2 = labs.run_lab("01", mode="quick", device="cpu", seed=7, out=out, book_dir=book, progress=False)
    assert res2["status"] == "ok" and res2["metrics"]["quick"] is True


def test_failed_lab_writes_error_status(book, tmp_path):
    nb = nbformat.read(book / "02_other.ipynb", as_version=4)
    nb.cells.append(new_code_cell("raise RuntimeError('boom')"))
    nbformat.write(nb, book / "02_other.ipynb")
    with pytest.raises(labs.LabError, match="boom"):
        labs.run_lab("02", device="cpu", out=tmp_path / "bad", book_dir=book, progress=False)
    assert json.loads((tmp_path / "bad" / "metrics.json").read_text())["status"] == "error"


def test_cli_parser(book, capsys):
    from noether_lite.cli import build_parser

    parser = build_parser()
    args = parser.parse_args(["lab", "run", "01", "--mode", "full", "--device", "cpu", "--seed", "3", "--out", "x", "--force"])
    assert (args.chapter, args.mode, args.device, args.seed, str(args.out), args.force) == ("01", "full", "cpu", 3, "x", True)
    with pytest.raises(SystemExit):
        parser.parse_args(["lab", "run", "01", "--mode", "fast"])
    assert "invalid choice" in capsys.readouterr().err
    assert labs.main(["list", "--book-dir", str(book)]) == 0
    assert "01_tiny" in capsys.readouterr().out
    assert labs.main(["run", "nope", "--book-dir", str(book)]) == 2
    assert "valid chapters: 01_tiny, 02_other" in capsys.readouterr().err


def test_a_second_lab_run_on_the_same_folder_is_refused_and_a_dead_ones_lock_is_taken_over(book, tmp_path):
    import os
    import subprocess
    import sys

    out = tmp_path / "out"
    out.mkdir()
    (out / ".lab.lock").write_text(str(os.getpid()))  # a live run holds the folder
    with pytest.raises(labs.LabError, match=r"another lab run \(pid \d+\) is writing to"):
        labs.run_lab("01", book_dir=book, out=out, progress=False, record_time=False)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (out / ".lab.lock").write_text(dead.stdout.strip())  # its run died: the lock is stale
    res = labs.run_lab("01", book_dir=book, out=out, progress=False, record_time=False)
    assert res["status"] == "ok" and not (out / ".lab.lock").exists()
    assert res["metrics"]["seed"] == 0  # nothing lost


def test_an_output_folder_that_cannot_be_written_is_refused_before_running(book, tmp_path):
    f = tmp_path / "a_file"
    f.write_text("x")
    with pytest.raises(ValueError, match="cannot be created"):
        labs.run_lab("01", book_dir=book, out=f / "sub", progress=False, record_time=False)


def test_a_lab_gives_its_experiments_a_checkpoint_folder_and_clears_it_once_finished(tmp_path):
    book = tmp_path / "book"
    book.mkdir()
    cells = [c.copy() for c in CELLS[:2]] + [new_code_cell(
        "import os, pathlib\nimport noether_lite.course.labs as labs\n"
        "d = pathlib.Path(os.environ['NOETHER_CKPT_DIR'])\nd.mkdir(parents=True, exist_ok=True)\n"
        "(d / 'stage.pt').write_text('x')\nlabs.record_metric('ckpt_dir', str(d))")]
    nb = new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                            "language": "python"}})
    nb.cells[1].metadata["tags"] = ["parameters"]
    nbformat.write(nb, book / "01_ck.ipynb")
    out = tmp_path / "lab"
    res = labs.run_lab("01", book_dir=book, out=out, progress=False, record_time=False)
    assert res["metrics"]["ckpt_dir"] == str((out / "checkpoints").resolve())
    assert not (out / "checkpoints").exists()  # removed after a finished run; kept after a failed one


def test_the_experiments_read_the_checkpoint_folder_a_lab_sets(tmp_path, monkeypatch):
    import noether_lite as nl

    monkeypatch.setenv("NOETHER_CKPT_DIR", str(tmp_path / "ck"))
    cfg = nl.PhysicsConfig.for_mode("spring", hidden=8, pretrain_steps=3, meta_steps=0)
    nl.run_physics("spring", config=cfg, methods=("vanilla",), progress=False)
    (name,) = [p.name for p in (tmp_path / "ck").iterdir()]
    assert name.startswith("spring_quick_seed0_") and name.endswith("_vanilla.pt")
    other = nl.PhysicsConfig.for_mode("spring", hidden=8, pretrain_steps=3, meta_steps=0, n_train=10)
    nl.run_physics("spring", config=other, methods=("vanilla",), progress=False)  # a study's next value
    assert len(list((tmp_path / "ck").iterdir())) == 2  # its own checkpoint, not a refusal
