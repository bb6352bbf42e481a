"""Console channel: print each notification as a line (or one line per language).

Meant for trying a process out and for demos. Enabled by `[console] enabled = true` in the
delivery settings, or by passing `ConsoleChannel(stream=…)` to the engine. Prints to stderr
by default (`[console] stream = "stdout"` to change it), so a `--json` command's stdout
stays one JSON document.
"""

from __future__ import annotations

import sys
from typing import TextIO

from flowengine.plugins import Notification, hookimpl
from flowengine.plugins.settings import Settings

__all__ = ["ConsoleChannel", "format_lines", "plugin"]


class ConsoleChannel:
    """Serves the `console` channel (or `channel=`) by printing."""

    def __init__(self, stream: TextIO | None = None, *, language: str | None = None,
                 channel: str = "console") -> None:
        self.explicit = stream is not None
        self.enabled = self.explicit
        self.stream = stream
        self.language = language
        self.channel = channel

    @hookimpl
    def flowengine_configure(self, settings: Settings) -> None:
        if self.explicit:
            return
        section = settings.section("console")
        self.enabled = bool(section.get("enabled", False))
        self.language = section.get("language")
        self.channel = str(section.get("channel", "console"))
        self.stream = sys.stdout if section.get("stream") == "stdout" else None

    @hookimpl
    def flowengine_channels(self) -> list[str]:
        return [self.channel] if self.enabled else []

    @hookimpl
    def flowengine_deliver(self, notification: Notification) -> str | None:
        if notification.channel != self.channel:
            return None
        stream = self.stream or sys.stderr
        for line in format_lines(notification, self.language):
            print(line, file=stream, flush=True)
        return "printed"


def format_lines(n: Notification, language: str | None = None) -> list[str]:
    """`✉ C000001 extension → petitioner 张三 <zs@example.com>` then the message(s)."""
    who = ", ".join(_who(r.entry, r.name, r.addresses) for r in n.recipients) or "nobody named"
    head = f"✉ {n.case_id} {n.kind} → {who}  [{n.id}]"
    texts = [(language, n.message(language))] if language else n.ordered_messages()
    return [head] + [f"    {lang}: {text}" for lang, text in texts]


def _who(entry: str, name: str | None, addresses: tuple[str, ...]) -> str:
    label = entry if not name or name == entry else f"{entry} {name}"
    return label + (f" <{', '.join(addresses)}>" if addresses else "")


plugin = ConsoleChannel()
