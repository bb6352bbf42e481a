"""`GroupCommit`: concurrent appends of one store share a transaction and its disk flush.

Why: with SQLite in WAL mode and `synchronous=FULL` every commit waits for one flush of
the disk, so one-transaction-per-fire writers can never commit faster than the disk
flushes, however many threads fire (bench/RESULTS.md has the flush latency beside each
figure). Databases solve this with group commit, and so does this module: the first writer
that finds no commit in progress becomes the **leader**, takes every append queued so far
(its own and its **followers'**), runs them in one transaction and commits once. A
follower's call returns only after the COMMIT of the transaction that holds its append (so
it is as durable as its own commit would have been), or raises what its own statements
raised, with nothing of it stored and the others unaffected (a lost race or a refused
duplicate never spoils the batch). If the COMMIT itself fails, every append of the batch
raises that error and none is stored.

How the threads hand over (each choice removes wall time a profile of K = 8 firers showed):
- Every waiting request has its own lock, released once: a commit wakes exactly the
  threads whose appends it held, and the one that leads next (a shared condition woke every
  waiter, most only to sleep again, each wake-up a GIL handoff).
- A leader that finds appends queued when its COMMIT returns hands the lead to the oldest
  of them and returns to its caller at once; the new leader takes the queue when it runs, so
  appends queued meanwhile join its batch.
- On SQLite an append runs without a SAVEPOINT: a statement that fails has undone its own
  changes, so an append that raises before any of its statements changed a row (a lost
  sequence race, a refused duplicate, a taken id: the first write is the one that can
  fail) needs nothing rolled back; `total_changes` tells. One that raises after changing a
  row spoils the attempt: the transaction is rolled back and the batch redone with a
  SAVEPOINT per append (so `work` must be repeatable). PostgreSQL aborts the whole
  transaction on a failed statement, so there every append has its SAVEPOINT.

An append made while no commit is in progress runs as a plain transaction of its own. The
queue groups the appends of one process; on a SQLite file the leader flushes the WAL after
the write lock is free (flush.py), so separate processes write while others wait for the
disk and their concurrent flushes are served together (docs/storage.md).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import URL, make_url

from .checkout import Checkout
from .errors import DatabaseUnavailable
from .flush import WalFlush

FLAGS = {"on": True, "true": True, "1": True, "yes": True,
         "off": False, "false": False, "0": False, "no": False}

Work = Callable[[Any], None]  # the statements of one append, given the batch's cursor


class _Spoiled(Exception):
    """An append raised after changing rows: the attempt is rolled back and redone."""


class _Request:
    __slots__ = ("error", "lead", "wake", "work")

    def __init__(self, work: Work) -> None:
        self.work = work
        self.error: BaseException | None = None
        self.lead = False  # woken to lead the next batch rather than because it is done
        self.wake: Any = None  # a queued request's lock, released once to wake it


def _queued(request: _Request) -> _Request:
    """`request` with a held lock its waiter blocks on (only a queued request needs one)."""
    request.wake = threading.Lock()
    request.wake.acquire()
    return request


class GroupCommit:
    """Leader/follower group commit over `checkout`'s write transactions.

    `max_batch` bounds one transaction (and so how long it holds the write lock)."""

    def __init__(self, checkout: Checkout, max_batch: int = 256) -> None:
        self._checkout = checkout
        self._max = max_batch
        self._savepoints = not checkout.sqlite  # see the module's docstring
        self._mutex = threading.Lock()
        self._queue: list[_Request] = []  # never empty while nobody leads
        self._leading = False
        self.batches = 0  # committed transactions (for tests and benchmarks)
        self.appends = 0  # appends they held
        self.redone = 0  # batches redone with savepoints after an append spoiled one

    def run(self, work: Work) -> None:
        """Run `work` in a shared transaction; return once that transaction is committed."""
        request = _Request(work)
        with self._mutex:
            if self._leading:
                self._queue.append(_queued(request))
                batch = None
            else:  # nobody is committing (so nobody is queued): lead a batch of one
                self._leading = True
                batch = [request]
        if batch is None:
            try:
                request.wake.acquire()
            except BaseException:  # interrupted while queued: leave the queue cleanly
                self._abandon(request)
                raise
            if not request.lead:  # a leader committed (or refused) it
                if request.error is not None:
                    raise request.error
                return
            with self._mutex:
                batch, self._queue = self._queue[:self._max], self._queue[self._max:]
        self._lead(batch)
        if request.error is not None:
            raise request.error

    def _lead(self, batch: list[_Request]) -> None:
        """Commit `batch` (with a `WalFlush`, flush.py: then flush the WAL), then hand the
        lead on and wake the batch's followers. The lead is kept through the flush, as a
        COMMIT at FULL keeps it: what queues meanwhile makes one bigger batch (handing it on
        before the flush measured slower: more, smaller transactions)."""
        try:
            self._commit(batch)
            flush = self._checkout.flush
            if flush is not None:
                self._flush(flush, batch)
        finally:
            with self._mutex:
                following = self._queue[0] if self._queue else None
                if following is None:
                    self._leading = False
                else:
                    following.lead = True
            if following is not None:
                following.wake.release()
            for r in batch[1:]:  # batch[0] is the leader's own
                r.wake.release()

    @staticmethod
    def _flush(flush: WalFlush, batch: list[_Request]) -> None:
        """The flush that makes `batch` durable; if it fails, every append of the batch
        raises its error (committed, but maybe not durable)."""
        try:
            flush.flush()
        except BaseException as exc:  # noqa: BLE001 - every caller of the batch gets it
            for r in batch:
                if r.error is None:
                    r.error = exc

    def _abandon(self, request: _Request) -> None:
        """A queued caller interrupted while waiting (KeyboardInterrupt): take its append
        out of the queue if no batch holds it yet (then it was never run), and pass on the
        lead if it had just been handed to it. One a batch holds still commits or fails
        with its batch; its caller has left and does not learn which."""
        with self._mutex:
            if request in self._queue:
                self._queue.remove(request)
                if request.lead:
                    request.lead = False
                    following = self._queue[0] if self._queue else None
                    if following is None:
                        self._leading = False
                    else:
                        following.lead = True
                        following.wake.release()

    def _commit(self, batch: list[_Request]) -> None:
        """One transaction for `batch` and for what queues while its statements run; each
        request's error is its own, except the transaction's (BEGIN or COMMIT failing, the
        connection lost), which is everyone's."""
        try:
            try:
                with self._checkout.write(wait=False) as cur:
                    if not self._savepoints:
                        self._plain(cur, batch)
                    elif len(batch) == 1:  # alone: its own transaction, nothing to isolate
                        self._alone(cur, batch[0])
                        self._each_in_savepoint(cur, batch, 1, more=True)
                    else:
                        self._each_in_savepoint(cur, batch, 0, more=True)
            except _Spoiled:  # rolled back: again, each append in its savepoint
                self.redone += 1
                for r in batch:
                    r.error = None
                with self._checkout.write(wait=False) as cur:
                    self._each_in_savepoint(cur, batch, 0, more=False)
        except BaseException as exc:
            for r in batch:
                if r.error is None:
                    r.error = exc
            raise
        self.batches += 1
        self.appends += sum(1 for r in batch if r.error is None)

    def _more(self, batch: list[_Request]) -> bool:
        """Move what queued meanwhile into `batch` (up to `max_batch`): those appends share
        this transaction's flush instead of waiting for the next one."""
        if not self._queue:  # unlocked peek: a late append simply waits for the next batch
            return False
        with self._mutex:
            room = self._max - len(batch)
            if room <= 0 or not self._queue:
                return False
            batch += self._queue[:room]
            del self._queue[:room]
        return True

    @staticmethod
    def _alone(cur: Any, request: _Request) -> None:
        try:
            request.work(cur)
        except Exception as exc:  # noqa: BLE001 - the request's own failure
            request.error = exc
            raise  # rolls the transaction back

    def _plain(self, cur: Any, batch: list[_Request]) -> None:
        """SQLite: the appends one after another; one that raises after changing a row
        spoils the attempt (`_Spoiled`), one that raises before keeps its error."""
        conn = cur.connection
        i = 0
        while i < len(batch) or self._more(batch):
            r = batch[i]
            i += 1
            changes = conn.total_changes
            try:
                r.work(cur)
            except Exception as exc:  # noqa: BLE001 - the request's own failure
                if conn.total_changes != changes or not conn.in_transaction:
                    raise _Spoiled from exc
                r.error = exc

    def _each_in_savepoint(self, cur: Any, batch: list[_Request], start: int,
                           more: bool) -> None:
        i = start
        while i < len(batch) or (more and self._more(batch)):
            r = batch[i]
            i += 1
            cur.execute("SAVEPOINT fe_group")
            try:
                r.work(cur)
            except Exception as exc:  # noqa: BLE001 - the request's own failure
                cur.execute("ROLLBACK TO SAVEPOINT fe_group")
                r.error = exc
            cur.execute("RELEASE SAVEPOINT fe_group")


def url_flag(db: str | URL, name: str, default: bool) -> tuple[str | URL, bool]:
    """`?name=on|off` read from a database URL (and taken out of it: the driver must not
    see it); `default` when absent (a URL that does not parse is left to open_engine)."""
    if name not in str(db):
        return db, default
    url = make_url(db)
    value = url.query.get(name)
    if value is None:
        return url, default
    flag = FLAGS.get(str(value).lower())
    if flag is None:
        raise DatabaseUnavailable(f"{name} must be on or off, not {value!r}")
    return url.difference_update_query([name]), flag
