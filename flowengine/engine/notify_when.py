"""A notification's `when`: one letter for one reason, chosen by the case data after the
step (the court-advice letter after a failed mediation differs from the one for a payout of
¥200,000 or more, and the staff-discipline result goes out only when the staff were
responsible). Kept apart from notify.py so the rendering there needs no expressions."""

from __future__ import annotations

from datetime import datetime

from ..definition.model import NotificationDef
from ..expr import ExprEvalError
from ..expr.functions import SimpleEnv
from ..records.case import Actor, Case
from .compiler import CompiledProcess
from .data import SIGNATURES


def wanted(cp: CompiledProcess, n: NotificationDef, case: Case, at: datetime,
           actor: Actor) -> bool:
    """True when `n` has no `when`, or its expression is true over the case after the step.
    An expression that cannot be evaluated (an empty field compared with a number) is
    false: a letter is never sent on a condition nobody could check."""
    if not n.when:
        return True
    data = dict(case.data)
    data["state"] = case.state
    signatures = [str(s.get("role")) for s in data.get(SIGNATURES) or () if isinstance(s, dict)]
    env = SimpleEnv(data=data, actor=actor, now=at, tz=cp.tz, calendar=cp.calendar,
                    signatures=signatures)
    try:
        return bool(cp.expr(n.when).evaluate(env))
    except ExprEvalError:
        return False
