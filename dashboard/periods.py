"""Month arithmetic shared by the pages (pure, no streamlit)."""

from __future__ import annotations

import calendar
from datetime import date, timedelta


def month_end(month: str, as_of: date) -> date:
    """The last day of 'YYYY-MM', or the as-of date in its own month."""
    year, mon = (int(x) for x in month.split("-"))
    return min(date(year, mon, calendar.monthrange(year, mon)[1]), as_of)


def previous_month_end(as_of: date) -> date:
    return as_of.replace(day=1) - timedelta(days=1)
