"""`FlushBehind`: the tick's transactions flushed to disk in a thread of the store's own
while the tick plans its next cases, instead of inside each COMMIT.

Why: at `synchronous=FULL` each COMMIT waits for the disk (`fdatasync` of the WAL) before
it returns, and the tick commits a transaction every few hundred cases: that wait was
about a fifth of a tick over 10,000 due cases on the measuring machine
(bench/RESULTS-store.md, "tick", sixth round), with the CPU idle meanwhile. The tick
needs its events on disk before it tells anyone about them (plugins, listeners, its
caller), not before it plans the next cases. So its transactions commit at
`synchronous=NORMAL` (their WAL frames reach the operating system, as at FULL, without
the flush), and this thread flushes the WAL right after each; the tick waits for that
flush (`wait`) only before it tells anyone of those cases, by which time it has planned
the next ones.

Nothing is weakened for the tick's caller: every event `tick` returns or reports was
flushed first, and a flush that fails is raised there (`FlushFailed`). SQLite stays
consistent after a crash at NORMAL (WAL frames carry checksums; a commit whose frames did
not reach the disk is not there after the crash, and neither is anything after it: the WAL
is written and flushed in order, so a later flushed commit has flushed every earlier one).
What another connection may see is a tick's transaction up to one round before it is on
disk, as with group commit (flush.py).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

from .errors import FlushFailed


class FlushBehind:
    """Runs `flush` (which returns once every COMMIT made before it began is on disk, or
    raises `FlushFailed`) in a daemon thread after each `request`; `wait` returns once a
    flush begun after the last `request` has ended. Requests that come while a flush runs
    are served by one more flush. Started on the first request (in a forked child: on its
    first request there), stopped by `close`. Thread-safe."""

    def __init__(self, flush: Callable[[], None]) -> None:
        self._flush = flush
        self.flushes = 0  # flushes made (tests; the bench)
        self._reset()

    def _reset(self) -> None:
        self._pid = os.getpid()
        self._cond = threading.Condition()
        self._asked = 0  # requests made
        self._done = 0  # requests served: a flush that began after them has ended
        self._failed: FlushFailed | None = None
        self._closed = False
        self._thread: threading.Thread | None = None

    def request(self) -> None:
        """A COMMIT was made: flush it (returns at once)."""
        if self._pid != os.getpid():  # a forked child: the parent's thread is not here
            self._reset()
        with self._cond:
            if self._closed:
                raise FlushFailed("the store is closed: its last commits were not flushed")
            self._asked += 1
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, daemon=True,
                                                name="flowengine-flush")
                self._thread.start()
            self._cond.notify_all()

    def wait(self) -> None:
        """Return once every COMMIT requested so far is on disk; `FlushFailed` if a flush
        since the last `wait` failed (those commits are visible but may not survive a
        crash)."""
        with self._cond:
            target = self._asked
            while self._done < target and self._failed is None:
                self._cond.wait()
            failed, self._failed = self._failed, None
        if failed is not None:
            raise failed

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._done == self._asked and not self._closed:
                    self._cond.wait()
                if self._done == self._asked:  # closed, nothing left to flush
                    return
                target = self._asked
            try:
                self._flush()
            except FlushFailed as exc:
                failed: FlushFailed | None = exc
            except Exception as exc:  # noqa: BLE001 - told to the waiter, never lost
                failed = FlushFailed(f"flushing the WAL failed: {exc}")
            else:
                failed = None
                self.flushes += 1
            with self._cond:
                self._done = target
                if failed is not None:
                    self._failed = failed
                self._cond.notify_all()

    def close(self) -> None:
        """Flush what was requested, then stop the thread."""
        if self._pid != os.getpid():
            return  # a forked child's copy: the thread is the parent's
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join()
