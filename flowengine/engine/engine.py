"""`Engine`: the embedding API. Each call is one unit of work: load the case, decide
(planner), fold, store atomically, then tell the plugins.

Time comes only from the clock the host passes (or `at=`); the engine never reads the wall
clock itself. Before a fire, the case's timers due by then run first, so a deadline that ran
out before the fire is recorded before it, and events stay in time order.
"""

from __future__ import annotations

import gc
import inspect
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..clock import Clock, SystemClock
from ..definition.pinned import PinnedDefinitionBroken, check_definition
from ..errors import CaseNotFound, ClockError, ConcurrentUpdate, DuplicateStarted, TriggerRejected
from ..plugins.manager import PluginDispatch
from ..records.case import Actor, Case
from ..records.events import Event, drop_sealed_bodies
from ..store.base import AppendItem, BatchLoad, CaseQuery, GroupCommit, HeldProjection, Store
from .failures import FailureLog, condition_failed
from .host import defer, deferring, joined
from .lookups import due_pages, provisional_cases

if TYPE_CHECKING:  # imported with the registry (`Engine.registry`), not at start
    from ..definition.model import ProcessDef
    from ..expr import ExprEvalError
    from .compiler import CompiledProcess
    from .planner import Planner
    from .registry import Registry, official_years
    from .repeats import earlier_case

UNKNOWN_ACTOR = Actor("unknown", None)
_MAKING_REGISTRY = threading.Lock()
TICK_GROUP = 500  # due cases whose timer events share one transaction in `tick`
DUE_PAGE = 1000  # due cases `tick` reads at a time (rows and all, `due_page`)
Listener = Callable[[Sequence[Event], Case], None]


class Engine:
    """Runs cases of YAML-defined processes.

    `db`: None for an in-memory store, a database URL (`sqlite:///cases.db`,
    `postgresql+psycopg://…`) or an SQLAlchemy Engine; or pass a ready `store`.
    `processes`: files or folders of process YAML. `clock`: anything with `now()`.
    `plugins`: plugin objects (see docs/plugins.md).
    """

    def __init__(self, db: Any = None, *, processes: Iterable[str | os.PathLike[str]] = (),
                 clock: Clock | None = None, plugins: Iterable[Any] = (),
                 store: Store | None = None) -> None:
        self.clock: Clock = clock or SystemClock()
        self.store: Store = store if store is not None else _open_store(db)
        self._registry: Registry | None = None  # made on first use (`registry`)
        self._listeners: list[Listener] = []
        self.plugins = PluginDispatch(list(plugins), store=self.store, clock=self.clock)
        self.failures = FailureLog(self.store)  # per-case tick failures (engine/failures.py)
        # the store's optional capabilities (store/base.py), asked once
        self._held = self.store if isinstance(self.store, HeldProjection) else None
        self._batch = self.store if isinstance(self.store, BatchLoad) else None
        self._group = self.store if isinstance(self.store, GroupCommit) else None
        self._serialised = "new_petition" in inspect.signature(self.store.append).parameters
        taken = (inspect.signature(self._group.append_many).parameters
                 if self._group is not None else {})
        self._one_transaction = "one_transaction" in taken
        # the store flushes the tick's transactions behind it (store/behind.py)
        self._flushed: Callable[[], None] | None = (
            getattr(self.store, "flushed", None) if "durable" in taken else None)
        for path in processes:
            self.load(path)

    # ------------------------------------------------------------------ definitions
    @property
    def registry(self) -> Registry:
        """The definitions this engine knows, made on first use: with it come the compiler
        and the planner (`_import_planner`), which a command that only reads cases (`case
        show`) never needs, so its start does not import them (bench/bench_cli.py). Every
        path that plans asks the registry for the definition first."""
        if self._registry is None:
            with _MAKING_REGISTRY:  # concurrent first fires share one
                if self._registry is None:
                    from .registry import Registry

                    _import_planner()
                    self._registry = Registry()
        return self._registry

    @registry.setter
    def registry(self, registry: Registry) -> None:
        """A registry shared between engines (tests, a host's own cache)."""
        _import_planner()
        self._registry = registry

    def load(self, path: str | os.PathLike[str]) -> list[ProcessDef]:
        """Load a process file or folder; new cases of these ids use these versions."""
        loaded = self.registry.add_path(path)
        for p in loaded:
            self.store.save_definition(p.digest, p.id, p.version, p.source_text,
                                       p.duplicate_key)
        return loaded

    def process(self, process_id: str) -> ProcessDef:
        return self.registry.latest(process_id).process

    def compiled(self, case: Case) -> CompiledProcess:
        """The definition version `case` is pinned to (loaded from the store if needed),
        with the official holiday data of years its calendar had only provisionally
        (`Registry.effective`)."""
        registry = self._registry if self._registry is not None else self.registry
        found = registry.current(case.digest)  # the common case: one look-up
        if found is not None:
            return found
        cp = registry.pinned(case.digest)
        if cp is None:
            text = self.store.definition_text(case.digest)
            why = "is not stored" if text is None else check_definition(case.digest, text)
            if text is None or why is not None:  # refused before the text is even parsed
                raise PinnedDefinitionBroken(case.id, case.digest, why or "is not stored")
            registry.add_text(text, f"<{case.process_id}@{case.digest[:12]}>")
            cp = registry.pinned(case.digest)
            if cp is None:  # the text hashes to the digest, so this cannot happen
                raise PinnedDefinitionBroken(case.id, case.digest, "does not load as itself")
        return registry.effective(cp)

    @contextmanager
    def transaction(self, connection: Any) -> Iterator[Engine]:
        """Calls in this block commit or roll back with `connection`'s open transaction
        (an SQLAlchemy `Connection`); observers are told on its commit (engine/host.py)."""
        with joined(self.store, connection):
            yield self

    # ------------------------------------------------------------------ commands
    def start(self, process_id: str, data: Mapping[str, Any] | None = None, *,
              actor: Actor | None = None, at: datetime | None = None) -> Case:
        """Start a case of the newest loaded version of `process_id`."""
        cp = self.registry.latest(process_id)
        at = self._instant(at, None)
        actor = actor or UNKNOWN_ACTOR
        case_id = self.store.new_case_id(process_id)
        duplicate, flags = earlier_case(self.store, cp, data or {}, at)
        planner = cp.planner or Planner.of(cp)
        try:
            event, case = planner.start(case_id, data or {}, actor, at, duplicate, flags)
        except ExprEvalError as exc:
            raise condition_failed(case_id, "start", cp.process.initial_state, exc) from None
        try:  # a first of its petition is checked again, serialised, in the store's append
            self._commit(cp, case, [event], 0, new_petition=duplicate is None)
        except DuplicateStarted as exc:  # the same petition started meanwhile: flag it
            event, case = planner.start(case_id, data or {}, actor, at, exc.open_case, flags)
            self._commit(cp, case, [event], 0)
        return case

    def fire(self, case_id: str, trigger: str, data: Mapping[str, Any] | None = None, *,
             actor: Actor | None = None, at: datetime | None = None) -> Case:
        """Fire `trigger` on a case; a refused trigger raises `TriggerRejected`, changing nothing.

        Planned from the projection the store itself last wrote for the case when it still
        holds it (`recent_case`: no read), else from a fresh read. A refusal, a clock error
        or a lost race planned from the held projection is decided again on a fresh read, so
        the outcome is always the one a fresh read gives; a race lost after the fresh read
        raises `ConcurrentUpdate`."""
        actor = actor or UNKNOWN_ACTOR
        at = at if at is not None else self.clock.now()
        held = self._held.recent_case(case_id) if self._held is not None else None
        if held is not None:
            try:
                return self._fire(held, trigger, data or {}, actor, at, last_try=False)
            except (TriggerRejected, ClockError, ConcurrentUpdate):
                pass  # another writer may have moved the case on: read it and decide again
        case = self.store.load_case(case_id)  # `case`, without one more call per fire
        if case is None:
            raise CaseNotFound(case_id)
        return self._fire(case, trigger, data or {}, actor, at, last_try=True)

    def _fire(self, case: Case, trigger: str, data: Mapping[str, Any], actor: Actor,
              at: datetime, *, last_try: bool) -> Case:
        """One attempt of `fire` on `case`, which is ours to fold into."""
        at = self._instant(at, case)
        cp = self.compiled(case)
        planner = cp.planner or Planner.of(cp)
        expected = case.seq
        events: list[Event]
        if not case.deadlines:
            events, current = [], case  # no deadline, no timer (as `timers` would answer)
        else:
            try:
                events, current = planner.timers(case, at, owned=True)
            except ExprEvalError as exc:
                raise condition_failed(case.id, trigger, case.state, exc) from None
        try:
            try:
                event, after = planner.fire(current, trigger, data, actor, at, owned=True)
            except ExprEvalError as exc:
                raise condition_failed(case.id, trigger, current.state, exc) from None
        except TriggerRejected as exc:  # InvalidData too
            if last_try:
                self.plugins.rejected(current, exc, actor, at)
            raise
        events.append(event)
        self._commit(cp, after, events, expected)
        return after

    def tick(self, now: datetime | None = None, *,
             progress: Callable[[int, int | None], None] | None = None) -> list[Event]:
        """Run every timer due at or before `now`; idempotent (a second tick does nothing).

        The due cases' timer events commit in transactions (one disk flush each) of up to
        `TICK_GROUP` cases, fewer when the store's lock budget cuts one short (the rest go
        in the next, after the next cases are planned); a case another worker moved on
        meanwhile is skipped (the per-case sequence check), the rest still commit. A
        case whose timers fail is recorded in `failures` and retried with back-off; the
        others go on. `progress(done, total)` is told how far the tick is.

        On a store that can page through due cases without claiming them (`due_page`),
        each due row is written once, by its append, instead of twice (a claim, then the
        append): claims only share the work between workers, the sequence check alone
        keeps a timer from firing twice. Once a group loses a case to another writer, the
        tick claims (`due_cases`) for the rest of its run, so concurrent workers split the
        remaining cases instead of planning the same ones."""
        now = self._instant(now, None)
        self.failures.new_round()
        fired: list[Event] = self.reconcile(now)
        with _collector_paused() as paused:
            return self._tick_due(now, fired, progress, paused)

    def _tick_due(self, now: datetime, fired: list[Event],
                  progress: Callable[[int, int | None], None] | None,
                  paused: bool) -> list[Event]:
        """`tick`'s pages and rounds, with the cycle collector off (`paused`: by this tick)
        and, after each `TICK_GROUP` cases planned, a collection of the youngest generation
        only: it finds the cycles those rounds left, as the collector would, and moves their
        survivors (the fired events the tick returns) out of the way, so they are not
        scanned again and again by older-generation collections while the tick goes on.

        Each round plans the next due cases (`_Rounds.next` of them) and then writes one
        transaction from the head of what is planned (`_tick_group`): while it plans, the
        write lock is free, so another writer waits for one transaction at most, not for
        two or three begun one right after the other."""
        rounds = _Rounds()
        try:
            return self._tick_pages(now, fired, progress, paused, rounds)
        finally:  # also when the tick fails: what it committed is told once on disk
            self._tell_flushed(rounds)

    def _tick_pages(self, now: datetime, fired: list[Event],
                    progress: Callable[[int, int | None], None] | None,
                    paused: bool, rounds: _Rounds) -> list[Event]:
        seen: set[str] = set()
        pages = due_pages(self.store)
        after: Any = None  # the stored `next_timer_at` the next page starts at
        read: dict[str, Any] = {}  # the rows of the current page, by case id
        while True:
            if pages is not None:
                page = pages.due_page(now, after, DUE_PAGE)
                read = {r.id: r for r in page}
                due = [r.id for r in page if r.id not in seen]
                if page:
                    after = page[-1].key
                if not due and len(page) == DUE_PAGE:
                    # a full page of cases this tick has tried already and that are still
                    # due (their failure could not be put aside): the claims go past them
                    pages, read = None, {}
                    continue
            else:
                read = {}
                due = [cid for cid in self.store.due_cases(now) if cid not in seen]
            seen.update(due)  # tried, or waiting for their retry: not again this tick
            self.failures.load(due)  # one query for the group (the failure book)
            batch = [cid for cid in due if not self.failures.waiting(cid, now)]
            if not batch:
                if due:
                    continue
                return fired + self._tick_rest(now, rounds, paused)
            done = len(seen) - len(due)
            i = 0
            while i < len(batch):
                if progress is not None:
                    progress(done + i, len(seen))
                ids = batch[i:i + rounds.next]
                i += len(ids)
                rows = [read[cid] for cid in ids] if read else None
                part, lost = self._tick_group(ids, now, rows, young=paused, rounds=rounds)
                fired += part
                if lost:
                    pages = None  # another writer is at work too: claim from here on

    def _tick_rest(self, now: datetime, rounds: _Rounds, young: bool) -> list[Event]:
        """The planned cases the tick's last transactions left (none to plan now); then,
        with `young`, the youngest generation collected if cases were planned since the
        last collection: the collector is switched back on next, and its first automatic
        run would otherwise also take the older generation, every event the tick fired."""
        fired: list[Event] = []
        while rounds.planned:
            fired += self._tick_group((), now, young=young, rounds=rounds)[0]
        if young and rounds.unswept:
            gc.collect(0)
        return fired

    def reconcile(self, now: datetime | None = None) -> list[Event]:
        """Recount every open deadline counted over a provisional calendar year for which
        official data is now loaded (a newer chinese-calendar, or a calendar file with
        `covers: [YEAR]` in the newest version of the case's process); one `calendar`
        event per changed case, with a notice where a due date moved. Idempotent; `tick`
        runs it first. A case another worker moved meanwhile is left for the next run."""
        now = self._instant(now, None)
        done: list[Event] = []
        for process_id in list(self.registry.ids()):
            years = sorted(official_years(self.registry.latest(process_id).calendar))
            ids = provisional_cases(self.store, process_id, years)
            self.failures.load(ids)
            for case_id in ids:
                case = self.store.load_case(case_id)
                if case is None or case.updated_at is not None and now < case.updated_at:
                    continue  # never record an event before the case's last one
                if self.failures.waiting(case_id, now):
                    continue
                try:
                    cp = self.compiled(case)
                    planned = Planner.of(cp).recompute(case, now)
                except Exception as exc:  # noqa: BLE001 - one case never stops the others
                    self.plugins.failed(case, self.failures.record(case_id, exc, now, "reconcile"))
                    continue
                self.failures.clear(case_id, "reconcile")
                if planned is not None and self._commit_or_skip(cp, planned[1], [planned[0]], case.seq):
                    done.append(planned[0])
        return done

    def _tick_group(self, case_ids: Sequence[str], now: datetime,
                    rows: Sequence[Any] | None = None, *, young: bool = False,
                    rounds: _Rounds | None = None) -> tuple[list[Event], bool]:
        """The timer events of `case_ids` (due by `now`; from the `rows` a due page read,
        when given) that this call committed, and whether a case was lost to another
        writer (its sequence number had moved on); `young`: then collect the youngest
        generation (`tick` keeps the collector off between groups), with `rounds` once per
        `TICK_GROUP` cases planned.

        With `rounds` (the tick's), the planned cases join those earlier rounds left and
        one transaction is written from the head of them (on a store whose `append_many`
        takes `one_transaction`; on others, all of them); what it did not take waits for
        the next round. Without, every planned case is written."""
        with _collector_paused():  # already off inside `tick`: left as it is
            planned = self._tick_plan(case_ids, now, rows)
            if rounds is None:
                fired, lost, _ = self._tick_write(planned, one=False)
            else:
                self._tell_flushed(rounds)  # the last round's cases, flushed while these were planned
                planned = rounds.planned + planned if rounds.planned else planned
                fired, lost, taken = self._tick_write(planned, one=self._one_transaction,
                                                      untold=rounds.untold)
                rounds.took(planned, taken)
        if young and (rounds is None or rounds.swept(len(case_ids))):
            gc.collect(0)
        return fired, lost

    def _tick_plan(self, case_ids: Sequence[str], now: datetime,
                   rows: Sequence[Any] | None) -> list[_Planned]:
        planned: list[_Planned] = []
        if not case_ids:
            return planned
        pages = due_pages(self.store) if rows is not None else None
        if pages is not None and rows is not None:
            loaded = pages.cases_of(rows)
        elif self._batch is not None:
            loaded = self._batch.load_cases(case_ids)
        else:
            loaded = [c for cid in case_ids if (c := self.store.load_case(cid)) is not None]
        for case in loaded:
            expected = case.seq
            try:
                cp = self.compiled(case)
                events, after = Planner.of(cp).timers(case, now, owned=True)
            except Exception as exc:  # noqa: BLE001 - one case never stops the others
                self.plugins.failed(case, self.failures.record(case.id, exc, now))
                continue
            self.failures.clear(case.id)
            if events:
                planned.append((cp, after, events, expected))
        return planned

    def _tell_flushed(self, rounds: _Rounds) -> None:
        """Once the store has flushed the tick's transactions, tell the plugins and
        listeners about the cases they wrote (`rounds.untold`)."""
        if not rounds.untold:
            return
        untold, rounds.untold = rounds.untold, []
        if self._flushed is not None:
            self._flushed()
        for cp, events, case in untold:
            self._committed(cp, events, case)

    def _tick_write(self, planned: list[_Planned], *, one: bool,
                    untold: list[_Written] | None = None) -> tuple[list[Event], bool, int]:
        """Commit `planned` (`one`: as much of its head as one transaction takes): the
        events committed, whether a case was lost to another writer, how many were taken.
        With `untold` (the tick's, where the store flushes behind it), the transaction is
        left to the store to flush, and the cases written are added there, to be told
        about once it is on disk (`_tell_flushed`); else they are told about at once."""
        if not planned:
            return [], False, 0
        if self._group is None:  # a host's store without group commit: one by one
            done = [self._commit_or_skip(cp, after, events, seq)
                    for cp, after, events, seq in planned]
            kept = [e for (_, _, events, _), ok in zip(planned, done, strict=True) if ok
                    for e in events]
            drop_sealed_bodies(kept)  # written: the tick keeps them until it returns
            return kept, not all(done), len(done)
        outboxes = self.plugins.outbox_rows_each([events for _, _, events, _ in planned])
        items = [AppendItem(after, events, seq, after.state in cp.final_states, rows)
                 for (cp, after, events, seq), rows in zip(planned, outboxes, strict=True)]
        behind = untold is not None and self._flushed is not None
        asked = {"one_transaction": True}
        if behind:
            asked["durable"] = False
        done = self._group.append_many(items, **asked) if one else []
        if not done:  # not asked for one transaction, or (a host's store) it took nothing
            done = self._group.append_many(items)
        fired: list[Event] = []
        for (cp, after, events, _), ok in zip(planned, done, strict=False):
            if ok:  # a skipped case: another worker got there first; its events stand
                drop_sealed_bodies(events)  # as above; and before anyone is told of them
                if behind:
                    untold.append((cp, events, after))  # type: ignore[union-attr]
                else:
                    self._committed(cp, events, after)
                fired += events
        return fired, not all(done), len(done)

    def _commit_or_skip(self, cp: CompiledProcess, case: Case, events: list[Event],
                        expected: int) -> bool:
        try:
            self._commit(cp, case, events, expected)
        except ConcurrentUpdate:
            return False
        return True

    # ------------------------------------------------------------------ queries
    def case(self, case_id: str) -> Case:
        case = self.store.load_case(case_id)
        if case is None:
            raise CaseNotFound(case_id)
        return case

    def cases(self, process: str | None = None, state: str | None = None,
              overdue: bool | None = None, limit: int | None = None) -> list[Case]:
        return self.store.cases(CaseQuery(process, state, overdue, limit))

    def history(self, case_id: str) -> list[Event]:
        events = list(self.store.events(case_id))
        if not events:
            raise CaseNotFound(case_id)
        return events

    def subscribe(self, listener: Listener) -> None:
        """Call `listener(events, case)` after each commit (simulation and tests use it)."""
        self._listeners.append(listener)

    # ------------------------------------------------------------------ internals
    def _instant(self, at: datetime | None, case: Case | None) -> datetime:
        at = at if at is not None else self.clock.now()
        tz = at.tzinfo
        if tz is not UTC and (tz is None or at.utcoffset() is None):
            raise ClockError(f"the instant {at.isoformat()} has no time zone offset")
        if case is not None and case.updated_at is not None and at < case.updated_at:
            raise ClockError(
                f"case {case.id}: {at.isoformat()} is earlier than its last event "
                f"({case.updated_at.isoformat()}); events are recorded in time order")
        return at

    def _commit(self, cp: CompiledProcess, case: Case, events: list[Event], expected: int,
                new_petition: bool = False) -> None:
        final = case.state in cp.final_states
        self.plugins.ready()  # before the append: a plugin refusing the settings stops it
        # most events carry no notification: then no outbox rows are even asked for
        outbox = self.plugins.outbox_rows(events) if _notifies(events) else []
        if new_petition and self._serialised:
            self.store.append(case, events, expected, final=final, outbox=outbox,
                              new_petition=True)  # type: ignore[call-arg]
        else:
            self.store.append(case, events, expected, final=final, outbox=outbox)
        self._committed(cp, events, case)

    def _committed(self, cp: CompiledProcess, events: list[Event], case: Case) -> None:
        if not self._listeners and self.plugins.quiet() and not deferring():
            return  # nobody to tell (most in-memory engines): no closure, no dispatch
        if not defer(lambda: self._tell(cp, events, case)):
            self._tell(cp, events, case)

    def _tell(self, cp: CompiledProcess, events: list[Event], case: Case) -> None:
        for listener in self._listeners:
            listener(events, case)
        self.plugins.after_commit(cp.final_states, events, case)


_Planned = tuple["CompiledProcess", Case, list[Event], int]  # a case's timers, not yet written
_Written = tuple["CompiledProcess", list[Event], Case]  # written, not yet told about


class _Rounds:
    """What the tick has planned and not yet written, and how many due cases to plan next.

    Planning the next cases between two transactions keeps the write lock free for as long
    as that takes. How many: `TICK_GROUP` at first; after a transaction the lock budget cut
    short, about what it took less what it left (at least a quarter of what it took, so
    there is always some planning between two transactions), so the next transaction
    takes nearly everything planned and little is carried; after one that took
    everything, a quarter more, up to `TICK_GROUP`."""

    __slots__ = ("next", "planned", "unswept", "untold")

    def __init__(self) -> None:
        self.planned: list[_Planned] = []
        self.untold: list[_Written] = []  # written, told about once flushed (`Engine._tell_flushed`)
        self.next = TICK_GROUP
        self.unswept = 0  # cases planned since the last young collection

    def swept(self, planned: int) -> bool:
        """Whether to collect the youngest generation now: once per `TICK_GROUP` cases
        planned, as when each round was a whole group (rounds are smaller)."""
        self.unswept += planned
        if self.unswept < TICK_GROUP:
            return False
        self.unswept = 0
        return True

    def took(self, offered: list[_Planned], taken: int) -> None:
        left = len(offered) - taken
        self.planned = offered[taken:] if left else []
        if left:
            self.next = max(taken - left, taken // 4, 1)
        elif taken:
            self.next = min(TICK_GROUP, self.next + self.next // 4 + 1)


def _import_planner() -> None:
    """Bind the planner (and the registry's years, the duplicate look-up and the expression
    error) as this module's globals, as a top-level import would, so a fire pays no import
    statement; a command that only reads cases never imports them."""
    global ExprEvalError, Planner, official_years, earlier_case
    from ..expr import ExprEvalError
    from .planner import Planner
    from .registry import official_years
    from .repeats import earlier_case


@contextmanager
def _collector_paused() -> Iterator[bool]:
    """Python's cycle collector paused for a tick (`tick`: its due cases; `_tick_group`
    called on its own: one group); yields whether this call paused it.

    A group allocates tens of thousands of containers that live until its commit (cases,
    events, rows), and the tick keeps every fired event to return: with the collector on,
    those survivors set off repeated collections of the older generations, each scanning
    all of them again (a tenth of a tick over 10,000 due cases, bench/RESULTS-store.md).
    The tick itself makes next to no cyclic garbage; `tick` collects the youngest
    generation after each group, so the cycles a group leaves are still found after it.
    The switch is the interpreter's, so the pause is process-wide: another thread's
    allocations are not collected automatically meanwhile either (only by those
    young-generation collections). A host that turned the collector off keeps it off."""
    if not gc.isenabled():
        yield False
        return
    gc.disable()
    try:
        yield True
    finally:
        gc.enable()


def _notifies(events: list[Event]) -> bool:
    for e in events:
        if e.notifications:
            return True
    return False


def _open_store(db: Any) -> Store:
    if db is None:
        from ..store.memory import MemoryStore

        return MemoryStore()
    from ..store.sql import SqlStore  # the durable store (issue 4)

    return SqlStore(db)

