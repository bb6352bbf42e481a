"""Is a stored definition text the version its digest names?

A case is pinned to the SHA-256 digest of the process text it started on; the store keeps
that text (`definitions.text`) so the case can be replayed and fired on exactly that
version. Someone with write access could edit the stored text (60 days -> 90, a guard
removed) and leave the digest: the check below is what refuses such a text, in one place
(`check_definition`), so `audit verify`, replay and the engine's fire judge it alike and a
later format of the stored text (a bundle with calendar files) changes only this function.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ..errors import IntegrityError


def check_definition(digest: str, text: str) -> str | None:
    """Why `text` is not the definition version `digest` names; None when it is.

    The digest is the SHA-256 of the text's UTF-8 bytes (the loader computes it so)."""
    if not isinstance(text, str):
        return f"the stored definition text is not text ({type(text).__name__})"
    if not isinstance(digest, str):
        return f"the stored digest {digest!r} is not text"
    try:
        raw = text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"the stored definition text is not UTF-8 ({exc.reason})"
    actual = hashlib.sha256(raw).hexdigest()
    if actual != digest:
        return (f"the stored definition text does not match its digest (its SHA-256 is "
                f"{actual[:12]}…): the text was changed after it was stored")
    return None


class PinnedDefinitionBroken(IntegrityError):
    """A case's pinned definition version is missing or its stored text fails
    `check_definition`: the case cannot be replayed or fired (exit 1)."""

    def __init__(self, case_id: str, digest: str, why: str):
        self.case_id = case_id
        self.digest = digest
        self.why = why
        super().__init__(f"case {case_id}: its definition version {digest[:12]}… {why}; "
                         "restore the definition text from a backup or the process file "
                         "the case was started on")


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
