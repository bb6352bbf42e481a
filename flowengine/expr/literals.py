"""The quoted names an expression compares with a role or a state, for the validator.

`actor.role == 'directr'` compiles (it is just text) and is simply never true, so a typo
silently disables a guard. `named_literals` finds every text literal that stands for a
role (compared with `actor.role`, or the argument of `has_signed`) or a state (compared
with `state`), so the validator can check it against the process's declared names.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import NamedTuple, TypeGuard

from .parser import _Source


class NamedLiteral(NamedTuple):
    kind: str  # "role" | "state"
    value: str
    col: int  # 1-based, in the expression text


def named_literals(text: str) -> list[NamedLiteral]:
    """Every role or state literal of `text`, in order; [] when `text` does not parse
    (compiling it reports that)."""
    source = _Source(text)
    try:
        tree = source.parse()
    except ValueError:
        return []
    found = {NamedLiteral(kind, str(node.value), source.col(node))
             for kind, node in _literals(tree)}  # a set: `a == 'x' == b` names 'x' once
    return sorted(found, key=lambda lit: lit.col)


def _literals(tree: ast.AST) -> Iterator[tuple[str, ast.Constant]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            for op, left, right in zip(node.ops, operands, operands[1:], strict=False):
                yield from _compared(op, left, right)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
              and node.func.id == "has_signed"):
            yield from (("role", a) for a in node.args if _text(a))


def _compared(op: ast.cmpop, left: ast.expr, right: ast.expr) -> Iterator[tuple[str, ast.Constant]]:
    if isinstance(op, (ast.Eq, ast.NotEq)):
        for subject, other in ((left, right), (right, left)):
            kind = _subject(subject)
            if kind and _text(other):
                yield kind, other
    elif isinstance(op, (ast.In, ast.NotIn)):
        kind = _subject(left)
        if kind and isinstance(right, (ast.List, ast.Tuple)):
            yield from ((kind, e) for e in right.elts if _text(e))


def _subject(node: ast.expr) -> str | None:
    if (isinstance(node, ast.Attribute) and node.attr == "role"
            and isinstance(node.value, ast.Name) and node.value.id == "actor"):
        return "role"
    if isinstance(node, ast.Name) and node.id == "state":
        return "state"
    return None


def _text(node: ast.expr) -> TypeGuard[ast.Constant]:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)
