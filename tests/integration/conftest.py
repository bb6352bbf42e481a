"""A real PostgreSQL server for the integration tests: `pg_url` gives each test a fresh
schema (an empty namespace) on a throwaway server this session starts on 127.0.0.1 (a free
port, a temp dir).

The server binaries (initdb, pg_ctl) are found on PATH or under /usr/lib/postgresql/*/bin
(Debian's layout; `.ci/install-postgres.sh` installs them). PostgreSQL refuses to run as
root, so when the tests run as root the server runs as an unprivileged user (created with
`useradd` if missing). Without the binaries the PostgreSQL tests skip with a message saying
how to get them, except under CI (`CI` set), where a silent skip would hide that the
PostgreSQL half of the suite never ran: there they fail.

`PgServer` is also used by bench/bench_persist.py and bench/bench_tick.py.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

PG_USER = "flowengine-pg"


def find_pg_bin() -> Path | None:
    """The directory holding initdb and pg_ctl, newest version first."""
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return Path(os.path.realpath(on_path)).parent
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
                   key=lambda p: int(Path(p).parent.parent.name), reverse=True)
    return Path(found[0]).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _server_user() -> tuple[int, int] | None:
    """(uid, gid) to run the server as, or None when we are not root."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(PG_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/bin/false",
                        PG_USER], check=True, capture_output=True)
        entry = pwd.getpwnam(PG_USER)
    return entry.pw_uid, entry.pw_gid


class PgServer:
    """initdb + pg_ctl start in a temp dir; `stop()` removes everything.

    `durable=False` (tests) turns fsync off: the tests check logic, not disks.
    """

    def __init__(self, bindir: Path, durable: bool = False) -> None:
        self.bindir = bindir
        self.port = _free_port()
        self.root = Path(tempfile.mkdtemp(prefix="flowengine-pg-"))
        self.data = self.root / "data"
        self.user = _server_user()
        if self.user is not None:
            os.chown(self.root, *self.user)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
                  "-E", "UTF8", "--locale=C", "--no-sync")
        opts = f"-p {self.port} -h 127.0.0.1 -k {self.root} -c max_connections=200"
        if not durable:
            opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "log"), "-o", opts,
                  "-w", "-t", "60", "start")

    def _run(self, tool: str, *args: str) -> None:
        uid_gid = self.user or (None, None)
        result = subprocess.run([str(self.bindir / tool), *args], capture_output=True,
                                text=True, user=uid_gid[0], group=uid_gid[1], cwd=self.root)
        if result.returncode != 0:
            log = self.root / "log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise RuntimeError(f"{tool} failed: {result.stderr or result.stdout}\n{tail}")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def fresh_url(self) -> str:
        """An empty namespace of its own: a new schema, first on the URL's search_path
        (a CREATE SCHEMA takes milliseconds where a CREATE DATABASE takes a second)."""
        import psycopg

        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres",
                             autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{name}"')
        return f"{self.url()}?options=-csearch_path%3D{name}"

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def _unavailable(why: str) -> None:
    message = (f"PostgreSQL tests need a server: {why}. Install it with "
               f"`sudo bash .ci/install-postgres.sh` (Debian's postgresql package).")
    if os.environ.get("CI"):
        pytest.fail(f"{message} CI must run them, not skip them.", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    bindir = find_pg_bin()
    if bindir is None:
        _unavailable("no initdb/pg_ctl on PATH or under /usr/lib/postgresql/*/bin")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _unavailable("the psycopg driver is not installed (pip install -e '.[postgres]')")
    assert bindir is not None
    server = PgServer(bindir)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_url(pg_server: PgServer) -> str:
    """A fresh, empty schema on the session's PostgreSQL server."""
    return pg_server.fresh_url()
