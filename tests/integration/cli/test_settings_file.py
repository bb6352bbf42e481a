"""A bad delivery settings file stops every command at start-up (exit 2), naming the file
and the key, instead of crashing or retrying for ever once a notification is due."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import Cli


@pytest.mark.parametrize(("toml", "names"), [
    ("[delivery]\ntimeout_seconds = nan\n", "[delivery] timeout_seconds must be a finite"),
    ("[delivery]\nbackoff_factor = inf\n", "[delivery] backoff_factor must be a finite"),
    ("[smtp]\nhost = \"127.0.0.1\"\nsender = \"a@b.cn\"\nsecurity = \"tls\"\n",
     "[smtp] security must be one of starttls, ssl, none"),
    ("[webhook]\nurl = \"data:text/plain,x\"\n", "[webhook] url must be an http:// or https://"),
])
def test_a_bad_settings_file_fails_at_start_up_naming_file_and_key(
        cli: Cli, tmp_path: Path, toml: str, names: str) -> None:
    path = tmp_path / "flowengine-notify.toml"
    path.write_text(toml, encoding="utf-8")
    for args in (("case", "start", "standard_case", "--set", "petitioner=张三", "--set",
                  "subject=噪音", "--actor", "王芳", "--role", "clerk"),
                 ("notifications", "deliver")):
        r = cli(*args, env={"FLOWENGINE_NOTIFY_CONFIG": str(path)})
        assert r.code == 2 and r.stdout == ""
        assert f"{path}: {names}" in r.stderr and "Traceback" not in r.stderr
