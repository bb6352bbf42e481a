"""The process-language reference must stay true: its complete example validates with no
problem at all, every YAML snippet in it parses, and every key of the JSON Schema is
explained in it (so a new key cannot be added without documenting it)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from flowengine.definition.loader import validate_text
from flowengine.definition.schema import process_schema

ROOT = Path(__file__).resolve().parents[3]
DOC = (ROOT / "docs" / "process-language.md").read_text("utf-8")
BLOCKS = re.findall(r"```yaml\n(.*?)```", DOC, re.DOTALL)


def test_the_complete_example_validates_cleanly() -> None:
    example = BLOCKS[0]
    process, problems = validate_text(example, "county_complaint.yaml")
    assert process is not None
    assert [str(p) for p in problems] == []
    assert process.deadlines["handling"].length is not None


def test_every_yaml_snippet_parses() -> None:
    assert len(BLOCKS) > 10
    for block in BLOCKS:
        yaml.safe_load(block)


def _schema_keys(node: object) -> set[str]:
    keys: set[str] = set()
    if isinstance(node, dict):
        for name, value in node.get("properties", {}).items():
            keys.add(name)
            keys |= _schema_keys(value)
        for key in ("$defs", "additionalProperties", "items"):
            child = node.get(key)
            if isinstance(child, dict):
                keys |= _schema_keys(child) if key != "$defs" else set().union(
                    *(_schema_keys(v) for v in child.values()))
        for key in ("oneOf", "anyOf", "allOf"):
            for child in node.get(key, []):
                keys |= _schema_keys(child)
    return keys


def test_every_schema_key_is_documented() -> None:
    keys = _schema_keys(process_schema())
    assert {"trigger", "due_field", "reason_field", "min_items"} <= keys
    missing = sorted(k for k in keys if f"`{k}" not in DOC)
    assert missing == []
