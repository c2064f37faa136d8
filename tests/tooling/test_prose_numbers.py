"""ci/check_prose_numbers.py: a decimal number in a chapter's prose that its code did not print fails."""
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("check_prose_numbers", ROOT / "ci" / "check_prose_numbers.py")
cpn = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cpn)

CHAPTER = """---
jupytext:
  text_representation:
    format_version: 0.13
---

# A chapter

The error fell from 0.044 to 0.020 on the pendulum.
Math is allowed: $\\sigma = 0.05$, and so is `code 1.5`.

$$
x = 2.5
$$

```{code-cell} ipython3
print(0.123)
```

A ratio of 4.15e-3 in words is not.
"""


def test_prose_numbers_are_found_outside_math_code_and_front_matter(tmp_path):
    f = tmp_path / "01_x.md"
    f.write_text(CHAPTER)
    found = [(n, num) for n, num, _ in cpn.prose_numbers(f)]
    assert [num for _, num in found] == ["0.044", "0.020", "4.15e-3"]


def test_the_book_passes_and_a_planted_number_fails(tmp_path, monkeypatch, capsys):
    assert cpn.main() == 0
    book = tmp_path / "book"
    book.mkdir()
    (book / "03_x.md").write_text(CHAPTER)
    monkeypatch.setattr(cpn, "ROOT", tmp_path)
    (tmp_path / "ci").mkdir()
    monkeypatch.setattr(cpn, "ALLOWED", tmp_path / "ci" / "allowed.txt")
    assert cpn.main() == 1
    assert "book/03_x.md:9: 0.044 in prose" in capsys.readouterr().out
    (tmp_path / "ci" / "allowed.txt").write_text("03_x.md 0.044  # a definition\n03_x.md 0.020\n03_x.md 4.15e-3\n")
    assert cpn.main() == 0
