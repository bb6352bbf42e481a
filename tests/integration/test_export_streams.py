"""`export --all` streams: each case's line is written as soon as its last event has been
read, before the next case's events are read on, so memory holds one case whatever the
store's size (bench/bench_export.py measures the peak; no memory threshold here)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

from flowengine.audit.whole import export_all
from flowengine.store.base import EventHeadRow
from flowengine.store.sql import SqlStore
from tests.support.tamper import build_cases


class CountingStore(SqlStore):
    """Counts the event rows the export has read so far."""

    read = 0

    def event_heads(self, with_body: bool = False) -> Iterator[EventHeadRow]:
        for row in super().event_heads(with_body):
            self.read += 1
            yield row


class Lines:
    """Notes, for every line written, how many event rows had been read by then."""

    def __init__(self, store: CountingStore) -> None:
        self.store = store
        self.text = ""
        self.read_at: list[int] = []

    def write(self, text: str, /) -> int:
        self.text += text
        if text.endswith("\n"):
            self.read_at.append(self.store.read)
        return len(text)


def test_each_case_line_is_written_before_the_next_case_is_read(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cases.db'}"
    ids = build_cases(url, ("甲", "乙", "丙", "丁"))  # eight events each, in case order below
    store = CountingStore(url, read_only=True)
    out = Lines(store)
    summary = export_all(store, out, timedelta(hours=1))
    store.close()
    assert (summary.cases, summary.events) == (4, 32)
    lines = out.text.splitlines()
    assert len(lines) == 6 and [line.startswith('{"case"') for line in lines[1:5]] == [True] * 4
    assert sorted(ids) == [line.split('"')[3] for line in lines[1:5]]
    # the header before any row; case k's line once the first row of case k + 1 is read
    # (that row tells the case ended); the last case's line and the end line at the end
    assert out.read_at == [0, 9, 17, 25, 32, 32]
