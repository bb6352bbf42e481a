"""The delivery settings are checked against notify-settings.schema.json when loaded
(issue 14, item 6): NaN, infinite or unbounded numbers, an unknown SMTP security mode, a
misspelt key or a non-http webhook URL fail at start-up, naming the file and the key."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from flowengine.plugins.settings import DeliveryPolicy, Settings, SettingsError


@pytest.mark.parametrize(("toml", "message"), [
    ("[delivery]\ntimeout_seconds = nan\n",
     "[delivery] timeout_seconds must be a finite number > 0 and ≤ 3600, not nan"),
    ("[delivery]\nbackoff_seconds = inf\n",
     "[delivery] backoff_seconds must be a finite number ≥ 0 and ≤ 604800, not inf"),
    ("[delivery]\nbackoff_factor = -inf\n",
     "[delivery] backoff_factor must be a finite number ≥ 1 and ≤ 10, not -inf"),
    ("[delivery]\nbackoff_max_seconds = 1e300\n",
     "[delivery] backoff_max_seconds must be a finite number ≥ 0 and ≤ 2592000, not 1e+300"),
    ("[delivery]\nmax_attempts = 1.5\n",
     "[delivery] max_attempts must be a whole number ≥ 1 and ≤ 1000, not 1.5"),
    ("[smtp]\nsecurity = \"tls\"\n",
     "[smtp] security must be one of starttls, ssl, none, not 'tls'"),
    ("[smtp]\ntimeout_seconds = nan\n",
     "[smtp] timeout_seconds must be a finite number > 0 and ≤ 3600, not nan"),
    ("[smtp]\nport = 70000\n", "[smtp] port must be a whole number ≥ 1 and ≤ 65535, not 70000"),
    ("[smtp]\ntimout_seconds = 3\n",
     "unknown key timout_seconds in [smtp] (did you mean 'timeout_seconds'?)"),
    ("[webhook]\nurl = \"file:///etc/passwd\"\n",
     "[webhook] url must be an http:// or https:// URL, not 'file:///etc/passwd'"),
    ("[webhook]\nurl = \"https://oa.example.gov.cn/h\"\ntimeout_seconds = inf\n",
     "[webhook] timeout_seconds must be a finite number > 0 and ≤ 3600, not inf"),
    ("delivery = 3\n", "[delivery] must be a table, not 3"),
])
def test_a_bad_settings_file_names_the_file_and_the_key(tmp_path: Path, toml: str,
                                                        message: str) -> None:
    path = tmp_path / "notify.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(SettingsError, match=re.escape(f"{path}: {message}")):
        Settings.load(path)


def test_every_problem_is_listed_and_third_party_tables_pass() -> None:
    with pytest.raises(SettingsError) as err:
        Settings.from_mapping({"delivery": {"timeout_seconds": float("nan"),
                                            "max_attempts": 0}}, source="n.toml")
    assert str(err.value).splitlines() == [
        "n.toml: [delivery] max_attempts must be a whole number ≥ 1 and ≤ 1000, not 0",
        "n.toml: [delivery] timeout_seconds must be a finite number > 0 and ≤ 3600, not nan"]
    assert Settings.from_mapping({"sms": {"gateway": "x"}}).section("sms") == {"gateway": "x"}


def test_the_largest_back_off_never_overflows() -> None:
    policy = DeliveryPolicy(backoff_factor=10.0, backoff_max=timedelta(days=30))
    assert policy.delay(1000) == timedelta(days=30)
