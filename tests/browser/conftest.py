"""The real server and a real browser: `streamlit run app.py` on a free port with a demo database in
tmp, and Debian's Chromium through Playwright (never `playwright install`: nothing is downloaded)."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect

from analytics.output.briefing import CHROMIUM_ARGS

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
STARTUP_SECONDS = 120


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, proc: subprocess.Popen, log: Path) -> None:
    """Poll the health endpoint, a bounded number of times, until the server answers ok."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode}:\n{log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.25)
    raise RuntimeError(f"streamlit not healthy after {STARTUP_SECONDS}s:\n{log.read_text(errors='replace')}")


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory) -> str:
    from analytics import demo

    path = str(tmp_path_factory.mktemp("browser-demo") / "demo.duckdb")
    demo.build(path, seed=2022, scale=1)
    return path


@contextlib.contextmanager
def running_server(db: str, log: Path, env: dict[str, str] | None = None):
    """`streamlit run app.py` on a free port with CREDIT_DB=db (and ``env``); yields its base URL."""
    port = _free_port()
    env = {**os.environ, "CREDIT_DB": db, **(env or {})}
    cmd = [
        sys.executable, "-m", "streamlit", "run", "app.py",
        "--server.headless", "true",
        "--server.port", str(port),
        "--server.address", "127.0.0.1",
        "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
    ]  # fmt: skip
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc, log)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="session")
def server(demo_db, tmp_path_factory):
    """Base URL of a streamlit server on the demo database."""
    with running_server(demo_db, tmp_path_factory.mktemp("server") / "streamlit.log") as url:
        yield url


@pytest.fixture(scope="session")
def empty_server(tmp_path_factory):
    """Base URL of a streamlit server on an empty (but existing, so no demo is built) database."""
    from analytics.storage import store

    db = str(tmp_path_factory.mktemp("browser-empty") / "empty.duckdb")
    with store.connect(db):
        pass
    with running_server(db, tmp_path_factory.mktemp("empty-server") / "streamlit.log") as url:
        yield url


@pytest.fixture(scope="session")
def browser_context(tmp_path_factory):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,  # the briefing's PNG export runs Chromium the same way
            viewport={"width": 1440, "height": 1000},
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
        )
        # A bound, not a pace: a loaded CI machine may take seconds to draw a page.
        context.set_default_timeout(60_000)
        expect.set_options(timeout=60_000)
        requests: list[str] = []
        context.on("request", lambda request: requests.append(request.url))
        context.requests = requests  # type: ignore[attr-defined]
        yield context
        context.close()


def outside_requests(urls: list[str]) -> list[str]:
    """Requests that left this machine (data: and blob: URLs never do)."""
    out = []
    for url in urls:
        parsed = urlparse(url)
        if parsed.scheme in ("data", "blob", "about", "chrome", "chrome-extension", "devtools"):
            continue
        if parsed.hostname not in LOCAL_HOSTS:
            out.append(url)
    return out


@pytest.fixture
def page(browser_context):
    """A fresh tab; after the test, no request may have gone anywhere but localhost."""
    start = len(browser_context.requests)
    tab = browser_context.new_page()
    yield tab
    tab.close()
    leaked = outside_requests(browser_context.requests[start:])
    assert not leaked, f"requests left localhost: {leaked[:10]}"


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
