"""Check a parsed process (or scenario) YAML against its bundled JSON Schema, as located
`Problem`s.

The schemas (`flowengine/schemas/process.schema.json`, `scenario.schema.json`) are the same
files editors use for autocompletion, so the structure rules live in one place. This module only turns
jsonschema's errors into messages an integrator can act on, placed on the YAML node.
Codes: FE101 unknown key, FE102 missing key, FE103 wrong type, FE104 bad name,
FE105 bad duration, FE106 not an allowed value, FE107 empty, FE108 other structure.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError, best_match

from ..errors import Location, Problem, did_you_mean
from ..records.marked_yaml import MarkedList, MarkedMap

_NAME_PATTERN = "^[a-z][a-z0-9_]*$"


@lru_cache(maxsize=2)
def bundled_schema(name: str) -> dict[str, Any]:
    """A JSON Schema shipped in `flowengine/schemas/` (`process`, `scenario`)."""
    text = resources.files("flowengine.schemas").joinpath(f"{name}.schema.json").read_text()
    return json.loads(text)  # type: ignore[no-any-return]


def process_schema() -> dict[str, Any]:
    """The bundled JSON Schema of the process language."""
    return bundled_schema("process")


def _is_string(checker: Any, instance: Any) -> bool:
    """YAML reads an unquoted 2026-03-02T09:00 as a date-time; for the schema (and for an
    editor, which sees text) it is a string."""
    return isinstance(instance, (str, dt.date))


_YamlValidator = validators.extend(  # type: ignore[no-untyped-call]
    Draft202012Validator,
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine("string", _is_string))


@lru_cache(maxsize=2)
def _validator(name: str) -> Any:
    return (Draft202012Validator if name == "process" else _YamlValidator)(bundled_schema(name))


def schema_problems(doc: Any, file: str, schema: str = "process") -> list[Problem]:
    """Every structural problem of `doc` against the bundled `schema`, each placed on its
    YAML node, in file order."""
    if not isinstance(doc, dict):
        loc = getattr(doc, "loc", Location(file, 1, 1))
        what = ("a process definition must be a YAML mapping (id:, states:, transitions: …)"
                if schema == "process" else
                f"a {schema} file must be a YAML mapping (process:, start:, steps: …)")
        return [Problem("FE103", what, loc)]
    errors = _validator(schema).iter_errors(doc)
    problems = [p for err in errors for p in _to_problems(_deepest(err), doc, file)]
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


def _to_problems(err: ValidationError, doc: Any, file: str) -> list[Problem]:
    """One problem per unknown key (a mapping may have several), else one."""
    inst = err.instance
    if err.validator == "additionalProperties" and isinstance(inst, dict):
        allowed = sorted((err.schema if isinstance(err.schema, dict) else {}).get("properties", {}))
        path = list(err.absolute_path)
        where, loc = _where(path), _location(doc, path, file)
        return [Problem("FE101", f"unknown key '{key}' in {where}",
                        inst.key_loc(key) if isinstance(inst, MarkedMap) else loc,
                        hint=did_you_mean(key, allowed) or f"allowed keys: {', '.join(allowed)}")
                for key in inst if key not in allowed]
    return [_to_problem(err, doc, file)]


def _to_problem(err: ValidationError, doc: Any, file: str) -> Problem:
    path = list(err.absolute_path)
    where = _where(path)
    loc = _location(doc, path, file)
    v, inst = err.validator, err.instance
    schema: dict[str, Any] = err.schema if isinstance(err.schema, dict) else {}
    if v == "required":
        missing = err.message.split("'")[1] if "'" in err.message else "?"
        return Problem("FE102", f"{where} needs '{missing}'", loc)
    if v == "pattern" and schema.get("pattern") == _NAME_PATTERN:
        return Problem("FE104", f"'{inst}' in {where} is not a valid name", loc,
                       hint="use lowercase letters, digits and _, starting with a letter")
    if v == "pattern" and "working days" in str(schema.get("pattern")):
        most = re.search(r"\\d\{1,(\d+)\}", str(schema.get("pattern")))
        long = most and re.match(rf"\s*\d{{{int(most.group(1)) + 1}}}", str(inst))
        digits = f"; N has at most {most.group(1)} digits" if most and long else ""
        shown = str(inst) if len(str(inst)) <= 40 else f"{str(inst)[:40]}…"
        return Problem("FE105", f"'{shown}' in {where} is not a duration", loc,
                       hint=f"write N minutes, N hours, N days or N working days{digits}")
    if v in ("enum", "const"):
        allowed = [str(x) for x in schema.get("enum", [schema.get("const")])]
        hint = did_you_mean(str(inst), allowed) or f"allowed: {', '.join(allowed)}"
        return Problem("FE106", f"'{inst}' is not allowed in {where}", loc, hint=hint)
    if v in ("minItems", "minProperties", "minLength"):
        return Problem("FE107", f"{where} must not be empty", loc)
    if v == "type":
        kind = schema.get("type")
        kinds = kind if isinstance(kind, list) else [str(kind)]
        wanted = " or ".join(_article(k) for k in kinds)
        return Problem("FE103", f"{where} must be {wanted}, not {_kind(inst)}", loc)
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
