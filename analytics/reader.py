"""Reading spreadsheet exports into grids of text, as the file shows them.

A file becomes one ``Sheet`` per worksheet (one for a CSV): its header, its
data rows as text with their row numbers in the file, and the title, total
and note rows it skipped. Which dataset a sheet holds is decided later, from
its header; here we only need to know which headers exist at all.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time

import numpy as np
import pandas as pd

from analytics.normalize import header_key

# The header is looked for in the first rows only: titles take a few at most.
HEADER_SEARCH_ROWS = 30
MAX_COLUMNS = 500
# An xlsx is a zip: refuse one that would inflate far beyond any real export.
MAX_UNZIPPED_BYTES = 1_500_000_000
MAX_COMPRESSION_RATIO = 200
# calamine turns a sheet into a dense grid spanning its first to its last cell, before we see its size:
# two cells at A1 and XFD1048576 ask for 17 billion cells and abort the whole process. The used area is
# measured from the XML first; 20 million cells is a full sheet of 19 columns.
MAX_SHEET_CELLS = 20_000_000

TOTAL_PREFIXES = ("合计", "总计", "小计", "共计")
NOTE_PREFIXES = ("制表", "填报说明", "备注", "注:", "注：", "说明", "审核", "负责人", "填表", "数据截至", "数据来源")


class ReadError(ValueError):
    """The file cannot be read at all; the message is shown to analysts."""


@dataclass
class Sheet:
    name: str | None
    header_row: int  # row number of the header in the file, 1-based
    headers: list[str]
    frame: pd.DataFrame  # data rows, text only, columns 0..n-1 as in the file
    rows: list[int]  # the file's row number of each data row
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (row, why) for title/total/note rows


@dataclass
class ReadResult:
    encoding: str | None
    sheets: list[Sheet]
    unrecognised_sheets: list[str] = field(default_factory=list)


def read_file(data: bytes, file_name: str, known_headers: set[str]) -> ReadResult:
    """Read a CSV or Excel export; ``known_headers`` are normalised header keys."""
    if not data or not data.strip():
        raise ReadError("文件为空")
    lower = file_name.lower()
    if lower.endswith((".xlsx", ".xlsm", ".xls")):
        return _read_excel(data, known_headers)
    if lower.endswith((".csv", ".txt", ".tsv")):
        return _read_csv(data, known_headers)
    raise ReadError(f"不支持的文件类型：{file_name}（请上传 .csv、.xlsx 或 .xls 文件）")


# --- CSV -------------------------------------------------------------------


def decode(data: bytes) -> tuple[str, str]:
    """Text and the name of the encoding: UTF-8 (with or without BOM), UTF-16, GB18030/GBK."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "UTF-16"
    if b"\x00" in data[:8192]:
        raise ReadError("文件不是文本格式的 CSV（含二进制内容），请确认文件类型")
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "UTF-8 (BOM)"
        except UnicodeDecodeError as exc:
            raise ReadError(_mixed_message(data[3:], exc)) from None
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError as utf8_error:
        if _looks_mixed(data, utf8_error):
            raise ReadError(_mixed_message(data, utf8_error)) from None
        try:
            return data.decode("gb18030"), "GBK"
        except UnicodeDecodeError:
            raise ReadError("无法识别文件编码（既不是 UTF-8 也不是 GBK/GB18030），请另存为 UTF-8 编码的 CSV") from None


def _looks_mixed(data: bytes, utf8_error: UnicodeDecodeError) -> bool:
    """Whole lines of UTF-8 Chinese before the first bad byte mean the file mixes encodings.

    Whole lines only: the first few bytes of a GBK file can happen to be valid UTF-8
    (璐宝 is E8 B4 B1 A6, and E8 B4 B1 is one UTF-8 character), a whole line of it cannot.
    """
    head = data[: utf8_error.start]
    complete_lines = head[: head.rfind(b"\n") + 1]
    return bool(re.search(rb"[\xe4-\xe9][\x80-\xbf]{2}", complete_lines))


def _mixed_message(data: bytes, exc: UnicodeDecodeError) -> str:
    line = data[: exc.start].count(b"\n") + 1
    return (
        f"文件编码不一致：第 {line} 行起不是 UTF-8 编码（同一文件中混用了 UTF-8 和 GBK），请统一另存为 UTF-8 后重新上传"
    )


def _sniff_delimiter(lines: list[str]) -> str:
    sample = "\n".join(lines)
    return max((",", "\t", ";", "|"), key=sample.count)


def _read_csv(data: bytes, known_headers: set[str]) -> ReadResult:
    text, encoding = decode(data)
    if not text.strip():  # a BOM, or UTF-16 spaces: bytes, but nothing in them
        raise ReadError("文件为空")
    head_lines = text.splitlines()[:HEADER_SEARCH_ROWS]
    delimiter = _sniff_delimiter(head_lines)
    try:
        head_rows = list(csv.reader(head_lines, delimiter=delimiter))
    except csv.Error as exc:  # a cell over csv's field limit: no export has one
        raise ReadError(f"CSV 格式错误：{_parser_detail(exc, 0)}") from None
    header_index = find_header(head_rows, known_headers)
    if header_index is None:
        return ReadResult(encoding, [], ["CSV"])
    headers = head_rows[header_index]
    if len(headers) > MAX_COLUMNS:
        raise ReadError(f"列数过多（{len(headers)} 列），不是有效的数据导出文件")

    def parse(width: int) -> pd.DataFrame:
        return pd.read_csv(
            io.StringIO(text),
            sep=delimiter,
            header=None,
            skiprows=header_index + 1,
            names=range(width),
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
            index_col=False,
            on_bad_lines="error",
        )

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", pd.errors.ParserWarning)
            frame = parse(len(headers))
        if any(issubclass(w.category, pd.errors.ParserWarning) for w in caught):
            # A row has more cells than the header (pandas drops them with a warning): keep them
            # under empty headers, as an Excel sheet would, so no cell is lost without a word.
            width = max(len(row) for row in csv.reader(io.StringIO(text), delimiter=delimiter))
            if width > MAX_COLUMNS:
                raise ReadError(f"列数过多（{width} 列），不是有效的数据导出文件")
            headers = headers + [""] * (width - len(headers))
            frame = parse(width)
    except ReadError:
        raise
    except (pd.errors.ParserError, ValueError, csv.Error) as exc:
        raise ReadError(f"CSV 格式错误：{_parser_detail(exc, header_index)}") from None
    rows = list(range(header_index + 2, header_index + 2 + len(frame)))
    sheet = _finish_sheet(None, header_index + 1, headers, frame, rows)
    sheet.skipped[:0] = [(i + 1, "标题行") for i in range(header_index) if any(c.strip() for c in head_rows[i])]
    return ReadResult(encoding, [sheet])


def _parser_detail(exc: Exception, header_index: int) -> str:
    message = str(exc)
    if m := re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", message):
        expected, line, saw = m.groups()
        return f"第 {int(line) + header_index + 1} 行有 {saw} 列，表头只有 {expected} 列"
    if m := re.search(r"EOF inside string starting at row (\d+)", message):
        return f"第 {int(m.group(1)) + 1} 行起有未闭合的引号（单元格中的英文双引号应成对出现）"
    if m := re.search(r"field larger than field limit \((\d+)\)", message):
        return f"有单元格超过 {int(m.group(1))} 个字符，不是有效的数据导出文件"
    return message.splitlines()[0][:200]


# --- Excel -----------------------------------------------------------------


def _check_zip(data: bytes) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except Exception:  # BadZipFile, but a damaged directory also raises NotImplementedError, ValueError, …
        raise ReadError("文件不是有效的 Excel 文件（.xlsx 已损坏或扩展名不符）") from None
    unzipped = sum(info.file_size for info in archive.infolist())
    if unzipped > MAX_UNZIPPED_BYTES or unzipped > MAX_COMPRESSION_RATIO * max(len(data), 1) + 50_000_000:
        raise ReadError("Excel 文件解压后体积异常（疑似压缩炸弹），已拒绝")
    names = set(archive.namelist())
    if "xl/workbook.xml" not in names or names & {"xl/workbook.bin", "content.xml"}:  # not .xlsb or .ods
        raise ReadError("文件不是有效的 .xlsx 文件（压缩包中没有 Excel 工作簿），请另存为 .xlsx 后上传")
    for info in archive.infolist():
        if info.filename.endswith(".xml"):  # worksheets, wherever the workbook's links put them
            _check_extent(archive, info)


def _check_extent(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    try:
        with archive.open(info) as stream:
            rows, columns, corner = _sheet_extent(stream)
    except ReadError:
        raise
    except Exception:  # bad CRC, a size that lies, a damaged stream
        raise ReadError("无法打开 Excel 文件：文件已损坏或不是 Excel 格式") from None
    if columns > MAX_COLUMNS:
        raise ReadError(f"工作表列数过多（{columns} 列，最右的单元格在 {corner}），不是有效的数据导出文件")
    if rows * columns > MAX_SHEET_CELLS:
        raise ReadError(
            f"工作表数据区域过大（{rows} 行 × {columns} 列，最远的单元格在 {corner}），"
            f"超过 {MAX_SHEET_CELLS // 10000} 万个单元格：请删除远处的多余单元格，或拆分后上传"
        )


_ATTRS = rb"""(?:[^>"']|"[^"]*"|'[^']*')*"""  # attribute text, '>' inside quotes included
# A cell not written the usual way <c r="B7" a="…" …> (r first, no second r: the last r would win).
_UNUSUAL_CELL = re.compile(
    rb'<c(?=[\s/>])(?! r="[A-Z]{1,3}[0-9]{1,7}"(?:\s+(?!r\s*=)[A-Za-z_][\w:.\-]*\s*=\s*"[^"<>]*")*\s*/?>)'
    rb"|<[A-Za-z_][\w.\-]*:c[\s/>]"
)
_CELL_COLUMN = re.compile(rb'<c r="([A-Z]{1,3})[0-9]')
_CELL_ROW = re.compile(rb'<c r="[A-Z]{1,3}([0-9]{1,7})"')
_TAG = re.compile(rb"<(?:[A-Za-z_][\w.\-]*:)?(row|c)(?=[\s/>])(" + _ATTRS + rb")>")  # any cell or row
_ANY_TAG = re.compile(rb"<" + _ATTRS + rb">")
_REF = re.compile(rb"""(?:^|\s)r\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_REF_VALUE = re.compile(rb"([A-Za-z]*)([0-9]*)")
_CHUNK = 1 << 22
_MAX_TAG = 1 << 20


def _sheet_extent(stream) -> tuple[int, int, str]:
    """(rows, columns, farthest cell) of the area holding cells with content, read as a stream."""
    rough = _extent_from_refs(stream)
    if rough is not None and rough[1] <= MAX_COLUMNS and rough[0] * rough[1] <= MAX_SHEET_CELLS:
        return rough
    stream.seek(0)  # unusual cells, or a large area that formatting-only cells may explain
    return _extent_from_tags(stream)


def _tags(stream):
    """The XML in pieces that never split a tag."""
    tail = b""
    while chunk := stream.read(_CHUNK):
        buffer = tail + chunk
        cut = buffer.rfind(b"<")
        if cut == -1:
            cut = len(buffer)
        piece, tail = buffer[:cut], buffer[cut:]
        if len(tail) > _MAX_TAG:  # a long text after the last tag, or a tag that never ends
            match = _ANY_TAG.match(tail)
            if match is None:
                raise ReadError("Excel 文件结构异常（XML 标签过长），已拒绝")
            piece, tail = piece + tail[: match.end()], b""
        yield piece
    if tail:
        yield tail


def _extent_from_refs(stream) -> tuple[int, int, str] | None:
    """The fast way, when every cell is written <c r="B7" …>: None when one is not.
    Formatting-only cells <c …/> are counted too, so the area is never smaller than the true one."""
    letters, numbers = set(), set()
    for piece in _tags(stream):
        if _UNUSUAL_CELL.search(piece):
            return None
        letters.update(_CELL_COLUMN.findall(piece))
        numbers.update(_CELL_ROW.findall(piece))
    if not letters:
        return 0, 0, ""
    columns = sorted(_column_number(c) for c in letters)
    rows = sorted(int(r) for r in numbers)
    return rows[-1] - rows[0] + 1, columns[-1] - columns[0] + 1, _ref(rows[-1], columns[-1])


def _extent_from_tags(stream) -> tuple[int, int, str]:
    """Every <row> and <c>, with or without r="…", placed the way calamine places them."""
    row = column = 0
    low_row = low_column = 1 << 62
    high_row = high_column = 0
    for piece in _tags(stream):
        for match in _TAG.finditer(piece):
            name, attributes = match.groups()
            refs = _REF.findall(attributes)
            value = _REF_VALUE.fullmatch(b"".join(refs[-1])) if refs else None  # the last r wins
            letters, digits = value.groups() if value else (b"", b"")
            if name == b"row":
                row = int(digits) if digits else row + 1
                column = 0
                continue
            column = _column_number(letters.upper()) if letters else column + 1
            row = int(digits) if letters and digits else row
            if attributes.rstrip().endswith(b"/"):  # <c …/>: formatting only, no content
                continue
            low_row, high_row = min(low_row, row), max(high_row, row)
            low_column, high_column = min(low_column, column), max(high_column, column)
    if not high_column:
        return 0, 0, ""
    return high_row - low_row + 1, high_column - low_column + 1, _ref(high_row, high_column)


def _column_number(letters: bytes) -> int:
    number = 0
    for byte in letters:
        number = number * 26 + byte - 64
    return number


def _ref(row: int, column: int) -> str:
    letters = ""
    while column:
        column, rest = divmod(column - 1, 26)
        letters = chr(65 + rest) + letters
    return f"{letters}{row}"


def _read_excel(data: bytes, known_headers: set[str]) -> ReadResult:
    import python_calamine

    if data[:2] == b"PK":
        _check_zip(data)
    try:
        workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception:
        raise ReadError("无法打开 Excel 文件：文件已损坏或不是 Excel 格式") from None
    sheets, unrecognised = [], []
    for name in workbook.sheet_names:
        try:
            worksheet = workbook.get_sheet_by_name(name)
            if worksheet.width > MAX_COLUMNS:
                raise ReadError(f"工作表「{name}」列数过多（{worksheet.width} 列），不是有效的数据导出文件")
            first_row = worksheet.start[0] if worksheet.start else 0
            grid = [[cell_text(v) for v in row] for row in worksheet.to_python()]
        except ReadError:
            raise
        except Exception:
            raise ReadError(f"无法读取工作表「{name}」：文件已损坏") from None
        header_index = find_header(grid[:HEADER_SEARCH_ROWS], known_headers)
        if header_index is None:
            if any(any(c for c in row) for row in grid):
                unrecognised.append(name)
            continue
        headers = grid[header_index]
        body = grid[header_index + 1 :]
        frame = pd.DataFrame(body, columns=range(len(headers)), dtype=str) if body else _empty(len(headers))
        start = first_row + header_index + 2
        sheet = _finish_sheet(name, start - 1, headers, frame, list(range(start, start + len(body))))
        sheet.skipped[:0] = [(first_row + i + 1, "标题行") for i in range(header_index) if any(grid[i])]
        sheets.append(sheet)
    if not sheets and not unrecognised:
        raise ReadError("文件为空（所有工作表都没有内容）")
    return ReadResult(None, sheets, unrecognised)


def _empty(width: int) -> pd.DataFrame:
    return pd.DataFrame({i: pd.Series([], dtype=str) for i in range(width)})


def cell_text(value: object) -> str:
    """An Excel cell as the text a CSV export would hold."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return str(value)


# --- shared ----------------------------------------------------------------


def find_header(rows: list[list[str]], known_headers: set[str]) -> int | None:
    """The row among the first ones that names the most known columns (two at least)."""
    best, best_hits = None, 1
    for index, row in enumerate(rows):
        hits = sum(1 for cell in row if cell and header_key(cell) in known_headers)
        if hits > best_hits:
            best, best_hits = index, hits
    return best


def _finish_sheet(name: str | None, header_row: int, headers: list, frame: pd.DataFrame, rows: list[int]) -> Sheet:
    """Drop blank rows silently and total/note rows with a reason."""
    headers = [str(h) for h in headers]
    if frame.empty:
        return Sheet(name, header_row, headers, frame, rows, [])
    filled = frame.apply(lambda col: col.str.strip() != "").to_numpy()
    filled_count = filled.sum(axis=1)
    first_cell = pd.Series(frame.to_numpy()[np.arange(len(frame)), filled.argmax(axis=1)]).str.strip()
    is_total = first_cell.str.startswith(TOTAL_PREFIXES).to_numpy()
    is_note = first_cell.str.startswith(NOTE_PREFIXES).to_numpy().copy()
    # A long row is a note only when every filled cell is one (制表人：… 审核人：… 制表日期：… footers).
    for i in np.flatnonzero(is_note & (filled_count > 2)):
        cells = [str(c).strip() for c in frame.iloc[i].to_numpy()]
        is_note[i] = all(c.startswith(NOTE_PREFIXES) for c in cells if c)
    keep = (filled_count > 0) & ~is_total & ~is_note
    skipped = [(rows[i], "合计行" if is_total[i] else "说明行") for i in np.flatnonzero(is_total | is_note)]
    kept_rows = np.asarray(rows)[keep].tolist()
    return Sheet(name, header_row, headers, frame[keep].reset_index(drop=True), kept_rows, skipped)
