"""Page furniture: headers, empty states, charts with their numbers, downloads."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from analytics import charts
from dashboard import data, exporting, labels
from dashboard.filters import Filters, current
from dashboard.nav import PAGES

log = logging.getLogger(__name__)

SOURCES = {
    "work_points": "工作要点进展台账",
    "severe_share": "严重失信主体名单、市场主体名录",
    "objection_ratio": "信用异议、行政处罚及行政许可（双公示）",
    "objection_departments": "信用异议、行政处罚及行政许可（双公示）",
    "objections_overdue": "信用异议",
    "risk_warnings": "行政处罚（双公示）、严重失信主体名单",
    "sector_risk": "行政处罚（双公示）、市场主体名录",
    "district_risk": "行政处罚（双公示）、市场主体名录",
    "severe_entities": "严重失信主体名单",
    "progress_history": "工作要点进展台账",
    "dataset_status": "上传记录",
}


def page_header(title: str, f: Filters, intro: str | None = None) -> None:
    st.title(title)
    st.caption(f"{f.describe()}。" + (intro or ""))


def link(key: str, label: str | None = None, f: Filters | None = None, icon: str | None = None) -> None:
    """A link to another page that carries the current filters in its query string."""
    page = PAGES[key]
    f = f or current()
    st.page_link(page.path, label=label or page.title, icon=icon or page.icon, query_params=f.params())


def empty_state(message: str, f: Filters | None = None) -> None:
    """A clear Chinese message and the way to fix it: the upload page."""
    st.info(message, icon=":material/info:")
    link("upload", "前往「数据上传」页面上传数据", f)


def run(f: Filters, name: str, **overrides) -> pd.DataFrame | None:
    """A metric for the current filters; ``None`` (with a message shown) when it fails."""
    params = {"as_of": f.as_of, "months": f.months, "sector": f.sector, "district": f.district, **overrides}
    try:
        return data.run(f.db, f.version, name, params["as_of"], params["months"], params["sector"], params["district"])
    except Exception as exc:  # a failing metric must not take the page down
        log.exception("metric %s failed", name)
        st.warning(f"指标「{name}」计算失败：{exc}", icon=":material/warning:")
        return None


def count_metric(
    label: str,
    now: int,
    before: int | None,
    unit: str,
    inverse: bool = False,
    description: str = "较上月末",
    help: str | None = None,
    value: str | None = None,
) -> None:
    """A count with its change; no change reads as 持平, without a red or green arrow."""
    shown = value or f"{now} {unit}"
    change = None if before is None else now - before
    if change is None:
        st.metric(label, shown, help=help)
    elif change == 0:
        st.metric(
            label, shown, delta="持平", delta_color="off", delta_arrow="off", delta_description=description, help=help
        )
    else:
        st.metric(
            label,
            shown,
            delta=f"{change:+d} {unit}",
            delta_color="inverse" if inverse else "normal",
            delta_description=description,
            help=help,
        )


def downloads(df: pd.DataFrame, stem: str, key: str, sheet: str = "数据") -> None:
    """CSV and XLSX buttons for ``df`` (with Chinese headers)."""
    table = labels.chinese(df)
    row = st.container(horizontal=True)
    row.download_button(
        "下载 CSV",
        exporting.to_csv_bytes(table),
        file_name=f"{stem}.csv",
        mime="text/csv",
        key=f"dl_csv_{key}",
        icon=":material/download:",
        on_click="ignore",
    )
    row.download_button(
        "下载 XLSX",
        lambda: exporting.to_xlsx_bytes(table, sheet),
        file_name=f"{stem}.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key=f"dl_xlsx_{key}",
        icon=":material/download:",
        on_click="ignore",
    )


def chart(
    fig: go.Figure, numbers: pd.DataFrame, stem: str, key: str, source: str, f: Filters, note: str | None = None
) -> None:
    """A Plotly figure, its caption (as-of date and source) and the numbers behind it."""
    st.plotly_chart(fig, theme=None, key=f"chart_{key}", config={"displaylogo": False, "locale": "zh-CN"})
    st.caption(f"{charts.subtitle(f.as_of, source)}。" + (note or ""))
    downloads(numbers, f"{stem}_{f.as_of:%Y%m%d}", key)


def table(
    df: pd.DataFrame,
    key: str,
    column_config: dict | None = None,
    height: int | str = "auto",
    extra_labels: dict[str, str] | None = None,
) -> None:
    st.dataframe(
        labels.chinese(df, extra_labels),
        hide_index=True,
        column_config=column_config,
        height=height,
        key=f"table_{key}",
    )


def fmt_pct(value, digits: int = 2) -> str:
    if value is None or pd.isna(value):
        return "—"
    return f"{value * 100:.{digits}f}%"


def delta_pct_points(now, before, digits: int = 2) -> str | None:
    """Change of a ratio in percentage points, for st.metric's delta."""
    if now is None or before is None or pd.isna(now) or pd.isna(before):
        return None
    return f"{(now - before) * 100:+.{digits}f} 个百分点"


def guarded(render: Callable[[], None]) -> None:
    """Run a page body; an unexpected error becomes a Chinese message, not a traceback."""
    try:
        render()
    except Exception as exc:
        log.exception("page failed")
        st.error(f"页面出错：{exc}。请检查数据或联系管理员。", icon=":material/error:")
