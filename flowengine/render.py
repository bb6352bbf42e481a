"""Draw a process as a Mermaid `stateDiagram-v2` or a Graphviz DOT digraph.

The drawing is for people checking a procedure against its source document, so it shows
what they look for: every state with its title (initial and final marked), every trigger
on its arrow with a shortened guard, self-triggers as loops marked "(self)", one arrow per
decision-table row labelled with its range, and each deadline as a note (name, length,
what starts and stops it). The arrows come from `definition.graph`, the same walk the
validator uses, so the picture never shows a path the validator calls impossible.

Both formats are plain text built line by line; every user-written string goes through
one escaping function per format, because titles are Chinese, guards contain quotes and
`<`, and a single stray quote would make the whole file unreadable to `dot` or `mmdc`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from .definition import graph
from .definition.checks import row_condition
from .definition.model import DeadlineDef, ProcessDef, TransitionDef

GUARD_WIDTH = 40
FORMATS = ("mermaid", "dot")

# Words Mermaid's state-diagram grammar reads as keywords; such a state gets an alias id.
_MERMAID_KEYWORDS = frozenset({
    "state", "note", "end", "as", "direction", "class", "classdef", "click", "style",
    "left", "right", "of", "over", "tb", "bt", "lr", "rl", "accdescr", "acctitle",
    "default", "concurrent", "fork", "join", "choice", "hide", "empty", "description",
})


@dataclass(frozen=True)
class Arrow:
    """One arrow of the drawing: `source -> dest` labelled `label` (self: a loop)."""

    source: str
    dest: str
    label: str
    self_loop: bool = False


def render(process: ProcessDef, fmt: str = "mermaid") -> str:
    """The diagram of `process` in `fmt` ("mermaid" or "dot"), ending with a newline."""
    if fmt == "mermaid":
        return to_mermaid(process)
    if fmt == "dot":
        return to_dot(process)
    raise ValueError(f"unknown diagram format '{fmt}'; use one of {', '.join(FORMATS)}")


# ----------------------------------------------------------------------------- content


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def short_guard(t: TransitionDef, width: int = GUARD_WIDTH) -> str:
    """The guards of `t` joined by "and", cut to `width` characters with an ellipsis."""
    text = _flat(" and ".join(g.expr for g in t.guards))
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def arrows(process: ProcessDef) -> list[Arrow]:
    """Every arrow to draw: transitions and table rows, then self-triggers."""
    out: list[Arrow] = []
    for e in graph.edges(process):
        label = e.transition.trigger
        if e.row is not None:
            table = process.decisions[e.transition.route or ""]
            cond = _flat(row_condition(e.row, table.input or "value"))
            label += f" [{cond}]" if cond else ""
        guard = short_guard(e.transition)
        label += f" [{guard}]" if guard else ""
        out.append(Arrow(e.source, e.dest, label))
    for state, t in graph.self_triggers(process):
        guard = short_guard(t)
        out.append(Arrow(state, state, f"{t.trigger} (self)" + (f" [{guard}]" if guard else ""),
                         self_loop=True))
    return out


def _anchor_text(kind: str, started: bool, triggers: tuple[str, ...], enter: tuple[str, ...],
                 leave: tuple[str, ...]) -> str:
    parts = ["case start"] if started else []
    parts += [f"trigger {', '.join(triggers)}"] if triggers else []
    parts += [f"entering {', '.join(enter)}"] if enter else []
    parts += [f"leaving {', '.join(leave)}"] if leave else []
    return f"{kind}: {'; '.join(parts) or '-'}"


def deadline_lines(d: DeadlineDef) -> list[str]:
    """A deadline as note lines: name and length, start, stop, supersede, pause and timeout."""
    length = str(d.length) if d.length else ""
    if d.due_field is not None:
        length = f"{length} or {d.due_field.field}" if length else f"date in {d.due_field.field}"
    lines = [f"deadline {d.name}: {length or 'no length'}"]
    lines.append(_anchor_text("start", d.start.started, d.start.triggers, d.start.enter,
                              d.start.leave))
    lines.append(_anchor_text("stop", d.stop.started, d.stop.triggers, d.stop.enter,
                              d.stop.leave))
    if d.supersede is not None:
        s = d.supersede
        lines.append(_anchor_text("superseded", s.started, s.triggers, s.enter, s.leave))
    if d.pause_in:
        lines.append(f"paused in {', '.join(d.pause_in)}")
    if d.on_overdue is not None and d.on_overdue.fire:
        lines.append(f"when overdue: fire {d.on_overdue.fire}")
    return lines


def deadline_home(process: ProcessDef, d: DeadlineDef) -> str | None:
    """The state a deadline's note is pinned to: where it starts."""
    for name in d.start.enter:
        if name in process.states:
            return name
    for t in process.transitions:
        if t.trigger in d.start.triggers:
            dest = t.dest if t.dest in process.states else None
            source = next((s for s in t.sources if s in process.states), None)
            if dest or source:
                return dest or source
    return next((s.name for s in process.states.values() if s.initial), None)


def _notes(process: ProcessDef) -> dict[str, list[str]]:
    notes: dict[str, list[str]] = {}
    for d in process.deadlines.values():
        home = deadline_home(process, d)
        if home is not None:
            notes.setdefault(home, []).extend(deadline_lines(d))
    return notes


def _state_label(name: str, title: str) -> str:
    return f"{_flat(title)} ({name})" if title else name


# ----------------------------------------------------------------------------- Mermaid


def _mm(text: str) -> str:
    """Text safe inside a Mermaid label: one line, no quotes, no tag-like `<x`."""
    text = _flat(text).replace('"', "'").replace("#", "＃").replace(";", ",")
    return re.sub(r"<(?=[A-Za-z/!?])", "< ", text).replace("{", "(").replace("}", ")")


def _mm_id(name: str) -> str:
    return f"s_{name}" if name.lower() in _MERMAID_KEYWORDS else name


def to_mermaid(process: ProcessDef) -> str:
    """A Mermaid `stateDiagram-v2` (renders on GitHub, GitLab, and with `mmdc`)."""
    return "\n".join(_mermaid_lines(process)) + "\n"


def _mermaid_lines(process: ProcessDef) -> Iterator[str]:
    yield "stateDiagram-v2"
    yield f"    %% {_mm(process.title)} ({process.id}, version {_mm(process.version)})"
    for s in process.states.values():
        yield f'    state "{_mm(_state_label(s.name, s.title))}" as {_mm_id(s.name)}'
    for s in process.states.values():
        if s.initial:
            yield f"    [*] --> {_mm_id(s.name)}"
    for a in arrows(process):
        yield f"    {_mm_id(a.source)} --> {_mm_id(a.dest)} : {_mm(a.label)}"
    for s in process.states.values():
        if s.final:
            yield f"    {_mm_id(s.name)} --> [*]"
    for home, lines in _notes(process).items():
        yield f"    note right of {_mm_id(home)}"
        yield from (f"        {_mm(line)}" for line in lines)
        yield "    end note"


# ----------------------------------------------------------------------------- DOT


def _dq(text: str) -> str:
    """A DOT double-quoted string; newlines become centred line breaks."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\r", "").replace("\n", "\\n") + '"'


def to_dot(process: ProcessDef) -> str:
    """A Graphviz digraph (`dot -Tsvg`), UTF-8, every identifier and label quoted."""
    return "\n".join(_dot_lines(process)) + "\n"


def _dot_lines(process: ProcessDef) -> Iterator[str]:
    yield f"digraph {_dq(process.id)} {{"
    title = f"{_flat(process.title)} ({process.id}, version {process.version})"
    yield f'    graph [rankdir=LR, labelloc=t, label={_dq(title)}, charset="UTF-8"];'
    yield '    node [shape=box, style=rounded];'
    for s in process.states.values():
        extra = ", peripheries=2" if s.final else ""
        extra += ", penwidth=2" if s.initial else ""
        yield f"    {_dq(s.name)} [label={_dq(_state_label(s.name, s.title))}{extra}];"
    for s in process.states.values():
        if s.initial:
            yield f'    {_dq("__start__" + s.name)} [shape=point, label=""];'
            yield f"    {_dq('__start__' + s.name)} -> {_dq(s.name)};"
    for a in arrows(process):
        style = ", style=dashed" if a.self_loop else ""
        yield f"    {_dq(a.source)} -> {_dq(a.dest)} [label={_dq(_flat(a.label))}{style}];"
    for i, (home, lines) in enumerate(_notes(process).items()):
        note = f"__deadlines_{i}"
        yield f"    {_dq(note)} [shape=note, style=filled, fillcolor=lightyellow, " \
              f"label={_dq(chr(10).join(_flat(x) for x in lines))}];"
        yield f"    {_dq(note)} -> {_dq(home)} [style=dotted, arrowhead=none];"
    yield "}"
