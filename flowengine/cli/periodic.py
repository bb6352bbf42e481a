"""The periodic checkpoints of `tick` and `worker` (flowengine/audit/periodic.py): the
`[audit]` settings read once at start-up (a bad value is exit 2 there, naming the file and
key), then a checkpoint after a tick when one is due. A checkpoint that cannot be written
is a warning: the timers must go on."""

from __future__ import annotations

from pathlib import Path

import click

from ..audit.periodic import CheckpointPolicy, checkpoint_if_due, policy_from
from ..engine.engine import Engine


def checkpoint_policy(engine: Engine) -> CheckpointPolicy | None:
    settings = engine.plugins.settings
    return policy_from(settings.section("audit"), settings.source)


def checkpoint_after_tick(engine: Engine, policy: CheckpointPolicy | None) -> Path | None:
    """Write the checkpoint if due; the file, or None (also when it failed, with a warning)."""
    if policy is None:
        return None
    try:
        return checkpoint_if_due(engine.store, policy)
    except Exception as exc:  # noqa: BLE001 - a full disk or a busy database must not stop the timers
        why = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        click.echo(f"warning: the periodic checkpoint was not written: {why}", err=True)
        return None


__all__ = ["checkpoint_after_tick", "checkpoint_policy"]
