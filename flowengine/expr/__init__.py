"""The guard and computed-value language: checked at load, compiled to closures.

`compile_expr` is what the loader and the validator call; `Expr.evaluate` is what the
engine calls with an `EvalEnv` (usually a `SimpleEnv`) built for one fire. The language
is documented for integrators in docs/expressions.md.
"""

from .functions import FUNCTIONS, EvalEnv, Function, SimpleEnv
from .parser import Expr, ExprError, ExprEvalError, compile_expr

__all__ = [
    "FUNCTIONS",
    "EvalEnv",
    "Expr",
    "ExprError",
    "ExprEvalError",
    "Function",
    "SimpleEnv",
    "compile_expr",
]
