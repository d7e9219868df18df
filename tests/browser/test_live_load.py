"""A command-line load never stops the pages (issue 12), with real processes: the app running, a large
file loading through `python -m analytics ingest` in another process, and Chromium opening the overview
while that load holds the database file.

The load is paused inside its transaction (CREDIT_TEST_PAUSE_IN_LOAD) so the page is certainly opened
during it; nothing is timed. The server's lock wait is 0 s: a page that waited for the file would show
「数据正在更新，请稍后刷新」 instead of its figures.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

from playwright.sync_api import Page, expect

from analytics.intake import ingest
from analytics.storage import store
from tests.browser.conftest import ROOT, running_server
from tests.browser.test_pages import IDLE
from tests.test_concurrency import entity_csv, wait_for

ROWS = 200_000
TIMEOUT = 300


def register_rows(page: Page):
    """The 记录数(条) cell of the 市场主体名录 row in the overview's 数据集状态 table."""
    table = page.get_by_test_id("stTable")
    headers = table.locator("thead th").all_inner_texts()
    column = [h.strip() for h in headers].index("记录数(条)")
    return table.locator("tbody tr", has_text="市场主体名录").locator("th, td").nth(column)


def open_overview(page: Page, url: str) -> None:
    page.goto(f"{url}/")
    expect(page.get_by_role("heading", name="交通信用看板 · 总览", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="数据集状态")).to_be_visible()
    page.wait_for_function(IDLE)
    expect(page.get_by_test_id("stException")).to_have_count(0)


def test_a_page_opened_during_a_cli_load_shows_the_last_commit_with_the_banner_then_the_new_data(
    page: Page, tmp_path: Path, screenshots
):
    db = str(tmp_path / "live.duckdb")
    assert ingest.ingest_paths(db, [entity_csv(tmp_path / "base.csv", 0, 3)], user="王五")[0].loaded == 3
    big = entity_csv(tmp_path / "big.csv", 100, ROWS)
    gate = tmp_path / "gate"

    with running_server(db, tmp_path / "streamlit.log", env={"CREDIT_LOCK_WAIT_SECONDS": "0"}) as url:
        open_overview(page, url)
        expect(register_rows(page)).to_have_text("3")
        expect(page.locator(".st-key-updating_banner")).to_have_count(0)

        load = subprocess.Popen(
            [sys.executable, "-m", "analytics", "ingest", str(big), "--db", db, "--user", "张三"],
            cwd=ROOT,
            env={**os.environ, "CREDIT_TEST_PAUSE_IN_LOAD": str(gate)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            # The load has read, checked and upserted every row, and holds the file, uncommitted.
            wait_for(Path(f"{gate}.paused"), SimpleNamespace(proc=load))
            with_lock = subprocess.run(  # another process cannot open the file now: the load holds it
                [sys.executable, "-c", "import sys; from analytics.storage import store\n"
                 "try:\n with store.connect(sys.argv[1], wait_seconds=0): sys.exit(0)\n"
                 "except store.StoreBusy: sys.exit(7)", db],
                cwd=ROOT, timeout=TIMEOUT,
            )  # fmt: skip
            assert with_lock.returncode == 7

            open_overview(page, url)  # a fresh page run during the load
            banner = page.locator(".st-key-updating_banner")
            expect(banner).to_contain_text("数据更新中")
            expect(banner).to_contain_text("导入 市场主体名录")
            expect(banner).to_contain_text("张三")
            expect(register_rows(page)).to_have_text("3")  # the last commit's figures
            expect(page.get_by_text("数据正在更新，请稍后刷新")).to_have_count(0)
            page.screenshot(path=str(screenshots / "overview_during_load.png"), full_page=True)

            gate.touch()
            out, err = load.communicate(timeout=TIMEOUT)
            assert load.returncode == 0, err
            assert f'"loaded": {ROWS}' in out
        finally:
            if load.poll() is None:
                load.kill()
                load.communicate(timeout=TIMEOUT)

        page.reload()  # the first rerun after the commit
        open_overview(page, url)
        expect(register_rows(page)).to_have_text(f"{ROWS + 3:,}")
        expect(page.locator(".st-key-updating_banner")).to_have_count(0)
        page.screenshot(path=str(screenshots / "overview_after_load.png"), full_page=True)
    with store.connect(db, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM entities").fetchone()[0] == ROWS + 3
