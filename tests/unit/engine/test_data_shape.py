"""Data given to `start`/`fire` is bounded in depth, count and text length before any
coercion (engine/shape.py), through the Python API as through `--data` (cli/json_input.py):
each bound at and just past its limit, and a hostile value refused in milliseconds."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flowengine import Actor, Engine
from flowengine.cli.json_input import DATA_JSON_MAX, DataJsonError, load_data_json, nesting
from flowengine.clock import parse_instant
from flowengine.engine.shape import DATA_DEPTH_MAX, DATA_VALUES_MAX, TEXT_CHARS_MAX, shape_problem
from flowengine.errors import InvalidData, TriggerRejected

PROCESSES = Path(__file__).resolve().parents[3] / "processes"
AT = parse_instant("2026-03-02T09:00")


def _nested(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth - 1):
        value = [value]
    return value


def test_depth_count_and_text_at_and_past_their_bounds() -> None:
    assert shape_problem({"a": _nested(DATA_DEPTH_MAX)}) is None
    assert "nested more than 8" in str(shape_problem({"a": _nested(DATA_DEPTH_MAX + 1)}))
    assert shape_problem({"a": ["x"] * (DATA_VALUES_MAX - 1)}) is None
    assert "more than 10,000 values" in str(shape_problem({"a": ["x"] * DATA_VALUES_MAX}))
    assert shape_problem({"a": "字" * TEXT_CHARS_MAX}) is None
    assert "longer than 1,000,000" in str(shape_problem({"a": "字" * (TEXT_CHARS_MAX + 1)}))
    assert "more than" in str(shape_problem({f"f{i}": 1 for i in range(DATA_VALUES_MAX + 1)}))


@pytest.mark.parametrize("value", [_nested(20_000), ["x"] * 10_000_000,
                                   {"k": {"k": {"k": {"k": {"k": {"k": {"k": {"k": {}}}}}}}}}])
def test_the_api_refuses_hostile_data_quickly_and_creates_nothing(value: Any) -> None:
    engine = Engine(processes=[PROCESSES])
    started = time.perf_counter()
    with pytest.raises(InvalidData, match="nested more than|values in one call"):
        engine.start("standard_case", {"petitioner": "张三", "subject": "噪音", "contact": value},
                     actor=Actor("王芳", "clerk"), at=AT)
    assert time.perf_counter() - started < 0.5
    assert engine.cases() == []


def test_the_api_refuses_a_lone_surrogate() -> None:
    engine = Engine(processes=[PROCESSES])
    with pytest.raises(InvalidData, match="lone surrogate"):
        engine.start("standard_case", {"petitioner": "张\ud800三", "subject": "噪音"},
                     actor=Actor("王芳", "clerk"), at=AT)


@pytest.mark.parametrize("text, why", [
    ('{"a": NaN}', "NaN is not JSON"), ('{"a": -Infinity}', "-Infinity is not JSON"),
    ('{"a": ' + "9" * 65 + "}", "a number of 65 characters"),
    ('{"a": 1' + "0" * 5000 + "}", "a number of 5,001 characters"),
    ('{"a": ' + "[" * 20_000 + "]" * 20_000 + "}", "nested 20,001 levels deep"),
    ("[1]", "must be a JSON object"), ('{"a": ', "not JSON"),
])
def test_data_json_refusals(text: str, why: str) -> None:
    started = time.perf_counter()
    with pytest.raises(DataJsonError, match=why):
        load_data_json(text)
    assert time.perf_counter() - started < 0.5


def test_data_json_at_its_bounds() -> None:
    assert load_data_json('{"a": ' + "9" * 64 + "}") == {"a": int("9" * 64)}
    deep = '{"a": ' + "[" * (DATA_DEPTH_MAX - 1) + '"x"' + "]" * (DATA_DEPTH_MAX - 1) + "}"
    assert load_data_json(deep)["a"] == _nested(DATA_DEPTH_MAX)
    assert load_data_json('{"a": "[[[[[[[[[[[[[[{{{{{{"}') == {"a": "[[[[[[[[[[[[[[{{{{{{"}
    with pytest.raises(DataJsonError, match="at most 10,000,000"):
        load_data_json(" " * (DATA_JSON_MAX + 1))


_json = st.recursive(st.none() | st.booleans() | st.integers() | st.text(),
                     lambda inner: st.lists(inner, max_size=3)
                     | st.dictionaries(st.text(max_size=3), inner, max_size=3), max_leaves=20)


@given(_json)
def test_nesting_counts_exactly_what_json_nests(value: Any) -> None:
    import json

    def depth(v: Any) -> int:
        if isinstance(v, dict):
            return 1 + max(map(depth, v.values()), default=0)
        if isinstance(v, list):
            return 1 + max(map(depth, v), default=0)
        return 0

    assert nesting(json.dumps(value)) == depth(value)


@pytest.mark.parametrize("length, refused", [(200, False), (201, True)])
def test_an_actor_role_longer_than_its_column_is_refused(length: int, refused: bool) -> None:
    """A transition without `roles` lets any role fire it, so the role's length is checked
    on its own (the `actor_role` column holds 200 characters)."""
    engine = Engine(processes=[PROCESSES])
    case = engine.start("standard_case", {"petitioner": "张三", "subject": "噪音"},
                        actor=Actor("王芳", "clerk"), at=AT)
    role = "r" * length
    if refused:
        with pytest.raises(TriggerRejected, match="at most 200 characters, not 201"):
            engine.start("standard_case", {"petitioner": "李四", "subject": "噪音"},
                         actor=Actor("王芳", role), at=AT)
        with pytest.raises(TriggerRejected, match="at most 200 characters, not 201"):
            engine.fire(case.id, "accept", actor=Actor("王芳", role), at=AT)
    else:
        with pytest.raises(TriggerRejected, match="needs the role"):
            engine.fire(case.id, "accept", actor=Actor("王芳", role), at=AT)
