"""Downloads as CSV or Excel, safe to open in Excel or WPS.

Uploaded text is stored as is, formulas included (``=HYPERLINK(...)``,
``=cmd|' /C calc'!A0``). Every download goes through here so such text is
neutralised. In a CSV a cell starting with = + - @, a tab or a carriage return
gets a leading single quote, which spreadsheets show as text and never evaluate;
header names get the same treatment. An XLSX needs no quote: each such cell is
written as a string cell, which Excel and WPS never evaluate, so it holds the
exact text (``'-2+3`` would be a changed value there).
"""

from __future__ import annotations

import io
import math
import unicodedata
from collections.abc import Mapping
from datetime import date, datetime, time
from decimal import Decimal

import pandas as pd

# Characters that make a spreadsheet read a cell as a formula (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_COLUMNS = 16_384
_SHEET_NAME_BAD = str.maketrans({c: "_" for c in "[]:*?/\\"})


def safe_cell(value):
    """Strings that a spreadsheet would evaluate get a leading single quote; other values pass."""
    if isinstance(value, str) and value.lstrip(" \u3000").startswith(FORMULA_START):
        return "'" + value
    return value


def safe_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy with every text cell and header neutralised; numbers, dates and missing values untouched."""
    out = df.copy()
    out.columns = [safe_cell(str(c)) for c in df.columns]
    for position in range(out.shape[1]):
        column = out.iloc[:, position]
        if column.dtype == object or pd.api.types.is_string_dtype(column.dtype):
            out.isetitem(position, column.astype(object).map(safe_cell, na_action="ignore"))
    return out


def to_csv_bytes(df: pd.DataFrame) -> bytes:
    """UTF-8 with BOM (Excel then reads the Chinese correctly), CRLF line ends."""
    text = safe_frame(df).to_csv(index=False, lineterminator="\r\n")
    return ("\ufeff" + text).encode("utf-8")


def to_xlsx_bytes(df: pd.DataFrame, sheet_name: str = "数据") -> bytes:
    """One worksheet; text is always written as text (never as a formula or a link)."""
    return to_xlsx_book_bytes({sheet_name: df})


def to_xlsx_book_bytes(sheets: Mapping[str, pd.DataFrame], widths: bool = False) -> bytes:
    """One worksheet per (name, frame), in order, every text cell a string cell like ``to_xlsx_bytes``.

    ``widths`` sizes each column to its header and first 200 cells (CJK characters count double).
    """
    import xlsxwriter

    for df in sheets.values():
        if len(df) + 1 > EXCEL_MAX_ROWS or df.shape[1] > EXCEL_MAX_COLUMNS:
            raise ValueError(
                f"数据超出 Excel 工作表上限（{EXCEL_MAX_ROWS} 行、{EXCEL_MAX_COLUMNS} 列），请改用 CSV 下载"
            )
    out = io.BytesIO()
    book = xlsxwriter.Workbook(
        out,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    date_format = book.add_format({"num_format": "yyyy-mm-dd"})
    time_format = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    used: set[str] = set()
    for name, frame in sheets.items():
        title, n = _sheet_name(name), 1
        while title.lower() in used:  # Excel compares sheet names case-insensitively
            n += 1
            title = _sheet_name(name)[: 31 - len(f"_{n}")] + f"_{n}"
        used.add(title.lower())
        sheet = book.add_worksheet(title)
        for c, header in enumerate(frame.columns):
            sheet.write_string(0, c, str(header))
        for c in range(frame.shape[1]):
            for r, value in enumerate(frame.iloc[:, c].tolist(), start=1):
                _write(sheet, r, c, value, date_format, time_format)
            if widths:
                cells = [str(frame.columns[c])] + [_shown(v) for v in frame.iloc[:200, c].tolist()]
                sheet.set_column(c, c, min(max(8, max(_text_width(t) for t in cells) + 2), 80))
        if len(frame.columns):
            sheet.freeze_panes(1, 0)
    book.close()
    return out.getvalue()


def _shown(value) -> str:
    if isinstance(value, float) and not math.isnan(value) and value != int(value):
        return f"{value:.4f}"
    if isinstance(value, datetime):
        return "0000-00-00 00:00:00"
    if isinstance(value, date):
        return "0000-00-00"
    return "" if value is None else str(value)


def _text_width(text: str) -> int:
    """Column width units: a CJK (wide) character takes two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _write(sheet, r: int, c: int, value, date_format, time_format) -> None:
    if value is None or value is pd.NaT or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return
    if isinstance(value, bool):
        sheet.write_boolean(r, c, value)
    elif isinstance(value, int | float | Decimal):
        if not math.isfinite(value):
            sheet.write_string(r, c, str(value))
        else:
            sheet.write_number(r, c, float(value) if isinstance(value, Decimal) else value)
    elif isinstance(value, datetime):
        value = value.replace(tzinfo=None)
        if value.time() == time(0):
            sheet.write_datetime(r, c, value, date_format)
        else:
            sheet.write_datetime(r, c, value, time_format)
    elif isinstance(value, date):
        sheet.write_datetime(r, c, datetime(value.year, value.month, value.day), date_format)
    else:
        sheet.write_string(r, c, str(value))  # a string cell: never a formula, so no quote is needed


def _sheet_name(name: str) -> str:
    """Excel's rules: at most 31 characters, none of []:*?/\\, not empty, no leading/trailing quote."""
    text = str(name).translate(_SHEET_NAME_BAD).strip("'").strip()
    return text[:31] or "数据"
