"""Every URL lands somewhere sensible (issue 12): /overview is the overview, and an unknown path opens the
overview with a Chinese note, never Streamlit's English "Page not found" dialog."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_pages import IDLE


@pytest.mark.parametrize(("path", "note"), [("overview", False), ("no-such-page", True)])
def test_paths_open_the_overview(page: Page, server: str, screenshots, path: str, note: bool):
    page.goto(f"{server}/{path}")
    expect(page.get_by_role("heading", name="交通信用看板 · 总览", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="数据集状态")).to_be_visible()
    page.wait_for_function(IDLE)
    expect(page.get_by_text("Page not found")).to_have_count(0)
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.get_by_text("未找到所请求的页面，已为您打开总览。")).to_have_count(1 if note else 0)
    page.screenshot(path=str(screenshots / f"path_{path}.png"), full_page=True)
