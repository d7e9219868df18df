"""双公示异议占比: monthly objection ratio by category, department ranking, overdue objections, data quality."""

from __future__ import annotations

import streamlit as st

from analytics.compute import objections
from analytics.output import charts
from analytics.settings import load_settings
from dashboard import ui
from dashboard.filters import current

SOURCE = ui.SOURCES["objection_ratio"]


def delay_panel(f, window_days: int) -> None:
    """The measured delay from decision to first objection beside the window W, so W can be set from data."""
    delay = ui.run(f, "objection_delay")
    if delay is None or delay.empty:
        return
    d = delay.iloc[0]
    with st.container(border=True):
        cols = st.columns(3)
        cols[0].metric(
            "异议期（设置）",
            f"{window_days} 天",
            help="某月最后一天距统计日满该天数后，该月的异议占比才视为完整（已过异议期）。"
            "可用环境变量 CREDIT_OBJECTION_WINDOW_DAYS 调整。",
        )
        n = int(d["objected"] or 0)
        if not n:
            cols[1].metric("决定至异议的时滞（中位数）", "—")
            cols[2].metric("决定至异议的时滞（90%）", "—")
            st.caption("统计期内尚无被提出异议的记录，无法测算时滞。")
            return
        cols[1].metric(
            "决定至异议的时滞（中位数）",
            f"{int(d['p50_days'])} 天",
            help="一半的被异议记录在决定后该天数内被提出异议。",
        )
        cols[2].metric(
            "决定至异议的时滞（90%）", f"{int(d['p90_days'])} 天", help="90% 的被异议记录在决定后该天数内被提出异议。"
        )
        text = (
            f"实测：统计期内作出决定、至统计日已被提出异议的 {n:,} 条记录中，第一条异议距决定日期中位数 "
            f"{int(d['p50_days'])} 天、90% 在 {int(d['p90_days'])} 天内、最长 {int(d['max_days'])} 天；"
            f"{window_days} 天内提出的占 {ui.fmt_pct(d['within_share'], 1)}。"
            "最近作出的决定还来不及被提出较晚的异议，实测时滞因此偏短。"
        )
        if int(d["p90_days"]) > window_days:
            text += f"90% 分位数已超过异议期 {window_days} 天，可考虑调大异议期。"
        if int(d["before_decision"] or 0):
            text += f"另有 {int(d['before_decision'])} 条记录的异议提出日期早于决定日期，未计入（请核对数据）。"
        st.caption(text)


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

    window_days = load_settings().objection_window_days
    # The headline is the latest mature month (issue 16), whatever the window: it may need a longer one.
    window = objections.headline_months(f.as_of, window_days, f.months)
    head = objections.headline(ratio if window == f.months else ui.run(f, "objection_ratio", months=window))
    cols = st.columns(4)
    if head.month:
        month = objections.month_label(head.month)
        cols[0].metric(
            f"{month}异议占比（{objections.MATURE_TAG}）",
            ui.fmt_pct(head.ratio),
            delta=ui.delta_pct_points(head.ratio, head.prev_ratio),
            delta_color="inverse",
            delta_description=f"较{objections.short_month(head.prev_month)}" if head.prev_month else "较上月",
            help=f"已过异议期（决定均已满 {window_days} 天）的最近一个月：其异议已基本提出完毕，数字可比。",
        )
        cols[1].metric(f"{objections.month_label(head.prev_month)}异议占比", ui.fmt_pct(head.prev_ratio))
        cols[2].metric(f"{month}异议成立率", ui.fmt_pct(head.upheld_ratio), help="异议成立的记录 ÷ 公示记录数。")
        cols[3].metric(
            f"{month}主观失误率",
            ui.fmt_pct(head.subjective_ratio),
            help="异议成立且属主观失误的记录 ÷ 公示记录数。",
        )
    else:
        st.info(
            f"统计期内还没有已过异议期（决定均已满 {window_days} 天）的月份，异议占比暂不作比较。",
            icon=":material/info:",
        )
    total = ratio[ratio["category"] == "全部"].sort_values("month")
    young = [objections.month_label(m) for m in total.loc[~total["mature"].astype(bool), "month"]]
    if young:
        provisional = ""
        if head.provisional_month:
            provisional = (
                f"本月（{objections.month_label(head.provisional_month)}）暂计异议占比 {ui.fmt_pct(head.provisional_ratio)}"
                f"（异议 {head.provisional_objected or 0} / 公示 {head.provisional_records or 0} 条）。"
            )
        st.caption(
            f"{provisional}{'、'.join(young)}仍在异议期内（{objections.IMMATURE_TAG}）：其决定的异议还在陆续提出，"
            "比例只会上升，不与之前的月份比较。"
        )

    delay_panel(f, window_days)

    note = "异议占比＝被提出异议的记录数 ÷ 当月作出决定的记录数。"
    if young:
        note += f"浅色虚线及灰色底纹为异议期内的月份（{objections.IMMATURE_TAG}）。"
    numbers = objections.flag_frame(ratio)
    ui.chart(
        ui.figure(charts.objection_trend, ratio, f.as_of, SOURCE),
        numbers,
        "双公示异议占比",
        "obj_trend",
        SOURCE,
        f,
        note,
    )
    ui.chart(
        ui.figure(charts.objection_quality, ratio, f.as_of, SOURCE),
        numbers,
        "异议成立率与主观失误率",
        "obj_quality",
        SOURCE,
        f,
        "比例的分母均为当月作出决定的公示记录数（行政处罚与行政许可合计）。"
        + (f"浅色柱为异议期内的月份（{objections.IMMATURE_TAG}）。" if young else ""),
    )

    st.subheader("异议发生率（流量口径）")
    rate = ui.run(f, "objection_rate")
    if rate is not None and not rate.empty:
        ui.chart(
            ui.figure(charts.objection_rate_trend, rate, f.as_of, SOURCE),
            rate,
            "异议发生率",
            "obj_rate",
            SOURCE,
            f,
            "异议发生率＝当月提出的异议件数 ÷ 当月作出决定的公示信息数 × 1000（部分单位采用的口径）。"
            "它不追踪某月决定的后续异议，无需等待异议期；但分子与分母不是同一批决定，与上面的异议占比含义不同。",
        )

    st.subheader("各部门异议占比排名")
    depts = ui.run(f, "objection_departments")
    ripe = total.loc[total["mature"].astype(bool), "month"]
    if depts is None or depts.empty:
        st.info(
            f"所选期间没有已过异议期（决定均已满 {window_days} 天）的月份，暂无可排名的部门。"
            if ripe.empty
            else "所选期间没有可排名的部门。",
            icon=":material/info:",
        )
    else:
        top = st.slider("显示前 N 个部门", 5, 30, 15, key="obj_top")
        ui.chart(
            ui.figure(charts.department_ranking, depts, top, f.as_of, SOURCE),
            depts,
            "各部门异议占比",
            "obj_depts",
            SOURCE,
            f,
            f"{objections.month_label(ripe.iloc[0])}至{objections.month_label(ripe.iloc[-1])}"
            f"（已过异议期的月份）各机关作出的处罚、许可决定中被提出异议的比例，从高到低排列；"
            "异议期内的月份不计入，以免决定较晚的部门显得异议较少。",
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
