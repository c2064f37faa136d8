"""Registry: a name -> object table with clear errors."""
import pytest

from noether_lite.core.registry import Registry, resolve


def test_register_get_and_list():
    r = Registry("widget")
    r.register("b", 2)

    @r.register("a")
    def make_a():
        return 1

    assert r.get("a") is make_a and r.get("b") == 2
    assert r.names() == ["a", "b"] and list(r) == ["a", "b"] and len(r) == 2 and "a" in r
    assert resolve(r, "b") == 2 and resolve(r, 5) == 5


def test_errors_name_the_kind_and_the_known_names():
    r = Registry("widget")
    r.register("a", 1)
    with pytest.raises(ValueError, match="unknown widget 'z'; known: a"):
        r.get("z")
    with pytest.raises(ValueError, match="already registered"):
        r.register("a", 2)
    r.register("a", 3, overwrite=True)
    assert r.get("a") == 3
    with pytest.raises(TypeError, match="non-empty string"):
        r.register("", 1)
    with pytest.raises(TypeError, match="must be a string"):
        r.get(3)
