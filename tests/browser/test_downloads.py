"""A download with identifiers is built on click and gone from the server seconds later: its /media/ URL,
which Streamlit serves to anybody, returns nothing to a fetch without the session (issue 24)."""

from __future__ import annotations

import re
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


def test_the_hostile_workbooks_are_refused_through_the_upload_page_while_another_tab_reads(
    page: Page, short_lived_server: str, browser_context
):
    """The 18 KB workbook used to kill the server for everyone: refused now, and the other tab keeps working."""
    from tests.test_hostile_input import many_far_sheets_xls, many_far_sheets_xlsx

    reader = browser_context.new_page()
    try:
        page.goto(f"{short_lived_server}/upload")
        expect(page.get_by_role("heading", name="上传记录")).to_be_visible()
        page.wait_for_function(IDLE)
        page.locator('input[type="file"]').set_input_files(
            files=[
                {"name": "forty.xlsx", "mimeType": "application/octet-stream", "buffer": many_far_sheets_xlsx(40)},
                {"name": "thirty.xls", "mimeType": "application/octet-stream", "buffer": many_far_sheets_xls(30)},
            ]
        )
        reader.goto(f"{short_lived_server}/sector_risk")  # another session, while the upload is read
        expect(page.get_by_text(re.compile("工作簿数据区域合计过大")).first).to_be_visible()
        expect(page.get_by_text(re.compile("工作簿数据区域合计过大"))).to_have_count(2)
        expect(reader.get_by_role("heading", name="信用风险预警名单")).to_be_visible()
        reader.reload()  # the server still answers new page loads afterwards
        expect(reader.get_by_role("heading", name="信用风险预警名单")).to_be_visible()
        expect(reader.get_by_test_id("stException")).to_have_count(0)
    finally:
        reader.close()
