"""What period the stored data covers, per dataset: "no data yet" is not zero.

Every load records the period its file covers (table ``upload_coverage``, migration 0006): for the
activity datasets from the file's earliest to its latest main date, unless the analyst states the
period (``ingest --covers``, the upload page's field); for the register and the lists the snapshot
date, the upload day unless given. A dataset is covered over the union of its loaded uploads'
periods (``queries/coverage.sql``); a day between two periods is a gap.

A dataset that holds rows but no recorded period (rows written by hand, not by a load) is taken as
covered from its earliest to its latest main date, so old stores keep their figures.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from analytics.intake.periods import MAIN_DATE, SNAPSHOTS, Period

# The datasets the default as-of date follows first (see default_as_of).
ACTIVITY = ("penalties", "licenses")
# The register-side fallback for a snapshot dataset without recorded periods.
ORDER = ("progress", "entities", "severe_list", "penalties", "licenses", "objections")
TITLES = {
    "progress": "工作要点进展",
    "entities": "市场主体名录",
    "severe_list": "严重失信名单",
    "penalties": "行政处罚",
    "licenses": "行政许可",
    "objections": "信用异议",
}
# A category of the 双公示 metrics → the dataset its records come from.
CATEGORY_DATASET = {"行政处罚": "penalties", "行政许可": "licenses"}


def merge(periods) -> list[Period]:
    """The union of inclusive periods, as disjoint periods in order; touching periods join (the Python
    twin of queries/coverage.sql, for periods not yet stored)."""
    out: list[list[date]] = []
    for start, end in sorted(periods):
        if out and start <= out[-1][1] + timedelta(days=1):
            out[-1][1] = max(out[-1][1], end)
        else:
            out.append([start, end])
    return [(a, b) for a, b in out]


def _day(value) -> date:
    return value.date() if isinstance(value, datetime) else value


@dataclass(frozen=True)
class Coverage:
    """Per dataset, its covered periods (disjoint, in order); a dataset absent here has no data."""

    periods: dict[str, tuple[Period, ...]]

    def span(self, dataset: str) -> Period | None:
        """(first covered day, last covered day), gaps included, or None."""
        found = self.periods.get(dataset)
        return (found[0][0], found[-1][1]) if found else None

    def through(self, dataset: str) -> date | None:
        span = self.span(dataset)
        return span[1] if span else None

    def covered_days(self, dataset: str, start: date, end: date) -> int:
        """How many days of [start, end] the dataset covers."""
        total = 0
        for a, b in self.periods.get(dataset, ()):
            lo, hi = max(a, start), min(b, end)
            if lo <= hi:
                total += (hi - lo).days + 1
        return total

    def state(self, dataset: str, start: date, end: date) -> str:
        """'full', 'partial' or 'none': how much of [start, end] the dataset covers."""
        days = self.covered_days(dataset, start, end)
        if days == 0:
            return "none"
        return "full" if days == (end - start).days + 1 else "partial"

    def covers(self, dataset: str, start: date, end: date | None = None) -> bool:
        """Some of [start, end] (one day when end is None) is covered: the period has data to show."""
        return self.covered_days(dataset, start, start if end is None else end) > 0

    def as_json(self) -> dict[str, dict[str, str] | None]:
        """{dataset: {from, through}} for every dataset (None: no data), for the metrics command."""
        out: dict[str, dict[str, str] | None] = {}
        for name in ORDER:
            span = self.span(name)
            out[name] = None if span is None else {"from": span[0].isoformat(), "through": span[1].isoformat()}
        return out


def load(con) -> Coverage:
    """The store's coverage: recorded periods, or for a dataset with rows but none recorded, its data's span."""
    from analytics.compute import metrics  # metrics registers the coverage query; it imports this module lazily

    rows = metrics.run_rows(con, "coverage")
    periods: dict[str, list[Period]] = {}
    for dataset, start, end in rows:
        periods.setdefault(dataset, []).append((_day(start), _day(end)))
    for dataset, column in {**MAIN_DATE, **SNAPSHOTS}.items():
        if dataset in periods:
            continue
        low, high = con.execute(f"SELECT min({column}), max({column}) FROM {dataset}").fetchone()
        if low is not None:
            periods[dataset] = [(_day(low), _day(high))]
    return Coverage({k: tuple(v) for k, v in periods.items()})


def default_as_of(cov: Coverage, today: date | None = None) -> date:
    """The latest date the activity data covers: the latest date through which both penalties and
    licences are covered (when only one of them holds data, that one; when neither, the latest of the
    other datasets), never after today; today when there is no data at all."""
    today = today or date.today()
    activity = [cov.through(n) for n in ACTIVITY if cov.through(n) is not None]
    if activity:
        latest = min(activity)
    else:
        others = [cov.through(n) for n in ORDER if cov.through(n) is not None]
        latest = max(others) if others else today
    return min(latest, today)


def month_period(month: str, as_of: date) -> Period:
    """'YYYY-MM' → (its first day, its last day or the as-of date in as_of's own month)."""
    year, mon = (int(x) for x in month.split("-"))
    return date(year, mon, 1), min(date(year, mon, calendar.monthrange(year, mon)[1]), as_of)


def missing_words(cov: Coverage, datasets, start: date, end: date) -> str | None:
    """「行政处罚数据截至 2022-12-31」 (or 「尚无行政处罚数据」) for the datasets that do not cover all of
    [start, end]; None when they all do."""
    parts = []
    for name in datasets:
        if cov.state(name, start, end) == "full":
            continue
        through = cov.through(name)
        title = TITLES.get(name, name)
        first = cov.span(name)[0] if through is not None else None
        if through is None:
            parts.append(f"尚无{title}数据")
        elif through < end:
            parts.append(f"{title}数据截至 {through:%Y-%m-%d}")
        elif first > start:
            parts.append(f"{title}数据自 {first:%Y-%m-%d} 起")
        else:
            parts.append(f"{title}数据在此期间有缺口")
    return "；".join(parts) or None


# --- "no data" in metric results ------------------------------------------------

# Per metric: the columns that count rows of a dataset (null where the dataset has no data for the row's
# period), and the row's period: "month" (its month, up to the as-of date), "week" (week_start to week_end,
# up to the as-of date) or "window" (the whole window, for one row per district / authority).
_MASKED: dict[str, tuple[tuple[str, ...], str]] = {
    "sector_risk": (("penalties", "per_100"), "month"),
    "sector_warnings": (("value",), "month"),
    "weekly_penalties": (("penalties",), "week"),
    "district_risk": (("penalties", "per_100"), "window"),
    "objection_ratio": (
        ("records", "objected", "upheld", "subjective", "ratio", "upheld_ratio", "subjective_ratio"),
        "month",
    ),
    "objection_rate": (("filed", "records", "per_1000"), "month"),
    "objection_departments": (("records", "objected", "upheld", "subjective", "ratio", "upheld_ratio"), "window"),
}
# Column added to a masked metric's rows: full / partial / none, how much of the row's period is covered.
STATE_COLUMN = "coverage"
STATE_WORDS = {"full": "", "partial": "部分覆盖", "none": "未覆盖"}


def masked_metrics() -> frozenset[str]:
    return frozenset(_MASKED)


def row_datasets(name: str, row) -> tuple[str, ...]:
    """The datasets a row of the metric counts."""
    category = row.get("category") if hasattr(row, "get") else None
    if category in CATEGORY_DATASET:
        return (CATEGORY_DATASET[category],)
    if name.startswith("objection"):
        return ("penalties", "licenses")
    return ("penalties",)


def row_period(name: str, row, as_of: date, window_start: date) -> Period:
    kind = _MASKED[name][1]
    if kind == "month":
        return month_period(str(row["month"])[:7], as_of)
    if kind == "week":
        return _day(_to_date(row["week_start"])), min(_day(_to_date(row["week_end"])), as_of)
    return window_start, as_of


def _to_date(value) -> date:
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    if hasattr(value, "to_pydatetime"):
        return value.to_pydatetime().date()
    return value


def row_state(cov: Coverage, name: str, row, as_of: date, window_start: date) -> str:
    """full / partial / none for one row. A row of both categories (全部) is as covered as the least covered
    of the datasets that hold data; a dataset never loaded does not make 全部 uncovered, but counts alone."""
    start, end = row_period(name, row, as_of, window_start)
    names = row_datasets(name, row)
    held = [n for n in names if cov.span(n) is not None] or list(names)
    states = [cov.state(n, start, end) for n in held]
    if "none" in states:
        return "none"
    return "partial" if "partial" in states else "full"


def mask_records(cov: Coverage, name: str, rows: list[dict], as_of: date, window_start: date) -> list[dict]:
    """JSON rows with the counted values null where their period is not covered, and a coverage field."""
    if name not in _MASKED:
        return rows
    columns = _MASKED[name][0]
    out = []
    for row in rows:
        state = row_state(cov, name, row, as_of, window_start)
        row = dict(row)
        if state == "none":
            row.update({c: None for c in columns if c in row})
        row[STATE_COLUMN] = state
        out.append(row)
    return out


def mask_frame(cov: Coverage, name: str, frame, as_of: date, window_start: date):
    """The DataFrame twin of mask_records: a copy, counted columns as float with NaN where not covered."""
    if name not in _MASKED:
        return frame
    frame = frame.copy()
    columns = [c for c in _MASKED[name][0] if c in frame.columns]
    states = [row_state(cov, name, row, as_of, window_start) for row in frame.to_dict("records")]
    uncovered = [s == "none" for s in states]
    if any(uncovered):
        for c in columns:
            frame[c] = frame[c].astype("float64")
            frame.loc[uncovered, c] = float("nan")
    frame[STATE_COLUMN] = states
    return frame


def window_note(cov: Coverage, datasets, start: date, end: date) -> str | None:
    """The line under a chart's title when its window [start, end] is partly or wholly not covered."""
    words = missing_words(cov, datasets, start, end)
    return None if words is None else f"{words}：未覆盖的时段留空（未覆盖），不是 0。"
