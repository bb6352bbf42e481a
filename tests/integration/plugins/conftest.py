"""Fixtures for the delivery tests: real servers on 127.0.0.1 (see delivery_servers.py).

The unit helpers (`plugin_support`) are shared by putting their folder on sys.path.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "unit" / "plugins"))

from delivery_servers import SmtpServer, WebhookReceiver  # noqa: E402


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
