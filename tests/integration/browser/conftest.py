"""A real headless Chromium (Debian's `chromium`, driven through the system's
`/usr/bin/chromedriver` by Selenium; no driver is ever downloaded) for the HTML pages,
and a small store with cases whose numbers the tests compare with the JSON report.

Without chromium the tests skip with a message saying how to get it, except under CI
(`CI` set), where a skip would hide that the pages were never opened in a browser.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from flowengine import Actor, Engine, SimulatedClock
from tests.support import audit as support  # the audit tests' case walks, shared

ROOT = Path(__file__).resolve().parents[3]

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
A4_POINTS = (595.0, 842.0)
INJECTED = "<script>alert('x')</script>"


def _unavailable(why: str) -> None:
    message = (f"browser tests need Debian's chromium: {why}. Install it with "
               f"`sudo bash .ci/install-chromium.sh` (chromium, chromium-driver, fonts-noto-cjk).")
    if os.environ.get("CI"):
        pytest.fail(f"{message} CI must run them, not skip them.", pytrace=False)
    pytest.skip(message)


@dataclass
class Loaded:
    """A page as the browser saw it: console messages and every URL it asked for."""

    console: list[dict[str, Any]]
    requests: list[str]


class Browser:
    def __init__(self, driver: Any) -> None:
        self.driver = driver

    def open(self, path: Path) -> Loaded:
        self.driver.get_log("browser")
        self.driver.get_log("performance")
        self.driver.get(path.resolve().as_uri())
        messages = [json.loads(e["message"])["message"] for e in self.driver.get_log("performance")]
        urls = [m["params"]["request"]["url"] for m in messages
                if m["method"] == "Network.requestWillBeSent"]
        return Loaded(self.driver.get_log("browser"), urls)

    def js(self, script: str) -> Any:
        return self.driver.execute_script(script)

    def screenshot(self, path: Path) -> None:
        height = int(self.js("return document.documentElement.scrollHeight"))
        self.driver.set_window_size(1000, min(height + 40, 8000))
        assert self.driver.save_screenshot(str(path))

    def pdf(self) -> bytes:
        doc = self.driver.execute_cdp_cmd("Page.printToPDF", {"preferCSSPageSize": True,
                                                              "printBackground": True})
        return base64.b64decode(doc["data"])


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            _unavailable(f"{path} is missing")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _unavailable("the selenium package is missing (pip install -e '.[dev]')")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1000,1400"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield Browser(driver)
    finally:
        driver.quit()


@dataclass
class Store:
    url: str
    ids: dict[str, str]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """A: walked to archived in March (on time); B (petitioner named like a script):
    closed in April, unsatisfied, 6 days a step; F (received by an actor named like a
    script) accepted in July and left until its handling deadline passed."""
    url = f"sqlite:///{tmp_path_factory.mktemp('html') / 'cases.db'}"
    clock = SimulatedClock(support.at("2026-03-02T09:00:00"))
    engine = Engine(url, processes=[support.PROCESSES], clock=clock)
    a = support.walk_standard(engine, clock, petitioner="甲")
    clock.set(support.at("2026-04-06T09:00:00"))
    b = support.walk_standard(engine, clock, petitioner=INJECTED, opinion="unsatisfied", filed=False,
                      archive=False, step=timedelta(days=6))
    clock.set(support.at("2026-07-01T09:00:00"))
    f = engine.start("standard_case", {"petitioner": "丙", "subject": "拖欠工资",
                                       "channel": "visit"}, actor=Actor(INJECTED, "clerk"))
    engine.fire(f.id, "accept", actor=support.CLERK)
    clock.set(support.at("2026-10-01T09:00:00"))
    engine.tick()
    return Store(url, {"A": a.id, "B": b.id, "F": f.id})


def no_dot(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """PATH without Graphviz, so the page says the diagram is left out."""
    if shutil.which("dot"):
        monkeypatch.setenv("PATH", str(tmp_path))
