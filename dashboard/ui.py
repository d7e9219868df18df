"""Page furniture: headers, empty states, charts with their numbers, downloads."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from analytics.output import charts
from analytics.settings import load_settings
from dashboard import auth, data, exporting, labels, media, privacy
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


def link(key: str, label: str | None = None, f: Filters | None = None, icon: str | None = None) -> bool:
    """A link to another page that carries the current filters in its query string.

    Nothing is drawn (and False returned) when the user's role may not use that page.
    """
    page = PAGES[key]
    if not auth.allowed(auth.current_user(), page.permission):
        return False
    f = f or current()
    st.page_link(page.path, label=label or page.title, icon=icon or page.icon, query_params=f.params())
    return True


def empty_state(message: str, f: Filters | None = None) -> None:
    """A clear Chinese message and the way to fix it: the upload page (or who to ask, for viewers)."""
    st.info(message, icon=":material/info:")
    if not link("upload", "前往「数据上传」页面上传数据", f):
        st.caption("上传数据需要分析员或管理员权限，请联系相关人员。")


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


def _audit_download(file_name: str, rows: int, columns: list[str], masked: bool) -> None:
    """A download button's click (entity-level data only): who took which rows, masked or not."""
    auth.record(
        "download",
        {"file": file_name, "rows": rows, "columns": columns, "identifiers": "masked" if masked else "full"},
    )


# A table of at least this many rows gets its CSV built on click (st.download_button with a callable), like
# every XLSX: building it on each rerun would cost every rerun of the page. A smaller one carries its CSV in
# the page, so the click downloads without a round trip to the server.
LAZY_CSV_ROWS = 1000
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _expiring(build: Callable[[], bytes], mime: str, file_name: str) -> Callable[[], bytes]:
    """``build`` as a download callable whose file the server deletes download_ttl_seconds after the click."""

    def payload() -> bytes:
        data = build()
        media.expire_after(data, mime, file_name, load_settings().download_ttl_seconds)
        return data

    return payload


def download_table(df: pd.DataFrame, user) -> pd.DataFrame:
    """What a download of ``df`` holds for ``user``: masked for the role, Chinese headers."""
    return labels.chinese(privacy.mask_frame(df, user))


def downloads(
    df: pd.DataFrame,
    stem: str,
    key: str,
    sheet: str = "数据",
    formats: tuple[str, ...] = ("csv", "xlsx"),
    label: str | None = None,
) -> None:
    """Download buttons for ``df`` with Chinese headers, masked for the user's role (privacy.mask_frame).

    XLSX, and CSV of LAZY_CSV_ROWS rows or more, are built only when clicked. Downloads of entity-level
    data (identifiers or names) are written to the audit log when clicked.
    """
    user = auth.current_user()  # read now: a callable runs outside the script run, without its session
    columns = [str(c) for c in download_table(df.head(0), user).columns]
    entity_level = privacy.is_entity_level(df)
    masked = not privacy.sees_identifiers(user)
    row = st.container(horizontal=True)
    for fmt in formats:
        file_name = f"{stem}.{fmt}"
        audited = {"on_click": _audit_download, "args": (file_name, len(df), columns, masked)}
        if fmt == "csv":
            mime = "text/csv"
            build = lambda: exporting.to_csv_bytes(download_table(df, user))  # noqa: E731
        else:
            mime = XLSX_MIME
            build = lambda b=sheet: exporting.to_xlsx_bytes(download_table(df, user), b)  # noqa: E731
        if entity_level:  # identifiers: built on click, and gone from the server seconds later
            payload = _expiring(build, mime, file_name)
        elif fmt == "csv" and len(df) < LAZY_CSV_ROWS:
            payload = build()
        else:
            payload = build
        row.download_button(
            label or f"下载 {fmt.upper()}",
            payload,
            file_name=file_name,
            mime=mime,
            key=f"dl_{fmt}_{key}",
            icon=":material/download:",
            **(audited if entity_level else {"on_click": "ignore"}),
        )


def figure(builder: Callable[..., go.Figure], *args) -> go.Figure:
    """``builder(*args)``, a chart builder of analytics/output/charts.py, built once per distinct input.

    Plotly validates every property it is given, so building a chart costs 10–20 ms; a rerun with the same
    numbers (a widget elsewhere on the page, switching back to the page) reuses the figure. The figure is
    shared between reruns and sessions without copying: hand it to ``chart`` (st.plotly_chart only reads
    it) and never change it. The key is the builder's name and its arguments, the frame's contents included.
    """
    return _figure(f"{builder.__module__}.{builder.__qualname__}", builder, *args)


@st.cache_resource(show_spinner=False, max_entries=256)
def _figure(name: str, _builder: Callable[..., go.Figure], *args) -> go.Figure:
    return _builder(*args)


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
    """A table, masked for the user's role (privacy.mask_frame), with Chinese headers."""
    st.dataframe(
        labels.chinese(privacy.mask_frame(df, auth.current_user()), extra_labels),
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
