"""Delivery from the outbox: at least once, idempotency keys, backoff, dead letters.

Which rows exist. For every notification record of a committed event, `rows_for` writes
one row per channel: the channel the YAML names (`channel: sms`), served or not; otherwise
each *default* channel, i.e. every channel a loaded plugin serves (`flowengine_channels`),
narrowed by `[delivery] default_channels`. A row's id, `<case>:<seq>:<index>:<channel>`,
is its idempotency key. Rows are written by the same `Store.append` as their events, so a
notification exists exactly when its event does.

How a row is delivered (`deliver_due`, run by tick/worker/`notifications deliver`, or
`deliver_new` right after a fire):

    pending --ok--> delivered
       |--transient failure, attempts < max_attempts--> pending, next try after backoff
       |--attempts reach the limit------------------> dead   (`notifications retry` -> pending)

The backoff is `backoff_seconds * backoff_factor ** (attempts - 1)`, capped, counted from
the engine clock's `now`, never the wall clock. A refusal (`DeliveryError(retryable=False)`:
HTTP 4xx, SMTP 5xx, no address) dead-letters after `permanent_attempts`.

Hangs. Each deliver call runs in its own daemon thread and is waited for at most
`timeout_seconds`; past that the attempt counts as a transient failure and the caller goes
on. The thread cannot be killed, so the shipped channels also set socket timeouts and end on
their own. Until it ends the row is not handed out again; if it ends in success, the next
pass records the row as delivered instead of sending it again.

Guarantee: every row ends delivered or dead, never silently dropped. Delivery is at least
once; a duplicate can only follow a crash (or a timeout) between the channel accepting a
row and the store recording it, and a channel that honours the idempotency key (webhook
`Idempotency-Key`, the jsonl log, SMTP `Message-ID`) absorbs even that.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..records.case import Case
from ..records.events import Event
from ..store.base import OutboxRow, Store
from .notification import DeliveryError, Notification
from .recipients import resolve
from .settings import DeliveryPolicy, RecipientBook

if TYPE_CHECKING:
    from .manager import PluginDispatch

log = logging.getLogger("flowengine.plugins.outbox")
MAX_ERROR_TEXT = 500


@dataclass
class DeliveryReport:
    """What one delivery pass did, by outbox row id."""

    delivered: list[str] = field(default_factory=list)
    retrying: list[str] = field(default_factory=list)
    dead: list[str] = field(default_factory=list)
    busy: list[str] = field(default_factory=list)  # an earlier call is still running

    def add(self, row_id: str, outcome: str) -> None:
        getattr(self, outcome).append(row_id)

    def as_dict(self) -> dict[str, list[str]]:
        return {"delivered": self.delivered, "retrying": self.retrying, "dead": self.dead,
                "busy": self.busy}


@dataclass
class Flight:
    """One deliver call running in its own thread."""

    row_id: str
    done: threading.Event = field(default_factory=threading.Event)
    receipt: Any = None
    error: BaseException | None = None


# ---------------------------------------------------------------------------- rows
def rows_for(events: Sequence[Event], channels: Sequence[str]) -> list[OutboxRow]:
    """One pending row per (notification, channel) of `events`."""
    rows = []
    for event in events:
        for note in event.notifications:
            targets = [note["channel"]] if note.get("channel") else channels
            for channel in targets:
                rows.append(OutboxRow(
                    id=f"{note['id']}:{channel}", case_id=event.case_id, seq=event.seq,
                    channel=channel, created_at=event.at, payload=dict(note),
                    next_attempt_at=event.at))
    return rows


def build_notification(row: OutboxRow, case: Case | None, book: RecipientBook) -> Notification:
    """The `Notification` a channel gets for `row`, with recipients resolved now."""
    p = row.payload
    return Notification(
        id=row.id, channel=row.channel, case_id=row.case_id, seq=row.seq,
        kind=p.get("kind", ""), created_at=row.created_at, name=p.get("name"),
        title=p.get("title"),
        to=tuple(p.get("to") or ()), recipients=resolve(p.get("to") or (), case, book),
        messages=dict(p.get("messages") or {}), deadline=p.get("deadline"), due=p.get("due"),
        reason=p.get("reason"), attempt=row.attempts + 1,
        process_id=case.process_id if case is not None else None)


# ---------------------------------------------------------------------------- delivery
def deliver_due(store: Store, dispatch: PluginDispatch, now: datetime) -> DeliveryReport:
    """Attempt every pending row due by `now` once; returns what happened to each."""
    report = DeliveryReport()
    _harvest(store, dispatch, now, report)
    seen: set[str] = set(report.delivered)
    cases: dict[str, Case | None] = {}
    while True:
        rows = [r for r in store.due_outbox(now, dispatch.settings.delivery.batch)
                if r.id not in seen]
        if not rows:
            return report
        for row in rows:
            seen.add(row.id)
            report.add(row.id, attempt(store, dispatch, row, now, cases))


def deliver_new(store: Store, dispatch: PluginDispatch, events: Sequence[Event],
                now: datetime) -> DeliveryReport:
    """Deliver the rows `events` just wrote (immediate mode), whatever their due time."""
    report = DeliveryReport()
    by_case: dict[str, set[str]] = {}
    for event in events:
        by_case.setdefault(event.case_id, set()).update(
            n["id"] for n in event.notifications)
    for case_id, ids in by_case.items():
        for row in store.outbox(status="pending", case_id=case_id):
            if row.id.rsplit(":", 1)[0] in ids and row.attempts == 0:
                report.add(row.id, attempt(store, dispatch, row, now, {}))
    return report


def attempt(store: Store, dispatch: PluginDispatch, row: OutboxRow, now: datetime,
            cases: dict[str, Case | None]) -> str:
    """One delivery attempt of `row`: 'delivered', 'retrying', 'dead' or 'busy'."""
    policy = dispatch.settings.delivery
    running = dispatch.inflight.get(row.id)
    if running is not None and not running.done.is_set():
        return "busy"
    dispatch.inflight.pop(row.id, None)
    if row.case_id not in cases:  # a store failure is not the channel's: it propagates
        cases[row.case_id] = store.load_case(row.case_id)
    try:
        note = build_notification(row, cases[row.case_id], dispatch.settings.recipients)
    except Exception as exc:  # noqa: BLE001 - a malformed payload must not stop the other rows
        return _failed(store, policy, row, now, exc)
    flight = _launch(dispatch, note)
    if not flight.done.wait(policy.timeout):
        dispatch.inflight[row.id] = flight
        return _failed(store, policy, row, now,
                       DeliveryError(f"timed out after {policy.timeout:g} s"))
    if flight.error is not None:
        return _failed(store, policy, row, now, flight.error)
    store.record_delivery(row.id, at=now, ok=True)
    log.info("delivered %s (%s)", row.id, flight.receipt)
    return "delivered"


def _launch(dispatch: PluginDispatch, note: Notification) -> Flight:
    flight = Flight(note.id)

    def run() -> None:
        try:
            flight.receipt = dispatch.call_deliver(note)
        except BaseException as exc:  # noqa: BLE001 - reported to the caller through `flight`
            flight.error = exc
        finally:
            flight.done.set()

    threading.Thread(target=run, name=f"flowengine-deliver {note.id}", daemon=True).start()
    return flight


def _harvest(store: Store, dispatch: PluginDispatch, now: datetime, report: DeliveryReport) -> None:
    """Record as delivered the timed-out calls that have since succeeded."""
    for row_id, flight in list(dispatch.inflight.items()):
        if not flight.done.is_set():
            continue
        del dispatch.inflight[row_id]
        if flight.error is None:
            store.record_delivery(row_id, at=now, ok=True)
            report.add(row_id, "delivered")


def _failed(store: Store, policy: DeliveryPolicy, row: OutboxRow, now: datetime,
            exc: BaseException) -> str:
    retryable = not isinstance(exc, DeliveryError) or exc.retryable
    attempts = row.attempts + 1
    dead = attempts >= policy.limit(retryable)
    text = f"{type(exc).__name__}: {exc}"[:MAX_ERROR_TEXT]
    later = None if dead else now + policy.delay(attempts)
    store.record_delivery(row.id, at=now, ok=False, error=text, next_attempt_at=later, dead=dead)
    log.warning("delivery of %s failed (attempt %d%s): %s", row.id, attempts,
                ", dead-lettered" if dead else f", next at {later.isoformat() if later else ''}",
                text)
    return "dead" if dead else "retrying"
