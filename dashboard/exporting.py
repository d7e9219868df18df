"""The numbers behind a chart or table as CSV and XLSX bytes."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

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
    """UTF-8 with a BOM so Excel opens the Chinese text correctly."""
    return _plain(df).to_csv(index=False).encode("utf-8-sig")


def to_xlsx_bytes(df: pd.DataFrame, sheet: str = "数据") -> bytes:
    buf = io.BytesIO()
    data = _plain(df)
    with pd.ExcelWriter(buf, engine="xlsxwriter") as writer:
        data.to_excel(writer, sheet_name=sheet[:31], index=False)
        ws = writer.sheets[sheet[:31]]
        for i, col in enumerate(data.columns):
            width = max([len(str(col))] + [len(str(v)) for v in data[col].head(200)]) if len(data) else len(str(col))
            ws.set_column(i, i, min(max(8, width * 1.6), 60))
        ws.freeze_panes(1, 0)
    return buf.getvalue()
