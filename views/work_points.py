"""工作要点进展: the 21 points of the 2022 plan by section, with progress, status and latest report."""

from __future__ import annotations

import re

import pandas as pd
import streamlit as st

from analytics.compute import metrics
from analytics.output import charts
from analytics.output.escaping import markdown_text as md
from dashboard import ui
from dashboard.filters import current

SOURCE = ui.SOURCES["work_points"]
STATUS_ORDER = ("已完成", "推进中", "滞后", "未启动")
# Badges, not emoji: the machines that take screenshots (and many office PCs) have no colour-emoji font.
STATUS_BADGES = {"已完成": "primary", "推进中": "blue", "滞后": "red", "未启动": "gray"}


def units_of(row) -> list[str]:
    """Lead, responsible and reporting units of a point, split on Chinese separators."""
    found = []
    for value in (row.get("lead_unit"), row.get("responsible_units"), row.get("unit")):
        if isinstance(value, str):
            found += [u.strip() for u in re.split(r"[、，,；;/]", value) if u.strip()]
    return list(dict.fromkeys(found))


@st.cache_data(show_spinner=False, max_entries=64)
def rollup(points: pd.DataFrame) -> pd.DataFrame:
    """metrics.section_rollup, cached: the same points on a rerun."""
    return metrics.section_rollup(points)


@st.cache_data(show_spinner=False, max_entries=64)
def history_by_section(history: pd.DataFrame, points: pd.DataFrame) -> pd.DataFrame:
    """Mean progress of each section's points at every report date (a point keeps its last value; 0 before
    its first report), plus 全部. Columns: report_date, series, progress. Cached: the same frames on a rerun."""
    history = history[history["point_id"].isin(points["id"])]
    if history.empty:
        return pd.DataFrame(columns=["report_date", "series", "progress"])
    grid = (
        history.pivot_table(index="report_date", columns="point_id", values="progress", aggfunc="last")
        .sort_index()
        .ffill()
        .reindex(columns=points["id"])
        .fillna(0.0)
    )
    long = grid.reset_index().melt(id_vars="report_date", var_name="point_id", value_name="progress")
    long["section"] = long["point_id"].map(dict(zip(points["id"], points["section"], strict=True)))
    by_section = long.groupby(["section", "report_date"], as_index=False)["progress"].mean()  # 一 … 五 in order
    titles = dict(zip(points["section"], points["section_title"], strict=False))
    by_section["series"] = [charts.section_label(s, titles[s]) for s in by_section["section"]]
    total = long.groupby("report_date", as_index=False)["progress"].mean().assign(series="全部")
    out = pd.concat([total, by_section], ignore_index=True)
    out["progress"] = out["progress"].round(1)
    return out[["report_date", "series", "progress"]]


def render() -> None:
    f = current()
    ui.page_header("2022年工作要点进展", f, "按五个部分列出21项工作要点的最新填报进度与状态。")
    points = ui.run(f, "work_points")
    if points is None or points.empty:
        ui.empty_state("没有工作要点数据。", f)
        return
    if points["report_date"].isna().all():
        ui.empty_state("截至所选日期还没有任何进展填报，所有要点均显示为“未启动”。请上传工作要点进展台账。", f)

    points = points.copy()
    points["units"] = points.apply(units_of, axis=1)
    sections = points.drop_duplicates("section").sort_values("section")
    section_labels = {
        s: charts.section_label(s, t) for s, t in zip(sections["section"], sections["section_title"], strict=True)
    }
    all_units = sorted({u for us in points["units"] for u in us})

    c1, c2, c3 = st.columns(3)
    statuses = c1.multiselect("状态", STATUS_ORDER, placeholder="全部状态", key="wp_status")
    chosen_sections = c2.multiselect(
        "部分", list(section_labels), format_func=section_labels.get, placeholder="全部部分", key="wp_section"
    )
    unit = c3.selectbox("责任单位", ["全部", *all_units], key="wp_unit")

    shown = points
    if statuses:
        shown = shown[shown["status"].isin(statuses)]
    if chosen_sections:
        shown = shown[shown["section"].isin(chosen_sections)]
    if unit != "全部":
        shown = shown[shown["units"].map(lambda us: unit in us)]
    if shown.empty:
        st.info("所选条件下没有工作要点，请调整状态、部分或责任单位筛选。", icon=":material/filter_alt_off:")
        return

    cols = st.columns(6)
    counts = shown["status"].value_counts()
    cols[0].metric("要点数", f"{len(shown)} 项")
    for col, status in zip(cols[1:5], STATUS_ORDER, strict=True):
        col.metric(status, f"{int(counts.get(status, 0))} 项")
    cols[5].metric("逾期", f"{int(shown['overdue'].sum())} 项", help="未完成且计划完成日期早于统计日。")

    numbers = shown.drop(columns=["units"])
    table_cols = [
        "id",
        "section_title",
        "title",
        "progress",
        "status",
        "planned_date",
        "overdue",
        "report_date",
        "lead_unit",
        "responsible_units",
        "note",
    ]
    ui.chart(
        ui.figure(charts.work_points_progress, numbers, f.as_of, SOURCE),
        numbers[table_cols],
        "工作要点进度",
        "wp_progress",
        SOURCE,
        f,
        "颜色表示状态：深蓝＝已完成，浅蓝＝推进中，红色斜纹＝滞后，浅灰点纹＝未启动；“逾期”指未完成且已过计划完成日期。",
    )

    st.subheader("各部分汇总")
    sec = rollup(numbers)  # without the list-valued units column, which Streamlit could only pickle to hash
    ui.chart(
        ui.figure(charts.section_rollup, sec, f.as_of, SOURCE),
        sec,
        "各部分汇总",
        "wp_sections",
        SOURCE,
        f,
        "平均进度为该部分各要点最新填报进度的平均值。",
    )

    st.subheader("进度变化")
    history = ui.run(f, "progress_history")
    if history is None or history.empty:
        st.info("截至所选日期还没有进展填报记录。", icon=":material/info:")
    else:
        trend = history_by_section(history, numbers[["id", "section", "section_title"]])
        ui.chart(
            ui.figure(charts.progress_trend, trend, "series", f.as_of, SOURCE, "各部分平均完成进度变化（%）"),
            trend,
            "进度变化",
            "wp_history",
            SOURCE,
            f,
            "每个要点取各填报日期前的最新进度，未填报记为0。",
        )

    st.subheader("各要点最新进展")
    for section, label in section_labels.items():
        part = shown[shown["section"] == section]
        if part.empty:
            continue
        done = int((part["status"] == "已完成").sum())
        with st.expander(f"{label}（{len(part)} 项，已完成 {done} 项）", expanded=True):
            for _, row in part.iterrows():
                overdue = " · :red[**逾期**]" if row["overdue"] else ""
                planned = charts.fmt_date(row["planned_date"])
                reported = charts.fmt_date(row["report_date"])
                st.markdown(
                    f"**{int(row['id'])}. {md(row['title'])}** — :{STATUS_BADGES.get(row['status'], 'gray')}-badge[{md(row['status'])}]"
                    f" · 进度 {row['progress']:.0f}% · 计划完成 {planned}{overdue}  \n"
                    f"牵头单位：{md(row['lead_unit'] or '—')}；最新填报：{reported}"
                    + (f"（{md(row['unit'])}）" if isinstance(row.get("unit"), str) and row["unit"] else "")
                )
                note = row["note"] if isinstance(row["note"], str) and row["note"].strip() else "（暂无进展说明）"
                st.caption(md(note))

    st.subheader("明细表")
    ui.table(
        numbers[table_cols],
        "wp_table",
        height=38 + 35 * len(numbers),
        column_config={
            "完成进度(%)": st.column_config.ProgressColumn(format="%.0f%%", min_value=0, max_value=100),
            "计划完成日期": st.column_config.DateColumn(format="YYYY-MM-DD"),
            "填报日期": st.column_config.DateColumn(format="YYYY-MM-DD"),
            "是否逾期": st.column_config.CheckboxColumn(),
        },
    )


ui.guarded(render)
