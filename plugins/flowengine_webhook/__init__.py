"""Webhook channel: HTTP POST of the notification as JSON, signed with HMAC-SHA256.

Enabled by a `[webhook]` table with `url` (and the secret in the environment), or
`WebhookChannel(url, secret=…)`:

    [webhook]
    url = "https://oa.example.gov.cn/hooks/flowengine"
    secret_env = "FLOWENGINE_WEBHOOK_SECRET"   # the variable holding the shared secret
    timeout_seconds = 10
    proxy = "http://proxy.example:3128"        # optional; environment proxies are not used
    allowed_hosts = ["oa.example.gov.cn"]      # optional: the only hosts url may name
    channel = "webhook"

Each request carries

    Content-Type: application/json; charset=utf-8
    X-Flowengine-Signature: sha256=<hex HMAC-SHA256 of the exact body, keyed by the secret>
    Idempotency-Key: <the notification's outbox id>     (the same on every retry)
    X-Flowengine-Event: <kind>

The receiver recomputes the HMAC over the raw body (`verify` below does it in constant
time) and drops an Idempotency-Key it has already handled. Only a 2xx answer = delivered;
408, 425, 429 and 5xx, timeouts and connection errors are retried with backoff; 3xx
(redirects are not followed), other 4xx and any other answer are refusals (dead-lettered
after `permanent_attempts`). Only `http://` and `https://` URLs are used (checked when the
channel is set up and again before each POST), and with `allowed_hosts = [...]` only
those hosts.

The client is the standard library's `urllib.request`: one POST with a timeout needs no new
dependency. Its timeout bounds each socket operation, not the whole exchange; the outbox's
thread timeout bounds the whole call.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence

from flowengine.plugins import DeliveryError, Notification, hookimpl
from flowengine.plugins.settings import Settings, SettingsError

__all__ = ["SIGNATURE_HEADER", "WebhookChannel", "plugin", "sign", "url_problem", "verify"]

SIGNATURE_HEADER = "X-Flowengine-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
RETRYABLE_STATUS = frozenset({408, 425, 429})
SCHEMES = ("http", "https")


def sign(secret: str | bytes, body: bytes) -> str:
    """The signature header value of `body`: `sha256=<hex>`."""
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def verify(secret: str | bytes, body: bytes, header: str | None) -> bool:
    """Whether `header` is the signature of `body` (constant-time comparison)."""
    return header is not None and hmac.compare_digest(sign(secret, body), header)


def url_problem(url: str, allowed_hosts: Sequence[str] = ()) -> str | None:
    """Why `url` may not receive notifications, or None. Only http/https: urllib would
    also "open" `file:///etc/passwd` or `data:…` and nothing would be sent anywhere."""
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname
    except ValueError as exc:
        return f"{url!r} is not a URL ({exc})"
    if parts.scheme.lower() not in SCHEMES or not host:
        return f"{url!r} is not an http:// or https:// URL"
    if allowed_hosts and host.lower() not in {h.lower() for h in allowed_hosts}:
        return f"the host {host} of {url!r} is not in allowed_hosts ({', '.join(allowed_hosts)})"
    return None


def _opener(proxy: str | None) -> urllib.request.OpenerDirector:
    """HTTP(S) only (no file:, data:, ftp: handlers), no redirects: a 3xx is an error, since
    following it would turn the POST into a GET without body."""
    opener = urllib.request.OpenerDirector()
    proxies = {"http": proxy, "https": proxy} if proxy else {}
    for handler in (urllib.request.ProxyHandler(proxies), urllib.request.HTTPHandler(),
                    urllib.request.HTTPSHandler(), urllib.request.HTTPDefaultErrorHandler(),
                    urllib.request.HTTPErrorProcessor()):
        opener.add_handler(handler)
    return opener


class WebhookChannel:
    """Serves the `webhook` channel (or `channel=`) by POSTing to one URL."""

    def __init__(self, url: str | None = None, *, secret: str | None = None,
                 timeout: float = 10.0, proxy: str | None = None,
                 channel: str = "webhook", allowed_hosts: Sequence[str] = ()) -> None:
        problem = url_problem(url, allowed_hosts) if url is not None else None
        if problem:
            raise ValueError(problem)
        self.explicit = url is not None
        self.url, self.secret, self.timeout = url, secret, timeout
        self.proxy, self.channel = proxy, channel
        self.allowed_hosts: tuple[str, ...] = tuple(allowed_hosts)

    @hookimpl
    def flowengine_configure(self, settings: Settings) -> None:
        if self.explicit:
            return
        s = settings.section("webhook")
        url, self.allowed_hosts = s.get("url"), tuple(s.get("allowed_hosts", ()))
        problem = url_problem(str(url), self.allowed_hosts) if url else None
        self.url = None if problem else url  # serve nothing with a refused URL
        if problem:
            raise SettingsError(f"{settings.source or '<settings>'}: [webhook] url: {problem}")
        self.secret = os.environ.get(str(s.get("secret_env", "FLOWENGINE_WEBHOOK_SECRET")))
        self.timeout = float(s.get("timeout_seconds", 10.0))
        self.proxy, self.channel = s.get("proxy"), str(s.get("channel", "webhook"))

    @hookimpl
    def flowengine_channels(self) -> list[str]:
        return [self.channel] if self.url and self.secret else []

    @hookimpl
    def flowengine_deliver(self, notification: Notification) -> str | None:
        if notification.channel != self.channel or not self.url or not self.secret:
            return None
        problem = url_problem(self.url, self.allowed_hosts)
        if problem:  # checked at set-up too; a changed attribute must not slip through
            raise DeliveryError(problem, retryable=False)
        body = json.dumps(notification.as_dict(), ensure_ascii=False, sort_keys=True,
                          separators=(",", ":")).encode("utf-8")
        request = urllib.request.Request(self.url, data=body, method="POST", headers={
            "Content-Type": "application/json; charset=utf-8",
            SIGNATURE_HEADER: sign(self.secret, body),
            IDEMPOTENCY_HEADER: notification.id,
            "X-Flowengine-Event": notification.kind,
            "User-Agent": "flowengine-webhook",
        })
        return self._post(request)

    def _post(self, request: urllib.request.Request) -> str:
        try:
            with _opener(self.proxy).open(request, timeout=self.timeout) as response:
                status = getattr(response, "status", None)
                if not isinstance(status, int) or not 200 <= status < 300:
                    raise DeliveryError(f"HTTP {status} from {self.url}: not a 2xx answer",
                                        retryable=False)
                return f"HTTP {status}"
        except urllib.error.HTTPError as exc:
            code = exc.code
            raise DeliveryError(f"HTTP {code} from {self.url}",
                                retryable=code in RETRYABLE_STATUS or code >= 500) from None
        except (urllib.error.URLError, OSError) as exc:  # refused, reset, DNS, timeout
            raise DeliveryError(f"{self.url}: {getattr(exc, 'reason', exc)}") from None


plugin = WebhookChannel()
