"""周报: the weekly briefing on one 1920×1080 screen, with its HTML, PNG and XLSX exports.

Everything comes from analytics.output.briefing (the same metric queries as the other pages, read at the
chosen week's Sunday); this page only picks the week and draws. The week is kept in the URL as
``week`` (ISO, 2022-W51). ``capture=1`` in the URL leaves only the briefing on the screen (no
sidebar, header, banner or controls), for a screenshot or a projector.
"""

from __future__ import annotations

import html

import streamlit as st

from analytics.output import briefing
from dashboard import auth, data, ui
from dashboard.filters import current
from dashboard.nav import PAGES

HEADING = briefing.TITLE
ROOT = "bf_root"  # the key of the container holding the briefing (CSS class st-key-bf_root)
WEEKS_BACK = 52
# Chart heights (px) that fill 1080 px without scrolling: with the Streamlit header, banner and controls,
# and without them in capture mode.
CHART_HEIGHT = {False: 276, True: 346}
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@st.cache_data(show_spinner=False, max_entries=32)
def load(db: str, ver: tuple, week: str) -> briefing.Briefing:
    with data.connect(db) as con:
        return briefing.compute(con, briefing.parse_week(week))


@st.cache_resource(show_spinner=False, max_entries=16)
def screen_figures(db: str, ver: tuple, week: str, capture: bool) -> dict:
    """The four charts sized for this page, built once per week and layout rather than on every rerun.

    Shared between sessions without copying: nothing changes them after this (st.plotly_chart only reads).
    """
    height = CHART_HEIGHT[capture]
    out = {}
    for spec in briefing.chart_specs(load(db, ver, week)):
        fig = spec.fig
        tall = 2 * height + 9 if spec.key == "chart_heatmap" else height  # the heatmap spans two rows
        fig.update_layout(height=tall, margin={"l": 8, "r": 12, "t": 72, "b": 8})
        out[spec.key] = fig
    return out


@st.cache_data(show_spinner=False, max_entries=8)
def html_file(db: str, ver: tuple, week: str) -> bytes:
    return briefing.html_document(load(db, ver, week)).encode("utf-8")


@st.cache_data(show_spinner=False, max_entries=8)
def xlsx_file(db: str, ver: tuple, week: str) -> bytes:
    return briefing.xlsx_bytes(load(db, ver, week))


@st.cache_data(show_spinner=False, max_entries=4)
def png_files(db: str, ver: tuple, week: str) -> dict[str, bytes]:
    return briefing.render_pngs(load(db, ver, week))


def charts_zip(db: str, ver: tuple, week: str) -> bytes:
    b = load(db, ver, week)
    return briefing.charts_zip(png_files(db, ver, week), briefing.chart_specs(b), b.week)


def page_css(capture: bool) -> str:
    """This page's layout; the style element goes away with the page, so other pages keep theirs."""
    css = f"""
[data-testid="stMainBlockContainer"] {{ max-width: none; padding: 3.4rem 1.5rem 0.25rem; }}
.st-key-{ROOT} {{ gap: 0.55rem; }}
.st-key-{ROOT} [data-testid="stVerticalBlock"] {{ gap: 0.55rem; }}
.st-key-{ROOT} h1 {{ font-size: 1.9rem; padding: 0; white-space: nowrap; }}
.st-key-{ROOT} .bf-title-week {{ font-size: 1.25rem; font-weight: 600; color: #1b3a5c; white-space: nowrap; }}
.st-key-{ROOT} [data-testid="stMetricValue"] {{ font-size: 1.9rem; }}
.st-key-{ROOT} [data-testid="stCaptionContainer"] {{ white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }}
.st-key-{ROOT} .st-key-bf_kpis [data-testid="stVerticalBlockBorderWrapper"],
.st-key-{ROOT} .st-key-bf_kpis [data-testid="stVerticalBlock"] {{ gap: 0.1rem; }}
{briefing.CSS}
"""
    if capture:
        css += f"""
[data-testid="stSidebar"], [data-testid="stHeader"], [data-testid="stExpandSidebarButton"],
[data-testid="stToolbar"], [data-testid="stDecoration"] {{ display: none !important; }}
[data-testid="stMainBlockContainer"] {{ padding: 14px 28px 0 !important; }}
[data-testid="stMainBlockContainer"] > [data-testid="stVerticalBlock"] > :not(:has(.st-key-{ROOT})):not(.st-key-{ROOT}) {{
  display: none !important; }}
"""
    return f"<style>{css}</style>"


def url_week(default: briefing.Week) -> briefing.Week:
    """The URL's week when it is a complete week the data covers, else ``default``."""
    try:
        asked = briefing.parse_week(st.query_params.get("week", ""))
    except briefing.WeekError:
        return default
    return asked if asked <= default else default


def pick_week(default: briefing.Week) -> briefing.Week:
    """The week from the URL (a complete week the data covers) or the last complete one; kept in the URL."""
    options = [default.shift(-i).code for i in range(WEEKS_BACK)]
    if "bf_week" not in st.session_state:
        st.session_state.bf_week = url_week(default).code
    if st.session_state.bf_week not in options:
        options.append(st.session_state.bf_week)
    code = st.selectbox(
        "周次",
        options,
        key="bf_week",
        format_func=lambda c: briefing.parse_week(c).label,
        label_visibility="collapsed",
        help="周一至周日；默认为数据覆盖的最近一个完整周。周报统计全市全部行业，不受侧边栏筛选条件影响。",
        width=330,
    )
    if st.query_params.get("week") != code:
        st.query_params["week"] = code
    return briefing.parse_week(code)


def _audited(file_name: str) -> dict:
    """The briefing names the week's newly warned entities: its downloads go to the audit log."""
    return {"on_click": auth.record, "args": ("download", {"file": file_name, "what": "周报（含新增预警主体名称）"})}


def controls(db: str, ver: tuple, week: briefing.Week) -> None:
    stem = briefing.file_stem(week)
    code = week.code
    st.download_button(
        "HTML",
        lambda: html_file(db, ver, code),
        file_name=f"{stem}.html",
        mime="text/html",
        key="bf_dl_html",
        icon=":material/download:",
        **_audited(f"{stem}.html"),
        help="单个 HTML 文件，离线打开，图表可交互。",
    )
    reason = briefing.png_unavailable()
    st.download_button(
        "整页 PNG",
        lambda: png_files(db, ver, code)["briefing"],
        file_name=f"{stem}.png",
        mime="image/png",
        key="bf_dl_png",
        icon=":material/image:",
        **_audited(f"{stem}.png"),
        disabled=reason is not None,
        help=reason or "整个周报，1920×1080 像素。",
    )
    st.download_button(
        "图表 PNG",
        lambda: charts_zip(db, ver, code),
        file_name=f"{stem}_图表.zip",
        mime="application/zip",
        key="bf_dl_charts",
        icon=":material/bar_chart:",
        on_click="ignore",
        disabled=reason is not None,
        help=reason or "四张图表（ZIP），每张 1600×900 像素，插入 Word/WPS 为 16 厘米宽。",
    )
    st.download_button(
        "XLSX",
        lambda: xlsx_file(db, ver, code),
        file_name=f"{stem}.xlsx",
        mime=XLSX_MIME,
        key="bf_dl_xlsx",
        icon=":material/table:",
        **_audited(f"{stem}.xlsx"),
        help="关键指标和每张图表背后的数字，每张图一个工作表。",
    )
    st.page_link(
        PAGES["briefing"].path,
        label="截图视图",
        icon=":material/fullscreen:",
        query_params={"week": code, "capture": "1"},
        help="只显示周报本身（无侧边栏和按钮），适合截图或投屏。",
    )


def kpi_cards(b: briefing.Briefing) -> None:
    with st.container(key="bf_kpis", horizontal=True, gap="small"):
        for card in briefing.cards(b.kpis, b.week):
            with st.container(border=True):
                kwargs = {}
                if card.delta == "持平":
                    kwargs = {"delta_color": "off", "delta_arrow": "off"}
                elif card.delta is not None:
                    kwargs = {"delta_color": "inverse" if card.inverse else "normal"}
                st.metric(
                    card.label,
                    card.value,
                    delta=card.delta,
                    delta_description=card.against if card.delta is not None else None,
                    **kwargs,
                )
                st.caption(card.note)


def render() -> None:
    f = current()
    capture = str(st.query_params.get("capture", "")).lower() in ("1", "true", "yes")
    st.html(page_css(capture))
    if data.is_empty(f.db, f.version):
        st.title(HEADING, anchor=False)
        ui.empty_state(
            "数据库中还没有任何数据，无法生成周报。请先上传市场主体名录、严重失信名单、双公示及异议等数据。", f
        )
        return
    default = briefing.last_complete_week(data.default_as_of(f.db, f.version))
    height = CHART_HEIGHT[capture]
    with st.container(key=ROOT):
        top = st.container(horizontal=True, vertical_alignment="center", gap="medium")
        with top:
            st.title(HEADING, anchor=False, width="content")
            week = url_week(default) if capture else pick_week(default)
        b = load(f.db, f.version, week.code)
        with top:
            week_label = "" if not capture else f'<span class="bf-title-week">{html.escape(b.week.label)}</span>'
            st.html(
                f'{week_label}<span style="color:#4a5563;margin-left:14px">统计日 {b.as_of:%Y-%m-%d}</span>',
                width="content",
            )
            if not capture:
                controls(f.db, f.version, b.week)
        kpi_cards(b)
        st.html(briefing.summary_html(b))
        figs = screen_figures(f.db, f.version, b.week.code, capture)
        left, middle, right = st.columns(3, gap="small")
        config = {"displaylogo": False, "locale": "zh-CN"}
        for column, key in ((left, "chart_sections"), (middle, "chart_severe"), (left, "chart_objection")):
            column.plotly_chart(figs[key], theme=None, key=f"bf_{key}", config=config)
        with middle:
            st.html(f'<div style="height:{height}px">{briefing.warnings_html(b, height)}</div>')
        right.plotly_chart(figs["chart_heatmap"], theme=None, key="bf_chart_heatmap", config=config)
        st.html(briefing.footer_html(b))


ui.guarded(render)
