"""The objection ratio's headline: the latest mature decision month, never the newest one.

Objections arrive weeks after the decision they contest, so a month's ``objection_ratio`` keeps rising until
all its decisions are past the objection window W (``objection_ratio.mature``, see docs/metrics.md). The
overview card, the weekly briefing and the page all read their headline here: the latest mature month, its
change from the month before it (mature too, by definition), and the current month only as provisional.
Pure: pandas in, numbers and words out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

import pandas as pd

ALL = "全部"
MATURE_TAG = "已过异议期"
IMMATURE_TAG = "异议期内，数据未成熟"


def month_label(month: str | None) -> str:
    """'2022-10' → 2022年10月."""
    if not month:
        return "—"
    year, number = str(month).split("-")[:2]
    return f"{int(year)}年{int(number)}月"


def mature_label(month: str | None) -> str:
    """'2022-10' → 2022年10月（已过异议期）."""
    return f"{month_label(month)}（{MATURE_TAG}）"


def short_month(month: str | None) -> str:
    """'2022-09' → 9月."""
    return "—" if not month else f"{int(str(month).split('-')[1])}月"


def latest_mature_month_end(as_of: date, window_days: int) -> date:
    """The last day of the latest month that is mature at ``as_of``: the last month end on or before
    as_of - W (as_of - that day >= W is the definition; a month ending later is younger than W)."""
    cut = pd.Timestamp(as_of) - pd.Timedelta(days=window_days)
    end = cut + pd.offsets.MonthEnd(0)  # cut's own month end
    if end > cut:
        end = cut - pd.offsets.MonthEnd(1)  # the month before ends before cut
    return end.date()


def headline_months(as_of: date, window_days: int, months: int = 1) -> int:
    """The window length (months ending with as_of's month) that holds the two latest mature months, or
    ``months`` when that is longer: what the headline's query asks for, whatever the page's window."""
    end = latest_mature_month_end(as_of, window_days)
    back = (as_of.year * 12 + as_of.month) - (end.year * 12 + end.month)  # months between the two
    return max(months, back + 2)


def _num(value) -> float | None:
    if value is None:
        return None
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(value) else value


def _int(value) -> int | None:
    number = _num(value)
    return None if number is None else int(number)


@dataclass(frozen=True)
class Headline:
    """The latest mature month of one category and the month before it; the newest month as provisional."""

    month: str | None = None  # "2022-10": the latest mature month in the frame
    ratio: float | None = None
    objected: int | None = None
    records: int | None = None
    upheld_ratio: float | None = None
    subjective_ratio: float | None = None
    prev_month: str | None = None  # the month before it
    prev_ratio: float | None = None
    provisional_month: str | None = None  # the newest month, when it is not mature
    provisional_ratio: float | None = None
    provisional_objected: int | None = None
    provisional_records: int | None = None

    @property
    def label(self) -> str:
        return mature_label(self.month)


def _is_mature(value) -> bool:
    return bool(value) if value is not None and not (isinstance(value, float) and math.isnan(value)) else False


def headline(df: pd.DataFrame | None, category: str = ALL) -> Headline:
    """From ``objection_ratio`` rows: the latest row with mature true, the one before it, and the newest
    row when it is immature. A frame without the ``mature`` column is read as all mature."""
    if df is None or df.empty:
        return Headline()
    part = df[df["category"] == category].sort_values("month").reset_index(drop=True)
    if part.empty:
        return Headline()
    mature = part["mature"].map(_is_mature) if "mature" in part else pd.Series(True, index=part.index)
    out: dict = {}
    newest = part.iloc[-1]
    if not mature.iloc[-1]:
        out.update(
            provisional_month=str(newest["month"]),
            provisional_ratio=_num(newest["ratio"]),
            provisional_objected=_int(newest["objected"]),
            provisional_records=_int(newest["records"]),
        )
    ripe = part[mature.to_numpy()]
    if len(ripe):
        now = ripe.iloc[-1]
        out.update(
            month=str(now["month"]),
            ratio=_num(now["ratio"]),
            objected=_int(now["objected"]),
            records=_int(now["records"]),
            upheld_ratio=_num(now.get("upheld_ratio")),
            subjective_ratio=_num(now.get("subjective_ratio")),
        )
        position = int(ripe.index[-1])
        if position > 0:  # the month just before: mature too (an older month is never younger)
            before = part.iloc[position - 1]
            out.update(prev_month=str(before["month"]), prev_ratio=_num(before["ratio"]))
    return Headline(**out)


def flag_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy for downloads and tables: ``mature`` as 是 / 否（异议期内，数据未成熟）."""
    if "mature" not in df:
        return df
    return df.assign(mature=df["mature"].map(lambda m: "是" if _is_mature(m) else f"否（{IMMATURE_TAG}）"))
