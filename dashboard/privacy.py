"""Masking of identifiers shown to viewers."""

from __future__ import annotations

import pandas as pd


def mask_code(code: object, keep_start: int = 6, keep_end: int = 2) -> object:
    """统一社会信用代码 with the middle hidden: first 6 and last 2 characters kept.

    ``91350200MA2XXXXX12`` → ``913502**********12``. Empty values pass through;
    codes too short to hide anything are masked whole but keep their length.
    """
    if code is None or (not isinstance(code, str) and pd.isna(code)):
        return code
    text = str(code).strip()
    if not text:
        return text
    if len(text) <= keep_start + keep_end:
        return "*" * len(text)
    return text[:keep_start] + "*" * (len(text) - keep_start - keep_end) + text[-keep_end:]


def mask_column(df: pd.DataFrame, column: str = "credit_code") -> pd.DataFrame:
    """A copy of ``df`` with ``column`` masked (unchanged when the column is absent)."""
    if column not in df.columns:
        return df
    out = df.copy()
    out[column] = out[column].map(mask_code)
    return out
