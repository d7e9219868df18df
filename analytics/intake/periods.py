"""The period a file covers and the date column that places a row in time: what a load records
(ingest) and what coverage reads back (coverage.py)."""

from __future__ import annotations

from datetime import date

# The date column that places a row of an activity dataset in time.
MAIN_DATE = {
    "progress": "report_date",
    "penalties": "decision_date",
    "licenses": "decision_date",
    "objections": "filed_on",
}
# Datasets that are a state at one date (a snapshot), not events over a period.
SNAPSHOTS = {"entities": "established", "severe_list": "listed_on"}
Period = tuple[date, date]


class CoversError(ValueError):
    """A stated period that cannot be read; the message is for the user (Chinese)."""


def parse_covers(text: str, today: date | None = None) -> Period:
    """'2022-01-01..2022-12-31' (or one date, for a snapshot) → (from, through), both inclusive."""
    today = today or date.today()
    raw = (text or "").strip()
    first, sep, last = raw.partition("..")
    try:
        start = date.fromisoformat(first.strip())
        end = date.fromisoformat(last.strip()) if sep else start
    except ValueError:
        raise CoversError(f"覆盖期格式应为 YYYY-MM-DD..YYYY-MM-DD（或单个日期 YYYY-MM-DD）：{raw}") from None
    if start > end:
        raise CoversError(f"覆盖期的起始日期晚于截止日期：{raw}")
    if end > today:
        raise CoversError(f"覆盖期不能晚于今天（{today:%Y-%m-%d}）：{raw}")
    return start, end
