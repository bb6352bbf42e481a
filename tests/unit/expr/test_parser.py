"""Examples for every operator and literal of the guard language, and its error messages.

The language must behave like Python where Python is sensible (precedence, chained
comparisons, short-circuit) and differ where the domain needs it: numbers are exact
decimals, an unset field compared with a number is an error naming the field, and mistakes
are found when the process is loaded, with the column of the offending part.
"""

from __future__ import annotations

import ast
import timeit
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from flowengine.expr import FUNCTIONS, Expr, ExprError, ExprEvalError, Function, compile_expr
from tests.support.expr import NAMES, Actor, env


def run(text: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    return compile_expr(text, NAMES).evaluate(env(data, **kwargs))


def eval_error(text: str, data: dict[str, Any] | None = None, **kwargs: Any) -> str:
    with pytest.raises(ExprEvalError) as info:
        run(text, data, **kwargs)
    assert info.value.__cause__ is None, "an unanticipated error slipped into the safety net"
    return info.value.message


def compile_error(text: str, names: frozenset[str] = NAMES) -> ExprError:
    with pytest.raises(ExprError) as info:
        compile_expr(text, names)
    return info.value


# -- literals ----------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "value"), [
    ("'ordinary'", "ordinary"),
    ('"信访"', "信访"),
    ("42", Decimal("42")),
    ("0.01", Decimal("0.01")),
    ("1_000.50", Decimal("1000.50")),
    ("2e3", Decimal("2e3")),
    ("true", True), ("false", False), ("null", None),
    ("True", True), ("False", False), ("None", None),
    ("[]", []),
    ("['patient', 'guardian']", ["patient", "guardian"]),
    ("-5", Decimal(-5)),
    ("+5", Decimal(5)),
])
def test_literals(text: str, value: Any) -> None:
    result = run(text)
    assert result == value
    assert type(result) is type(value)


def test_numbers_are_decimals_from_their_source_text() -> None:
    assert run("0.01") == Decimal("0.01")
    assert str(run("0.01")) == "0.01"  # not 0.01000000000000000020816681711721685...
    assert run("0.1 + 0.2 == 0.3") is True
    assert run("0.1 + 0.2") == Decimal("0.3")
    assert run("30000.01 - 30000") == Decimal("0.01")


def test_a_list_literal_is_a_fresh_list_each_time() -> None:
    expr = compile_expr("['a', 'b']", NAMES)
    first = expr.evaluate(env())
    first.append("c")
    assert expr.evaluate(env()) == ["a", "b"]


# -- arithmetic ---------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "value"), [
    ("claim_amount + 1", Decimal("30001")),
    ("claim_amount - 0.01", Decimal("29999.99")),
    ("claim_amount * 2", Decimal("60000")),
    ("claim_amount / 4", Decimal("7500")),
    ("claim_amount % 7", Decimal("30000") % 7),
    ("-claim_amount", Decimal("-30000")),
    ("1 + 2 * 3", Decimal(7)),
    ("(1 + 2) * 3", Decimal(9)),
    ("10 / 4", Decimal("2.5")),
    ("1 / 3 * 3", Decimal("0.9999999999999999999999999999999999")),
    ("count + 1", Decimal(4)),  # ints from data join in
])
def test_arithmetic(text: str, value: Decimal) -> None:
    assert run(text, {"claim_amount": Decimal("30000"), "count": 3}) == value


def test_remainder_keeps_the_sign_of_the_left_operand_as_documented() -> None:
    assert run("-7 % 3") == Decimal(-1)
    assert run("7 % -3") == Decimal(1)


def test_text_and_lists_concatenate() -> None:
    assert run("subject + '（续）'", {"subject": "工资"}) == "工资（续）"
    assert run("resolution_team + ['王']", {"resolution_team": ["张"]}) == ["张", "王"]


def test_a_float_in_the_data_is_taken_by_its_shortest_repr() -> None:
    assert run("claim_amount + 0.2", {"claim_amount": 0.1}) == Decimal("0.3")


@pytest.mark.parametrize(("text", "data", "fragment"), [
    ("claim_amount + 1", {}, "claim_amount is not set"),
    ("-claim_amount", {}, "claim_amount is not set"),
    ("relation + 1", {"relation": "patient"}, "relation is the text 'patient'"),
    ("1 + relation", {"relation": "patient"}, "relation is the text 'patient'"),
    ("contact_unclear * 2", {"contact_unclear": True}, "yes/no value true"),
    ("claim_amount / 0", {"claim_amount": 1}, "division by zero"),
    ("claim_amount % amount", {"claim_amount": 1, "amount": 0}, "division by zero"),
    ("received_on + 1", {"received_on": date(2024, 1, 1)}, "the date 2024-01-01"),
])
def test_arithmetic_errors_name_the_operand(text: str, data: dict[str, Any],
                                            fragment: str) -> None:
    assert fragment in eval_error(text, data)


def test_literal_arithmetic_errors_are_found_at_load() -> None:
    assert "division by zero" in compile_error("claim_amount > 1 / 0").message
    assert "'*' needs numbers" in compile_error("'ab' * 3 == subject").message


# -- comparisons --------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("claim_amount == 30000", True),
    ("claim_amount != 30000", False),
    ("claim_amount < 30000", False),
    ("claim_amount <= 30000", True),
    ("claim_amount > 29999.99", True),
    ("claim_amount >= 30000.01", False),
    ("claim_amount > 30000 and claim_amount < 200000", False),
    ("0 < claim_amount <= 30000", True),
    ("0 < claim_amount < 30000", False),
    ("1 < 2 < 3 > 2", True),
    ("relation in ['patient', 'guardian']", True),
    ("relation not in ['patient', 'guardian']", False),
    ("'pat' in relation", True),
    ("'王' in resolution_team", True),
    ("'李' not in resolution_team", True),
    ("subject < 'b'", True),
    ("received_on < date('2024-02-01')", True),
    ("served_on > received_on", True),
    ("relation == 30000", False),
    ("source == null", True),
    ("source != null", False),
    ("null == null", True),
])
def test_comparisons(text: str, expected: bool) -> None:
    data = {"claim_amount": Decimal("30000"), "relation": "patient", "subject": "a",
            "resolution_team": ["王", "张"], "received_on": date(2024, 1, 10),
            "served_on": date(2024, 1, 11)}
    assert run(text, data) is expected


def test_a_chain_evaluates_each_operand_once() -> None:
    calls: list[int] = []

    def tick(env: Any) -> Decimal:
        calls.append(1)
        return Decimal(5)

    functions = {**FUNCTIONS, "tick": Function("tick", 0, 0, tick, "counts its calls")}
    expr = compile_expr("1 < tick() < 10", NAMES, functions)
    assert expr.evaluate(env()) is True
    assert len(calls) == 1


@pytest.mark.parametrize(("text", "data", "fragment"), [
    ("claim_amount > 30000", {}, "claim_amount is not set"),
    ("30000 < claim_amount", {}, "claim_amount is not set"),
    ("claim_amount > amount", {"claim_amount": 1}, "amount is not set"),
    ("claim_amount > relation", {"claim_amount": 1, "relation": "x"},
     "cannot compare claim_amount (the number 1) with relation (the text 'x')"),
    ("received_on < claim_amount", {"received_on": date(2024, 1, 1), "claim_amount": 1},
     "cannot compare received_on"),
    ("contact_unclear < true", {"contact_unclear": False}, "yes/no"),
    ("relation in resolution_team", {"relation": "x"}, "resolution_team is not set"),
    ("relation in claim_amount", {"relation": "x", "claim_amount": 1}, "'in' needs a list"),
    ("claim_amount in subject", {"subject": "x", "claim_amount": 1}, "needs text on the left"),
    ("served_on < received_on", {"served_on": datetime(2024, 1, 1),
                                 "received_on": datetime(2024, 1, 1, tzinfo=UTC)},
     "cannot compare served_on"),
    ("claim_amount < 1", {"claim_amount": Decimal("NaN")}, "cannot compare claim_amount"),
])
def test_comparison_errors_name_the_operand(text: str, data: dict[str, Any],
                                            fragment: str) -> None:
    assert fragment in eval_error(text, data)


def test_equality_with_an_unset_field_is_fine() -> None:
    assert run("claim_amount == 0", {}) is False
    assert run("relation != 'patient'", {}) is True
    assert run("relation in ['patient']", {}) is False


# -- boolean logic ------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("not contact_unclear", True),
    ("not not contact_unclear", False),
    ("true and false", False),
    ("true or false", True),
    ("false or false or true", True),
    ("true and true and false", False),
    ("not false and false", False),  # not binds tighter than and
    ("true or true and false", True),  # and binds tighter than or
    ("'yes' if contact_unclear else 'no'", "no"),
    ("'yes' if not contact_unclear else 'no'", "yes"),
])
def test_boolean_logic(text: str, expected: Any) -> None:
    assert run(text, {"contact_unclear": False}) == expected


def test_and_or_short_circuit_past_an_error() -> None:
    # claim_amount is unset: comparing it would raise, so these prove the right side is skipped.
    assert run("false and claim_amount > 1", {}) is False
    assert run("true or claim_amount > 1", {}) is True
    assert run("is_set(claim_amount) and claim_amount > 1", {}) is False
    assert run("source == 'direct' or claim_amount > 1", {"source": "direct"}) is True
    assert run("'a' if true else claim_amount > 1", {}) == "a"
    assert "claim_amount is not set" in eval_error("true and claim_amount > 1", {})


def test_and_or_return_the_deciding_operand_like_python() -> None:
    assert run("subject or 'untitled'", {}) == "untitled"
    assert run("subject and 'has subject'", {"subject": "x"}) == "has subject"


# -- names, actor, the sign-off guard -----------------------------------------------------


def test_an_absent_field_is_null() -> None:
    assert run("source", {}) is None
    assert run("source == null", {}) is True


@pytest.mark.parametrize(("role", "name", "expected"), [
    ("principal", "李", True), ("clerk", "李", False), (None, "李", False)])
def test_actor_role_and_name(role: str | None, name: str, expected: bool) -> None:
    actor = Actor(name, role)
    assert run("actor.role == 'principal'", actor=actor) is expected
    assert run("actor.name", actor=actor) == name


def test_no_actor_means_null_attributes() -> None:
    assert run("actor.role == null", actor=None) is True


SIGN_OFF = ("importance == 'ordinary' and has_signed('office_director') and "
            "has_signed('deputy_leader') or importance == 'important' and "
            "has_signed('principal')")


@pytest.mark.parametrize(("importance", "signatures", "expected"), [
    ("ordinary", ["office_director", "deputy_leader"], True),
    ("ordinary", ["office_director"], False),
    ("ordinary", ["principal"], False),
    ("important", ["principal"], True),
    ("important", ["office_director", "deputy_leader"], False),
    (None, ["principal"], False),
])
def test_the_sign_off_guard(importance: str | None, signatures: list[str],
                            expected: bool) -> None:
    data = {"importance": importance} if importance else {}
    assert bool(run(SIGN_OFF, data, signatures=signatures)) is expected


# -- what the validator gets --------------------------------------------------------------


def test_expr_reports_the_names_and_functions_it_uses() -> None:
    expr = compile_expr(SIGN_OFF + " and actor.role != null and today() > received_on", NAMES)
    assert expr.names == {"importance", "received_on"}
    assert expr.functions == {"has_signed", "today"}
    assert expr.text.startswith("importance ==")
    assert isinstance(expr, Expr)


def test_compiled_expressions_compare_by_text() -> None:
    assert compile_expr("relation == 'x'", NAMES) == compile_expr("relation == 'x'", NAMES)


@pytest.mark.parametrize(("text", "col", "hint"), [
    ("claim_amout > 30000", 1, "did you mean 'claim_amount'?"),
    ("relation == 'x' and claim_amout > 1", 21, "did you mean 'claim_amount'?"),
    ("'张三' == relaton", 9, "did you mean 'relation'?"),  # columns count characters
    ("(relation == 'x' and\n  '张' == improtance)", 31, "did you mean 'importance'?"),
    ("has_sigend('principal')", 1, "did you mean 'has_signed'?"),
    ("zzz == 1", 1, ""),
    ("  source == 'direct' and bogus", 26, ""),
    ("actor.rol == 'clerk'", 1, "did you mean 'role'?"),
])
def test_unknown_names_point_at_their_column(text: str, col: int, hint: str) -> None:
    err = compile_error(text)
    assert err.col == col
    assert err.hint == hint
    assert f"column {col}" in str(err)


def test_the_offending_operator_is_pointed_at() -> None:
    assert compile_error("claim_amount ** 2").col == 14
    assert compile_error("claim_amount // 2").col == 14


def test_syntax_errors_have_a_column_and_a_hint() -> None:
    err = compile_error("claim_amount > ")
    assert err.message.startswith("not a valid expression")
    assert 1 <= err.col <= 16
    assert compile_error("'信访' == = 1").col == 9
    err = compile_error("relation == 'x'\n  and source == 'y'")
    assert "wrapped in ( )" in err.hint


def test_the_engine_may_add_state_and_a_multi_line_guard_works() -> None:
    expr = compile_expr("(state == 'replied'\n and relation in ['patient'])",
                        NAMES | {"state"})
    assert expr.evaluate(env({"state": "replied", "relation": "patient"})) is True


def test_calling_with_the_wrong_number_of_arguments() -> None:
    assert "takes 1 argument, got 2" in compile_error("has_signed('a', 'b')").message
    assert "takes 0 arguments, got 1" in compile_error("today(1)").message
    assert "1 to 16 arguments, got 0" in compile_error("coalesce()").message


def test_a_non_text_expression_is_refused() -> None:
    with pytest.raises(ExprError) as info:
        compile_expr(True, NAMES)  # type: ignore[arg-type]
    assert "must be text" in info.value.message


def test_limits_allow_realistic_guards() -> None:
    long_or = " or ".join(f"relation == 'r{i}'" for i in range(60))
    assert run(long_or, {"relation": "r59"}) is True
    assert len(long_or) < 2000


# -- speed: compiled once, evaluated without the AST ---------------------------------------


def test_evaluation_never_goes_back_to_the_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    expr = compile_expr(SIGN_OFF, NAMES)

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("evaluate re-parsed the text")

    monkeypatch.setattr(ast, "parse", refuse)
    monkeypatch.setattr(ast, "walk", refuse)
    assert expr.evaluate(env({"importance": "important"}, signatures=["principal"]))


def test_a_typical_guard_evaluates_in_microseconds() -> None:
    """A loose bound (the measured figure is about 1 µs); it catches a per-call re-parse."""
    expr = compile_expr(SIGN_OFF, NAMES)
    e = env({"importance": "ordinary"}, signatures=["office_director", "deputy_leader"])
    per_call = min(timeit.repeat(lambda: expr.evaluate(e), number=2000, repeat=3)) / 2000
    assert per_call < 50e-6


@pytest.mark.parametrize(("text", "kind"), [
    ("claim_amout > 1", "unknown-name"),
    ("has_sigend('x')", "unknown-function"),
    ("open('/etc/passwd')", "unknown-function"),
    ("claim_amount >", "syntax"),
    ("", "syntax"),
    ("actor.__class__", "forbidden"),
    ("[x for x in resolution_team]", "forbidden"),
    ("2 ** 3", "forbidden"),
    ("-" * 100 + "1", "limit"),
    ("x" * 2001, "limit"),
    ("date('2024-02-30')", "invalid"),
    ("has_signed()", "invalid"),
    ("claim_amount()", "invalid"),
])
def test_each_refusal_has_a_kind_for_the_validator(text: str, kind: str) -> None:
    assert compile_error(text).kind == kind
