"""Whatever text is handed to the loader, the only exception it may raise is
`DefinitionError`, and every problem it reports has a place (line >= 1) in a text that
has at least one line. Fed with random YAML-ish text, random documents, and mutations of
the three shipped procedures: a key deleted, a scalar changed, a node duplicated, a type
swapped, bytes edited. Runs in well under 20 seconds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowengine.definition.loader import load_process, validate_text
from flowengine.errors import DefinitionError

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = {p.name: p.read_text("utf-8") for p in sorted((ROOT / "processes").glob("*.yaml"))}
DOCS = {name: yaml.safe_load(text) for name, text in SHIPPED.items()}
FAST = settings(max_examples=100, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _check(text: str, tmp_path: Path | None = None) -> None:
    process, problems = validate_text(text, "fuzz.yaml")
    assert process is not None or problems
    if text.strip("\n"):
        for p in problems:
            assert p.location.line >= 1, str(p)
            assert str(p).startswith("fuzz.yaml:")
    if tmp_path is not None:
        path = tmp_path / "fuzz.yaml"
        path.write_text(text, encoding="utf-8")
        try:
            load_process(path)
        except DefinitionError as exc:
            assert exc.problems


# ----------------------------------------------------------------------------- random text

_YAMLISH = st.lists(st.sampled_from(list("abcdeisxyz_:-[]{},'\"#&*!|>%@ \t\n0123.") +
                                    ["id", "states", "transitions", "source", "dest",
                                     "initial: true", "  ", "\n  - ", "登记", "\ufeff"]),
                    max_size=80).map("".join)


@FAST
@given(_YAMLISH)
def test_random_yamlish_text(text: str) -> None:
    _check(text)


_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                     st.text(max_size=12), st.sampled_from(["*", "15 days", "{x}", "1 hour"]))
_DOCS = st.recursive(_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(st.sampled_from(["id", "states", "transitions", "fields", "deadlines",
                                     "decisions", "notifications", "trigger", "source",
                                     "dest", "route", "rows", "type", "start", "stop",
                                     "guard", "requires", "x"]), inner, max_size=5)),
    max_leaves=20)


@FAST
@given(_DOCS)
def test_random_documents(doc: Any) -> None:
    _check(yaml.safe_dump(doc, allow_unicode=True))


# ----------------------------------------------------------------------------- mutations


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _paths(value, (*prefix, i))
    return out


def _parent(doc: Any, path: tuple[Any, ...]) -> Any:
    for step in path[:-1]:
        doc = doc[step]
    return doc


_REPLACEMENTS = st.one_of(_SCALARS, st.just([]), st.just({}), st.just(["registered"]),
                          st.just({"initial": True}), st.just("unknown_state"))


@st.composite
def _mutated(draw: st.DrawFn) -> str:
    name = draw(st.sampled_from(sorted(DOCS)))
    doc = yaml.safe_load(yaml.safe_dump(DOCS[name], allow_unicode=True))  # a deep copy
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _paths(doc) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent, key = _parent(doc, path), path[-1]
        action = draw(st.sampled_from(["delete", "replace", "duplicate", "swap"]))
        if action == "delete":
            del parent[key]
        elif action == "replace":
            parent[key] = draw(_REPLACEMENTS)
        elif action == "duplicate" and isinstance(parent, list):
            parent.append(parent[key])
        elif action == "duplicate" and isinstance(parent, dict):
            parent[f"{key}_copy" if isinstance(key, str) else key] = parent[key]
        else:  # swap the type: a mapping for a list and back, text for a number
            value = parent[key]
            parent[key] = ({"x": value} if isinstance(value, list)
                           else list(value) if isinstance(value, dict) else str(value))
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)


@settings(FAST, max_examples=40)
@given(_mutated())
def test_mutated_shipped_processes(text: str) -> None:
    _check(text)


@settings(FAST, max_examples=30)
@given(st.sampled_from(sorted(SHIPPED)), st.lists(
    st.tuples(st.integers(0, 10**6), st.sampled_from(["delete", "insert", "replace"]),
              st.sampled_from(list(" \t\n:-[]{}'\"#&*!|>%x0") + ["\ufeff", "é", "\x85"])),
    min_size=1, max_size=4))
def test_byte_edits_of_shipped_processes(name: str, edits: list[tuple[int, str, str]]) -> None:
    text = SHIPPED[name]
    for pos, action, char in edits:
        pos %= max(len(text), 1)
        if action == "delete":
            text = text[:pos] + text[pos + 1:]
        elif action == "insert":
            text = text[:pos] + char + text[pos:]
        else:
            text = text[:pos] + char + text[pos + 1:]
    _check(text)


def test_a_nul_character_is_a_located_problem() -> None:
    _check("id: x\x00\n")


def test_load_process_raises_only_definition_error(tmp_path: Path) -> None:
    for text in ["", "\t", "id: [", "- 1", "id: x\nstates: {}\ntransitions: []\n",
                 SHIPPED["standard_case.yaml"].replace("dest: closed", "dest: closd")]:
        _check(text, tmp_path)
