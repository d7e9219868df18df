"""Hostile and broken files: each is refused (or its bad rows are) with a clear Chinese reason,
and the data tables stay exactly as they were. Every file is generated here, small and fast."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
import xlsxwriter

from analytics import normalize
from analytics.intake import ingest, reader
from analytics.output import export

ROOT = Path(__file__).resolve().parent.parent
DATA_TABLES = ("work_points", "progress", "entities", "severe_list", "penalties", "licenses", "objections")
HEADERS = ["行政相对人名称", "统一社会信用代码", "行政处罚决定书文号", "处罚决定日期", "处罚机关", "违法事实", "备注"]
FORMULAS = ['=HYPERLINK("http://x","y")', "=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(1)"]
SQL = "'); DROP TABLE penalties; --"


def code(seed: int) -> str:
    first17 = f"91350203MA{seed:07d}"
    return first17 + normalize.credit_code_check_char(first17)


def row(doc_no: str, **overrides) -> list[str]:
    values = {"name": "厦门市鹭岛运输有限公司", "code": code(1), "doc_no": doc_no, "day": "2022-05-27"}
    values |= {"authority": "厦门市交通运输局", "facts": "车辆超限运输", "note": ""} | overrides
    return list(values.values())


def csv_bytes(rows, encoding: str = "utf-8") -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(cells: dict[tuple[int, int], object], formula: tuple[int, int] | None = None) -> bytes:
    """A real workbook (xlsxwriter): the standard header in row 1, then the given cells."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False})
    sheet = book.add_worksheet("处罚")
    for c, header in enumerate(HEADERS):
        sheet.write_string(0, c, header)
    for (r, c), value in cells.items():
        sheet.write_string(r, c, str(value))
    if formula:
        sheet.write_formula(*formula, "=1+1", None, 2)
    book.close()
    return out.getvalue()


def replace_sheet(data: bytes, sheet_xml: bytes, member: str = "xl/worksheets/sheet1.xml") -> bytes:
    """The same workbook with its first sheet's XML (or another member) replaced, for parts no writer would produce."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            body = sheet_xml if info.filename == member else source.read(info.filename)
            archive.writestr(info.filename, body)
    return out.getvalue()


# Nine levels of entities, each ten of the one below: a billion "lol"s if an XML parser expanded them.
ENTITY_BOMB = (
    b'<?xml version="1.0"?><!DOCTYPE s [<!ENTITY l0 "lol">'
    + b"".join(b'<!ENTITY l%d "%s">' % (i, b"".join([b"&l%d;" % (i - 1)] * 10)) for i in range(1, 10))
    + b']><styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    + b'<numFmts><numFmt numFmtId="164" formatCode="&l9;"/></numFmts></styleSheet>'
)


def sheet_xml(cells: list[tuple[str, str]]) -> bytes:
    """A worksheet whose cells sit at the given references, e.g. [("A1", "文号"), ("BDWGN1", "x")]."""
    rows: dict[int, list[str]] = {}
    for ref, text in cells:
        number = int("".join(ch for ch in ref if ch.isdigit()))
        rows.setdefault(number, []).append(f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>')
    body = "".join(f'<row r="{n}">{"".join(cs)}</row>' for n, cs in sorted(rows.items()))
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<sheetData>{body}</sheetData></worksheet>"
    ).encode()


def header_cells() -> list[tuple[str, str]]:
    return [(f"{chr(65 + c)}1", h) for c, h in enumerate(HEADERS)]


def set_declared_size(data: bytes, member: str, size: int) -> bytes:
    """Rewrite the uncompressed size a zip declares for ``member`` (local header and central directory)."""
    patched = bytearray(data)
    offset = zipfile.ZipFile(io.BytesIO(data)).getinfo(member).header_offset
    struct.pack_into("<I", patched, offset + 22, size)
    position = patched.find(b"PK\x01\x02")
    while position != -1:
        length = struct.unpack_from("<H", patched, position + 28)[0]
        if bytes(patched[position + 46 : position + 46 + length]) == member.encode():
            struct.pack_into("<I", patched, position + 24, size)
        position = patched.find(b"PK\x01\x02", position + 4)
    return bytes(patched)


def zip_bomb(megabytes: int) -> bytes:
    """A workbook whose sheet XML inflates from a few dozen KB to ``megabytes`` MB, streamed in chunks."""
    data = xlsx_bytes({})
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for info in source.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                archive.writestr(info.filename, source.read(info.filename))
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            chunk = b" " * (1 << 20)
            for _ in range(megabytes):
                sheet.write(chunk)
    return out.getvalue()


def snapshot(db: str) -> dict[str, list[tuple]]:
    con = duckdb.connect(db, read_only=True)
    try:
        tables = sorted(r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall())
        data = {
            t: con.execute(f"SELECT CAST(COLUMNS(*) AS VARCHAR) FROM {t} ORDER BY ALL").fetchall() for t in DATA_TABLES
        }
        return {"tables": tables, **data}
    finally:
        con.close()


def last_upload(db: str) -> tuple:
    con = duckdb.connect(db, read_only=True)
    try:
        return con.execute("SELECT status, message FROM uploads ORDER BY id DESC LIMIT 1").fetchone()
    finally:
        con.close()


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """A store holding one good upload, so "unchanged" is checked against real rows."""
    path = tmp_path_factory.mktemp("template") / "credit.duckdb"
    result = ingest.ingest_bytes(str(path), csv_bytes([HEADERS, row("P-OK-1"), row("P-OK-2")]), "good.csv")
    assert result.loaded == 2
    return path


@pytest.fixture
def db(template, tmp_path) -> str:
    path = tmp_path / "credit.duckdb"
    shutil.copyfile(template, path)
    return str(path)


def today_plus(days: int) -> str:
    return (date.today() + timedelta(days=days)).isoformat()


def with_char(position: int, char: str) -> str:
    good = code(2)
    return good[:position] + char + good[position + 1 :]


ODS = b"application/vnd.oasis.opendocument.spreadsheet"


def zip_of(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, body in members.items():
            archive.writestr(name, body)
    return out.getvalue()


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00" + bytes(range(256)) * 8
UTF8_THEN_GBK = csv_bytes([HEADERS, row("P-U8")]) + csv_bytes([row("P-GBK", facts="车辆超限运输（GBK）")], "gbk")

# (case, file name, bytes, what the refusal says)
REFUSED_FILES = [
    ("empty", "empty.csv", b"", "文件为空"),
    ("blank", "blank.csv", b" \r\n\r\n\t", "文件为空"),
    ("pdf", "report.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj", "不支持的文件类型"),
    ("exe", "setup.exe", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + bytes(200), "不支持的文件类型"),
    ("png named csv", "photo.csv", PNG, "不是文本格式的 CSV"),
    ("png named xlsx", "photo.xlsx", PNG, "无法打开 Excel 文件"),
    ("text named xlsx", "export.xlsx", csv_bytes([HEADERS, row("P1")]), "无法打开 Excel 文件"),
    ("empty zip", "archive.xlsx", b"PK\x05\x06" + bytes(18), "不是有效的 .xlsx 文件"),
    ("zip of a text file", "archive.xlsx", zip_of({"readme.txt": b"hello"}), "不是有效的 .xlsx 文件"),
    ("broken xls", "legacy.xls", bytes.fromhex("d0cf11e0a1b11ae1") + bytes(500), "无法打开 Excel 文件"),
    ("ods renamed xlsx", "sheet.xlsx", zip_of({"mimetype": ODS, "content.xml": b"<x/>", "xl/workbook.xml": b"<x/>"}), "不是有效的 .xlsx 文件"),
    ("xlsx bomb, declared 2 GB", "bomb.xlsx", set_declared_size(xlsx_bytes({}), "xl/worksheets/sheet1.xml", 2**31), "压缩炸弹"),
    ("xlsx bomb, 80 MB of blanks", "bomb.xlsx", zip_bomb(80), "压缩炸弹"),
    ("xlsx with a size that lies", "liar.xlsx", set_declared_size(zip_bomb(3), "xl/worksheets/sheet1.xml", 1000), "已损坏"),
    ("entity bomb in the styles", "styles.xlsx", replace_sheet(xlsx_bytes({}), ENTITY_BOMB, "xl/styles.xml"), "已损坏"),
    ("16384 columns", "wide.xlsx", xlsx_bytes({(1, 16383): "x"}), "列数过多（16384 列，最右的单元格在 XFD2）"),
    ("1,000,000 columns", "wider.xlsx", replace_sheet(xlsx_bytes({}), sheet_xml([*header_cells(), ("BDWGN1", "x")])), "列数过多（1000000 列"),
    ("csv with 1,000,000 columns", "wide.csv", csv_bytes([HEADERS + [""] * 1_000_000, row("P1")]), "列数过多"),
    ("mixed encodings", "mixed.csv", UTF8_THEN_GBK, "文件编码不一致：第 3 行起不是 UTF-8 编码"),
    ("unclosed quote", "quote.csv", csv_bytes([HEADERS, row("P1")]) + b'"x,y\r\n', "第 3 行起有未闭合的引号"),
    ("a 200 000-character cell", "long.csv", csv_bytes([HEADERS, row("P1", facts="长" * 200_000)]), "有单元格超过 131072 个字符"),
    ("header only", "header.csv", csv_bytes([HEADERS]), "文件中没有数据行"),
    ("no known header", "other.csv", csv_bytes([["姓名", "年龄"], ["张三", "30"]]), "表头与任何数据集都不匹配"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "name", "data", "message"), REFUSED_FILES, ids=[c[0] for c in REFUSED_FILES])
def test_a_hostile_file_is_refused_in_chinese_and_changes_no_data(db, case, name, data, message):
    before = snapshot(db)
    result = ingest.ingest_bytes(db, data, name, user="分析员甲")
    assert message in (result.message or ""), (case, result.message)
    assert not result.ok and result.loaded == result.updated == 0
    assert snapshot(db) == before
    assert last_upload(db) == ("refused", result.message)


@pytest.mark.parametrize(("case", "name", "data", "message"), REFUSED_FILES, ids=[c[0] for c in REFUSED_FILES])
def test_a_hostile_file_given_by_path_is_refused_as_when_uploaded(db, tmp_path, monkeypatch, case, name, data, message):
    """A path is read from disk in pieces: 7-byte pieces cut characters and lines everywhere."""
    monkeypatch.setattr(reader, "_BLOCK_BYTES", 7)
    path = tmp_path / name
    path.write_bytes(data)
    before = snapshot(db)
    [result] = ingest.ingest_paths(db, [path])
    assert message in (result.message or ""), (case, result.message)
    assert snapshot(db) == before


# (case, cells of the rejected rows' columns, what the row's reason says)
REJECTED_ROWS = [
    ("a day that does not exist", {"day": "2022-02-30"}, "日期不存在：2022-02-30"),
    ("a typo date", {"day": "19000101"}, "日期不合理：19000101"),
    ("a decision in the future", {"day": today_plus(30)}, "日期晚于今天，不合理"),
    ("an Excel serial in the future", {"day": "99999"}, "日期晚于今天，不合理"),
    ("credit code with I", {"code": with_char(10, "I")}, "含非法字符：I"),
    ("credit code with O", {"code": with_char(10, "O")}, "含非法字符：O"),
    ("credit code with S", {"code": with_char(10, "S")}, "含非法字符：S"),
    ("credit code with V", {"code": with_char(10, "V")}, "含非法字符：V"),
    ("credit code with Z", {"code": with_char(10, "Z")}, "含非法字符：Z"),
    ("credit code of 17", {"code": code(3)[:17]}, "应为18位，实为17位"),
    ("credit code of 19", {"code": code(3) + "1"}, "应为18位，实为19位"),
    ("credit code with a wrong check character", {"code": code(3)[:17] + ("0" if code(3)[17] != "0" else "1")}, "校验位错误"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "cells", "reason"), REJECTED_ROWS, ids=[c[0] for c in REJECTED_ROWS])
def test_an_impossible_value_rejects_its_row_with_the_reason(db, case, cells, reason):
    before = snapshot(db)
    result = ingest.ingest_bytes(db, csv_bytes([HEADERS, row("P-BAD", **cells)]), "bad.csv")
    reasons = [e["reason"] for e in result.errors]
    assert any(reason in r for r in reasons), (case, reasons)
    assert result.errors[0]["row"] == 2
    assert result.message == "没有可导入的数据行：所有数据行均未通过校验"
    assert snapshot(db) == before


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(db, tmp_path, monkeypatch):
    monkeypatch.setenv("CREDIT_MAX_UPLOAD_MB", "1")
    big = tmp_path / "big.csv"
    big.write_bytes(csv_bytes([HEADERS] + [row(f"P{i}", facts="x" * 200) for i in range(8000)]))
    assert big.stat().st_size > 2 * 1024 * 1024
    before = snapshot(db)
    for method in ("read", "blocks", "whole", "stream", "arrow_stream"):  # every way a file's bytes are read
        monkeypatch.setattr(reader.FileData, method, _refusing_to_read(big, getattr(reader.FileData, method)))
    [result] = ingest.ingest_paths(db, [big])
    assert result.message == "文件过大（2 MB），超过上限 1 MB"
    assert snapshot(db) == before
    assert last_upload(db) == ("refused", result.message)
    # Bytes handed over directly (the upload page) meet the same limit.
    direct = ingest.ingest_bytes(db, b"x" * (2 * 1024 * 1024), "big.csv")
    assert direct.message == "文件过大（2 MB），超过上限 1 MB"


def _refusing_to_read(path: Path, method):
    def read(self, *args, **kwargs):
        assert self.path != path, "the over-size file was read"
        return method(self, *args, **kwargs)

    return read


def _ingest_in_another_process(db: str, tmp_path: Path, name: str, data: bytes) -> subprocess.CompletedProcess:
    path = tmp_path / name
    path.write_bytes(data)
    return subprocess.run(
        [sys.executable, "-m", "analytics", "ingest", str(path), "--db", db],
        cwd=ROOT,
        env=os.environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        ([("XFD1048576", "x")], "列数过多（16384 列，最右的单元格在 XFD1048576）"),
        ([("SF1048576", "x")], "工作表数据区域过大（1048576 行 × 500 列，最远的单元格在 SF1048576）"),
    ],
    ids=["far corner", "far bottom"],
)
def test_a_tiny_workbook_with_one_far_cell_is_refused_not_a_crash(db, tmp_path, cells, message):
    """Two cells, a few KB: the reader used to ask for billions of cells and abort the process.
    Run in another process so a regression shows as a failure here, not as a dead test run."""
    data = replace_sheet(xlsx_bytes({}), sheet_xml([*header_cells(), *cells]))
    assert len(data) < 10_000
    before = snapshot(db)
    done = _ingest_in_another_process(db, tmp_path, "far.xlsx", data)
    assert done.returncode == 1, done.stderr[-2000:]
    [result] = json.loads(done.stdout)
    assert message in result["message"]
    assert done.stderr == ""
    assert snapshot(db) == before


REGISTER_HEADER = ["企业名称", "统一社会信用代码", "行业", "所在区"]


def many_far_sheets_xlsx(sheets: int) -> bytes:
    """The probe's 18 KB workbook: each sheet a register header in row 1 and one cell at S1048576,
    just under the one-sheet limit (1,048,576 × 19 cells), far over it together."""
    # Written row by row to a file: in memory, xlsxwriter itself would take 5 GB for these rows.
    with tempfile.TemporaryDirectory() as work:
        path = Path(work) / "far.xlsx"
        book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
        for i in range(sheets):
            sheet = book.add_worksheet(f"登记{i + 1}")
            sheet.write_row(0, 0, REGISTER_HEADER)
            sheet.write(1048575, 18, "x")
        book.close()
        return path.read_bytes()


def many_far_sheets_xls(sheets: int) -> bytes:
    """The legacy twin: each sheet's one far cell at row 65536, column 256, the most BIFF8 holds."""
    import xlwt

    book = xlwt.Workbook()
    for i in range(sheets):
        sheet = book.add_sheet(f"S{i + 1}")
        for column, header in enumerate(REGISTER_HEADER):
            sheet.write(0, column, header)
        sheet.write(65535, 255, "x")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "build", "message"),
    [
        # 1,048,576 × 19 = 19,922,944 cells a sheet: the second sheet brings the sum to 39,845,888.
        (
            "forty.xlsx",
            lambda: many_far_sheets_xlsx(40),
            "到第 2 个工作表「登记2」（1048576 行 × 19 列）已累计 39,845,888 个单元格",
        ),
        # 65,536 × 256 = 16,777,216 cells: over the 12 million an .xls may hold in all, at its first sheet.
        (
            "thirty.xls",
            lambda: many_far_sheets_xls(30),
            "到第 1 个工作表「S1」（65536 行 × 256 列）已累计 16,777,216 个单元格",
        ),
    ],
    ids=["40-sheet xlsx", "30-sheet xls"],
)
def test_a_tiny_workbook_of_many_far_sheets_is_refused_before_any_grid_is_built(db, tmp_path, name, build, message):
    """Every sheet passed the one-sheet check, and calamine laid out all of them at once: 5 GB and an abort.
    In another process, so a regression shows as a failed exit here, not as a dead test run."""
    data = build()
    assert len(data) < 30_000
    before = snapshot(db)
    done = _ingest_in_another_process(db, tmp_path, name, data)
    assert done.returncode == 1, done.stderr[-2000:]
    [result] = json.loads(done.stdout)
    assert message in result["message"]
    assert "万个：请删除多余的工作表或远处的多余单元格，或拆分后上传" in result["message"]
    assert snapshot(db) == before


def test_an_xls_sheet_with_one_far_cell_is_measured_from_its_records():
    # The extent is read exactly from the records, no grid built: row 65,536 and column 256 hold the far cell.
    data = many_far_sheets_xls(1)
    from xlrd.compdoc import CompDoc

    stream = CompDoc(data).get_named_stream("Workbook")
    assert list(reader._xls_sheet_extents(stream)) == [("S1", 65536, 256)]


def test_workbook_sheets_are_held_one_at_a_time():
    built = []

    class Workbook:
        def get_sheet_by_name(self, name):
            built.append(name)
            return object()

    loader = reader._SheetLoader(Workbook())
    first = loader.get("a")
    assert loader.get("a") is first  # the sheet in hand is not built again
    loader.get("b")
    assert loader._sheet is not first and built == ["a", "b"]


def test_formulas_are_stored_as_text_as_is_and_neutralised_in_every_download(db):
    rows = [row(f"P-F{i}", name=f, facts=f, note=f) for i, f in enumerate(FORMULAS)]
    result = ingest.ingest_bytes(db, csv_bytes([HEADERS, *rows]), "formulas.csv")
    assert result.loaded == len(FORMULAS), result.errors
    con = duckdb.connect(db, read_only=True)
    try:
        frame = con.execute(
            "SELECT doc_no, subject_name, facts, note FROM penalties WHERE doc_no LIKE 'P-F%' ORDER BY doc_no"
        ).df()
    finally:
        con.close()
    assert list(frame["facts"]) == FORMULAS and list(frame["subject_name"]) == FORMULAS
    assert list(frame["note"]) == FORMULAS

    downloaded = export.to_csv_bytes(frame).decode("utf-8-sig")
    for formula in FORMULAS:
        assert f",{formula}" not in downloaded and f"\n{formula}" not in downloaded
    back = list(csv.reader(io.StringIO(downloaded)))
    assert [r[2] for r in back[1:]] == ["'" + f for f in FORMULAS]

    workbook = zipfile.ZipFile(io.BytesIO(export.to_xlsx_bytes(frame, "处罚")))
    sheet = workbook.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet and "<f " not in sheet
    shared = workbook.read("xl/sharedStrings.xml").decode()
    assert "=HYPERLINK" in shared and "'=HYPERLINK" not in shared  # a string cell, the exact text (issue 23)


def test_formula_text_and_formula_cells_in_a_workbook(db):
    cells = {(1, c): v for c, v in enumerate(row("P-X1", facts=FORMULAS[1]))}
    result = ingest.ingest_bytes(db, xlsx_bytes(cells, formula=(1, 6)), "formulas.xlsx")
    assert result.loaded == 1, result.errors
    con = duckdb.connect(db, read_only=True)
    try:
        facts, note = con.execute("SELECT facts, note FROM penalties WHERE doc_no = 'P-X1'").fetchone()
    finally:
        con.close()
    assert facts == FORMULAS[1]  # text as the file holds it
    assert note == "2"  # a real formula cell: its value, never the formula, and it is never run


def test_sql_in_a_header_and_in_a_value_is_just_text(db):
    headers = [*HEADERS, SQL]
    before_tables = snapshot(db)["tables"]
    result = ingest.ingest_bytes(db, csv_bytes([headers, row("P-SQL", facts=SQL, note=SQL) + [SQL]]), "sql.csv")
    assert result.loaded == 1 and result.extra_columns == [SQL]
    con = duckdb.connect(db, read_only=True)
    try:
        facts, note, extra = con.execute(
            "SELECT facts, note, CAST(extra AS VARCHAR) FROM penalties WHERE doc_no = 'P-SQL'"
        ).fetchone()
        kept = con.execute("SELECT count(*) FROM penalties").fetchone()[0]
    finally:
        con.close()
    assert (facts, note, json.loads(extra)) == (SQL, SQL, {SQL: SQL})
    assert kept == 3
    assert snapshot(db)["tables"] == before_tables


def test_a_binary_tail_after_a_text_head_cannot_break_the_store(db):
    before = snapshot(db)
    data = csv_bytes([HEADERS] + [row(f"P-T{i}") for i in range(200)]) + PNG
    result = ingest.ingest_bytes(db, data, "tail.csv")
    assert (
        result.message
        == "文件编码不一致：第 202 行起不是 UTF-8 编码（同一文件中混用了 UTF-8 和 GBK），请统一另存为 UTF-8 后重新上传"
    )
    assert snapshot(db) == before


def test_a_lying_dimension_or_a_formatted_far_cell_does_not_refuse_a_good_workbook(db):
    """Only cells with content count: Excel keeps formatting-only cells far away, and the
    <dimension> element is whatever the writer says."""
    cells = "".join(f'<c r="{chr(65 + c)}2" t="inlineStr"><is><t>{v}</t></is></c>' for c, v in enumerate(row("P-D1")))
    xml = (
        sheet_xml(header_cells())
        .replace(b"<sheetData>", b'<dimension ref="A1:XFD1048576"/><sheetData>')
        .replace(
            b"</sheetData>",
            f'<row r="2">{cells}</row><row r="1048576"><c r="XFD1048576" s="0"/></row></sheetData>'.encode(),
        )
    )
    result = ingest.ingest_bytes(db, replace_sheet(xlsx_bytes({}), xml), "formatted.xlsx")
    assert (result.loaded, result.message) == (1, None), result.errors


def test_a_right_to_left_override_is_removed_at_ingestion_and_counted(db):
    spoof = "厦门甲货运有限公司\u202egpj.exe"
    result = ingest.ingest_bytes(db, csv_bytes([HEADERS, row("P-RLO1", name=spoof), row("P-RLO2")]), "bidi.csv")
    assert result.loaded == 2 and result.cleaned_cells == 1
    assert result.to_dict()["cleaned_cells"] == 1
    con = duckdb.connect(db, read_only=True)
    try:
        [(name,)] = con.execute("SELECT subject_name FROM penalties WHERE doc_no = 'P-RLO1'").fetchall()
    finally:
        con.close()
    assert name == "厦门甲货运有限公司gpj.exe"


@pytest.mark.parametrize(
    "char",
    [
        "\u202a",
        "\u202b",
        "\u202c",
        "\u202d",
        "\u2066",
        "\u2067",
        "\u2068",
        "\u2069",
        "\u200e",
        "\u200f",
        "\u200b",
        "\ufeff",
        "\u00ad",
    ],
)
def test_every_invisible_format_character_is_removed(char):
    assert normalize.clean_text(f"甲{char}乙") == "甲乙"
