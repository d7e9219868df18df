"""Downloads never let a cell run as a formula in Excel or WPS."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime
from decimal import Decimal

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from analytics.output.export import safe_cell, safe_frame, to_csv_bytes, to_xlsx_bytes

HOSTILE = ['=HYPERLINK("http://x","y")', "=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(1)", "\t=1", "\r=1", " =1+1"]


@pytest.mark.parametrize("value", HOSTILE)
def test_formula_like_text_gets_a_leading_quote(value):
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["厦门市交通运输局", "A=B", "1+1", "", "'=already quoted", "2022-05-27"])
def test_ordinary_text_is_untouched(value):
    assert safe_cell(value) == value


@pytest.mark.parametrize("value", [None, 1, -2, 0.5, -0.5, True, date(2022, 5, 27), Decimal("-1.5")])
def test_non_text_values_are_untouched(value):
    assert safe_cell(value) == value


@given(st.text())
def test_no_neutralised_text_starts_a_formula(text):
    cell = safe_cell(text)
    assert not cell.lstrip(" \u3000").startswith(("=", "+", "-", "@", "\t", "\r", "\n"))
    assert cell in (text, "'" + text)


def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "文号": ["P1", "P2", "P3"],
            "违法事实": [HOSTILE[0], HOSTILE[1], "正常文本"],
            "=evil()": ["+1+1", None, "-2+3"],
            "罚款金额": [0.2, -1.5, float("nan")],
            "决定日期": [date(2022, 5, 27), None, date(2021, 1, 1)],
        }
    )


def test_csv_has_a_bom_for_excel_and_no_live_formula():
    data = to_csv_bytes(frame())
    assert data.startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert list(back.columns) == ["文号", "违法事实", "'=evil()", "罚款金额", "决定日期"]
    assert list(back["违法事实"]) == ["'" + HOSTILE[0], "'" + HOSTILE[1], "正常文本"]
    assert list(back["'=evil()"]) == ["'+1+1", "", "'-2+3"]
    assert list(back["罚款金额"]) == ["0.2", "-1.5", ""]  # numbers stay numbers, negative ones too
    assert list(back["决定日期"]) == ["2022-05-27", "", "2021-01-01"]


def test_xlsx_cells_are_text_never_formulas_or_links():
    data = to_xlsx_bytes(frame(), "处罚[2022]:明细/全部*?超过三十一个字符的工作表名称很长很长")
    archive = zipfile.ZipFile(io.BytesIO(data))
    sheet_xml = archive.read("xl/worksheets/sheet1.xml").decode("utf-8")
    assert "<f>" not in sheet_xml and "<f " not in sheet_xml
    assert "hyperlink" not in sheet_xml.lower()
    assert not any(name.startswith("xl/worksheets/_rels") for name in archive.namelist())

    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(data))
    sheet = book.active
    assert len(sheet.title) <= 31 and not set(sheet.title) & set("[]:*?/\\")
    rows = list(sheet.iter_rows(values_only=True))
    # String cells hold the exact text: no apostrophe (issue 23), and never a formula.
    assert rows[0] == ("文号", "违法事实", "=evil()", "罚款金额", "决定日期")
    assert rows[1][1] == HOSTILE[0] and rows[2][1] == HOSTILE[1]
    assert rows[1][2] == "+1+1" and rows[3][2] == "-2+3"
    assert [sheet.cell(1, 3).data_type, sheet.cell(2, 2).data_type, sheet.cell(4, 3).data_type] == ["s", "s", "s"]
    assert rows[1][3] == 0.2 and rows[2][3] == -1.5 and rows[3][3] is None
    assert rows[1][4] == datetime(2022, 5, 27)
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_string_dtype_columns_and_duplicate_headers_are_neutralised_too():
    df = pd.DataFrame([["=1", "=2"]], columns=["a", "a"]).astype("string")
    out = safe_frame(df)
    assert out.iloc[0].tolist() == ["'=1", "'=2"]
    assert df.iloc[0].tolist() == ["=1", "=2"]  # the caller's frame is not changed


def test_an_empty_frame_downloads():
    empty = pd.DataFrame({"文号": pd.Series([], dtype=str)})
    assert to_csv_bytes(empty) == "\ufeff文号\r\n".encode()
    assert to_xlsx_bytes(empty)[:2] == b"PK"


def test_a_hyperlink_formula_is_a_string_cell_in_xlsx_and_quoted_in_csv():
    import openpyxl

    value = '=HYPERLINK("x")'
    df = pd.DataFrame({"违法事实": [value]})
    cell = openpyxl.load_workbook(io.BytesIO(to_xlsx_bytes(df))).active.cell(2, 1)
    assert (cell.data_type, cell.value) == ("s", value)
    back = pd.read_csv(io.BytesIO(to_csv_bytes(df)), encoding="utf-8-sig", dtype=str)
    assert back.iloc[0, 0] == "'" + value
