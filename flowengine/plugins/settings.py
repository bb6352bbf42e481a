"""Delivery settings: one small TOML file, or a `Settings` object from the host.

The file is named by `FLOWENGINE_NOTIFY_CONFIG`; without it, `flowengine-notify.toml` in the
current folder is read if it exists; otherwise the defaults below apply (no addresses, no
channel enabled). Secrets never live in the file: the SMTP and webhook plugins read them
from the environment variables the file names. Example (all keys optional)::

    [delivery]
    max_attempts = 8            # a transient failure is retried until this many attempts
    permanent_attempts = 1      # a refusal (HTTP 4xx, SMTP 5xx) dead-letters after this many
    backoff_seconds = 60        # first retry after 1 min, then x backoff_factor …
    backoff_factor = 2
    backoff_max_seconds = 21600 # … never more than 6 h apart
    timeout_seconds = 30        # one deliver call may take this long, then it counts as failed
    immediate = false           # deliver right after each fire, not only on tick/worker
    default_channels = ["email", "jsonl"]   # channels of notifications that name none

    [recipients]
    contact_fields = ["email", "contact"]   # where a petitioner's address is in case data
    [recipients.roles]
    supervisor = ["督办科 <duban@example.gov.cn>"]
    [recipients.people]
    "王芳" = ["wangfang@example.gov.cn"]

    [smtp]        # and [console], [jsonl], [webhook], [metrics]: see docs/plugins.md
    host = "smtp.example.gov.cn"

Every value is checked against `flowengine/schemas/notify-settings.schema.json` when the
settings are loaded (`settings_schema`): a bad file fails at start-up, naming the key.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from .settings_schema import SettingsError, check_settings

__all__ = ["DeliveryPolicy", "RecipientBook", "Settings", "SettingsError"]

CONFIG_ENV = "FLOWENGINE_NOTIFY_CONFIG"
DEFAULT_FILE = "flowengine-notify.toml"


@dataclass(frozen=True)
class DeliveryPolicy:
    """Retries, backoff, timeout and routing of the outbox."""

    max_attempts: int = 8
    permanent_attempts: int = 1
    backoff: timedelta = timedelta(minutes=1)
    backoff_factor: float = 2.0
    backoff_max: timedelta = timedelta(hours=6)
    timeout: float = 30.0  # seconds
    immediate: bool = False
    default_channels: tuple[str, ...] | None = None  # None: every channel some plugin serves
    batch: int = 100

    def delay(self, attempts: int) -> timedelta:
        """How long to wait after the `attempts`-th failed attempt (1, 2, …); capped before
        it becomes a timedelta, so no attempt count can overflow it."""
        cap = self.backoff_max.total_seconds()
        try:
            seconds = self.backoff.total_seconds() * self.backoff_factor ** max(attempts - 1, 0)
        except OverflowError:
            seconds = cap
        return timedelta(seconds=min(seconds, cap))

    def limit(self, retryable: bool) -> int:
        """How many attempts a row gets before it is dead-lettered."""
        return self.max_attempts if retryable else min(self.permanent_attempts, self.max_attempts)


@dataclass(frozen=True)
class RecipientBook:
    """Where the people a notification names can be reached."""

    contact_fields: tuple[str, ...] = ("email", "contact", "phone", "mobile")
    name_fields: tuple[str, ...] = ("petitioner", "complainant")
    roles: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    people: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Settings:
    """Everything the plugins are configured from; `sections` holds one table per plugin."""

    delivery: DeliveryPolicy = field(default_factory=DeliveryPolicy)
    recipients: RecipientBook = field(default_factory=RecipientBook)
    sections: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    source: str | None = None  # the file read, if any

    def section(self, name: str) -> Mapping[str, Any]:
        """The `[name]` table (empty when absent)."""
        return self.sections.get(name, {})

    @classmethod
    def load(cls, path: str | os.PathLike[str] | None = None,
             env: Mapping[str, str] | None = None) -> Settings:
        """Read `path`, else `$FLOWENGINE_NOTIFY_CONFIG`, else ./flowengine-notify.toml."""
        env = os.environ if env is None else env
        chosen = path or env.get(CONFIG_ENV)
        if chosen is None:
            if not Path(DEFAULT_FILE).is_file():
                return cls()
            chosen = DEFAULT_FILE
        import tomllib  # here: most commands run with no settings file

        try:
            data = tomllib.loads(Path(chosen).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise SettingsError(f"{chosen}: cannot read delivery settings: {exc}") from None
        return cls.from_mapping(data, source=str(chosen))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], source: str | None = None) -> Settings:
        """Build settings from the parsed TOML (or an equivalent dict)."""
        check_settings(data, source or "<settings>")
        sections = {k: dict(v) for k, v in data.items()
                    if k not in ("delivery", "recipients") and isinstance(v, Mapping)}
        return cls(delivery=_policy(data.get("delivery", {})),
                   recipients=_book(data.get("recipients", {})),
                   sections=sections, source=source)


def _policy(d: Mapping[str, Any]) -> DeliveryPolicy:
    base = DeliveryPolicy()
    channels = d.get("default_channels")
    return DeliveryPolicy(
        max_attempts=int(d.get("max_attempts", base.max_attempts)),
        permanent_attempts=int(d.get("permanent_attempts", base.permanent_attempts)),
        backoff=timedelta(seconds=float(d.get("backoff_seconds", 60))),
        backoff_factor=float(d.get("backoff_factor", base.backoff_factor)),
        backoff_max=timedelta(seconds=float(d.get("backoff_max_seconds", 21600))),
        timeout=float(d.get("timeout_seconds", base.timeout)),
        immediate=bool(d.get("immediate", False)),
        default_channels=None if channels is None else _strings(channels),
        batch=int(d.get("batch", base.batch)),
    )


def _book(d: Mapping[str, Any]) -> RecipientBook:
    base = RecipientBook()
    return RecipientBook(
        contact_fields=_strings(d.get("contact_fields", base.contact_fields)),
        name_fields=_strings(d.get("name_fields", base.name_fields)),
        roles={k: _strings(v) for k, v in d.get("roles", {}).items()},
        people={k: _strings(v) for k, v in d.get("people", {}).items()},
    )


def _strings(value: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """A string or a list of strings (checked by the schema), as a tuple."""
    return (value,) if isinstance(value, str) else tuple(value)
