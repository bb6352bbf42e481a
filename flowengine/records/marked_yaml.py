"""Parse YAML keeping the line and column of every node, so every problem can name its place.

Mappings become `MarkedMap` (a dict) and sequences `MarkedList` (a list); both remember
where they, their keys and their items stand. Scalars stay plain Python values; their
place is asked of the container that holds them (`m.loc_of(key)`, `lst.loc_of(i)`).

Deliberate differences from PyYAML's SafeLoader:
- only `true`/`false` are booleans (YAML 1.1's `on`, `off`, `yes`, `no` stay strings, so a
  key named `on` is not silently turned into `True`);
- a mapping with the same key twice is an error, not a silent overwrite;
- every parse error becomes a `YamlError` with a location, never a PyYAML traceback;
- a document is at most `MAX_YAML_BYTES` long and builds at most `MAX_YAML_NODES` values
  counting every alias expansion, so an alias bomb ("billion laughs") is refused in
  milliseconds instead of exhausting memory.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..errors import Location

MAX_YAML_BYTES = 2_000_000  # a process or scenario file is a few kB; 2 MB is generous
MAX_YAML_NODES = 200_000  # values built, every alias expansion counted


class YamlError(Exception):
    """The text is not YAML we accept; `location` points at the offending place."""

    def __init__(self, message: str, location: Location):
        super().__init__(message)
        self.message = message
        self.location = location


class MarkedMap(dict):  # type: ignore[type-arg]
    """A dict that knows where it, its keys and its values stand in the file."""

    loc: Location
    key_locs: dict[Any, Location]
    value_locs: dict[Any, Location]

    def loc_of(self, key: Any) -> Location:
        """Where the value of `key` stands (the mapping itself when the key is absent)."""
        return self.value_locs.get(key) or self.key_locs.get(key) or self.loc

    def key_loc(self, key: Any) -> Location:
        return self.key_locs.get(key, self.loc)


class MarkedList(list):  # type: ignore[type-arg]
    """A list that knows where it and each of its items stand in the file."""

    loc: Location
    item_locs: list[Location]

    def loc_of(self, index: int) -> Location:
        if 0 <= index < len(self.item_locs):
            return self.item_locs[index]
        return self.loc


def location_of(value: Any, default: Location) -> Location:
    """The location of a marked container, or `default` for a scalar."""
    return getattr(value, "loc", default)


_BOOL_RE = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")


class _Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2-style booleans and marked containers; `budget` counts down
    the values it may still build."""

    budget = MAX_YAML_NODES


# Drop YAML 1.1's yes/no/on/off booleans; keep true/false.
_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver("tag:yaml.org,2002:bool", _BOOL_RE, list("tTfF"))


def _loc(file: str, node: Node) -> Location:
    return Location(file, node.start_mark.line + 1, node.start_mark.column + 1)


def _construct(loader: _Loader, node: Node, file: str) -> Any:
    loader.budget -= 1
    if loader.budget < 0:
        raise YamlError(f"YAML: more than {MAX_YAML_NODES:,} values once aliases (*name) are "
                        "expanded; write the document out without nested aliases",
                        _loc(file, node))
    if isinstance(node, MappingNode):
        loader.flatten_mapping(node)
        result = MarkedMap()
        result.loc = _loc(file, node)
        result.key_locs = {}
        result.value_locs = {}
        for key_node, value_node in node.value:
            key = _construct(loader, key_node, file)
            if isinstance(key, (dict, list)):
                raise YamlError("a mapping key must be a plain value", _loc(file, key_node))
            if key in result:
                first = result.key_locs[key]
                raise YamlError(
                    f"duplicate key '{key}' (first at line {first.line}); "
                    f"a key may appear once per mapping",
                    _loc(file, key_node),
                )
            result[key] = _construct(loader, value_node, file)
            result.key_locs[key] = _loc(file, key_node)
            result.value_locs[key] = _loc(file, value_node)
        return result
    if isinstance(node, SequenceNode):
        seq = MarkedList(_construct(loader, item, file) for item in node.value)
        seq.loc = _loc(file, node)
        seq.item_locs = [_loc(file, item) for item in node.value]
        return seq
    assert isinstance(node, ScalarNode)
    try:
        return loader.construct_object(node, deep=True)
    except (ValueError, TypeError, OverflowError) as exc:
        # e.g. a timestamp such as 2026-13-45: name the node, not the document.
        raise YamlError(f"YAML value {node.value!r}: {exc}", _loc(file, node)) from None


def load_yaml(text: str, file: str = "<string>") -> Any:
    """Parse one YAML document into marked containers; raises `YamlError` on bad input."""
    if len(text) > MAX_YAML_BYTES:
        raise YamlError(f"the file is longer than {MAX_YAML_BYTES:,} characters; a process "
                        "or scenario file is a few kilobytes", Location(file, 1, 1))
    try:
        loader = _Loader(text)  # the reader refuses NUL and other control characters here
    except yaml.reader.ReaderError as exc:
        pos = exc.position
        line, col = text.count("\n", 0, pos) + 1, pos - text.rfind("\n", 0, pos)
        raise YamlError(f"YAML: {exc.reason} (character #x{exc.character:04x}); "
                        "remove it or save the file as plain UTF-8 text",
                        Location(file, line, col)) from None
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        return _construct(loader, node, file)
    except YamlError:
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        loc = Location(file, mark.line + 1, mark.column + 1) if mark else Location(file, 1, 1)
        problem = exc.problem or exc.context or "not valid YAML"
        raise YamlError(f"YAML syntax: {problem}", loc) from None
    except (yaml.YAMLError, ValueError, TypeError, OverflowError) as exc:
        # Constructors raise ValueError for values like a timestamp of 2026-13-45.
        raise YamlError(f"YAML value: {exc}", Location(file, 1, 1)) from None
    except RecursionError:
        raise YamlError("YAML nested too deeply", Location(file, 1, 1)) from None
    finally:
        loader.dispose()


def load_yaml_file(path: str) -> Any:
    """Read and parse a file; unreadable or non-UTF-8 files become a located `YamlError`."""
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read(MAX_YAML_BYTES + 1)
    except UnicodeDecodeError:
        raise YamlError("the file is not UTF-8 text", Location(path, 1, 1)) from None
    except OSError as exc:
        raise YamlError(f"cannot read the file: {exc.strerror}", Location(path)) from None
    return load_yaml(text, path)
