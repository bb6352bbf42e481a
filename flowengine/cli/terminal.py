"""What the command line draws on a terminal: rich consoles that honour `NO_COLOR`, and
progress bars for long work.

Why here: output meant for programs (stdout, `--json`, a pipe, a log file) must never carry
escape codes or redraws, so a bar is drawn only on stderr, only when stderr is a terminal,
and never under `--json`. `NO_COLOR` (any non-empty value, no-color.org) turns off every
ANSI style, bold included, not only colours.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

Advance = Callable[[int, int | None], None]  # (done, total or None when not known yet)


def console(*, stderr: bool = False, width: int | None = None) -> Console:
    """A rich console; plain text (no ANSI at all) when `NO_COLOR` is set."""
    plain = bool(os.environ.get("NO_COLOR"))
    return Console(stderr=stderr, width=width, highlight=False,
                   color_system=None if plain else "auto", no_color=plain)


def _ignore(done: int, total: int | None) -> None:
    """No bar: nothing to draw."""


@contextmanager
def progress(description: str, *, as_json: bool) -> Iterator[Advance]:
    """A bar on stderr while the block runs (a pulsing one until a total is known); the
    block calls the yielded function with (done, total). No bar under `--json` or when
    stderr is not a terminal."""
    if as_json or not sys.stderr.isatty():
        yield _ignore
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    with Progress(*columns, console=console(stderr=True), transient=True) as bar:
        task = bar.add_task(description, total=None)

        def advance(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total)

        yield advance


__all__ = ["Advance", "console", "progress"]
