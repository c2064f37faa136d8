"""ci/running_page.py: the "Running it yourself" page is generated from the measured times."""
import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("running_page", ROOT / "ci" / "running_page.py")
rp = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(rp)


def test_the_page_shows_each_measured_time_and_says_what_is_not_measured(tmp_path, monkeypatch):
    times = tmp_path / "t.json"
    entry = {"machine": "x86_64 CPU, 2 cores", "measured": "2026-12-01", "seconds": 150.0, "torch": "2"}
    times.write_text(json.dumps({"labs": {"03_known_conservation": {"quick": {"cpu": entry}}}}))
    monkeypatch.setattr(rp, "TIMES", times)
    monkeypatch.setattr(rp, "PAGE", tmp_path / "running.md")
    text = rp.page()
    assert "| {doc}`03_known_conservation` | 2.5 min | not measured yet | not measured yet |" in text
    assert "| {doc}`01_symmetries` | not measured yet |" in text
    assert rp.main(["--check"]) == 1  # no page yet
    assert rp.main([]) == 0 and rp.main(["--check"]) == 0
    entry["seconds"] = 30.0
    times.write_text(json.dumps({"labs": {"03_known_conservation": {"quick": {"cpu": entry}}}}))
    assert rp.main(["--check"]) == 1  # a new measurement: the page must be regenerated
