"""Reading spreadsheet exports into grids of text, as the file shows them.

A file becomes one sheet per worksheet (one for a CSV): its header, its data
rows as text with their row numbers in the file, and the title, total and
note rows it skipped. Which dataset a sheet holds is decided later, from its
header; here we only need to know which headers exist at all.

``open_file`` finds each sheet's header and hands out its rows a chunk at a
time (``SheetSource.chunks``), so a large file is never held as text or as a
frame all at once; ``read_file`` reads every chunk into one ``Sheet``. A CSV
is read with pyarrow's streaming reader when every row is as wide as the
header (the usual export), otherwise with pandas, which pads short rows and
whose errors we translate; both yield the same text.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import hashlib
import io
import itertools
import posixpath
import queue
import re
import struct
import threading
import warnings
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from analytics.normalize import WHITESPACE, header_key

# The header is looked for in the first rows only: titles take a few at most.
HEADER_SEARCH_ROWS = 30
MAX_COLUMNS = 500
# Rows read, checked and staged at a time: memory follows this, not the file's size.
CHUNK_ROWS = 50_000
# An xlsx is a zip: refuse one that would inflate far beyond any real export.
MAX_UNZIPPED_BYTES = 1_500_000_000
MAX_COMPRESSION_RATIO = 200
# calamine turns a sheet into a dense grid spanning its first to its last cell, before we see its size:
# two cells at A1 and XFD1048576 ask for 17 billion cells and abort the whole process. The used area is
# measured from the XML first; 20 million cells is a full sheet of 19 columns.
MAX_SHEET_CELLS = 20_000_000
# The same bound over all sheets of a workbook together: forty sheets just under the sheet limit would
# still ask calamine for 800 million cells (an 18 KB file that took 5 GB and the server with it).
MAX_WORKBOOK_CELLS = 20_000_000
# calamine's grid of a legacy .xls costs about 67 bytes a cell against 39 for an .xlsx (measured by
# bench/workbooks.py): a full-width BIFF8 sheet (65,536 × 256) alone took 1.1 GB. 12 million cells keep an
# .xls under about 800 MB, and the biggest real legacy export (65,536 rows × 40 columns) well inside.
MAX_XLS_CELLS = 12_000_000

TOTAL_PREFIXES = ("合计", "总计", "小计", "共计")
NOTE_PREFIXES = ("制表", "填报说明", "备注", "注:", "注：", "说明", "审核", "负责人", "填表", "数据截至", "数据来源")
UNKNOWN_ENCODING = "无法识别文件编码（既不是 UTF-8 也不是 GBK/GB18030），请另存为 UTF-8 编码的 CSV"
_BLOCK_BYTES = 1 << 22  # pyarrow's read block, the slice transcoded at a time, the piece of a file read from disk


class ReadError(ValueError):
    """The file cannot be read at all; the message is shown to analysts."""


class Restart(Exception):
    """The chunks handed out so far must be read again from the start (and the headers looked at
    again): the fast CSV reader met a row it cannot read, or a row wider than the header widened
    the sheet, after some chunks had gone out. The next ``chunks()`` reads the file the slower way."""


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
    # For each sheet with no header found: (sheet name, row number, cells) of the row most like one.
    header_guesses: list[tuple[str | None, int, list[str]]] = field(default_factory=list)


@dataclass
class Chunk:
    """Consecutive data rows of a sheet, without its blank, total and note rows."""

    table: pa.Table  # text cells; column i holds the file's column i
    rows: np.ndarray  # the file's row number of each row
    skipped: list[tuple[int, str]]  # (row, why) for the total and note rows left out


class SheetSource:
    """A sheet whose header is known; ``chunks()`` reads its data rows."""

    name: str | None
    header_row: int
    headers: list[str]
    skipped: list[tuple[int, str]]  # the title rows above the header
    titles: list[str]  # their text, each row's filled cells joined (a list's name is often there)

    def chunks(self) -> Iterator[Chunk]:
        raise NotImplementedError


@dataclass
class OpenFile:
    encoding: str | None
    sheets: list[SheetSource]
    unrecognised_sheets: list[str] = field(default_factory=list)
    # For each sheet with no header found: (sheet name, row number, cells) of the row most like one.
    header_guesses: list[tuple[str | None, int, list[str]]] = field(default_factory=list)


class FileData:
    """A file's bytes: held in memory (an upload) or read from disk in pieces (a path: a large export on
    disk is never held whole, so loading it needs memory for a chunk of rows, not for the file)."""

    def __init__(self, data: bytes | None = None, path: Path | None = None):
        assert (data is None) != (path is None)
        self._data, self.path = data, path
        self.size = len(data) if data is not None else path.stat().st_size

    def whole(self) -> bytes:
        if self._data is not None:
            return self._data
        return self.path.read_bytes()

    def read(self, start: int = 0, size: int | None = None) -> bytes | memoryview:
        """``size`` bytes from ``start`` (a view, not a copy, of bytes in memory)."""
        end = self.size if size is None else min(start + size, self.size)
        if self._data is not None:
            return memoryview(self._data)[start:end]
        with open(self.path, "rb") as f:
            f.seek(start)
            return f.read(end - start)

    def blocks(self, start: int = 0) -> Iterator[bytes | memoryview]:
        """The bytes from ``start`` on: all at once when in memory, a block at a time from disk."""
        if self._data is not None:
            yield memoryview(self._data)[start:]
            return
        with open(self.path, "rb") as f:
            f.seek(start)
            while block := f.read(_BLOCK_BYTES):
                yield block

    def stream(self, start: int):
        """A binary stream of the bytes from ``start`` on, without copying them."""
        # BytesIO shares the bytes (no copy); a file is closed by the reader it is handed to.
        stream = io.BytesIO(self._data) if self._data is not None else open(self.path, "rb")  # noqa: SIM115
        stream.seek(start)
        return stream

    def arrow_stream(self, start: int) -> pa.NativeFile:
        """The same for pyarrow (a BytesIO would be copied whole: pyarrow asks it for a writable buffer)."""
        if self._data is not None:
            return pa.BufferReader(pa.py_buffer(memoryview(self._data)[start:]))
        stream = pa.OSFile(str(self.path))
        stream.seek(start)
        return stream

    def sha256(self) -> str:
        digest = hashlib.sha256()
        for block in self.blocks():
            digest.update(block)
        return digest.hexdigest()

    def is_blank(self) -> bool:
        return not any(re.search(rb"\S", block) for block in self.blocks())


def open_file(
    data: bytes | FileData, file_name: str, known_headers: set[str], chunk_rows: int | None = None
) -> OpenFile:
    """Find the header of each sheet of a CSV or Excel export; ``known_headers`` are normalised header keys.
    Rows come ``chunk_rows`` (default CHUNK_ROWS) at a time."""
    chunk_rows = chunk_rows or CHUNK_ROWS
    source = data if isinstance(data, FileData) else FileData(data)
    if not source.size or source.is_blank():
        raise ReadError("文件为空")
    lower = file_name.lower()
    if lower.endswith((".xlsx", ".xlsm", ".xls")):
        return _open_excel(source.whole(), known_headers, chunk_rows)
    if lower.endswith((".csv", ".txt", ".tsv")):
        return _open_csv(source, known_headers, chunk_rows)
    raise ReadError(f"不支持的文件类型：{file_name}（请上传 .csv、.xlsx 或 .xls 文件）")


def read_file(data: bytes, file_name: str, known_headers: set[str]) -> ReadResult:
    """Read a CSV or Excel export whole: every sheet's rows in one frame."""
    opened = open_file(data, file_name, known_headers)
    return ReadResult(opened.encoding, [_whole(s) for s in opened.sheets], opened.unrecognised_sheets)


def _whole(source: SheetSource) -> Sheet:
    while True:
        try:
            chunks = list(source.chunks())
            break
        except Restart:
            continue
    width = len(source.headers)
    if chunks:
        frame = pa.concat_tables([c.table for c in chunks]).to_pandas()
        frame.columns = range(width)
    else:
        frame = pd.DataFrame({i: pd.Series([], dtype=str) for i in range(width)})
    rows = [int(r) for c in chunks for r in c.rows]
    skipped = source.skipped + [s for c in chunks for s in c.skipped]
    return Sheet(source.name, source.header_row, list(source.headers), frame, rows, skipped)


# --- CSV -------------------------------------------------------------------


def encoding_of(data: bytes | FileData) -> tuple[str, str, int]:
    """(name reported, Python codec, BOM length) of a CSV: UTF-8 with or without BOM, UTF-16, or
    GB18030/GBK. UTF-8 is checked over the whole file (a file mixing it with GBK is refused, naming
    the first line that is not UTF-8); GBK is checked as the file is read."""
    source = data if isinstance(data, FileData) else FileData(data)
    head = bytes(source.read(0, 8192))
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "UTF-16", "utf-16", 0
    if b"\x00" in head:
        raise ReadError("文件不是文本格式的 CSV（含二进制内容），请确认文件类型")
    bom = 3 if head.startswith(b"\xef\xbb\xbf") else 0
    bad_until = _utf8_until(source, bom)
    if bad_until is None:
        return ("UTF-8 (BOM)" if bom else "UTF-8"), "utf-8", bom
    prefix = source.read(bom, bad_until - bom)  # the file up to the piece found not to be UTF-8
    try:
        codecs.utf_8_decode(prefix, "strict", True)
    except UnicodeDecodeError as utf8_error:
        text = bytes(prefix[: utf8_error.end])
        if bom or _looks_mixed(text, utf8_error):
            raise ReadError(_mixed_message(text, utf8_error)) from None
    return "GBK", "gb18030", 0


def _utf8_until(source: FileData, start: int) -> int | None:
    """None when the file from ``start`` on is UTF-8, else the end of the first piece of it that is not."""
    carry, offset = b"", start
    for block in source.blocks(start):
        piece = carry + block if carry else block
        whole = len(piece) - _incomplete_tail(piece)  # a character cut by the block's end goes on to the next
        if not _is_utf8(piece[:whole], 0):
            return offset + whole
        carry, offset = bytes(piece[whole:]), offset + whole
    return offset + len(carry) if carry else None  # the file ends inside a character


def _incomplete_tail(piece: bytes | memoryview) -> int:
    """How many bytes at the end of ``piece`` begin a UTF-8 character they do not finish."""
    for back in range(1, min(4, len(piece)) + 1):
        byte = piece[-back]
        if byte < 0x80:
            return 0
        if byte >= 0xC0:
            length = 2 if byte < 0xE0 else 3 if byte < 0xF0 else 4
            return back if length > back else 0
    return 0


def _is_utf8(data: bytes, start: int) -> bool:
    """Whether data[start:] is valid UTF-8, checked by Arrow's validator without decoding it."""
    offsets = pa.py_buffer(np.array([start, len(data)], dtype=np.int64))
    try:
        pa.LargeStringArray.from_buffers(1, offsets, pa.py_buffer(data)).validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


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


def _head(source: FileData, start: int, codec: str) -> str:
    """The decoded text of the file's first lines: more than HEADER_SEARCH_ROWS of them, or all."""
    size = 1 << 16
    while True:
        final = start + size >= source.size
        try:
            text = codecs.getincrementaldecoder(codec)().decode(source.read(start, size), final)
        except UnicodeDecodeError:
            raise ReadError(UNKNOWN_ENCODING) from None
        if final or len(text.splitlines()) > HEADER_SEARCH_ROWS:
            return text
        size *= 4


def _open_csv(source: FileData, known_headers: set[str], chunk_rows: int) -> OpenFile:
    encoding, codec, bom = encoding_of(source)
    if codec == "utf-16":  # rare and small: as UTF-8 from here on
        try:
            source, codec, bom = FileData(source.whole().decode("utf-16").encode("utf-8")), "utf-8", 0
        except UnicodeDecodeError:
            raise ReadError(UNKNOWN_ENCODING) from None
    head = _head(source, bom, codec)
    if not head.strip() and len(head.splitlines()) <= HEADER_SEARCH_ROWS:  # the whole file, and blank
        raise ReadError("文件为空")  # a BOM, or UTF-16 spaces: bytes, but nothing in them
    head_lines = head.splitlines()[:HEADER_SEARCH_ROWS]
    delimiter = _sniff_delimiter(head_lines)
    try:
        head_rows = list(csv.reader(head_lines, delimiter=delimiter))
    except csv.Error as exc:  # a cell over csv's field limit: no export has one
        raise ReadError(f"CSV 格式错误：{_parser_detail(exc, 1)}") from None
    header_index = find_header(head_rows, known_headers)
    if header_index is None:
        guess = guess_header(head_rows, known_headers)
        return OpenFile(encoding, [], ["CSV"], [(None, guess[0] + 1, guess[1])] if guess else [])
    headers = head_rows[header_index]
    if len(headers) > MAX_COLUMNS:
        raise ReadError(f"列数过多（{len(headers)} 列），不是有效的数据导出文件")
    # The data starts after the header line: its position in bytes, from the lines as split above.
    before = "".join(head.splitlines(keepends=True)[: header_index + 1])
    start = bom + len(before.encode(codec))
    titles = [(i + 1, "标题行") for i in range(header_index) if any(c.strip() for c in head_rows[i])]
    sheet = _CsvSheet(source, start, codec, delimiter, header_index + 1, [str(h) for h in headers], titles, chunk_rows)
    sheet.titles = [_title_text(head_rows[row - 1]) for row, _ in titles]
    return OpenFile(encoding, [sheet])


def _title_text(row: list) -> str:
    return " ".join(str(c).strip() for c in row if str(c).strip())


class _CsvSheet(SheetSource):
    def __init__(self, source: FileData, start, codec, delimiter, header_row, headers, titles, chunk_rows):
        self.name, self.header_row, self.headers, self.skipped = None, header_row, headers, titles
        self._source, self._start, self._codec, self._delimiter = source, start, codec, delimiter
        self._chunk_rows = chunk_rows
        self.titles = []
        self._fast = True  # pyarrow first; pandas once pyarrow has failed

    def _stream(self):
        """The data rows as a binary UTF-8 stream; a non-UTF-8 file is transcoded a slice at a time."""
        stream = self._source.stream(self._start)
        if self._codec == "utf-8":
            return stream
        return io.BufferedReader(_Utf8Stream(stream, self._codec), _BLOCK_BYTES)

    def chunks(self) -> Iterator[Chunk]:
        handed_out = 0
        while True:
            try:
                reader = _read_ahead(self._arrow_batches()) if self._fast else self._pandas_batches()
                for table in _rechunk(reader, self._chunk_rows):
                    yield _finish(table, self.header_row + 1 + handed_out)
                    handed_out += table.num_rows
                return
            except _SlowerWay:
                if handed_out:
                    raise Restart from None

    def _arrow_batches(self) -> Iterator[pa.Table]:
        names = [str(i) for i in range(len(self.headers))]
        stream = self._source.arrow_stream(self._start) if self._codec == "utf-8" else self._stream()
        try:
            reader = pcsv.open_csv(
                stream,
                read_options=pcsv.ReadOptions(column_names=names, block_size=_BLOCK_BYTES),
                parse_options=pcsv.ParseOptions(
                    delimiter=self._delimiter, newlines_in_values=True, ignore_empty_lines=False
                ),
                convert_options=pcsv.ConvertOptions(
                    column_types=dict.fromkeys(names, pa.string()),
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                ),
            )
            for batch in reader:
                yield pa.Table.from_batches([batch])
        except Exception as exc:
            transcoding_failed = isinstance(stream, io.BufferedReader) and stream.raw.failed
            if isinstance(exc, UnicodeDecodeError) or transcoding_failed:
                raise ReadError(UNKNOWN_ENCODING) from None
            if not isinstance(exc, pa.ArrowInvalid):
                raise
            self._fast = False  # a row wider or narrower than the header, a quote left open, …
            raise _SlowerWay from None
        finally:
            stream.close()

    def _pandas_batches(self) -> Iterator[pa.Table]:
        width = len(self.headers)
        stream = self._stream()
        try:
            frames = pd.read_csv(
                stream,
                sep=self._delimiter,
                header=None,
                names=range(width),
                dtype=str,
                keep_default_na=False,
                na_filter=False,
                skip_blank_lines=False,
                index_col=False,
                on_bad_lines="error",
                encoding="utf-8",
                chunksize=self._chunk_rows,
            )
            schema = pa.schema([(str(i), pa.string()) for i in range(width)])
            while True:
                # A row with more cells than the header: pandas drops them with a warning, or says
                # "Expected n fields" when the row is not in the first chunk.
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always", pd.errors.ParserWarning)
                    frame = next(frames, None)
                if any(issubclass(w.category, pd.errors.ParserWarning) for w in caught):
                    self._widen()
                    raise _SlowerWay
                if frame is None:
                    return
                yield pa.Table.from_pandas(frame.rename(columns=str), preserve_index=False).cast(schema)
        except UnicodeDecodeError:
            raise ReadError(UNKNOWN_ENCODING) from None
        except (pd.errors.ParserError, ValueError, csv.Error) as exc:
            if re.search(r"Expected \d+ fields in line \d+", str(exc)):
                self._widen()
                raise _SlowerWay from None
            raise ReadError(f"CSV 格式错误：{_parser_detail(exc, self.header_row + 1)}") from None
        finally:
            stream.close()

    def _widen(self) -> None:
        """A row has more cells than the header: keep them under empty headers, as an Excel sheet
        would, so no cell is lost without a word."""
        try:
            with io.TextIOWrapper(self._stream(), "utf-8", newline="") as text:
                width = max(len(row) for row in csv.reader(text, delimiter=self._delimiter))
        except csv.Error as exc:
            raise ReadError(f"CSV 格式错误：{_parser_detail(exc, self.header_row + 1)}") from None
        if width > MAX_COLUMNS:
            raise ReadError(f"列数过多（{width} 列），不是有效的数据导出文件")
        self.headers = self.headers + [""] * (width - len(self.headers))


class _SlowerWay(Exception):
    """Read this sheet again, with pandas (or wider)."""


class _Utf8Stream(io.RawIOBase):
    """A binary stream in another encoding, as UTF-8 bytes: decoded a slice at a time."""

    def __init__(self, raw, codec: str):
        self._raw, self._ended = raw, False
        self._decoder = codecs.getincrementaldecoder(codec)()
        self._pending, self._offset = b"", 0
        self.failed = False

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self._raw.close()
        super().close()

    def readinto(self, buffer) -> int:
        while self._offset == len(self._pending) and not self._ended:
            piece = self._raw.read(_BLOCK_BYTES)
            self._ended = not piece
            try:
                text = self._decoder.decode(piece, self._ended)
            except UnicodeDecodeError:
                self.failed = True
                raise
            self._pending, self._offset = text.encode("utf-8"), 0
        n = min(len(buffer), len(self._pending) - self._offset)
        buffer[:n] = self._pending[self._offset : self._offset + n]
        self._offset += n
        return n


def _read_ahead(items: Iterator) -> Iterator:
    """The items, produced one ahead by a thread: pyarrow parses the next block of a file (letting go of
    the GIL) while the rows before it are checked and staged. Errors arrive in order, after the items
    produced before them."""
    ready: queue.Queue = queue.Queue(maxsize=1)
    stopped = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                ready.put((item, None))
                if stopped.is_set():
                    return
            ready.put((_END, None))
        except BaseException as exc:  # handed to the consumer, raised there
            ready.put((None, exc))
        finally:
            items.close()

    threading.Thread(target=produce, name="read-ahead", daemon=True).start()
    try:
        while True:
            item, error = ready.get()
            if error is not None:
                raise error
            if item is _END:
                return
            yield item
    finally:  # the consumer stopped early: free the producer, which puts at most one more item
        stopped.set()
        with contextlib.suppress(queue.Empty):
            ready.get_nowait()


_END = object()


def _rechunk(tables: Iterator[pa.Table], rows: int) -> Iterator[pa.Table]:
    """Tables of ``rows`` rows (the last one shorter) from tables of any size."""
    pending, count = [], 0
    for table in tables:
        pending.append(table)
        count += table.num_rows
        while count >= rows:
            merged = pa.concat_tables(pending)
            yield merged.slice(0, rows)
            pending, count = [merged.slice(rows)], count - rows
    if count:
        yield pa.concat_tables(pending)


def _parser_detail(exc: Exception, first_line: int) -> str:
    """pandas' or csv's error in Chinese; ``first_line`` is the file's line number of the text parsed."""
    message = str(exc)
    if m := re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", message):
        expected, line, saw = m.groups()
        return f"第 {int(line) + first_line - 1} 行有 {saw} 列，表头只有 {expected} 列"
    if m := re.search(r"EOF inside string starting at row (\d+)", message):
        return f"第 {int(m.group(1)) + first_line} 行起有未闭合的引号（单元格中的英文双引号应成对出现）"
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
    try:
        names = {member: name for name, member in _sheet_members(archive).items()}
    except Exception:  # no or damaged relationships: the parts are still checked, by their file names
        names = {}
    total = _WorkbookCells()
    for info in archive.infolist():
        if info.filename.endswith(".xml"):  # worksheets, wherever the workbook's links put them
            rows, columns = _check_extent(archive, info)
            total.add(names.get(info.filename, info.filename), rows, columns)


def _check_extent(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple[int, int]:
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
    return rows, columns


class _WorkbookCells:
    """The cells calamine would lay out, summed sheet by sheet before any grid is built."""

    def __init__(self, limit: int = MAX_WORKBOOK_CELLS) -> None:
        self.cells, self.sheets, self.limit = 0, 0, limit

    def add(self, sheet: str, rows: int, columns: int) -> None:
        self.cells += rows * columns
        self.sheets += 1 if rows * columns else 0
        if self.cells > self.limit:
            raise ReadError(
                f"工作簿数据区域合计过大：到第 {self.sheets} 个工作表「{sheet}」（{rows} 行 × {columns} 列）"
                f"已累计 {self.cells:,} 个单元格，超过 {self.limit // 10000} 万个："
                "请删除多余的工作表或远处的多余单元格，或拆分后上传"
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


def _cells(stream) -> Iterator[tuple[int, int, bytes]]:
    """(row, column, attributes) of every <c>, with or without r="…", placed (1-based) the way calamine
    places them."""
    row = column = 0
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
            yield row, column, attributes


def _extent_from_tags(stream) -> tuple[int, int, str]:
    low_row = low_column = 1 << 62
    high_row = high_column = 0
    for row, column, attributes in _cells(stream):
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


# --- Percent cells: calamine gives 0.6 where Excel shows 60% -------------------------------------------

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_RELATIONSHIP = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_PERCENT_FORMATS = {9, 10}  # Excel's built-in 0% and 0.00%
_STYLE = re.compile(rb"""(?:^|\s)s\s*=\s*(?:"\s*([0-9]+)\s*"|'\s*([0-9]+)\s*')""")
_LITERAL = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]')  # quoted text, escaped characters, [colour] and [conditions]


def _percent_cells(data: bytes) -> dict[str, dict[int, set[int]]]:
    """Cells whose number format shows a percent, by sheet name: 0-based row → 0-based columns."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        styles = _percent_styles(archive)
        if not styles:  # the usual export: no cell shows a percent
            return {}
        out = {}
        for name, member in _sheet_members(archive).items():
            with archive.open(member) as stream:
                cells: dict[int, set[int]] = {}
                for row, column, attributes in _cells(stream):
                    style = _STYLE.search(attributes)
                    if style and int(style.group(1) or style.group(2)) in styles:
                        cells.setdefault(row - 1, set()).add(column - 1)
            out[name] = cells
        return out
    except (KeyError, ElementTree.ParseError, zipfile.BadZipFile, ValueError):
        return {}  # no styles, or parts calamine reads without them: the numbers as they are


def _percent_styles(archive: zipfile.ZipFile) -> set[int]:
    """Indexes of the cell styles whose number format shows a percent: a built-in one, or a custom one
    with a % outside quotes (0"%" shows 60 as 60%, it does not multiply by 100)."""
    root = ElementTree.fromstring(archive.read("xl/styles.xml"))
    custom = {int(f.get("numFmtId", -1)): f.get("formatCode", "") for f in root.iter(f"{_MAIN}numFmt")}
    percent = {i for i, code in custom.items() if "%" in _LITERAL.sub("", code)} | _PERCENT_FORMATS
    styles = root.find(f"{_MAIN}cellXfs")
    if styles is None:
        return set()
    return {i for i, xf in enumerate(styles.findall(f"{_MAIN}xf")) if int(xf.get("numFmtId", 0)) in percent}


def _sheet_members(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name → its XML part in the archive, as the workbook's relationships name it."""
    targets = {
        r.get("Id"): r.get("Target", "") for r in ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    }
    members = {}
    for sheet in ElementTree.fromstring(archive.read("xl/workbook.xml")).iter(f"{_MAIN}sheet"):
        target = targets.get(sheet.get(_RELATIONSHIP), "")
        member = target.lstrip("/") if target.startswith("/") else posixpath.normpath("xl/" + target)
        if member in archive.namelist():
            members[sheet.get("name")] = member
    return members


_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the compound-file signature a legacy .xls begins with


# BIFF records that put a value in a cell (calamine lays out these; BLANK and MULBLANK it skips):
# NUMBER, LABEL, BOOLERR, RK, LABELSST, FORMULA, RSTRING, each beginning with its row and column, and MULRK.
_XLS_CELL_RECORDS = {0x0203, 0x0204, 0x0205, 0x027E, 0x00FD, 0x0006, 0x00D6}
_XLS_MULRK, _XLS_BOF, _XLS_EOF, _XLS_BOUNDSHEET = 0x00BD, 0x0809, 0x000A, 0x0085


def _check_xls(data: bytes) -> None:
    """Bound a legacy workbook's cells before xlrd or calamine lays out a grid: the farthest value cell
    of each sheet, read from the BIFF records, summed over the sheets like an .xlsx's."""
    from xlrd.compdoc import CompDoc

    try:
        document = CompDoc(data)
        stream = document.get_named_stream("Workbook") or document.get_named_stream("Book")
    except Exception:
        return  # not a readable compound file: calamine says what is wrong with it
    if not stream:
        return
    total = _WorkbookCells(MAX_XLS_CELLS)
    for name, rows, columns in _xls_sheet_extents(stream):
        if columns > MAX_COLUMNS:
            raise ReadError(f"工作表「{name}」列数过多（{columns} 列），不是有效的数据导出文件")
        total.add(name, rows, columns)


def _xls_sheet_extents(stream: bytes) -> Iterator[tuple[str, int, int]]:
    """(sheet name, rows, columns) of each worksheet substream, rows and columns counted from A1."""
    names: dict[int, str] = {}  # BOF offset → sheet name, from the globals' BOUNDSHEET records
    position, end = 0, len(stream) - 4
    sheet: str | None = None
    rows = columns = 0
    while position <= end:
        kind, length = struct.unpack_from("<HH", stream, position)
        body = stream[position + 4 : position + 4 + length]
        if kind == _XLS_BOUNDSHEET and len(body) >= 8:
            names[struct.unpack_from("<I", body)[0]] = _xls_sheet_name(body) or f"第 {len(names) + 1} 个工作表"
        elif kind == _XLS_BOF:
            if position in names:
                sheet, rows, columns = names[position], 0, 0
        elif kind == _XLS_EOF and sheet is not None:
            yield sheet, rows, columns
            sheet = None
        elif sheet is not None and len(body) >= 4 and (kind in _XLS_CELL_RECORDS or kind == _XLS_MULRK):
            row, column = struct.unpack_from("<HH", body)
            if kind == _XLS_MULRK and len(body) >= 6:
                column = struct.unpack_from("<H", body, len(body) - 2)[0]  # the last column of the run
            rows, columns = max(rows, row + 1), max(columns, column + 1)
        position += 4 + length
    if sheet is not None:
        yield sheet, rows, columns


def _xls_sheet_name(body: bytes) -> str:
    """A BOUNDSHEET record's name: a byte count, a flag (bit 0: UTF-16), then the characters."""
    if len(body) < 8:
        return ""
    count, flags = body[6], body[7] if len(body) > 7 else 0
    raw = body[8:]
    try:
        return raw[: 2 * count].decode("utf-16-le") if flags & 1 else raw[:count].decode("latin-1")
    except UnicodeDecodeError:
        return ""


def _xls_percent_cells(data: bytes) -> dict[str, dict[int, set[int]]]:
    """The same for a legacy .xls (BIFF) workbook, whose formats xlrd reads (calamine gives only values):
    number cells whose format shows a percent, by sheet name: 0-based row → 0-based columns."""
    import xlrd

    try:
        book = xlrd.open_workbook(file_contents=data, formatting_info=True, on_demand=True)
    except Exception:
        return {}  # calamine reports what is wrong with the file, or reads it without formats
    formats = {key: f.format_str for key, f in book.format_map.items()}
    styles = {i for i, xf in enumerate(book.xf_list) if "%" in _LITERAL.sub("", formats.get(xf.format_key, ""))}
    out = {}
    for name in book.sheet_names() if styles else ():
        sheet, cells = book.sheet_by_name(name), {}
        for column in range(sheet.ncols):
            for row, kind in enumerate(sheet.col_types(column)):
                if kind == xlrd.XL_CELL_NUMBER and sheet.cell_xf_index(row, column) in styles:
                    cells.setdefault(row, set()).add(column)
        book.unload_sheet(name)
        out[name] = cells
    return out


def percent_text(value: float) -> str:
    """A number as a percent-formatted cell shows it: 0.655 → 65.5%."""
    return cell_text(round(value * 100, 10)) + "%"


def _open_excel(data: bytes, known_headers: set[str], chunk_rows: int) -> OpenFile:
    import python_calamine

    percent: dict[str, dict[int, set[int]]] = {}
    if data[:2] == b"PK":
        _check_zip(data)
        percent = _percent_cells(data)
    elif data[:8] == _OLE2:
        _check_xls(data)
        percent = _xls_percent_cells(data)
    try:
        workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception:
        raise ReadError("无法打开 Excel 文件：文件已损坏或不是 Excel 格式") from None
    sheets, unrecognised, guesses = [], [], []
    loader = _SheetLoader(workbook)
    for name in workbook.sheet_names:
        try:
            worksheet = loader.get(name)
            if worksheet.width > MAX_COLUMNS:
                raise ReadError(f"工作表「{name}」列数过多（{worksheet.width} 列），不是有效的数据导出文件")
            source = _ExcelSheet(name, loader, chunk_rows, percent.get(name))
            head = [_texts(row) for row in itertools.islice(source.rows(), HEADER_SEARCH_ROWS)]
        except ReadError:
            raise
        except Exception:
            raise ReadError(f"无法读取工作表「{name}」：文件已损坏") from None
        header_index = find_header(head, known_headers)
        if header_index is None:
            if any(any(c for c in row) for row in head) or source.has_cells(HEADER_SEARCH_ROWS):
                unrecognised.append(name)
                if guess := guess_header(head, known_headers):
                    guesses.append((name, source._first_row + guess[0] + 1, guess[1]))
            continue
        source.found(header_index, head)
        sheets.append(source)
    if not sheets and not unrecognised:
        raise ReadError("文件为空（所有工作表都没有内容）")
    return OpenFile(None, sheets, unrecognised, guesses)


class _SheetLoader:
    """One sheet's grid in memory at a time: the sheet asked for replaces the one before, which is
    released first, so a workbook of many sheets never holds more than its largest one."""

    def __init__(self, workbook) -> None:
        self._workbook, self._name, self._sheet = workbook, None, None

    def get(self, name: str):
        if name != self._name:
            self._name, self._sheet = None, None  # let go of the last grid before building the next
            self._sheet, self._name = self._workbook.get_sheet_by_name(name), name
        return self._sheet


class _ExcelSheet(SheetSource):
    def __init__(self, name: str, loader: _SheetLoader, chunk_rows: int, percent: dict[int, set[int]] | None = None):
        self.name, self._loader, self._chunk_rows = name, loader, chunk_rows
        start = loader.get(name).start
        self._first_row = start[0] if start else 0  # leading empty rows are not read
        self._first_column = start[1] if start else 0
        self._percent = percent  # row → columns of the cells formatted as percent (0-based, in the sheet)
        self.titles = []

    def rows(self) -> Iterator[list]:
        rows = itertools.islice(self._loader.get(self.name).iter_rows(), self._first_row, None)
        return self._as_shown(rows) if self._percent else rows

    def _as_shown(self, rows: Iterator[list]) -> Iterator[list]:
        """Numbers in percent-formatted cells as Excel shows them (calamine's rows begin at the first used column)."""
        first_column = self._first_column
        for index, row in enumerate(rows, self._first_row):
            for column in self._percent.get(index, ()):
                position = column - first_column
                if 0 <= position < len(row) and type(row[position]) in (float, int):
                    row[position] = percent_text(row[position])
            yield row

    def has_cells(self, after: int) -> bool:
        return any(any(c != "" for c in row) for row in itertools.islice(self.rows(), after, None))

    def found(self, header_index: int, head: list[list[str]]) -> None:
        self._skip = header_index + 1
        self.header_row = self._first_row + header_index + 1
        self.headers = [str(h) for h in head[header_index]]
        self.skipped = [(self._first_row + i + 1, "标题行") for i in range(header_index) if any(head[i])]
        self.titles = [_title_text(head[i]) for i in range(header_index) if any(head[i])]

    def chunks(self) -> Iterator[Chunk]:
        rows = itertools.islice(self.rows(), self._skip, None)
        first = self.header_row + 1
        try:
            while batch := list(itertools.islice(rows, self._chunk_rows)):
                yield _finish(_text_table(batch, len(self.headers)), first)
                first += len(batch)
        except Exception as exc:
            if isinstance(exc, ReadError):
                raise
            raise ReadError(f"无法读取工作表「{self.name}」：文件已损坏") from None


def _texts(row: list) -> list[str]:
    return [v if type(v) is str else cell_text(v) for v in row]


def _text_table(rows: list[list], width: int) -> pa.Table:
    """Excel rows as columns of the text a CSV would hold; each distinct non-text cell converted once."""
    columns = []
    for values in zip(*rows, strict=True):
        try:
            columns.append(pa.array(values, pa.string()).fill_null(""))  # None is an empty cell, as cell_text says
        except (pa.ArrowTypeError, pa.ArrowInvalid):  # numbers, dates, booleans: their text
            seen: dict = {}
            columns.append(pa.array([v if type(v) is str else _memo(seen, v) for v in values], pa.string()))
    return pa.table(columns, names=[str(i) for i in range(width)])


def _memo(seen: dict, value) -> str:
    key = (type(value), value)  # True == 1 == 1.0, but their texts differ
    text = seen.get(key)
    if text is None:
        text = seen[key] = cell_text(value)
    return text


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


def guess_header(rows: list[list[str]], known_headers: set[str]) -> tuple[int, list[str]] | None:
    """The row a refusal shows as "the header read": the one naming the most known columns, else the first
    with several filled cells (a title row has one)."""
    filled = [
        (i, [str(c).strip() for c in row]) for i, row in enumerate(rows) if sum(1 for c in row if str(c).strip()) >= 2
    ]
    if not filled:
        return None
    index, cells = max(filled, key=lambda ic: (sum(1 for c in ic[1] if c and header_key(c) in known_headers), -ic[0]))
    while cells and not cells[-1]:
        cells.pop()
    return index, cells


def _finish(table: pa.Table, first_row: int) -> Chunk:
    """Number the rows, drop blank rows silently and total/note rows with a reason."""
    n = table.num_rows
    rows = np.arange(first_row, first_row + n, dtype=np.int64)
    if n == 0:
        return Chunk(table, rows, [])
    # Only a row whose first cell is blank or starts like a total or note can be one of those: look closer at those.
    lead = pc.utf8_ltrim(table.column(0), characters=WHITESPACE)
    suspect = pc.equal(lead, "")
    for prefix in TOTAL_PREFIXES + NOTE_PREFIXES:
        suspect = pc.or_(suspect, pc.starts_with(lead, prefix))
    keep = np.ones(n, dtype=bool)
    skipped = []
    candidates = np.flatnonzero(suspect.to_numpy(zero_copy_only=False))
    for i, row in zip(candidates, table.take(candidates).to_pylist(), strict=True):
        filled = [cell.strip() for cell in row.values() if cell.strip()]
        if not filled:
            keep[i] = False
        elif filled[0].startswith(TOTAL_PREFIXES):
            keep[i] = False
            skipped.append((int(rows[i]), "合计行"))
        # A long row is a note only when every filled cell is one (制表人：… 审核人：… 制表日期：… footers).
        elif filled[0].startswith(NOTE_PREFIXES) and (
            len(filled) <= 2 or all(c.startswith(NOTE_PREFIXES) for c in filled)
        ):
            keep[i] = False
            skipped.append((int(rows[i]), "说明行"))
    if keep.all():
        return Chunk(table, rows, skipped)
    return Chunk(table.filter(keep), rows[keep], skipped)
