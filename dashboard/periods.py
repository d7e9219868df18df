"""Month arithmetic shared by the pages (pure, no streamlit)."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

from analytics.metrics import months_window


def month_end(month: str, as_of: date) -> date:
    """The last day of 'YYYY-MM', or the as-of date in its own month."""
    year, mon = (int(x) for x in month.split("-"))
    return min(date(year, mon, calendar.monthrange(year, mon)[1]), as_of)


def month_end_dates(as_of: date, months: int) -> list[tuple[str, date]]:
    """(month, month end) for each month of the window, oldest first."""
    return [(m, month_end(m, as_of)) for m in months_window(as_of, months)]


def previous_month_end(as_of: date) -> date:
    return as_of.replace(day=1) - timedelta(days=1)
