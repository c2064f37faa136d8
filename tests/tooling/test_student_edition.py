"""book/_ext/student_edition.py: one flag drops the solution links from the exercise pages."""
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("student_edition", ROOT / "book" / "_ext" / "student_edition.py")
se = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(se)


def test_the_flag_removes_the_solutions_paragraph_from_exercise_pages_only(monkeypatch):
    page = (ROOT / "book" / "exercises_03.md").read_text()
    assert "Stuck?" in page and "solutions/03_known_conservation.ipynb" in page
    src = [page]
    se.drop_solution_links(None, "exercises_03", src)
    assert src[0] == page  # no flag: the full book
    monkeypatch.setenv(se.FLAG, "1")
    se.drop_solution_links(None, "exercises_03", src)
    assert "solutions/" not in src[0] and "Exercise 3.1" in src[0]
    other = ["Stuck? is a fine word in a chapter"]
    se.drop_solution_links(None, "03_known_conservation", other)
    assert other == ["Stuck? is a fine word in a chapter"]
