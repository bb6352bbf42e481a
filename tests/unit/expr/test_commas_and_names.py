"""Forms that used to compile and then silently never refuse (issue 14, item 2): a number
with a thousands separator (`5,000` is a tuple), any other tuple, and a quoted role or
state that the process does not declare (`actor.role == 'directr'` is never true)."""

from __future__ import annotations

import pytest

from flowengine.definition.loader import validate_text
from flowengine.expr import ExprError, compile_expr
from flowengine.expr.literals import NamedLiteral, named_literals
from tests.support.expr import NAMES, env


@pytest.mark.parametrize(("text", "col", "hint"), [
    ("claim_amount <= 5,000 or contact_unclear", 18, "write 5000, not 5,000"),
    ("claim_amount > 12,500,000", 18, "write 12500000, not 12,500,000"),
    ("coalesce(amount, 5,000) > 0", 19, "write 5000, not 5,000"),
    ("claim_amount in [1,000, 2000]", 19, "write 1000, not 1,000"),
    ("claim_amount <= 5,001", 18, "write 5001, not 5,001"),
    ("(claim_amount <=\n 30,000)", 21, "write 30000, not 30,000"),
])
def test_a_thousands_separator_is_refused_with_the_number_as_meant(
        text: str, col: int, hint: str) -> None:
    with pytest.raises(ExprError) as err:
        compile_expr(text, NAMES)
    assert "is not one number" in err.value.message
    assert (err.value.col, err.value.hint) == (col, hint)


@pytest.mark.parametrize("text", [
    "claim_amount <= 5, 000 or contact_unclear", "relation in ('patient', 'guardian')",
    "relation in ('patient',)", "(1, 'a')", "()", "claim_amount, amount"])
def test_a_tuple_is_refused(text: str) -> None:
    with pytest.raises(ExprError, match="makes a tuple, which is not allowed") as err:
        compile_expr(text, NAMES)
    assert err.value.hint.startswith("use a list [a, b]")


@pytest.mark.parametrize(("text", "value"), [
    ("claim_amount in [1, 234]", True), ("'5,000' == subject", True),
    ("claim_amount == 5_000", False), ("relation in ['patient', 'guardian']", True)])
def test_lists_texts_and_underscored_numbers_still_work(text: str, value: bool) -> None:
    data = {"claim_amount": 234, "subject": "5,000", "relation": "patient"}
    assert compile_expr(text, NAMES).evaluate(env(data)) is value


def test_the_guard_of_the_issue_no_longer_validates() -> None:
    """Before: it compiled to a tuple (always true) and `flowengine validate` said 0 errors."""
    guard = "refund_amount <= 5,000 or actor.role == 'director'"
    _, problems = validate_text(PROCESS.format(roles="", guard=guard), "p.yaml")
    assert [(p.code, p.location.line, p.location.col) for p in problems] == [("FE301", 17, 34)]
    assert problems[0].hint == "write 5000, not 5,000"


@pytest.mark.parametrize(("text", "found"), [
    ("actor.role == 'directr'", [("role", "directr", 15)]),
    ("'director' != actor.role", [("role", "director", 1)]),
    ("actor.role in ['clerk', 'boss'] or state not in ['closed']",
     [("role", "clerk", 16), ("role", "boss", 25), ("state", "closed", 50)]),
    ("has_signed('principal') and state == 'x' == state", [
        ("role", "principal", 12), ("state", "x", 38)]),
    ("actor.name == 'clerk' or subject == 'closed' or 'clerk' in actor.role", []),
    ("actor.role == ", []),
])
def test_named_literals_finds_the_roles_and_states_an_expression_names(
        text: str, found: list[tuple[str, str, int]]) -> None:
    assert named_literals(text) == [NamedLiteral(*f) for f in found]


PROCESS = """\
id: p
{roles}
fields:
  refund_amount: {{type: money, default: 0}}
states:
  received: {{initial: true}}
  closed: {{final: true}}
transitions:
  - trigger: close
    source: received
    dest: closed
    roles: [clerk, director]
  - trigger: note
    source: received
    roles: [clerk]
    guard:
      - expr: "{guard}"
        message: why
"""


@pytest.mark.parametrize(("roles", "guard", "expected"), [
    ("roles: [clerk, director]", "actor.role == 'directr'", [("FE211", 17, 30)]),
    ("", "actor.role in ['clerk', 'directr']", [("FE211", 17, 40)]),  # roles from transitions
    ("", "has_signed('clark')", [("FE211", 17, 27)]),
    ("", "state != 'closd'", [("FE201", 17, 25)]),
    ("", "actor.role == 'director' and state in ['received', 'closed']", []),
])
def test_validate_checks_quoted_roles_and_states(roles: str, guard: str,
                                                 expected: list[tuple[str, int, int]]) -> None:
    _, problems = validate_text(PROCESS.format(roles=roles, guard=guard), "p.yaml")
    assert [(p.code, p.location.line, p.location.col) for p in problems] == expected
    assert all("did you mean" in p.hint for p in problems)
