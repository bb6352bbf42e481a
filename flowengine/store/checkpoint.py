"""`Checkpointer`: the WAL of a SQLite file copied back into the database in a thread of
its own while the engine's tick plans, instead of inside the tick's COMMITs.

Why: SQLite checkpoints in the COMMIT that takes the WAL past `wal_autocheckpoint` pages
(1,000). A tick over thousands of due cases writes hundreds of pages per transaction, so
every second or third of its COMMITs ran a checkpoint, 25-45 ms each, most of it waiting
rather than computing (bench/RESULTS-store.md, "tick", fifth round). The checkpoint runs
after the COMMIT has released the write lock, so it never held up other writers; it held
up the tick. Here, after each of the tick's transactions, a thread runs a PASSIVE
checkpoint on a connection of its own (it copies what no reader still needs and never
waits for, nor blocks, a writer) while the tick plans its next cases. When it has copied
everything, the next transaction starts the WAL again from its beginning, so the WAL
seldom reaches `wal_autocheckpoint` and the tick's own COMMITs seldom checkpoint.
Nothing else changes: every connection keeps auto-checkpointing as before (the WAL stays
bounded whatever this thread does), and a commit is durable in the WAL before any
checkpoint, as before. A checkpoint that fails (the file busy, a disk error) is left to
the next one or to SQLite's own, as a failed auto-checkpoint is.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from urllib.parse import quote


class Checkpointer:
    """A PASSIVE checkpoint of the SQLite file at `path` after each `nudge`, in a daemon
    thread started on the first nudge (in a forked child: on its first nudge there) and
    stopped by `close`. Nudges that come while a checkpoint runs make one more, not one
    each. Thread-safe."""

    def __init__(self, path: str) -> None:
        # absolute now (the process may change directory), opened read-write only: a
        # file that is gone is never made again, empty, by this thread
        self._uri = f"file:{quote(os.path.abspath(path))}?mode=rw"
        self.ran = 0  # checkpoints run (tests; the bench)
        self._reset()

    def _reset(self) -> None:
        self._pid = os.getpid()
        self._wake = threading.Event()
        self._starting = threading.Lock()
        self._closed = False
        self._thread: threading.Thread | None = None

    def nudge(self) -> None:
        """Ask for a checkpoint (returns at once)."""
        if self._pid != os.getpid():  # a forked child: the parent's thread is not here
            self._reset()
        if self._thread is None:
            with self._starting:
                if self._thread is None and not self._closed:
                    thread = threading.Thread(target=self._run, daemon=True,
                                              name="flowengine-checkpoint")
                    thread.start()
                    self._thread = thread
        self._wake.set()

    def _run(self) -> None:
        # FULL: the checkpoint flushes the WAL before copying and the database after,
        # before the WAL may start again (at NORMAL too; FULL is SQLite's own default)
        try:
            conn = sqlite3.connect(self._uri, timeout=0, isolation_level=None,
                                   check_same_thread=False, uri=True)
            conn.execute("PRAGMA synchronous=FULL")
        except sqlite3.Error:
            return  # the file cannot be opened: SQLite's own checkpoints go on
        try:
            while True:
                self._wake.wait()
                self._wake.clear()
                if self._closed:
                    return
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error:
                    continue  # busy or failing: the next checkpoint, or SQLite's own
                self.ran += 1
        finally:
            conn.close()

    def close(self) -> None:
        """Stop the thread (after the checkpoint it may be running)."""
        if self._pid != os.getpid():
            return  # a forked child's copy: the thread is the parent's
        with self._starting:
            self._closed = True
        thread = self._thread
        if thread is not None:
            self._wake.set()
            thread.join()
