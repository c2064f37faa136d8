"""The package's import surface: what `import noether_lite` loads."""
import json
import subprocess
import sys


def test_import_loads_neither_the_course_tooling_nor_the_video_stack_nor_papermill():
    code = ("import json, sys, noether_lite; print(json.dumps(sorted(m for m in sys.modules if "
            "m.split('.')[0] in ('papermill', 'nbformat', 'nbclient') or m.split('.')[:2] in "
            "(['noether_lite', 'check'], ['noether_lite', 'labs'], ['noether_lite', 'video']))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_the_lazy_sub_namespaces_load_on_first_use_and_unknown_names_fail():
    import noether_lite as nl

    assert nl.video.run_video.__module__ == "noether_lite.video.experiment"
    assert nl.check.__name__ == "noether_lite.check" and nl.labs.__name__ == "noether_lite.labs"
    assert {"video", "check", "labs"} <= set(dir(nl))
    try:
        nl.no_such_name
    except AttributeError as e:
        assert "no_such_name" in str(e)
    else:
        raise AssertionError("an unknown attribute must raise AttributeError")
