"""周报 / Weekly briefing: weeks, the summary's words, the numbers against ``metrics.compute_all``, the page
through AppTest, and the command line's HTML / XLSX / PNG files on the demo database (scale 0.1).

The HTML must load nothing from another host; the PNGs must have their sizes and show something.
"""

from __future__ import annotations

import io
import json
import os
import re
import struct
import subprocess
import sys
import zipfile
from datetime import date, timedelta
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlparse

import openpyxl
import pandas as pd
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from analytics.compute import metrics
from analytics.output import briefing
from analytics.output.briefing import Kpis, Week, WeekError, last_complete_week, parse_week, summary_text
from analytics.settings import Settings
from analytics.storage import store
from dashboard.nav import PAGES

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}

# Credit codes of the hand-made store (shape only).
A, B, C, D_ = "91350203MA0000001A", "91350206MA0000002B", "91350203MA0000003C", "91350211MA0000004D"
XSS_NAME = "<script>alert(1)</script>厦门甲货运有限公司"
FORMULA_NAME = '=HYPERLINK("http://evil.example","乙")'


# --------------------------------------------------------------------------- stores


def build_fixture(path: str) -> None:
    """A store whose 2022-W24 (13–19 June 2022) briefing is worked out by hand:

    - penalties: B on 1, 14 and 16 June by three departments, D on 8 June → this week 2, last week 1;
    - severe share 全部: A listed since March (a second list from 15 June), C listed 10 May to 10 June →
      31 May 2/4 = 50%, 12 June 1/4 = 25%, 19 June 1/4 = 25%;
    - objection ratio 全部, June up to the 19th: 4 penalty records, 1 objected = 25%; May has no records;
    - work points: point 2 done 20 May, point 1 done 15 June, point 3 overdue (planned 1 June) → 2/21;
    - warnings at 19 June: A (two lists), B (three departments), none at 12 June or 31 May → 2 new;
    - penalties stated as covered through Monday 20 June (issue 12: the coverage, not an objection's closing
      date, sets the default as-of), so the last complete week is 2022-W24.
    """
    with store.connect(path) as con:
        con.executemany(
            "INSERT INTO entities (credit_code, name, sector, district, established) VALUES (?, ?, ?, ?, ?)",
            [
                [A, XSS_NAME, "道路货运", "思明区", date(2020, 1, 1)],
                [B, FORMULA_NAME, "道路货运", "湖里区", date(2020, 1, 1)],
                [C, "厦门丙出租汽车有限公司", "出租汽车", "思明区", date(2020, 1, 1)],
                [D_, "厦门丁出租汽车有限公司", "出租汽车", "集美区", date(2020, 1, 1)],
            ],
        )
        con.executemany(
            "INSERT INTO severe_list (credit_code, name, list_name, listed_on, removed_on, department, reason)"
            " VALUES (?, ?, ?, ?, ?, ?, '失信')",
            [
                [A, "甲", "失信被执行人", date(2022, 3, 1), None, "市中级人民法院"],
                [A, "甲", "重大税收违法失信主体", date(2022, 6, 15), None, "市税务局"],
                [C, "丙", "失信被执行人", date(2022, 5, 10), date(2022, 6, 10), "市中级人民法院"],
            ],
        )
        con.executemany(
            "INSERT INTO penalties (doc_no, subject_name, subject_type, credit_code, decision_date, authority)"
            " VALUES (?, ?, '法人及非法人组织', ?, ?, ?)",
            [
                ["厦交罚〔2022〕1号", "乙", B, date(2022, 6, 1), "厦门市交通运输局"],
                ["厦交罚〔2022〕2号", "丁", D_, date(2022, 6, 8), "厦门市交通运输局"],
                ["厦交罚〔2022〕3号", "乙", B, date(2022, 6, 14), "厦门市交通综合执法支队"],
                ["厦交罚〔2022〕4号", "乙", B, date(2022, 6, 16), "厦门市港口管理局"],
            ],
        )
        con.execute(
            "INSERT INTO objections (objection_id, doc_no, category, filed_on, result, subjective, closed_on, deadline)"
            " VALUES ('YY001', '厦交罚〔2022〕3号', '行政处罚', ?, '异议不成立', false, ?, ?)",
            [date(2022, 6, 17), date(2022, 6, 20), date(2022, 6, 24)],
        )
        con.execute(
            "INSERT INTO uploads (id, uploaded_at, file_name, sha256, dataset, status)"
            " VALUES (1, TIMESTAMP '2022-06-21 09:00', 'penalties.csv', '', 'penalties', 'loaded')"
        )
        con.execute("INSERT INTO upload_coverage VALUES (1, 'penalties', DATE '2022-01-01', DATE '2022-06-20', true)")
        con.executemany(
            "INSERT INTO progress (point_id, report_date, progress, status, planned_date, unit, note)"
            " VALUES (?, ?, ?, ?, ?, '局法规处', '')",
            [
                [2, date(2022, 5, 20), 100, "已完成", date(2022, 12, 31)],
                [1, date(2022, 6, 15), 100, "已完成", date(2022, 12, 31)],
                [3, date(2022, 6, 15), 40, "推进中", date(2022, 6, 1)],
            ],
        )


@pytest.fixture(scope="module")
def fixture_db(tmp_path_factory) -> str:
    path = str(tmp_path_factory.mktemp("briefing-fixture") / "fixture.duckdb")
    build_fixture(path)
    return path


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory) -> str:
    from analytics import demo

    path = str(tmp_path_factory.mktemp("briefing-demo") / "demo.duckdb")
    demo.build(path, seed=2022, scale=0.1)
    return path


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "analytics", "briefing", *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def exported(demo_db, tmp_path_factory) -> tuple[subprocess.CompletedProcess, Path]:
    """`python -m analytics briefing` on the demo, default week, with Chromium."""
    out = tmp_path_factory.mktemp("briefing-out")
    return run_cli("--db", demo_db, "--out", str(out), env={"CREDIT_CHROMIUM": ""}), out


# --------------------------------------------------------------------------- weeks


def test_week_parsing_and_labels():
    assert parse_week("2022-W52") == Week(2022, 52)
    assert parse_week(" 2022w05 ") == Week(2022, 5)
    assert parse_week("2020-W53").sunday == date(2021, 1, 3)  # 2020 has 53 ISO weeks
    week = parse_week("2022-W51")
    assert (week.monday, week.sunday, week.code) == (date(2022, 12, 19), date(2022, 12, 25), "2022-W51")
    assert week.label == "2022年第51周（12月19日—12月25日）"
    assert parse_week("2021-W52").dates == "2021年12月27日—2022年1月2日"
    assert week.shift(-1) == Week(2022, 50) and week.shift(2) == Week(2023, 1)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("2022-52", "周次格式应为 YYYY-Www"),
        ("W52", "周次格式应为 YYYY-Www"),
        ("2022-W", "周次格式应为 YYYY-Www"),
        ("", "周次格式应为 YYYY-Www"),
        ("2022-W53", "2022年没有第53周"),
        ("2022-W00", "2022年没有第0周"),
    ],
)
def test_bad_weeks_are_refused_in_chinese(text, words):
    with pytest.raises(WeekError, match=words):
        parse_week(text)


def test_last_complete_week_ends_on_the_latest_sunday():
    assert last_complete_week(date(2022, 12, 25)) == Week(2022, 51)  # a Sunday: its own week
    assert last_complete_week(date(2022, 12, 31)) == Week(2022, 51)  # a Saturday: the week before
    assert last_complete_week(date(2022, 12, 26)) == Week(2022, 51)  # a Monday
    assert last_complete_week(date(2023, 1, 1)) == Week(2022, 52)
    with pytest.raises(WeekError, match="尚未完整"):
        briefing.check_week(Week(2022, 52), date(2022, 12, 31))
    briefing.check_week(Week(2022, 52), date(2023, 1, 1))


def test_default_week_is_the_last_complete_week_of_the_data(fixture_db, demo_db):
    with store.connect(fixture_db, read_only=True) as con:
        assert metrics.default_as_of(con) == date(2022, 6, 20)
        assert briefing.default_week(con) == Week(2022, 24)
    with store.connect(demo_db, read_only=True) as con:
        latest = metrics.default_as_of(con)
        week = briefing.default_week(con)
    assert week.sunday <= latest < week.sunday + timedelta(days=7)
    assert week.sunday.weekday() == 6


# --------------------------------------------------------------------------- words


def kpis(**overrides) -> Kpis:
    base = {
        "penalties": 120, "penalties_prev": 100, "penalties_avg4": 110.0,
        "severe_share": 0.0253, "severe_share_prev_week": 0.0255, "severe_share_prev_month": 0.0265,
        "severe": 76, "entities": 3000,
        "objection_ratio": 0.0125, "objection_ratio_prev_month": 0.0100, "objected": 15, "records": 1200,
        "objection_month": "2022-04", "objection_prev_month": "2022-03",  # the latest mature months (issue 16)
        "objection_provisional": 0.0, "objection_provisional_month": "2022-06",
        "points_done": 12, "points_total": 21, "points_done_prev_week": 11, "points_done_prev_month": 9,
        "points_overdue": 2, "mean_progress": 80.5,
        "warnings": 35, "warnings_prev_week": 34, "warnings_prev_month": 30, "new_warnings": 2, "lifted_warnings": 1,
    }  # fmt: skip
    return Kpis(**{**base, **overrides})


def test_summary_rise_and_fall():
    assert summary_text(kpis()) == (
        "本周新增行政处罚 120 件，环比上升 20.0%（上周 100 件）；"
        "严重失信主体占比 2.53%，较上月末下降 0.12 个百分点；"
        "2022年4月（已过异议期）双公示异议占比 1.25%，较3月上升 0.25 个百分点（本月暂计 0.00%，异议期内，数据未成熟）；"
        "工作要点已完成 12/21 项，本周新增完成 1 项，逾期 2 项；"
        "信用风险预警主体 35 户，本周新增 2 户、解除 1 户。"
    )
    text = summary_text(kpis(penalties=80, severe_share=0.0275, objection_ratio=0.0075))
    assert "环比下降 20.0%（上周 100 件）" in text
    assert "较上月末上升 0.10 个百分点" in text
    assert "较3月下降 0.25 个百分点" in text


def test_summary_unchanged():
    text = summary_text(
        kpis(
            penalties=100, severe_share=0.0265, objection_ratio=0.01, points_done=11, new_warnings=0, lifted_warnings=0
        )
    )
    assert "本周新增行政处罚 100 件，与上周持平" in text
    assert "严重失信主体占比 2.65%，与上月末持平" in text
    assert "2022年4月（已过异议期）双公示异议占比 1.00%，与3月持平" in text
    assert "本周无新完成要点" in text
    assert "信用风险预警主体 35 户，本周无新增" in text
    # A change that rounds to 0.00 points is 持平, never "下降 0.00".
    assert "与上月末持平" in summary_text(kpis(severe_share=0.02650001))


def test_summary_zero_and_none_in_words():
    zero = summary_text(kpis(penalties=0, penalties_prev=0, warnings=0, new_warnings=0, lifted_warnings=0))
    assert "本周与上周均无新增行政处罚" in zero
    assert "无信用风险预警主体，本周无新增" in zero
    assert "本周新增行政处罚 5 件，上周无新增" in summary_text(kpis(penalties=5, penalties_prev=0))
    assert "本周无新增行政处罚（上周 7 件）" in summary_text(kpis(penalties=0, penalties_prev=7))
    first = summary_text(kpis(penalties_prev=None, severe_share_prev_month=None, objection_ratio_prev_month=None))
    assert "本周新增行政处罚 120 件（无上周数据可比）" in first
    assert "严重失信主体占比 2.53%（上月末无可比数据）" in first
    assert "2022年4月（已过异议期）双公示异议占比 1.25%（3月无可比数据）" in first
    none = summary_text(Kpis())
    assert none == (
        "本周暂无行政处罚数据；严重失信主体占比暂无数据（无在册市场主体）；本月暂无双公示决定，异议占比无法计算；"
        "暂无工作要点数据；暂无风险预警数据。"
    )
    for text in (zero, first, none, summary_text(kpis(severe_share=float("nan")))):
        assert not re.search(r"nan|None|inf", text, re.IGNORECASE), text


def test_cards_show_changes_with_their_sign():
    cards = {c.key: c for c in briefing.cards(kpis(), Week(2022, 24))}
    assert (cards["penalties"].value, cards["penalties"].delta) == ("120 件", "+20 件（+20.0%）")
    assert cards["penalties"].tone == "bad"
    assert (cards["severe_share"].delta, cards["severe_share"].tone) == ("-0.12 个百分点", "good")
    assert (cards["work_points"].value, cards["work_points"].delta) == ("12 / 21 项", "+1 项")
    assert cards["work_points"].tone == "good"
    assert {c.key: c for c in briefing.cards(kpis(warnings=34), Week(2022, 24))}["warnings"].tone == "flat"


# --------------------------------------------------------------------------- numbers


def test_fixture_week_worked_out_by_hand(fixture_db):
    with store.connect(fixture_db, read_only=True) as con:
        b = briefing.compute(con, Week(2022, 24))
    k = b.kpis
    assert (k.penalties, k.penalties_prev) == (2, 1)
    assert (k.severe_share, k.severe_share_prev_week, k.severe_share_prev_month) == (0.25, 0.25, 0.5)
    # Issue 16: the headline is the latest mature month. At 19 June with W = 60 that is March (19 June - 31
    # March = 80 days; April's end is 50 days back), which has no decision; June's 1 of 4 is provisional.
    assert (k.objection_month, k.objection_ratio, k.objection_prev_month, k.objection_ratio_prev_month) == (
        "2022-03",
        None,
        "2022-02",
        None,
    )
    assert (k.objection_provisional, k.objection_provisional_objected, k.objection_provisional_records) == (0.25, 1, 4)
    assert (k.points_done, k.points_total, k.points_done_prev_week, k.points_done_prev_month) == (2, 21, 1, 1)
    assert k.points_overdue == 1
    assert (k.warnings, k.warnings_prev_week, k.warnings_prev_month, k.new_warnings, k.lifted_warnings) == (
        2,
        0,
        0,
        2,
        0,
    )
    assert sorted(b.new_warnings["credit_code"]) == [A, B]
    assert b.summary == (
        "本周新增行政处罚 2 件，环比上升 100.0%（上周 1 件）；严重失信主体占比 25.00%，较上月末下降 25.00 个百分点；"
        "2022年3月（已过异议期）无双公示决定，异议占比无法计算（本月暂计 25.00%，异议期内，数据未成熟）；"
        "工作要点已完成 2/21 项，本周新增完成 1 项，逾期 1 项；"
        "信用风险预警主体 2 户，本周新增 2 户。"
    )


E, F, G, H, K, J = (f"913502{n:02d}MA00000{n:02d}X" for n in range(5, 11))


def test_fixture_warning_boundaries(tmp_path):
    """New, lifted and month-end warnings around the week's edges, on the 2022-W24 store plus:

    - E: third department exactly on Sunday 19 June → warned at the Sunday, not at 12 June: new;
    - F: third department on Monday 20 June → not warned at the Sunday: nowhere;
    - G: second list removed exactly on Sunday 19 June → warned at 12 June and 31 May, not at the Sunday: lifted;
    - H and J (unregistered): second list removed 1 June and 5 June → warned at 31 May only;
    - K: both lists from Sunday 12 June → warned at both Sundays: neither new nor lifted.
    With A and B (new, see build_fixture): 19 June A B E K = 4; 12 June G K = 2; 31 May G H J = 3.
    """
    path = str(tmp_path / "edges.duckdb")
    build_fixture(path)
    with store.connect(path) as con:
        for code, name in ((E, "戊"), (F, "己"), (G, "庚"), (K, "壬")):
            con.execute(
                "INSERT INTO entities (credit_code, name, sector, district, established) VALUES (?, ?, '道路货运', '思明区', ?)",
                [code, f"厦门{name}物流有限公司", date(2020, 1, 1)],
            )
        for code, third in ((E, date(2022, 6, 19)), (F, date(2022, 6, 20))):
            con.executemany(
                "INSERT INTO penalties (doc_no, subject_name, subject_type, credit_code, decision_date, authority)"
                " VALUES (?, ?, '法人及非法人组织', ?, ?, ?)",
                [
                    [f"{code}-1", code, code, date(2022, 6, 1), "厦门市交通运输局"],
                    [f"{code}-2", code, code, date(2022, 6, 10), "厦门市交通综合执法支队"],
                    [f"{code}-3", code, code, third, "厦门市港口管理局"],
                ],
            )
        con.executemany(
            "INSERT INTO severe_list (credit_code, name, list_name, listed_on, removed_on, department, reason)"
            " VALUES (?, '名单名称', ?, ?, ?, '市中级人民法院', '失信')",
            [
                [G, "失信被执行人", date(2022, 1, 1), None],
                [G, "重大税收违法失信主体", date(2022, 1, 1), date(2022, 6, 19)],
                [H, "失信被执行人", date(2022, 1, 1), None],
                [H, "重大税收违法失信主体", date(2022, 1, 1), date(2022, 6, 1)],
                [J, "失信被执行人", date(2022, 1, 1), None],
                [J, "重大税收违法失信主体", date(2022, 1, 1), date(2022, 6, 5)],
                [K, "失信被执行人", date(2022, 6, 12), None],
                [K, "重大税收违法失信主体", date(2022, 6, 12), None],
            ],
        )
    with store.connect(path, read_only=True) as con:
        b = briefing.compute(con, Week(2022, 24))
    k = b.kpis
    assert (k.warnings, k.warnings_prev_week, k.warnings_prev_month) == (4, 2, 3)
    assert (k.new_warnings, k.lifted_warnings) == (3, 1)
    assert sorted(b.warnings["credit_code"]) == sorted([A, B, E, K])
    assert sorted(b.new_warnings["credit_code"]) == sorted([A, B, E])
    assert list(b.warnings.columns) == list(metrics.METRICS["risk_warnings"].columns)
    assert "本周新增 3 户、解除 1 户" in b.summary


def test_same_numbers_as_compute_all(demo_db):
    """The briefing reads the metric queries: its figures equal `metrics` at the week's Sunday."""
    with store.connect(demo_db, read_only=True) as con:
        week = briefing.default_week(con)
        b = briefing.compute(con, week)
        sunday = week.sunday
        everything = metrics.compute_all(con, sunday)
        before = metrics.compute_all(con, sunday - timedelta(days=7))
        in_week = con.execute(
            "SELECT count(*) FROM penalties WHERE decision_date BETWEEN ? AND ?", [week.monday, sunday]
        ).fetchone()[0]
    k = b.kpis
    month = sunday.strftime("%Y-%m")
    share = [r for r in everything["severe_share"] if r["sector"] == "全部"]
    assert share[-1]["month"] == month
    assert k.severe_share == pytest.approx(share[-1]["share"])
    assert k.severe_share_prev_month == pytest.approx(share[-2]["share"])
    assert (k.severe, k.entities) == (share[-1]["severe"], share[-1]["entities"])
    ratio = [r for r in everything["objection_ratio"] if r["category"] == "全部"]
    mature = [r for r in ratio if r["mature"]]  # issue 16: the headline is the latest mature month
    assert (k.objection_month, k.objection_prev_month) == (mature[-1]["month"], mature[-2]["month"])
    assert k.objection_ratio == pytest.approx(mature[-1]["ratio"])
    assert k.objection_ratio_prev_month == pytest.approx(mature[-2]["ratio"])
    assert not ratio[-1]["mature"] and k.objection_provisional == pytest.approx(ratio[-1]["ratio"])
    assert k.points_done == everything["work_points"]["completed"]
    assert k.points_overdue == everything["work_points"]["overdue"]
    assert k.points_done_prev_week == before["work_points"]["completed"]
    assert k.warnings == len(everything["risk_warnings"])
    assert k.warnings_prev_week == len(before["risk_warnings"])
    new_codes = {r["credit_code"] for r in everything["risk_warnings"]} - {
        r["credit_code"] for r in before["risk_warnings"]
    }
    assert set(b.new_warnings["credit_code"]) == new_codes
    assert k.lifted_warnings == len(
        {r["credit_code"] for r in before["risk_warnings"]} - set(b.warnings["credit_code"])
    )
    month_end = sunday.replace(day=1) - timedelta(days=1)
    with store.connect(demo_db, read_only=True) as con:
        # The list itself, row for row and in order, and the month-end count, as risk_warnings gives them.
        pd.testing.assert_frame_equal(b.warnings, metrics.run(con, "risk_warnings", sunday))
        assert k.warnings_prev_month == len(metrics.run(con, "risk_warnings", month_end))
    assert k.penalties == in_week > 0
    # The heatmap's numbers are the sector_risk metric's, as on the 行业风险热力图 page.
    heat = next(s for s in briefing.chart_specs(b) if s.key == "chart_heatmap").numbers
    sector_risk = {(r["month"], r["sector"]): r["penalties"] for r in everything["sector_risk"]}
    assert all(sector_risk[(m, s)] == n for m, s, n in zip(heat["月份"], heat["行业"], heat["处罚数(件)"], strict=True))


# --------------------------------------------------------------------------- files


class _Refs(HTMLParser):
    """Every URL-valued attribute and every CSS text (style elements and attributes)."""

    URL_ATTRS = frozenset(
        {"src", "href", "srcset", "data", "poster", "action", "formaction", "background", "xlink:href"}
    )

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[str, str]] = []
        self.css: list[str] = []
        self.tags: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self._in_style = tag == "style"
        for name, value in attrs:
            if value is None:
                continue
            if name in self.URL_ATTRS:
                self.urls += [(tag, v.strip().split(" ")[0]) for v in value.split(",")]
            if name == "style":
                self.css.append(value)

    def handle_endtag(self, tag):
        if tag == "style":
            self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.css.append(data)


def remote(url: str) -> bool:
    parsed = urlparse(url)
    if parsed.scheme in ("http", "https", "ftp", "ws", "wss") or url.startswith("//"):
        return parsed.hostname not in LOCAL_HOSTS
    return False


def remote_references(text: str) -> list[str]:
    refs = _Refs()
    refs.feed(text)
    found = [f"<{tag}> {url}" for tag, url in refs.urls if remote(url)]
    for css in refs.css:
        found += re.findall(r"url\(\s*['\"]?(?:https?:)?//[^)]*\)", css, re.IGNORECASE)
        found += re.findall(r"@import[^;]*", css, re.IGNORECASE)
    # Anywhere in the file, plotly.js included: no stylesheet or font may point at a host.
    found += re.findall(r"url\(\s*['\"]?(?:https?:)?//[^)]*\)", text, re.IGNORECASE)
    found += [f"<{t}>" for t in refs.tags if t in ("link", "iframe", "img", "object", "embed", "base")]
    return found


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()[:24]
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", f"{path.name} is not a PNG"
    return struct.unpack(">II", data[16:24])


def assert_not_blank(path: Path) -> None:
    with Image.open(path) as im:
        rgb = im.convert("RGB")
        rgb.thumbnail((800, 800))
        colours = rgb.getcolors(maxcolors=1 << 20)
        pixels = rgb.width * rgb.height
        inked = sum(n for n, (r, g, b) in colours if min(r, g, b) < 235)
    assert len(colours) > 200, f"{path.name}: only {len(colours)} colours"
    assert inked / pixels > 0.05, f"{path.name}: {inked / pixels:.1%} of the pixels are not white"


def test_cli_writes_html_xlsx_and_pngs(exported):
    result, out = exported
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    with store.connect(str(Path(result.args[result.args.index("--db") + 1])), read_only=True) as con:
        week = briefing.default_week(con)
    stem = f"交通信用周报_{week.code}"
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(
        [
            f"{stem}.html",
            f"{stem}.xlsx",
            f"{stem}.png",
            f"{stem}_图1_工作要点进展.png",
            f"{stem}_图2_严重失信主体占比.png",
            f"{stem}_图3_双公示异议占比.png",
            f"{stem}_图4_行业风险热力图.png",
        ]
    )
    assert week.label in result.stdout and "本周新增行政处罚" in result.stdout
    assert all(f"已生成：{out / n}" in result.stdout for n in names)


def test_html_is_self_contained(exported):
    _, out = exported
    text = next(out.glob("*.html")).read_text(encoding="utf-8")
    assert remote_references(text) == []
    assert text.count("<script") == 2  # plotly.js inline, once, and the figures; no <script src>
    assert "<script src" not in text
    assert "Plotly.newPlot" in text and "plotly.js v" in text
    for chart in ("chart_sections", "chart_severe", "chart_objection", "chart_heatmap"):
        assert f'id="{chart}"' in text
    assert "本周摘要" in text and "Noto Sans CJK SC" in text
    assert re.search(r"nan%|None|NaN%", re.sub(r"<script.*?</script>", "", text, flags=re.S)) is None


# Run in a process of its own: the browser tests' session-wide Playwright keeps an event loop
# running in this one, and the sync API refuses to start inside it.
OPEN_OFFLINE = """
import json, sys
from playwright.sync_api import sync_playwright
from analytics.output import briefing

html, profile = sys.argv[1], sys.argv[2]
requests = []
with sync_playwright() as p:
    context = p.chromium.launch_persistent_context(
        profile, executable_path=briefing.chromium_path(), headless=True,
        args=briefing.CHROMIUM_ARGS, viewport={"width": 1920, "height": 1080},
    )
    try:
        context.set_default_timeout(60_000)
        context.on("request", lambda request: requests.append(request.url))
        page = context.new_page()
        page.goto(html)
        page.wait_for_function("() => document.documentElement.dataset.ready")
        print(json.dumps({
            "ready": page.evaluate("() => document.documentElement.dataset.ready"),
            "plots": page.locator(".js-plotly-plot .main-svg").count(),
            "scroll": page.evaluate("() => [document.scrollingElement.scrollHeight, innerHeight]"),
            "requests": requests,
        }))
    finally:
        context.close()
"""


def test_html_opens_offline_in_chromium(exported, tmp_path):
    """Opened from disk, the page draws its four charts and asks no host for anything."""
    _, out = exported
    html = next(out.glob("*.html")).as_uri()
    done = subprocess.run(
        [sys.executable, "-c", OPEN_OFFLINE, html, str(tmp_path / "profile")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen["ready"] == "1"
    assert seen["plots"] >= 4
    assert [u for u in seen["requests"] if not u.startswith(("file:", "data:", "blob:"))] == []
    assert seen["scroll"][0] <= seen["scroll"][1]


def test_remote_reference_check_catches_remote_assets():
    page = (
        '<html><head><script src="https://cdn.plot.ly/plotly.min.js"></script>'
        '<link rel="stylesheet" href="//fonts.googleapis.com/css">'
        "<style>@font-face { src: url(https://fonts.example/x.woff2) }</style></head>"
        '<body><img src="http://127.0.0.1/ok.png"><div style="background:url(http://x.example/a.png)"></div></body>'
    )
    found = remote_references(page)
    assert any("cdn.plot.ly" in f for f in found)
    assert any("fonts.googleapis.com" in f for f in found)
    assert any("fonts.example" in f for f in found)
    assert any("x.example" in f for f in found)
    assert not any("127.0.0.1" in f for f in found if f.startswith("<img> "))


def test_pngs_have_their_sizes_and_show_something(exported):
    _, out = exported
    whole = next(p for p in out.glob("*.png") if "_图" not in p.name)
    assert png_size(whole) == (1920, 1080)
    assert_not_blank(whole)
    charts = sorted(out.glob("*_图*.png"))
    assert len(charts) == 4
    for path in charts:
        width, height = png_size(path)
        assert width == 1600, path.name
        assert height == (1240 if "热力图" in path.name else 900), path.name
        assert_not_blank(path)


def test_xlsx_has_a_sheet_per_chart_and_the_kpis(exported, demo_db):
    _, out = exported
    book = openpyxl.load_workbook(next(out.glob("*.xlsx")), read_only=True)
    assert book.sheetnames == [
        "摘要",
        "关键指标",
        "图1 工作要点进展",
        "图2 严重失信主体占比",
        "图3 双公示异议占比",
        "图4 行业风险热力图",
        "本周新增预警",
        "每周行政处罚",
        "数据来源",
    ]
    with store.connect(demo_db, read_only=True) as con:
        b = briefing.compute(con, briefing.default_week(con))
    rows = {r[0]: r for r in book["关键指标"].iter_rows(min_row=2, values_only=True)}
    assert rows["本周新增行政处罚"][1:3] == (b.kpis.penalties, b.kpis.penalties_prev)
    assert rows["严重失信主体占比（全部）"][1] == pytest.approx(b.kpis.severe_share * 100, abs=1e-4)
    assert rows["风险预警主体"][1] == b.kpis.warnings
    summary = {r[0]: r[1] for r in book["摘要"].iter_rows(min_row=2, values_only=True)}
    assert summary["摘要"] == b.summary and summary["周次"] == b.week.code
    sections = list(book["图1 工作要点进展"].iter_rows(min_row=2, values_only=True))
    assert [r[0][:2] for r in sections] == ["一、", "二、", "三、", "四、", "五、"]


def test_cli_without_chromium_still_writes_html_and_xlsx(demo_db, tmp_path):
    result = run_cli("--db", demo_db, "--out", str(tmp_path), env={"CREDIT_CHROMIUM": str(tmp_path / "no-chromium")})
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("警告：已跳过 PNG 导出")
    assert "Chromium" in result.stderr
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".html", ".xlsx"]


@pytest.mark.parametrize(
    ("week", "words"),
    [
        ("2022-52", "周次格式应为 YYYY-Www（如 2022-W52）"),
        ("2021-W53", "2021年没有第53周"),
        ("2030-W01", "尚未完整：数据最新日期为"),
    ],
)
def test_cli_bad_week_is_one_chinese_line(demo_db, tmp_path, week, words):
    result = run_cli("--db", demo_db, "--week", week, "--out", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("错误：")
    assert words in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_files_escape_hostile_names(fixture_db, tmp_path):
    """Entity names are data: never markup in the HTML, never a formula in the XLSX."""
    with store.connect(fixture_db, read_only=True) as con:
        b = briefing.compute(con, Week(2022, 24))
    written = briefing.write_files(b, tmp_path, png=False)
    assert written.warnings == []
    text = (tmp_path / "交通信用周报_2022-W24.html").read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;厦门甲货运有限公司" in text
    assert remote_references(text) == []
    book = openpyxl.load_workbook(tmp_path / "交通信用周报_2022-W24.xlsx", read_only=True)
    names = [r[0] for r in book["本周新增预警"].iter_rows(min_row=2, values_only=True)]
    assert FORMULA_NAME in names and XSS_NAME in names  # the exact text, in a string cell (issue 23)
    raw = io.BytesIO((tmp_path / "交通信用周报_2022-W24.xlsx").read_bytes())
    assert "<f>" not in zipfile.ZipFile(raw).read("xl/worksheets/sheet7.xml").decode()


# --------------------------------------------------------------------------- the page (AppTest)


def open_briefing(monkeypatch, db: str, query: dict | None = None) -> AppTest:
    monkeypatch.setenv("CREDIT_DB", db)
    monkeypatch.delenv("CREDIT_AUTH", raising=False)
    at = AppTest.from_file(APP, default_timeout=120)
    if query:
        at.query_params.update(query)
    at.run()
    at.switch_page(PAGES["briefing"].path).run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert "交通信用周报" in [t.value for t in at.title]
    return at


def metric(at: AppTest, label: str):
    found = [m for m in at.metric if m.label == label]
    assert found, f"no metric {label!r}; have {[m.label for m in at.metric]}"
    return found[0]


def test_page_shows_the_last_complete_week(monkeypatch, fixture_db):
    at = open_briefing(monkeypatch, fixture_db)
    assert at.selectbox(key="bf_week").value == "2022-W24"
    assert str(at.query_params.get("week")).strip("[]'") == "2022-W24"
    assert metric(at, "本周新增行政处罚").value == "2 件"
    assert metric(at, "本周新增行政处罚").delta == "+1 件（+100.0%）"
    assert metric(at, "严重失信主体占比（全部）").value == "25.00%"
    assert metric(at, "工作要点已完成").value == "2 / 21 项"
    assert metric(at, "风险预警主体").value == "2 户"
    assert len(at.get("plotly_chart")) == 4
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["HTML", "整页 PNG", "图表 PNG", "XLSX"]
    # An earlier week from the list.
    at.selectbox(key="bf_week").select("2022-W23").run()
    assert metric(at, "本周新增行政处罚").value == "1 件"
    assert str(at.query_params.get("week")).strip("[]'") == "2022-W23"


def test_page_week_from_the_url_and_capture_mode(monkeypatch, fixture_db):
    at = open_briefing(monkeypatch, fixture_db, {"week": "2022-W23", "capture": "1"})
    assert metric(at, "本周新增行政处罚").value == "1 件"
    assert not at.get("download_button") and not [s for s in at.selectbox if s.key == "bf_week"]
    # A week the data does not cover yet, or no week at all, falls back to the last complete one.
    at = open_briefing(monkeypatch, fixture_db, {"week": "2022-W30"})
    assert at.selectbox(key="bf_week").value == "2022-W24"
    at = open_briefing(monkeypatch, fixture_db, {"week": "bogus"})
    assert at.selectbox(key="bf_week").value == "2022-W24"


def test_page_on_an_empty_store(monkeypatch, tmp_path):
    db = str(tmp_path / "empty.duckdb")
    with store.connect(db):
        pass
    at = open_briefing(monkeypatch, db)
    assert any("无法生成周报" in i.value for i in at.info)
    assert not at.get("plotly_chart")


def test_demo_week_52_reports_october_against_september(demo_db):
    """Issue 16's done-when: 2022-W52 ends on Sunday 1 January 2023; 1 Jan - 31 Oct = 62 >= 60 days, so October
    is the latest mature month and September the one before; November (32 days) is not compared."""
    with store.connect(demo_db, read_only=True) as con:
        b = briefing.compute(con, Week(2022, 52), settings=Settings(objection_window_days=60))
    k = b.kpis
    assert (k.objection_month, k.objection_prev_month) == ("2022-10", "2022-09")
    card = {c.key: c for c in briefing.cards(k, b.week)}["objection_ratio"]
    assert card.label.endswith("2022年10月（已过异议期）") and card.against == "较9月"
    assert "2022年10月（已过异议期）双公示异议占比" in b.summary and "11月" not in b.summary
