"""The exception tree drawn in `flowengine.errors`' docstring names every exception class
the package defines, under the parent it really has."""

from __future__ import annotations

import importlib
import pkgutil
import re

import flowengine
from flowengine import errors


def _classes() -> set[type[BaseException]]:
    found: set[type[BaseException]] = set()
    for info in pkgutil.walk_packages(flowengine.__path__, "flowengine."):
        if ".migrations." in info.name or info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if (isinstance(value, type) and issubclass(value, BaseException)
                    and value.__module__ == info.name and not value.__name__.startswith("_")):
                found.add(value)
    return found


def _drawn() -> dict[str, str | None]:
    """Class name -> the parent the drawing shows (None at the root)."""
    doc = errors.__doc__ or ""
    parents: dict[str, str | None] = {}
    stack: list[tuple[int, str]] = []
    for line in doc.splitlines():
        m = re.match(r"^    [│├└─ ]*([A-Z]\w+)(?:\(|\s|$)", line)
        if not m or ("──" not in line and m.group(1) != "FlowengineError"):
            continue
        depth = (m.start(1) - 4) // 4  # the root's name at column 4, each level 4 more
        while stack and stack[-1][0] >= depth:
            stack.pop()
        parents[m.group(1)] = stack[-1][1] if stack else None
        stack.append((depth, m.group(1)))
    return parents


def test_every_flowengine_error_is_drawn_under_its_parent() -> None:
    drawn = _drawn()
    tree = {c for c in _classes() if issubclass(c, errors.FlowengineError)}
    assert len(tree) > 20
    for cls in tree:
        assert cls.__name__ in drawn, f"{cls.__name__} is missing from the tree in errors.py"
        if cls is not errors.FlowengineError:
            assert drawn[cls.__name__] == cls.__bases__[0].__name__, cls.__name__


def test_the_other_exceptions_are_named_below_the_tree() -> None:
    doc = errors.__doc__ or ""
    others = {c for c in _classes() if not issubclass(c, errors.FlowengineError)}
    assert {c.__name__ for c in others} >= {"DataError", "ExprError", "YamlError"}
    for cls in others:
        assert f"`{cls.__name__}`" in doc, cls.__name__
