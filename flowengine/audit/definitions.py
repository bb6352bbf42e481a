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
    """Every stored definition that fails the check (the SQL store's `definitions` table;
    other stores keep no text apart from the registry's and yield nothing)."""
    engine = getattr(store, "engine", None)
    if engine is None or not hasattr(engine, "connect"):
        return
    from sqlalchemy import select, type_coerce
    from sqlalchemy.types import NullType

    from ..store.schema import definitions

    stmt = select(type_coerce(definitions.c.digest, NullType()),
                  type_coerce(definitions.c.text, NullType())).order_by(definitions.c.digest)
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    for digest, text in rows:
        why = check_definition(digest, text)
        if why is not None:
            yield DefinitionProblem(str(digest), why)


__all__ = ["DefinitionProblem", "PinnedDefinitionBroken", "check_definition",
           "stored_definition_problems"]
