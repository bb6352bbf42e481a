"""The hooks a flowengine plugin may implement: documented empty functions (pytest's style).

Two kinds of plugin implement them:

- **observers** implement the `flowengine_case_*`, `flowengine_transition_*`,
  `flowengine_trigger_*` and `flowengine_deadline_*` hooks. They are called after the events
  have been committed, once per event (or per deadline change inside an event), with the
  case as it stands after the whole commit. They cannot change or veto anything: a hook
  that raises is logged and recorded in `PluginDispatch.errors`, and the other plugins are
  still called.
- **channels** implement `flowengine_channels` (the channel names they serve) and
  `flowengine_deliver` (send one notification). Delivery happens from the outbox after the
  commit, by `flowengine tick`/`worker`, `flowengine notifications deliver`, or right after a
  fire when `[delivery] immediate = true`.

Every hook is called with keyword arguments; an implementation may accept any subset of
them (pluggy's rule), so new arguments can be added later without breaking plugins.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from . import hookspec

if TYPE_CHECKING:
    from ..errors import Rejection
    from ..records.case import Actor, Case
    from ..records.events import Event
    from .notification import Notification
    from .settings import Settings


# --------------------------------------------------------------------------- set-up
@hookspec
def flowengine_configure(settings: Settings) -> None:
    """Read your configuration: called when the plugin manager is built, and again when a
    host passes new settings (`PluginDispatch.configure`).

    :param settings: the delivery policy, the recipient address book and one table per
        plugin (`settings.section("smtp")` …), from the TOML file named by
        `FLOWENGINE_NOTIFY_CONFIG` or from the host.

    An object passed with its options already set (e.g. `SmtpChannel(host=…)`) should keep
    them and ignore the file.
    """


@hookspec
def flowengine_channels() -> Iterable[str] | None:
    """Name the channels you deliver to, now that you are configured.

    :return: channel names (e.g. ``["email"]``); empty or None while you are not set up.

    A notification that names no `channel:` in the YAML gets one outbox row for each
    channel some plugin serves (narrowed by `[delivery] default_channels` when set); one that
    names a channel gets a row for that channel only, served or not (it then waits, and
    dead-letters visibly if still nobody serves it).
    """


# --------------------------------------------------------------------------- observers
@hookspec
def flowengine_case_started(case: Case, event: Event) -> None:
    """A case was started and committed.

    :param case: the case after the commit.
    :param event: the `started` event (its `data` holds the starting values).
    """


@hookspec
def flowengine_transition_applied(case: Case, event: Event) -> None:
    """A trigger fired and was committed (including triggers the engine fires itself when a
    deadline runs out; their actor is `system`).

    :param case: the case after the commit.
    :param event: the `fired` event: `trigger`, `source`, `dest`, `data`, `actor`, `at`.
    """


@hookspec
def flowengine_trigger_rejected(case: Case, trigger: str, reasons: Sequence[Rejection],
                                actor: Actor, at: datetime) -> None:
    """A trigger was refused; nothing was stored.

    :param case: the case as it stood (with any timers due by `at` folded in).
    :param trigger: the trigger that was fired.
    :param reasons: why (wrong state, role, missing data, guard false); each has `message`.
    :param actor: who fired it.
    :param at: when.
    """


@hookspec
def flowengine_deadline_warning(case: Case, event: Event, deadline: str) -> None:
    """A deadline's warning time came (it is still open).

    :param deadline: the deadline's name; `case.deadlines[deadline]` is its current run.
    """


@hookspec
def flowengine_deadline_overdue(case: Case, event: Event, deadline: str) -> None:
    """A deadline passed and is still open (督办 applies)."""


@hookspec
def flowengine_deadline_expired(case: Case, event: Event, deadline: str) -> None:
    """A deadline ran out and its timeout action fired."""


@hookspec
def flowengine_deadline_extended(case: Case, event: Event, deadline: str, days: int,
                                 reason: str | None) -> None:
    """A deadline was extended by `days` for `reason` (the petitioner is told the reason)."""


@hookspec
def flowengine_deadline_paused(case: Case, event: Event, deadline: str) -> None:
    """A deadline's clock stopped (e.g. while an appraisal runs)."""


@hookspec
def flowengine_deadline_resumed(case: Case, event: Event, deadline: str) -> None:
    """A paused deadline's clock runs again; `case.deadlines[deadline].due` is the new due."""


@hookspec
def flowengine_deadline_recomputed(case: Case, event: Event, deadline: str) -> None:
    """A deadline counted over a provisional calendar year was recounted with the year's
    official data; `case.deadlines[deadline].due` is the new due (the effect in `event`
    has the old one)."""


@hookspec
def flowengine_case_closed(case: Case, event: Event) -> None:
    """The case entered a final state of its process (after `flowengine_transition_applied`)."""


@hookspec
def flowengine_case_failed(case: Case, operation: str, error: str, attempts: int) -> None:
    """`tick`/`worker` (operation `timers`) or the calendar recount (`reconcile`) failed on
    this case and put it aside with back-off; `attempts` counts the failures in a row, as
    kept in the store's failure book (engine/failures.py). Nothing was committed for it."""


# --------------------------------------------------------------------------- channels
@hookspec(firstresult=True)
def flowengine_deliver(notification: Notification) -> str | Mapping[str, Any] | None:
    """Deliver `notification` if `notification.channel` is one you serve.

    :return: None when the channel is not yours (the next plugin is asked); anything else
        means delivered (a short receipt, e.g. a message id, is kept in the log).
    :raises DeliveryError: with `retryable=False` for a refusal waiting will not cure; any
        other exception is a transient failure, retried with exponential backoff.

    `notification.id` is the idempotency key: send it along (a header, a message id) or
    remember it, so a retry after a crash or timeout never delivers twice. The call runs in
    a worker thread bounded by `[delivery] timeout_seconds`; still, give your own sockets a
    timeout so a hung peer does not keep the thread alive.
    """
