"""Ingestion held to its written rules, each with a small file shaped like a real export."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import date, datetime, timedelta

import duckdb
import pandas as pd
import pytest
import xlsxwriter
import xlwt

from analytics.intake import datasets as ds
from analytics.intake import ingest
from tests.helpers import (
    ENTITY_HEADERS,
    LICENSE_HEADERS,
    OBJECTION_HEADERS,
    PENALTY_HEADERS,
    PROGRESS_HEADERS,
    SEVERE_HEADERS,
    bad_check_code,
    credit_code,
    csv_bytes,
    license_row,
    penalty_row,
    query,
    snapshot,
    xlsx_bytes,
)

TITLE = "厦门市交通运输局行政处罚信息（双公示）2021年度"
CODE_HEADER = "行政相对人代码_1（统一社会信用代码）"


@pytest.fixture
def db(tmp_path) -> str:
    return str(tmp_path / "credit.duckdb")


def load(db: str, rows_or_bytes, name: str = "export.csv", **kwargs) -> ingest.IngestResult:
    data = rows_or_bytes if isinstance(rows_or_bytes, bytes) else csv_bytes(rows_or_bytes)
    result = ingest.ingest_bytes(db, data, name, **kwargs)
    assert isinstance(result, ingest.IngestResult)
    return result


def penalties(db: str, columns: str = "doc_no, decision_date, fine_wan, authority, credit_code") -> list[tuple]:
    return query(db, f"SELECT {columns} FROM penalties ORDER BY doc_no")


def uploads(db: str) -> list[dict]:
    con = duckdb.connect(db, read_only=True)
    try:
        frame = con.execute("SELECT * FROM uploads ORDER BY id").fetchdf()
    finally:
        con.close()
    return frame.to_dict(orient="records")


def errors_by_row(result: ingest.IngestResult) -> dict[int, list[tuple[str, str]]]:
    out: dict[int, list[tuple[str, str]]] = {}
    for error in result.errors:
        assert set(error) == {"row", "column", "reason", "sheet"}
        out.setdefault(error["row"], []).append((error["column"], error["reason"]))
    return out


# --- file formats ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "bom", "reported"),
    [("utf-8", False, "UTF-8"), ("utf-8", True, "UTF-8 (BOM)"), ("gbk", False, "GBK"), ("gb18030", False, "GBK")],
)
def test_csv_in_each_encoding_loads_and_reports_it(db, encoding, bom, reported):
    rows = [[TITLE], PENALTY_HEADERS, penalty_row("厦交罚〔2022〕1号"), penalty_row("厦交罚〔2022〕2号", fine="0.5")]
    result = load(db, csv_bytes(rows, encoding, bom))
    assert (result.ok, result.encoding, result.dataset) == (True, reported, "penalties")
    assert (result.rows_read, result.loaded, result.rejected, result.errors) == (2, 2, 0, [])
    assert penalties(db, "doc_no, subject_name, fine_wan") == [
        ("厦交罚〔2022〕1号", "厦门市鹭岛运输有限公司", 0.2),
        ("厦交罚〔2022〕2号", "厦门市鹭岛运输有限公司", 0.5),
    ]
    assert uploads(db)[-1]["encoding"] == reported


@pytest.mark.parametrize("name", ["许可.xlsx", "许可.xls", "许可.XLSX"])
def test_workbook_sheets_are_read_one_by_one_and_a_notes_sheet_is_ignored(db, name):
    data = xlsx_bytes(
        {
            "2021年许可": [["厦门市交通运输局行政许可信息（双公示）2021年度"], LICENSE_HEADERS,
                       license_row("厦交许〔2021〕1号"), license_row("厦交许〔2021〕2号"), ["合计", "2条"]],
            "2022年许可": [LICENSE_HEADERS, license_row("厦交许〔2022〕1号", decision_date=date(2022, 5, 27))],
            "说明": [["填报说明：本表按双公示标准导出"], ["行政相对人名称为必填项"]],
        }
    )  # fmt: skip
    result = load(db, data, name)
    assert (result.dataset, result.encoding, result.rows_read, result.loaded, result.errors) == (
        "licenses", None, 3, 3, [])  # fmt: skip
    assert query(db, "SELECT doc_no, decision_date FROM licenses ORDER BY doc_no") == [
        ("厦交许〔2021〕1号", date(2021, 3, 1)),
        ("厦交许〔2021〕2号", date(2021, 3, 1)),
        ("厦交许〔2022〕1号", date(2022, 5, 27)),
    ]


def test_errors_in_a_workbook_name_their_sheet_and_its_row(db):
    data = xlsx_bytes(
        {
            "2021": [[TITLE], PENALTY_HEADERS, penalty_row("D1"), penalty_row("D2", decision_date="2021-02-30")],
            "2022": [PENALTY_HEADERS, penalty_row("D3", code=bad_check_code(9))],
        }
    )
    result = load(db, data, "x.xlsx")
    assert [(e["sheet"], e["row"], e["column"]) for e in result.errors] == [
        ("2021", 4, "处罚决定日期"), ("2022", 2, CODE_HEADER)]  # fmt: skip
    assert result.loaded == 1


# --- title, total and note rows ------------------------------------------------------


def test_title_total_and_note_rows_are_not_loaded_counted_or_errors(db):
    rows = [[TITLE], ["填报单位：厦门市交通运输局", "", "", "", "", "", "", "", "", "", "", "", "金额单位：万元"], []]
    rows += [PENALTY_HEADERS, penalty_row("D1"), penalty_row("D2")]
    rows += [["合计", "", "", "", "", "", "2条", "", "", "", "", "", "0.4"], [], ["制表单位：厦门市交通运输局"]]
    rows += [
        ["备注：本表数据截至2021年12月31日"],
        ["制表人：王五", "", "", "审核人：李四", "", "", "制表日期：2022年1月5日"],
    ]
    result = load(db, rows)
    assert (result.rows_read, result.loaded, result.rejected, result.errors) == (2, 2, 0, [])
    assert [s["row"] for s in result.skipped] == [1, 2, 7, 9, 10, 11]
    assert [d for (d,) in penalties(db, "doc_no")] == ["D1", "D2"]


# --- dates -------------------------------------------------------------------------------


def test_every_date_spelling_stores_the_same_day(db):
    spellings = ["2022-05-27", "2022/5/27", "2022.5.27", "2022年5月27日", "20220527", "44708"]
    rows = [PENALTY_HEADERS] + [penalty_row(f"D{i}", decision_date=s) for i, s in enumerate(spellings)]
    result = load(db, rows)
    assert (result.loaded, result.errors) == (len(spellings), [])
    assert {d for (d,) in penalties(db, "decision_date")} == {date(2022, 5, 27)}


def test_excel_date_cells_and_serial_numbers_store_the_same_day(db):
    rows = [PENALTY_HEADERS]
    rows += [penalty_row("X1", decision_date=date(2022, 5, 27)), penalty_row("X2", decision_date=datetime(2022, 5, 27))]
    rows += [penalty_row("X3", decision_date=44708), penalty_row("X4", decision_date="2022年5月27日")]
    result = load(db, xlsx_bytes({"Sheet1": rows}), "x.xlsx")
    assert (result.loaded, result.errors) == (4, [])
    assert penalties(db, "decision_date") == [(date(2022, 5, 27),)] * 4


def test_impossible_early_and_future_dates_are_rejected_in_chinese(db):
    next_month = (date.today() + timedelta(days=30)).isoformat()  # not tomorrow: a run may cross midnight
    rows = [[TITLE], PENALTY_HEADERS, penalty_row("OK", decision_date="2022-05-27")]
    rows += [penalty_row("BAD1", decision_date="2022-02-30"), penalty_row("BAD2", decision_date="19000101")]
    rows += [penalty_row("BAD3", decision_date=next_month)]
    result = load(db, rows)
    assert (result.loaded, result.rejected) == (1, 3)
    assert errors_by_row(result) == {
        4: [("处罚决定日期", "日期不存在：2022-02-30")],
        5: [("处罚决定日期", "日期不合理：19000101")],
        6: [("处罚决定日期", "日期晚于今天，不合理")],
    }
    assert penalties(db, "doc_no") == [("OK",)]


def test_a_future_date_is_fine_where_it_is_a_plan_not_an_event(db):
    rows = [LICENSE_HEADERS, license_row("L1")]  # 有效期至 2026-12-31 and later are normal
    rows[1][9] = (date.today() + timedelta(days=3650)).isoformat()
    assert load(db, rows).loaded == 1


# --- amounts ---------------------------------------------------------------------------


def test_amounts_with_separators_and_units_are_stored_in_wan_yuan(db):
    rows = [PENALTY_HEADERS, penalty_row("A1", fine="1,200.5"), penalty_row("A2", fine="0.2万元")]
    rows += [penalty_row("A3", fine="2,000元"), penalty_row("A4", fine=""), penalty_row("A5", fine="两千元")]
    result = load(db, rows)
    assert penalties(db, "doc_no, fine_wan") == [("A1", 1200.5), ("A2", 0.2), ("A3", 0.2), ("A4", None)]
    assert errors_by_row(result) == {6: [("罚款金额（万元）", "金额不是数字：两千元")]}


# --- full width, spaces, codes ----------------------------------------------------------


def test_full_width_and_edge_spaces_make_one_department_and_one_code(db):
    code = credit_code(11)
    full_width = "".join(chr(ord(ch) + 0xFEE0) for ch in code)
    rows = [PENALTY_HEADERS]
    rows += [penalty_row("Ｄ１", code=code, authority="厦门市交通运输局\u3000")]
    rows += [penalty_row("D2", code=full_width, authority=" 厦门市交通运输局")]
    rows += [penalty_row("d3", code=code.lower(), authority="厦门市交通运输局")]
    assert load(db, rows).loaded == 3
    assert query(db, "SELECT DISTINCT authority FROM penalties") == [("厦门市交通运输局",)]
    assert query(db, "SELECT DISTINCT credit_code FROM penalties") == [(code,)]
    assert [d for (d,) in penalties(db, "doc_no")] == ["D1", "D2", "D3"]


def test_bad_credit_codes_are_rejected_with_file_row_header_and_chinese_reason(db):
    good = credit_code(12)
    rows = [[TITLE], ["（数据截至2021年12月31日）"], PENALTY_HEADERS]
    rows += [penalty_row("OK1", code=good)]  # row 4
    rows += [penalty_row("C1", code=bad_check_code(12))]  # row 5
    rows += [penalty_row("C2", code=good[:5] + "I" + good[6:])]  # row 6
    rows += [penalty_row("C3", code=good[:5] + "O" + good[6:8] + "Z" + good[9:])]  # row 7
    rows += [penalty_row("C4", code=good[:17])]  # row 8
    rows += [penalty_row("C5", code=good + "1")]  # row 9
    rows += [penalty_row("OK2", code=good)]  # row 10
    result = load(db, rows)
    assert (result.rows_read, result.loaded, result.rejected) == (7, 2, 5)
    assert errors_by_row(result) == {
        5: [(CODE_HEADER, f"统一社会信用代码校验位错误（应为 {good[-1]}）")],
        6: [(CODE_HEADER, "统一社会信用代码含非法字符：I（不得使用 I、O、S、V、Z）")],
        7: [(CODE_HEADER, "统一社会信用代码含非法字符：OZ（不得使用 I、O、S、V、Z）")],
        8: [(CODE_HEADER, "统一社会信用代码应为18位，实为17位")],
        9: [(CODE_HEADER, "统一社会信用代码应为18位，实为19位")],
    }
    assert [d for (d,) in penalties(db, "doc_no")] == ["OK1", "OK2"]


def test_column_header_in_errors_is_the_files_own_alias(db):
    headers = [h if h != CODE_HEADER else "统一社会信用代码" for h in PENALTY_HEADERS]
    result = load(db, [headers, penalty_row("D1", code=bad_check_code(1))])
    assert [e["column"] for e in result.errors] == ["统一社会信用代码"]


# --- natural persons and ID numbers -------------------------------------------------------

ID_1 = "350203199001011234"
ID_2 = "35020319850202345X"


def _all_text_values(db: str) -> list[str]:
    con = duckdb.connect(db, read_only=True)
    try:
        columns = con.execute(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE data_type IN ('VARCHAR', 'JSON') AND table_schema = 'main'"
        ).fetchall()
        values = []
        for table, column in columns:
            values += [v for (v,) in con.execute(f'SELECT CAST("{column}" AS VARCHAR) FROM "{table}"').fetchall() if v]
    finally:
        con.close()
    return values


def test_natural_persons_need_no_code_companies_do_and_id_numbers_are_only_stored_masked(db):
    rows = [[TITLE], PENALTY_HEADERS]
    rows += [penalty_row("P1", code="", subject_type="自然人", name="李四", id_type="身份证", id_no=ID_1)]  # 3
    rows += [penalty_row("P2", code="", subject_type="法人及非法人组织")]  # 4: company without a code
    rows += [penalty_row("P3", code="", subject_type="个体工商户")]  # 5
    rows += [penalty_row("P4", code="", subject_type="自然人", name="王五", id_type="身份证", id_no=ID_2,
                         decision_date="2022-02-30")]  # 6: rejected, and its ID number must not be kept either  # fmt: skip
    result = load(db, rows)
    assert (result.loaded, result.rejected) == (1, 3)
    assert errors_by_row(result) == {
        4: [(CODE_HEADER, "非自然人的统一社会信用代码为必填项（也可填写组织机构代码或工商注册号）")],
        5: [(CODE_HEADER, "非自然人的统一社会信用代码为必填项（也可填写组织机构代码或工商注册号）")],
        6: [("处罚决定日期", "日期不存在：2022-02-30")],
    }
    assert penalties(db, "doc_no, subject_type, credit_code, id_no") == [("P1", "自然人", None, "350*************34")]
    values = _all_text_values(db)
    assert any("350*************34" in v for v in values)
    assert not any(ID_1 in v or ID_2 in v or ID_2.lower() in v for v in values)
    raw = open(db, "rb").read()  # noqa: SIM115 - read once, whole
    assert ID_1.encode() not in raw and ID_2.encode() not in raw


def test_an_id_number_put_in_a_natural_persons_code_column_is_rejected_and_kept_only_masked(db):
    rows = [PENALTY_HEADERS, penalty_row("P1", code=ID_1, subject_type="自然人", name="李四"), penalty_row("P2")]
    result = load(db, rows)
    assert (result.loaded, result.rejected) == (1, 1)
    assert [e["column"] for e in result.errors] == [CODE_HEADER]  # still checked: not a valid credit code
    [rejected] = json.loads(uploads(db)[-1]["rejected_rows"])
    assert rejected[CODE_HEADER] == "350*************34"
    assert not any(ID_1 in v for v in _all_text_values(db))


def test_a_natural_persons_code_column_is_ignored_when_empty_but_still_checked_when_filled(db):
    rows = [PENALTY_HEADERS, penalty_row("P1", code=credit_code(3), subject_type="自然人", name="李四")]
    assert load(db, rows).loaded == 1
    assert penalties(db, "credit_code") == [(None,)]  # a person carries no credit code


# --- progress ------------------------------------------------------------------------------


def test_progress_point_numbers_percent_and_status(db):
    rows = [PROGRESS_HEADERS]
    rows += [[1, "2022-01-31", "60%", "推进中", "局法规处", ""], ["1", "2022-02-28", "70", "推进中", "", ""]]
    rows += [["一", "2022-03-31", "80 %", "滞后", "", ""], ["（一）", "2022-04-30", "100%", "已完成", "", ""]]
    rows += [["(二)", "2022-04-30", "0", "未启动", "", ""], ["3", "2022-04-30", "50%", "完成", "", ""]]
    rows += [["22", "2022-04-30", "50%", "推进中", "", ""], ["4", "2022-04-30", "150%", "推进中", "", ""]]
    result = load(db, xlsx_bytes({"进展台账": rows}), "进展.xlsx")
    assert (result.dataset, result.loaded, result.rejected) == ("progress", 5, 3)
    assert errors_by_row(result) == {
        7: [("状态", "取值应为未启动/推进中/滞后/已完成之一：完成")],
        8: [("要点编号", "要点编号应为1到21：22")],
        9: [("完成进度", "完成进度应在0到100之间：150%")],
    }
    assert query(db, "SELECT point_id, report_date, progress, status FROM progress ORDER BY 1, 2") == [
        (1, date(2022, 1, 31), 60.0, "推进中"),
        (1, date(2022, 2, 28), 70.0, "推进中"),
        (1, date(2022, 3, 31), 80.0, "滞后"),
        (1, date(2022, 4, 30), 100.0, "已完成"),
        (2, date(2022, 4, 30), 0.0, "未启动"),
    ]


def test_progress_typed_in_percent_formatted_excel_cells_is_the_percent_shown(db):
    """Typing 60% in Excel stores 0.6 in a cell formatted 0%: the ledger means 60, not 0.6."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet("进展台账")
    percent = book.add_format({"num_format": 9})
    sheet.write_row(0, 0, PROGRESS_HEADERS)
    sheet.write_row(1, 0, [1, "2022-01-31"])
    sheet.write_number(1, 2, 0.6, percent)
    sheet.write_row(1, 3, ["推进中", "局法规处"])
    sheet.write_row(2, 0, [2, "2022-01-31", 0.6, "推进中", "局法规处"])  # a plain number: 0.6 % as written
    sheet.write_row(3, 0, [3, "2022-01-31"])
    sheet.write_number(3, 2, 1.5, percent)
    sheet.write_row(3, 3, ["推进中", "局法规处"])
    book.close()
    result = load(db, out.getvalue(), "进展.xlsx")
    assert (result.loaded, result.rejected) == (2, 1)
    assert errors_by_row(result) == {4: [("完成进度", "完成进度应在0到100之间：150%")]}
    assert query(db, "SELECT point_id, progress FROM progress ORDER BY 1") == [(1, 60.0), (2, 0.6)]


def test_a_legacy_xls_export_loads_like_its_xlsx(db):
    """Older systems and WPS still save .xls (BIFF8): a title row, real date cells, numbers and a 0% cell
    load as they do from .xlsx."""
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("进展台账")
    sheet.write(0, 0, "工作要点进展台账（2022年）")
    for column, header in enumerate(PROGRESS_HEADERS):
        sheet.write(1, column, header)
    day = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    percent = xlwt.easyxf(num_format_str="0%")
    for row, (point, progress, style) in enumerate([(1, 0.6, percent), (2, 35, xlwt.Style.default_style)], start=2):
        sheet.write(row, 0, point)
        sheet.write(row, 1, date(2022, 5, 27), day)
        sheet.write(row, 2, progress, style)
        sheet.write(row, 3, "推进中")
        sheet.write(row, 4, "局法规处")
    out = io.BytesIO()
    book.save(out)
    result = load(db, out.getvalue(), "进展台账.xls")
    assert (result.dataset, result.loaded, result.rejected) == ("progress", 2, 0)
    assert result.skipped == [{"sheet": "进展台账", "row": 1, "reason": "标题行"}]
    assert query(db, "SELECT point_id, report_date, progress FROM progress ORDER BY 1") == [
        (1, date(2022, 5, 27), 60.0),
        (2, date(2022, 5, 27), 35.0),
    ]


def test_required_empty_cells_are_rejected(db):
    rows = [PROGRESS_HEADERS, ["1", "2022-01-31", "60%", "", "", ""], ["", "2022-01-31", "", "推进中", "", ""]]
    result = load(db, rows)
    assert errors_by_row(result) == {
        2: [("状态", "必填项为空")],
        3: [("要点编号", "必填项为空"), ("完成进度", "必填项为空")],
    }
    assert not result.ok


# --- headers -------------------------------------------------------------------------------


def test_headers_match_after_width_case_spaces_stars_and_aliases(db):
    headers = ["*当事人名称", "行政相对人类别", " 统一社会信用代码 ", "处罚决定书文号", "处罚名称", "处罚事由",
               "处罚结果", "罚款金额（万元）", "处 罚 日 期", "执法机关"]  # fmt: skip
    row = ["厦门某公司", "法人及非法人组织", credit_code(1), "OLD-1", "超限运输", "超限", "罚款", "0.2", "2018-03-01", "厦门市交通运输局"]  # fmt: skip
    result = load(db, [headers, row])
    assert (result.dataset, result.loaded, result.extra_columns) == ("penalties", 1, [])
    columns = "subject_name, doc_no, violation_type, facts, penalty_content, fine_wan, decision_date, authority"
    assert penalties(db, columns) == [
        ("厦门某公司", "OLD-1", "超限运输", "超限", "罚款", 0.2, date(2018, 3, 1), "厦门市交通运输局")
    ]


def test_entities_accept_企业名称_for_名称(db):
    rows = [["统一社会信用代码", "企业名称", "所属行业", "所在区", "成立日期"], [credit_code(2), "厦门某公司", "道路货运", "思明区", "2010-01-01"]]  # fmt: skip
    assert load(db, rows).dataset == "entities"
    assert query(db, "SELECT name, sector FROM entities") == [
        ("厦门某公司", "道路货物运输")
    ]  # alias → vocabulary name (issue 11 item 6)


def test_unknown_columns_are_kept_in_extra_and_listed_in_the_log(db):
    headers = PENALTY_HEADERS + ["联系电话", "经办人", "联系电话"]
    rows = [headers, penalty_row("E1") + ["0592-1234567", "王五", "13800000000"], penalty_row("E2") + ["", "", ""]]
    result = load(db, rows)
    assert result.loaded == 2
    assert result.extra_columns == ["联系电话", "经办人", "联系电话(2)"]
    extra = dict(query(db, "SELECT doc_no, extra FROM penalties"))
    assert json.loads(extra["E1"]) == {"联系电话": "0592-1234567", "经办人": "王五", "联系电话(2)": "13800000000"}
    assert extra["E2"] is None
    assert json.loads(uploads(db)[-1]["extra_columns"]) == ["联系电话", "经办人", "联系电话(2)"]


def test_extra_is_built_alike_for_new_and_stored_keys(db):
    # A row with a new key is inserted, one whose key is stored is compared with it: extra must come out
    # the same, or reloading a file would count its rows as updated.
    headers = [*PENALTY_HEADERS, "联系电话", "经办人", ""]
    first = [headers, [*penalty_row("E1"), "0592-1234567", " 王五 ", "\t"]]
    assert load(db, first).loaded == 1
    rows = [
        headers,
        [*penalty_row("E2"), "0592-1234567", " 王五 ", "\t"],
        [*penalty_row("E1"), "0592-1234567", " 王五 ", "\t"],
    ]
    result = load(db, csv_bytes(rows), "b.csv")
    assert (result.loaded, result.updated, result.unchanged) == (1, 0, 1)
    extra = {doc: json.loads(e) for doc, e in query(db, "SELECT doc_no, extra FROM penalties")}
    # A column with no header and nothing but whitespace (a tab) holds nothing: not kept.
    assert extra == {
        "E1": {"联系电话": "0592-1234567", "经办人": "王五"},
        "E2": {"联系电话": "0592-1234567", "经办人": "王五"},
    }


def test_id_numbers_under_unknown_headers_are_stored_masked_in_extra_and_in_rejected_rows(db):
    headers = [*PENALTY_HEADERS, "经办人身份证", "联系电话", "备用代码"]
    rows = [
        headers,
        # A right check character; an all-digit credit code and a mobile number stay as they are.
        [*penalty_row("E1"), "11010519491231002x", "13800000000", "913502001234567890"],
        [*penalty_row("E2"), " 350203199001011234 ", "", ""],  # a wrong check character, but a birth date
        [*penalty_row("E3", decision_date="2022-02-30"), "11010519491231002X", "", ""],  # rejected
    ]
    result = load(db, rows)
    assert (result.loaded, result.rejected) == (2, 1)
    extra = {doc: json.loads(e) for doc, e in query(db, "SELECT doc_no, extra FROM penalties")}
    assert extra["E1"] == {
        "经办人身份证": "110*************2X",
        "联系电话": "13800000000",
        "备用代码": "913502001234567890",
    }
    assert extra["E2"] == {"经办人身份证": "350*************34"}
    assert result.rejected_rows["经办人身份证"].tolist() == ["110*************2X"]
    assert "11010519491231002" not in json.dumps(uploads(db)[-1], ensure_ascii=False, default=str)


def test_unknown_columns_in_another_order_are_the_same_data(db):
    headers = [*PENALTY_HEADERS, "联系电话", "经办人"]
    load(db, [headers, [*penalty_row("E1"), "0592-1234567", "王五"]])
    before = snapshot(db)
    swapped = [*PENALTY_HEADERS, "经办人", "联系电话"]
    again = load(db, [swapped, [*penalty_row("E1"), "王五", "0592-1234567"]])
    assert (again.loaded, again.updated, again.unchanged) == (0, 0, 1)
    assert snapshot(db) == before
    assert query(db, "SELECT count(*) FROM replaced_rows") == [(0,)]


def test_a_row_keeps_only_its_own_filled_unknown_cells_whatever_the_other_sheets_had(db):
    data = xlsx_bytes(
        {
            "a": [[*LICENSE_HEADERS, "联系电话"], [*license_row("L1"), "0592-1"]],
            "b": [[*LICENSE_HEADERS, "经办人", "联系电话"], [*license_row("L2"), "王五", ""]],
        }
    )
    result = load(db, data, "x.xlsx")
    assert result.extra_columns == ["联系电话", "经办人"]
    extra = dict(query(db, "SELECT doc_no, extra FROM licenses"))
    assert (json.loads(extra["L1"]), json.loads(extra["L2"])) == ({"联系电话": "0592-1"}, {"经办人": "王五"})
    # The same row uploaded on its own is the same data.
    alone = load(db, xlsx_bytes({"a": [[*LICENSE_HEADERS, "联系电话"], [*license_row("L1"), "0592-1"]]}), "a.xlsx")
    assert (alone.updated, alone.unchanged) == (0, 1)


def test_a_renumbered_re_export_with_a_row_counter_is_unchanged(db):
    """序号 numbers the export's rows: a row added at the top renumbers every other one, which is no change."""
    headers = ["序 号", *PENALTY_HEADERS]
    first = load(db, csv_bytes([headers, ["1", *penalty_row("S1")], ["2", *penalty_row("S2")]]), "a.csv")
    assert (first.loaded, first.extra_columns) == (2, [])
    rows = [headers, ["1", *penalty_row("S0")], ["2", *penalty_row("S1")], ["3", *penalty_row("S2")]]
    second = load(db, csv_bytes(rows), "b.csv")
    assert (second.loaded, second.updated, second.unchanged) == (1, 0, 2)
    assert query(db, "SELECT count(*) FROM penalties WHERE extra IS NOT NULL") == [(0,)]


def test_cells_beyond_the_header_are_kept_as_an_unnamed_extra_column(db):
    data = "要点编号,填报日期,完成进度,状态\r\n1,2022-05-27,60%,推进中,督办：王五\r\n".encode()
    result = load(db, data)
    assert (result.loaded, result.extra_columns) == (1, ["第5列"])
    assert json.loads(query(db, "SELECT extra FROM progress")[0][0]) == {"第5列": "督办：王五"}


# --- dataset detection ---------------------------------------------------------------------

SAMPLES = {
    "progress": [PROGRESS_HEADERS, ["1", "2022-01-31", "60%", "推进中", "", ""]],
    "entities": [ENTITY_HEADERS, [credit_code(1), "厦门某公司", "道路货运", "湖里区", "2010-01-01"]],
    "severe_list": [SEVERE_HEADERS, [credit_code(1), "厦门某公司", "重大税收违法失信主体", "2021-06-01", "", "税务局"]],
    "penalties": [PENALTY_HEADERS, penalty_row("D1")],
    "licenses": [LICENSE_HEADERS, license_row("L1")],
    "objections": [OBJECTION_HEADERS + ["办理时限"],
                   ["YY-1", "D1", "行政处罚", "2022-05-27", "异议成立", "2022-06-01", "15个工作日"]],
}  # fmt: skip


def test_every_uploadable_dataset_has_a_sample():
    assert set(SAMPLES) == set(ds.UPLOADABLE)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_dataset_is_detected_from_headers(db, name):
    result = load(db, SAMPLES[name])
    assert (result.dataset, result.loaded, result.errors) == (name, 1, [])
    assert query(db, f"SELECT count(*) FROM {name}") == [(1,)]


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_dataset_can_be_named_by_the_caller(db, name):
    assert load(db, SAMPLES[name], dataset=name).dataset == name


def test_objection_deadline_in_working_days_counts_from_filing(db):
    load(db, SAMPLES["objections"])
    # Filed Friday 2022-05-27; 15 working days later is Friday 2022-06-17.
    assert query(db, "SELECT deadline FROM objections") == [(date(2022, 6, 17),)]


def test_a_deadline_past_the_calendar_end_is_a_row_error_not_a_crash(db):
    rows = [OBJECTION_HEADERS + ["办理时限"], ["YY-1", "D1", "行政处罚", "9999-12-31", "处理中", "", "999个工作日"]]
    result = load(db, rows)
    assert not result.ok
    assert ("办理时限", "办理时限超出日期范围：999个工作日") in errors_by_row(result)[2]


def test_naming_the_wrong_dataset_says_which_columns_are_missing(db):
    before = snapshot(db)
    result = load(db, SAMPLES["entities"], dataset="severe_list")
    assert not result.ok
    # The refusal says how to give the missing columns for the whole file (issue 11).
    assert result.message == (
        "文件缺少严重失信主体名单的必需列：名单名称、列入日期。如整个文件取同一值，"
        "可在命令行加 --set 名单名称=… --set 列入日期=…，或在上传页面填写这些列后重新导入"
    )
    assert result.missing == {"severe_list": ["名单名称", "列入日期"]}
    assert snapshot(db) == before


def test_a_file_missing_required_columns_says_which(db):
    headers = [h for h in PENALTY_HEADERS if h not in ("处罚决定日期", "处罚机关")]
    result = load(db, [headers, penalty_row("D1")[: len(headers)]])
    assert result.message.startswith("文件缺少行政处罚（双公示）的必需列：处罚决定日期、处罚机关。")
    assert result.loaded == 0


def test_a_workbook_sheet_missing_required_columns_names_the_sheet(db):
    headers = [h for h in LICENSE_HEADERS if h != "许可机关"]
    data = xlsx_bytes({"2021": [LICENSE_HEADERS, license_row("L1")], "2022": [headers, license_row("L2")[:-1]]})
    result = load(db, data, "x.xlsx")
    assert result.message.startswith("工作表「2022」缺少行政许可（双公示）的必需列：许可机关。")
    assert snapshot(db)["licenses"] == []  # the whole file is refused, not half of it


@pytest.mark.parametrize(
    ("data", "name", "dataset", "message"),
    [
        (csv_bytes([["姓名", "年龄"], ["张三", "30"]]), "x.csv", None, "表头与任何数据集都不匹配"),
        (csv_bytes([["姓名", "年龄"], ["张三", "30"]]), "x.csv", "penalties", "未找到行政处罚（双公示）的表头"),
        (b"", "x.csv", None, "文件为空"),
        (b"\r\n\r\n", "x.csv", None, "文件为空"),
        (b"\xef\xbb\xbf\r\n", "x.csv", None, "文件为空"),
        (xlsx_bytes({"Sheet1": []}), "x.xlsx", None, "文件为空"),
        (xlsx_bytes({"说明": [["填报说明"]]}), "x.xlsx", None, "表头与任何数据集都不匹配"),
        (csv_bytes([PENALTY_HEADERS]), "x.csv", None, "文件中没有数据行"),
        (csv_bytes([PENALTY_HEADERS, ["合计"]]), "x.csv", None, "文件中没有数据行"),
        (b"%PDF-1.4", "x.pdf", None, "不支持的文件类型"),
        (csv_bytes(SAMPLES["penalties"]), "x.csv", "work_points", "未知的数据集：work_points"),
    ],
)
def test_files_that_load_nothing_say_why_in_chinese(db, data, name, dataset, message):
    result = load(db, data, name, dataset=dataset)
    assert not result.ok
    assert message in result.message
    assert result.to_dict()["message"] == result.message
    logged = uploads(db)[-1]
    assert (logged["status"], logged["message"], logged["loaded"]) == ("refused", result.message, 0)


def test_all_rows_rejected_loads_nothing_and_says_so(db):
    result = load(db, [PENALTY_HEADERS, penalty_row("D1", decision_date="x"), penalty_row("D2", code="1")])
    assert (result.ok, result.rejected, result.message) == (False, 2, "没有可导入的数据行：所有数据行均未通过校验")
    assert snapshot(db)["penalties"] == []
    assert json.loads(uploads(db)[-1]["rejected_rows"])[0]["行政处罚决定书文号"] == "D1"


# --- one file, one transaction ---------------------------------------------------------------


def _two_dataset_workbook(suffix: str = "") -> bytes:
    return xlsx_bytes(
        {
            "许可": [LICENSE_HEADERS, license_row("L1" + suffix), license_row("L2" + suffix)],
            "处罚": [PENALTY_HEADERS, penalty_row("P1" + suffix), penalty_row("P2" + suffix)],
        }
    )


def test_a_failure_in_the_middle_of_the_write_leaves_the_database_unchanged(db, monkeypatch):
    load(db, SAMPLES["penalties"])
    before, logged_before = snapshot(db), len(uploads(db))
    real_upsert, calls = ingest._upsert, []

    def failing_upsert(con, prepared, upload_id):
        calls.append(prepared.dataset.name)
        if len(calls) == 2:  # the first dataset of the file is written by now
            raise RuntimeError("disk full")
        return real_upsert(con, prepared, upload_id)

    monkeypatch.setattr(ingest, "_upsert", failing_upsert)
    with pytest.raises(RuntimeError, match="disk full"):
        ingest.ingest_bytes(db, _two_dataset_workbook(), "x.xlsx")
    assert calls == ["licenses", "penalties"]
    assert snapshot(db) == before
    assert len(uploads(db)) == logged_before
    assert query(db, "SELECT count(*) FROM replaced_rows") == [(0,)]

    monkeypatch.setattr(ingest, "_upsert", real_upsert)
    result = ingest.ingest_bytes(db, _two_dataset_workbook(), "x.xlsx")
    assert (result.dataset, result.loaded) == ("licenses,penalties", 4)


def test_a_failure_while_logging_rolls_the_rows_back_too(db, monkeypatch):
    load(db, SAMPLES["penalties"])
    before = snapshot(db)

    def failing_log(*args, **kwargs):
        raise RuntimeError("log write failed")

    monkeypatch.setattr(ingest, "_log_upload", failing_log)
    with pytest.raises(RuntimeError, match="log write failed"):
        ingest.ingest_bytes(db, csv_bytes([PENALTY_HEADERS, penalty_row("D1", fine="9"), penalty_row("N1")]), "x.csv")
    assert snapshot(db) == before


def test_loading_the_same_file_again_changes_nothing(db):
    data = _two_dataset_workbook()
    first = ingest.ingest_bytes(db, data, "x.xlsx")
    rows = {t: query(db, f"SELECT * FROM {t} ORDER BY doc_no") for t in ("licenses", "penalties")}
    again = ingest.ingest_bytes(db, data, "x.xlsx")
    assert (first.loaded, first.updated, first.unchanged) == (4, 0, 0)
    assert (again.loaded, again.updated, again.unchanged, again.rejected) == (0, 0, 4, 0)
    assert again.ok
    assert {t: query(db, f"SELECT * FROM {t} ORDER BY doc_no") for t in rows} == rows  # upload_id included
    assert query(db, "SELECT count(*) FROM replaced_rows") == [(0,)]


def test_same_rows_in_another_encoding_or_format_are_unchanged(db):
    rows = [[TITLE], PENALTY_HEADERS, penalty_row("D1"), penalty_row("D2", subject_type="自然人", code="", id_no=ID_1)]
    load(db, csv_bytes(rows, "gbk"))
    before = snapshot(db)
    again = load(db, xlsx_bytes({"Sheet1": rows}), "x.xlsx")
    assert (again.loaded, again.updated, again.unchanged) == (0, 0, 2)
    assert snapshot(db) == before


def test_a_changed_row_replaces_the_stored_one_and_the_old_version_is_kept(db):
    first = load(db, [PENALTY_HEADERS, penalty_row("D1", fine="0.2"), penalty_row("D2")])
    second = load(db, [PENALTY_HEADERS, penalty_row("D1", fine="0.5"), penalty_row("D2"), penalty_row("D3")])
    assert (second.loaded, second.updated, second.unchanged) == (1, 1, 1)
    assert penalties(db, "doc_no, fine_wan") == [("D1", 0.5), ("D2", 0.2), ("D3", 0.2)]
    assert query(db, "SELECT doc_no, upload_id FROM penalties ORDER BY doc_no") == [
        ("D1", second.upload_id), ("D2", first.upload_id), ("D3", second.upload_id)]  # fmt: skip
    replaced = query(db, "SELECT upload_id, dataset, row_data FROM replaced_rows")
    assert len(replaced) == 1
    upload_id, dataset, row_data = replaced[0]
    old = json.loads(row_data)
    assert (upload_id, dataset) == (second.upload_id, "penalties")
    assert (old["doc_no"], old["fine_wan"], old["upload_id"]) == ("D1", 0.2, first.upload_id)
    assert uploads(db)[-1]["updated"] == 1


def test_a_key_twice_in_one_file_rejects_the_later_row_naming_the_first(db):
    rows = [[TITLE], PENALTY_HEADERS, penalty_row("D1", fine="0.2"), penalty_row("D2"), penalty_row("D1", fine="0.9")]
    result = load(db, rows)
    assert (result.loaded, result.rejected) == (2, 1)
    assert result.errors == [
        {"sheet": None, "row": 5, "column": "", "reason": "与第 3 行的键重复（行政处罚决定书文号）"}]  # fmt: skip
    assert penalties(db, "doc_no, fine_wan") == [("D1", 0.2), ("D2", 0.2)]
    logged = uploads(db)[-1]
    assert logged["rejected"] == 1
    rejected = json.loads(logged["rejected_rows"])
    assert [(r["行号"], r["罚款金额（万元）"]) for r in rejected] == [(5, "0.9")]
    assert "与第 3 行的键重复" in rejected[0]["错误原因"]
    assert len(result.rejected_rows) == 1


def test_a_key_twice_across_sheets_names_the_first_rows_sheet(db):
    data = xlsx_bytes({"2021": [LICENSE_HEADERS, license_row("L1")], "2022": [LICENSE_HEADERS, license_row("L1")]})
    result = load(db, data, "x.xlsx")
    assert (result.loaded, result.rejected) == (1, 1)
    assert result.errors == [{"sheet": "2022", "row": 2, "column": "",
                              "reason": "与工作表「2021」第 2 行的键重复（行政许可决定文书号）"}]  # fmt: skip


def test_composite_keys_duplicate_only_when_every_part_matches(db):
    rows = [PROGRESS_HEADERS, ["1", "2022-01-31", "10", "推进中", "", ""], ["1", "2022-02-28", "20", "推进中", "", ""]]
    rows += [["一", "2022/1/31", "30", "推进中", "", ""]]
    result = load(db, rows)
    assert (result.loaded, result.rejected) == (2, 1)
    assert result.errors[0]["reason"] == "与第 2 行的键重复（要点编号、填报日期）"


# --- upload log and fix-and-reload ---------------------------------------------------------


def test_every_upload_is_logged_with_its_counts_errors_and_hash(db):
    rows = [[TITLE], PENALTY_HEADERS, penalty_row("D1"), penalty_row("D2", code=bad_check_code(2)), ["合计"]]
    data = csv_bytes(rows, "gbk")
    started = datetime.now()
    result = ingest.ingest_bytes(db, data, "处罚2021.csv", user="王五")
    log = uploads(db)
    assert len(log) == 1
    entry = log[0]
    assert entry["id"] == result.upload_id
    assert started <= entry["uploaded_at"] <= datetime.now()
    assert (entry["user_name"], entry["file_name"], entry["dataset"], entry["encoding"]) == (
        "王五", "处罚2021.csv", "penalties", "GBK")  # fmt: skip
    assert entry["sha256"] == hashlib.sha256(data).hexdigest()
    counts = [entry[k] for k in ("rows_read", "loaded", "updated", "unchanged", "rejected")]
    assert counts == [2, 1, 0, 0, 1]
    assert json.loads(entry["errors"]) == result.errors
    assert entry["status"] == "loaded"
    [rejected] = json.loads(entry["rejected_rows"])
    assert (rejected["行号"], rejected["行政处罚决定书文号"]) == (4, "D2")
    assert "校验位错误" in rejected["错误原因"]


def test_a_refused_upload_is_logged_too(db):
    data = b"not,a,known,header\r\n1,2,3,4\r\n"
    result = ingest.ingest_bytes(db, data, "x.csv", user="李四")
    [entry] = uploads(db)
    assert (entry["status"], entry["user_name"], entry["dataset"], entry["loaded"]) == ("refused", "李四", None, 0)
    assert entry["sha256"] == hashlib.sha256(data).hexdigest()
    assert entry["message"] == result.message


def _rejected_file(db: str, fix) -> bytes:
    """The logged rejected rows as the upload page offers them for download, fixed by ``fix``."""
    frame = pd.DataFrame(json.loads(uploads(db)[-1]["rejected_rows"]))
    frame = fix(frame)
    out = io.StringIO()
    frame.to_csv(out, index=False, quoting=csv.QUOTE_MINIMAL)
    return out.getvalue().encode("utf-8-sig")


def test_rejected_rows_fixed_load_on_a_second_upload(db):
    rows = [[TITLE], PENALTY_HEADERS, penalty_row("D1"), penalty_row("D2", code=bad_check_code(5))]
    rows += [penalty_row("D3", decision_date="2022-02-30")]
    first = load(db, rows)
    assert (first.loaded, first.rejected) == (1, 2)

    def fix(frame: pd.DataFrame) -> pd.DataFrame:
        frame.loc[frame["行政处罚决定书文号"] == "D2", CODE_HEADER] = credit_code(5)
        frame.loc[frame["行政处罚决定书文号"] == "D3", "处罚决定日期"] = "2022-02-28"
        return frame

    second = load(db, _rejected_file(db, fix), "拒收行_export.csv")
    assert (second.loaded, second.rejected, second.errors) == (2, 0, [])
    assert penalties(db, "doc_no, decision_date, credit_code") == [
        ("D1", date(2022, 5, 27), credit_code(1)),
        ("D2", date(2022, 5, 27), credit_code(5)),
        ("D3", date(2022, 2, 28), credit_code(1)),
    ]
    # The download's own columns (行号, 错误原因) are bookkeeping, not data to keep.
    assert second.extra_columns == []
    assert query(db, "SELECT count(*) FROM penalties WHERE extra IS NOT NULL") == [(0,)]


def test_rejected_rows_from_a_workbook_reload_after_fixing(db):
    data = xlsx_bytes(
        {
            "2021": [LICENSE_HEADERS, license_row("L1"), license_row("L2", code=bad_check_code(1))],
            "2022": [LICENSE_HEADERS, license_row("L3", decision_date="2022-13-01")],
        }
    )
    assert load(db, data, "x.xlsx").rejected == 2

    def fix(frame: pd.DataFrame) -> pd.DataFrame:
        frame[CODE_HEADER] = frame[CODE_HEADER].where(frame["行政许可决定文书号"] != "L2", credit_code(1))
        return frame.replace("2022-13-01", "2022-12-01")  # 许可决定日期 and 有效期自

    second = load(db, _rejected_file(db, fix), "拒收行.csv")
    assert (second.loaded, second.errors, second.extra_columns) == (2, [], [])
    assert query(db, "SELECT count(*) FROM licenses") == [(3,)]


def test_placeholders_in_optional_amount_and_date_cells_read_as_empty(db):
    # 警告 penalties carry no fine: exports write "/", "—" or "无" there.
    rows = [
        PENALTY_HEADERS,
        penalty_row("厦交罚〔2022〕1号", fine="/"),
        penalty_row("厦交罚〔2022〕2号", fine="—"),
        penalty_row("厦交罚〔2022〕3号", fine="无"),
        penalty_row("厦交罚〔2022〕4号", fine="0"),
        # A placeholder in a required date is still an empty required cell.
        penalty_row("厦交罚〔2022〕5号", decision_date="/"),
    ]
    result = load(db, rows)
    assert (result.loaded, result.rejected) == (4, 1)
    assert [(e["row"], e["reason"]) for e in result.errors] == [(6, "必填项为空")]
    assert [fine for _, _, fine, _, _ in penalties(db)] == [None, None, None, 0.0]
