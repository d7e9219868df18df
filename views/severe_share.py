"""严重失信主体占比: monthly share per sector and 全部, a target line, and the entities behind it."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analytics.output import charts
from dashboard import auth, privacy, ui
from dashboard.filters import Filters, current
from dashboard.periods import month_end

SOURCE = ui.SOURCES["severe_share"]


def month_on_month(share: pd.DataFrame) -> pd.DataFrame:
    """Per sector: the window's last month share, the month before, and the change in percentage points."""
    rows = []
    for sector, part in share.groupby("sector", sort=False):
        part = part.sort_values("month")
        last = part.iloc[-1]
        before = part.iloc[-2] if len(part) > 1 else None
        prev_share = None if before is None else before["share"]
        change = (
            None
            if prev_share is None or pd.isna(prev_share) or pd.isna(last["share"])
            else (last["share"] - prev_share)
        )
        rows.append(
            {
                "sector": sector,
                "month": last["month"],
                "entities": last["entities"],
                "severe": last["severe"],
                "share": last["share"],
                "previous_share": prev_share,
                "change_pp": None if change is None else round(change * 100, 3),
            }
        )
    return pd.DataFrame(rows)


def compared_sectors(share: pd.DataFrame, mom: pd.DataFrame, default_count: int = 5) -> pd.DataFrame:
    """全部 plus the sectors chosen for the chart; by default the five with the highest latest share."""
    sectors = [s for s in mom["sector"] if s != "全部"]
    if len(sectors) <= 1:
        return share
    ranked = mom[mom["sector"] != "全部"].sort_values("share", ascending=False)["sector"].tolist()
    picked = st.multiselect(
        "对比行业",
        sectors,
        default=ranked[:default_count],
        key="ss_sectors",
        help="图中始终显示“全部”；默认列出最近一月占比最高的5个行业。",
    )
    return share[share["sector"].isin(["全部", *picked])]


def target_input() -> float | None:
    """The target share in percent, kept in the URL as ``target``; None when 0 or unset."""
    if "ss_target" not in st.session_state:
        try:
            st.session_state.ss_target = max(0.0, float(st.query_params.get("target", 0) or 0))
        except ValueError:
            st.session_state.ss_target = 0.0
    value = st.number_input(
        "目标占比（%）",
        min_value=0.0,
        max_value=100.0,
        step=0.1,
        format="%.2f",
        key="ss_target",
        help="在图中画出目标线；填 0 表示不显示。",
    )
    if value:
        if st.query_params.get("target") != f"{value:g}":
            st.query_params["target"] = f"{value:g}"
    elif "target" in st.query_params:
        del st.query_params["target"]
    return value / 100 if value else None


def entities_section(f: Filters, months: list[str]) -> None:
    st.subheader("名单在册主体明细")
    chosen = st.selectbox("月份", months[::-1], key="ss_month", help="列出该月月末仍在严重失信名单中的记录。")
    end = month_end(chosen, f.as_of)
    detail = ui.run(f, "severe_entities", as_of=end)
    if detail is None or detail.empty:
        ui.empty_state(f"{chosen} 月末没有在册的严重失信名单记录（或尚未上传严重失信主体名单）。", f)
        return
    shown = detail[["credit_code", "name", "sector", "district", "list_name", "listed_on", "department", "reason"]]
    st.caption(
        f"截至 {end:%Y-%m-%d} 共 {len(shown)} 条名单记录、{detail['credit_code'].nunique()} 个主体；"
        + privacy.masked_note(auth.current_user())
    )
    ui.table(shown, "ss_entities", column_config={"列入日期": st.column_config.DateColumn(format="YYYY-MM-DD")})
    ui.downloads(shown, f"严重失信主体明细_{end:%Y%m%d}", "ss_entities")


def render() -> None:
    f = current()
    ui.page_header("严重失信主体占比", f, "月末在册市场主体中列入严重失信主体名单的比例（工作要点第十四项）。")
    share = ui.run(f, "severe_share")
    if share is None or share.empty or share["entities"].sum() == 0:
        ui.empty_state(
            "所选条件下没有在册市场主体，无法计算占比。请上传市场主体名录和严重失信主体名单，或调整筛选条件。", f
        )
        return
    if share["severe"].sum() == 0:
        st.info(
            "所选期间没有在册的严重失信主体，占比均为 0。如尚未上传严重失信主体名单，请先上传。", icon=":material/info:"
        )

    mom = month_on_month(share)
    headline = f.sector or "全部"
    top = mom[mom["sector"] == headline]
    c1, c2, c3 = st.columns([1, 1, 2])
    if not top.empty:
        row = top.iloc[0]
        c1.metric(
            f"{row['month']} 占比（{headline}）",
            ui.fmt_pct(row["share"]),
            delta=ui.delta_pct_points(row["share"], row["previous_share"]),
            delta_color="inverse",
            delta_description="环比上月",
        )
        c2.metric("严重失信主体", f"{int(row['severe'])} 户", help=f"月末在册主体 {int(row['entities'])} 户。")
    with c3:
        target = target_input()

    shown = compared_sectors(share, mom)
    ui.chart(
        ui.figure(charts.severe_share_trend, shown, target, f.as_of, SOURCE),
        shown,
        "严重失信主体占比",
        "ss_trend",
        SOURCE,
        f,
        "月末在册主体数为分母；悬停可查看每个点背后的主体数和严重失信主体数。",
    )

    st.subheader("环比变化")
    table = mom.assign(share=mom["share"] * 100, previous_share=mom["previous_share"].astype(float) * 100)
    names = {"share": "占比(%)", "previous_share": "上月占比(%)", "change_pp": "环比变化(百分点)"}
    pct = st.column_config.NumberColumn(format="%.2f")
    ui.table(
        table,
        "ss_mom",
        extra_labels=names,
        height=min(600, 38 + 35 * len(table)),
        column_config={
            "占比(%)": pct,
            "上月占比(%)": pct,
            "环比变化(百分点)": st.column_config.NumberColumn(format="%+.2f"),
        },
    )
    ui.downloads(table.rename(columns=names), f"严重失信主体占比环比_{f.as_of:%Y%m%d}", "ss_mom")

    entities_section(f, sorted(share["month"].unique()))


ui.guarded(render)
