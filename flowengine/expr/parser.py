"""Guards and computed values: Python expression syntax, checked once, run as closures.

Why this shape:

- The text is parsed with `ast.parse(mode="eval")` and every node is checked against an
  allowlist when the process is loaded, so a bad or hostile guard is a validation error
  with a column, never a surprise while a case is running.
- The checked tree is compiled into nested Python closures, one per node (the closures
  themselves are in runtime.py; this module is the compiler). Evaluating a guard is a
  handful of function calls: no `eval`/`compile` of the source, and no walk over the AST
  on every call.
- Nothing in an expression can name a Python object. Names are case fields (read from
  `env.data`), `actor.name` / `actor.role`, and the functions of `functions.FUNCTIONS`.
  There are no subscripts, no other attributes, no loops and no `**`; text length, node
  count, nesting depth, literal sizes and concatenation results are capped. So an
  expression cannot reach Python internals, import, open files, or run for long.
- Numbers are `decimal.Decimal` built from their source text and arithmetic uses a fixed
  34-digit context, so money is exact (`0.1 + 0.2 == 0.3`) whatever the thread's decimal
  context is.

Errors::

    ValueError
    ├── ExprError       compile time: message, col (1-based, in the expression text), hint
    └── ExprEvalError   run time: a field not set, a wrong type, division by zero
"""

from __future__ import annotations

import ast
import io
import operator
import re
import tokenize
import warnings
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import (
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
)
from typing import TYPE_CHECKING, Any

from ..errors import did_you_mean
from .functions import FUNCTIONS, ExprEvalError, Function, describe
from .runtime import Fn as _Fn
from .runtime import Test as _Test
from .runtime import (
    all_of,
    any_of,
    arith,
    arity,
    as_number,
    call,
    chain,
    contains,
    decimal_op,
    load_actor,
    load_field,
    ordered,
)

if TYPE_CHECKING:
    from .functions import EvalEnv

__all__ = ["Expr", "ExprError", "ExprEvalError", "compile_expr", "describe"]

MAX_TEXT = 2000  # characters in one expression
MAX_NODES = 1000  # AST nodes, operators included
MAX_DEPTH = 50  # nesting of sub-expressions
MAX_STRING_LITERAL = 500  # characters in one quoted text
MAX_NUMBER_LITERAL = 40  # characters in one number as written

_CTX = Context(
    prec=34, rounding=ROUND_HALF_EVEN, Emin=-999_999, Emax=999_999,
    traps=[InvalidOperation, DivisionByZero, Overflow], flags=[],
)
_LITERAL_NAMES: Mapping[str, Any] = {"true": True, "false": False, "null": None}
_ACTOR_ATTRS = ("name", "role")



class ExprError(ValueError):
    """An expression was refused at load time; `col` is 1-based within the text.

    `kind` sorts the refusal for the validator's problem codes without parsing the
    message: "syntax", "forbidden", "unknown-name", "unknown-function", "limit", "invalid".
    """

    def __init__(self, message: str, col: int = 1, hint: str = "",
                 kind: str = "forbidden") -> None:
        super().__init__(message, col, hint)
        self.message = message
        self.col = col
        self.hint = hint
        self.kind = kind

    def __str__(self) -> str:
        text = f"column {self.col}: {self.message}"
        return f"{text}; {self.hint}" if self.hint else text


@dataclass(frozen=True)
class Expr:
    """A checked, compiled expression. `names` are the case fields it reads."""

    text: str
    names: frozenset[str]
    functions: frozenset[str]
    _run: _Fn = field(repr=False, compare=False)

    def evaluate(self, env: EvalEnv) -> Any:
        """The value of the expression; raises ExprEvalError when it has none."""
        try:
            return self._run(env)
        except ExprEvalError:
            raise
        except (TypeError, ValueError, ArithmeticError, LookupError, AttributeError) as exc:
            # A safety net: every anticipated problem raises ExprEvalError itself, with
            # `from None`; the property tests look for this `__cause__` to find gaps.
            raise ExprEvalError(f"'{self.text}' could not be evaluated: {exc}") from exc


def compile_expr(
    text: str,
    names: Collection[str],
    functions: Mapping[str, Function] | None = None,
) -> Expr:
    """Check `text` against the allowlist and compile it; raises ExprError.

    `names` are the variables allowed (the process's fields; the engine adds `state`);
    `actor` is always allowed. `functions` defaults to `functions.FUNCTIONS`.
    """
    if functions is None:
        functions = FUNCTIONS
    if not isinstance(text, str):
        raise ExprError(f"an expression must be text, not {type(text).__name__}", 1,
                        "quote it in the YAML", kind="syntax")
    if len(text) > MAX_TEXT:
        raise ExprError(f"the expression is {len(text)} characters long; the limit is "
                        f"{MAX_TEXT}", MAX_TEXT + 1, "split it, or use a decision table",
                        kind="limit")
    source = _Source(text)
    tree = source.parse()
    _check_size(tree, source)
    compiler = _Compiler(source, frozenset(names), functions)
    run = compiler.compile(tree.body)
    return Expr(text, frozenset(compiler.used_names), frozenset(compiler.used_functions), run)


_GROUPED = re.compile(r"\d[\d_]*(?:,\d{3})+(?![\d.])")  # 5,000 or 12,500,000


class _Source:
    """The expression text and the mapping from AST positions to 1-based columns."""

    def __init__(self, text: str) -> None:
        stripped = text.lstrip()
        self.lead = len(text) - len(stripped)
        # "\r\n" -> " \n" and "\r" -> "\n" keep every character offset unchanged.
        self.text = stripped.replace("\r\n", " \n").replace("\r", "\n")
        self.starts = [0]
        for line in self.text.split("\n")[:-1]:
            self.starts.append(self.starts[-1] + len(line) + 1)

    def parse(self) -> ast.Expression:
        if not self.text.strip():
            raise ExprError("the expression is empty", 1, kind="syntax")
        if "\x00" in self.text:
            raise ExprError("the expression contains a NUL character",
                            self.lead + self.text.index("\x00") + 1, kind="syntax")
        self.check_thousands()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return ast.parse(self.text, mode="eval")
        except SyntaxError as exc:
            raise self._syntax_error(exc) from None
        except (ValueError, MemoryError, RecursionError):
            raise ExprError("the expression cannot be parsed (too complex or has "
                            "characters Python does not accept)", 1, kind="syntax") from None

    def check_thousands(self) -> None:
        """`5,000` is two numbers (Python reads a tuple), so a guard `x <= 5,000 or …`
        would never refuse: a number, a comma and three digits written together are refused
        before parsing, with the number as meant."""
        tokens: list[tokenize.TokenInfo] = []
        try:
            for token in tokenize.generate_tokens(io.StringIO(self.text).readline):
                tokens.append(token)
                if len(tokens) >= 3:
                    self._thousands(*tokens[-3:])
        except (tokenize.TokenError, SyntaxError):
            return  # ast.parse reports it, with its own column

    def _thousands(self, number: tokenize.TokenInfo, comma: tokenize.TokenInfo,
                   group: tokenize.TokenInfo) -> None:
        if not (number.type == tokenize.NUMBER and comma.string == ","
                and number.end == comma.start and comma.end == group.start):
            return
        line, col = number.start
        found = _GROUPED.match(number.line, col)
        if found is None:
            return
        written = found.group(0)
        raise ExprError(f"'{written}' is not one number: a comma separates items, it is not "
                        "a thousands separator",
                        self.lead + self.starts[line - 1] + comma.start[1] + 1,
                        f"write {written.replace(',', '')}, not {written}", kind="syntax")

    def _syntax_error(self, exc: SyntaxError) -> ExprError:
        line = exc.lineno or 1
        col = self.lead + self.starts[min(line, len(self.starts)) - 1] + (exc.offset or 1)
        col = max(1, min(col, self.lead + len(self.text) + 1))
        hint = "write one expression, e.g. claim_amount > 30000"
        if "nested" in exc.msg:
            hint = "split it into simpler conditions"
        elif "\n" in self.text and "(" not in self.text:
            hint = "an expression over several lines must be wrapped in ( )"
        return ExprError(f"not a valid expression: {exc.msg}", col, hint, kind="syntax")

    def col(self, node: ast.AST) -> int:
        """1-based character column of `node` (AST offsets count UTF-8 bytes)."""
        lineno = getattr(node, "lineno", 1)
        line = self.text.split("\n")[lineno - 1]
        prefix = line.encode("utf-8", "surrogatepass")[: getattr(node, "col_offset", 0)]
        chars = len(prefix.decode("utf-8", "ignore"))
        return self.lead + self.starts[lineno - 1] + chars + 1

    def segment(self, node: ast.AST) -> str:
        return ast.get_source_segment(self.text, node) or type(node).__name__

    def operator_col(self, node: ast.BinOp, symbol: str) -> int:
        """Column of the operator between the operands of `node`, for clearer errors."""
        left_end = self.col(node.left) + len(self.segment(node.left)) - self.lead - 1
        found = self.text.find(symbol, left_end)
        return self.lead + found + 1 if found >= 0 else self.col(node)


def _check_size(tree: ast.Expression, source: _Source) -> None:
    """Refuse huge or deeply nested trees before the (recursive) compiler sees them."""
    stack: list[tuple[ast.AST, int, ast.AST]] = [(tree.body, 1, tree.body)]
    count = 0
    while stack:
        node, depth, anchor = stack.pop()
        anchor = node if hasattr(node, "lineno") else anchor
        count += 1
        if depth > MAX_DEPTH:
            raise ExprError(f"the expression is nested more than {MAX_DEPTH} levels deep",
                            source.col(anchor), "split it into simpler conditions", kind="limit")
        if count > MAX_NODES:
            raise ExprError(f"the expression has more than {MAX_NODES} parts",
                            source.col(anchor), "split it, or use a decision table", kind="limit")
        stack.extend((child, depth + 1, anchor) for child in ast.iter_child_nodes(node))


_FORBIDDEN: Mapping[type, str] = {
    ast.Lambda: "lambda functions are not allowed",
    ast.ListComp: "comprehensions are not allowed",
    ast.SetComp: "comprehensions are not allowed",
    ast.DictComp: "comprehensions are not allowed",
    ast.GeneratorExp: "generator expressions are not allowed",
    ast.Subscript: "indexing and slicing (x[...]) are not allowed",
    ast.Slice: "indexing and slicing (x[...]) are not allowed",
    ast.JoinedStr: "f-strings are not allowed; join text with +",
    ast.FormattedValue: "f-strings are not allowed; join text with +",
    ast.NamedExpr: "assignment (:=) is not allowed",
    ast.Dict: "dictionaries ({key: value}) are not allowed",
    ast.Set: "sets ({a, b}) are not allowed; use a list [a, b]",
    ast.Tuple: "a comma outside [ ] or a call makes a tuple, which is not allowed",
    ast.Starred: "unpacking with * is not allowed",
    ast.Await: "await is not allowed",
    ast.Yield: "yield is not allowed",
    ast.YieldFrom: "yield is not allowed",
}
_TUPLE_HINT = "use a list [a, b], and write numbers as 5000, not 5,000"
_FORBIDDEN_BINOPS: Mapping[type, tuple[str, str]] = {
    ast.Pow: ("**", "'**' is not allowed (it can build huge numbers); write the value out"),
    ast.FloorDiv: ("//", "'//' is not allowed; use /"),
    ast.MatMult: ("@", "'@' is not allowed"),
    ast.LShift: ("<<", "bit shifts are not allowed"),
    ast.RShift: (">>", "bit shifts are not allowed"),
    ast.BitOr: ("|", "'|' is not allowed; use or"),
    ast.BitAnd: ("&", "'&' is not allowed; use and"),
    ast.BitXor: ("^", "'^' is not allowed"),
}
_ARITH: Mapping[type, tuple[str, Callable[[Decimal, Decimal], Decimal]]] = {
    ast.Add: ("+", _CTX.add),
    ast.Sub: ("-", _CTX.subtract),
    ast.Mult: ("*", _CTX.multiply),
    ast.Div: ("/", _CTX.divide),
    ast.Mod: ("%", _CTX.remainder),
}
_ORDER: Mapping[type, tuple[str, Callable[[Any, Any], bool]]] = {
    ast.Lt: ("<", operator.lt),
    ast.LtE: ("<=", operator.le),
    ast.Gt: (">", operator.gt),
    ast.GtE: (">=", operator.ge),
}


class _Compiler:
    """Turns a checked AST into closures; records the names and functions used."""

    def __init__(self, source: _Source, names: frozenset[str],
                 functions: Mapping[str, Function]) -> None:
        self.source = source
        self.names = names
        self.functions = functions
        self.used_names: set[str] = set()
        self.used_functions: set[str] = set()
        self.consts: dict[_Fn, Any] = {}  # closures of literals, for folding
        self.dispatch: Mapping[type, Callable[[Any], _Fn]] = {
            ast.Constant: self.constant, ast.Name: self.name,
            ast.Attribute: self.attribute, ast.UnaryOp: self.unary, ast.BinOp: self.binop,
            ast.BoolOp: self.boolop, ast.Compare: self.compare, ast.IfExp: self.ifexp,
            ast.List: self.sequence, ast.Call: self.call,
        }

    def compile(self, node: ast.expr) -> _Fn:
        method = self.dispatch.get(type(node))
        if method is None:
            message = _FORBIDDEN.get(type(node), f"{type(node).__name__} is not allowed")
            hint = _TUPLE_HINT if isinstance(node, ast.Tuple) else ""
            raise self.error(message, node, hint)
        return method(node)

    def error(self, message: str, node: ast.AST, hint: str = "",
              kind: str = "forbidden") -> ExprError:
        return ExprError(message, self.source.col(node), hint, kind)

    def const(self, value: Any) -> _Fn:
        if isinstance(value, list):
            frozen = tuple(value)

            def fn(env: Any) -> Any:
                return list(frozen)  # a fresh list: callers may keep or change it
        else:

            def fn(env: Any) -> Any:
                return value

        self.consts[fn] = value
        return fn

    def fold(self, fn: _Fn, children: Sequence[_Fn], node: ast.AST) -> _Fn:
        """Evaluate now when every child is a literal: errors then surface at load."""
        if not all(child in self.consts for child in children):
            return fn
        try:
            return self.const(fn(None))
        except ExprEvalError as exc:
            raise self.error(exc.message, node, kind="invalid") from None
        except Exception as exc:  # noqa: BLE001 - a pure function misbehaved on literals
            raise self.error(f"cannot be computed: {exc}", node, kind="invalid") from None

    # -- leaves -------------------------------------------------------------------

    def constant(self, node: ast.Constant) -> _Fn:
        value = node.value
        if value is None or isinstance(value, bool):
            return self.const(value)
        if isinstance(value, str):
            if len(value) > MAX_STRING_LITERAL:
                raise self.error(f"text literals are limited to {MAX_STRING_LITERAL} "
                                 "characters", node, kind="limit")
            return self.const(value)
        if isinstance(value, (int, float)):
            return self.const(self.number(node))
        kind = {bytes: "byte strings (b'...')", complex: "complex numbers"}.get(
            type(value), repr(value))
        raise self.error(f"{kind} are not allowed", node)

    def number(self, node: ast.Constant) -> Decimal:
        """A Decimal from the number as written, so 0.01 is exactly one cent."""
        written = self.source.segment(node)
        if written[:2].lower() in ("0x", "0o", "0b"):
            raise self.error("write numbers in decimal digits", node, kind="invalid")
        if len(written) > MAX_NUMBER_LITERAL:
            raise self.error(f"numbers are limited to {MAX_NUMBER_LITERAL} characters", node,
                             kind="limit")
        value = Decimal(written)
        if len(value.as_tuple().digits) > _CTX.prec or abs(value.adjusted()) > 100:
            raise self.error(f"the number {written} is too large or too precise", node,
                             kind="limit")
        return value

    def name(self, node: ast.Name) -> _Fn:
        name = node.id
        if name in _LITERAL_NAMES:
            return self.const(_LITERAL_NAMES[name])
        if name.startswith("__"):
            raise self.error(f"names starting with '__' are not allowed ('{name}')", node)
        if name == "actor":
            raise self.error("use actor.name or actor.role", node)
        if name in self.names:
            self.used_names.add(name)
            return load_field(name)
        if name in self.functions:
            raise self.error(f"'{name}' is a function; call it: {name}(...)", node,
                             kind="invalid")
        known = self.names | self.functions.keys() | {"actor"}
        raise self.error(f"unknown name '{name}': not a field of this process", node,
                         did_you_mean(name, known), kind="unknown-name")

    def attribute(self, node: ast.Attribute) -> _Fn:
        base = node.value
        if not (isinstance(base, ast.Name) and base.id == "actor"):
            raise self.error("attributes are only allowed on actor (actor.name, "
                             f"actor.role), not '.{node.attr}'", node)
        if node.attr not in _ACTOR_ATTRS:
            raise self.error(f"actor has no attribute '{node.attr}'; use actor.name or "
                             "actor.role", node, did_you_mean(node.attr, _ACTOR_ATTRS))
        return load_actor(node.attr)

    # -- operators ----------------------------------------------------------------

    def unary(self, node: ast.UnaryOp) -> _Fn:
        operand = self.compile(node.operand)
        if isinstance(node.op, ast.Not):
            return self.fold(lambda env: not operand(env), [operand], node)
        if isinstance(node.op, ast.Invert):
            raise self.error("'~' is not allowed; use not", node)
        text = self.source.segment(node.operand)
        symbol, op = ("-", _CTX.minus) if isinstance(node.op, ast.USub) else ("+", _CTX.plus)
        return self.fold(
            lambda env: decimal_op(symbol, op, as_number(operand(env), text, symbol)),
            [operand], node)

    def binop(self, node: ast.BinOp) -> _Fn:
        if type(node.op) in _FORBIDDEN_BINOPS:
            symbol, message = _FORBIDDEN_BINOPS[type(node.op)]
            raise ExprError(message, self.source.operator_col(node, symbol))
        symbol, op = _ARITH[type(node.op)]
        left, right = self.compile(node.left), self.compile(node.right)
        texts = (self.source.segment(node.left), self.source.segment(node.right))
        return self.fold(arith(symbol, op, left, right, texts), [left, right], node)

    def boolop(self, node: ast.BoolOp) -> _Fn:
        parts = [self.compile(value) for value in node.values]
        fn = all_of(parts) if isinstance(node.op, ast.And) else any_of(parts)
        return self.fold(fn, parts, node)

    def ifexp(self, node: ast.IfExp) -> _Fn:
        test, body, orelse = (self.compile(n) for n in (node.test, node.body, node.orelse))
        return self.fold(lambda env: body(env) if test(env) else orelse(env),
                         [test, body, orelse], node)

    def sequence(self, node: ast.List) -> _Fn:
        items = [self.compile(element) for element in node.elts]
        return self.fold(lambda env: [item(env) for item in items], items, node)

    def compare(self, node: ast.Compare) -> _Fn:
        operands = [self.compile(n) for n in (node.left, *node.comparators)]
        texts = [self.source.segment(n) for n in (node.left, *node.comparators)]
        tests = [self.comparison(op, texts[i], texts[i + 1], node)
                 for i, op in enumerate(node.ops)]
        if len(tests) == 1:
            fn = self.single_compare(node.ops[0], tests[0], operands)
        else:
            fn = chain(operands, tests)
        return self.fold(fn, operands, node)

    def comparison(self, op: ast.cmpop, left: str, right: str, node: ast.AST) -> _Test:
        if isinstance(op, ast.Eq):
            return operator.eq
        if isinstance(op, ast.NotEq):
            return operator.ne
        if type(op) in _ORDER:
            return ordered(*_ORDER[type(op)], left, right)
        if isinstance(op, (ast.In, ast.NotIn)):
            return contains(left, right, negate=isinstance(op, ast.NotIn))
        raise self.error("'is' is not allowed; use == or != (for example x == null)", node)

    def single_compare(self, op: ast.cmpop, test: _Test, operands: list[_Fn]) -> _Fn:
        """The common `x == 'a'` / `x in [...]` shapes, without the chain loop."""
        left, right = operands
        if right in self.consts and isinstance(op, (ast.In, ast.NotIn)):
            choices = self.consts[right]
            if isinstance(choices, (list, tuple)):
                items = tuple(choices)
                if isinstance(op, ast.In):
                    return lambda env: left(env) in items
                return lambda env: left(env) not in items
        if right in self.consts:
            value = self.consts[right]
            return lambda env: test(left(env), value)
        return lambda env: test(left(env), right(env))

    def call(self, node: ast.Call) -> _Fn:
        spec = self.function(node)
        if len(node.args) < spec.min_args or len(node.args) > spec.max_args:
            raise self.error(f"{spec.name}() takes {arity(spec)}, got {len(node.args)}", node,
                             kind="invalid")
        args = [self.compile(arg) for arg in node.args]
        self.check_literals(spec, args, node.args)
        self.used_functions.add(spec.name)
        fn = call(spec, args, self.source.segment(node))
        return self.fold(fn, args, node) if spec.pure else fn

    def check_literals(self, spec: Function, args: list[_Fn], nodes: list[ast.expr]) -> None:
        if spec.check_literal is None:
            return
        for index, (arg, node) in enumerate(zip(args, nodes, strict=True)):
            if arg in self.consts:
                try:
                    spec.check_literal(index, self.consts[arg])
                except ExprEvalError as exc:
                    raise self.error(f"{spec.name}(): {exc.message}", node,
                                     kind="invalid") from None

    def function(self, node: ast.Call) -> Function:
        """The registered function `node` calls, or an ExprError saying why not."""
        func = node.func
        if not isinstance(func, ast.Name):
            raise self.error("only the named functions can be called "
                             f"({', '.join(sorted(self.functions))})", node)
        if node.keywords:
            raise self.error("keyword arguments are not allowed; pass arguments in order",
                             node.keywords[0])
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise self.error("unpacking with * is not allowed", arg)
        spec = self.functions.get(func.id)
        if spec is not None:
            return spec
        if func.id in self.names:
            raise self.error(f"'{func.id}' is a field, not a function", node, kind="invalid")
        hint = did_you_mean(func.id, self.functions) or (
            "functions: " + ", ".join(sorted(self.functions)))
        raise self.error(f"unknown function '{func.id}'", node, hint, kind="unknown-function")


# -- run-time pieces: small closures built once per node ------------------------------
