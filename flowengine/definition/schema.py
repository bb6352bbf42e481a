"""Check a parsed process YAML against the bundled JSON Schema, as located `Problem`s.

The schema (`flowengine/schemas/process.schema.json`) is the same file editors use for
autocompletion, so the structure rules live in one place. This module only turns
jsonschema's errors into messages an integrator can act on, placed on the YAML node.
Codes: FE101 unknown key, FE102 missing key, FE103 wrong type, FE104 bad name,
FE105 bad duration, FE106 not an allowed value, FE107 empty, FE108 other structure.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from ..errors import Location, Problem, did_you_mean
from .yaml_loader import MarkedList, MarkedMap

_NAME_PATTERN = "^[a-z][a-z0-9_]*$"


@lru_cache(maxsize=1)
def process_schema() -> dict[str, Any]:
    """The bundled JSON Schema of the process language."""
    text = resources.files("flowengine.schemas").joinpath("process.schema.json").read_text()
    return json.loads(text)  # type: ignore[no-any-return]


@lru_cache(maxsize=1)
def _validator() -> Draft202012Validator:
    return Draft202012Validator(process_schema())


def schema_problems(doc: Any, file: str) -> list[Problem]:
    """Every structural problem of `doc`, each placed on its YAML node, in file order."""
    if not isinstance(doc, dict):
        loc = getattr(doc, "loc", Location(file, 1, 1))
        return [Problem("FE103", "a process definition must be a YAML mapping (id:, states:, "
                        "transitions: …)", loc)]
    problems = [_to_problem(_deepest(err), doc, file) for err in _validator().iter_errors(doc)]
    unique = {(p.location, p.message): p for p in problems}
    return sorted(unique.values(), key=lambda p: (p.location.line, p.location.col))


def _deepest(err: ValidationError) -> ValidationError:
    """For oneOf/anyOf, the sub-error that explains most (jsonschema's best_match)."""
    while err.context:
        better = best_match(err.context)
        if better is None or better is err:
            break
        err = better
    return err


def _node_at(doc: Any, path: Iterable[Any]) -> tuple[Any, Any, Any]:
    """Walk `path`; return (parent container, last key, node)."""
    parent, key, node = None, None, doc
    for step in path:
        parent, key = node, step
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            break
    return parent, key, node


def _where(path: Iterable[Any]) -> str:
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else str(step))
    return text or "the document"


def _location(doc: Any, path: list[Any], file: str) -> Location:
    parent, key, node = _node_at(doc, path)
    if isinstance(node, (MarkedMap, MarkedList)):
        return node.loc
    if isinstance(parent, (MarkedMap, MarkedList)):
        return parent.loc_of(key)
    return getattr(doc, "loc", Location(file, 1, 1))


def _to_problem(err: ValidationError, doc: Any, file: str) -> Problem:
    path = list(err.absolute_path)
    where = _where(path)
    loc = _location(doc, path, file)
    v, inst = err.validator, err.instance
    schema: dict[str, Any] = err.schema if isinstance(err.schema, dict) else {}
    if v == "additionalProperties" and isinstance(inst, dict):
        allowed = sorted(schema.get("properties", {}))
        extra = [k for k in inst if k not in allowed]
        key = extra[0] if extra else "?"
        if isinstance(inst, MarkedMap) and key in inst:
            loc = inst.key_loc(key)
        hint = did_you_mean(key, allowed) or f"allowed keys: {', '.join(allowed)}"
        return Problem("FE101", f"unknown key '{key}' in {where}", loc, hint=hint)
    if v == "required":
        missing = err.message.split("'")[1] if "'" in err.message else "?"
        return Problem("FE102", f"{where} needs '{missing}'", loc)
    if v == "pattern" and schema.get("pattern") == _NAME_PATTERN:
        return Problem("FE104", f"'{inst}' in {where} is not a valid name", loc,
                       hint="use lowercase letters, digits and _, starting with a letter")
    if v == "pattern" and "working days" in str(schema.get("pattern")):
        return Problem("FE105", f"'{inst}' in {where} is not a duration", loc,
                       hint="write N minutes, N hours, N days or N working days")
    if v in ("enum", "const"):
        allowed = [str(x) for x in schema.get("enum", [schema.get("const")])]
        hint = did_you_mean(str(inst), allowed) or f"allowed: {', '.join(allowed)}"
        return Problem("FE106", f"'{inst}' is not allowed in {where}", loc, hint=hint)
    if v in ("minItems", "minProperties", "minLength"):
        return Problem("FE107", f"{where} must not be empty", loc)
    if v == "type":
        kind = schema.get("type")
        wanted = " or ".join(kind) if isinstance(kind, list) else str(kind)
        return Problem("FE103", f"{where} must be {_article(wanted)}, not {_kind(inst)}", loc)
    if v == "not" and path and isinstance(inst, dict):
        return Problem("FE108", f"{where} has both 'dest' and 'route'; give one", loc)
    return Problem("FE108", f"{where}: {err.message}", loc)


def _article(kind: str) -> str:
    return {"object": "a mapping", "array": "a list", "integer": "a whole number",
            "null": "empty"}.get(kind, f"a {kind}")


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "empty"
    return f"{type(value).__name__} {value!r}"
