"""The 周报 page in a real browser at 1920×1080: the whole briefing on one screen without a scrollbar, no
Streamlit chrome in capture mode, and the page's HTML and PNG downloads.

Screenshots: artifacts/screenshots/briefing.png (capture mode, what goes into the weekly report) and
briefing_page.png (the page with its sidebar and buttons).
"""

from __future__ import annotations

import re
import struct

from playwright.sync_api import Page, expect

SCREEN = {"width": 1920, "height": 1080}
IDLE = """() => document.querySelector('[data-testid="stApp"]')?.dataset.testScriptState === "notRunning"
    && !document.querySelector('[data-stale="true"], [data-testid="stSkeleton"], [data-testid="stSkeletonElement"]')"""
# The document and Streamlit's own scroll container (stMain, overflow: auto) must both fit the window.
SIZES = """() => {
    const doc = document.scrollingElement;
    const main = document.querySelector('[data-testid="stMain"]');
    const footer = document.querySelector('.bf-footer').getBoundingClientRect();
    return {
        doc: [doc.scrollHeight, doc.scrollWidth], window: [innerHeight, innerWidth],
        main: [main.scrollHeight, main.clientHeight, main.scrollWidth, main.clientWidth],
        footerBottom: footer.bottom,
    };
}"""


def wait_briefing(page: Page) -> None:
    expect(page.get_by_role("heading", name="交通信用周报", level=1)).to_be_visible()
    expect(page.locator(".js-plotly-plot")).to_have_count(4)
    expect(page.locator(".js-plotly-plot .main-svg").first).to_be_visible()
    expect(page.locator(".bf-footer")).to_be_visible()
    page.wait_for_function(IDLE)
    expect(page.get_by_test_id("stException")).to_have_count(0)


def assert_one_screen(page: Page) -> None:
    sizes = page.evaluate(SIZES)
    height, width = sizes["window"]
    assert sizes["doc"][0] <= height and sizes["doc"][1] <= width, sizes
    main_scroll_h, main_h, main_scroll_w, main_w = sizes["main"]
    assert main_scroll_h <= main_h and main_scroll_w <= main_w, sizes
    assert sizes["footerBottom"] <= height, sizes


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_capture_mode_is_the_briefing_alone_on_one_screen(page: Page, server: str, screenshots):
    page.set_viewport_size(SCREEN)
    page.goto(f"{server}/briefing?capture=1")
    wait_briefing(page)
    assert_one_screen(page)
    for chrome in ("stSidebar", "stHeader"):
        expect(page.get_by_test_id(chrome)).to_be_hidden()
    expect(page.get_by_text("演示模式：未启用登录")).to_be_hidden()
    expect(page.get_by_test_id("stDownloadButton")).to_have_count(0)
    expect(page.get_by_test_id("stMetric")).to_have_count(5)
    expect(page.locator(".bf-summary")).to_contain_text(re.compile(r"本周新增行政处罚 [\d,]+ 件"))
    expect(page.locator(".bf-warnings")).to_contain_text("本周新增风险预警主体")
    expect(page.locator(".bf-footer")).to_contain_text("数据来源及更新")
    expect(page.get_by_text(re.compile(r"nan%|None"))).to_have_count(0)
    page.screenshot(path=str(screenshots / "briefing.png"))


def test_page_fits_one_screen_and_downloads_html_and_png(page: Page, server: str, screenshots, tmp_path):
    page.set_viewport_size(SCREEN)
    page.goto(f"{server}/briefing")
    wait_briefing(page)
    expect(page).to_have_url(re.compile(r"week=2022-W5[0-2]"))  # the demo's last complete week
    assert_one_screen(page)
    page.screenshot(path=str(screenshots / "briefing_page.png"))
    week = re.search(r"week=(\d{4}-W\d\d)", page.url)[1]

    with page.expect_download() as html_download:
        page.get_by_test_id("stDownloadButton").filter(has_text="HTML").click()
    assert html_download.value.suggested_filename == f"交通信用周报_{week}.html"
    saved = tmp_path / "briefing.html"
    html_download.value.save_as(saved)
    text = saved.read_text(encoding="utf-8")
    assert "<script src" not in text and "<link" not in text and "Plotly.newPlot" in text

    with page.expect_download() as png_download:  # drawn by the server's own headless Chromium
        page.get_by_test_id("stDownloadButton").filter(has_text="整页 PNG").click()
    assert png_download.value.suggested_filename == f"交通信用周报_{week}.png"
    shot = tmp_path / "briefing.png"
    png_download.value.save_as(shot)
    assert png_size(shot.read_bytes()) == (1920, 1080)


def test_another_week_from_the_list(page: Page, server: str):
    page.set_viewport_size(SCREEN)
    page.goto(f"{server}/briefing?week=2022-W40")
    wait_briefing(page)
    expect(page).to_have_url(re.compile(r"week=2022-W40"))
    expect(page.get_by_role("combobox", name="周次")).to_have_value(re.compile("2022年第40周"))
    expect(page.get_by_text("统计日 2022-10-09", exact=True)).to_be_visible()
    assert_one_screen(page)
