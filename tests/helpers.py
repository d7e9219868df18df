"""Small builders for ingestion tests: credit codes, CSV bytes and xlsx bytes shaped like real exports."""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path

import duckdb
import pandas as pd
import xlsxwriter

from analytics import normalize
from analytics.intake import datasets as ds

# The real published files of ../shared (bytes unchanged); a worktree under /work/wt sits a level deeper.
_ROOT = Path(__file__).resolve().parent.parent
REAL_EXPORTS = next(
    (p for p in (_ROOT.parent / "shared" / "real-exports", Path("/work/shared/real-exports")) if p.exists()),
    _ROOT.parent / "shared" / "real-exports",
)

# The order of the national 双公示 standard (shared/README.md), as real penalty exports have it.
PENALTY_HEADERS = [
    "行政相对人名称",
    "行政相对人类别",
    "行政相对人代码_1（统一社会信用代码）",
    "法定代表人",
    "证件类型",
    "证件号码",
    "行政处罚决定书文号",
    "违法行为类型",
    "违法事实",
    "处罚依据",
    "处罚类别",
    "处罚内容",
    "罚款金额（万元）",
    "处罚决定日期",
    "处罚机关",
    "数据来源单位",
    "备注",
]

LICENSE_HEADERS = [
    "行政相对人名称",
    "行政相对人类别",
    "行政相对人代码_1（统一社会信用代码）",
    "行政许可决定文书名称",
    "行政许可决定文书号",
    "许可类别",
    "许可内容",
    "许可决定日期",
    "有效期自",
    "有效期至",
    "许可机关",
]

PROGRESS_HEADERS = ["要点编号", "填报日期", "完成进度", "状态", "填报单位", "进展情况"]
ENTITY_HEADERS = ["统一社会信用代码", "名称", "行业", "所在区", "成立日期"]
SEVERE_HEADERS = ["统一社会信用代码", "主体名称", "名单名称", "列入日期", "移出日期", "认定部门"]
OBJECTION_HEADERS = ["异议编号", "决定文书号", "信息类别", "异议提出日期", "处理结果", "办结日期"]
# Every header key the uploadable datasets accept: what the reader looks for when finding a sheet's header.
KNOWN_HEADERS = {key for name in ds.UPLOADABLE for key in ds.header_index(ds.DATASETS[name])}

DATA_TABLES = ("progress", "entities", "severe_list", "penalties", "licenses", "objections")

_ORG_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def credit_code(seed: int = 0, region: str = "350203") -> str:
    """A valid 统一社会信用代码 (GB 32100-2015): 91 + region + 9-char organisation code + check character."""
    rng = random.Random(seed)
    org = "".join(rng.choice(_ORG_ALPHABET) for _ in range(9))
    first17 = "91" + region + org
    return first17 + normalize.credit_code_check_char(first17)


def bad_check_code(seed: int = 0) -> str:
    """A credit code whose 18th character is a wrong (but legal) check character."""
    good = credit_code(seed)
    wrong = next(ch for ch in _ORG_ALPHABET if ch != good[-1])
    return good[:-1] + wrong


def csv_bytes(rows: Sequence[Sequence[object]], encoding: str = "utf-8", bom: bool = False) -> bytes:
    """Rows (title rows, header, data, notes) as a CSV file in ``encoding``, optionally with a UTF-8 BOM."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    data = out.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def xlsx_bytes(sheets: dict[str, Sequence[Sequence[object]]]) -> bytes:
    """A workbook with one sheet per entry; dates/datetimes become real Excel date cells, numbers numeric cells."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    date_format = book.add_format({"num_format": "yyyy-mm-dd"})
    for name, rows in sheets.items():
        sheet = book.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, datetime | date):
                    sheet.write_datetime(r, c, value, date_format)
                elif isinstance(value, bool):
                    sheet.write_boolean(r, c, value)
                elif isinstance(value, int | float):
                    sheet.write_number(r, c, value)
                else:
                    sheet.write_string(r, c, str(value))
    book.close()
    return out.getvalue()


def penalty_row(
    doc_no: str,
    code: str | None = None,
    *,
    name: str = "厦门市鹭岛运输有限公司",
    subject_type: str = "法人及非法人组织",
    id_type: str = "",
    id_no: str = "",
    fine: object = "0.2",
    decision_date: object = "2022-05-27",
    authority: str = "厦门市交通运输局",
    note: str = "",
) -> list[object]:
    """One penalty row in PENALTY_HEADERS order."""
    return [
        name,
        subject_type,
        credit_code(1) if code is None else code,
        "张三" if subject_type != "自然人" else "",
        id_type,
        id_no,
        doc_no,
        "超限运输",
        "车辆超限运输",
        "《公路安全保护条例》第六十四条",
        "罚款",
        "罚款人民币贰仟元",
        fine,
        decision_date,
        authority,
        "厦门市交通运输局",
        note,
    ]


def license_row(doc_no: str, code: str | None = None, decision_date: object = "2021-03-01") -> list[object]:
    return [
        "厦门市鹭岛运输有限公司",
        "法人及非法人组织",
        credit_code(2) if code is None else code,
        "道路运输经营许可证",
        doc_no,
        "普通",
        "道路普通货物运输",
        decision_date,
        decision_date,
        "2026-12-31",
        "厦门市交通运输局",
    ]


def _rows(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple]:
    return sorted(con.execute(f"SELECT * EXCLUDE (upload_id) FROM {table}").fetchall(), key=repr)


def table_rows(db_path: str | Path, table: str) -> list[tuple]:
    """Every row of a table, sorted, without the upload id (bookkeeping, not data)."""
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        return _rows(con, table)
    finally:
        con.close()


def snapshot(db_path: str | Path) -> dict[str, list[tuple]]:
    """The contents of every uploadable data table (not the upload log), for before/after comparisons."""
    if not Path(db_path).exists():
        return {t: [] for t in DATA_TABLES}
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        return {t: _rows(con, t) for t in DATA_TABLES}
    finally:
        con.close()


def query(db_path: str | Path, sql: str, params: Sequence[object] = ()) -> list[tuple]:
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def section_rollup_frame() -> pd.DataFrame:
    """Two sections as metrics.section_rollup gives them: what the rollup chart and its cache are tested on."""
    return pd.DataFrame(
        {
            "section": [1, 2],
            "section_title": ["推进信用制度落实", "加强信用数据归集应用"],
            "progress": [50.0, 20.0],
            "completed": [1, 0],
            "total": [3, 5],
            "overdue": [0, 2],
        }
    )
