"""Fixtures for the delivery tests: real servers on 127.0.0.1 (see delivery_servers.py).

The helpers shared with the unit tests live in `tests.support`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.delivery_servers import SmtpServer, WebhookReceiver


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    yield server
    server.stop()


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()
