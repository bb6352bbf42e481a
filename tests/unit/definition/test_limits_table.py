"""docs/limits.md is complete: every key of the process JSON Schema that takes more than a
yes/no is in its "Process definitions" table, and the numbers the table states are the
ones the code enforces."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from flowengine.definition.limits import NAME_MAX, PERIOD_MAX, VERSION_MAX
from flowengine.definition.schema import process_schema
from flowengine.engine.shape import DATA_DEPTH_MAX, DATA_VALUES_MAX, TEXT_CHARS_MAX
from flowengine.records.marked_yaml import MAX_YAML_BYTES, MAX_YAML_NODES

ROOT = Path(__file__).resolve().parents[3]
DOC = (ROOT / "docs" / "limits.md").read_text("utf-8")
TABLE = DOC.partition("## Process definitions")[2]


def _keys(node: Any, found: dict[str, set[str]]) -> None:
    if isinstance(node, dict):
        for name, sub in node.get("properties", {}).items():
            found.setdefault(name, set()).add(str(sub.get("type")) if isinstance(sub, dict) else "")
        for value in node.values():
            _keys(value, found)
    elif isinstance(node, list):
        for value in node:
            _keys(value, found)


def test_every_schema_key_with_a_bound_is_in_the_table() -> None:
    found: dict[str, set[str]] = {}
    _keys(process_schema(), found)
    bounded = {k for k, types in found.items() if types != {"boolean"}}
    assert {"id", "length", "max", "over", "max_length", "guard", "calendars"} <= bounded
    listed = set(re.findall(r"`([a-z_]+)`", TABLE))
    assert sorted(bounded - listed) == []


def test_the_table_states_the_bounds_the_code_enforces() -> None:
    for number in (f"{NAME_MAX} characters", f"at most {VERSION_MAX} characters",
                   f"{PERIOD_MAX['days']:,} days", f"{PERIOD_MAX['working_days']:,} working days",
                   f"{PERIOD_MAX['hours']:,} hours", f"{PERIOD_MAX['minutes']:,} minutes",
                   f"{MAX_YAML_BYTES:,} characters", f"{MAX_YAML_NODES:,} values"):
        assert number in TABLE, number
    for number in (f"nested at most {DATA_DEPTH_MAX} levels", f"{DATA_VALUES_MAX:,} values",
                   f"{TEXT_CHARS_MAX:,} characters"):
        assert number in DOC, number
