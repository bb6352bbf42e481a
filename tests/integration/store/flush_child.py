"""Child process of test_wal_flush.py: THREADS threads append records to a file standing in
for a SQLite WAL under the write lock and flush it after each, through one `WalFlush`.

    python flush_child.py DATABASE LOG N

LOG gets one line per append (`W end committed returned`: the file's size after the
append, and monotonic nanoseconds when it was written and when `flush` returned) and one per
flush (`F size begun ended`: the size when the flush began). The parent checks, over every
process's log, that each append returned only after a flush that began after it was written
and covered its bytes, and that the lock let one writer at a time write."""

from __future__ import annotations

import os
import sys
import threading
import time

from flowengine.store.flush import WalFlush

THREADS = 2


def main(database: str, log: str, n: int) -> None:
    flush = WalFlush(database)
    wal = os.open(database + "-wal", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    lines: list[str] = []
    flush_of = flush.flush

    def recorded_flush() -> None:
        size, begun = os.fstat(wal).st_size, time.monotonic_ns()
        flush_of()
        lines.append(f"F {size} {begun} {time.monotonic_ns()}")

    flush.flush = recorded_flush  # type: ignore[method-assign]

    def appender() -> None:
        for _ in range(n):
            with flush.writing():
                start, locked = os.fstat(wal).st_size, time.monotonic_ns()
                os.write(wal, b"x" * 64)
                end, committed = os.fstat(wal).st_size, time.monotonic_ns()
            lines.append(f"L {start} {locked} {committed}")
            flush.flush()
            lines.append(f"W {end} {committed} {time.monotonic_ns()}")

    threads = [threading.Thread(target=appender) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with open(log, "w") as out:
        out.write("\n".join(lines) + "\n")
    flush.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
