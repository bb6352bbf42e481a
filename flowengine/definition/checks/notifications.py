"""Notifications: each goes out on an event that can happen, to recipients that exist, with
a message template that only reads values the engine will have (FE217–FE219)."""

from __future__ import annotations

import string
from collections.abc import Iterator
from typing import Any

from ...errors import Location, did_you_mean
from .columns import scalar_location
from .context import Context, unknown_hint, with_locations

TEMPLATE_BUILTINS = ("case", "date", "deadline", "deadline_name", "due", "reason", "days", "state",
                     "trigger", "actor", "extension", "reason_sentence", "old_due")
RECIPIENTS = ("petitioner", "owner", "supervisor")


def notifications(ctx: Context) -> None:
    """FE217 unknown deadline, FE218 bad templates, FE219 unknown recipients."""
    p = ctx.process
    for n in p.notifications.values():
        owner = f"notification '{n.name}'"
        _deadline_event(ctx, n, owner)
        if n.on.deadlines != ("*",):
            for name, loc in with_locations(n, "on.deadline", n.on.deadlines):
                if name not in p.deadlines:
                    ctx.add("FE217", f"unknown deadline '{name}' in {owner}", loc,
                            hint=unknown_hint(name, p.deadlines, "deadlines"))
        for i, who in enumerate(n.to):
            _recipient(ctx, who, n.at(f"to[{i}]"), owner)
        for lang, template in n.message.items():
            loc = n.at("message") if lang == "default" and "message.default" not in n.locs \
                else n.at(f"message.{lang}")
            _template(ctx, template, loc, owner)


def _deadline_event(ctx: Context, n: Any, owner: str) -> None:
    """`on.deadline` and `on.event` only work together, and then answer nothing else."""
    on = n.on
    if on.deadlines and on.deadline_event is None:
        ctx.add("FE217", f"{owner} names a deadline but no event, so it never goes out",
                n.at("on.deadline"), hint="add event: warning, overdue, expired, extension, "
                "paused or resumed")
    elif on.deadline_event is not None and not on.deadlines:
        ctx.add("FE217", f"{owner} names a deadline event but no deadline, so it never goes "
                "out", n.at("on.event"), hint='add deadline: <name>, or deadline: "*" for any')
    elif on.deadline_event is not None and (on.started or on.triggers or on.enter):
        ctx.add("FE217", f"{owner} mixes a deadline event with started/trigger/enter, which "
                "are then ignored", n.at("on"), hint="split it into two notifications")


def _recipient(ctx: Context, who: str, loc: Location, owner: str) -> None:
    p = ctx.process
    if who.startswith("field:"):
        name = who[len("field:"):]
        if name not in ctx.fields:
            ctx.add("FE219", f"recipient '{who}' in {owner} names an unknown field", loc,
                    hint=unknown_hint(name, ctx.fields, "fields"))
        return
    if who in RECIPIENTS or who in p.roles:
        return
    known = [*RECIPIENTS, *p.roles, *(f"field:{f}" for f in ctx.fields)]
    hint = did_you_mean(who, known) or (
        f"field:{who}" if who in ctx.fields else
        "use petitioner, owner, supervisor, a declared role, or field:<field>")
    ctx.add("FE219", f"unknown recipient '{who}' in {owner}", loc, hint=hint)


def template_fields(template: str) -> Iterator[tuple[str, int, str | None]]:
    """(placeholder, offset, problem) for each `{…}` of a message template.

    Raises ValueError for a template that is not well formed (a single brace).
    """
    pos = 0
    for literal, name, spec, _ in string.Formatter().parse(template):
        pos += len(literal)
        if name is None:
            pos += literal[-1:] in ("{", "}")  # an escaped brace is written twice
            continue
        end = _placeholder_end(template, pos)
        yield name, pos, _placeholder_problem(name, spec)
        pos = end


def _placeholder_end(template: str, start: int) -> int:
    depth = 0
    for i in range(start, len(template)):
        depth += {"{": 1, "}": -1}.get(template[i], 0)
        if depth == 0:
            return i + 1
    return len(template)


def _placeholder_problem(name: str, spec: str | None) -> str | None:
    if not name:
        return "an empty placeholder {}: name the value, e.g. {petitioner}"
    if "." in name or "[" in name:
        return f"'{{{name}}}' reads an attribute or an index; only plain names are allowed"
    if spec and "{" in spec:
        return f"'{{{name}:{spec}}}' nests a placeholder in a format; write plain {{{name}}}"
    return None


def _template(ctx: Context, template: str, loc: Location, owner: str) -> None:
    known = set(ctx.fields) | set(TEMPLATE_BUILTINS)
    try:
        found = list(template_fields(template))
    except ValueError as exc:
        ctx.add("FE218", f"message of {owner} is not a valid template: {exc}", loc,
                hint="write {{ and }} for a literal brace")
        return
    for name, offset, why in found:
        where = scalar_location(ctx.lines, loc, template, offset)
        if why:
            ctx.add("FE218", f"message of {owner}: {why}", where,
                    hint="write {field} with a declared field or a built-in: "
                    f"{', '.join(TEMPLATE_BUILTINS)}")
        elif name not in known:
            ctx.add("FE218", f"message of {owner} uses unknown placeholder '{{{name}}}'",
                    where, hint=did_you_mean(name, known) or
                    f"a field of this process or one of {', '.join(TEMPLATE_BUILTINS)}")
