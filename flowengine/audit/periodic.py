"""Periodic checkpoints: `tick` and `worker` write a signed checkpoint (checkpoint.py) into
a folder when the last one there is older than a set interval.

Why from tick/worker: a checkpoint only protects what it covers, so an office should take
them regularly without a person remembering to. Why after the tick's fires, never inside
a fire: the tree is computed at checkpoint time, so appends cost nothing more. Whether one
is due is judged by the database's clock (the checkpoint's own `time`), against the newest
checkpoint file in the folder; nothing is written when the log has not grown since.

Settings (the `[audit]` table of the settings file, checked by its JSON Schema)::

    [audit]
    checkpoint_every = "1h"                      # 90s, 30m, 1h, 1d
    checkpoint_folder = "/srv/flowengine/checkpoints"
    checkpoint_key = "/etc/flowengine/auditor.key"   # optional: unsigned without
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from ..plugins.settings_schema import SettingsError
from .checkpoint import Checkpoint, database_time, take
from .recorded import parse_tolerance

PREFIX = "checkpoint-"


@dataclass(frozen=True)
class CheckpointPolicy:
    every: timedelta
    folder: Path
    key: Ed25519PrivateKey | None


def policy_from(section: Mapping[str, Any], where: str | None) -> CheckpointPolicy | None:
    """The `[audit]` table as a policy (None when no periodic checkpoints are asked for);
    `SettingsError` (exit 2) naming the file and key when it cannot work."""
    if not section:
        return None
    where = where or "<settings>"
    for name in ("checkpoint_every", "checkpoint_folder"):
        if name not in section:
            raise SettingsError(f"{where}: [audit] {name} is missing (periodic checkpoints "
                                "need checkpoint_every and checkpoint_folder)")
    every = parse_tolerance(str(section["checkpoint_every"]))
    if every <= timedelta(0):
        raise SettingsError(f"{where}: [audit] checkpoint_every must be more than 0")
    folder = Path(str(section["checkpoint_folder"]))
    if not folder.is_dir() or not os.access(folder, os.W_OK):
        raise SettingsError(f"{where}: [audit] checkpoint_folder {folder} is not a folder "
                            "this process can write to")
    key = _key(section.get("checkpoint_key"), where)
    return CheckpointPolicy(every, folder, key)


def _key(path: Any, where: str) -> Ed25519PrivateKey | None:
    if path is None:
        return None
    try:
        key = load_pem_private_key(Path(str(path)).read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise SettingsError(f"{where}: [audit] checkpoint_key {path}: not a readable, "
                            f"unencrypted PEM private key ({exc})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SettingsError(f"{where}: [audit] checkpoint_key {path}: not an Ed25519 key; make "
                            "one with 'flowengine audit keygen'")
    return key


def _stamp(time: str) -> str:
    """`2026-12-03T08:00:00.000000+00:00` -> `20261203T080000.000000Z` (sorts by time)."""
    return time.replace("-", "").replace(":", "").replace("+0000", "Z")


def newest(folder: Path) -> tuple[datetime, int] | None:
    """(time, size) of the newest checkpoint file the folder holds, from its name."""
    found = sorted(p.name for p in folder.glob(f"{PREFIX}*.txt"))
    for name in reversed(found):
        stamp, _, size = name[len(PREFIX):-len(".txt")].rpartition("-")
        try:
            when = datetime.strptime(stamp, "%Y%m%dT%H%M%S.%fZ")
        except ValueError:
            continue  # not one of ours
        if size.isdigit():
            return when, int(size)
    return None


def checkpoint_if_due(store: Any, policy: CheckpointPolicy) -> Path | None:
    """Write a checkpoint when the newest in the folder is `every` old (by the database's
    clock) and the log grew since; the file written, or None."""
    last = newest(policy.folder)
    now = datetime.fromisoformat(database_time(store)).replace(tzinfo=None)
    if last is not None and now - last[0] < policy.every:
        return None
    if last is not None and store.event_count() == last[1]:
        return None  # nothing new: the last checkpoint still says it all
    cp: Checkpoint = take(store, policy.key)
    target = policy.folder / f"{PREFIX}{_stamp(cp.time)}-{cp.size}.txt"
    partial = target.with_suffix(".part")
    partial.write_text(cp.text(), encoding="utf-8")
    partial.replace(target)  # a reader never sees half a checkpoint
    return target


__all__ = ["CheckpointPolicy", "checkpoint_if_due", "newest", "policy_from"]
