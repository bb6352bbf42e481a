"""A password in a database URL never reaches the terminal: every command that fails to use
`postgresql+psycopg://user:s3cret@…` names the URL with the password masked."""

from __future__ import annotations

import pytest

from .conftest import Cli

SECRET = "s3cret"
URLS = [f"postgresql+psycopg://user:{SECRET}@127.0.0.1:1/x",  # nothing listens on port 1
        f"postgresql+psycopg://user:{SECRET}@127.0.0.1:notaport/x",  # not even a URL
        f"nosuchdb://user:{SECRET}@127.0.0.1/x"]  # no such dialect
COMMANDS = [["audit", "verify"], ["replay", "C1"], ["export", "C1"], ["report"],
            ["case", "show", "C1"], ["case", "list"], ["case", "start", "standard_case"],
            ["case", "fire", "C1", "accept"], ["tick"], ["notifications", "list"],
            ["db", "current"], ["db", "upgrade"]]


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_the_password_is_masked_in_every_message(cli: Cli, command: list[str],
                                                 url: str) -> None:
    r = cli(*command, "--db", url)
    assert r.code == 2, r
    assert SECRET not in r.stdout + r.stderr
    assert "user:***@" in r.stderr or "://***@" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr
