"""Recipients resolved from the case and the address book; the settings file."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from flowengine import Actor, Case
from flowengine.plugins.recipients import resolve
from flowengine.plugins.settings import RecipientBook, Settings, SettingsError
from tests.support.plugins import T0

BOOK = RecipientBook(roles={"supervisor": ("duban@example.gov.cn",),
                            "owner_leader": ("leader@example.gov.cn",)},
                     people={"王芳": ("wangfang@example.gov.cn",),
                             "市卫健委": ("weijian@example.gov.cn",)})


def _case(**data: object) -> Case:
    return Case(id="C1", process_id="p", digest="d", state="s", data=dict(data),
                owner=Actor("王芳", "clerk"), created_at=T0)


def test_each_kind_of_entry_resolves() -> None:
    case = _case(petitioner="张三", contact="13800000000", email="zs@example.com",
                 supervising_unit="市卫健委", handler_mail="h@example.com")
    got = resolve(["petitioner", "owner", "supervisor", "owner_leader", "field:supervising_unit",
                   "field:handler_mail", "field:missing", "bureau"], case, BOOK)
    assert [(r.entry, r.name, r.addresses) for r in got] == [
        ("petitioner", "张三", ("zs@example.com", "13800000000")),
        ("owner", "王芳", ("wangfang@example.gov.cn",)),
        ("supervisor", "supervisor", ("duban@example.gov.cn",)),
        ("owner_leader", "owner_leader", ("leader@example.gov.cn",)),
        ("field:supervising_unit", "市卫健委", ("weijian@example.gov.cn",)),
        ("field:handler_mail", None, ("h@example.com",)),
        ("field:missing", None, ()),
        ("bureau", "bureau", ()),
    ]


def test_a_missing_case_still_gives_one_recipient_per_entry() -> None:
    assert [r.addresses for r in resolve(["petitioner", "supervisor"], None, BOOK)] == [
        (), ("duban@example.gov.cn",)]


def test_settings_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "notify.toml"
    path.write_text(
        '[delivery]\nmax_attempts = 5\nbackoff_seconds = 30\nimmediate = true\n'
        'default_channels = "email"\n'
        '[recipients]\ncontact_fields = ["mail"]\n[recipients.roles]\nsupervisor = "d@x.cn"\n'
        '[smtp]\nhost = "127.0.0.1"\n', encoding="utf-8")
    monkeypatch.setenv("FLOWENGINE_NOTIFY_CONFIG", str(path))
    s = Settings.load()
    assert (s.delivery.max_attempts, s.delivery.backoff, s.delivery.immediate) == (
        5, timedelta(seconds=30), True)
    assert s.delivery.default_channels == ("email",)
    assert s.recipients.contact_fields == ("mail",)
    assert s.recipients.roles == {"supervisor": ("d@x.cn",)}
    assert s.section("smtp") == {"host": "127.0.0.1"} and s.section("webhook") == {}
    assert s.source == str(path)


def test_no_file_means_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLOWENGINE_NOTIFY_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    assert Settings.load() == Settings()


@pytest.mark.parametrize("text, message", [
    ("[delivery]\nmax_attempts = 0\n", "max_attempts must be a whole number ≥ 1"),
    ("[delivery]\ntimeout_seconds = 'soon'\n", "timeout_seconds must be a finite number"),
    ("[recipients.roles]\nsupervisor = 3\n", "roles.supervisor must be a string or a list"),
    ("[delivery\n", "cannot read delivery settings"),
])
def test_bad_settings_name_the_file_and_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SettingsError, match=message) as info:
        Settings.load(path)
    assert str(path) in str(info.value) and info.value.exit_code == 2
