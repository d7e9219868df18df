"""总览: KPI cards with their change from the previous period, each linking to its page."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from analytics.compute import coverage, objections
from analytics.intake.datasets import DATASETS
from analytics.settings import load_settings
from dashboard import data, ui
from dashboard.filters import current
from dashboard.periods import previous_month_end


def work_point_counts(df: pd.DataFrame | None) -> tuple[int, int, int]:
    """(completed, overdue, total)."""
    if df is None or df.empty:
        return 0, 0, 0
    return int((df["status"] == "已完成").sum()), int(df["overdue"].sum()), len(df)


def last_two(df: pd.DataFrame | None, value: str, where: tuple[str, str]) -> tuple[float | None, float | None]:
    """The value of the window's last month and of the month before, for one series."""
    if df is None or df.empty:
        return None, None
    col, wanted = where
    series = df[df[col] == wanted].sort_values("month")[value].tolist()
    now = series[-1] if series else None
    before = series[-2] if len(series) > 1 else None
    return now, before


def warning_counts(df: pd.DataFrame | None, as_of: date, prev: date) -> tuple[int, int]:
    """(warned at the as-of date, warned at the previous month end) from sector_warnings over two months."""
    if df is None or df.empty:
        return 0, 0
    per_month = df.groupby("month")["value"].sum()
    return tuple(int(per_month.get(f"{d:%Y-%m}", 0)) for d in (as_of, prev))


def _when(value, fmt: str) -> str:
    return "—" if value is None or pd.isna(value) else pd.Timestamp(value).strftime(fmt)


def _num(value) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def render() -> None:
    f = current()
    ui.page_header("交通信用看板 · 总览", f, "各指标卡片显示较上期（上月末）的变化，点击链接查看详情。")
    empty = data.is_empty(f.db, f.version)
    if empty:
        ui.empty_state("数据库中还没有任何数据。请先上传市场主体名录、严重失信名单、双公示及异议等数据。", f)

    prev = previous_month_end(f.as_of)
    cov = data.coverage_of(f.db, f.version)
    month_span = lambda month: coverage.month_period(str(month)[:7], f.as_of)  # noqa: E731
    c1, c2, c3, c4 = st.columns(4)

    with c1.container(border=True):
        now_df = ui.run(f, "work_points")
        before_df = ui.run(f, "work_points", as_of=prev)
        done, overdue, total = work_point_counts(now_df)
        done_before, overdue_before, _ = work_point_counts(before_df)
        ui.count_metric(
            "工作要点已完成",
            done,
            done_before,
            "项",
            value=f"{done} / {total or 21} 项",
            help="截至统计日状态为“已完成”的工作要点数。",
        )
        ui.count_metric(
            "逾期要点", overdue, overdue_before, "项", inverse=True, help="未完成且计划完成日期早于统计日的要点数。"
        )
        ui.link("work_points", "查看工作要点进展", f)

    with c2.container(border=True):
        series = f.sector or "全部"
        share = ui.run(f, "severe_share")
        now, before = last_two(share, "share", ("sector", series))
        spark = [] if share is None else share[share["sector"] == series].sort_values("month")["share"].dropna()
        st.metric(
            f"严重失信主体占比（{series}）",
            ui.fmt_pct(_num(now)),
            delta=ui.delta_pct_points(_num(now), _num(before)),
            delta_color="inverse",
            delta_description="环比上月",
            chart_data=[v * 100 for v in spark] or None,
            chart_type="line",
            help="月末在册主体中，至少在一份严重失信名单上的主体所占比例。",
        )
        ui.link("severe_share", "查看严重失信主体占比", f)

    with c3.container(border=True):
        # The latest mature decision month (issue 16): a newer month's objections are still arriving.
        window = objections.headline_months(f.as_of, load_settings().objection_window_days, f.months)
        ratio = ui.run(f, "objection_ratio", months=window)
        head = objections.headline(ratio, "全部")
        mature = [] if ratio is None else ratio[(ratio["category"] == "全部") & ratio["mature"].astype(bool)]
        spark = [] if ratio is None else mature.sort_values("month")["ratio"].dropna()
        st.metric(
            "双公示异议占比",
            ui.fmt_pct(head.ratio),
            delta=ui.delta_pct_points(head.ratio, head.prev_ratio),
            delta_color="inverse",
            delta_description=f"较{objections.short_month(head.prev_month)}" if head.prev_month else "较上月",
            chart_data=[v * 100 for v in spark] or None,
            chart_type="line",
            help="已过异议期的最近一个月作出的行政处罚、行政许可决定中被提出异议的比例。异议在决定后数周才陆续提出，"
            "更近月份的比例尚未完整，不作比较。",
        )
        # The card is narrow: the month it is of goes on the line under it, in full (「2022年10月（已过异议期）」).
        which = head.label if head.month else "暂无已过异议期的月份"
        if head.prev_month:
            which += f"；{objections.short_month(head.prev_month)} {ui.fmt_pct(head.prev_ratio)}"
        st.caption(which)
        if head.month and (gap := coverage.missing_words(cov, ("penalties", "licenses"), *month_span(head.month))):
            st.caption(gap)
        if head.provisional_month:
            st.caption(f"本月暂计 {ui.fmt_pct(head.provisional_ratio)}（{objections.IMMATURE_TAG}）")
        ui.link("objections", "查看双公示异议占比", f)

    with c4.container(border=True):
        # One query for both counts: the window's two month ends are prev and the as-of date.
        n_now, n_before = warning_counts(ui.run(f, "sector_warnings", months=2), f.as_of, prev)
        uncovered = coverage.missing_words(cov, ("penalties",), f.as_of, f.as_of)
        if uncovered:  # no penalty data for the as-of date: say so, never a count of 0 and its change
            st.metric("风险预警主体", uncovered, help="统计日不在行政处罚数据的覆盖期内，预警主体数无法计算。")
        else:
            ui.count_metric(
                "风险预警主体",
                n_now,
                n_before,
                "户",
                inverse=True,
                help="一年内处罚60次以上、受3个及以上部门处罚或列入多个严重失信名单的主体（工作要点第十五项）。",
            )
        ui.link("sector_risk", "查看行业风险与预警名单", f)

    st.subheader("数据集状态")
    status = ui.run(f, "dataset_status")
    if status is None or status.empty:
        ui.empty_state("暂无数据集状态。", f)
        return
    table = status.copy()
    table["dataset"] = table["dataset"].map(lambda n: DATASETS[n].title if n in DATASETS else n)
    shown = pd.DataFrame(
        {
            "数据集": table["dataset"],
            "记录数(条)": [f"{int(r):,}" for r in table["rows"]],
            "最近上传时间": [_when(v, "%Y-%m-%d %H:%M") for v in table["last_upload"]],
            "数据最新日期": [_when(v, "%Y-%m-%d") for v in table["latest_date"]],
        }
    )
    # Freshness (issue 12): how far each dataset's coverage reaches, and how long ago that is.
    stale_days = load_settings().stale_days
    through = [cov.through(n) for n in status["dataset"]]
    ages = [None if t is None else (date.today() - t).days for t in through]
    shown["覆盖至"] = [_when(t, "%Y-%m-%d") for t in through]
    shown["距今(天)"] = ["—" if a is None else str(a) for a in ages]
    stale = [a is not None and a > stale_days for a in ages]
    styled = shown.set_index("数据集").style.apply(
        lambda col: ["background-color: #fdecea; color: #a61b1b" if s else "" for s in stale], axis=0
    )
    st.table(styled)
    if any(stale):
        st.caption(f"红色：覆盖期截止日距今超过 {stale_days} 天（设置 CREDIT_STALE_DAYS），请上传更新的导出文件。")
    missing = [
        DATASETS[n].title for n, r in zip(status["dataset"], status["rows"], strict=True) if r == 0 and n in DATASETS
    ]
    if missing and not empty:
        st.info("以下数据集尚未上传，相关指标可能为空：" + "、".join(missing), icon=":material/info:")
        ui.link("upload", "前往「数据上传」", f)
    ui.downloads(table, f"数据集状态_{f.as_of:%Y%m%d}", "dataset_status")


ui.guarded(render)
