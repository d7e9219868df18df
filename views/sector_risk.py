"""行业风险热力图: sector × month heatmap, a district map that works offline, and the risk-warning list."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analytics.output import charts
from analytics.output.escaping import markdown_text as md
from dashboard import auth, data, labels, privacy, ui
from dashboard.filters import Filters, current

# Served by Streamlit's static file serving (server.enableStaticServing): no base-map tiles from outside.
BLANK_MAP_STYLE = "app/static/blank_style.json"
SOURCE = ui.SOURCES["sector_risk"]
MEASURE_SOURCES = {
    "penalties": SOURCE,
    "per_100": SOURCE,
    "severe_share": ui.SOURCES["severe_share"],
    "warnings": ui.SOURCES["risk_warnings"],
}


def heatmap_frame(f: Filters, measure: str) -> pd.DataFrame | None:
    """month, sector, value for the chosen measure."""
    if measure in ("penalties", "per_100"):
        df = ui.run(f, "sector_risk")
        return None if df is None else df[["month", "sector", measure, "coverage"]].rename(columns={measure: "value"})
    if measure == "severe_share":
        df = ui.run(f, "severe_share")
        return (
            None
            if df is None
            else df[df["sector"] != "全部"][["month", "sector", "share"]].rename(columns={"share": "value"})
        )
    df = ui.run(f, "sector_warnings")  # risk_warnings at each month end, counted by sector, in one query
    return None if df is None else df[["month", "sector", "value", "coverage"]]


def heatmap_section(f: Filters) -> None:
    measure = st.radio(
        "热力图指标",
        list(charts.MEASURES),
        format_func=lambda m: charts.MEASURES[m][0],
        horizontal=True,
        key="sr_measure",
    )
    df = heatmap_frame(f, measure)
    if df is None:
        return
    if df.empty or df["value"].fillna(0).sum() == 0:
        ui.empty_state(
            f"所选期间“{charts.MEASURES[measure][0]}”没有数据。请上传行政处罚、市场主体名录或严重失信名单。", f
        )
        return
    # min_count: a month the data does not cover stays empty in the download, it does not sum to 0.
    numbers = df.pivot_table(
        index="sector", columns="month", values="value", aggfunc=lambda s: s.sum(min_count=1), dropna=False
    ).reset_index()
    note = {
        "warnings": "每月按月末统计符合预警条件的主体数。",
        "per_100": "每百户处罚数＝当月处罚数 ÷ 月末在册主体数 × 100。",
    }.get(measure, "")
    ui.chart(
        ui.figure(charts.sector_heatmap, df, measure, f.as_of, MEASURE_SOURCES[measure]),
        numbers.rename(columns={"sector": "行业"}),
        f"行业风险热力图_{charts.MEASURES[measure][0]}",
        f"sr_heat_{measure}",
        MEASURE_SOURCES[measure],
        f,
        note,
    )


def district_section(f: Filters) -> None:
    st.subheader("各区处罚强度")
    risk = ui.run(f, "district_risk")
    if risk is None:
        return
    if risk.empty or risk["entities"].sum() == 0:
        ui.empty_state("所选条件下没有在册市场主体，无法绘制各区地图。", f)
        return
    geo = data.districts_geo()
    mapped = risk[risk["district"].isin(geo["district"])]
    left, right = st.columns(2)
    with left:
        st.pydeck_chart(charts.district_deck(mapped, geo, BLANK_MAP_STYLE), height=460, key="sr_map")
        st.caption(
            f"圆点大小表示每百户市场主体处罚数，位于各区几何中心；离线底图，不加载在线地图瓦片。"
            f"{charts.subtitle(f.as_of, ui.SOURCES['district_risk'])}。"
        )
    with right:
        st.plotly_chart(
            ui.figure(charts.district_bar, risk, f.as_of, ui.SOURCES["district_risk"]),
            theme=None,
            key="chart_sr_district",
            config={"displaylogo": False},
        )
    unregistered = risk[~risk["district"].isin(geo["district"])]
    if not unregistered.empty:
        st.caption(
            "未能归入六个区的处罚："
            + "，".join(
                f"{md(d)} {int(p)} 件" for d, p in zip(unregistered["district"], unregistered["penalties"], strict=True)
            )
        )
    ui.downloads(risk, f"各区处罚强度_{f.as_of:%Y%m%d}", "sr_district")


def warnings_section(f: Filters) -> None:
    st.subheader("信用风险预警名单")
    st.caption(
        "工作要点第十五项：一年内受到行政处罚60次以上、受到3个及以上部门处罚、或被列入多个严重失信主体名单的市场主体。"
    )
    warned = ui.run(f, "risk_warnings")
    if warned is None:
        return
    if warned.empty:
        st.success("截至统计日，没有符合预警条件的市场主体。", icon=":material/check_circle:")
        return
    shown = warned.copy()  # masked for the user's role by ui.table and ui.downloads
    shown["reasons"] = shown["reasons"].map(labels.reasons_text)
    reason_options = sorted({labels.reason_label(r) for rs in warned["reasons"] for r in rs})
    picked = st.multiselect("预警原因", reason_options, placeholder="全部原因", key="sr_reasons")
    if picked:
        shown = shown[shown["reasons"].map(lambda text: any(p in text for p in picked))]
    cols = st.columns(4)
    cols[0].metric("预警主体", f"{len(shown)} 户")
    for col, code in zip(cols[1:], ("penalties_60", "departments_3", "severe_lists_2"), strict=True):
        n = int(warned["reasons"].map(lambda rs, c=code: c in list(rs)).sum())
        col.metric(labels.reason_label(code), f"{n} 户")
    order = ["credit_code", "name", "reasons", "sector", "district", "penalties_12m", "departments_12m", "severe_lists"]
    shown = shown[order]
    ui.table(shown, "sr_warnings", height=min(460, 38 + 35 * len(shown)))
    st.caption("点击表头可排序；" + privacy.masked_note(auth.current_user()))
    ui.downloads(shown, f"信用风险预警名单_{f.as_of:%Y%m%d}", "sr_warnings")


def render() -> None:
    f = current()
    ui.page_header("行业风险热力图", f, "各行业逐月的处罚、严重失信和预警情况，各区处罚强度，以及信用风险预警名单。")
    heatmap_section(f)
    district_section(f)
    warnings_section(f)


ui.guarded(render)
