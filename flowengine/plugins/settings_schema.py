"""The delivery settings checked against a JSON Schema before anything uses them.

`flowengine/schemas/notify-settings.schema.json` bounds every number (a NaN or infinite
timeout or back-off would crash the outbox or retry for ever), lists the keys of every
shipped section (a misspelt key would silently fall back to a default) and allows only
`http`/`https` webhook URLs. A problem names the file and the key, and what to write.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from ..errors import FlowengineError, did_you_mean

if TYPE_CHECKING:
    from jsonschema import ValidationError


class SettingsError(FlowengineError):
    """The delivery settings file is unreadable or has a value of the wrong kind (exit 2)."""


def _finite(checker: Any, instance: Any) -> bool:
    """JSON Schema numbers, without NaN and ±infinity (TOML has both)."""
    return (isinstance(instance, (int, float)) and not isinstance(instance, bool)
            and math.isfinite(instance))


@cache
def _validator_class() -> Any:
    """Built on first use: importing jsonschema costs a CLI start ~0.1 s, and only a
    command that reads delivery settings needs it."""
    from jsonschema import Draft202012Validator, validators

    types = Draft202012Validator.TYPE_CHECKER.redefine("number", _finite)
    return validators.extend(Draft202012Validator, type_checker=types)  # type: ignore[no-untyped-call]


@cache
def settings_schema() -> dict[str, Any]:
    text = resources.files("flowengine.schemas").joinpath("notify-settings.schema.json")
    schema: dict[str, Any] = json.loads(text.read_text(encoding="utf-8"))
    return schema


def check_settings(data: Mapping[str, Any], where: str) -> None:
    """Raise `SettingsError` listing every problem of `data`, each naming `where` and the key."""
    errors = sorted(_validator_class()(settings_schema()).iter_errors(data),
                    key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        raise SettingsError("\n".join(f"{where}: {_describe(e)}" for e in errors))


def _describe(err: ValidationError) -> str:
    path = [str(p) for p in err.absolute_path]
    if err.validator == "additionalProperties":
        return _unknown_key(err, path)
    section = f"[{path[0]}] " if len(path) > 1 else ""
    key = ".".join(path[1:]) if len(path) > 1 else f"[{path[0]}]" if path else "the file"
    return f"{section}{key} must be {_expected(err.schema)}, not {err.instance!r}"


def _unknown_key(err: ValidationError, path: list[str]) -> str:
    known = err.schema.get("properties", {}) if isinstance(err.schema, dict) else {}
    instance: Any = err.instance
    extra = sorted(set(instance) - set(known))
    where = f"[{'.'.join(path)}]" if path else "the settings"
    hint = did_you_mean(extra[0], known) if extra else ""
    return (f"unknown key {', '.join(extra)} in {where}"
            + (f" ({hint})" if hint else f" (known: {', '.join(sorted(known))})"))


def _expected(schema: Any) -> str:
    """What a value of `schema` looks like, in words."""
    if not isinstance(schema, dict):
        return "valid"
    if "x-words" in schema:  # the schema's own wording of a pattern
        return str(schema["x-words"])
    if "enum" in schema:
        return "one of " + ", ".join(map(str, schema["enum"]))
    if "oneOf" in schema:
        return "a string or a list of strings"
    kind = schema.get("type")
    if kind in ("number", "integer"):
        low = (f" > {schema['exclusiveMinimum']}" if "exclusiveMinimum" in schema
               else f" ≥ {schema['minimum']}" if "minimum" in schema else "")
        high = f" and ≤ {schema['maximum']}" if "maximum" in schema else ""
        return f"{'a whole number' if kind == 'integer' else 'a finite number'}{low}{high}"
    words = {"boolean": "true or false", "object": "a table", "array": "a list of strings"}
    return words.get(str(kind), "text")
