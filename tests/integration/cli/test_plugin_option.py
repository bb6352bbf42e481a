"""`--plugin MODULE:OBJECT` imports the object and hands it to the engine as a plugin."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from .conftest import Cli

PLUGIN = '''
from pathlib import Path
from flowengine.plugins import hookimpl

class Recorder:
    @hookimpl
    def flowengine_case_started(self, case, event):
        Path("started.txt").write_text(case.id, encoding="utf-8")

plugin = Recorder()
'''


def test_a_plugin_object_hears_the_case_start(cli: Cli, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "my_recorder.py").write_text(PLUGIN, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    case_id = cli.start("--plugin", "my_recorder:plugin")
    assert (tmp_path / "started.txt").read_text(encoding="utf-8") == case_id
    sys.modules.pop("my_recorder", None)
