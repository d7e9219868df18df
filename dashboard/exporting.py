"""The numbers behind a chart or table as CSV and XLSX bytes.

Uploaded text can hold formulas (``=HYPERLINK(...)``); every download goes
through analytics.output.export, which makes such cells plain text in Excel and WPS.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analytics.output import export

_SEQUENCES = (list, tuple, np.ndarray)  # DuckDB lists arrive as arrays


def _plain(df: pd.DataFrame) -> pd.DataFrame:
    """Lists become 、-joined text; timezone-aware times lose their zone (Excel has none)."""
    out = df.copy()
    for col in out.columns:
        series = out[col]
        if series.dtype == object and series.map(lambda v: isinstance(v, _SEQUENCES)).any():
            out[col] = series.map(lambda v: "、".join(map(str, v)) if isinstance(v, _SEQUENCES) else v)
        elif isinstance(series.dtype, pd.DatetimeTZDtype):
            out[col] = series.dt.tz_localize(None)
    return out


def to_csv_bytes(df: pd.DataFrame) -> bytes:
    """UTF-8 with a BOM so Excel opens the Chinese text correctly; formula-like text neutralised."""
    return export.to_csv_bytes(_plain(df))


def to_xlsx_bytes(df: pd.DataFrame, sheet: str = "数据") -> bytes:
    """One worksheet, text always written as text (analytics.output.export)."""
    return export.to_xlsx_bytes(_plain(df), sheet)
