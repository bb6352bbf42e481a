"""JSON-lines channel: an append-only log of notifications, one JSON object per line.

Enabled by `[jsonl] path = "notifications.jsonl"` or `JsonlChannel(path)`. Each line is
`Notification.as_dict()`. The log honours the idempotency key: before appending it reads
the lines added since it last looked (by this or another process) and skips an id already
there, so a retry after a crash never writes a second line. Appends are single `write`
calls on an `O_APPEND` descriptor, flushed to disk with `fsync` before success is reported.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from flowengine.plugins import Notification, hookimpl
from flowengine.plugins.settings import Settings

__all__ = ["JsonlChannel", "plugin"]


class JsonlChannel:
    """Serves the `jsonl` channel (or `channel=`) by appending to `path`."""

    def __init__(self, path: str | os.PathLike[str] | None = None, *,
                 channel: str = "jsonl") -> None:
        self.explicit = path is not None
        self.path = Path(path) if path is not None else None
        self.channel = channel
        self._lock = threading.Lock()
        self._seen: set[str] = set()
        self._offset = 0

    @hookimpl
    def flowengine_configure(self, settings: Settings) -> None:
        if self.explicit:
            return
        section = settings.section("jsonl")
        path = section.get("path")
        self.path = Path(path) if path else None
        self.channel = str(section.get("channel", "jsonl"))
        self._seen, self._offset = set(), 0

    @hookimpl
    def flowengine_channels(self) -> list[str]:
        return [self.channel] if self.path is not None else []

    @hookimpl
    def flowengine_deliver(self, notification: Notification) -> str | None:
        if notification.channel != self.channel or self.path is None:
            return None
        line = json.dumps(notification.as_dict(), ensure_ascii=False, sort_keys=True) + "\n"
        with self._lock:
            self._catch_up(self.path)
            if notification.id in self._seen:
                return "already in the log"
            _append(self.path, line.encode("utf-8"))
            self._seen.add(notification.id)
        return f"appended to {self.path}"

    def _catch_up(self, path: Path) -> None:
        """Read the ids of lines appended since the last look."""
        if not path.exists():
            return
        if path.stat().st_size < self._offset:  # rotated by an operator: start over
            self._seen, self._offset = set(), 0
        with path.open("rb") as f:
            f.seek(self._offset)
            data = f.read()
        complete = data[: data.rfind(b"\n") + 1]  # a torn last line is read next time
        self._offset += len(complete)
        for raw in complete.splitlines():
            try:
                self._seen.add(json.loads(raw)["id"])
            except (ValueError, KeyError, TypeError):
                continue  # not ours; the log is append-only, never rewritten


def _append(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


plugin = JsonlChannel()
