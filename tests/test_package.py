"""The package's import surface: what `import noether_lite` loads and what it exposes."""
import importlib
import json
import subprocess
import sys

import pytest

SUBPACKAGES = ("core", "systems", "models", "symbolic", "experiments", "video", "viz", "course")


def test_import_loads_neither_the_course_tooling_nor_the_video_stack_nor_papermill():
    code = ("import json, sys, noether_lite; print(json.dumps(sorted(m for m in sys.modules if "
            "m.split('.')[0] in ('papermill', 'nbformat', 'nbclient', 'ipywidgets') or m.split('.')[:2] in "
            "(['noether_lite', 'course'], ['noether_lite', 'video'], ['noether_lite', 'viz']) "
            "or m in ('noether_lite.experiments.video', 'noether_lite.experiments.bench'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_the_top_level_holds_a_first_script_and_every_name_resolves():
    import noether_lite as nl

    assert len(nl.__all__) <= 40
    for name in nl.__all__:
        assert getattr(nl, name) is not None


@pytest.mark.parametrize("sub", SUBPACKAGES)
def test_each_subpackage_has_its_own_public_names(sub):
    mod = importlib.import_module(f"noether_lite.{sub}")
    names = getattr(mod, "__all__", None)
    if sub == "course":  # tooling: its modules are imported one by one
        names = importlib.import_module("noether_lite.course.check").__all__
        mod = importlib.import_module("noether_lite.course.check")
    assert names, sub
    for name in names:
        assert hasattr(mod, name), (sub, name)


def test_the_subpackages_load_on_first_use_and_unknown_names_fail():
    import noether_lite as nl

    assert nl.video.NoetherVideo.__module__ == "noether_lite.video.learner"
    assert nl.experiments.run_physics is nl.run_physics
    assert set(SUBPACKAGES) <= set(dir(nl))
    with pytest.raises(AttributeError, match="no_such_name"):
        nl.no_such_name
