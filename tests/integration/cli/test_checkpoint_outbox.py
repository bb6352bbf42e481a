"""A checkpoint covers the outbox rows of the events it covers (format 3), so a deleted row
of a case's first or last notice that names no channel, which `audit verify` alone cannot
tell from a change of the default channels, is named by `verify --checkpoint` with its
case and the log index of the event that asked for the notice (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.sql import run_sql
from tests.support.tamper import build_cases

from .conftest import Cli


def _checkpointed(cli: Cli, url: str) -> tuple[list[str], Path, Callable[..., Any]]:
    """Two cases whose notices went to the default channels sms and mail, a checkpoint."""
    ids = build_cases(url, ("甲", "乙"), channels=("sms", "mail"))
    env = {"FLOWENGINE_DB": url}
    cp = cli.folder / "cp.txt"
    assert cli("audit", "checkpoint", "-o", str(cp), env=env).code == 0

    def verify(*extra: str) -> Any:
        return cli("audit", "verify", *extra, "--json", env=env)
    return ids, cp, verify


def _free_notices(url: str, case_id: str) -> list[int]:
    """The events whose notices name no channel (each has an sms and a mail row)."""
    rows = run_sql(url, "SELECT seq, channel, payload FROM outbox WHERE case_id = :c "
                "ORDER BY seq, id", c=case_id)
    assert rows and all('"channel":null' in payload for _, _, payload in rows)
    return sorted({seq for seq, _, _ in rows})


@pytest.mark.parametrize("which", ["first", "last"])
def test_a_deleted_row_of_a_first_or_last_notice_is_named_under_a_checkpoint(
        cli: Cli, which: str) -> None:
    _deleted_row_named(cli, cli.url, which)


@pytest.mark.postgres
@pytest.mark.parametrize("which", ["first", "last"])
def test_a_deleted_row_of_a_first_or_last_notice_is_named_on_postgresql(
        cli: Cli, pg_url: str, which: str) -> None:
    _deleted_row_named(cli, pg_url, which)


def _deleted_row_named(cli: Cli, url: str, which: str) -> None:
    ids, cp, verify = _checkpointed(cli, url)
    assert verify("--checkpoint", str(cp)).code == 0
    seqs = _free_notices(url, ids[1])
    seq = seqs[0] if which == "first" else seqs[-1]
    assert run_sql(url, "DELETE FROM outbox WHERE case_id = :c AND seq = :s AND channel = 'sms'",
                c=ids[1], s=seq) == [1]
    assert verify().code == 0  # the blind spot: no other notice tells sms was a default
    r = verify("--checkpoint", str(cp))
    assert r.code == 1 and "Traceback" not in r.stderr, r
    [finding] = r.json()["checkpoint"]["findings"]
    (index,) = run_sql(url, "SELECT log_index FROM events WHERE case_id = :c AND seq = :s",
                    c=ids[1], s=seq)[0]
    assert (finding["index"], finding["case"]) == (index, ids[1])
    assert f"event {seq}: its outbox rows are not those the checkpoint covers (2 then, 1 now)" \
        in finding["why"]


def test_rows_of_later_events_and_deliveries_are_no_finding(cli: Cli) -> None:
    """What may change after a checkpoint: new events' rows, a row's delivery state."""
    ids, cp, verify = _checkpointed(cli, cli.url)
    run_sql(cli.url, "UPDATE outbox SET status = 'delivered', attempts = 1, "
         "delivered_at = created_at")
    cli.start(at="2026-03-20T09:00")
    r = verify("--checkpoint", str(cp))
    assert r.code == 0 and r.json()["checkpoint"]["extended"] is True, r


def test_a_rewritten_or_added_row_is_named_too(cli: Cli) -> None:
    ids, cp, verify = _checkpointed(cli, cli.url)
    seq = _free_notices(cli.url, ids[0])[0]
    run_sql(cli.url, "UPDATE outbox SET channel = 'fax', id = substr(id, 1, length(id) - 3) "
         "|| 'fax' WHERE case_id = :c AND seq = :s AND channel = 'sms'", c=ids[0], s=seq)
    r = verify("--checkpoint", str(cp))
    assert r.code == 1
    assert [(f["case"], f"event {seq}:" in f["why"]) for f in
            r.json()["checkpoint"]["findings"]] == [(ids[0], True)]


def test_an_edited_outbox_block_is_refused(cli: Cli) -> None:
    """The block is under the signed `outbox` digest (line 7): a row taken out of the file
    to hide its deletion is refused, naming the file and line."""
    ids, cp, verify = _checkpointed(cli, cli.url)
    lines = cp.read_text().split("\n")
    block = [n for n, line in enumerate(lines) if not line][2] + 1  # after heads, leaves
    case, *rows = lines[block].split(" ")
    lines[block] = " ".join([case, *rows[1:]])
    cp.write_text("\n".join(lines))
    r = verify("--checkpoint", str(cp))
    assert r.code == 1 and f"{cp}: line 7: the outbox rows below do not match their digest" \
        in r.stderr, r
