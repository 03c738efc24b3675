"""The reports and the Dagster UI in a real headless Chromium, driven over the DevTools protocol.

Debian's `chromium` (installed by `make browser`, a prerequisite of `make test`) is started
with a fresh profile; the test speaks CDP over a websocket (the `websockets` package), so no
browser download and no Playwright driver are needed. A missing browser fails the test rather
than skipping it, so CI cannot pass without having looked at a page.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import ClientConnection, connect

from dvcc_pipeline.config import REPO_ROOT

pytestmark = pytest.mark.slow

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url: str, timeout: float) -> bytes:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.read()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


class Page:
    """One browser tab over CDP: navigate, collect console errors and requests, screenshot."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.ids = itertools.count(1)
        self.events: list[dict[str, Any]] = []

    def send(self, method: str, params: dict[str, Any] | None = None, timeout: float = 60) -> dict[str, Any]:
        msg_id = next(self.ids)
        self.ws.send(json.dumps({"id": msg_id, "method": method, "params": params or {}}))
        deadline = time.monotonic() + timeout
        while True:
            message = json.loads(self.ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if message.get("id") == msg_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def wait_for(self, event: str, timeout: float = 60) -> None:
        if any(e.get("method") == event for e in self.events):
            return
        deadline = time.monotonic() + timeout
        while True:
            message = json.loads(self.ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            self.events.append(message)
            if message.get("method") == event:
                return

    def goto(self, url: str) -> None:
        self.events.clear()
        self.send("Page.navigate", {"url": url})
        self.wait_for("Page.loadEventFired")

    def evaluate(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        return result["result"].get("value")

    def wait_until(self, expression: str, timeout: float = 90, hold: float = 0) -> bool:
        """True once `expression` has stayed true for `hold` seconds; False if that never happens in time."""
        deadline = time.monotonic() + timeout
        since: float | None = None
        while time.monotonic() < deadline:
            if not self.evaluate(expression):
                since = None
            elif since is None:
                since = time.monotonic()
            if since is not None and time.monotonic() - since >= hold:
                return True
            time.sleep(0.5)
        return False

    def screenshot(self, path: Path, full_page: bool = True) -> None:
        params: dict[str, Any] = {"format": "png", "captureBeyondViewport": full_page}
        if full_page:
            size = self.send("Page.getLayoutMetrics")["cssContentSize"]
            params["clip"] = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
        data = self.send("Page.captureScreenshot", params)["data"]
        path.write_bytes(base64.b64decode(data))

    def console_errors(self) -> list[str]:
        errors = []
        for e in self.events:
            method, params = e.get("method"), e.get("params", {})
            if method == "Runtime.exceptionThrown":
                errors.append(json.dumps(params["exceptionDetails"])[:300])
            elif method == "Runtime.consoleAPICalled" and params.get("type") in {"error", "assert"}:
                errors.append(json.dumps(params.get("args"))[:300])
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                errors.append(params["entry"].get("text", ""))
        return errors

    def requested_urls(self) -> list[str]:
        return [e["params"]["request"]["url"] for e in self.events if e.get("method") == "Network.requestWillBeSent"]


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Page]:
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    assert executable, "Chromium ontbreekt: draai `make browser` (apt-get install -y chromium)"
    port = _free_port()
    profile = tmp_path_factory.mktemp("chromium-profile")
    process = subprocess.Popen(
        [
            executable,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            f"--remote-debugging-port={port}",
            "--window-size=1100,900",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        targets = json.loads(_wait_http(f"http://127.0.0.1:{port}/json/list", timeout=60))
        page_ws = next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")
        with connect(page_ws, max_size=None, proxy=None, open_timeout=30) as ws:
            page = Page(ws)
            for domain in ("Page", "Runtime", "Log", "Network"):
                page.send(f"{domain}.enable")
            page.send(
                "Emulation.setDeviceMetricsOverride",
                {"width": 1100, "height": 900, "deviceScaleFactor": 1, "mobile": False},
            )
            yield page
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="module")
def reports_home(demo_home: Path) -> Path:
    result = subprocess.run(
        [str(Path(sys.executable).with_name("dvcc")), "report"],
        env={**os.environ, "DVCC_HOME": str(demo_home)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return demo_home


def test_report_opens_offline_without_errors(browser: Page, reports_home: Path, tmp_path: Path) -> None:
    index = reports_home / "reports" / "index.html"
    browser.goto(index.as_uri())
    links = browser.evaluate("Array.from(document.querySelectorAll('a[href$=\".html\"]')).map(a => a.href)")
    basisteam_link = next(link for link in links if "/basisteam-" in link)

    browser.goto(basisteam_link)
    assert browser.evaluate("document.documentElement.lang") == "nl"
    assert browser.evaluate("document.querySelectorAll('section svg').length") >= 3
    assert browser.evaluate("document.body.innerText").count("Kerncijfers") >= 1
    assert browser.console_errors() == []
    assert [u for u in browser.requested_urls() if not u.startswith("file://")] == []
    assert browser.requested_urls() == [basisteam_link], "het rapport haalt niets anders op dan zichzelf"

    shot = tmp_path / "rapport.png"
    browser.screenshot(shot)
    assert shot.stat().st_size > 20_000
    if os.environ.get("DVCC_UPDATE_SCREENSHOTS"):
        shutil.copy(shot, REPO_ROOT / "docs" / "rapport_basisteam.png")


@pytest.fixture(scope="module")
def dagster_ui(reports_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = _free_port()
    log = tmp_path_factory.mktemp("dagster-ui") / "webserver.log"
    env = {**os.environ, "DVCC_HOME": str(reports_home), "DAGSTER_HOME": str(reports_home / "dagster")}
    # the instance config `dvcc ui` writes, without touching this process's environment
    prepare = (
        "from dvcc_pipeline.config import get_settings as g; "
        "from dvcc_pipeline.instance import prepare_instance as p; p(g())"
    )
    subprocess.run([sys.executable, "-c", prepare], env=env, check=True, timeout=120)
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("dagster-webserver")),
                "-w",
                "workspace.yaml",
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
            ],
            cwd=REPO_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while True:
            assert process.poll() is None, log.read_text()[-3000:]
            try:
                _wait_http(f"{url}/server_info", timeout=2)
                break
            except OSError:
                assert time.monotonic() < deadline, log.read_text()[-3000:]
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def _graphql(url: str, query: str) -> dict[str, Any]:
    request = urllib.request.Request(
        f"{url}/graphql", data=json.dumps({"query": query}).encode(), headers={"Content-Type": "application/json"}
    )
    deadline = time.monotonic() + 180
    while True:
        with urllib.request.urlopen(request, timeout=60) as response:
            body = json.loads(response.read())
        if any((body.get("data") or {}).values()) or time.monotonic() > deadline:
            return body
        time.sleep(2)  # the code location is still loading


def test_dagster_ui_lists_published_and_report_assets(browser: Page, dagster_ui: str, tmp_path: Path) -> None:
    body = _graphql(dagster_ui, "{ assetNodes { assetKey { path } groupName dependencyKeys { path } } }")
    nodes = {"/".join(n["assetKey"]["path"]): n for n in body["data"]["assetNodes"]}
    assert "published" in nodes
    assert nodes["informatiebeeld"]["groupName"] == "rapportage"
    assert {"path": ["published"]} in nodes["informatiebeeld"]["dependencyKeys"]

    locations = _graphql(dagster_ui, "{ workspaceOrError { ... on Workspace { locationEntries { name } } } }")
    location = locations["data"]["workspaceOrError"]["locationEntries"][0]["name"]
    browser.goto(f"{dagster_ui}/locations/{location}/asset-groups/rapportage/lineage")
    # the instance switches Dagster's community dialog off (`nux`): it never shows on a first visit
    ready = """(() => {
        const text = document.body.innerText;
        return text.includes('informatiebeeld') && text.includes('published') && !text.includes('Loading')
            && !text.includes('Join the Dagster community');
    })()"""
    # the UI polls in the background and may briefly show 'Loading' again: wait for a settled graph
    assert browser.wait_until(ready, hold=3), browser.evaluate("document.body.innerText")[:2000]
    shot = tmp_path / "asset_graph.png"
    browser.screenshot(shot, full_page=False)
    assert shot.stat().st_size > 10_000
    if os.environ.get("DVCC_UPDATE_SCREENSHOTS"):
        shutil.copy(shot, REPO_ROOT / "docs" / "asset_graph.png")
