"""The fold keeps a decoded value as it is when `coerce` would return it unchanged (text,
enum members, booleans, whole numbers in range), and gives every other value to `coerce`:
the outcome, value or error, is the same either way, only cheaper for replay."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from flowengine.definition.limits import INT_MAX, INT_MIN
from flowengine.definition.model import FieldDef
from flowengine.engine import fold
from flowengine.engine.data import SIGNATURES, SIGNATURES_FIELD, DataError, coerce


def _f(name: str, kind: str, **kw: Any) -> FieldDef:
    return FieldDef(name=name, type=kind, location=None, **kw)  # type: ignore[arg-type]


FIELDS = {f.name: f for f in (
    _f("name", "string"), _f("short", "string", max_length=3), _f("note", "text"),
    _f("kind", "enum", values=("a", "b")), _f("flag", "boolean"), _f("n", "integer"),
    _f("days", "integer", minimum=Decimal(1), maximum=Decimal(10)),
    _f("half", "integer", minimum=Decimal("0.5")), _f("when", "date"),
    _f("amount", "money"), _f("tags", "list", items="string"))}

VALUES: list[tuple[str, Any]] = [
    ("name", "王芳"), ("name", ""), ("name", "  "), ("name", "\u3000"), ("name", 7),
    ("short", "abc"), ("short", "abcd"), ("short", " "), ("note", "两行\n文字"),
    ("kind", "a"), ("kind", "c"), ("kind", ""), ("flag", True), ("flag", False),
    ("flag", "yes"), ("flag", 1), ("n", 0), ("n", INT_MAX), ("n", INT_MIN), ("n", INT_MAX + 1),
    ("n", INT_MIN - 1), ("n", True), ("n", "42"), ("n", 2.0), ("days", 1), ("days", 10),
    ("days", 0), ("days", 11), ("half", 0), ("half", 1), ("when", "2026-03-02"),
    ("amount", 5), ("amount", "1.005"), ("tags", ["x", "y"]), ("tags", "x, y"),
    ("kind", True), ("short", True), ("flag", "a"), (SIGNATURES, [{"name": "李明",
     "role": "office_director", "at": "2026-03-02T09:00:00+08:00"}]), ("undeclared", "v")]


def _outcome(call: Any) -> tuple[str, Any]:
    try:
        value = call()
    except DataError as exc:
        return "refused", str(exc)
    return "kept", (type(value), value)


@pytest.mark.parametrize(("name", "value"), VALUES)
def test_the_fold_stores_what_coerce_returns_or_refuses_what_it_refuses(
        name: str, value: Any) -> None:
    process: Any = SimpleNamespace(fields=FIELDS)
    case: Any = SimpleNamespace(data={})
    f = FIELDS.get(name) or (SIGNATURES_FIELD if name == SIGNATURES else None)
    expected = _outcome(lambda: coerce(f, value) if f is not None else value)

    def folded() -> Any:
        fold._apply_data(process, case, {name: value})
        return case.data[name]

    assert _outcome(folded) == expected


def test_plain_values_do_not_go_through_coerce(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(f: FieldDef, value: Any) -> Any:
        raise AssertionError(f"coerce called for {f.name}={value!r}")

    monkeypatch.setattr(fold, "coerce", refuse)
    process: Any = SimpleNamespace(fields=FIELDS)
    case: Any = SimpleNamespace(data={})
    fold._apply_data(process, case, {"name": "王芳", "kind": "b", "flag": False, "n": 3,
                                     "days": 10, "short": "abc"})
    assert case.data == {"name": "王芳", "kind": "b", "flag": False, "n": 3, "days": 10,
                         "short": "abc"}


def test_a_changed_definition_gets_its_own_table() -> None:
    """The table is cached by the fields mapping itself, never by a reused id."""
    case: Any = SimpleNamespace(data={})
    fold._apply_data(SimpleNamespace(fields={"k": _f("k", "enum", values=("a",))}),  # type: ignore[arg-type]
                     case, {"k": "a"})
    with pytest.raises(DataError):
        fold._apply_data(SimpleNamespace(fields={"k": _f("k", "enum", values=("b",))}),  # type: ignore[arg-type]
                         case, {"k": "a"})
