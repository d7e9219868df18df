"""双公示异议占比: monthly objection ratio by category, department ranking, overdue objections, data quality."""

from __future__ import annotations

import streamlit as st

from analytics import charts
from dashboard import ui
from dashboard.filters import current

SOURCE = ui.SOURCES["objection_ratio"]


def render() -> None:
    f = current()
    ui.page_header(
        "双公示信息异议占比",
        f,
        "行政处罚、行政许可决定被提出信用异议的比例，以及异议成立、主观失误情况（工作要点第六项）。",
    )
    if f.sector or f.district:
        st.caption("说明：异议占比按作出决定的机关统计，不受行业、所在区筛选影响。")

    ratio = ui.run(f, "objection_ratio")
    if ratio is None or ratio.empty or ratio["records"].sum() == 0:
        ui.empty_state("所选期间没有行政处罚或行政许可记录，无法计算异议占比。请上传双公示数据和信用异议数据。", f)
        return
    if ratio["objected"].sum() == 0:
        st.info("所选期间的双公示记录均未被提出异议。如尚未上传信用异议数据，请先上传。", icon=":material/info:")

    total = ratio[ratio["category"] == "全部"].sort_values("month")
    cols = st.columns(4)
    if len(total):
        now = total.iloc[-1]
        before = total.iloc[-2] if len(total) > 1 else None
        cols[0].metric(
            f"{now['month']} 异议占比",
            ui.fmt_pct(now["ratio"]),
            delta=None if before is None else ui.delta_pct_points(now["ratio"], before["ratio"]),
            delta_color="inverse",
            delta_description="较上月",
        )
        cols[1].metric("上月异议占比", ui.fmt_pct(None if before is None else before["ratio"]))
        cols[2].metric("本月异议成立率", ui.fmt_pct(now["upheld_ratio"]), help="异议成立的记录 ÷ 公示记录数。")
        cols[3].metric(
            "本月主观失误率", ui.fmt_pct(now["subjective_ratio"]), help="异议成立且属主观失误的记录 ÷ 公示记录数。"
        )

    ui.chart(
        ui.figure(charts.objection_trend, ratio, f.as_of, SOURCE),
        ratio,
        "双公示异议占比",
        "obj_trend",
        SOURCE,
        f,
        "异议占比＝被提出异议的记录数 ÷ 当月作出决定的记录数。",
    )
    ui.chart(
        ui.figure(charts.objection_quality, ratio, f.as_of, SOURCE),
        ratio,
        "异议成立率与主观失误率",
        "obj_quality",
        SOURCE,
        f,
        "比例的分母均为当月作出决定的公示记录数（行政处罚与行政许可合计）。",
    )

    st.subheader("各部门异议占比排名")
    depts = ui.run(f, "objection_departments")
    if depts is None or depts.empty:
        st.info("所选期间没有可排名的部门。", icon=":material/info:")
    else:
        top = st.slider("显示前 N 个部门", 5, 30, 15, key="obj_top")
        ui.chart(
            ui.figure(charts.department_ranking, depts, top, f.as_of, SOURCE),
            depts,
            "各部门异议占比",
            "obj_depts",
            SOURCE,
            f,
            "统计期内各机关作出的处罚、许可决定中被提出异议的比例，从高到低排列。",
        )

    st.subheader("超过办理时限仍未办结的异议")
    overdue = ui.run(f, "objections_overdue")
    if overdue is None or overdue.empty:
        st.success("截至统计日，没有超过办理时限仍未办结的异议。", icon=":material/check_circle:")
    else:
        st.warning(
            f"共 {len(overdue)} 件异议已超过办理时限仍在处理中，最长超期 {int(overdue['days_overdue'].max())} 天。",
            icon=":material/schedule:",
        )
        ui.table(
            overdue,
            "obj_overdue",
            column_config={
                "异议提出日期": st.column_config.DateColumn(format="YYYY-MM-DD"),
                "办理时限": st.column_config.DateColumn(format="YYYY-MM-DD"),
            },
        )
        ui.downloads(overdue, f"超时未办结异议_{f.as_of:%Y%m%d}", "obj_overdue")

    st.subheader("数据质量")
    unmatched = ui.run(f, "unmatched")
    n = 0 if unmatched is None or unmatched.empty else int(unmatched["objections"].iloc[0] or 0)
    if n:
        st.warning(
            f"有 {n} 件异议的决定文书号在已上传的行政处罚/行政许可记录中找不到，未计入上面的异议占比。"
            "请核对文书号，或补充上传对应的双公示数据。",
            icon=":material/link_off:",
        )
        ui.link("upload", "前往「数据上传」补充数据", f)
    else:
        st.caption("所有异议均能按决定文书号匹配到已上传的双公示记录。")


ui.guarded(render)
