"""The dashboard in a real browser: every page renders its heading and charts, an upload shows up on the
overview, filters survive a reload and a page switch, and no request ever leaves localhost.

Screenshots of every page go to artifacts/screenshots/ (git-ignored) for a person to look at.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import Page, expect

from analytics.storage import store

# page url path → (heading, Plotly charts expected, viewport height for a whole-page screenshot)
PAGES = {
    "": ("交通信用看板 · 总览", 0, 1100),
    "work_points": ("2022年工作要点进展", 3, 6800),
    "severe_share": ("严重失信主体占比", 1, 2700),
    "objections": ("双公示信息异议占比", 4, 4300),  # issue 16 added the 异议发生率 chart
    "sector_risk": ("行业风险热力图", 2, 3100),
    "upload": ("数据上传", 0, 1300),
}
# The last section of each page: once it is drawn, the page is complete.
LAST_SECTION = {
    "": "数据集状态",
    "work_points": "明细表",
    "severe_share": "名单在册主体明细",
    "objections": "数据质量",
    "sector_risk": "信用风险预警名单",
    "upload": "上传记录",
}

# The script run has finished and every element is drawn (Streamlit marks its root with the run state).
IDLE = """() => document.querySelector('[data-testid="stApp"]')?.dataset.testScriptState === "notRunning"
    && !document.querySelector('[data-stale="true"], [data-testid="stSkeleton"], [data-testid="stSkeletonElement"]')"""


def wait_ready(page: Page, path: str) -> None:
    heading, charts, _ = PAGES[path]
    expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
    expect(page.get_by_role("heading", name=LAST_SECTION[path])).to_be_visible()
    if charts:
        expect(page.locator(".js-plotly-plot .main-svg").first).to_be_visible()
        expect(page.locator(".js-plotly-plot")).to_have_count(charts)
    page.wait_for_function(IDLE)
    expect(page.get_by_test_id("stException")).to_have_count(0)


@pytest.mark.parametrize("path", list(PAGES), ids=[p or "overview" for p in PAGES])
def test_page_renders(page: Page, server: str, screenshots, path: str):
    page.set_viewport_size({"width": 1440, "height": PAGES[path][2]})
    if path == "sector_risk":
        # The map's style comes from the app itself (static serving), not from a tile CDN.
        with page.expect_response(lambda r: r.url.endswith("/app/static/blank_style.json")) as style:
            page.goto(f"{server}/{path}")
        assert style.value.status == 200
        expect(page.get_by_test_id("stDeckGlJsonChart").locator("canvas").first).to_be_visible()
    else:
        page.goto(f"{server}/{path}")
    wait_ready(page, path)
    # The as-of date opens on the demo's last month, not on an empty today.
    expect(page).to_have_url(re.compile(r"as_of=2022-12-\d\d"))
    # No chart shows the "no data" placeholder on the demo data.
    expect(page.get_by_text("所选条件下没有数据")).to_have_count(0)
    page.screenshot(path=str(screenshots / f"{path or 'overview'}.png"), full_page=True)


def test_upload_shows_on_overview(page: Page, server: str, demo_db, screenshots):
    as_of = date(2022, 12, 31)
    with store.connect(demo_db, read_only=True) as con:
        open_points = [
            r[0]
            for r in con.execute(
                "SELECT id FROM work_points WHERE id NOT IN (SELECT point_id FROM progress"
                " WHERE report_date <= ? AND (status = '已完成' OR progress >= 100))",
                [as_of],
            ).fetchall()
        ]
        progress_rows = con.execute("SELECT count(*) FROM progress").fetchall()[0][0]
    assert open_points, "the demo should leave some work points open"
    lines = ["要点编号,填报日期,完成进度,状态,填报单位,进展情况"]
    lines += [f"{p},{as_of.isoformat()},100,已完成,局法规处,年度任务全部完成" for p in open_points]
    payload = ("\n".join(lines) + "\n").encode("gbk")

    page.set_viewport_size({"width": 1440, "height": 1800})
    page.goto(f"{server}/upload?as_of={as_of.isoformat()}&months=12")
    wait_ready(page, "upload")
    page.locator('input[type="file"]').set_input_files(
        files=[{"name": "进展台账_补报.csv", "mimeType": "text/csv", "buffer": payload}]
    )
    expect(page.get_by_text("进展台账_补报.csv").first).to_be_visible()
    expect(page.get_by_text(re.compile(r"已导入，新增或更新"))).to_be_visible()
    expect(page.get_by_text("GB18030").or_(page.get_by_text("GBK")).first).to_be_visible()
    page.wait_for_function(IDLE)
    page.screenshot(path=str(screenshots / "upload_after.png"), full_page=True)

    page.get_by_role("link", name="返回总览查看").click()
    wait_ready(page, "")
    expect(page.get_by_text("21 / 21 项")).to_be_visible()
    row = page.get_by_test_id("stTable").locator("tr", has_text="工作要点进展台账")
    expect(row).to_contain_text(f"{progress_rows + len(open_points):,}")


def test_filters_survive_reload_and_page_switch(page: Page, server: str, screenshots):
    page.goto(f"{server}/")
    wait_ready(page, "")
    sidebar = page.get_by_test_id("stSidebar")
    months = sidebar.get_by_role("combobox", name="统计月数")
    sector = sidebar.get_by_role("combobox", name="行业")
    expect(months).to_have_value("近 12 个月")
    months.click()
    page.get_by_role("option", name="近 6 个月").click()
    expect(page).to_have_url(re.compile(r"months=6"))
    page.wait_for_function(IDLE)

    sector.click()
    page.get_by_role("option", name="道路货物运输").click()
    expect(page).to_have_url(re.compile(r"sector=%E9%81%93"))  # 道…, URL-encoded
    page.wait_for_function(IDLE)
    expect(page.get_by_text("严重失信主体占比（道路货物运输）")).to_be_visible()

    page.reload()
    wait_ready(page, "")
    expect(months).to_have_value("近 6 个月")
    expect(sector).to_have_value("道路货物运输")
    expect(page.get_by_text("严重失信主体占比（道路货物运输）")).to_be_visible()

    sidebar.get_by_role("link", name="严重失信主体占比").click()
    wait_ready(page, "severe_share")
    expect(page).to_have_url(re.compile(r"/severe_share\?.*months=6"))
    expect(page).to_have_url(re.compile(r"sector="))
    expect(months).to_have_value("近 6 个月")
    expect(sector).to_have_value("道路货物运输")
    page.screenshot(path=str(screenshots / "severe_share_filtered.png"), full_page=True)


@pytest.mark.parametrize("measure", ["每百户处罚", "严重失信主体占比", "风险预警主体"])
def test_heatmap_measures(page: Page, server: str, screenshots, measure: str):
    page.set_viewport_size({"width": 1440, "height": 1300})
    page.goto(f"{server}/sector_risk")
    wait_ready(page, "sector_risk")
    page.get_by_test_id("stRadio").get_by_text(measure, exact=True).click()
    expect(page.get_by_text(f"行业风险热力图：{measure}")).to_be_visible()
    page.wait_for_function(IDLE)
    expect(page.get_by_text("所选条件下没有数据")).to_have_count(0)
    page.screenshot(path=str(screenshots / f"sector_risk_heatmap_{measure}.png"))


@pytest.mark.parametrize("path", list(PAGES), ids=[p or "overview" for p in PAGES])
def test_empty_database(page: Page, empty_server: str, screenshots, path: str):
    heading = PAGES[path][0]
    page.goto(f"{empty_server}/{path}")
    expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
    page.wait_for_function(IDLE)
    expect(page.get_by_test_id("stException")).to_have_count(0)
    if path != "upload":
        # Every page explains itself and points at the upload page.
        expect(
            page.get_by_test_id("stMain").get_by_role("link", name=re.compile("前往「数据上传」")).first
        ).to_be_visible()
    page.screenshot(path=str(screenshots / f"empty_{path or 'overview'}.png"))
