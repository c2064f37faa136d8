"""Result files: checked before any work (missing folder, folder as file, read-only) and written whole."""
import json
import os

import pytest

from noether_lite.core.outputs import check_output_file, write_json


def test_a_missing_folder_or_a_folder_as_the_file_is_refused(tmp_path):
    with pytest.raises(ValueError, match="does not exist; create it first"):
        check_output_file(tmp_path / "nope" / "r.json")
    with pytest.raises(ValueError, match="is a folder"):
        check_output_file(tmp_path)
    assert check_output_file(None) is None
    assert check_output_file(str(tmp_path / "r.json")) == tmp_path / "r.json"


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root may write anywhere")
def test_a_read_only_folder_is_refused(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        with pytest.raises(ValueError, match="not writable"):
            check_output_file(ro / "r.json")
    finally:
        ro.chmod(0o755)


def test_write_json_replaces_the_file_whole_and_leaves_no_temporary_file(tmp_path):
    out = tmp_path / "r.json"
    out.write_text("old, not json")
    write_json(out, {"rmse": {"vanilla": 0.04}, "n": 3})
    assert json.loads(out.read_text()) == {"rmse": {"vanilla": 0.04}, "n": 3}
    assert sorted(os.listdir(tmp_path)) == ["r.json"]
    write_json(None, {"ignored": True})  # no path: nothing written
    assert sorted(os.listdir(tmp_path)) == ["r.json"]
