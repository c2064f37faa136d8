"""One small registry class: behaviour plugs in as callables, resolved by name.

Systems, conservation embeddings and datasets each have one registry, so a
user's own object is found by name exactly like a built-in one.
"""
from __future__ import annotations

from typing import Callable, Dict, Generic, Iterator, List, Optional, TypeVar

T = TypeVar("T")

__all__ = ["Registry"]


class Registry(Generic[T]):
    """A name -> object table with clear errors.

    Args:
        kind: what the registry holds, used in error messages (e.g. ``"system"``).
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: Dict[str, T] = {}

    def register(self, name: str, obj: Optional[T] = None, *, overwrite: bool = False):
        """Register ``obj`` under ``name``; without ``obj`` returns a decorator.

        Raises:
            TypeError: ``name`` is not a non-empty string.
            ValueError: ``name`` is taken and ``overwrite`` is False.
        """
        if not isinstance(name, str) or not name:
            raise TypeError(f"{self.kind} name must be a non-empty string, got {name!r}")

        def _add(o: T) -> T:
            if name in self._items and not overwrite:
                raise ValueError(
                    f"a {self.kind} named {name!r} is already registered; "
                    f"pass overwrite=True to replace it"
                )
            self._items[name] = o
            return o

        if obj is None:
            return _add
        return _add(obj)

    def get(self, name: str) -> T:
        """Look ``name`` up. Raises ValueError listing the known names."""
        if not isinstance(name, str):
            raise TypeError(f"{self.kind} name must be a string, got {type(name).__name__}")
        try:
            return self._items[name]
        except KeyError:
            known = ", ".join(sorted(self._items)) or "(none)"
            raise ValueError(f"unknown {self.kind} {name!r}; known: {known}") from None

    def names(self) -> List[str]:
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {self.names()})"


def resolve(registry: "Registry[T]", obj_or_name) -> T:
    """Return ``obj_or_name`` itself, or look it up if it is a string."""
    if isinstance(obj_or_name, str):
        return registry.get(obj_or_name)
    return obj_or_name


Factory = Callable[..., T]
