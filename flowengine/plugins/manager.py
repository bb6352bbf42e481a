"""The plugin manager and the dispatcher the engine talks to.

`get_plugin_manager` is the one function that builds a manager (pluggy's eggsample
`host.py`): the hook specifications, then every plugin of the `flowengine.plugins`
entry-point group (the shipped console, jsonl, smtp, webhook and metrics plugins are found
this way too, exactly like third-party ones), then the objects the host passed.

`PluginDispatch` is what `Engine` holds. It builds its manager on first use when only
entry-point plugins are to be loaded: importing them (prometheus_client, smtplib, http …)
is left to the first write or delivery, so a command that only reads cases does not pay for
it. Its contract with the engine:

- `outbox_rows(events)` before the store's atomic append: the outbox rows commit with the
  events that asked for them (see `flowengine.plugins.outbox`);
- `after_commit(final_states, events, case)` after the commit: observer hooks, then (when configured)
  immediate delivery;
- `rejected(case, exc, actor, at)` when a trigger is refused.

Observer hooks are called one implementation at a time, so a plugin that raises never
stops the others nor reaches the engine: the error is logged on the `flowengine.plugins`
logger and kept in `errors`. Hook wrappers are not supported on these hooks.
"""

from __future__ import annotations

import functools
import importlib.metadata as md
import inspect
import logging
import os
import threading
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pluggy

from ..errors import TriggerRejected
from ..records.case import Actor, Case
from ..records.events import Event
from ..records.lifecycle import HOOK_OF
from ..store.base import OutboxRow
from ..store.failures import CaseFailure
from . import ENTRY_POINT_GROUP, PROJECT, hookspecs
from .notification import DeliveryError, Notification
from .settings import Settings, SettingsError

if TYPE_CHECKING:
    from ..clock import Clock
    from ..store.base import Store
    from .outbox import DeliveryReport

log = logging.getLogger("flowengine.plugins")

AUTOLOAD_OFF_ENV = "FLOWENGINE_DISABLE_PLUGIN_AUTOLOAD"  # like PYTEST_DISABLE_PLUGIN_AUTOLOAD
MAX_ERRORS = 1000

OBSERVER_HOOKS = frozenset({
    "flowengine_case_started", "flowengine_transition_applied", "flowengine_case_closed",
    "flowengine_deadline_warning", "flowengine_deadline_overdue", "flowengine_deadline_expired",
    "flowengine_deadline_extended", "flowengine_deadline_paused", "flowengine_deadline_resumed",
    "flowengine_deadline_recomputed", "flowengine_case_failed"})

@dataclass(frozen=True)
class PluginError:
    """One failure of a plugin: which plugin, in which hook, on which case and event."""

    plugin: str
    hook: str
    error: str
    case_id: str | None = None
    seq: int | None = None

    def __str__(self) -> str:
        where = f" (case {self.case_id}, event {self.seq})" if self.case_id else ""
        return f"plugin {self.plugin} failed in {self.hook}{where}: {self.error}"


@dataclass(frozen=True)
class PluginInfo:
    """What `flowengine plugins` shows: a loaded plugin, where it came from, what it does."""

    name: str
    source: str
    hooks: tuple[str, ...]
    channels: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "source": self.source, "hooks": list(self.hooks),
                "channels": list(self.channels)}


# ---------------------------------------------------------------------------- the manager
class PluginManager(pluggy.PluginManager):
    """pluggy's manager, counting registrations: `generation` changes whenever a plugin is
    registered or unregistered, so the dispatcher knows when its kept hook lists are stale
    without asking pluggy on every commit."""

    generation = 0

    def register(self, plugin: object, name: str | None = None) -> str | None:
        self.generation += 1
        return super().register(plugin, name)

    def unregister(self, plugin: object | None = None, name: str | None = None) -> Any:
        self.generation += 1
        return super().unregister(plugin, name)


def _autoloading(autoload: bool | None) -> bool:
    return not os.environ.get(AUTOLOAD_OFF_ENV) if autoload is None else autoload


def get_plugin_manager(plugins: Iterable[object] = (), *, autoload: bool | None = None,
                       errors: deque[PluginError] | None = None) -> PluginManager:
    """Hook specs + entry-point plugins (unless `autoload` is False or
    `FLOWENGINE_DISABLE_PLUGIN_AUTOLOAD` is set) + `plugins`, in that order."""
    pm = PluginManager(PROJECT)
    pm.add_hookspecs(hookspecs)
    if _autoloading(autoload):
        for ep in entry_points():
            _register_entry_point(pm, ep, errors)
    for obj in plugins:
        pm.register(obj, name=_free_name(pm, obj))
    return pm


@functools.lru_cache(maxsize=1)
def entry_points() -> tuple[md.EntryPoint, ...]:
    """The `flowengine.plugins` entry points, one per name (scanned once per process)."""
    seen: dict[str, md.EntryPoint] = {}
    for ep in md.entry_points(group=ENTRY_POINT_GROUP):
        seen.setdefault(ep.name, ep)
    return tuple(seen.values())


def _register_entry_point(pm: pluggy.PluginManager, ep: md.EntryPoint,
                          errors: deque[PluginError] | None) -> None:
    """Load and register one entry point; a broken one is logged and skipped."""
    try:
        pm.register(ep.load(), name=ep.name)
    except Exception as exc:  # noqa: BLE001 - a broken third-party plugin must not stop the engine
        error = PluginError(ep.name, "load", f"{type(exc).__name__}: {exc}")
        log.warning("%s (entry point %s)", error, ep.value)
        if errors is not None:
            errors.append(error)


def _free_name(pm: pluggy.PluginManager, obj: object) -> str:
    """A readable registration name: the module name, or module.Class (#2, #3 … if taken)."""
    if inspect.ismodule(obj):
        base = obj.__name__
    else:
        cls = obj if inspect.isclass(obj) else type(obj)
        base = f"{cls.__module__}.{cls.__qualname__}"
    name, n = base, 1
    while pm.has_plugin(name):
        n += 1
        name = f"{base}#{n}"
    return name


def describe(pm: pluggy.PluginManager, channels: Mapping[str, Sequence[str]]) -> list[PluginInfo]:
    """Every registered plugin with its origin, its hooks and the channels it serves."""
    eps = {ep.name: ep for ep in entry_points()}
    out = []
    for name, plugin in pm.list_name_plugin():
        if plugin is None:
            continue
        hooks = tuple(sorted(c.name for c in pm.get_hookcallers(plugin) or ()))
        out.append(PluginInfo(name, _source(name, plugin, eps), hooks, tuple(channels.get(name, ()))))
    return out


def _source(name: str, plugin: object, eps: Mapping[str, md.EntryPoint]) -> str:
    ep = eps.get(name)
    if ep is not None:
        dist = f" ({ep.dist.name} {ep.dist.version})" if ep.dist is not None else ""
        return f"entry point {ENTRY_POINT_GROUP}: {ep.name} = {ep.value}{dist}"
    target = plugin if inspect.ismodule(plugin) or inspect.isclass(plugin) else type(plugin)
    try:
        where = inspect.getsourcefile(target) or "?"
    except (TypeError, OSError):  # built-in types, objects made in a REPL
        where = "?"
    return f"passed by the host (Engine(plugins=…) or --plugin): {where}"


# ---------------------------------------------------------------------------- the dispatcher
class PluginDispatch:
    """The engine's side of the plugins: outbox rows, observer hooks, rejections, delivery.

    `plugins` are registered after the entry-point plugins; a `Settings` object among them
    configures delivery instead of the settings file.
    """

    def __init__(self, plugins: Sequence[object] = (), *, store: Store | None = None,
                 clock: Clock | None = None, autoload: bool | None = None) -> None:
        self.store = store  # where `deliver_due` and immediate delivery read the outbox
        self.clock = clock
        self._errors: deque[PluginError] = deque(maxlen=MAX_ERRORS)
        given = [p for p in plugins if isinstance(p, Settings)]
        self._objects = [p for p in plugins if not isinstance(p, Settings)]
        self._autoload = autoload
        self._pm: PluginManager | None = None
        self._building = threading.RLock()  # one build, even for concurrent first writes
        self._calls: dict[str, list[pluggy.HookImpl]] = {}
        self._generation = -1
        self._any_observer: bool | None = None
        self.inflight: dict[str, Any] = {}  # outbox row id -> a delivery still running
        self.settings = given[-1] if given else Settings.load()  # a bad file stops us here
        if self._objects or not _autoloading(autoload):
            self._build()  # nothing to import: the host's objects are configured now

    # ------------------------------------------------------------------ set-up
    @property
    def pm(self) -> PluginManager:
        """The plugin manager, built on first use: the entry-point plugins are imported
        when a hook is first dispatched (or the plugins are asked for), not when the engine
        is made, so a command that dispatches nothing (`case show`) does not import them
        (bench/bench_cli.py). Built as before: a plugin that fails to load is logged and
        kept in `errors`; `flowengine_configure` then gets the settings."""
        return self._pm if self._pm is not None else self._build()

    def ready(self) -> None:
        """Load the plugins now if not yet: called before a write, so a plugin refusing the
        settings stops it before anything is stored (as it would have at start)."""
        if self._pm is None:
            self._build()

    @property
    def errors(self) -> deque[PluginError]:
        """The plugins' failures (loading the entry points included), most recent last."""
        self.ready()  # loading the plugins is what may fail
        return self._errors

    def _build(self) -> PluginManager:
        with self._building:  # threads of a host's first requests build it once
            if self._pm is not None:
                return self._pm
            pm = self._pm = get_plugin_manager(self._objects, autoload=self._autoload,
                                               errors=self._errors)
            try:
                self.configure(self.settings)
            except BaseException:
                self._pm = None  # bad settings: every later dispatch fails the same way
                raise
            return pm

    def configure(self, settings: Settings) -> None:
        """Adopt `settings` and pass them to every plugin's `flowengine_configure`."""
        self.settings = settings
        self._each("flowengine_configure", {"settings": settings})
        self._forget()  # a plugin's `observing` may have changed with its settings

    def channels(self) -> dict[str, list[str]]:
        """Plugin name -> the channels it serves now."""
        out: dict[str, list[str]] = {}
        for impl, names in self._each("flowengine_channels", {}):
            out.setdefault(impl.plugin_name, []).extend(names or ())
        return out

    def default_channels(self) -> list[str]:
        """The channels a notification that names none is written out for."""
        served = list(dict.fromkeys(c for names in self.channels().values() for c in names))
        wanted = self.settings.delivery.default_channels
        return served if wanted is None else [c for c in wanted if c in served]

    def describe(self) -> list[PluginInfo]:
        return describe(self.pm, self.channels())

    # ------------------------------------------------------------------ engine contract
    def outbox_rows(self, events: Sequence[Event]) -> list[OutboxRow]:
        """The outbox rows of `events`, to commit in the same append (most events carry no
        notification: then the channel map is not even computed)."""
        return self.outbox_rows_each([events])[0]

    def outbox_rows_each(self, groups: Sequence[Sequence[Event]]) -> list[list[OutboxRow]]:
        """`outbox_rows` for each case's events of a group commit, asking the plugins for
        their channels once for the whole group."""
        self.ready()  # before the append: a plugin problem stops it, as at start
        if not any(e.notifications for events in groups for e in events):
            return [[] for _ in groups]
        from .outbox import rows_for

        channels = self.default_channels()
        return [rows_for(events, channels) for events in groups]

    def after_commit(self, final_states: frozenset[str], events: Sequence[Event],
                     case: Case) -> None:
        """Tell the observers, then deliver at once if `[delivery] immediate` is set;
        `final_states`: those of the definition `case` is pinned to."""
        self._refresh()
        if self._observed():
            for event in events:
                self._observe(event, case, final_states)
        if self.settings.delivery.immediate and self.store is not None and self.clock is not None:
            from .outbox import deliver_new

            deliver_new(self.store, self, events, self.clock.now())

    def quiet(self) -> bool:
        """Whether `after_commit` would do nothing now (no observer, no immediate delivery):
        the engine then skips telling it, which most in-memory fires would pay for nothing."""
        pm = self._pm if self._pm is not None else self._build()
        if pm.generation != self._generation:  # `_refresh`, written out: once per commit
            self._forget()
            self._generation = pm.generation
        observed = self._any_observer
        if observed is None:
            observed = self._observed()
        return not observed and not (self.settings.delivery.immediate
                                     and self.store is not None and self.clock is not None)

    def failed(self, case: Case, failure: CaseFailure) -> None:
        """Tell the observers a per-case failure of tick/reconcile was recorded."""
        kwargs = {"case": case, "operation": failure.operation, "error": failure.error,
                  "attempts": failure.attempts}
        self._each("flowengine_case_failed", kwargs, case.id)

    def rejected(self, case: Case, exc: TriggerRejected, actor: Actor, at: datetime) -> None:
        kwargs = {"case": case, "trigger": exc.trigger, "reasons": list(exc.reasons),
                  "actor": actor, "at": at}
        self._each("flowengine_trigger_rejected", kwargs, case.id)

    def deliver_due(self, now: datetime | None = None) -> DeliveryReport:
        """Deliver every outbox row due by `now` (default: the engine clock's now)."""
        from .outbox import deliver_due

        self.ready()  # a delivery pass loads the plugins even with nothing due
        assert self.store is not None and self.clock is not None, \
            "deliver_due needs a store and a clock (PluginDispatch(store=..., clock=...))"
        return deliver_due(self.store, self, now or self.clock.now())

    # ------------------------------------------------------------------ delivery
    def call_deliver(self, notification: Notification) -> Any:
        """Ask the plugins serving `notification.channel`, in hook order, until one accepts.

        Exceptions propagate (the outbox turns them into retries or dead letters)."""
        serving = {name for name, chans in self.channels().items() if notification.channel in chans}
        self._refresh()
        for impl in self._impls("flowengine_deliver"):
            if impl.plugin_name not in serving:
                continue
            result = impl.function(*_args(impl, {"notification": notification}))
            if result is not None:
                return result
        raise DeliveryError(f"no plugin serves the channel '{notification.channel}'")

    # ------------------------------------------------------------------ internals
    def _observe(self, event: Event, case: Case, final: frozenset[str]) -> None:
        ids = (case.id, event.seq)
        base = {"case": case, "event": event}
        if event.type == "started":
            self._each("flowengine_case_started", base, *ids, fresh=True)
        elif event.type == "fired":
            self._each("flowengine_transition_applied", base, *ids, fresh=True)
        for effect in event.effects:
            hook = HOOK_OF.get(effect.get("op", ""))  # lifecycle.LIFECYCLE's hook column
            if hook is not None:
                extra = {"deadline": effect.get("deadline"), "days": effect.get("days"),
                         "reason": effect.get("reason")}
                self._each(hook, {**base, **extra}, *ids, fresh=True)
        if event.dest in final and event.source not in final and event.type != "timer":
            self._each("flowengine_case_closed", base, *ids, fresh=True)

    def _refresh(self) -> None:
        """Forget the kept implementation lists when plugins were registered or
        unregistered on `pm` since (checked once per commit, not per hook call)."""
        if self.pm.generation != self._generation:
            self._forget()
            self._generation = self.pm.generation

    def _forget(self) -> None:
        self._calls.clear()
        self._any_observer = None

    def _observed(self) -> bool:
        """Whether any plugin observes commits now (most engines: none, or metrics off)."""
        if self._any_observer is None:
            self._any_observer = any(self._impls(hook) for hook in OBSERVER_HOOKS)
        return self._any_observer

    def _impls(self, hook: str) -> list[pluggy.HookImpl]:
        """The non-wrapper implementations of `hook`, in pluggy's call order.

        Kept per hook: every commit calls the observer hooks. `_each` callers outside a
        commit look first whether plugins were registered since (`_refresh`)."""
        found = self._calls.get(hook)
        if found is None:
            impls = getattr(self.pm.hook, hook).get_hookimpls()
            found = self._calls[hook] = [
                i for i in reversed(impls) if not (i.wrapper or i.hookwrapper)
                and (hook not in OBSERVER_HOOKS or getattr(i.plugin, "observing", True))]
        return found

    def _each(self, hook: str, kwargs: Mapping[str, Any], case_id: str | None = None,
              seq: int | None = None, *, fresh: bool = False) -> list[tuple[pluggy.HookImpl, Any]]:
        """Call every implementation of `hook` on its own; record the ones that raise.
        `fresh`: the caller has just called `_refresh` (the observers, once per commit)."""
        if not fresh:
            self._refresh()
        results = []
        for impl in self._impls(hook):
            try:
                results.append((impl, impl.function(*_args(impl, kwargs))))
            except SettingsError:
                raise  # bad settings stop the start-up; they are not a plugin's failure
            except (Exception, SystemExit, KeyboardInterrupt) as exc:  # noqa: BLE001
                # SystemExit/KeyboardInterrupt raised by plugin code are its failure too:
                # after the commit, they must not end the host's process or request
                self._record(PluginError(impl.plugin_name, hook, f"{type(exc).__name__}: {exc}",
                                         case_id, seq))
        return results

    def _record(self, error: PluginError) -> None:
        """Keep the error and log it: one line at WARNING, the traceback at DEBUG."""
        self._errors.append(error)
        log.warning("%s", error)
        log.debug("traceback of the failure above", exc_info=True)


def _args(impl: pluggy.HookImpl, kwargs: Mapping[str, Any]) -> list[Any]:
    return [kwargs.get(name) for name in impl.argnames]
