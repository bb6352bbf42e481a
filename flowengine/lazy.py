"""Public names imported on first use (PEP 562), for packages whose `__init__` would
otherwise import heavy modules that most callers (a command line start) never need."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any


def lazy_getattr(package: str, home: Mapping[str, str],
                 namespace: dict[str, Any]) -> Callable[[str], Any]:
    """A module `__getattr__` for `package`: `home` maps each public name to the module
    (relative to `package`) defining it; the value is imported once and kept in
    `namespace` (the package's globals) so later lookups never come here."""

    def __getattr__(name: str) -> Any:
        where = home.get(name)
        if where is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(where, package), name)
        namespace[name] = value
        return value

    return __getattr__


__all__ = ["lazy_getattr"]
