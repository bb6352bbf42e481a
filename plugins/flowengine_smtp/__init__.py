"""E-mail channel over SMTP (the standard library's `smtplib`, a maintained client).

Enabled by an `[smtp]` table with `host` and `sender`, or `SmtpChannel(host=…, sender=…)`:

    [smtp]
    host = "smtp.example.gov.cn"
    port = 587                       # default: 465 for ssl, 587 for starttls, 25 for none
    security = "starttls"            # starttls | ssl | none
    sender = "信访办 <xinfang@example.gov.cn>"
    username_env = "FLOWENGINE_SMTP_USER"       # the names of the environment variables
    password_env = "FLOWENGINE_SMTP_PASSWORD"   # holding the credentials (these are the defaults)
    timeout_seconds = 10
    cafile = "/etc/ssl/office-ca.pem"           # optional, to trust a private CA
    channel = "email"

One message per notification, to every resolved address that contains `@`; a notification
with none is refused (dead-letters: fix the address book or the case data, then
`flowengine notifications retry`). Each such address must be exactly one address
(`zs@example.com` or `张三 <zs@example.com>`): a list, a group, a second `@`, CR, LF, NUL
or another control character refuses the whole notification (dead letter), so data typed
into a case can never add recipients; the SMTP envelope gets exactly the parsed addresses.
The idempotency key becomes the `Message-ID` (and an
`X-Flowengine-Idempotency-Key` header), so a mailbox that drops repeated ids drops retries.
SMTP 5xx replies are refusals (not retried beyond `permanent_attempts`); 4xx replies,
refused connections and timeouts are retried with backoff.
"""

from __future__ import annotations

import hashlib
import os
import re
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formataddr, getaddresses
from typing import Any

from flowengine.plugins import DeliveryError, Notification, hookimpl
from flowengine.plugins.settings import Settings, SettingsError

__all__ = ["SmtpChannel", "build_message", "one_address", "plugin", "recipients"]

PORTS = {"ssl": 465, "starttls": 587, "none": 25}
TITLES = {"warning": "期限提醒", "overdue": "督办提醒", "expired": "期限届满",
          "extension": "延期告知", "paused": "期限暂停", "resumed": "期限恢复"}


class SmtpChannel:
    """Serves the `email` channel (or `channel=`) through one SMTP server."""

    def __init__(self, host: str | None = None, port: int | None = None, *,
                 security: str = "starttls", sender: str | None = None,
                 username: str | None = None, password: str | None = None,
                 timeout: float = 10.0, cafile: str | None = None,
                 channel: str = "email") -> None:
        if security not in PORTS:
            raise ValueError(f"security must be one of {', '.join(PORTS)}, not {security!r}")
        self.explicit = host is not None
        self.host, self.port, self.security = host, port, security
        self.sender, self.username, self.password = sender, username, password
        self.timeout, self.cafile, self.channel = timeout, cafile, channel

    @hookimpl
    def flowengine_configure(self, settings: Settings) -> None:
        if self.explicit:
            return
        s = settings.section("smtp")
        security = str(s.get("security", "starttls"))
        if security not in PORTS:  # a file is schema-checked; a host's Settings are not
            self.host = None  # serve nothing rather than retry for ever
            raise SettingsError(f"{settings.source or '<settings>'}: [smtp] security must be "
                                f"one of {', '.join(PORTS)}, not {security!r}")
        self.host, self.port, self.security = s.get("host"), s.get("port"), security
        self.sender = s.get("sender")
        self.username = os.environ.get(str(s.get("username_env", "FLOWENGINE_SMTP_USER")))
        self.password = os.environ.get(str(s.get("password_env", "FLOWENGINE_SMTP_PASSWORD")))
        self.timeout = float(s.get("timeout_seconds", 10.0))
        self.cafile, self.channel = s.get("cafile"), str(s.get("channel", "email"))

    @hookimpl
    def flowengine_channels(self) -> list[str]:
        return [self.channel] if self.host and self.sender else []

    @hookimpl
    def flowengine_deliver(self, notification: Notification) -> str | None:
        if notification.channel != self.channel or not self.host or not self.sender:
            return None
        message = build_message(notification, self.sender)
        to_addrs = [addr for _name, addr in recipients(notification)]
        try:
            with self._connect() as smtp:
                refused = smtp.send_message(message, to_addrs=to_addrs)
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryError(f"every recipient refused: {_codes(exc.recipients)}",
                                retryable=_transient(exc.recipients)) from None
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(f"SMTP {exc.smtp_code}: {_text(exc.smtp_error)}",
                                retryable=exc.smtp_code < 500) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise DeliveryError(f"{self.host}: {exc}", retryable=False) from None
        except (OSError, smtplib.SMTPException) as exc:  # refused, reset, timed out
            raise DeliveryError(f"{self.host}:{self._port()}: {exc}") from None
        note = f" (refused: {_codes(refused)})" if refused else ""
        return f"sent as {message['Message-ID']}{note}"

    def _port(self) -> int:
        return int(self.port or PORTS[self.security])

    def _connect(self) -> smtplib.SMTP:
        assert self.host is not None
        context = ssl.create_default_context(cafile=self.cafile)
        if self.security == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self._port(), timeout=self.timeout,
                                                  context=context)
        else:
            smtp = smtplib.SMTP(self.host, self._port(), timeout=self.timeout)
        try:
            if self.security == "starttls":
                smtp.starttls(context=context)
            if self.username and self.password:
                smtp.login(self.username, self.password)
        except BaseException:
            smtp.close()
            raise
        return smtp


def build_message(n: Notification, sender: str) -> EmailMessage:
    """The e-mail of `n`: every language's text, Chinese first; Message-ID from the key.
    Its `To` holds exactly the parsed recipients (`recipients(n)`), nothing else."""
    pairs = recipients(n)
    msg = EmailMessage()
    try:
        msg["From"] = sender
        msg["To"] = ", ".join(formataddr(pair) for pair in pairs)
        msg["Subject"] = f"{n.title or TITLES.get(n.kind, n.name or n.kind)} · {n.case_id}"
    except ValueError as exc:  # a header value with a line break: never sent, never retried
        raise DeliveryError(f"cannot build the e-mail for case {n.case_id}: {exc}",
                            retryable=False) from None
    digest = hashlib.sha256(n.id.encode("utf-8")).hexdigest()[:32]
    msg["Message-ID"] = f"<{digest}@flowengine>"
    msg["X-Flowengine-Idempotency-Key"] = n.id
    msg["X-Flowengine-Case"] = n.case_id
    msg.set_content("\n\n".join(text for _lang, text in n.ordered_messages()) + "\n")
    return msg


def recipients(n: Notification) -> list[tuple[str, str]]:
    """(display name, address) of every resolved address of `n` with an `@`, each parsed as
    exactly one address: a value such as `a@x.cn, victim@evil.com` (from case data) is
    refused as a whole, never sent to both. A refusal is permanent (dead letter)."""
    pairs: list[tuple[str, str]] = []
    for text in (a for a in n.addresses() if "@" in a):
        pair = one_address(text)
        if pair is None:
            raise DeliveryError(f"{text!r} is not one e-mail address (case {n.case_id}); "
                                "correct it in the case data or [recipients], then "
                                "`flowengine notifications retry`", retryable=False)
        if pair[1] not in (p[1] for p in pairs):
            pairs.append(pair)
    if not pairs:
        entries = ", ".join(n.to) or "nobody"
        raise DeliveryError(f"no e-mail address for {entries} (case {n.case_id}); add one to "
                            "[recipients] or the case data, then retry", retryable=False)
    return pairs


_ADDR_SPEC = re.compile(r"[^\s@<>,;:\"()\[\]\\]+@[^\s@<>,;:\"()\[\]\\]+")
_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')  # a quoted display name may hold , : ;
_SEPARATORS = re.compile(r"[,;:]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")


def one_address(text: str) -> tuple[str, str] | None:
    """`(name, addr)` when `text` is exactly one address (`zs@example.com` or
    `张三 <zs@example.com>`), else None: no control characters (CR, LF, NUL …), one `@`
    only, and the parser must find one plain `local@domain` (no lists, no groups)."""
    if _CONTROL.search(text) or text.count("@") != 1:
        return None
    if _SEPARATORS.search(_QUOTED.sub("", text)):  # a list (,) or a group (name: …;)
        return None
    found = getaddresses([text])
    if len(found) != 1:
        return None
    name, addr = found[0]
    if not _ADDR_SPEC.fullmatch(addr):
        return None
    return name, addr


def _codes(recipients: dict[str, Any]) -> str:
    return ", ".join(f"{formataddr(('', a))} {c[0] if isinstance(c, tuple) else c}"
                     for a, c in recipients.items())


def _transient(recipients: dict[str, Any]) -> bool:
    return any(isinstance(c, tuple) and c[0] < 500 for c in recipients.values())


def _text(raw: bytes | str) -> str:
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)


plugin = SmtpChannel()
