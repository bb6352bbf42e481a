"""Known ways out of an expression sandbox, each refused when the process is loaded.

Every string below is something a hostile or careless process author could write. Each
must raise ExprError from `compile_expr` (so `flowengine validate` reports it) with a
message that says why, and nothing may run while it is checked: a tripwire replaces the
builtins an escape would reach for and fails the test if any is called.
"""

from __future__ import annotations

import ast
import builtins
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from flowengine.expr import ExprError, ExprEvalError, compile_expr
from tests.support.expr import NAMES, env

DEEP_MINUS = "-" * 1500 + "1"
DEEP_NOT = "not " * 450 + "contact_unclear"
DEEP_LIST = "[" * 60 + "]" * 60
DEEP_PARENS = "(" * 10_000 + "1" + ")" * 10_000
NOT_X_10K = "not " * 10_000 + "contact_unclear"
LONG_SUM = " + ".join(["claim_amount"] * 120)

# (expression, a fragment the error message must contain)
ATTACKS: list[tuple[str, str]] = [
    ("__import__('os')", "unknown function '__import__'"),
    ("__import__('os').system('id')", "only the named functions"),
    ("().__class__.__bases__[0].__subclasses__()", "only the named functions"),
    ("().__class__", "attributes are only allowed on actor"),
    ("''.__class__.__mro__[1].__subclasses__()", "only the named functions"),
    ("[].__class__", "attributes are only allowed on actor"),
    ("open('/etc/passwd')", "unknown function 'open'"),
    ("open('/tmp/flowengine-pwned', 'w')", "unknown function 'open'"),
    ("getattr(actor, '__class__')", "unknown function 'getattr'"),
    ("eval('1+1')", "unknown function 'eval'"),
    ("exec('import os')", "unknown function 'exec'"),
    ("compile('1', 'x', 'eval')", "unknown function 'compile'"),
    ("globals()", "unknown function 'globals'"),
    ("locals()", "unknown function 'locals'"),
    ("vars(actor)", "unknown function 'vars'"),
    ("type(actor)", "unknown function 'type'"),
    ("breakpoint()", "unknown function 'breakpoint'"),
    ("__builtins__", "names starting with '__'"),
    ("__loader__", "names starting with '__'"),
    ("__debug__", "names starting with '__'"),
    ("(lambda: 1)()", "only the named functions"),
    ("lambda x: x", "lambda functions are not allowed"),
    ("[x for x in resolution_team]", "comprehensions are not allowed"),
    ("{x: 1 for x in resolution_team}", "comprehensions are not allowed"),
    ("{x for x in resolution_team}", "comprehensions are not allowed"),
    ("len(x for x in resolution_team)", "generator expressions are not allowed"),
    ("[y := 1 for x in resolution_team]", "comprehensions are not allowed"),
    ("resolution_team[0]", "indexing and slicing"),
    ("subject[::-1]", "indexing and slicing"),
    ("f'{claim_amount}'", "f-strings are not allowed"),
    ("f'{actor.__class__}'", "f-strings are not allowed"),
    ("(y := 1)", "assignment (:=) is not allowed"),
    ("2 ** 10", "'**' is not allowed"),
    ("10 ** 10 ** 10", "'**' is not allowed"),
    ("'a' * 10 ** 9", "'**' is not allowed"),
    ("'a' * 1000000000", "'*' needs numbers"),
    ("has_signed(*['principal'])", "unpacking with * is not allowed"),
    ("has_signed(role='principal')", "keyword arguments are not allowed"),
    ("coalesce(**{'a': 1})", "keyword arguments are not allowed"),
    ("actor", "use actor.name or actor.role"),
    ("actor.__class__", "actor has no attribute '__class__'"),
    ("actor.__dict__", "actor has no attribute '__dict__'"),
    ("actor.role.__class__", "attributes are only allowed on actor"),
    ("actor.name.upper()", "only the named functions"),
    ("actor.role.format(actor)", "only the named functions"),
    ("claim_amount.real", "attributes are only allowed on actor"),
    ("relation.__len__()", "only the named functions"),
    ("claim_amount()", "'claim_amount' is a field, not a function"),
    ("has_signed.__globals__", "attributes are only allowed on actor"),
    ("len.__self__", "attributes are only allowed on actor"),
    ("coalesce(len)", "'len' is a function; call it"),
    ("__ｉmport__('os')", "unknown function '__import__'"),  # fullwidth i, NFKC-folded
    ("ｅｖａｌ('1')", "unknown function 'eval'"),  # fullwidth letters
    ("аctor.role == 'principal'", "attributes are only allowed on actor"),  # Cyrillic а
    ("relаtion == 'patient'", "unknown name 'relаtion'"),  # Cyrillic а in a field name
    ("import os", "not a valid expression"),
    ("x = 1", "not a valid expression"),
    ("1; __import__('os')", "not a valid expression"),
    ("relation == 'patient'\nimport os", "not a valid expression"),
    ("actor.role if true else __import__('os')", "unknown function '__import__'"),
    ("(yield 1)", "yield is not allowed"),
    ("await claim_amount", "await is not allowed"),
    ("b'abc' == subject", "byte strings"),
    ("1j == claim_amount", "complex numbers"),
    ("... == claim_amount", "Ellipsis"),
    ("{'a': 1}", "dictionaries"),
    ("{1, 2}", "sets"),
    ("claim_amount @ claim_amount", "'@' is not allowed"),
    ("~claim_amount", "'~' is not allowed"),
    ("claim_amount // 2", "'//' is not allowed"),
    ("1 << 100000", "bit shifts are not allowed"),
    ("claim_amount | 1", "'|' is not allowed"),
    ("relation is None", "'is' is not allowed"),
    ("0x7fffffff", "decimal digits"),
    ("9" * 60, "numbers are limited"),
    ("1e999999999", "too large"),
    ("'" + "x" * 1000 + "'", "text literals are limited"),
    ("1\x00", "NUL character"),
    (DEEP_MINUS, "nested more than"),
    (DEEP_NOT, "nested more than"),
    (DEEP_LIST, "nested more than"),
    ("[" * 300 + "]" * 300, "too many nested parentheses"),
    (DEEP_PARENS, "the limit is 2000"),
    (NOT_X_10K, "the limit is 2000"),
    (LONG_SUM, "nested more than"),
    ("", "empty"),
]


@contextmanager
def tripwire() -> Iterator[list[str]]:
    """Replace what an escape would call, for the duration of one compile_expr call."""
    calls: list[str] = []

    def trap(name: str) -> Any:
        def called(*args: Any, **kwargs: Any) -> None:
            calls.append(name)
            raise AssertionError(f"{name} was called while checking an expression")

        return called

    real_compile = builtins.compile

    def parse_only(source: Any, filename: Any, mode: str, flags: int = 0, *a: Any,
                   **k: Any) -> Any:
        """ast.parse goes through compile() with PyCF_ONLY_AST: a tree, never code."""
        if not flags & ast.PyCF_ONLY_AST:
            trap("compile")()
        return real_compile(source, filename, mode, flags, *a, **k)

    real_import = builtins.__import__

    def parser_imports_only(name: str, *a: Any, **k: Any) -> Any:
        """CPython's parser imports unicodedata to NFKC-fold non-ASCII identifiers."""
        if name != "unicodedata":
            trap("__import__")()
        return real_import(name, *a, **k)

    names = ("open", "eval", "exec", "breakpoint", "input")
    targets = [(builtins, name, trap(name)) for name in names]
    targets += [(builtins, "compile", parse_only), (builtins, "__import__", parser_imports_only)]
    targets += [(os, "system", trap("os.system")), (os, "popen", trap("os.popen"))]
    saved = [(owner, name, getattr(owner, name)) for owner, name, _ in targets]
    for owner, name, replacement in targets:
        setattr(owner, name, replacement)
    try:
        yield calls
    finally:
        for owner, name, original in saved:
            setattr(owner, name, original)


def test_the_attack_list_is_long_enough() -> None:
    assert len(ATTACKS) >= 30
    assert len({text for text, _ in ATTACKS}) == len(ATTACKS)


@pytest.mark.parametrize(("text", "fragment"), ATTACKS, ids=[a[0][:40] for a in ATTACKS])
def test_attack_is_refused_at_compile_time(text: str, fragment: str) -> None:
    outcome: object = None
    with tripwire() as calls:
        try:
            outcome = compile_expr(text, NAMES)
        except ExprError as exc:
            outcome = exc
    assert calls == []
    assert isinstance(outcome, ExprError), f"accepted: {text!r}"
    assert fragment in outcome.message, outcome.message
    assert 1 <= outcome.col <= len(text) + 1


def test_nothing_was_written_by_the_open_attack(tmp_path: Path) -> None:
    target = tmp_path / "pwned"
    with pytest.raises(ExprError):
        compile_expr(f"open('{target}', 'w')", NAMES)
    assert not target.exists()


def test_the_compiler_source_never_calls_eval_exec_or_compile() -> None:
    """A structural check: the allowlist is the only path from text to behaviour."""
    import flowengine.expr.functions as functions
    import flowengine.expr.parser as parser

    banned = {"eval", "exec", "compile", "__import__", "open", "globals", "locals", "vars"}
    for module in (parser, functions):
        tree = ast.parse(Path(module.__file__ or "").read_text(encoding="utf-8"))
        called = {n.func.id for n in ast.walk(tree)
                  if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
        assert not called & banned, (module.__name__, called & banned)


# -- run-time abuse: these compile (their operands are fields) and fail cleanly ------------


@pytest.mark.parametrize(("text", "data", "fragment"), [
    ("subject * 1000000000", {"subject": "a"}, "'*' needs numbers, but subject is the text"),
    ("claim_amount * subject", {"subject": "a", "claim_amount": 9}, "but subject is the text"),
    ("'%s' % subject", {"subject": "x"}, "'%' needs numbers"),
    ("subject % claim_amount", {"subject": "%s", "claim_amount": 1}, "'%' needs numbers"),
    ("resolution_team * 1000000000", {"resolution_team": ["a"]}, "'*' needs numbers"),
    ("subject + subject", {"subject": "x" * 60_000}, "longer than"),
    ("resolution_team + resolution_team", {"resolution_team": [1] * 60_000}, "longer than"),
    ("claim_amount * claim_amount * claim_amount",
     {"claim_amount": __import__("decimal").Decimal("1e400000")}, "too large"),
])
def test_runtime_abuse_is_a_clean_eval_error(text: str, data: dict[str, Any],
                                             fragment: str) -> None:
    expr = compile_expr(text, NAMES)
    with pytest.raises(ExprEvalError) as info:
        expr.evaluate(env(data))
    assert fragment in info.value.message
    assert info.value.__cause__ is None


def test_actor_attributes_give_plain_values_only() -> None:
    class Sneaky:
        name = "x"
        role = "principal"
        secret = "no"

    expr = compile_expr("coalesce(actor.role, actor.name)", NAMES)
    assert expr.evaluate(env(actor=Sneaky())) == "principal"
    with pytest.raises(ExprError):
        compile_expr("actor.secret", NAMES)


def test_the_tripwire_itself_trips() -> None:
    """Guards the guard: the tripwire must notice a call, or the tests above prove nothing."""
    with tripwire() as calls:
        with pytest.raises(AssertionError):
            builtins.open("/etc/hostname")
        with pytest.raises(AssertionError):
            __import__("json")
        with pytest.raises(AssertionError):
            builtins.compile("1", "<x>", "eval")
    assert calls == ["open", "__import__", "compile"]
