"""The shared sidebar: as-of date, month window, sector and district.

The filter state lives in the URL (st.query_params: as_of, months, sector,
district) so a copied link reopens the same view. Widgets are drawn by app.py
on every page, which keeps their session state across page switches; each run
writes the current values back to the URL, so switching pages carries them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import streamlit as st

from dashboard import data

ALL = "全部"
MONTH_CHOICES = (3, 6, 12, 18, 24, 36)
MIN_DATE = date(2015, 1, 1)
STATE_KEY = "filters"


@dataclass(frozen=True)
class Filters:
    db: str
    version: tuple
    as_of: date
    months: int
    sector: str | None  # None = 全部
    district: str | None

    def params(self) -> dict[str, str]:
        """The URL form: as_of and months always, sector and district when chosen."""
        out = {"as_of": self.as_of.isoformat(), "months": str(self.months)}
        if self.sector:
            out["sector"] = self.sector
        if self.district:
            out["district"] = self.district
        return out

    def describe(self) -> str:
        parts = [f"截至 {self.as_of:%Y-%m-%d}", f"近 {self.months} 个月"]
        parts.append(f"行业：{self.sector or ALL}")
        parts.append(f"区域：{self.district or ALL}")
        return "，".join(parts)


def parse_date(text: str | None) -> date | None:
    if not text:
        return None
    try:
        value = date.fromisoformat(str(text)[:10])
    except ValueError:
        return None
    return value if MIN_DATE <= value <= date.today() else None


def parse_months(text: str | None) -> int | None:
    try:
        value = int(str(text))
    except (TypeError, ValueError):
        return None
    return value if 1 <= value <= 60 else None


def _init(key: str, value) -> None:
    if key not in st.session_state:
        st.session_state[key] = value


def sidebar(db: str) -> Filters:
    """Draw the filters in the sidebar, sync them with the URL, and return them."""
    ver = data.version(db)
    qp = st.query_params
    default_as_of = data.default_as_of(db, ver)
    sectors, districts = data.choices(db, ver)

    _init("f_as_of", parse_date(qp.get("as_of")) or default_as_of)
    _init("f_months", parse_months(qp.get("months")) or 12)
    _init("f_sector", qp.get("sector") or ALL)
    _init("f_district", qp.get("district") or ALL)

    month_options = sorted(set(MONTH_CHOICES) | {st.session_state.f_months})
    sector_options = [ALL, *sectors]
    district_options = [ALL, *districts]
    if st.session_state.f_sector not in sector_options:
        st.session_state.f_sector = ALL
    if st.session_state.f_district not in district_options:
        st.session_state.f_district = ALL

    with st.sidebar:
        st.header("筛选条件")
        st.date_input(
            "截至日期",
            key="f_as_of",
            min_value=MIN_DATE,
            max_value=date.today(),
            format="YYYY-MM-DD",
            help=f"默认为数据中的最新日期（{default_as_of:%Y-%m-%d}）。",
        )
        st.selectbox("统计月数", month_options, key="f_months", format_func=lambda m: f"近 {m} 个月")
        st.selectbox("行业", sector_options, key="f_sector")
        st.selectbox("所在区", district_options, key="f_district")
        st.caption("筛选条件保存在网址中，复制链接即可分享同一视图。")

    f = Filters(
        db=db,
        version=ver,
        as_of=st.session_state.f_as_of or default_as_of,
        months=int(st.session_state.f_months),
        sector=None if st.session_state.f_sector == ALL else st.session_state.f_sector,
        district=None if st.session_state.f_district == ALL else st.session_state.f_district,
    )
    sync_url(f)
    st.session_state[STATE_KEY] = f
    return f


def sync_url(f: Filters) -> None:
    """Write the filters to the URL, touching only our own keys and only when they differ."""
    wanted = f.params()
    for key in ("as_of", "months", "sector", "district"):
        if key in wanted:
            if st.query_params.get(key) != wanted[key]:
                st.query_params[key] = wanted[key]
        elif key in st.query_params:
            del st.query_params[key]


def current() -> Filters:
    """The filters app.py computed for this run (pages call this)."""
    f = st.session_state.get(STATE_KEY)
    if f is None:  # a page run on its own, outside app.py
        f = sidebar(data.db_path())
    return f
