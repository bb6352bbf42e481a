"""Diagrams: every state and trigger of each shipped procedure appears, table rows carry
their ranges, deadlines appear as notes, and the text is well formed for its tool. DOT is
checked by a small tokenizer-level grammar here (and by Graphviz itself when `dot` is
installed); Mermaid by a line grammar of the statements we emit."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from flowengine.definition.loader import load_process, validate_text
from flowengine.definition.model import ProcessDef
from flowengine.render import GUARD_WIDTH, render, short_guard, to_dot, to_mermaid

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted((ROOT / "processes").glob("*.yaml"))


@pytest.fixture(params=SHIPPED, ids=lambda p: p.stem)
def process(request: pytest.FixtureRequest) -> ProcessDef:
    return load_process(request.param)


# ----------------------------------------------------------------------------- Mermaid

_MERMAID_LINE = re.compile(
    r"^(stateDiagram-v2"
    r"|    %% .*"
    r'|    state "[^"\n]+" as [a-z][a-z0-9_]*'
    r"|    \[\*\] --> [a-z][a-z0-9_]*"
    r"|    [a-z][a-z0-9_]* --> \[\*\]"
    r"|    [a-z][a-z0-9_]* --> [a-z][a-z0-9_]* : [^;#\n]+"
    r"|    note right of [a-z][a-z0-9_]*"
    r"|        [^\n]+"
    r"|    end note)$"
)


def test_mermaid_lines_follow_the_grammar(process: ProcessDef) -> None:
    text = to_mermaid(process)
    assert text.endswith("\n")
    bad = [line for line in text.splitlines() if not _MERMAID_LINE.match(line)]
    assert bad == []
    assert text.count("    note right of") == text.count("    end note")


def test_mermaid_shows_every_state_trigger_and_deadline(process: ProcessDef) -> None:
    text = to_mermaid(process)
    for name, state in process.states.items():
        assert f"as {name}\n" in text
        if state.title:
            assert state.title.split()[0] in text
    for trigger in process.triggers:
        assert re.search(rf" : {trigger}\b", text), trigger
    for name in process.deadlines:
        assert f"deadline {name}:" in text
    initial = process.initial_state
    assert f"[*] --> {initial}" in text
    for final in process.final_states:
        assert f"{final} --> [*]" in text


def test_mermaid_keyword_state_names_get_an_alias() -> None:
    text = _mini(states="  note: {initial: true}\n  end: {final: true}\n",
                 transitions="  - {trigger: finish, source: note, dest: end}\n")
    mermaid = to_mermaid(text)
    assert 'state "note" as s_note' in mermaid and "s_note --> s_end : finish" in mermaid


# ----------------------------------------------------------------------------- DOT

_TOKEN = re.compile(r'\s*(?:("(?:[^"\\]|\\.)*")|(->|[{}\[\];,=])|([A-Za-z_][A-Za-z0-9_]*|-?\d+(?:\.\d+)?))')


def _tokens(text: str) -> list[str]:
    out, pos = [], 0
    while pos < len(text.rstrip()):
        m = _TOKEN.match(text, pos)
        assert m and m.end() > pos, f"cannot tokenize at {text[pos:pos + 30]!r}"
        out.append(m.group(m.lastindex or 0))
        pos = m.end()
    return out


def _parse_dot(text: str) -> list[list[str]]:
    """Check `digraph ID { stmt; … }` and return the statements as token lists."""
    tokens = _tokens(text)
    assert tokens[0] == "digraph" and tokens[2] == "{" and tokens[-1] == "}"
    statements: list[list[str]] = []
    current: list[str] = []
    for tok in tokens[3:-1]:
        if tok == ";":
            statements.append(current)
            current = []
        else:
            current.append(tok)
    assert current == []
    for stmt in statements:
        head = stmt[:3] if len(stmt) > 1 and stmt[1] == "->" else stmt[:1]
        assert all(t.startswith('"') or t in ("graph", "node", "->") for t in head), stmt
        rest = stmt[len(head):]
        if rest:
            assert rest[0] == "[" and rest[-1] == "]", stmt
            assert all(t in ("=", ",") or re.match(r'^"|^\w+$', t) for t in rest[1:-1]), stmt
    return statements


def test_dot_parses_and_shows_everything(process: ProcessDef) -> None:
    text = to_dot(process)
    statements = _parse_dot(text)
    nodes = {s[0].strip('"') for s in statements if len(s) > 1 and s[1] == "["}
    assert set(process.states) <= nodes
    labels = " ".join(t for s in statements for t in s if t.startswith('"'))
    for trigger in process.triggers:
        assert re.search(rf"\b{trigger}\b", labels)


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
def test_graphviz_accepts_the_dot(process: ProcessDef) -> None:
    done = subprocess.run(["dot", "-Tsvg"], input=to_dot(process).encode("utf-8"),
                          capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr.decode()
    assert b"<svg" in done.stdout


def test_dot_quotes_chinese_titles_and_escapes_quotes() -> None:
    # the shipped title uses Chinese quotes (领导包案“13710”工作法); ASCII ones must be escaped
    process = replace(load_process(ROOT / "processes" / "five_step.yaml"),
                      title='领导包案 "13710" (leader-owned case)')
    text = to_dot(process)
    assert '"received" [label="市级领导接访约访 (received)"' in text
    assert 'label="领导包案 \\"13710\\" (leader-owned case)' in text
    _parse_dot(text)


# ----------------------------------------------------------------------------- content


def test_decision_rows_become_one_edge_each_with_their_range() -> None:
    text = render(load_process(ROOT / "processes" / "medical_dispute.yaml"), "mermaid")
    assert "feedback_given --> negotiating : route_claim [0 < claim_amount <= 30000]" in text
    assert "feedback_given --> mediation_guided : route_claim [claim_amount > 30000]" in text
    assert "mediation --> settled : mediation_agreement [amount < 200000]" in text
    assert "mediation --> court_advised : mediation_agreement [amount >= 200000]" in text


def test_self_triggers_are_loops_marked_self() -> None:
    text = render(load_process(ROOT / "processes" / "standard_case.yaml"), "mermaid")
    assert "reviewing_reply --> reviewing_reply : sign_off (self)" in text
    dot = render(load_process(ROOT / "processes" / "standard_case.yaml"), "dot")
    assert '"investigating" -> "investigating" [label="assign (self)", style=dashed]' in dot


def test_deadline_notes_give_length_start_stop_supersede_and_pause() -> None:
    text = to_mermaid(load_process(ROOT / "processes" / "medical_dispute.yaml"))
    note = text[text.index("note right of mediation"):]
    for part in ("deadline mediation: 30 working days", "start: trigger accept_mediation",
                 "stop: entering settled, court_advised, closed",
                 "superseded: trigger lawsuit_filed", "paused in appraisal",
                 "when overdue: fire mediation_failed"):
        assert part in note
    standard = to_mermaid(load_process(ROOT / "processes" / "standard_case.yaml"))
    assert "deadline handling: 60 days or assigned_due" in standard


def test_guards_are_shortened_to_forty_characters() -> None:
    process = load_process(ROOT / "processes" / "standard_case.yaml")
    issue = next(t for t in process.transitions if t.trigger == "issue_reply")
    short = short_guard(issue)
    assert len(short) == GUARD_WIDTH and short.endswith("…") and "\n" not in short
    assert short.startswith("importance == 'important' and")


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="mermaid, dot"):
        render(load_process(SHIPPED[0]), "png")


def _mini(states: str, transitions: str) -> ProcessDef:
    text = f"id: mini\nstates:\n{states}transitions:\n{transitions}"
    process, problems = validate_text(text, "mini.yaml")
    assert process is not None, problems
    return process
