"""Properties: whatever the text and the data, only the two documented errors come out.

`compile_expr` may refuse text only with ExprError; a compiled expression may fail only
with an ExprEvalError that was anticipated (raised on purpose, so `__cause__` is None —
the safety net in `Expr.evaluate` chains the original exception, and these tests treat
that as a gap to close). Where the language promises Python's semantics (integer
arithmetic, comparisons, and/or/not, if-else), a generated expression must agree with
Python itself.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowengine.expr import Expr, ExprError, ExprEvalError, compile_expr
from tests.support.expr import NAMES, Actor, env

FIELDS = sorted(NAMES)
PROPERTY = settings(max_examples=200, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

# -- a grammar of allowed constructs ----------------------------------------------------

LEAVES = st.one_of(
    st.sampled_from(FIELDS),
    st.integers(-1000, 1000).map(str),
    st.decimals(-1000, 1000, places=2, allow_nan=False).map(str),
    st.sampled_from(["'patient'", "''", "'信访'", "'2024-01-05'", "'3 days'"]),
    st.sampled_from(["true", "false", "null", "True", "None", "[]"]),
    st.sampled_from(["actor.role", "actor.name", "today()", "now()", "date('2024-01-01')"]),
)

UNARY = ["(not {})", "(-{})", "len({})", "is_set({})", "has_signed({})", "days_since({})",
         "working_days_since({})", "within({}, '3 days')", "date({})", "[{}]", "({},)"]
BINARY = ["{} + {}", "{} - {}", "{} * {}", "{} / {}", "{} % {}", "{} == {}", "{} != {}",
          "{} < {}", "{} <= {}", "{} > {}", "{} >= {}", "{} in {}", "{} not in {}",
          "{} and {}", "{} or {}", "coalesce({}, {})", "[{}, {}]", "within({}, {})"]


def _extend(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    unary = st.tuples(st.sampled_from(UNARY), children).map(lambda t: t[0].format(t[1]))
    binary = st.tuples(st.sampled_from(BINARY), children, children).map(
        lambda t: "(" + t[0].format(t[1], t[2]) + ")")
    ternary = st.tuples(children, children, children).map(
        lambda t: f"({t[0]} if {t[1]} else {t[2]})")
    chain = st.tuples(children, children, children).map(lambda t: f"({t[0]} < {t[1]} <= {t[2]})")
    return st.one_of(unary, binary, ternary, chain)


EXPRESSIONS = st.recursive(LEAVES, _extend, max_leaves=12)

VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-10**6, 10**6),
    st.decimals(-10**9, 10**9, places=2, allow_nan=False),
    st.floats(allow_infinity=False),
    st.text(max_size=8),
    st.sampled_from(["2024-02-01", "patient", "principal", "5 days", ""]),
    st.lists(st.sampled_from(["a", "principal", "王"]), max_size=3),
    st.dates(date(2000, 1, 1), date(2030, 12, 31)),
    st.datetimes(datetime(2000, 1, 1), datetime(2030, 12, 31), timezones=st.just(UTC)),
)
DATA = st.dictionaries(st.sampled_from(FIELDS), VALUES, max_size=len(FIELDS))
ACTORS = st.one_of(st.none(), st.builds(Actor, st.text(max_size=3),
                                        st.sampled_from([None, "principal", "clerk"])))


def _evaluate_cleanly(expr: Expr, data: dict[str, Any], actor: Any) -> None:
    try:
        expr.evaluate(env(data, actor=actor, signatures=["principal"]))
    except ExprEvalError as exc:
        assert exc.__cause__ is None, f"unanticipated {exc.__cause__!r} in {expr.text!r}"
        assert exc.message


@PROPERTY
@given(EXPRESSIONS, DATA, ACTORS)
def test_grammar_expressions_compile_and_fail_only_cleanly(text: str, data: dict[str, Any],
                                                           actor: Any) -> None:
    try:
        expr = compile_expr(text, NAMES)
    except ExprError as exc:
        # Literal-only parts are folded at load, so their run-time errors surface here.
        assert exc.message and 1 <= exc.col <= len(text) + 1
        return
    _evaluate_cleanly(expr, data, actor)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200), DATA)
def test_random_text_raises_only_expr_error(text: str, data: dict[str, Any]) -> None:
    try:
        expr = compile_expr(text, NAMES)
    except ExprError as exc:
        assert 1 <= exc.col <= max(len(text), 1) + 1
        return
    _evaluate_cleanly(expr, data, None)


TOKENS = ["(", ")", "[", "]", "{", "}", "'a'", "1", "0.5", "1e9", "claim_amount", "relation",
          "actor", ".", "role", "__class__", "and", "or", "not", "if", "else", "lambda", ":",
          ",", "*", "**", "+", "-", "/", "%", "==", "<", "in", "is", "len", "coalesce",
          "has_signed", "today", "f'{x}'", "=", ":=", "\n", "#", "'", "\\", "for", "x",
          "__import__", "open", "yield", "await", "...", "@", "~", "\x00", "；", "（"]


@settings(max_examples=250, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=25), DATA)
def test_token_soup_raises_only_expr_error(tokens: list[str], data: dict[str, Any]) -> None:
    text = " ".join(tokens)
    try:
        expr = compile_expr(text, NAMES)
    except ExprError:
        return
    _evaluate_cleanly(expr, data, None)


# -- agreement with Python where the language promises Python's meaning -----------------

INTS = st.integers(-50, 50).map(str)


def _numeric(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    ops = st.sampled_from(["+", "-", "*"])
    return st.one_of(
        st.tuples(children, ops, children).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        children.map(lambda c: f"(-{c})"),
    )


NUMERIC = st.recursive(INTS, _numeric, max_leaves=6)


def _boolean(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(children, st.sampled_from(["and", "or"]), children).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"),
        children.map(lambda c: f"(not {c})"),
        st.tuples(children, children, children).map(lambda t: f"({t[0]} if {t[1]} else {t[2]})"),
    )


COMPARISONS = st.tuples(NUMERIC, st.sampled_from(["==", "!=", "<", "<=", ">", ">="]),
                        NUMERIC).map(lambda t: f"{t[0]} {t[1]} {t[2]}")
BOOLEANS = st.recursive(st.one_of(COMPARISONS, st.sampled_from(["True", "False"])),
                        _boolean, max_leaves=6)


@PROPERTY
@given(st.one_of(NUMERIC, BOOLEANS))
def test_agrees_with_python_on_integer_and_boolean_expressions(text: str) -> None:
    expected = eval(text, {"__builtins__": {}}, {})  # noqa: S307 - generated test input only
    ours = compile_expr(text, NAMES).evaluate(env())
    assert ours == expected
    if isinstance(expected, bool):
        assert isinstance(ours, bool)
    else:
        assert isinstance(ours, Decimal)
