"""The calendar files a process lists under `calendars:`: where they may come from, how they
are checked, and how they are pinned with the definition.

A case is pinned to a definition version; its deadlines depend on the calendar files as
much as on the YAML. So when a process file is loaded, its calendar files are read once,
checked fully (FILE:LINE:COL, as the process is) and appended to the process text as a
**bundle**: YAML comment lines after the process, so the bundle is still the same YAML
document. The bundle is the stored definition text and its SHA-256 the digest, so a
pinned case computes with the calendar texts it was started with, from any working
directory, after the files are edited or deleted. Bundle format::

    <the process file's text>
    #%flowengine-calendar calendars/cn-2027.yaml
    #| name: ...
    #| covers: [2027]

Where a file may come from: a path relative to the process file, without `..`, naming a
regular file of at most 1 MiB inside the process file's folder or one of the folders in
`FLOWENGINE_CALENDAR_DIRS` (separated like PATH), tried in that order. So a process can
never read `/etc/passwd`, `/proc/self/environ` or `/dev/zero` as a calendar.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from pathlib import Path, PurePosixPath, PureWindowsPath

from ..calendar.layers import read_calendar_text
from ..errors import Location, Problem

MARKER = "#%flowengine-calendar "
LINE = "#| "
MAX_BYTES = 1 << 20
DIRS_ENV = "FLOWENGINE_CALENDAR_DIRS"

CalendarTexts = tuple[tuple[str, str], ...]


# -- bundles ---------------------------------------------------------------------------


def make_bundle(process_text: str, calendars: Sequence[tuple[str, str]]) -> str:
    """The process text with each (name, text) calendar appended as comment lines."""
    out = [process_text if process_text.endswith("\n") else process_text + "\n"]
    for name, text in calendars:
        out.append(f"{MARKER}{name}\n")
        out.extend(f"{LINE}{line}\n" for line in text.splitlines())
    return "".join(out)


def split_bundle(text: str) -> tuple[str, CalendarTexts]:
    """(process text, calendars) of a bundle; a plain process text has no calendars."""
    start = text.find("\n" + MARKER)
    if start < 0:
        return text, ()
    calendars: list[tuple[str, list[str]]] = []
    for line in text[start + 1:].splitlines():
        if line.startswith(MARKER):
            calendars.append((line[len(MARKER):].strip(), []))
        elif line.startswith(LINE.rstrip()) and calendars:
            calendars[-1][1].append(line[len(LINE):])
    return text[:start + 1], tuple((name, "\n".join(lines) + "\n") for name, lines in calendars)


# -- reading the files of a process ----------------------------------------------------


def allowed_folders(process_file: str) -> list[Path]:
    """The process file's folder, then the folders of FLOWENGINE_CALENDAR_DIRS."""
    extra = [Path(p) for p in os.environ.get(DIRS_ENV, "").split(os.pathsep) if p.strip()]
    return [Path(process_file).resolve().parent, *extra]


def read_calendars(refs: Sequence[str], process_file: str,
                   where: Sequence[Location]) -> tuple[CalendarTexts, list[Problem]]:
    """Read and check each calendar file `refs` names; `where` locates each ref in the
    process file. Returns the texts (by the name written in the YAML) and every problem."""
    texts: list[tuple[str, str]] = []
    problems: list[Problem] = []
    folders = allowed_folders(process_file)
    for ref, loc in zip(refs, where, strict=True):
        text, problem = _read_one(ref, folders, loc)
        if problem is not None:
            problems.append(problem)
            continue
        assert text is not None
        problems += check_calendar(ref, text, Path(process_file).parent)
        texts.append((ref, text))
    return tuple(texts), problems


def check_calendar(ref: str, text: str, base: Path) -> list[Problem]:
    """FE231 for each problem of one calendar text, at its own FILE:LINE:COL."""
    shown = str(base / ref) if base != Path() else ref
    _, found = read_calendar_text(text, shown)
    return [Problem("FE231", message, loc, hint="see docs/calendar.md for the format")
            for loc, message in found]


def _read_one(ref: str, folders: Sequence[Path], loc: Location) -> tuple[str | None, Problem | None]:
    refused = _refused_ref(ref)
    if refused:
        return None, Problem("FE230", f"calendar path '{ref}' is not allowed: {refused}", loc,
                             hint="name a file relative to the process file, inside its folder "
                                  f"or a folder listed in {DIRS_ENV}")
    for folder in folders:
        candidate = folder / ref
        if not candidate.exists():
            continue
        why = _refused_file(candidate, folder)
        if why:
            return None, Problem("FE230", f"calendar file '{ref}' is not allowed: {why}", loc,
                                 hint="use a regular file inside the process folder")
        try:
            return candidate.read_bytes().decode("utf-8"), None
        except UnicodeDecodeError:
            return None, Problem("FE231", f"calendar file '{ref}' is not UTF-8 text", loc)
        except OSError as exc:
            return None, Problem("FE221", f"calendar file '{ref}' cannot be read: {exc.strerror}",
                                 loc)
    return None, Problem("FE221", f"calendar file '{ref}' does not exist", loc,
                         hint="calendar paths are relative to the process file; add the file "
                              "or fix the path")


def _refused_ref(ref: str) -> str:
    if not isinstance(ref, str) or not ref.strip():
        return "it is empty"
    if PurePosixPath(ref).is_absolute() or PureWindowsPath(ref).is_absolute() or ref.startswith("~"):
        return "an absolute path"
    if ".." in PurePosixPath(ref.replace("\\", "/")).parts:
        return "it leaves the folder ('..')"
    return ""


def _refused_file(path: Path, folder: Path) -> str:
    real, root = path.resolve(), folder.resolve()
    if real != root and root not in real.parents:
        return "it resolves outside the folder (a link)"
    info = real.stat()
    if not stat.S_ISREG(info.st_mode):
        return "not a regular file"
    if info.st_size > MAX_BYTES:
        return f"larger than {MAX_BYTES // 1024} KiB"
    return ""
