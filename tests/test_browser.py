"""The reports and the Dagster UI in a real headless Chromium, driven by Playwright.

Playwright's Python package drives Debian's `chromium` (installed by `make browser`, a
prerequisite of `make test`) through `executable_path`: no browser is ever downloaded (never
`playwright install`). A missing browser fails the test rather than skipping it, so CI cannot
pass without having looked at a page.
"""

from __future__ import annotations

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
from playwright.sync_api import ConsoleMessage, Request, sync_playwright
from playwright.sync_api import Page as PlaywrightPage

from dvcc_pipeline.config import REPO_ROOT

pytestmark = pytest.mark.slow

CHROMIUM_FLAGS = (
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
    """One browser tab: navigate, collect console errors and requests since the last navigation, screenshot."""

    def __init__(self, page: PlaywrightPage) -> None:
        self.page = page
        self.errors: list[str] = []
        self.requests: list[str] = []
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.errors.append(str(error)[:300]))
        page.on("requestfailed", lambda request: self.errors.append(f"{request.url}: {request.failure}"))
        page.on("request", self._on_request)

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type in {"error", "assert"}:
            self.errors.append(message.text[:300])

    def _on_request(self, request: Request) -> None:
        self.requests.append(request.url)

    def goto(self, url: str) -> None:
        self.errors.clear()
        self.requests.clear()
        self.page.goto(url, wait_until="load", timeout=60_000)

    def evaluate(self, expression: str) -> Any:
        return self.page.evaluate(expression)

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
            self.page.wait_for_timeout(500)
        return False

    def screenshot(self, path: Path, full_page: bool = True) -> None:
        self.page.screenshot(path=str(path), full_page=full_page)

    def console_errors(self) -> list[str]:
        return list(self.errors)

    def requested_urls(self) -> list[str]:
        return list(self.requests)


@pytest.fixture(scope="module")
def browser() -> Iterator[Page]:
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    assert executable, "Chromium ontbreekt: draai `make browser` (apt-get install -y chromium)"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=list(CHROMIUM_FLAGS))
        try:
            context = chromium.new_context(viewport={"width": 1100, "height": 900}, device_scale_factor=1)
            yield Page(context.new_page())
        finally:
            chromium.close()


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
        "from dvcc_pipeline.operations.instance import prepare_instance as p; p(g())"
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
