"""Which YAML files of a process folder are process definitions.

A folder given to `--processes` (or `Engine(processes=[…])`) often holds more than
procedures: the shipped `examples/` keeps a scenario file beside its procedure, and a
process may keep its calendar files next to it. Rejecting the whole folder for that would
make the layout unusable, so each `*.yaml`/`*.yml` file directly in the folder (subfolders
are not read) is classified by its top-level keys (docs/process-language.md, "Process
folders"):

- `id:` → a process definition (checked fully; a broken one is reported, never skipped);
- `process:` without `id:` → a scenario file, skipped;
- any of `covers:`, `holidays:`, `workdays:` without `id:` → a calendar file, skipped;
- an empty file (nothing but comments) → skipped;
- anything else → a process definition, so its errors are reported.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from ..records.marked_yaml import YamlError, load_yaml_file

FileKind = Literal["process", "scenario", "calendar", "empty"]
CALENDAR_KEYS = ("covers", "holidays", "workdays")


def kind_of(path: Path) -> FileKind:
    """What `path` holds, from its top-level keys; unreadable text counts as a process
    (so the loader reports why it cannot be read)."""
    try:
        doc = load_yaml_file(str(path))
    except YamlError:
        return "process"
    if doc is None:
        return "empty"
    if not isinstance(doc, dict) or "id" in doc:
        return "process"
    if "process" in doc:
        return "scenario"
    if any(k in doc for k in CALENDAR_KEYS):
        return "calendar"
    return "process"


def yaml_files(folder: Path) -> list[Path]:
    """The `*.yaml` and `*.yml` files directly in `folder`, in name order."""
    return sorted(p for p in [*folder.glob("*.yaml"), *folder.glob("*.yml")] if p.is_file())


__all__ = ["CALENDAR_KEYS", "FileKind", "kind_of", "yaml_files"]
