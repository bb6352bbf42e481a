"""Columns inside YAML scalars: the loader places a whole scalar, but a problem in an
expression or a message template is at one character of it, which quotes, escapes and block
scalars move. Shared by the expression and template checks."""

from __future__ import annotations

from ...errors import Location


def scalar_location(lines: list[str], loc: Location, value: str, offset: int) -> Location:
    """Where character `offset` of the scalar `value` written at `loc` stands.

    Exact for plain and quoted scalars on one line and for simple block scalars (`|`,
    `>-`); anything the mapping cannot confirm against the text falls back to `loc`.
    """
    if offset < 0 or not 1 <= loc.line <= len(lines) or loc.col < 1:
        return loc
    raw = lines[loc.line - 1][loc.col - 1:]
    if raw[:1] in ("'", '"'):
        index = _quoted_index(raw[1:], value, offset, raw[0])
        return loc if index is None else Location(loc.file, loc.line, loc.col + 1 + index)
    if raw[:1] in ("|", ">"):
        return _block_location(lines, loc, value, offset)
    if raw[:offset] == value[:offset] and "\n" not in value[:offset]:
        return Location(loc.file, loc.line, loc.col + offset)
    return loc


def _quoted_index(raw: str, value: str, offset: int, quote: str) -> int | None:
    """The index in `raw` (the text after the opening quote) of value[offset]."""
    i = 0
    for k in range(min(offset, len(value))):
        if i >= len(raw):
            return None
        c = raw[i]
        if quote == "'" and c == "'" and raw[i + 1:i + 2] == "'":
            i += 2
        elif quote == '"' and c == "\\":
            i += 2
        elif c == quote or c != value[k]:
            return None
        else:
            i += 1
    return i


def _block_location(lines: list[str], loc: Location, value: str, offset: int) -> Location:
    first = loc.line  # 0-based index of the line after the indicator
    content: list[str] = []
    indent = None
    for line in lines[first:]:
        if not line.strip():
            break
        width = len(line) - len(line.lstrip(" "))
        if indent is None:
            indent = width
        if width < indent:
            break
        content.append(line[indent:])
    if indent is None:
        return loc
    sep = "\n" if lines[loc.line - 1][loc.col - 1] == "|" else " "
    if sep.join(content) != value.rstrip("\n"):
        return loc
    for n, text in enumerate(content):
        if offset <= len(text):
            return Location(loc.file, first + n + 1, indent + offset + 1)
        offset -= len(text) + 1
    return loc
