"""Resolve the `to:` entries of a notification into names and addresses.

Resolution happens at delivery time, from the case as stored and the address book in the
settings, so an address added to the settings (or corrected in the case data) reaches a
notification that is retried afterwards. The entries a process YAML may name:

=================  ===========================================================================
``petitioner``     the case's petitioner: name from the first of `name_fields` present in the
                   case data (`petitioner`, `complainant`), addresses from `contact_fields`
``owner``          the case owner (首问负责: whoever started the case): `people[<name>]`,
                   else `roles.owner`
``field:NAME``     the value of case field NAME: a person in `people`, else the value itself
                   taken as an address
anything else      a role or an office (``supervisor``, ``owner_leader`` …): `roles[<entry>]`
=================  ===========================================================================

An entry that resolves to no address is still passed on (with no addresses): a channel that
needs one (e-mail) refuses the delivery, which dead-letters visibly instead of being lost.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..records.case import Case
from .notification import Recipient
from .settings import RecipientBook

FIELD_PREFIX = "field:"


def resolve(entries: Iterable[str], case: Case | None, book: RecipientBook) -> tuple[Recipient, ...]:
    """One `Recipient` per entry, in order."""
    data: dict[str, Any] = dict(case.data) if case is not None else {}
    return tuple(_one(entry, case, data, book) for entry in entries)


def _one(entry: str, case: Case | None, data: dict[str, Any], book: RecipientBook) -> Recipient:
    if entry == "petitioner":
        return _petitioner(data, book)
    if entry == "owner":
        owner = case.owner.name if case is not None and case.owner is not None else None
        found = book.people.get(owner, ()) if owner else ()
        return Recipient(entry, owner, found or book.roles.get("owner", ()))
    if entry.startswith(FIELD_PREFIX):
        value = data.get(entry[len(FIELD_PREFIX):])
        if value in (None, ""):
            return Recipient(entry)
        text = str(value)
        if text in book.people:
            return Recipient(entry, text, book.people[text])
        return Recipient(entry, None, (text,))
    return Recipient(entry, entry, book.roles.get(entry, ()))


def _petitioner(data: dict[str, Any], book: RecipientBook) -> Recipient:
    name = next((str(data[f]) for f in book.name_fields if data.get(f) not in (None, "")), None)
    addresses = tuple(str(data[f]) for f in book.contact_fields if data.get(f) not in (None, ""))
    return Recipient("petitioner", name, addresses)
