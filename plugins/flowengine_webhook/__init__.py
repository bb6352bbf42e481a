"""Webhook channel: HTTP POST of the notification as JSON, signed with HMAC-SHA256.

Enabled by a `[webhook]` table with `url` (and the secret in the environment), or
`WebhookChannel(url, secret=…)`:

    [webhook]
    url = "https://oa.example.gov.cn/hooks/flowengine"
    secret_env = "FLOWENGINE_WEBHOOK_SECRET"   # the variable holding the shared secret
    timeout_seconds = 10
    proxy = "http://proxy.example:3128"        # optional; environment proxies are not used
    channel = "webhook"

Each request carries

    Content-Type: application/json; charset=utf-8
    X-Flowengine-Signature: sha256=<hex HMAC-SHA256 of the exact body, keyed by the secret>
    Idempotency-Key: <the notification's outbox id>     (the same on every retry)
    X-Flowengine-Event: <kind>

The receiver recomputes the HMAC over the raw body (`verify` below does it in constant
time) and drops an Idempotency-Key it has already handled. 2xx = delivered; 408, 425, 429
and 5xx, timeouts and connection errors are retried with backoff; other 4xx and redirects
are refusals (dead-lettered after `permanent_attempts`).

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
import urllib.request
from typing import Any

from flowengine.plugins import DeliveryError, Notification, hookimpl
from flowengine.plugins.settings import Settings

__all__ = ["SIGNATURE_HEADER", "WebhookChannel", "plugin", "sign", "verify"]

SIGNATURE_HEADER = "X-Flowengine-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
RETRYABLE_STATUS = frozenset({408, 425, 429})


def sign(secret: str | bytes, body: bytes) -> str:
    """The signature header value of `body`: `sha256=<hex>`."""
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def verify(secret: str | bytes, body: bytes, header: str | None) -> bool:
    """Whether `header` is the signature of `body` (constant-time comparison)."""
    return header is not None and hmac.compare_digest(sign(secret, body), header)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect would turn the POST into a GET without body: refuse it instead."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class WebhookChannel:
    """Serves the `webhook` channel (or `channel=`) by POSTing to one URL."""

    def __init__(self, url: str | None = None, *, secret: str | None = None,
                 timeout: float = 10.0, proxy: str | None = None,
                 channel: str = "webhook") -> None:
        self.explicit = url is not None
        self.url, self.secret, self.timeout = url, secret, timeout
        self.proxy, self.channel = proxy, channel

    @hookimpl
    def flowengine_configure(self, settings: Settings) -> None:
        if self.explicit:
            return
        s = settings.section("webhook")
        self.url = s.get("url")
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
        proxies = {"http": self.proxy, "https": self.proxy} if self.proxy else {}
        opener = urllib.request.build_opener(urllib.request.ProxyHandler(proxies), _NoRedirect)
        try:
            with opener.open(request, timeout=self.timeout) as response:
                return f"HTTP {response.status}"
        except urllib.error.HTTPError as exc:
            code = exc.code
            raise DeliveryError(f"HTTP {code} from {self.url}",
                                retryable=code in RETRYABLE_STATUS or code >= 500) from None
        except (urllib.error.URLError, OSError) as exc:  # refused, reset, DNS, timeout
            raise DeliveryError(f"{self.url}: {getattr(exc, 'reason', exc)}") from None


plugin = WebhookChannel()
