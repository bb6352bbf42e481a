"""The documentation must stand alone in a clone: no file outside the repository is cited
(README, docs, code docstrings and comments, process YAML comments), every relative link
in README.md and docs/*.md leads to a file (and heading) that exists, and every YAML
example marked `<!-- example: process -->` or `<!-- example: scenario -->` validates
cleanly or simulates with every expectation met, exactly as shown."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from flowengine.definition.loader import validate_text
from flowengine.simulate import run_scenario

ROOT = Path(__file__).resolve().parents[3]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SOURCES = [*DOCS, *ROOT.glob("flowengine/**/*.py"), *ROOT.glob("plugins/**/*.py"),
           *ROOT.glob("processes/*.yaml"), *ROOT.glob("examples/*"), *ROOT.glob("calendars/*"),
           *ROOT.glob("flowengine/schemas/*.json")]
# Paths of the team's reference folder, which a clone does not have.
OUTSIDE = re.compile(r"shared/|\bspec/(?:cli|processes)\.md|domain\.md|peer-bench|\bseeds?/|"
                     r"\bseed \d{3}\b")
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
EXAMPLE = re.compile(r"<!-- example: (process|scenario) -->\n```yaml\n(.*?)```", re.DOTALL)


def _outside_references(path: Path) -> list[str]:
    text = path.read_text("utf-8", errors="replace")
    return [f"{path.name}:{text.count(chr(10), 0, m.start()) + 1}: {m.group(0)}"
            for m in OUTSIDE.finditer(text)]


def test_no_file_outside_the_repository_is_cited() -> None:
    assert len(SOURCES) > 50
    found = [hit for path in SOURCES if path.is_file() for hit in _outside_references(path)]
    assert found == []


def test_the_reference_check_can_fail(tmp_path: Path) -> None:
    copy = tmp_path / "engine.md"
    copy.write_text("# Engine\nThe rules (see ../shared/domain.md Part A).\n"
                    "# Source: spec/processes.md §1; seed 004\n", encoding="utf-8")
    assert _outside_references(copy) == ["engine.md:2: shared/", "engine.md:2: domain.md",
                                         "engine.md:3: spec/processes.md", "engine.md:3: seed 004"]


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to '-'."""
    text = re.sub(r"[`*]", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", path.read_text("utf-8"), flags=re.DOTALL)
    return {_slug(m.group(1)) for m in re.finditer(r"^#+ (.+)$", text, re.MULTILINE)}


def _dead_links(doc: Path, root: Path = ROOT) -> list[str]:
    text = re.sub(r"```.*?```", "", doc.read_text("utf-8"), flags=re.DOTALL)
    dead = []
    for m in LINK.finditer(text):
        target = m.group(1)
        if re.match(r"[a-z]+:", target):
            continue  # http:, https:, mailto:
        file, _, anchor = target.partition("#")
        path = (doc.parent / file).resolve() if file else doc
        if not path.exists() or root not in path.parents and path != root:
            dead.append(f"{doc.name}: {target} (no such file in the repository)")
        elif anchor and path.suffix == ".md" and anchor not in _anchors(path):
            dead.append(f"{doc.name}: {target} (no such heading)")
    return dead


@pytest.mark.parametrize("doc", DOCS, ids=[d.name for d in DOCS])
def test_every_relative_link_leads_somewhere(doc: Path) -> None:
    assert _dead_links(doc) == []


def test_a_dead_link_is_caught(tmp_path: Path) -> None:
    (tmp_path / "there.md").write_text("# A heading\n", encoding="utf-8")
    doc = tmp_path / "doc.md"
    doc.write_text("[ok](there.md#a-heading) [bad](missing.md) [bad anchor](there.md#nope) "
                   "[outside](../elsewhere.md)\n", encoding="utf-8")
    (tmp_path.parent / "elsewhere.md").write_text("# x\n", encoding="utf-8")
    assert _dead_links(doc, tmp_path) == [
        "doc.md: missing.md (no such file in the repository)",
        "doc.md: there.md#nope (no such heading)",
        "doc.md: ../elsewhere.md (no such file in the repository)"]


EXAMPLES = [(doc, kind, body) for doc in DOCS
            for kind, body in EXAMPLE.findall(doc.read_text("utf-8"))]


def test_both_kinds_of_complete_example_are_marked() -> None:
    kinds = {(doc.name, kind) for doc, kind, _ in EXAMPLES}
    assert ("process-language.md", "process") in kinds
    assert ("scenarios.md", "scenario") in kinds


@pytest.mark.parametrize("doc, kind, body", EXAMPLES,
                         ids=[f"{d.name}-{k}-{i}" for i, (d, k, _) in enumerate(EXAMPLES)])
def test_every_marked_example_works_as_shown(tmp_path: Path, doc: Path, kind: str,
                                             body: str) -> None:
    if kind == "process":
        process, problems = validate_text(body, f"{doc.name}-example.yaml")
        assert process is not None and [str(p) for p in problems] == []
        return
    path = tmp_path / "example.yaml"
    path.write_text(body, encoding="utf-8")
    result = run_scenario(str(path), processes=[str(ROOT / "processes")])
    assert result.ok, result.failures
