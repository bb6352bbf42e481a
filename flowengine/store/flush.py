"""`WalFlush`: writers of one SQLite file, in any process, flush the WAL outside the write lock.

Why: with `synchronous=FULL` a COMMIT flushes the WAL while it still holds SQLite's write
lock, so the writers of every process take turns on the disk: K processes firing on one file
commit no faster than one. Databases separate the two steps of a durable commit, and so does
this module:

1. **Write.** The transaction commits on a connection at `synchronous=NORMAL`: its WAL
   frames reach the operating system and the write lock is free again at once. Writers take
   turns on a lock file (`<db>-fewrite`, `flock`) before `BEGIN IMMEDIATE`, so a waiting
   writer is woken the moment the lock is free instead of sleeping in SQLite's busy handler
   (1 ms and more).
2. **Flush.** Then, holding no lock, the writer flushes the WAL file (`fdatasync`) and only
   then returns. While it waits for the disk the next writer already writes, and flushes
   that several processes request at once are served together by the kernel, which merges
   concurrent cache flushes of a device: the processes share their flushes without waiting
   for one another. (A protocol in user space, where one writer flushes for the others and
   they wait on a lock for it, measured slower at K = 8: every waiter woke on every release.)

Nothing is weakened: a call returns only after a flush that began after its COMMIT; SQLite in
WAL mode at `synchronous=NORMAL` stays consistent after a crash (it flushes the WAL before
every checkpoint, and the WAL header when the WAL restarts), and every other connection of
the store keeps its own level. The first flush also flushes the folder (the WAL's name), as
SQLite does for a new journal. A failed flush is raised as `FlushFailed`: the commit is then
visible but may not be durable.

Only for SQLite files at `synchronous=FULL`, with group commit (sql.py turns it on). Writers
that do not use it (another program, the store's other statements) stay correct: they take
SQLite's own lock and flush their own commits.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from .errors import FlushFailed

_forks = 0  # bumped in a forked child: the parent's lock file is a shared open file there


def _forked() -> None:
    global _forks
    _forks += 1


os.register_at_fork(after_in_child=_forked)


class WalFlush:
    """The write lock and the WAL flush of one SQLite database file (module docstring).

    Thread-safe: a `threading.Lock` orders this process's threads (an `flock` is held per
    open file, not per thread); the `flock` orders the processes."""

    def __init__(self, database: str) -> None:
        self.database = os.path.abspath(database)
        self._wal = self.database + "-wal"
        self._folder = os.path.dirname(self.database)
        self._writing = threading.Lock()
        self._reopening = threading.Lock()
        self._orphans: list[object] = []  # a parent's pin and files in a forked child
        self.flushes = 0  # fdatasyncs made (for tests and benchmarks)
        self._open()

    def _open(self) -> None:
        """The lock file, and the WAL held open. Why held: opening (or even `stat`ing) the
        WAL around each flush measured one more sleep per commit. It is safe because the
        pin, a connection kept open, holds a SHARED lock on the database, and SQLite
        deletes (and later makes anew) a WAL only when its last connection closes: while
        this object lives, the WAL file this descriptor names is the database's."""
        self._forks = _forks
        self._fd = _lock_file(self.database + "-fewrite")
        try:
            self._pin = sqlite3.connect(self.database, timeout=30, check_same_thread=False)
            try:
                self._pin.execute("PRAGMA schema_version").fetchall()  # opens the WAL
                self._wal_fd = os.open(self._wal, os.O_RDONLY | os.O_CLOEXEC)
            except BaseException:
                self._pin.close()
                raise
        except BaseException:
            os.close(self._fd)
            raise
        self._new_wal = True  # its name (the folder) is flushed with the first flush

    def lock(self) -> None:
        """Take the write lock (this process's threads, then the other processes); the
        caller must `unlock` whatever happens."""
        self._writing.acquire()
        try:
            if self._forks != _forks:
                self._reopen()
            fcntl.flock(self._fd, fcntl.LOCK_EX)
        except BaseException:
            self._writing.release()
            raise

    def unlock(self) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._writing.release()

    @contextmanager
    def writing(self) -> Iterator[None]:
        """`lock` ... `unlock` as a context."""
        self.lock()
        try:
            yield
        finally:
            self.unlock()

    def flush(self) -> None:
        """After a COMMIT (and `unlock`): return once the WAL, with its frames, is on disk."""
        if self._forks != _forks:
            self._reopen()
        try:
            os.fdatasync(self._wal_fd)
            if self._new_wal:
                _flush_folder(self._folder)
                self._new_wal = False
        except OSError as exc:
            raise FlushFailed(f"flushing {self._wal} failed: {exc}; the last commits are "
                              "visible but may not survive a crash") from None
        self.flushes += 1

    def _reopen(self) -> None:
        """In a forked child: its own lock file (an `flock` belongs to the open file, which
        the fork shares with the parent) and its own pin (SQLite's locks are the parent's).
        The parent's are kept, never closed here: closing a connection a fork copied can
        disturb the parent's database."""
        with self._reopening:
            if self._forks == _forks:
                return
            self._orphans += [self._pin, self._fd, self._wal_fd]
            self._open()

    def close(self) -> None:
        """Close the pin, the WAL and the lock file (it stays on disk for the others)."""
        if self._fd < 0:
            return
        os.close(self._wal_fd)
        self._pin.close()
        os.close(self._fd)
        self._fd = -1


def _lock_file(path: str) -> int:
    return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)


def _flush_folder(folder: str) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
