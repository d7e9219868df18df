"""A download with identifiers is built on click and gone from the server seconds later: its /media/ URL,
which Streamlit serves to anybody, returns nothing to a fetch without the session (issue 24)."""

from __future__ import annotations

import time
import urllib.error
import urllib.request

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import running_server
from tests.browser.test_pages import IDLE

TTL_SECONDS = 2
DEADLINE_SECONDS = 60  # a bound for a loaded machine, not a pace


@pytest.fixture(scope="module")
def short_lived_server(demo_db, tmp_path_factory):
    log = tmp_path_factory.mktemp("downloads-server") / "streamlit.log"
    with running_server(demo_db, log, {"CREDIT_DOWNLOAD_TTL_SECONDS": str(TTL_SECONDS)}) as url:
        yield url


def status_without_session(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # no cookie, no websocket: just the URL
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_an_entity_download_is_not_served_without_the_session_after_seconds(page: Page, short_lived_server: str):
    page.goto(f"{short_lived_server}/sector_risk")
    expect(page.get_by_role("heading", name="信用风险预警名单")).to_be_visible()
    page.wait_for_function(IDLE)
    # Nothing with identifiers is in the page before the click: the warnings table's CSV is built on click.
    button = page.locator(".st-key-dl_csv_sr_warnings button")
    with page.expect_download() as download:
        button.click()
    url = download.value.url
    assert "/media/" in url
    assert download.value.path().read_bytes().startswith(b"\xef\xbb\xbf")  # the browser got the file
    deadline = time.monotonic() + DEADLINE_SECONDS
    while status_without_session(url) == 200:
        assert time.monotonic() < deadline, f"{url} still served {DEADLINE_SECONDS} s after the click"
        time.sleep(0.5)
    assert status_without_session(url) == 404
