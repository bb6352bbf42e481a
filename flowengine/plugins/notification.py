"""What a delivery channel receives: one `Notification` per outbox row, and `DeliveryError`.

The outbox row holds the notification record the engine wrote into the event (kind, `to`,
rendered messages …); the dispatcher adds the resolved recipients and the idempotency key
before handing it to a channel. A channel signals failure by raising: `DeliveryError` with
`retryable=False` for a refusal that waiting will not cure (HTTP 4xx, SMTP 5xx, no address),
anything else is treated as transient and retried with backoff.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

LANGUAGES = ("zh", "en")  # the order messages are shown in when a channel sends them all


class DeliveryError(Exception):
    """A channel could not deliver; `retryable=False` means waiting will not help."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True)
class Recipient:
    """One `to:` entry of a notification, resolved (see `flowengine.plugins.recipients`)."""

    entry: str  # as written in the YAML: petitioner | owner | supervisor | a role | field:NAME
    name: str | None = None  # a person's or office's name, when known
    addresses: tuple[str, ...] = ()  # e-mail addresses, phone numbers … as configured

    def as_dict(self) -> dict[str, Any]:
        return {"entry": self.entry, "name": self.name, "addresses": list(self.addresses)}


@dataclass(frozen=True)
class Notification:
    """One notification on its way through one channel.

    `id` is the idempotency key (the outbox row id, `<case>:<seq>:<index>:<channel>`): the
    same notification retried through the same channel always carries the same key, so a
    channel that remembers keys never delivers twice.
    """

    id: str
    channel: str
    case_id: str
    seq: int
    kind: str  # warning | overdue | expired | extension | paused | resumed | a declared name
    created_at: datetime
    name: str | None = None  # the declared notification's name, if any
    title: str | None = None  # its title (受理告知 …), when the record carries one
    to: tuple[str, ...] = ()
    recipients: tuple[Recipient, ...] = ()
    messages: Mapping[str, str] = field(default_factory=dict)
    deadline: str | None = None
    due: str | None = None
    reason: str | None = None
    attempt: int = 1  # this attempt's number, from 1
    process_id: str | None = None

    @property
    def notification_id(self) -> str:
        """The id of the notification record in its event (`<case>:<seq>:<index>`)."""
        return self.id.rsplit(":", 1)[0]

    def message(self, language: str = "zh") -> str:
        """The message in `language`, else the first one there is."""
        if language in self.messages:
            return self.messages[language]
        return next(iter(self.messages.values()), "")

    def ordered_messages(self) -> list[tuple[str, str]]:
        """(language, text) pairs, Chinese first, then English, then any others."""
        rank = {lang: i for i, lang in enumerate(LANGUAGES)}
        return sorted(self.messages.items(), key=lambda kv: (rank.get(kv[0], 99), kv[0]))

    def addresses(self) -> list[str]:
        """Every resolved address, in `to` order, without repeats."""
        return list(dict.fromkeys(a for r in self.recipients for a in r.addresses))

    def as_dict(self) -> dict[str, Any]:
        """The JSON form webhooks and the JSON-lines log use."""
        return {
            "id": self.id, "notification_id": self.notification_id, "channel": self.channel,
            "case": self.case_id, "seq": self.seq, "process": self.process_id,
            "kind": self.kind, "name": self.name, "title": self.title, "to": list(self.to),
            "recipients": [r.as_dict() for r in self.recipients],
            "messages": dict(self.messages), "deadline": self.deadline, "due": self.due,
            "reason": self.reason, "created_at": self.created_at.isoformat(),
            "attempt": self.attempt,
        }
