"""Is a stored definition text the version its digest names?

A case is pinned to the SHA-256 digest of the process text it started on; the store keeps
that text (`definitions.text`) so the case can be replayed and fired on exactly that
version. Someone with write access could edit the stored text (60 days -> 90, a guard
removed) and leave the digest: the check below is what refuses such a text, in one place
(`check_definition`), so `audit verify`, replay and the engine's fire judge it alike and a
later format of the stored text (a bundle with calendar files) changes only this function.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ..definition.pinned import PinnedDefinitionBroken, check_definition
from ..store.base import AuditReads

__all__ = ["DefinitionProblem", "PinnedDefinitionBroken", "check_definition",
           "stored_definition_problems"]


@dataclass(frozen=True)
class DefinitionProblem:
    """A stored definition row whose text is not the version its digest names."""

    digest: str
    why: str

    def __str__(self) -> str:
        return f"definition {self.digest}: {self.why}"

    def as_dict(self) -> dict[str, Any]:
        return {"digest": self.digest, "why": self.why}


def stored_definition_problems(store: Any) -> Iterator[DefinitionProblem]:
    """Every stored definition that fails the check (with `AuditReads`, the SQL store's
    `definitions` table; other stores keep no text apart from the registry's and yield
    nothing)."""
    if not isinstance(store, AuditReads):
        return
    for digest, text in store.definition_rows():
        why = check_definition(digest, text)
        if why is not None:
            yield DefinitionProblem(str(digest), why)


__all__ = ["DefinitionProblem", "PinnedDefinitionBroken", "check_definition",
           "stored_definition_problems"]
