"""Names carrying links, tags, Markdown and template fields show as text on every page and in the
exported briefing: nothing from the data is clickable, styled or run (issue 17)."""

from __future__ import annotations

import shutil

import duckdb
import pytest
from playwright.sync_api import Page, expect

from analytics.output import briefing
from analytics.storage import store
from tests.browser.conftest import running_server
from tests.browser.test_pages import IDLE

LINK = '<a href="http://evil.example/login">普通货运</a>'
BOLD = "<b>出租汽车</b>"
IMG = "<img src=x onerror=alert(1)>执法支队"
MARKDOWN = "[点我](http://evil.example/x)运输公司"
TEMPLATE = "甲%{y}乙"
PATHS = ["", "work_points", "severe_share", "objections", "sector_risk", "briefing", "upload"]

# Every link on the page (HTML and SVG), and any bold/italic element inside a chart: what markup became.
MARKUP = """() => {
  const links = [...document.querySelectorAll('a')].map(a => a.getAttribute('href') || a.getAttribute('xlink:href') || '')
    .filter(h => /^(https?:)?\\/\\//.test(h) && !/^https?:\\/\\/(127\\.0\\.0\\.1|localhost)/.test(h));
  const styled = [...document.querySelectorAll('.js-plotly-plot b, .js-plotly-plot i, .js-plotly-plot img')]
    .map(e => e.outerHTML);
  const imgs = [...document.querySelectorAll('img')].filter(i => i.getAttribute('src') === 'x').length;
  return {links, styled, imgs};
}"""


@pytest.fixture(scope="module")
def poisoned(demo_db, tmp_path_factory):
    """The demo with hostile names in a sector, a department, company names and a list."""
    path = str(tmp_path_factory.mktemp("poisoned") / "poisoned.duckdb")
    shutil.copy(demo_db, path)
    with store.connect(path) as con:
        con.execute("UPDATE entities SET sector = ? WHERE sector = '道路货物运输'", [LINK])
        con.execute("UPDATE entities SET sector = ? WHERE sector = '出租汽车'", [BOLD])
        authority = con.execute("SELECT authority FROM penalties GROUP BY 1 ORDER BY count(*) DESC LIMIT 1").fetchall()
        con.execute("UPDATE penalties SET authority = ? WHERE authority = ?", [IMG, authority[0][0]])
        con.execute("UPDATE licenses SET authority = ? WHERE rowid % 3 = 0", [TEMPLATE])
        con.execute("UPDATE entities SET name = ? || name WHERE rowid % 5 = 0", [MARKDOWN])
        con.execute("UPDATE severe_list SET list_name = ? || list_name, reason = ?", [MARKDOWN, LINK])
    return path


@pytest.fixture(scope="module")
def poisoned_server(poisoned, tmp_path_factory):
    with running_server(poisoned, tmp_path_factory.mktemp("poisoned-server") / "streamlit.log") as url:
        yield url


@pytest.mark.parametrize("path", PATHS, ids=[p or "overview" for p in PATHS])
def test_hostile_names_render_as_text(page: Page, poisoned_server: str, screenshots, path: str):
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"{poisoned_server}/{path}")
    expect(page.get_by_role("heading", level=1).first).to_be_visible()
    page.wait_for_function(IDLE)
    found = page.evaluate(MARKUP)
    page.screenshot(path=str(screenshots / f"text_is_text_{path or 'overview'}.png"), full_page=True)
    assert found == {"links": [], "styled": [], "imgs": 0}
    assert dialogs == []
    expect(page.get_by_test_id("stException")).to_have_count(0)


def test_the_heatmap_shows_the_link_as_literal_text(page: Page, poisoned_server: str):
    page.goto(f"{poisoned_server}/sector_risk")
    expect(page.locator(".js-plotly-plot .main-svg").first).to_be_visible()
    page.wait_for_function(IDLE)
    ticks = page.locator(".js-plotly-plot .ytick text").all_text_contents()
    assert LINK in ticks and BOLD in ticks


def test_the_exported_briefing_shows_hostile_names_as_text(page: Page, poisoned):
    with duckdb.connect(poisoned, read_only=True) as con:
        b = briefing.compute(con, briefing.default_week(con))
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.set_content(briefing.html_document(b))
    expect(page.locator(".js-plotly-plot .main-svg").first).to_be_visible()
    assert page.evaluate(MARKUP) == {"links": [], "styled": [], "imgs": 0}
    assert dialogs == []
