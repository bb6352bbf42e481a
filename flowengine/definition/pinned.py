"""Whether a stored definition text is the version its digest names.

Used where a case's pinned version is loaded back from the store: by the engine before it
fires on it, and by the audit for every stored definition (audit/definitions.py). It sits
in the definition layer so the engine needs nothing from the audit layer above it.
"""

from __future__ import annotations

import hashlib

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
