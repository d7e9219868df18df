"""周报 / Weekly briefing: one 1920×1080 screen for the weekly report, and its exports.

A week is an ISO week, Monday to Sunday ("2022-W51"); every number is taken at the
week's Sunday through ``metrics.run``, so the briefing, the pages and the ``metrics``
command read the same queries. This module is pure (no Streamlit):

- ``compute(con, week)`` → ``Briefing``: the KPIs with their week-on-week and
  month-on-month changes, the frames behind the four charts, the week's new risk
  warnings and the datasets' freshness;
- ``summary_text(kpis)``: the short Chinese summary, in words for zero and missing values;
- ``html_document(b)``: a self-contained HTML file (plotly.js inline, system CJK fonts,
  nothing fetched from any host), ``xlsx_bytes(b)``: one sheet per chart plus the KPIs;
- ``render_pngs(b)``: the whole briefing at 1920×1080 and each chart at 1600×900
  (800×450 CSS px at 2x, 16 cm wide in Word at 254 dpi), by headless Chromium through
  Playwright, imported only here; ``PngUnavailable`` when there is none;
- ``write_files(b, out_dir)``: all of it, for ``python -m analytics briefing``.
"""

from __future__ import annotations

import html
import math
import re
import shutil
import tempfile
import threading
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, timedelta
from io import BytesIO
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from analytics.compute import coverage, metrics, objections
from analytics.intake.datasets import DATASETS
from analytics.output import charts, export
from analytics.settings import Settings, load_settings

TITLE = "交通信用周报"
ORG = "厦门市交通运输局 · 信用体系建设"
SHEET_SIZE = (1920, 1080)  # the whole briefing, CSS px
CHART_SIZE = (800, 450)  # one chart alone, CSS px; rendered at 2x → 1600×900
CHART_SCALE = 2
HEATMAP_SIZE = (800, 620)  # 14 sectors need the height; 1600×1240 is still 16 × 12.4 cm
TOP_SECTORS = 3  # sectors beside 全部 in the severe-share trend
# The new-warnings panel lists as many rows as fit its height (all of them go to the XLSX): title, caption,
# table header and the two lines under the table take about WARNING_CHROME px, a row WARNING_ROW px.
WARNING_CHROME = 168
WARNING_ROW = 28
SHEET_PANEL_HEIGHT = 350  # a chart panel of the exported sheet

# The same source names the pages show under their charts.
SOURCES = {
    "work_points": "工作要点进展台账",
    "severe_share": "严重失信主体名单、市场主体名录",
    "objection_ratio": "信用异议、行政处罚及行政许可（双公示）",
    "sector_risk": "行政处罚（双公示）、市场主体名录",
    "risk_warnings": "行政处罚（双公示）、严重失信主体名单",
}
REASONS = {
    "penalties_60": "一年内处罚{n}次以上",
    "departments_3": "{n}个及以上部门处罚",
    "severe_lists_2": "列入多个严重失信名单",
}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


class WeekError(ValueError):
    """A week that is malformed, does not exist, or is not complete in the data; the message is Chinese."""


class PngUnavailable(RuntimeError):
    """No headless Chromium (or no Playwright) to draw PNGs with; the message is Chinese."""


# --------------------------------------------------------------------------- weeks


@dataclass(frozen=True, order=True)
class Week:
    """An ISO week: ``year`` is the ISO year (2021-W52 ends on 2 January 2022)."""

    year: int
    number: int

    @classmethod
    def of(cls, day: date) -> Week:
        iso = day.isocalendar()
        return cls(iso.year, iso.week)

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.number, 1)

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)

    @property
    def code(self) -> str:
        return f"{self.year}-W{self.number:02d}"

    @property
    def dates(self) -> str:
        """12月19日—12月25日, with years when the week spans two."""
        mon, sun = self.monday, self.sunday
        if mon.year != sun.year:
            return f"{mon.year}年{mon.month}月{mon.day}日—{sun.year}年{sun.month}月{sun.day}日"
        return f"{mon.month}月{mon.day}日—{sun.month}月{sun.day}日"

    @property
    def label(self) -> str:
        return f"{self.year}年第{self.number}周（{self.dates}）"

    def shift(self, weeks: int) -> Week:
        return Week.of(self.monday + timedelta(weeks=weeks))


_WEEK_RE = re.compile(r"(\d{4})-?W(\d{1,2})", re.IGNORECASE)


def weeks_in_year(year: int) -> int:
    """52 or 53: the ISO week of 28 December."""
    return date(year, 12, 28).isocalendar().week


def parse_week(text: str) -> Week:
    """'2022-W52' (also '2022W52', '2022-w5') → Week; ``WeekError`` with a Chinese message otherwise."""
    match = _WEEK_RE.fullmatch(str(text or "").strip())
    if not match:
        raise WeekError(f"周次格式应为 YYYY-Www（如 2022-W52）：{text}")
    year, number = int(match[1]), int(match[2])
    if not 1 <= year <= 9998 or not 1 <= number <= weeks_in_year(year):
        last = weeks_in_year(year) if 1 <= year <= 9998 else 52
        raise WeekError(f"{year}年没有第{number}周（ISO 周次为第1周至第{last}周）：{text}")
    return Week(year, number)


def last_complete_week(latest: date) -> Week:
    """The week of the latest Sunday on or before ``latest``."""
    return Week.of(latest - timedelta(days=(latest.weekday() + 1) % 7))


def default_week(con, today: date | None = None) -> Week:
    """The last complete week the data covers: the latest Sunday ≤ ``metrics.default_as_of``."""
    return last_complete_week(metrics.default_as_of(con, today))


def check_week(week: Week, latest: date) -> None:
    """``WeekError`` when the week ends after ``latest``, the last date the data covers."""
    if week.sunday > latest:
        raise WeekError(
            f"{week.code}（{week.dates}）尚未完整：数据最新日期为 {latest:%Y-%m-%d}，"
            f"最近的完整周为 {last_complete_week(latest).code}"
        )


# --------------------------------------------------------------------------- numbers


@dataclass(frozen=True)
class Kpis:
    """The headline numbers; None where the data cannot say (no rows, zero denominator, no earlier period)."""

    penalties: int | None = None  # penalty decisions dated in the week
    penalties_prev: int | None = None  # ... in the week before
    penalties_avg4: float | None = None  # mean of the four weeks before this one
    severe_share: float | None = None  # 全部 at the Sunday, a fraction
    severe_share_prev_week: float | None = None  # at the Sunday before
    severe_share_prev_month: float | None = None  # at the end of the month before
    severe: int | None = None
    entities: int | None = None
    # The objection ratio of the latest mature decision month (objections.headline, issue 16) and of the
    # month before it; the Sunday's own month only as provisional (its objections are still arriving).
    objection_ratio: float | None = None
    objection_ratio_prev_month: float | None = None
    objected: int | None = None
    records: int | None = None
    points_done: int | None = None
    points_total: int | None = None
    points_done_prev_week: int | None = None
    points_done_prev_month: int | None = None
    points_overdue: int | None = None
    mean_progress: float | None = None
    warnings: int | None = None
    warnings_prev_week: int | None = None
    warnings_prev_month: int | None = None
    new_warnings: int | None = None
    lifted_warnings: int | None = None
    # 「行政处罚数据截至 2022-12-31」 when the week lies outside the penalties' or licences' coverage (issue 12):
    # the summary names it and computes no change from that data.
    no_data: str | None = None
    objection_month: str | None = None  # "2022-10": the month objection_ratio is of
    objection_prev_month: str | None = None  # "2022-09"
    objection_provisional: float | None = None  # the Sunday's month up to the Sunday, inside the window
    objection_provisional_month: str | None = None
    objection_provisional_objected: int | None = None
    objection_provisional_records: int | None = None


@dataclass
class Briefing:
    week: Week
    latest: date  # the last date the data covers (metrics.default_as_of)
    months: int
    kpis: Kpis
    points: pd.DataFrame  # work_points at the Sunday
    sections: pd.DataFrame  # per section: progress, completed, overdue, total
    severe_share: pd.DataFrame  # the window, all sectors
    objection_ratio: pd.DataFrame
    sector_risk: pd.DataFrame
    weekly_penalties: pd.DataFrame
    warnings: pd.DataFrame  # risk_warnings at the Sunday
    new_warnings: pd.DataFrame  # warned at the Sunday, not at the Sunday before
    dataset_status: pd.DataFrame
    generated_at: datetime = field(default_factory=lambda: datetime.now().replace(microsecond=0))
    coverage: coverage.Coverage | None = None  # what the data covers (issue 12), for the footer's freshness

    @property
    def as_of(self) -> date:
        return self.week.sunday

    @property
    def summary(self) -> str:
        return summary_text(self.kpis)


def _num(value) -> float | None:
    if value is None:
        return None
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(value) else value


def _int(value) -> int | None:
    number = _num(value)
    return None if number is None else int(number)


def _last_rows(df: pd.DataFrame, column: str, wanted: str) -> tuple[pd.Series | None, pd.Series | None]:
    """The last and second-to-last month rows of one series."""
    part = df[df[column] == wanted].sort_values("month")
    last = part.iloc[-1] if len(part) else None
    before = part.iloc[-2] if len(part) > 1 else None
    return last, before


def compute(con, week: Week, settings: Settings | None = None) -> Briefing:
    """Every number of the briefing for ``week``, read at its Sunday through the metric queries."""
    settings = settings or load_settings()
    months = settings.months
    sunday = week.sunday
    prev_sunday = sunday - timedelta(days=7)
    prev_month_end = sunday.replace(day=1) - timedelta(days=1)

    def run(name: str, as_of: date, window: int = months) -> pd.DataFrame:
        return metrics.run(con, name, as_of, months=window, settings=settings)

    status = run("dataset_status", sunday)
    rows = dict(zip(status["dataset"], status["rows"], strict=True))

    weekly = run("weekly_penalties", sunday, 3)
    this_week = weekly[weekly["week"] == week.code]
    earlier = weekly[weekly["week_start"] < pd.Timestamp(week.monday)].sort_values("week_start")
    # Weeks before the first penalty in the store are not zero weeks: there is nothing to compare with.
    first = con.execute("SELECT min(decision_date) FROM penalties").fetchone()[0]
    earlier = earlier[earlier["week_end"] >= pd.Timestamp(first)] if first is not None else earlier.iloc[0:0]
    has_penalties = bool(rows.get("penalties")) and first is not None and first <= week.sunday
    penalties = _int(this_week["penalties"].iloc[0]) if has_penalties and len(this_week) else None
    penalties_prev = _int(earlier["penalties"].iloc[-1]) if has_penalties and len(earlier) else None
    avg4 = _num(earlier["penalties"].tail(4).mean()) if has_penalties and len(earlier) >= 4 else None

    # A week the penalty data does not cover has no figures, not 0 (coverage.py): nothing to compare either.
    cov = coverage.load(con)
    no_data = coverage.missing_words(cov, ("penalties", "licenses"), week.monday, sunday)
    if cov.state("penalties", week.monday, sunday) == "none":
        penalties = penalties_prev = avg4 = None

    share = run("severe_share", sunday)
    share_now, share_before = _last_rows(share, "sector", metrics.ALL)
    share_week = run("severe_share", prev_sunday, 1)
    share_prev_week, _ = _last_rows(share_week, "sector", metrics.ALL)

    # Enough months for the two latest mature ones whatever the window (objections.headline_months).
    ratio = run("objection_ratio", sunday, objections.headline_months(sunday, settings.objection_window_days, months))
    head = objections.headline(ratio, metrics.ALL)

    points = run("work_points", sunday)
    points_prev_week = run("work_points", prev_sunday)
    points_prev_month = run("work_points", prev_month_end)

    def done(df: pd.DataFrame) -> int | None:
        return int((df["status"] == "已完成").sum()) if len(df) else None

    # risk_warnings at the Sunday and at the Sunday before in one query (its rows with `warned` are
    # risk_warnings' at the Sunday, in its order); at the month end only the count is needed.
    week_rows = run("risk_warnings_week", sunday)
    now, before = week_rows["warned"].astype(bool), week_rows["warned_week_before"].astype(bool)
    warned = week_rows[now].drop(columns=["warned", "warned_week_before"]).reset_index(drop=True)
    new = week_rows[now & ~before].drop(columns=["warned", "warned_week_before"]).reset_index(drop=True)
    lifted = int((before & ~now).sum())
    warned_prev_month = int(run("sector_warnings", prev_month_end, 1)["value"].sum())

    kpis = Kpis(
        penalties=penalties,
        penalties_prev=penalties_prev,
        penalties_avg4=avg4,
        severe_share=None if share_now is None else _num(share_now["share"]),
        severe_share_prev_week=None if share_prev_week is None else _num(share_prev_week["share"]),
        severe_share_prev_month=None if share_before is None else _num(share_before["share"]),
        severe=None if share_now is None else _int(share_now["severe"]),
        entities=None if share_now is None else _int(share_now["entities"]),
        objection_ratio=head.ratio,
        objection_ratio_prev_month=head.prev_ratio,
        objected=head.objected,
        records=head.records,
        objection_month=head.month,
        objection_prev_month=head.prev_month,
        objection_provisional=head.provisional_ratio,
        objection_provisional_month=head.provisional_month,
        objection_provisional_objected=head.provisional_objected,
        objection_provisional_records=head.provisional_records,
        points_done=done(points),
        points_total=len(points) or None,
        points_done_prev_week=done(points_prev_week),
        points_done_prev_month=done(points_prev_month),
        points_overdue=int(points["overdue"].sum()) if len(points) else None,
        mean_progress=round(float(points["progress"].mean()), 1) if len(points) else None,
        warnings=len(warned),
        warnings_prev_week=int(before.sum()),
        warnings_prev_month=warned_prev_month,
        new_warnings=len(new),
        lifted_warnings=lifted,
        no_data=no_data
        if any(cov.state(n, week.monday, sunday) == "none" for n in ("penalties", "licenses"))
        else None,
    )
    return Briefing(
        week=week,
        latest=metrics.default_as_of(con),
        months=months,
        kpis=kpis,
        points=points,
        sections=metrics.section_rollup(points),
        severe_share=share,
        objection_ratio=ratio,
        # Weeks and months the penalty data does not cover are drawn as gaps, not 0 (issue 12).
        sector_risk=coverage.mask_frame(cov, "sector_risk", run("sector_risk", sunday), sunday, sunday),
        weekly_penalties=coverage.mask_frame(cov, "weekly_penalties", weekly, sunday, sunday),
        warnings=warned,
        new_warnings=new,
        dataset_status=status,
        coverage=cov,
    )


# --------------------------------------------------------------------------- words


def pct(value: float | None, digits: int = 2) -> str:
    """0.0453 → 4.53%; None → —."""
    return "—" if value is None else f"{value * 100:.{digits}f}%"


def _pp(now: float | None, before: float | None) -> float | None:
    """The change in percentage points, rounded as shown (so a shown 0.00 is 持平)."""
    if now is None or before is None:
        return None
    return round((now - before) * 100, 2) + 0.0  # + 0.0: no -0.0


def _penalty_words(k: Kpis) -> str:
    n, prev = k.penalties, k.penalties_prev
    if n is None and k.no_data:
        return f"本周无数据：{k.no_data}，不计变化"
    if n is None:
        return "本周暂无行政处罚数据"
    if prev is None:
        return f"本周新增行政处罚 {n:,} 件（无上周数据可比）"
    if n == 0 and prev == 0:
        return "本周与上周均无新增行政处罚"
    if prev == 0:
        return f"本周新增行政处罚 {n:,} 件，上周无新增"
    if n == 0:
        return f"本周无新增行政处罚（上周 {prev:,} 件）"
    if n == prev:
        return f"本周新增行政处罚 {n:,} 件，与上周持平"
    change = round((n - prev) / prev * 100, 1)
    if change == 0:
        return f"本周新增行政处罚 {n:,} 件，与上周基本持平（上周 {prev:,} 件）"
    word = "上升" if change > 0 else "下降"
    return f"本周新增行政处罚 {n:,} 件，环比{word} {abs(change):.1f}%（上周 {prev:,} 件）"


def _ratio_words(name: str, now: float | None, before: float | None, against: str, missing: str) -> str:
    if now is None:
        return missing
    change = _pp(now, before)
    if change is None:
        return f"{name} {pct(now)}（{against}无可比数据）"
    if change == 0:
        return f"{name} {pct(now)}，与{against}持平"
    word = "上升" if change > 0 else "下降"
    return f"{name} {pct(now)}，较{against}{word} {abs(change):.2f} 个百分点"


def _objection_words(k: Kpis) -> str:
    """The latest mature month's ratio and its change from the month before; the current month only as a
    provisional figure, never compared (its objections are still arriving: a fall there means nothing)."""
    provisional = ""
    if k.objection_provisional_month is not None:
        provisional = (
            f"（本月暂计 {pct(k.objection_provisional)}，{objections.IMMATURE_TAG}）"
            if k.objection_provisional is not None
            else "（本月暂无双公示决定）"
        )
    if k.objection_month is None and k.objection_ratio is None:
        if not provisional:
            return "本月暂无双公示决定，异议占比无法计算"
        return "双公示异议占比暂无已过异议期的月份" + provisional
    label = objections.mature_label(k.objection_month) if k.objection_month else "已过异议期的最近一月"
    if k.objection_ratio is None:
        return f"{label}无双公示决定，异议占比无法计算" + provisional
    against = objections.short_month(k.objection_prev_month) if k.objection_prev_month else "上月"
    return (
        _ratio_words(f"{label}双公示异议占比", k.objection_ratio, k.objection_ratio_prev_month, against, "")
        + provisional
    )


def _points_words(k: Kpis) -> str:
    if not k.points_total:
        return "暂无工作要点数据"
    text = f"工作要点已完成 {k.points_done or 0}/{k.points_total} 项"
    if k.points_done_prev_week is not None and k.points_done is not None:
        change = k.points_done - k.points_done_prev_week
        if change > 0:
            text += f"，本周新增完成 {change} 项"
        elif change == 0:
            text += "，本周无新完成要点"
        else:
            text += f"，较上周减少 {-change} 项"
    if k.points_overdue:
        text += f"，逾期 {k.points_overdue} 项"
    elif k.points_overdue == 0:
        text += "，无逾期要点"
    return text


def _warning_words(k: Kpis) -> str:
    if k.warnings is None:
        return "暂无风险预警数据"
    text = f"信用风险预警主体 {k.warnings:,} 户" if k.warnings else "无信用风险预警主体"
    new, lifted = k.new_warnings, k.lifted_warnings
    if new is None or lifted is None:
        return text
    if new and lifted:
        return text + f"，本周新增 {new} 户、解除 {lifted} 户"
    if new:
        return text + f"，本周新增 {new} 户"
    if lifted:
        return text + f"，本周无新增、解除 {lifted} 户"
    return text + "，本周无新增"


def clean(k: Kpis) -> Kpis:
    """NaN and infinite numbers (a 0/0 share from elsewhere) read as missing."""
    bad = {
        f.name: None
        for f in fields(k)
        if isinstance(getattr(k, f.name), float) and not math.isfinite(getattr(k, f.name))
    }
    return replace(k, **bad) if bad else k


def summary_text(k: Kpis) -> str:
    """The briefing's summary in Chinese, one clause per KPI; never 'nan' or 'None'."""
    k = clean(k)
    parts = [
        _penalty_words(k),
        _ratio_words("严重失信主体占比", k.severe_share, k.severe_share_prev_month, "上月末", "严重失信主体占比暂无数据（无在册市场主体）"),
        _objection_words(k),
        _points_words(k),
        _warning_words(k),
    ]  # fmt: skip
    return "；".join(parts) + "。"


@dataclass(frozen=True)
class Card:
    """One KPI card: the value, its main change and a line of context."""

    key: str
    label: str
    value: str
    delta: str | None  # signed ("+4 件（+1.3%）", "-0.12 个百分点") or 持平; None when nothing to compare
    against: str  # 较上周 / 较上月末 / 较上月
    inverse: bool  # a rise is bad news
    note: str

    @property
    def tone(self) -> str:
        """bad / good / flat / none: the colour of the change."""
        if self.delta is None:
            return "none"
        if self.delta == "持平":
            return "flat"
        rise = not self.delta.startswith("-")
        return "bad" if rise == self.inverse else "good"


def _count_delta(now: int | None, before: int | None, unit: str, with_pct: bool = False) -> str | None:
    if now is None or before is None:
        return None
    change = now - before
    if change == 0:
        return "持平"
    text = f"{change:+,} {unit}"
    if with_pct and before:
        text += f"（{change / before * 100:+.1f}%）"
    return text


def _pp_delta(now: float | None, before: float | None) -> str | None:
    change = _pp(now, before)
    if change is None:
        return None
    return "持平" if change == 0 else f"{change:+.2f} 个百分点"


def _signed(now: int | None, before: int | None, unit: str) -> str:
    return "—" if now is None or before is None else (f"{now - before:+d} {unit}" if now != before else "持平")


def cards(k: Kpis, week: Week) -> list[Card]:
    k, sunday = clean(k), week.sunday
    n = k.penalties
    penalty_note = "暂无行政处罚数据"
    if n is not None:
        penalty_note = f"上周 {k.penalties_prev:,} 件" if k.penalties_prev is not None else "无上周数据"
        if k.penalties_avg4 is not None:
            penalty_note += f"；前四周周均 {k.penalties_avg4:,.1f} 件"
    severe_note = "无在册市场主体"
    if k.severe_share is not None:
        severe_note = f"{k.severe:,} 户 / 在册 {k.entities:,} 户；上周末 {pct(k.severe_share_prev_week)}"
    # The latest mature month (issue 16); the Sunday's month only as a provisional figure in the note.
    provisional = (
        f"本月暂计 {pct(k.objection_provisional)}（异议期内）"
        if k.objection_provisional is not None
        else f"本月（{sunday.month}月1日起）暂无双公示决定"
    )
    objection_note = "暂无已过异议期的月份；" + provisional
    if k.objection_month is not None:
        objection_note = f"{objections.month_label(k.objection_month)}无双公示决定；{provisional}"
    if k.objection_ratio is not None:
        objection_note = f"异议 {k.objected:,} / 公示 {k.records:,} 条；{provisional}"
    objection_label = "双公示异议占比"
    if k.objection_month is not None:
        objection_label += f" · {objections.mature_label(k.objection_month)}"
    objection_against = f"较{objections.short_month(k.objection_prev_month)}" if k.objection_prev_month else "较上月"
    points_note = "暂无工作要点数据"
    if k.points_total:
        points_note = (
            f"较上月末 {_signed(k.points_done, k.points_done_prev_month, '项')}；逾期 {k.points_overdue} 项；"
            f"均进度 {k.mean_progress:.0f}%"
        )
    warn_note = (
        f"新增 {k.new_warnings or 0}、解除 {k.lifted_warnings or 0} 户；"
        f"较上月末 {_signed(k.warnings, k.warnings_prev_month, '户')}"
    )
    return [
        Card("penalties", "本周新增行政处罚", "—" if n is None else f"{n:,} 件",
             _count_delta(n, k.penalties_prev, "件", with_pct=True), "较上周", True, penalty_note),
        Card("severe_share", "严重失信主体占比（全部）", pct(k.severe_share),
             _pp_delta(k.severe_share, k.severe_share_prev_month), "较上月末", True, severe_note),
        Card("objection_ratio", objection_label, pct(k.objection_ratio),
             _pp_delta(k.objection_ratio, k.objection_ratio_prev_month), objection_against, True, objection_note),
        Card("work_points", "工作要点已完成",
             "—" if not k.points_total else f"{k.points_done} / {k.points_total} 项",
             _count_delta(k.points_done, k.points_done_prev_week, "项"), "较上周", False, points_note),
        Card("warnings", "风险预警主体", "—" if k.warnings is None else f"{k.warnings:,} 户",
             _count_delta(k.warnings, k.warnings_prev_week, "户"), "较上周", True, warn_note),
    ]  # fmt: skip


def _coverage_words(frame: pd.DataFrame) -> pd.DataFrame:
    """The coverage column in words for the XLSX: blank, 部分覆盖 or 未覆盖 (a row with no data, not 0)."""
    if "coverage" not in frame.columns:
        return frame
    words = {"full": "", "partial": "部分覆盖", "none": "未覆盖（无数据，非0）"}
    return frame.assign(coverage=frame["coverage"].map(lambda v: words.get(v, v)))


def reasons_text(codes) -> str:
    settings = load_settings()
    numbers = {"penalties_60": settings.warn_penalties, "departments_3": settings.warn_departments}
    if codes is None or isinstance(codes, float):
        return ""
    if isinstance(codes, str):
        codes = [codes]
    return "；".join(REASONS.get(c, str(c)).format(n=numbers.get(c, "")) for c in codes)


def freshness(b: Briefing) -> list[dict[str, Any]]:
    """Per dataset: title, rows, latest date, last upload, and whether it has nothing as recent as the week."""
    out = []
    for _, row in b.dataset_status.iterrows():
        latest = None if pd.isna(row["latest_date"]) else pd.Timestamp(row["latest_date"]).date()
        upload = None if pd.isna(row["last_upload"]) else pd.Timestamp(row["last_upload"]).to_pydatetime()
        out.append(
            {
                "dataset": row["dataset"],
                "title": DATASETS[row["dataset"]].title if row["dataset"] in DATASETS else row["dataset"],
                "rows": int(row["rows"]),
                "latest_date": latest,
                "last_upload": upload,
                "stale": latest is None or latest < b.week.monday,
            }
        )
    return out


def warning_breakdown(b: Briefing) -> str:
    """截至周日预警主体共 51 户：一年内处罚60次以上 3 户、…；本周解除 0 户."""
    k = b.kpis
    if not k.warnings:
        return f"截至周日无预警主体；本周解除 {k.lifted_warnings or 0} 户。"
    counts = []
    for code in REASONS:
        n = int(b.warnings["reasons"].map(lambda rs, c=code: c in list(rs)).sum())
        counts.append(f"{reasons_text([code])} {n} 户")
    return f"截至周日预警主体共 {k.warnings:,} 户：" + "、".join(counts) + f"；本周解除 {k.lifted_warnings or 0} 户。"


# --------------------------------------------------------------------------- charts


@dataclass
class ChartSpec:
    key: str
    name: str  # for file and sheet names
    fig: go.Figure
    numbers: pd.DataFrame  # the numbers behind it, Chinese headers


def _month_axis_compact(fig: go.Figure) -> None:
    fig.update_xaxes(title_text=None)


def chart_specs(b: Briefing) -> list[ChartSpec]:
    """The four key charts with the numbers behind each (built by analytics.output.charts)."""
    as_of = b.as_of
    sections = b.sections.sort_values("section") if len(b.sections) else b.sections
    fig1 = charts.section_rollup(sections, as_of, SOURCES["work_points"])
    # The bar text inside the bar (outside when the bar is short): fits a third of a 1920 px screen.
    fig1.update_traces(
        textposition=["inside" if p >= 45 else "outside" for p in sections["progress"]],
        insidetextanchor="end",
        insidetextfont={"color": "#ffffff"},
    )
    fig1.update_xaxes(title_text=None, range=[0, 102])
    numbers1 = pd.DataFrame(
        {
            "部分": [
                charts.section_label(s, t) for s, t in zip(sections["section"], sections["section_title"], strict=True)
            ],
            "平均完成进度(%)": sections["progress"].astype(float).round(1),
            "已完成(项)": sections["completed"],
            "逾期(项)": sections["overdue"],
            "要点数(项)": sections["total"],
        }
    )

    share = b.severe_share
    latest = share[share["month"] == share["month"].max()] if len(share) else share
    ranked = latest[(latest["sector"] != metrics.ALL) & latest["share"].notna()].sort_values(
        ["share", "sector"], ascending=[False, True]
    )
    picked = [metrics.ALL, *ranked["sector"].head(TOP_SECTORS)]
    plotted = share[share["sector"].isin(picked)]
    fig2 = charts.severe_share_trend(plotted, None, as_of, SOURCES["severe_share"])
    fig2.update_layout(title_text=f"严重失信主体占比：全部及占比最高的{TOP_SECTORS}个行业（%）")
    _month_axis_compact(fig2)
    numbers2 = plotted.assign(share=(plotted["share"] * 100).round(4)).rename(
        columns={"month": "月份", "sector": "行业", "entities": "在册主体数(户)", "severe": "严重失信主体数(户)",
                 "share": "占比(%)"}
    )  # fmt: skip

    ratio = b.objection_ratio
    fig3 = charts.objection_trend(ratio, as_of, SOURCES["objection_ratio"])
    _month_axis_compact(fig3)
    numbers3 = objections.flag_frame(ratio).assign(
        **{c: (ratio[c] * 100).round(4) for c in ("ratio", "upheld_ratio", "subjective_ratio")}
    ).rename(
        columns={"month": "月份", "category": "信息类别", "records": "公示信息数(条)", "objected": "被异议数(条)",
                 "upheld": "异议成立数(条)", "subjective": "主观失误数(条)", "ratio": "异议占比(%)",
                 "upheld_ratio": "异议成立率(%)", "subjective_ratio": "主观失误率(%)", "mature": "已过异议期",
                 "mature_on": "异议期届满日"}
    )  # fmt: skip

    risk = b.sector_risk[b.sector_risk["sector"] != metrics.UNREGISTERED]  # no register entities: no per-100 value
    heat = risk[[c for c in ("month", "sector", "per_100", "coverage") if c in risk]].rename(
        columns={"per_100": "value"}
    )
    fig4 = charts.sector_heatmap(heat, "per_100", as_of, SOURCES["sector_risk"])
    fig4.update_traces(texttemplate="%{z:.0f}")  # whole numbers fit the cells of a third of the screen
    _month_axis_compact(fig4)
    numbers4 = _coverage_words(risk.assign(per_100=risk["per_100"].round(4))).rename(
        columns={"month": "月份", "sector": "行业", "penalties": "处罚数(件)", "entities": "在册主体数(户)",
                 "per_100": "每百户处罚数(件)", "coverage": "数据覆盖"}
    )  # fmt: skip
    return [
        ChartSpec("chart_sections", "工作要点进展", fig1, numbers1.reset_index(drop=True)),
        ChartSpec("chart_severe", "严重失信主体占比", fig2, numbers2.reset_index(drop=True)),
        ChartSpec("chart_objection", "双公示异议占比", fig3, numbers3.reset_index(drop=True)),
        ChartSpec("chart_heatmap", "行业风险热力图", fig4, numbers4.reset_index(drop=True)),
    ]


def _screen_fig(fig: go.Figure) -> go.Figure:
    """A copy that fills its box on the one-screen briefing."""
    out = go.Figure(fig)
    out.update_layout(width=None, height=None, autosize=True, margin={"l": 8, "r": 12, "t": 72, "b": 8})
    return out


def print_fig(spec: ChartSpec) -> go.Figure:
    """A copy sized for a Word/WPS page: 800×450 CSS px (taller for the heatmap), larger type."""
    width, height = HEATMAP_SIZE if spec.key == "chart_heatmap" else CHART_SIZE
    out = go.Figure(spec.fig)
    out.update_layout(width=width, height=height, autosize=False, font={"size": 15})
    out.update_layout(title_font_size=20, title_subtitle_font_size=14, legend_font_size=14)
    out.update_traces(textfont_size=13, selector={"type": "heatmap"})
    return out


# --------------------------------------------------------------------------- HTML

FONT_STACK = charts.FONT_FAMILY

CSS = """
.bf-kpis { display: grid; grid-template-columns: repeat(5, 1fr); gap: 12px; }
.bf-card { border: 1px solid #d5dbe3; border-radius: 8px; padding: 10px 16px 9px; background: #fff; min-width: 0; }
.bf-card .bf-label { font-size: 15px; color: #4a5563; }
.bf-card .bf-value { font-size: 32px; font-weight: 700; color: #111; line-height: 1.25; margin-top: 2px; }
.bf-card .bf-delta { font-size: 15px; font-weight: 600; margin-top: 2px; }
.bf-card .bf-delta .bf-against { color: #4a5563; font-weight: 400; margin-left: 6px; }
.bf-card .bf-note { font-size: 13px; color: #4a5563; margin-top: 4px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.bf-bad { color: #a6361c; } .bf-good { color: #00796b; } .bf-flat, .bf-none { color: #6b7280; }
.bf-summary { font-size: 17px; line-height: 1.6; color: #111; background: #f2f5f9; border-left: 5px solid #1b3a5c;
  border-radius: 4px; padding: 8px 16px; }
.bf-summary b { color: #1b3a5c; margin-right: 8px; }
.bf-warnings { height: 100%; box-sizing: border-box; border: 1px solid #d5dbe3; border-radius: 8px; padding: 10px 14px;
  background: #fff; overflow: hidden; display: flex; flex-direction: column; }
.bf-warnings .bf-table { flex: 1 1 auto; min-height: 0; overflow: hidden; }
.bf-warnings h3 { font-size: 17px; margin: 0 0 2px; color: #111; font-weight: 700; }
.bf-warnings .bf-caption { font-size: 12.5px; color: #4a5563; margin-bottom: 6px; }
.bf-warnings table { width: 100%; border-collapse: collapse; font-size: 13px; table-layout: fixed; }
.bf-warnings th { text-align: left; color: #4a5563; font-weight: 600; border-bottom: 1.5px solid #1b3a5c; padding: 3px 4px; }
.bf-warnings td { border-bottom: 1px solid #e5e8ec; padding: 4px 4px; white-space: nowrap; overflow: hidden;
  text-overflow: ellipsis; }
.bf-warnings td.bf-n, .bf-warnings th.bf-n { text-align: right; width: 52px; }
.bf-warnings .bf-empty { font-size: 15px; color: #4a5563; padding: 24px 0; text-align: center; }
.bf-warnings .bf-more { font-size: 12.5px; color: #4a5563; margin-top: 6px; }
.bf-footer { font-size: 12.5px; color: #4a5563; line-height: 1.5; border-top: 1px solid #d5dbe3; padding-top: 6px; }
.bf-footer .bf-stale { color: #a6361c; }
"""

SHEET_CSS = f"""
html, body {{ margin: 0; padding: 0; background: #fff; }}
body, button, input, table {{ font-family: {FONT_STACK}; }}
.bf-sheet {{ width: {SHEET_SIZE[0]}px; height: {SHEET_SIZE[1]}px; box-sizing: border-box; padding: 16px 28px 12px;
  display: grid; grid-template-rows: auto auto auto minmax(0, 1fr) auto; gap: 12px; overflow: hidden; color: #111; }}
.bf-header {{ display: flex; align-items: baseline; justify-content: space-between; border-bottom: 3px solid #1b3a5c;
  padding-bottom: 6px; }}
.bf-header h1 {{ font-size: 30px; margin: 0; letter-spacing: 1px; }}
.bf-header .bf-week {{ font-size: 20px; margin-left: 18px; color: #1b3a5c; font-weight: 600; }}
.bf-header .bf-meta {{ font-size: 14px; color: #4a5563; text-align: right; }}
.bf-grid {{ display: grid; grid-template-columns: 1fr 1fr 1fr; grid-template-rows: minmax(0, 1fr) minmax(0, 1fr);
  gap: 12px; min-height: 0; }}
.bf-panel {{ border: 1px solid #d5dbe3; border-radius: 8px; overflow: hidden; min-height: 0; min-width: 0; background: #fff; }}
.bf-panel > div {{ width: 100%; height: 100%; }}
.bf-tall {{ grid-column: 3; grid-row: 1 / span 2; }}
{CSS}
@page {{ size: {SHEET_SIZE[0]}px {SHEET_SIZE[1]}px; margin: 0; }}
"""

CHARTS_CSS = f"""
html, body {{ margin: 0; padding: 0; background: #fff; }}
body {{ font-family: {FONT_STACK}; }}
.bf-print {{ display: block; margin: 0 0 24px; }}
"""

# Draw every figure, then mark the document ready (the PNG step waits for this, never for a fixed time).
_RENDER_JS = """
(function () {
  var figures = %s;
  var config = {displaylogo: false, responsive: %s, topojsonURL: ""};
  var jobs = figures.map(function (f) { return Plotly.newPlot(f.id, f.fig.data, f.fig.layout, config); });
  Promise.all(jobs)
    .then(function () { return document.fonts ? document.fonts.ready : null; })
    .then(function () { document.documentElement.setAttribute("data-ready", "1"); },
          function (err) { document.documentElement.setAttribute("data-ready", "error");
                           document.documentElement.setAttribute("data-error", String(err)); });
})();
"""


def _esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _figure_json(fig: go.Figure) -> str:
    # "<" only ever occurs inside JSON strings: escaping it keeps "</script>" in a company name harmless.
    return fig.to_json().replace("<", "\\u003c")


def _plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def cards_html(b: Briefing) -> str:
    out = []
    for card in cards(b.kpis, b.week):
        delta = ""
        if card.delta is not None:
            arrow = {"持平": "■ "}.get(card.delta, "▲ " if not card.delta.startswith("-") else "▼ ")
            delta = (
                f'<div class="bf-delta bf-{card.tone}">{arrow}{_esc(card.delta)}'
                f'<span class="bf-against">{_esc(card.against)}</span></div>'
            )
        else:
            delta = '<div class="bf-delta bf-none">—<span class="bf-against">无可比数据</span></div>'
        out.append(
            f'<div class="bf-card" data-kpi="{card.key}"><div class="bf-label">{_esc(card.label)}</div>'
            f'<div class="bf-value">{_esc(card.value)}</div>{delta}'
            f'<div class="bf-note" title="{_esc(card.note)}">{_esc(card.note)}</div></div>'
        )
    return '<section class="bf-kpis">' + "".join(out) + "</section>"


def summary_html(b: Briefing) -> str:
    return f'<section class="bf-summary"><b>本周摘要</b>{_esc(b.summary)}</section>'


def warnings_html(b: Briefing, height: int = SHEET_PANEL_HEIGHT) -> str:
    """The week's new warnings in a panel ``height`` px tall: the rows that fit, then how many more."""
    new = b.new_warnings
    rows = max(1, (height - WARNING_CHROME) // WARNING_ROW)
    prev = b.week.sunday - timedelta(days=7)
    head = (
        f"<h3>本周新增风险预警主体（{len(new)} 户）</h3>"
        f'<div class="bf-caption">{b.week.sunday.month}月{b.week.sunday.day}日符合预警条件、'
        f"{prev.month}月{prev.day}日尚不符合的主体（工作要点第十五项）</div>"
    )
    if new.empty:
        return (
            f'<div class="bf-warnings">{head}<div class="bf-empty">本周无新增风险预警主体</div>'
            f'<div class="bf-more">{_esc(warning_breakdown(b))}</div></div>'
        )
    body = []
    for _, row in new.head(rows).iterrows():
        body.append(
            f'<tr><td title="{_esc(row["name"])}">{_esc(row["name"])}</td><td>{_esc(row["sector"])}</td>'
            f'<td title="{_esc(reasons_text(row["reasons"]))}">{_esc(reasons_text(row["reasons"]))}</td>'
            f'<td class="bf-n">{int(row["penalties_12m"])}</td><td class="bf-n">{int(row["departments_12m"])}</td></tr>'
        )
    more = f'<div class="bf-more">另有 {len(new) - rows} 户，见 XLSX“本周新增预警”表。</div>' if len(new) > rows else ""
    more += f'<div class="bf-more">{_esc(warning_breakdown(b))}</div>'
    table = (
        '<table><colgroup><col style="width:34%"><col style="width:20%"><col><col style="width:52px">'
        '<col style="width:52px"></colgroup><thead><tr><th>主体名称</th><th>行业</th><th>预警原因</th>'
        '<th class="bf-n">处罚</th><th class="bf-n">部门</th></tr></thead><tbody>' + "".join(body) + "</tbody></table>"
    )
    return f'<div class="bf-warnings">{head}<div class="bf-table">{table}</div>{more}</div>'


def footer_html(b: Briefing) -> str:
    parts = []
    for item in freshness(b):
        if not item["rows"]:
            parts.append(f'<span class="bf-stale">{_esc(item["title"])} 未上传</span>')
            continue
        text = f"{item['title']} {item['rows']:,} 条，最新 {item['latest_date']:%Y-%m-%d}"
        if item["last_upload"] is not None:
            text += f"，上传于 {item['last_upload']:%Y-%m-%d}"
        through = b.coverage.through(item["dataset"]) if b.coverage is not None else None
        if through is not None:  # freshness (issue 12): how far the coverage reaches and how long ago
            text += f"，覆盖至 {through:%Y-%m-%d}（距今 {(date.today() - through).days} 天）"
        parts.append(f'<span class="bf-stale">{_esc(text)}（早于本周）</span>' if item["stale"] else _esc(text))
    return (
        f'<footer class="bf-footer">统计日 {b.as_of:%Y-%m-%d}（{b.week.code} 周日）；数据最新日期 {b.latest:%Y-%m-%d}；'
        f"指标口径见 docs/metrics.md。数据来源及更新：{'；'.join(parts)}。</footer>"
    )


def _document(title: str, css: str, body: str, figures: list[tuple[str, go.Figure]], responsive: bool) -> str:
    payload = "[" + ",".join(f'{{"id": "{fid}", "fig": {_figure_json(fig)}}}' for fid, fig in figures) + "]"
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{_esc(title)}</title><style>{css}</style>"
        f'<script type="text/javascript">{_plotly_js()}</script></head>'
        f"<body>{body}<script>{_RENDER_JS % (payload, 'true' if responsive else 'false')}</script></body></html>\n"
    )


def html_document(b: Briefing, specs: list[ChartSpec] | None = None) -> str:
    """The whole briefing as one self-contained page, laid out for 1920×1080, charts interactive."""
    specs = specs if specs is not None else chart_specs(b)
    by_key = {s.key: s for s in specs}
    panels = (
        '<div class="bf-panel"><div id="chart_sections"></div></div>'
        '<div class="bf-panel"><div id="chart_severe"></div></div>'
        '<div class="bf-panel bf-tall"><div id="chart_heatmap"></div></div>'
        '<div class="bf-panel"><div id="chart_objection"></div></div>'
        f'<div class="bf-panel">{warnings_html(b)}</div>'
    )
    body = (
        '<main class="bf-sheet">'
        f'<header class="bf-header"><div><h1 style="display:inline">{TITLE}</h1>'
        f'<span class="bf-week">{_esc(b.week.label)}</span></div>'
        f'<div class="bf-meta">{ORG}<br>统计日 {b.as_of:%Y-%m-%d} · 生成于 {b.generated_at:%Y-%m-%d %H:%M}</div></header>'
        f"{cards_html(b)}{summary_html(b)}"
        f'<section class="bf-grid">{panels}</section>{footer_html(b)}</main>'
    )
    figures = [
        (key, _screen_fig(by_key[key].fig))
        for key in ("chart_sections", "chart_severe", "chart_heatmap", "chart_objection")
    ]
    return _document(f"{TITLE} {b.week.code}", SHEET_CSS, body, figures, responsive=True)


def charts_document(b: Briefing, specs: list[ChartSpec] | None = None) -> str:
    """Each chart alone at print size, one under another: the page the chart PNGs are cut from."""
    specs = specs if specs is not None else chart_specs(b)
    figs = [(s.key, print_fig(s)) for s in specs]  # one copy each (a copy re-validates the whole figure)
    body = "".join(
        f'<div class="bf-print" id="{key}" style="width:{fig.layout.width}px;height:{fig.layout.height}px"></div>'
        for key, fig in figs
    )
    return _document(f"{TITLE} {b.week.code} 图表", CHARTS_CSS, body, figs, False)


# --------------------------------------------------------------------------- XLSX


def kpi_frame(b: Briefing) -> pd.DataFrame:
    k = b.kpis

    def p(value: float | None) -> float | None:
        return None if value is None else round(value * 100, 4)

    def diff(now, before, scale: float = 1):
        return None if now is None or before is None else round((now - before) * scale, 4)

    rows = [
        ("本周新增行政处罚", k.penalties, k.penalties_prev, diff(k.penalties, k.penalties_prev), None, None, "件",
         "处罚决定日期在本周（周一至周日）的行政处罚记录数；上周同口径"),
        ("严重失信主体占比（全部）", p(k.severe_share), p(k.severe_share_prev_week),
         diff(k.severe_share, k.severe_share_prev_week, 100), p(k.severe_share_prev_month),
         diff(k.severe_share, k.severe_share_prev_month, 100), "%（变化为百分点）",
         "周日在册主体中列入严重失信名单的比例；上周、上月末同口径"),
        ("双公示异议占比 · " + (objections.mature_label(k.objection_month) if k.objection_month else "暂无已过异议期的月份"), p(k.objection_ratio), None, None,
         p(k.objection_ratio_prev_month), diff(k.objection_ratio, k.objection_ratio_prev_month, 100),
         "%（变化为百分点）", "已过异议期的最近一个决定月份中被提出异议的处罚、许可决定的比例；上月为其前一月"),
        ("本月双公示异议占比（暂计）", p(k.objection_provisional), None, None, None, None, "%",
         f"本月1日至周日作出的决定，{objections.IMMATURE_TAG}，不作比较"),
        ("工作要点已完成", k.points_done, k.points_done_prev_week, diff(k.points_done, k.points_done_prev_week),
         k.points_done_prev_month, diff(k.points_done, k.points_done_prev_month), "项", f"共 {k.points_total or 0} 项"),
        ("逾期工作要点", k.points_overdue, None, None, None, None, "项", "未完成且计划完成日期早于周日"),
        ("风险预警主体", k.warnings, k.warnings_prev_week, diff(k.warnings, k.warnings_prev_week),
         k.warnings_prev_month, diff(k.warnings, k.warnings_prev_month), "户", "工作要点第十五项的预警条件"),
        ("本周新增风险预警主体", k.new_warnings, None, None, None, None, "户", "周日预警、上周日未预警"),
        ("本周解除风险预警主体", k.lifted_warnings, None, None, None, None, "户", "上周日预警、周日不再预警"),
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=["指标", "本周", "上周", "较上周", "上月末/上月", "较上月", "单位", "口径"])


def xlsx_bytes(b: Briefing, specs: list[ChartSpec] | None = None) -> bytes:
    """摘要, 关键指标, one sheet per chart, the week's new warnings, weekly penalties and data sources."""
    specs = specs if specs is not None else chart_specs(b)
    about = pd.DataFrame(
        [
            ("周次", b.week.code),
            ("起止日期", f"{b.week.monday:%Y-%m-%d} 至 {b.week.sunday:%Y-%m-%d}"),
            ("统计日", b.as_of),
            ("数据最新日期", b.latest),
            ("摘要", b.summary),
            ("生成时间", b.generated_at),
        ],
        columns=["项目", "内容"],
    )
    new = b.new_warnings
    warnings = pd.DataFrame(
        {
            "主体名称": new["name"],
            "行业": new["sector"],
            "所在区": new["district"],
            "预警原因": [reasons_text(r) for r in new["reasons"]],
            "近一年处罚数(件)": new["penalties_12m"],
            "近一年处罚部门数(个)": new["departments_12m"],
            "严重失信名单数(个)": new["severe_lists"],
        }
    )
    weekly = _coverage_words(b.weekly_penalties).rename(
        columns={"week": "周次", "week_start": "周一", "week_end": "周日", "penalties": "处罚数(件)",
                 "coverage": "数据覆盖"}
    )  # fmt: skip
    sources = pd.DataFrame(
        [
            {
                "数据集": item["title"],
                "记录数(条)": item["rows"],
                "数据最新日期": item["latest_date"],
                "最近上传时间": item["last_upload"],
                "早于本周": "是" if item["stale"] else "否",
            }
            for item in freshness(b)
        ]
    )
    sheets = {"摘要": about, "关键指标": kpi_frame(b)}
    for i, spec in enumerate(specs, start=1):
        sheets[f"图{i} {spec.name}"] = spec.numbers
    sheets.update({"本周新增预警": warnings, "每周行政处罚": weekly, "数据来源": sources})
    return export.to_xlsx_book_bytes(sheets, widths=True)


# --------------------------------------------------------------------------- PNG


def chromium_path(settings: Settings | None = None) -> str | None:
    """CREDIT_CHROMIUM when set (None if it is not a file), else chromium on PATH or /usr/bin/chromium."""
    settings = settings or load_settings()
    if settings.chromium:
        return settings.chromium if Path(settings.chromium).is_file() else None
    for candidate in (shutil.which("chromium"), shutil.which("chromium-browser"), "/usr/bin/chromium"):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def png_unavailable(settings: Settings | None = None) -> str | None:
    """Why PNGs cannot be drawn here (Chinese), or None when they can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "未安装 Playwright（Python 包），无法导出 PNG；HTML 和 XLSX 不受影响。"
    if chromium_path(settings) is None:
        return (
            "未找到 Chromium 浏览器，无法导出 PNG；HTML 和 XLSX 不受影响。"
            "可安装 chromium（apt-get install chromium），或用环境变量 CREDIT_CHROMIUM 指定浏览器路径。"
        )
    return None


def _in_thread(work: Callable[[], Any]) -> Any:
    """Run ``work`` on a fresh thread: Playwright's sync API refuses a thread with a running asyncio loop."""
    result: dict[str, Any] = {}

    def target() -> None:
        try:
            result["value"] = work()
        except BaseException as exc:  # handed back to the caller
            result["error"] = exc

    thread = threading.Thread(target=target, name="briefing-png")
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]
    return result["value"]


def render_pngs(
    b: Briefing, settings: Settings | None = None, specs: list[ChartSpec] | None = None
) -> dict[str, bytes]:
    """{"briefing": 1920×1080 PNG, <chart key>: chart PNG, ...}; ``PngUnavailable`` without Chromium.

    Requests to anything but file:, data: and blob: URLs are aborted, so the PNGs show what the
    exported HTML shows offline.
    """
    reason = png_unavailable(settings)
    if reason:
        raise PngUnavailable(reason)
    executable = chromium_path(settings)
    specs = specs if specs is not None else chart_specs(b)
    sheet = html_document(b, specs)
    prints = charts_document(b, specs)
    return _in_thread(lambda: _render(executable, sheet, prints, [s.key for s in specs]))


_READY = "() => document.documentElement.getAttribute('data-ready')"


def _render(executable: str, sheet: str, prints: str, keys: list[str]) -> dict[str, bytes]:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    out: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory(prefix="credit-briefing-") as tmp:
        root = Path(tmp)
        (root / "sheet.html").write_text(sheet, encoding="utf-8")
        (root / "charts.html").write_text(prints, encoding="utf-8")
        try:
            with sync_playwright() as p:
                context = p.chromium.launch_persistent_context(
                    str(root / "profile"),
                    executable_path=executable,
                    headless=True,
                    args=CHROMIUM_ARGS,
                    viewport={"width": SHEET_SIZE[0], "height": SHEET_SIZE[1]},
                    device_scale_factor=CHART_SCALE,
                    locale="zh-CN",
                    timezone_id="Asia/Shanghai",
                )
                try:
                    context.set_default_timeout(60_000)
                    context.route(
                        "**/*",
                        lambda route: (
                            route.continue_()
                            if route.request.url.startswith(("file:", "data:", "blob:"))
                            else route.abort()
                        ),
                    )
                    page = context.new_page()
                    page.goto((root / "sheet.html").as_uri())
                    _wait_ready(page)
                    out["briefing"] = page.screenshot(type="png", scale="css")
                    page.goto((root / "charts.html").as_uri())
                    _wait_ready(page)
                    for key in keys:
                        out[key] = page.locator(f"#{key}").screenshot(type="png", scale="device")
                finally:
                    context.close()
        except PlaywrightError as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise PngUnavailable(f"Chromium 无法生成 PNG：{first}") from exc
    return out


def _wait_ready(page) -> None:
    page.wait_for_function(_READY)
    state = page.evaluate(_READY)
    if state != "1":
        raise PngUnavailable(f"图表绘制失败：{page.evaluate('() => document.documentElement.dataset.error')}")


def charts_zip(pngs: dict[str, bytes], specs: list[ChartSpec], week: Week) -> bytes:
    buf = BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for i, spec in enumerate(specs, start=1):
            zf.writestr(chart_png_name(week, i, spec), pngs[spec.key])
    return buf.getvalue()


# --------------------------------------------------------------------------- files


def file_stem(week: Week) -> str:
    return f"{TITLE}_{week.code}"


def chart_png_name(week: Week, index: int, spec: ChartSpec) -> str:
    return f"{file_stem(week)}_图{index}_{spec.name}.png"


@dataclass
class Written:
    files: list[Path]
    warnings: list[str]


def write_files(b: Briefing, out_dir: Path, settings: Settings | None = None, png: bool = True) -> Written:
    """The HTML, the XLSX and (with Chromium) the PNGs into ``out_dir``; PNG problems become warnings."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    specs = chart_specs(b)
    stem = file_stem(b.week)
    files = []
    page = out_dir / f"{stem}.html"
    page.write_text(html_document(b, specs), encoding="utf-8")
    files.append(page)
    book = out_dir / f"{stem}.xlsx"
    book.write_bytes(xlsx_bytes(b, specs))
    files.append(book)
    warnings = []
    if png:
        try:
            pngs = render_pngs(b, settings, specs)
        except PngUnavailable as exc:
            warnings.append(f"已跳过 PNG 导出：{exc}")
        else:
            whole = out_dir / f"{stem}.png"
            whole.write_bytes(pngs["briefing"])
            files.append(whole)
            for i, spec in enumerate(specs, start=1):
                path = out_dir / chart_png_name(b.week, i, spec)
                path.write_bytes(pngs[spec.key])
                files.append(path)
    return Written(files, warnings)
