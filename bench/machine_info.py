"""The CPU model for the machine line of every benchmark report (one reader, not four)."""

from __future__ import annotations

import platform


def cpu_model() -> str:
    """`model name` from /proc/cpuinfo, else what `platform` knows, else "unknown"."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"
