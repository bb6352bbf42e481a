"""Unit tests of the semantic checks that the corpus does not pin down line by line: the
ambiguity rule, decision-table coverage on the money and integer grids, the column maths
for expressions and templates, value fitting, and the must-be-set analysis behind FE403.
Each builds a small process from YAML text so a failure reads like the integrator's file."""

from __future__ import annotations

import textwrap
from decimal import Decimal

import pytest

from flowengine.definition import checks
from flowengine.definition.loader import validate_text
from flowengine.definition.model import FieldDef, ProcessDef
from flowengine.errors import Location, Problem

HEAD = """\
id: t
roles: [clerk, boss]
fields:
  amount: {type: money, min: 0}
  n: {type: integer, min: 0, max: 100}
  note: {type: text}
states:
  a: {initial: true}
  b: {}
  c: {}
  z: {final: true}
"""


def _problems(body: str, head: str = HEAD) -> list[Problem]:
    process, problems = validate_text(head + textwrap.dedent(body), "t.yaml")
    assert process is not None, [str(p) for p in problems]
    return problems


def _codes(body: str, head: str = HEAD) -> list[str]:
    return [p.code for p in _problems(body, head)]


def _table(rows: str, field: str = "amount") -> list[str]:
    """FE208 messages for a table whose rows are given one flow mapping per line."""
    lines = [f"      - {row.strip().removeprefix('- ')}\n" for row in rows.strip().splitlines()]
    body = (f"decisions:\n  route_it:\n    input: {field}\n    rows:\n" + "".join(lines)
            + "transitions:\n"
            "  - {trigger: go, source: a, route: route_it, roles: [clerk]}\n"
            "  - {trigger: end, source: [b, c], dest: z, roles: [clerk]}\n")
    return [p.message for p in _problems(body) if p.code == "FE208"]


# ----------------------------------------------------------------------------- FE206


@pytest.mark.parametrize("first, second, ambiguous", [
    ("{}", "{}", True),
    ("{roles: [clerk]}", "{roles: [clerk]}", True),
    ("{roles: [clerk, boss]}", "{roles: [boss]}", True),
    ("{roles: [clerk]}", "{roles: [boss]}", False),  # a boss still reaches the second
    ("{roles: [clerk]}", "{}", False),
    ("{requires: [note]}", "{requires: [note]}", True),
    ("{requires: [note]}", "{requires: [note, amount]}", False),  # giving amount: 1st refuses
    ("{accepts: [note, amount]}", "{requires: [note, amount]}", True),
    ("{}", "{accepts: [note]}", False),
    ("{requires: [note]}", "{}", False),  # without a note the second fires
    ("{guard: \"n > 3\"}", "{}", False),
    ("{requires: [{fields: [note], when: \"n > 3\"}]}", "{}", False),
])
def test_ambiguous_trigger_only_when_the_first_always_passes_first(
        first: str, second: str, ambiguous: bool) -> None:
    def transition(extra: str, dest: str) -> str:
        inner = extra.strip("{}")
        return f"  - {{trigger: go, source: a, dest: {dest}{', ' + inner if inner else ''}}}\n"

    body = "transitions:\n" + transition(first, "b") + transition(second, "c")
    body += "  - {trigger: end, source: [b, c], dest: z}\n"
    head = HEAD.replace("roles: [clerk, boss]\n", "")
    head = head if "roles" not in first + second else HEAD
    assert ("FE206" in _codes(body, head)) is ambiguous


# ----------------------------------------------------------------------------- FE208


def test_meeting_bounds_leave_no_gap_and_no_overlap() -> None:
    assert _table("""\
        - {at_most: 30000, dest: b}
        - {over: 30000, under: 200000, dest: c}
        - {at_least: 200000, dest: c}
    """) == []


def test_money_counts_in_fen() -> None:
    assert _table("""\
        - {at_most: 30000, dest: b}
        - {at_least: 30000.01, dest: c}
    """) == []
    assert _table("""\
        - {at_most: 30000, dest: b}
        - {at_least: 30000.02, dest: c}
    """) == ["decision 'route_it' has no row for amount = 30000.01: routing such a case is "
             "refused"]


def test_integers_count_in_ones_and_respect_max() -> None:
    assert _table("""\
        - {at_most: 5, dest: b}
        - {at_least: 6, dest: c}
    """, field="n") == []
    assert _table("""\
        - {at_most: 5, dest: b}
        - {at_least: 8, at_most: 99, dest: c}
    """, field="n") == [
        "decision 'route_it' has no row for 6 <= n <= 7: routing such a case is refused",
        "decision 'route_it' has no row for n = 100: routing such a case is refused"]


def test_gap_below_the_field_minimum_and_unbounded_top() -> None:
    messages = _table("""\
        - {over: 10, at_most: 50, dest: b}
    """)
    assert messages == [
        "decision 'route_it' has no row for 0 <= amount <= 10: routing such a case is refused",
        "decision 'route_it' has no row for amount >= 50.01: routing such a case is refused",
    ]


def test_over_the_field_minimum_is_deliberate() -> None:
    assert _table("""\
        - {over: 0, dest: b}
    """) == []


def test_shadowed_and_empty_rows() -> None:
    assert _table("""\
        - {at_least: 0, dest: b}
        - {over: 100, dest: c}
        - {over: 5, under: 3, dest: c}
    """) == ["row 2 of decision 'route_it' can never match: row 1 takes every value first",
             "row 3 of decision 'route_it' matches no value of amount"]


def test_when_rows_switch_off_the_gap_check() -> None:
    assert _table("""\
        - {at_most: 10, dest: b}
        - {when: "note == 'x'", dest: c}
    """) == []


def test_row_condition_reads_like_the_spec() -> None:
    process, _ = validate_text(HEAD + textwrap.dedent("""\
        decisions:
          r:
            input: amount
            rows:
              - {over: 0, at_most: 30000, dest: b}
              - {at_least: 200000, dest: c}
              - {under: 5, when: "note == 'x'", dest: c}
        transitions:
          - {trigger: go, source: a, route: r}
          - {trigger: end, source: [b, c], dest: z}
        """), "t.yaml")
    assert process is not None
    rows = process.decisions["r"].rows
    assert [checks.row_condition(r, "amount") for r in rows] == [
        "0 < amount <= 30000", "amount >= 200000", "amount < 5 and note == 'x'"]


# ----------------------------------------------------------------------------- columns


@pytest.mark.parametrize("line, value, offset, col", [
    ("    guard: n > 3 and x", "n > 3 and x", 10, 22),
    ("    guard: \"n > 3 and x\"", "n > 3 and x", 10, 23),
    ("    guard: 'it''s and x'", "it's and x", 9, 23),
    ("    msg: \"say \\\"{x}\\\"\"", 'say "{x}"', 5, 17),
    ("    guard: \"n > 3", "n > 3 and x", 10, 12),  # continues on the next line: fall back
])
def test_scalar_location_maps_offsets_to_columns(line: str, value: str, offset: int,
                                                 col: int) -> None:
    start = line.index(":") + 3
    loc = checks.scalar_location([line], Location("f", 1, start), value, offset)
    assert loc.col == col
    if col != start:
        unquoted = line[col - 1]
        assert unquoted == value[offset]


def test_block_scalar_columns() -> None:
    lines = ["    guard: >-", "      n > 3", "      and x == 1"]
    value = "n > 3 and x == 1"
    assert checks.scalar_location(lines, Location("f", 1, 12), value, 10) == Location("f", 3, 11)
    literal = ["    guard: |", "      n > 3", "      and x == 1"]
    assert checks.scalar_location(literal, Location("f", 1, 12), "n > 3\nand x == 1\n",
                                  6) == Location("f", 3, 7)


def test_template_fields_positions_and_problems() -> None:
    found = list(checks.template_fields("a{{b}}{x}：{y.z}{}{w!r:>3}"))
    assert found == [
        ("x", 6, None),
        ("y.z", 10, "'{y.z}' reads an attribute or an index; only plain names are allowed"),
        ("", 15, "an empty placeholder {}: name the value, e.g. {petitioner}"),
        ("w", 17, None),
    ]
    with pytest.raises(ValueError):
        list(checks.template_fields("oops {"))


# ----------------------------------------------------------------------------- values


def _field(**kw: object) -> FieldDef:
    return FieldDef(name=str(kw.pop("name", "f")), location=Location("f"), **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("field, value, fits", [
    (_field(type="boolean"), True, True),
    (_field(type="boolean"), "yes", False),
    (_field(type="money"), 12.34, True),
    (_field(type="money"), "12.345", False),
    (_field(type="money"), True, False),
    (_field(type="integer", maximum=Decimal(5)), 6, False),
    (_field(type="integer"), 2.5, False),
    (_field(type="enum", values=("a", "b")), "a", True),
    (_field(type="enum", values=("a", "b")), "c", False),
    (_field(type="date"), "2026-02-28", True),
    (_field(type="date"), "2026-02-30", False),
    (_field(type="datetime"), "2026-03-02T09:00:00+08:00", True),
    (_field(type="datetime"), "2026-03-02T09:00:00", False),
    (_field(type="list", items="integer", min_items=1), [1, 2], True),
    (_field(type="list", items="integer", min_items=1), [], False),
    (_field(type="list", items="integer"), ["x"], False),
    (_field(type="string", max_length=3), "abcd", False),
    (_field(type="string"), {"a": 1}, False),
])
def test_value_problem(field: FieldDef, value: object, fits: bool) -> None:
    assert (checks.value_problem(field, value) is None) is fits


# ----------------------------------------------------------------------------- FE403


def test_guaranteed_fields_follow_every_path() -> None:
    process: ProcessDef | None
    process, _ = validate_text(HEAD + textwrap.dedent("""\
        transitions:
          - {trigger: one, source: a, dest: b, requires: [note]}
          - {trigger: two, source: a, dest: c}
          - {trigger: end, source: [b, c], dest: z}
          - {trigger: wipe, source: b, clear: [note]}
        """), "t.yaml")
    assert process is not None
    have = checks.guaranteed_fields(process)
    assert "note" not in have["b"]  # `wipe` may clear it while in b
    assert "note" not in have["c"] and "note" not in have["z"]


@pytest.mark.parametrize("state_c, message", [
    # c declares nothing: the routes into it are compared with each other
    ("  c: {}", "'drop' from 'a' reaches 'c' without amount, which 'close' requires to reach it"),
    # c requires amount: each route is checked against what c requires
    ("  c: {requires: [amount]}", "'drop' from 'a' can enter 'c' without amount, which 'c' "
                                  "requires (the engine refuses it then)"),
])
def test_fe403_names_the_way_in_and_the_missing_fields(state_c: str, message: str) -> None:
    problems = _problems("""\
    transitions:
      - {trigger: decide, source: a, dest: b, roles: [clerk], requires: [note]}
      - {trigger: close, source: b, dest: c, roles: [clerk], requires: [amount]}
      - {trigger: drop, source: a, dest: c, roles: [clerk]}
      - {trigger: archive, source: c, dest: z, roles: [clerk]}
    """, head=HEAD.replace("  c: {}", state_c))
    assert [p.message for p in problems if p.code == "FE403"] == [message]


def test_a_crashing_check_becomes_fe000_and_the_others_still_report(monkeypatch) -> None:
    def broken(ctx: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(checks, "_CHECKS", (broken, *checks._CHECKS))
    problems = _problems("transitions:\n  - {trigger: go, source: a, dest: zz}\n")
    codes = [p.code for p in problems]
    assert "FE000" in codes and "FE201" in codes


def test_engine_functions_are_allowed_in_expressions() -> None:
    assert "within" in checks.expression_functions()
    assert _codes("""\
    transitions:
      - {trigger: go, source: a, dest: b, roles: [clerk], guard: "within(today(), '30 days')"}
      - {trigger: on, source: b, dest: c, roles: [clerk]}
      - {trigger: end, source: c, dest: z, roles: [clerk]}
    """) == []
