"""E-mail over TLS against a real aiosmtpd server: STARTTLS (with login, credentials read
from the environment variables the settings name) and implicit TLS ("ssl"), trusting a
self-signed certificate made for 127.0.0.1 by the openssl command."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from flowengine_smtp import SmtpChannel

from flowengine.plugins.settings import Settings
from tests.support.delivery_servers import Mailbox, free_port
from tests.support.plugins import accepted_case, make_engine

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


def _server_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


def _only_user(server: Any, session: Any, envelope: Any, mechanism: str,
               auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        b"xinfang", b"s3cret")
    return AuthResult(success=ok)


@pytest.fixture
def starttls_server(certificate: tuple[Path, Path]) -> Iterator[tuple[int, Mailbox]]:
    mailbox, port = Mailbox(), free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port,
                            tls_context=_server_context(*certificate), require_starttls=True,
                            authenticator=_only_user, auth_require_tls=True)
    controller.start()
    yield port, mailbox
    controller.stop()


def test_starttls_with_login_from_the_environment(
        starttls_server: tuple[int, Mailbox], certificate: tuple[Path, Path],
        monkeypatch: pytest.MonkeyPatch) -> None:
    port, mailbox = starttls_server
    monkeypatch.setenv("OFFICE_SMTP_USER", "xinfang")
    monkeypatch.setenv("OFFICE_SMTP_PASSWORD", "s3cret")
    settings = Settings.from_mapping({"smtp": {
        "host": "127.0.0.1", "port": port, "security": "starttls", "sender": "xf@example.gov.cn",
        "cafile": str(certificate[0]), "username_env": "OFFICE_SMTP_USER",
        "password_env": "OFFICE_SMTP_PASSWORD", "timeout_seconds": 5}})
    engine, _ = make_engine(SmtpChannel(), settings)
    case = accepted_case(engine)
    assert engine.plugins.deliver_due().delivered == [f"{case.id}:2:0:email"]
    assert [rcpt for rcpt, _ in mailbox.messages] == [["zhangsan@example.com"]]



def test_implicit_tls(certificate: tuple[Path, Path]) -> None:
    mailbox, port = Mailbox(), free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port,
                            ssl_context=_server_context(*certificate))
    controller.start()
    try:
        channel = SmtpChannel("127.0.0.1", port, security="ssl", sender="xf@example.gov.cn",
                              cafile=str(certificate[0]), timeout=5)
        engine, _ = make_engine(channel, Settings())
        accepted_case(engine)
        assert len(engine.plugins.deliver_due().delivered) == 1
        assert len(mailbox.messages) == 1
    finally:
        controller.stop()
