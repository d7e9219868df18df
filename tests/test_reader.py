"""Reading exports into text grids: encodings, title/total/note rows, sheets, row numbers as in the file."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime

import pytest
import xlsxwriter
import xlwt

from analytics.intake import reader
from tests.helpers import KNOWN_HEADERS, PENALTY_HEADERS, PROGRESS_HEADERS, csv_bytes, penalty_row, xlsx_bytes

KNOWN = KNOWN_HEADERS
TITLE = "厦门市交通运输局行政处罚信息（双公示）2021年度"


def read(data: bytes, name: str = "x.csv") -> reader.ReadResult:
    return reader.read_file(data, name, KNOWN)


def only_sheet(result: reader.ReadResult) -> reader.Sheet:
    assert len(result.sheets) == 1
    return result.sheets[0]


# --- encodings -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "bom", "reported"),
    [("utf-8", False, "UTF-8"), ("utf-8", True, "UTF-8 (BOM)"), ("gbk", False, "GBK"), ("gb18030", False, "GBK")],
)
def test_encodings_are_detected_and_reported(encoding, bom, reported):
    rows = [[TITLE], PENALTY_HEADERS, penalty_row("厦交罚〔2022〕1号", name="厦门市鹭江运输有限公司")]
    result = read(csv_bytes(rows, encoding, bom))
    sheet = only_sheet(result)
    assert result.encoding == reported
    assert sheet.headers[0] == "行政相对人名称"  # the BOM is not part of the first header
    assert sheet.frame.iloc[0, 0] == "厦门市鹭江运输有限公司"


def test_gb18030_four_byte_characters_survive():
    rows = [PENALTY_HEADERS, penalty_row("D1", name="厦门𠀾鹭运输有限公司")]  # 𠀾 exists only in GB18030, not GBK
    result = read(csv_bytes(rows, "gb18030"))
    assert only_sheet(result).frame.iloc[0, 0] == "厦门𠀾鹭运输有限公司"


def test_utf16_with_bom_is_read():
    data = "\ufeff".encode("utf-16-le") + "要点编号\t填报日期\t完成进度\t状态\r\n1\t2022-05-27\t60%\t推进中\r\n".encode(
        "utf-16-le"
    )
    sheet = only_sheet(read(b"\xff\xfe" + data[2:]))
    assert sheet.frame.iloc[0].tolist() == ["1", "2022-05-27", "60%", "推进中"]


def test_gbk_file_whose_first_characters_happen_to_be_valid_utf8_is_not_called_mixed():
    # 璐宝 in GBK is E8 B4 B1 A6: its first three bytes also form one valid UTF-8 character.
    rows = [["璐宝运输有限公司行政处罚信息"], PENALTY_HEADERS, penalty_row("D1")]
    data = csv_bytes(rows, "gbk")
    assert data[:3].decode("utf-8")  # the trap is real
    result = read(data)
    assert result.encoding == "GBK"
    assert only_sheet(result).skipped == [(1, "标题行")]


def test_utf8_header_followed_by_gbk_rows_is_refused_naming_the_line():
    data = csv_bytes([PENALTY_HEADERS]) + csv_bytes([penalty_row("D1")], "gbk")
    with pytest.raises(reader.ReadError, match="第 2 行起不是 UTF-8"):
        read(data)


def test_binary_content_named_csv_is_refused():
    with pytest.raises(reader.ReadError, match="二进制"):
        read(b"PK\x03\x04\x00\x00garbage")


@pytest.mark.parametrize("data", [b"", b"   \r\n\r\n", b"\xef\xbb\xbf", b"\xef\xbb\xbf\r\n", " \r\n".encode("utf-16")])
def test_empty_file_is_refused(data):
    with pytest.raises(reader.ReadError, match="文件为空"):
        read(data)


def test_workbook_with_only_empty_sheets_is_refused_as_empty():
    with pytest.raises(reader.ReadError, match="文件为空"):
        read(xlsx_bytes({"Sheet1": [], "Sheet2": [[None, None]]}), "x.xlsx")


def test_unknown_extension_is_refused_in_chinese():
    with pytest.raises(reader.ReadError, match="不支持的文件类型"):
        read(b"a,b\n", "x.pdf")


# --- title, total and note rows ----------------------------------------------------


def test_header_is_found_under_title_rows_and_rows_keep_file_numbers():
    rows = [[TITLE], ["单位：厦门市交通运输局", "", "导出日期：2022-06-01"], [], PENALTY_HEADERS]
    rows += [penalty_row("D1"), [], penalty_row("D2")]
    sheet = only_sheet(read(csv_bytes(rows)))
    assert sheet.header_row == 4
    assert sheet.rows == [5, 7]  # the blank row 6 is dropped silently
    assert sheet.frame.iloc[:, 6].tolist() == ["D1", "D2"]
    assert sheet.skipped == [(1, "标题行"), (2, "标题行")]


def test_total_and_note_rows_below_the_data_are_skipped_with_a_reason():
    rows = [[TITLE], PENALTY_HEADERS, penalty_row("D1"), penalty_row("D2")]
    rows += [["合计", "", "", "", "", "", "2条", "", "", "", "", "", "0.4"], ["", "总计：2条"]]
    rows += [["制表单位：厦门市交通运输局"], ["备注：金额单位为万元"], ["注：数据截至2021年12月31日", ""]]
    sheet = only_sheet(read(csv_bytes(rows)))
    assert sheet.rows == [3, 4]
    assert len(sheet.frame) == 2
    assert sheet.skipped == [(1, "标题行"), (5, "合计行"), (6, "合计行"), (7, "说明行"), (8, "说明行"), (9, "说明行")]


def test_a_signature_footer_spread_over_several_cells_is_a_note_not_data():
    footer = ["制表人：王五", "", "", "审核人：李四", "", "", "制表日期：2022年1月5日", "", "", "负责人：赵六"]
    rows = [PENALTY_HEADERS, penalty_row("D1"), footer]
    sheet = only_sheet(read(csv_bytes(rows)))
    assert sheet.rows == [2]
    assert sheet.skipped == [(3, "说明行")]


def test_a_data_row_whose_name_starts_like_a_note_word_is_kept():
    # Only a short row (or one made only of note cells) is a note: a full record stays data.
    rows = [PENALTY_HEADERS, penalty_row("D1", name="审核运输有限公司")]
    sheet = only_sheet(read(csv_bytes(rows)))
    assert sheet.rows == [2]
    assert sheet.skipped == []


def test_header_needs_two_known_columns():
    rows = [["行政相对人名称", "某列"], ["厦门某公司", "x"]]
    result = read(csv_bytes(rows))
    assert result.sheets == []
    assert result.unrecognised_sheets == ["CSV"]


def test_header_beyond_the_search_window_is_not_found():
    rows = [[f"标题{i}"] for i in range(reader.HEADER_SEARCH_ROWS)] + [PENALTY_HEADERS, penalty_row("D1")]
    assert read(csv_bytes(rows)).sheets == []


# --- CSV shapes ------------------------------------------------------------------------


def test_short_rows_are_padded_with_empty_cells():
    rows = [PROGRESS_HEADERS, ["1", "2022-05-27"]]
    sheet = only_sheet(read(csv_bytes(rows)))
    assert sheet.frame.iloc[0].tolist() == ["1", "2022-05-27", "", "", "", ""]


def test_cells_beyond_the_header_are_kept_not_silently_dropped():
    data = "要点编号,填报日期,完成进度,状态\r\n1,2022-05-27,60%,推进中,王五\r\n2,2022-05-27,10%,推进中\r\n".encode()
    sheet = only_sheet(read(data))
    assert sheet.frame.iloc[0].tolist()[:5] == ["1", "2022-05-27", "60%", "推进中", "王五"]
    assert sheet.frame.iloc[1].tolist()[:4] == ["2", "2022-05-27", "10%", "推进中"]
    assert len(sheet.headers) == sheet.frame.shape[1]


def test_quoted_cells_keep_commas_and_line_breaks_and_row_numbers_count_records():
    first = penalty_row("D1")
    first[8] = "超限运输，\n罚款2,000元"
    rows = [[TITLE], PENALTY_HEADERS, first, penalty_row("D2")]
    sheet = only_sheet(read(csv_bytes(rows)))
    assert sheet.frame.iloc[0, 8] == "超限运输，\n罚款2,000元"
    assert sheet.rows == [3, 4]  # numbered as Excel shows the file: one record per row


@pytest.mark.parametrize("delimiter", ["\t", ";", "|"])
def test_other_delimiters(delimiter):
    text = "\r\n".join(delimiter.join(r) for r in [PROGRESS_HEADERS, ["1", "2022-05-27", "60%", "推进中", "", ""]])
    sheet = only_sheet(read(text.encode("utf-8"), "x.txt"))
    assert sheet.frame.iloc[0, 2] == "60%"


# --- Excel -----------------------------------------------------------------------------


def test_sheets_are_read_one_by_one_and_a_notes_sheet_is_ignored():
    data = xlsx_bytes(
        {
            "2021年": [[TITLE], PENALTY_HEADERS, penalty_row("D1"), ["合计", 1]],
            "2022年": [PENALTY_HEADERS, penalty_row("D2"), penalty_row("D3")],
            "说明": [["填报说明：金额单位为万元"], ["本表由厦门市交通运输局导出"]],
            "空表": [],
        }
    )
    result = read(data, "x.xlsx")
    assert [s.name for s in result.sheets] == ["2021年", "2022年"]
    assert result.unrecognised_sheets == ["说明"]
    first, second = result.sheets
    assert (first.header_row, first.rows, first.skipped) == (2, [3], [(1, "标题行"), (4, "合计行")])
    assert (second.header_row, second.rows) == (1, [2, 3])
    assert result.encoding is None


def test_xlsx_saved_with_an_xls_name_is_read_by_content():
    data = xlsx_bytes({"Sheet1": [PENALTY_HEADERS, penalty_row("D1")]})
    assert only_sheet(read(data, "导出.XLS")).frame.iloc[0, 6] == "D1"


def test_row_numbers_count_leading_empty_rows_and_columns_of_the_sheet():
    rows = [[], [], [None, TITLE], [None, *PENALTY_HEADERS], [None, *penalty_row("D1")], [], [None, *penalty_row("D2")]]
    sheet = only_sheet(read(xlsx_bytes({"Sheet1": rows}), "x.xlsx"))
    assert sheet.header_row == 4
    assert sheet.rows == [5, 7]
    assert sheet.skipped == [(3, "标题行")]


def test_excel_cells_become_the_text_a_csv_would_hold():
    row = penalty_row("D1", fine=1200.5, decision_date=date(2022, 5, 27))
    row[1] = 44708  # a number cell
    row[9] = datetime(2022, 5, 27, 9, 30)
    row[10] = True
    sheet = only_sheet(read(xlsx_bytes({"S": [PENALTY_HEADERS, row]}), "x.xlsx"))
    cells = sheet.frame.iloc[0].tolist()
    assert cells[12] == "1200.5"
    assert cells[13] == "2022-05-27"
    assert cells[1] == "44708"
    assert cells[9] == "2022-05-27 09:30:00"
    assert cells[10] == "是"


@pytest.mark.parametrize(
    ("value", "text"),
    [(None, ""), (3.0, "3"), (0.1, "0.1"), (1e20, "1e+20"), (44708.0, "44708"), (False, "否"), ("x", "x"),
     (date(2022, 5, 27), "2022-05-27"), (datetime(2022, 5, 27), "2022-05-27")],
)  # fmt: skip
def test_cell_text(value, text):
    assert reader.cell_text(value) == text


def test_corrupt_zip_is_a_read_error_not_a_crash():
    data = bytearray(xlsx_bytes({"S": [PENALTY_HEADERS, penalty_row("D1")]}))
    # A central directory entry claiming zip version 7.4: zipfile raises NotImplementedError, not BadZipFile.
    entry = data.index(b"PK\x01\x02")
    data[entry + 6 : entry + 8] = (74).to_bytes(2, "little")
    with pytest.raises(NotImplementedError):
        zipfile.ZipFile(io.BytesIO(bytes(data)))
    full = xlsx_bytes({"S": [PENALTY_HEADERS, penalty_row("D1")]})
    for corrupt in (bytes(data), full[: len(full) // 2], b"PK\x03\x04" + bytes(100)):
        with pytest.raises(reader.ReadError):
            read(corrupt, "x.xlsx")


def test_text_named_xlsx_is_a_read_error():
    with pytest.raises(reader.ReadError, match="Excel"):
        read(csv_bytes([PENALTY_HEADERS]), "x.xlsx")


# --- percent-formatted cells ---------------------------------------------------------------


def _progress_workbook(formats: list[object | None], values: list[float], first_row: int = 2, first_column: int = 2):
    """A 工作要点进展 sheet starting at C3 whose 完成进度 cells carry the given number formats."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet("进展")
    for offset, header in enumerate(PROGRESS_HEADERS):
        sheet.write(first_row, first_column + offset, header)
    for i, (number_format, value) in enumerate(zip(formats, values, strict=True), start=1):
        row = [str(i), "2022-05-27", value, "推进中", "局法规处", ""]
        cell_format = None if number_format is None else book.add_format({"num_format": number_format})
        for offset, cell in enumerate(row):
            sheet.write(first_row + i, first_column + offset, cell, cell_format if offset == 2 else None)
    book.close()
    return out.getvalue()


def _progress_xls(formats: list[str | None], values: list[float], first_row: int = 2, first_column: int = 2):
    """The same sheet in a legacy .xls (BIFF8) workbook, as older systems and WPS still save them."""
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("进展")
    for offset, header in enumerate(PROGRESS_HEADERS):
        sheet.write(first_row, first_column + offset, header)
    for i, (number_format, value) in enumerate(zip(formats, values, strict=True), start=1):
        row = [str(i), "2022-05-27", value, "推进中", "局法规处", ""]
        cell_format = xlwt.easyxf(num_format_str=number_format or "General")
        for offset, cell in enumerate(row):
            sheet.write(
                first_row + i, first_column + offset, cell, cell_format if offset == 2 else xlwt.Style.default_style
            )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_numbers_formatted_as_percent_read_as_excel_shows_them():
    formats = [9, 10, "0.0%", "[Red]0%;-0%", None, '0"%"', "0.00"]
    values = [0.6, 0.655, 0.655, 1, 60, 60, 0.6]
    sheet = only_sheet(read(_progress_workbook(formats, values), "进展.xlsx"))
    assert sheet.frame[2].tolist() == ["60%", "65.5%", "65.5%", "100%", "60", "60", "0.6"]
    assert sheet.rows == [4, 5, 6, 7, 8, 9, 10]


def test_numbers_formatted_as_percent_in_a_legacy_xls_read_as_excel_shows_them():
    formats = ["0%", "0.00%", "0.0%", "[Red]0%;-0%", None, '0"%"', "0.00"]
    values = [0.6, 0.655, 0.655, 1, 60, 60, 0.6]
    data = _progress_xls(formats, values)
    assert data[:8] == bytes.fromhex("d0cf11e0a1b11ae1")  # a real BIFF file, not a renamed workbook
    sheet = only_sheet(read(data, "进展.xls"))
    assert sheet.frame[2].tolist() == ["60%", "65.5%", "65.5%", "100%", "60", "60", "0.6"]
    assert sheet.rows == [4, 5, 6, 7, 8, 9, 10]
    shifted = _progress_xls(["0%", None], [0.25, 0.25], first_row=0, first_column=0)
    assert only_sheet(read(shifted, "进展.xls")).frame[2].tolist() == ["25%", "0.25"]


def test_percent_cells_are_found_whatever_column_the_sheet_starts_in():
    data = _progress_workbook([9, None], [0.25, 0.25], first_row=0, first_column=0)
    assert only_sheet(read(data, "进展.xlsx")).frame[2].tolist() == ["25%", "0.25"]
