"""The plugin manager: hook specs, entry-point discovery (the shipped plugins and a fake
third-party distribution), objects from the host, and the dispatcher's isolation of each
hook call (a raising plugin is recorded and logged, never reaches the engine)."""

from __future__ import annotations

import inspect
import logging
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from flowengine import Engine
from flowengine.plugins import hookimpl, hookspecs
from flowengine.plugins.manager import (
    AUTOLOAD_OFF_ENV,
    PluginDispatch,
    entry_points,
    get_plugin_manager,
)
from flowengine.plugins.settings import Settings, SettingsError
from tests.support.plugins import (
    CLERK,
    LEADER,
    PETITION,
    PROCESSES,
    T0,
    RecordingChannel,
    accepted_case,
    make_engine,
    settings,
    through_every_observer_hook,
)

SHIPPED = {"console", "jsonl", "smtp", "webhook", "metrics"}


class Observer:
    """Records every observer hook as (hook, case id, extra)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, object]] = []

    @hookimpl
    def flowengine_case_started(self, case, event):  # type: ignore[no-untyped-def]
        self.seen.append(("started", case.id, event.seq))

    @hookimpl
    def flowengine_transition_applied(self, case, event):  # type: ignore[no-untyped-def]
        self.seen.append(("fired", case.id, event.trigger))

    @hookimpl
    def flowengine_trigger_rejected(self, case, trigger, reasons):  # type: ignore[no-untyped-def]
        self.seen.append(("rejected", case.id, (trigger, reasons[0].check)))

    @hookimpl
    def flowengine_deadline_extended(self, deadline, days, reason):  # type: ignore[no-untyped-def]
        self.seen.append(("extended", deadline, (days, reason)))

    @hookimpl
    def flowengine_deadline_warning(self, deadline):  # type: ignore[no-untyped-def]
        self.seen.append(("warning", deadline, None))

    @hookimpl
    def flowengine_deadline_overdue(self, case, deadline):  # type: ignore[no-untyped-def]
        self.seen.append(("overdue", deadline, case.overdue))

    @hookimpl
    def flowengine_case_closed(self, case, event):  # type: ignore[no-untyped-def]
        self.seen.append(("closed", case.id, event.dest))


class RaisesEverywhere:
    """A plugin that raises in every hook there is."""

    def __init__(self) -> None:
        for name in _hook_names():
            setattr(self, name, hookimpl(specname=name)(_boom()))


def _boom() -> Callable[[], None]:
    """A fresh function each time (the marker is set on the function object)."""

    def boom() -> None:
        raise RuntimeError("plugin bug")

    return boom


def _hook_names() -> list[str]:
    return [n for n, f in inspect.getmembers(hookspecs, inspect.isfunction)
            if n.startswith("flowengine_")]


def test_every_hook_is_documented() -> None:
    names = _hook_names()
    assert {"flowengine_case_started", "flowengine_deliver", "flowengine_case_closed",
            "flowengine_deadline_resumed", "flowengine_trigger_rejected"} <= set(names)
    assert all(inspect.getdoc(getattr(hookspecs, n)) for n in names)


def test_shipped_plugins_load_through_the_entry_point_group() -> None:
    if not SHIPPED <= {ep.name for ep in entry_points()}:
        pytest.skip("flowengine is not installed (pip install -e .)")
    pm = get_plugin_manager(autoload=True)
    assert SHIPPED <= {name for name, _ in pm.list_name_plugin()}


def test_autoload_can_be_switched_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWENGINE_DISABLE_PLUGIN_AUTOLOAD", "1")
    channel = RecordingChannel()
    pm = get_plugin_manager([channel])
    assert [p for _, p in pm.list_name_plugin()] == [channel]


def test_a_third_party_distribution_is_found_and_a_broken_one_is_skipped(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "fe_fake_plugin.py").write_text(
        "from flowengine.plugins import hookimpl\n"
        "@hookimpl\ndef flowengine_channels():\n    return ['fake']\n", encoding="utf-8")
    (tmp_path / "fe_broken_plugin.py").write_text("raise ImportError('half installed')\n")
    info = tmp_path / "fe_fake-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fe-fake\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[flowengine.plugins]\nfake = fe_fake_plugin\nbroken = fe_broken_plugin\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    entry_points.cache_clear()
    try:
        dispatch = PluginDispatch([], autoload=True)
        info_by_name = {i.name: i for i in dispatch.describe()}
    finally:
        entry_points.cache_clear()
        sys.modules.pop("fe_fake_plugin", None)
    assert "fe-fake 1.0" in info_by_name["fake"].source
    assert info_by_name["fake"].channels == ("fake",)
    assert "broken" not in info_by_name
    assert [(e.plugin, e.hook) for e in dispatch.errors] == [("broken", "load")]


def test_host_objects_are_named_and_described() -> None:
    a, b = RecordingChannel("a"), RecordingChannel("b")
    dispatch = PluginDispatch([a, b, settings()], autoload=False)
    infos = dispatch.describe()
    assert [i.name.rsplit(".", 1)[-1] for i in infos] == ["RecordingChannel", "RecordingChannel#2"]
    assert "passed by the host" in infos[0].source and "support/plugins.py" in infos[0].source
    assert dispatch.channels() == {infos[0].name: ["a"], infos[1].name: ["b"]}


def test_observers_see_each_event_after_commit() -> None:
    observer = Observer()
    engine, clock = make_engine(observer, settings())
    case = through_every_observer_hook(engine, clock)
    other = engine.start("standard_case", {**PETITION, "subject": "另一件事"}, actor=CLERK)
    engine.fire(other.id, "redirect", {"redirect_to": "市卫健委"}, actor=CLERK)
    kinds = [s[0] for s in observer.seen]
    assert kinds[:4] == ["started", "fired", "fired", "extended"]
    assert observer.seen[3] == ("extended", "handling", (30, "需要补充调查"))
    assert ("rejected", case.id, ("archive", "state")) in observer.seen
    assert ("warning", "handling", None) in observer.seen
    assert ("overdue", "handling", True) in observer.seen
    assert observer.seen[-1] == ("closed", other.id, "redirected")


class Switchable(Observer):
    observing = False


def test_an_observer_that_is_not_observing_is_skipped_until_configured_on() -> None:
    observer, plain = Switchable(), Observer()
    engine, _ = make_engine(observer, settings())
    engine.plugins.pm.register(plain, name="plain")  # registered later, straight on pluggy
    accepted_case(engine)
    assert observer.seen == [] and [s[0] for s in plain.seen][:2] == ["started", "fired"]
    observer.observing = True
    engine.plugins.configure(settings())  # the attribute is read again after configure
    accepted_case(engine)
    assert [s[0] for s in observer.seen][:2] == ["started", "fired"]


def test_an_engine_nobody_observes_tells_those_who_come_later() -> None:
    engine, _ = make_engine()
    engine.plugins = PluginDispatch([settings()], store=engine.store, clock=engine.clock,
                                    autoload=False)  # no entry point observes either
    assert engine.plugins.quiet()  # nothing to tell: the commit skips the dispatch
    accepted_case(engine)
    plain = Observer()
    engine.plugins.pm.register(plain, name="plain")  # straight on pluggy, after commits
    assert not engine.plugins.quiet()
    case = accepted_case(engine)
    assert [s[:2] for s in plain.seen] == [("started", case.id), ("fired", case.id)]
    engine.plugins.pm.unregister(plain)
    assert engine.plugins.quiet()
    engine.plugins.configure(settings(immediate=True))  # read at every commit
    assert not engine.plugins.quiet()


def test_a_plugin_raising_in_every_hook_changes_nothing(caplog: pytest.LogCaptureFixture) -> None:
    observer, channel = Observer(), RecordingChannel()
    caplog.set_level(logging.WARNING, logger="flowengine.plugins")
    engine, clock = make_engine(RaisesEverywhere(), observer, channel, settings())
    case = through_every_observer_hook(engine, clock, refused_by=LEADER)
    engine.plugins.deliver_due()
    assert [e.seq for e in engine.history(case.id)] == [1, 2, 3, 4, 5]
    assert engine.case(case.id).overdue
    assert len(observer.seen) >= 6  # the other plugins were still called
    assert {n.id for n in channel.delivered} == {r.id for r in engine.store.outbox()}
    hooks = {e.hook for e in engine.plugins.errors}
    assert {"flowengine_configure", "flowengine_case_started", "flowengine_transition_applied",
            "flowengine_trigger_rejected", "flowengine_deadline_extended",
            "flowengine_deadline_overdue", "flowengine_channels"} <= hooks
    assert all(e.plugin.endswith("RaisesEverywhere") for e in engine.plugins.errors)
    assert "RuntimeError: plugin bug" in caplog.text and f"case {case.id}" in caplog.text


class ExitsWhenObserving:
    """An observer whose every hook raises `raised` (SystemExit, KeyboardInterrupt)."""

    def __init__(self, raised: BaseException) -> None:
        def bail(*_: object) -> None:
            raise raised

        for name in ("flowengine_case_started", "flowengine_transition_applied"):
            setattr(self, name, hookimpl(specname=name)(lambda case, event: bail()))


@pytest.mark.parametrize("raised", [SystemExit(3), KeyboardInterrupt()],
                         ids=["SystemExit", "KeyboardInterrupt"])
def test_an_observer_raising_systemexit_or_keyboardinterrupt_is_contained(
        raised: BaseException) -> None:
    observer = Observer()
    engine, _ = make_engine(ExitsWhenObserving(raised), observer, settings())
    case = engine.start("standard_case", PETITION, actor=CLERK)
    engine.fire(case.id, "accept", actor=CLERK)
    assert engine.case(case.id).state == "accepted"  # committed, and the call returned
    assert [s[0] for s in observer.seen][:2] == ["started", "fired"]  # others still told
    errors = [e for e in engine.plugins.errors if e.plugin.endswith("ExitsWhenObserving")]
    assert [e.hook for e in errors] == ["flowengine_case_started",
                                        "flowengine_transition_applied"]
    assert errors[0].error.startswith(type(raised).__name__)


def test_a_settings_object_among_the_plugins_configures_and_is_not_registered() -> None:
    ours = settings(max_attempts=3)
    engine, _ = make_engine(ours)
    assert engine.plugins.settings is ours
    assert all(p is not ours for _, p in engine.plugins.pm.list_name_plugin())


# -- when the entry points are loaded -----------------------------------------------------

@pytest.fixture
def fake_distribution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A third-party distribution with a working plugin (`fake`) and a broken one."""
    (tmp_path / "fe_lazy_plugin.py").write_text(
        "from flowengine.plugins import hookimpl\n"
        "@hookimpl\ndef flowengine_channels():\n    return ['lazy']\n", encoding="utf-8")
    (tmp_path / "fe_lazy_broken.py").write_text("raise ImportError('half installed')\n")
    info = tmp_path / "fe_lazy-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fe-lazy\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[flowengine.plugins]\nlazy = fe_lazy_plugin\nlazy_broken = fe_lazy_broken\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv(AUTOLOAD_OFF_ENV, raising=False)
    entry_points.cache_clear()
    try:
        yield
    finally:
        entry_points.cache_clear()
        sys.modules.pop("fe_lazy_plugin", None)


@pytest.mark.usefixtures("fake_distribution")
def test_entry_points_load_at_the_first_write_not_when_the_engine_is_made(
        caplog: pytest.LogCaptureFixture) -> None:
    """Making an engine (a command that only reads cases) imports no entry-point plugin;
    the first write loads them before its append, with the broken one logged and kept in
    `errors` exactly as when they were loaded at start."""
    engine = Engine(processes=[PROCESSES])
    assert "fe_lazy_plugin" not in sys.modules
    with caplog.at_level(logging.WARNING, logger="flowengine.plugins"):
        engine.start("standard_case", PETITION, actor=CLERK)
    assert "fe_lazy_plugin" in sys.modules
    assert [(e.plugin, e.hook) for e in engine.plugins.errors] == [("lazy_broken", "load")]
    assert "plugin lazy_broken failed in load: ImportError: half installed" in caplog.text
    assert engine.plugins.channels()["lazy"] == ["lazy"]


@pytest.mark.usefixtures("fake_distribution")
def test_a_delivery_pass_or_asking_for_errors_loads_the_entry_points(
        caplog: pytest.LogCaptureFixture) -> None:
    """`deliver_due` (tick, worker, notifications deliver) and `errors` load the plugins
    even when nothing was written or is due, so a broken plugin is reported there as before."""
    engine = Engine(processes=[PROCESSES])
    with caplog.at_level(logging.WARNING, logger="flowengine.plugins"):
        engine.plugins.deliver_due(T0)
    assert "fe_lazy_plugin" in sys.modules
    assert "plugin lazy_broken failed in load" in caplog.text
    sys.modules.pop("fe_lazy_plugin")
    dispatch = PluginDispatch([])
    assert "fe_lazy_plugin" not in sys.modules
    assert [(e.plugin, e.hook) for e in dispatch.errors] == [("lazy_broken", "load")]
    assert "fe_lazy_plugin" in sys.modules


def test_settings_a_plugin_refuses_stop_the_first_write_before_anything_is_stored(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A plugin's `flowengine_configure` refusing the host's settings (a webhook host not in
    `allowed_hosts`) fails the first command that dispatches, and every later one, before
    the append: no case is stored."""
    monkeypatch.delenv(AUTOLOAD_OFF_ENV, raising=False)
    refused = Settings.from_mapping({"webhook": {"url": "http://127.0.0.1:9/hook",
                                                 "allowed_hosts": ["oa.example.gov.cn"]}},
                                    source="notify.toml")
    engine = Engine(processes=[PROCESSES], plugins=[refused])
    for _ in range(2):
        with pytest.raises(SettingsError, match=r"notify.toml: \[webhook\] url: the host "):
            engine.start("standard_case", PETITION, actor=CLERK)
    assert engine.cases() == []
