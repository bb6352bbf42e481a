"""Child process of test_shared_flush.py: THREADS threads append records to a file standing
in for a SQLite WAL and wait for the shared flush after each, through one `SharedFlush`.

    python flush_child.py DATABASE LOG N

LOG gets one line per append (`W end committed returned`: the file's size after the
append, and monotonic nanoseconds when it was written and when `durable` returned) and one
per flush this process made (`F size begun ended`: the size when the flush began). The
parent checks, over every process's log, that each append returned only after a flush that
began after it was written and covered its bytes."""

from __future__ import annotations

import os
import sys
import threading
import time

from flowengine.store.flush import SharedFlush

THREADS = 2


def main(database: str, log: str, n: int) -> None:
    flush = SharedFlush(database)
    wal = os.open(database + "-wal", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    lines: list[str] = []
    flush_of = flush._flush

    def recorded_flush() -> None:
        size, begun = os.fstat(wal).st_size, time.monotonic_ns()
        flush_of()
        lines.append(f"F {size} {begun} {time.monotonic_ns()}")

    flush._flush = recorded_flush  # type: ignore[method-assign]

    def appender() -> None:
        for _ in range(n):
            with flush.writing():
                os.write(wal, b"x" * 64)
                end, committed = os.fstat(wal).st_size, time.monotonic_ns()
            flush.durable()
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
