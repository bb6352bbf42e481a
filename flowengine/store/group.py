"""`GroupCommit`: concurrent appends of one store share a transaction and its disk flush.

Why: with SQLite in WAL mode and `synchronous=FULL` every commit waits for one flush of
the disk, so one-transaction-per-fire writers can never commit faster than the disk
flushes, however many threads fire (bench/RESULTS.md has the flush latency beside each
figure). Databases solve this with group commit, and so does this module: the first writer
that finds no commit in progress becomes the **leader**, takes every append queued so far
(its own and its **followers'**), runs them in one transaction, each inside its own
SAVEPOINT, and commits once. A follower's call returns only after the COMMIT of the
transaction that holds its append (so it is as durable as its own commit would have been),
or raises what its own statements raised (those rolled back to its savepoint, the others
unaffected: a lost race or a refused duplicate never spoils the batch). If the COMMIT
itself fails, every append of the batch raises that error and none is stored. While the
leader flushes, new writers queue; when it is done, one of them leads the next batch. An
append made while no commit is in progress runs as a plain transaction (a lone writer pays
one lock more than without group commit), and so does a batch of one.

It groups only the appends of one process: separate processes each commit their own
batches, serialised by SQLite's write lock (docs/storage.md).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import URL, make_url

from .checkout import Checkout
from .errors import DatabaseUnavailable

FLAGS = {"on": True, "true": True, "1": True, "yes": True,
         "off": False, "false": False, "0": False, "no": False}

Work = Callable[[Any], None]  # the statements of one append, given the batch's cursor


class _Request:
    __slots__ = ("done", "error", "work")

    def __init__(self, work: Work) -> None:
        self.work = work
        self.done = False
        self.error: BaseException | None = None


class GroupCommit:
    """Leader/follower group commit over `checkout`'s write transactions.

    `max_batch` bounds one transaction (and so how long it holds the write lock)."""

    def __init__(self, checkout: Checkout, max_batch: int = 256) -> None:
        self._checkout = checkout
        self._max = max_batch
        self._cond = threading.Condition(threading.Lock())
        self._queue: list[_Request] = []
        self._leading = False
        self.batches = 0  # committed transactions (for tests and benchmarks)
        self.appends = 0  # appends they held

    def run(self, work: Work) -> None:
        """Run `work` in a shared transaction; return once that transaction is committed."""
        with self._cond:
            alone = not self._leading and not self._queue  # never overtake queued appends
            if alone:
                self._leading = True
        if alone:  # nobody is committing or waiting: a plain transaction
            try:
                with self._checkout.write() as cur:
                    work(cur)
                self.batches += 1
                self.appends += 1
            finally:
                with self._cond:
                    self._leading = False
                    if self._queue:
                        self._cond.notify_all()
            return
        request = _Request(work)
        with self._cond:
            self._queue.append(request)
            while self._leading and not request.done:
                self._cond.wait()
            if not request.done:  # no leader: this thread leads the queue's first batch
                self._leading = True
                batch, self._queue = self._queue[:self._max], self._queue[self._max:]
        if not request.done:
            try:
                self._commit(batch)
            finally:
                with self._cond:
                    for r in batch:
                        r.done = True
                    self._leading = False
                    self._cond.notify_all()
        if request.error is not None:
            raise request.error

    def _commit(self, batch: list[_Request]) -> None:
        """One transaction for `batch`; each request's error is its own, except the
        transaction's (BEGIN or COMMIT failing, the connection lost), which is everyone's."""
        try:
            with self._checkout.write() as cur:
                if len(batch) == 1:  # alone: its own transaction, no savepoint needed
                    batch[0].work(cur)
                for r in batch if len(batch) > 1 else ():
                    cur.execute("SAVEPOINT fe_group")
                    try:
                        r.work(cur)
                    except Exception as exc:  # noqa: BLE001 - the request's own failure
                        cur.execute("ROLLBACK TO SAVEPOINT fe_group")
                        r.error = exc
                    cur.execute("RELEASE SAVEPOINT fe_group")
        except BaseException as exc:
            for r in batch:
                if r.error is None:
                    r.error = exc
            raise
        self.batches += 1
        self.appends += sum(1 for r in batch if r.error is None)


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
