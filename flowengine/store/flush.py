"""`SharedFlush`: the writers of one SQLite file, in every process, share its disk flushes.

Why: with `synchronous=FULL` each COMMIT waits for its own flush of the WAL, and writers in
separate processes cannot join one another's transactions, so K processes firing on one
file commit no faster than the disk flushes. Databases separate the two steps a durable
commit takes, and so does this module (PostgreSQL's `XLogFlush` works the same way):

1. **Write.** The transaction commits on a connection in `synchronous=NORMAL` mode: its WAL
   frames reach the operating system, nothing waits for the disk. Writers take turns on a
   lock file (`<db>-fewrite`, `flock`) before `BEGIN IMMEDIATE`, so a waiting writer is woken
   the moment the lock is free instead of sleeping in SQLite's busy handler (1 ms and more).
2. **Flush.** The caller then waits until one `fdatasync` of the WAL file that *began after
   its COMMIT* has finished. A shared counter file (`<db>-feflush`, 16 bytes mapped into every
   process) numbers the flushes begun and finished. A writer reads "begun" right after its
   COMMIT, then takes the flush lock (`flock` on that file): if a flush numbered above what
   it read has finished meanwhile, its frames are on disk and it returns at once; otherwise
   it flushes the WAL itself, covering every writer that committed before, and numbers it.
   While one writer flushes, the others commit and queue behind it: one flush serves them
   all.

What is not weakened: a call returns only when its frames are on disk (a flush can only
cover what was written before it began); SQLite in WAL mode with `synchronous=NORMAL` stays
consistent after a crash (it flushes the WAL before every checkpoint), and every other
write of the store keeps its connection's own level. The counters only ever save flushes: a
writer that sees no covering flush makes one, so a lost, foreign or reset counter file costs
speed, never durability. A new WAL file (a new inode) also has its directory flushed once,
as SQLite does for a new journal. A failed flush is raised: the commit is then visible but
may not be durable (`FlushFailed`).

Only for SQLite files whose connections are `synchronous=FULL` (`SqlStore(group_commit=True)`
turns it on; sql.py). Writers that do not use it (another program, the store's other
statements at FULL) stay correct: they take SQLite's own lock and flush their own commits.
"""

from __future__ import annotations

import fcntl
import mmap
import os
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from .errors import DatabaseUnavailable

_BEGUN, _DONE, _INODE = 0, 8, 16  # offsets of the mapped counters (native 8-byte words)
_SIZE = 24
_WORD = struct.Struct("=Q")

_forks = 0  # bumped in a forked child: the parent's lock files are shared open files there


def _forked() -> None:
    global _forks
    _forks += 1


os.register_at_fork(after_in_child=_forked)


class FlushFailed(DatabaseUnavailable):
    """The WAL could not be flushed: the commit is visible but may not survive a crash."""


class SharedFlush:
    """The write lock and the shared flush of one SQLite database file (module docstring).

    Thread-safe: a `threading.Lock` orders this process's threads (an `flock` is held per
    open file, not per thread); the `flock`s order the processes."""

    def __init__(self, database: str) -> None:
        self.database = os.path.abspath(database)
        self._wal = self.database + "-wal"
        self._folder = os.path.dirname(self.database)
        self._writing = threading.Lock()
        self._flushing = threading.Lock()
        self._reopening = threading.Lock()
        self.flushes = 0  # fdatasyncs this object made (for tests and benchmarks)
        self.waits = 0  # calls that waited for a flush (covered by another's or their own)
        self._open()

    def _reopen(self) -> None:
        """In a forked child: its own lock files (an `flock` belongs to the open file,
        which the fork shares with the parent)."""
        with self._reopening:
            if self._forks == _forks:
                return
            old = self._write_fd, self._flush_fd, self._map
            self._open()
            old[2].close()
            os.close(old[1])
            os.close(old[0])

    def _open(self) -> None:
        self._forks = _forks
        self._write_fd = _lock_file(self.database + "-fewrite")
        try:
            self._flush_fd = _lock_file(self.database + "-feflush")
            try:
                if os.fstat(self._flush_fd).st_size < _SIZE:
                    os.ftruncate(self._flush_fd, _SIZE)  # zeros; racing ftruncates agree
                self._map = mmap.mmap(self._flush_fd, _SIZE)
            except BaseException:
                os.close(self._flush_fd)
                raise
        except BaseException:
            os.close(self._write_fd)
            raise

    def lock(self) -> None:
        """Take the write lock (this process's threads, then the other processes); the
        caller must `unlock` whatever happens."""
        self._writing.acquire()
        try:
            if self._forks != _forks:
                self._reopen()
            fcntl.flock(self._write_fd, fcntl.LOCK_EX)
        except BaseException:
            self._writing.release()
            raise

    def unlock(self) -> None:
        fcntl.flock(self._write_fd, fcntl.LOCK_UN)
        self._writing.release()

    @contextmanager
    def writing(self) -> Iterator[None]:
        """`lock` ... `unlock` as a context."""
        self.lock()
        try:
            yield
        finally:
            self.unlock()

    def begun(self) -> int:
        """The number of flushes begun so far: read right after a COMMIT, passed to `wait`."""
        return int(_WORD.unpack_from(self._map, _BEGUN)[0])

    def wait(self, seen: int) -> None:
        """Return once a flush numbered above `seen` has finished (making one if needed)."""
        self.waits += 1
        with self._flushing:
            if self._forks != _forks:
                self._reopen()
            fcntl.flock(self._flush_fd, fcntl.LOCK_EX)
            try:
                if _WORD.unpack_from(self._map, _DONE)[0] > seen:
                    return  # another writer's flush, begun after our COMMIT, covered it
                number = _WORD.unpack_from(self._map, _BEGUN)[0] + 1
                _WORD.pack_into(self._map, _BEGUN, number)
                self._flush()
                _WORD.pack_into(self._map, _DONE, number)
            finally:
                fcntl.flock(self._flush_fd, fcntl.LOCK_UN)

    def durable(self) -> None:
        """Right after a COMMIT: return once its frames are on disk."""
        self.wait(self.begun())

    def _flush(self) -> None:
        try:
            fd = os.open(self._wal, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return  # the last connection checkpointed (and flushed) it into the database
        except OSError as exc:
            raise FlushFailed(f"cannot open {self._wal} to flush it: {exc}") from None
        try:
            os.fdatasync(fd)
            inode = os.fstat(fd).st_ino
            if _WORD.unpack_from(self._map, _INODE)[0] != inode:  # a new WAL file
                _flush_folder(self._folder)
                _WORD.pack_into(self._map, _INODE, inode)
        except OSError as exc:
            raise FlushFailed(f"flushing {self._wal} failed: {exc}; the last commits are "
                              "visible but may not survive a crash") from None
        finally:
            os.close(fd)
        self.flushes += 1

    def close(self) -> None:
        """Release the mapping and the lock files (they stay on disk for the others)."""
        if self._map.closed:
            return
        self._map.close()
        os.close(self._flush_fd)
        os.close(self._write_fd)


def _lock_file(path: str) -> int:
    return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)


def _flush_folder(folder: str) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
