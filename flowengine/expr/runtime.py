"""What a compiled expression runs: the closures `parser` builds, one per node.

Split from the compiler (parser.py) so each side reads alone: the compiler checks the
tree against the allowlist and picks one of these builders per node; nothing here sees
the AST or the source text except to name it in an error. Run-time failures are
`ExprEvalError` (a field not set, a wrong type, division by zero, a result too long).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, DecimalException, Overflow
from typing import TYPE_CHECKING, Any

from .functions import ExprEvalError, Function, describe

if TYPE_CHECKING:
    from .functions import EvalEnv

MAX_RESULT_LEN = 100_000  # characters/items a + concatenation may produce
FAST_ORDER = frozenset({Decimal, int, str, date})

Fn = Callable[[Any], Any]  # takes an EvalEnv (None while folding literals)
Test = Callable[[Any, Any], bool]
LITERAL_NULLS = ("null", "None")  # how null is written (for the wording of an error)


def load_field(name: str) -> Fn:
    def load(env: EvalEnv) -> Any:
        return env.data.get(name)

    return load


def load_actor(attr: str) -> Fn:
    def load(env: EvalEnv) -> Any:
        actor = env.actor
        return None if actor is None else getattr(actor, attr, None)

    return load


def all_of(parts: list[Fn]) -> Fn:
    if len(parts) == 2:
        first, second = parts
        return lambda env: first(env) and second(env)

    def run(env: Any) -> Any:
        value: Any = True
        for part in parts:
            value = part(env)
            if not value:
                return value
        return value

    return run


def any_of(parts: list[Fn]) -> Fn:
    if len(parts) == 2:
        first, second = parts
        return lambda env: first(env) or second(env)

    def run(env: Any) -> Any:
        value: Any = False
        for part in parts:
            value = part(env)
            if value:
                return value
        return value

    return run


def chain(operands: list[Fn], tests: list[Test]) -> Fn:
    """`a < b <= c`: each operand evaluated once, stopping at the first false link."""
    first, rest = operands[0], list(zip(tests, operands[1:], strict=True))

    def run(env: Any) -> bool:
        left = first(env)
        for test, operand in rest:
            right = operand(env)
            if not test(left, right):
                return False
            left = right
        return True

    return run


def order_kind(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, Decimal, float)):
        return "number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, datetime):
        return "datetime"
    return "date" if isinstance(value, date) else None


def ordered(symbol: str, op: Callable[[Any, Any], bool], left: str, right: str) -> Test:
    def test(a: Any, b: Any) -> bool:
        try:
            if type(a) is type(b) and type(a) in FAST_ORDER:
                return op(a, b)
            kind = order_kind(a)
            if a is None or b is None or kind is None or kind != order_kind(b):
                raise order_error(a, b, left, right, symbol)
            return op(a, b)
        except (TypeError, ArithmeticError):
            raise ExprEvalError(f"cannot compare {left} ({describe(a)}) with {right} "
                                f"({describe(b)}) using '{symbol}'") from None

    return test


def order_error(a: Any, b: Any, left: str, right: str, symbol: str) -> ExprEvalError:
    if (a is None and left in LITERAL_NULLS) or (b is None and right in LITERAL_NULLS):
        return ExprEvalError(f"null cannot be compared with '{symbol}'; use == or !=")
    if a is None:
        return ExprEvalError(f"{left} is not set (it is compared with {right})")
    if b is None:
        return ExprEvalError(f"{right} is not set (it is compared with {left})")
    return ExprEvalError(f"cannot compare {left} ({describe(a)}) with {right} "
                         f"({describe(b)}) using '{symbol}'")


def contains(left: str, right: str, negate: bool) -> Test:
    def test(a: Any, b: Any) -> bool:
        if isinstance(b, (list, tuple)):
            return (a in b) != negate
        if isinstance(b, str):
            if isinstance(a, str):
                return (a in b) != negate
            raise ExprEvalError(f"'in' on text needs text on the left, but {left} is "
                                f"{describe(a)}")
        if b is None:
            raise ExprEvalError(f"{right} is not set (needed for 'in')")
        raise ExprEvalError(f"'in' needs a list or text on the right, but {right} is "
                            f"{describe(b)}")

    return test


def as_number(value: Any, text: str, symbol: str) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    if value is None:
        raise ExprEvalError(f"{text} is not set (needed for '{symbol}')")
    raise ExprEvalError(f"'{symbol}' needs numbers, but {text} is {describe(value)}")


def decimal_op(symbol: str, op: Callable[..., Decimal], *values: Decimal) -> Decimal:
    """Run a Decimal context operation, turning its signals into ExprEvalError."""
    try:
        return op(*values)
    except DecimalException as exc:
        if isinstance(exc, ZeroDivisionError):
            raise ExprEvalError(f"division by zero in '{symbol}'") from None
        what = "is too large" if isinstance(exc, Overflow) else "cannot be computed exactly"
        raise ExprEvalError(f"the result of '{symbol}' {what}") from None


def arith(symbol: str, op: Callable[[Decimal, Decimal], Decimal],
           left: Fn, right: Fn, texts: tuple[str, str]) -> Fn:
    ltext, rtext = texts

    def run(env: Any) -> Any:
        a, b = left(env), right(env)
        if symbol == "+" and type(a) is type(b) and isinstance(a, (str, list, tuple)):
            return concat(a, b)
        x, y = as_number(a, ltext, symbol), as_number(b, rtext, symbol)
        if symbol in "/%" and y == 0:
            raise ExprEvalError(f"division by zero: {rtext} is 0 in {ltext} {symbol} {rtext}")
        return decimal_op(symbol, op, x, y)

    return run


def concat(a: Any, b: Any) -> Any:
    if len(a) + len(b) > MAX_RESULT_LEN:
        raise ExprEvalError(f"the result of '+' would be longer than {MAX_RESULT_LEN}")
    return a + b


def call(spec: Function, args: list[Fn], text: str) -> Fn:
    """A call closure; the usual one-argument case skips building an argument list."""
    impl = spec.impl

    def failed(exc: ExprEvalError) -> ExprEvalError:
        return ExprEvalError(f"{text}: {exc.message}")

    if len(args) == 1:
        (arg,) = args

        def run_one(env: Any) -> Any:
            value = arg(env)
            try:
                return impl(env, value)
            except ExprEvalError as exc:
                raise failed(exc) from None

        return run_one

    def run(env: Any) -> Any:
        values = [arg(env) for arg in args]
        try:
            return impl(env, *values)
        except ExprEvalError as exc:
            raise failed(exc) from None

    return run


def arity(spec: Function) -> str:
    if spec.min_args == spec.max_args:
        return f"{spec.min_args} argument{'s' * (spec.min_args != 1)}"
    return f"{spec.min_args} to {spec.max_args} arguments"
