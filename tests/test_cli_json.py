"""The CLI's JSON output: checked before any work, written atomically."""
import json
import os

import pytest

from noether_lite.cli import check_json_path, write_json


def test_a_missing_folder_or_a_folder_as_the_file_is_refused_before_any_work(tmp_path):
    with pytest.raises(SystemExit, match="does not exist; create it first"):
        check_json_path(str(tmp_path / "nope" / "r.json"))
    with pytest.raises(SystemExit, match="is a folder"):
        check_json_path(str(tmp_path))
    assert check_json_path(None) is None
    assert check_json_path(str(tmp_path / "r.json")) == tmp_path / "r.json"


def test_write_json_replaces_the_file_whole_and_leaves_no_temporary_file(tmp_path):
    out = tmp_path / "r.json"
    out.write_text("old, not json")
    write_json(out, {"rmse": {"vanilla": 0.04}, "n": 3})
    assert json.loads(out.read_text()) == {"rmse": {"vanilla": 0.04}, "n": 3}
    assert sorted(os.listdir(tmp_path)) == ["r.json"]
    write_json(None, {"ignored": True})  # no path: nothing written
    assert sorted(os.listdir(tmp_path)) == ["r.json"]
