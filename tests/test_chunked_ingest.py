"""Reading and loading a chunk at a time gives what reading the file whole gives: same rows, row numbers,
skipped rows, errors and duplicate-key reasons, whichever CSV parser read it; and the vectorised cleaners
in analytics.intake.columns agree with normalize cell by cell."""

from __future__ import annotations

import sys
import threading

import duckdb
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics import normalize
from analytics.intake import columns, ingest, reader
from tests.helpers import (
    KNOWN_HEADERS,
    LICENSE_HEADERS,
    PENALTY_HEADERS,
    PROGRESS_HEADERS,
    bad_check_code,
    credit_code,
    csv_bytes,
    license_row,
    penalty_row,
    xlsx_bytes,
)

KNOWN = KNOWN_HEADERS
TITLE = "厦门市交通运输局行政处罚信息（双公示）2021年度"


def chunked(data: bytes, name: str = "x.csv", rows: int = 2) -> list[tuple[list, list, list]]:
    """Each sheet read ``rows`` rows at a time: (cells, row numbers, skipped), starting over when told to."""
    out = []
    for sheet in reader.open_file(data, name, KNOWN, chunk_rows=rows).sheets:
        while True:
            try:
                chunks = list(sheet.chunks())
                break
            except reader.Restart:
                continue
        cells = [list(r.values()) for c in chunks for r in c.table.to_pylist()]
        numbers = [int(n) for c in chunks for n in c.rows]
        out.append((cells, numbers, sheet.skipped + [s for c in chunks for s in c.skipped]))
    return out


def whole(data: bytes, name: str = "x.csv") -> list[tuple[list, list, list]]:
    return [(s.frame.values.tolist(), s.rows, s.skipped) for s in reader.read_file(data, name, KNOWN).sheets]


def messy_rows() -> list[list]:
    first = penalty_row("D1")
    first[8] = "超限运输，\n罚款2,000元"  # a quoted line break: one record, one row number
    rows = [[TITLE], PENALTY_HEADERS, first, penalty_row("D2"), [], penalty_row("D3"), ["合计", "", "3条"]]
    return rows + [penalty_row("D4"), ["制表单位：厦门市交通运输局"], penalty_row("D5")]


@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
@pytest.mark.parametrize("size", [1, 2, 3, 100])
def test_chunks_of_any_size_read_like_the_whole_file(encoding, size):
    data = csv_bytes(messy_rows(), encoding)
    assert chunked(data, rows=size) == whole(data)
    sheet = reader.read_file(data, "x.csv", KNOWN).sheets[0]
    assert sheet.rows == [3, 4, 6, 8, 10]
    assert sheet.skipped == [(1, "标题行"), (7, "合计行"), (9, "说明行")]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "utf-16"])
@pytest.mark.parametrize("block", [1, 2, 3, 5, 200])
def test_a_file_read_from_disk_in_pieces_reads_like_its_bytes(tmp_path, monkeypatch, encoding, block):
    """Paths are read a block at a time: blocks that cut characters and rows change nothing."""
    data = csv_bytes(messy_rows(), encoding)
    expected = reader.read_file(data, "x.csv", KNOWN)
    monkeypatch.setattr(reader, "_BLOCK_BYTES", block)
    path = tmp_path / "x.csv"
    path.write_bytes(data)
    got = reader.read_file(reader.FileData(path=path), "x.csv", KNOWN)
    assert got.encoding == expected.encoding
    [sheet], [want] = got.sheets, expected.sheets
    assert (sheet.frame.values.tolist(), sheet.rows, sheet.skipped) == (
        want.frame.values.tolist(),
        want.rows,
        want.skipped,
    )
    assert reader.FileData(path=path).sha256() == reader.FileData(data).sha256()


def test_loading_a_path_gives_what_loading_its_bytes_gives(tmp_path, monkeypatch):
    monkeypatch.setattr(reader, "_BLOCK_BYTES", 5)
    rows = messy_rows() + [penalty_row("D6", code=bad_check_code(3)), penalty_row("D2", fine="0.9")]
    data = csv_bytes(rows, "gbk")
    path = tmp_path / "x.csv"
    path.write_bytes(data)
    from_path = ingest.ingest_paths(str(tmp_path / "a.duckdb"), [path])[0]
    from_bytes = ingest.ingest_bytes(str(tmp_path / "b.duckdb"), data, "x.csv")
    assert from_path.to_dict() == from_bytes.to_dict()
    assert (from_path.loaded, from_path.rejected) == (5, 2)
    assert rows_of(str(tmp_path / "a.duckdb")) == rows_of(str(tmp_path / "b.duckdb"))
    assert logged_hashes(str(tmp_path / "a.duckdb")) == logged_hashes(str(tmp_path / "b.duckdb"))


def test_a_short_row_after_the_first_chunk_restarts_with_pandas_and_pads_it(monkeypatch):
    monkeypatch.setattr(reader, "_BLOCK_BYTES", 200)  # pyarrow meets the short row in a later block
    rows = [PROGRESS_HEADERS] + [[str(i), "2022-05-27", "10%", "推进中", "局法规处", "x"] for i in range(1, 6)]
    data = csv_bytes(rows) + b"6,2022-05-27\r\n"  # no trailing commas: pyarrow cannot read it
    sheet = reader.open_file(data, "x.csv", KNOWN, chunk_rows=2).sheets[0]
    with pytest.raises(reader.Restart):
        list(sheet.chunks())
    cells = [list(r.values()) for c in sheet.chunks() for r in c.table.to_pylist()]
    assert cells[-1] == ["6", "2022-05-27", "", "", "", ""]
    assert chunked(data) == whole(data)


def test_a_restart_after_rows_were_written_loads_each_row_once(db, monkeypatch):
    # The first chunks are staged before pyarrow meets the short row; starting over must drop them, or the
    # second pass would find its own keys duplicated in the file.
    monkeypatch.setattr(reader, "_BLOCK_BYTES", 200)
    monkeypatch.setattr(reader, "CHUNK_ROWS", 2)
    rows = [PROGRESS_HEADERS] + [[str(i), "2022-05-27", "10%", "推进中", "局法规处", "x"] for i in range(1, 6)]
    data = csv_bytes(rows) + b"6,2022-05-27\r\n"
    result = ingest.ingest_bytes(db, data, "x.csv")
    assert (result.loaded, result.updated, result.unchanged, result.rejected) == (5, 0, 0, 1)  # 6: no 完成进度
    with duckdb.connect(db, read_only=True) as con:
        stored = con.execute("SELECT point_id, upload_id FROM progress ORDER BY point_id").fetchall()
        tables = {t for (t,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert stored == [(i, result.upload_id) for i in range(1, 6)]
    assert not {t for t in tables if t.startswith("staged_")}


def test_a_wide_row_after_the_first_chunk_widens_the_header(monkeypatch):
    monkeypatch.setattr(reader, "_BLOCK_BYTES", 200)
    rows = [PROGRESS_HEADERS] + [[str(i), "2022-05-27", "10%", "推进中", "", ""] for i in range(1, 6)]
    data = csv_bytes(rows + [["6", "2022-05-27", "10%", "推进中", "", "", "督办：王五"]])
    sheet = reader.read_file(data, "x.csv", KNOWN).sheets[0]
    assert sheet.headers == [*PROGRESS_HEADERS, ""]
    assert sheet.frame.iloc[-1].tolist() == ["6", "2022-05-27", "10%", "推进中", "", "", "督办：王五"]
    assert chunked(data) == whole(data)


def test_excel_sheets_in_chunks_read_like_the_whole_sheet():
    data = xlsx_bytes({"2021": [[TITLE], *messy_rows()[1:]], "2022": [LICENSE_HEADERS, license_row("L1")]})
    assert chunked(data, "x.xlsx", rows=2) == whole(data, "x.xlsx")


@pytest.fixture
def db(tmp_path) -> str:
    return str(tmp_path / "credit.duckdb")


def rows_of(db: str) -> list[tuple]:
    with duckdb.connect(db, read_only=True) as con:
        return con.execute("SELECT * EXCLUDE (upload_id) FROM penalties ORDER BY doc_no").fetchall()


def logged_hashes(db: str) -> list[tuple]:
    with duckdb.connect(db, read_only=True) as con:
        return con.execute("SELECT sha256 FROM uploads").fetchall()


def test_loading_in_small_chunks_gives_the_same_result_as_in_one(tmp_path, monkeypatch):
    rows = messy_rows() + [penalty_row("D6", code=bad_check_code(3)), penalty_row("D2", fine="0.9")]
    rows += [penalty_row("D7", subject_type="自然人", code="", id_type="身份证", id_no="350203199001011234")]
    data = csv_bytes(rows, "gbk")
    results = {}
    for size in (2, 1000):
        monkeypatch.setattr(reader, "CHUNK_ROWS", size)
        db = str(tmp_path / f"{size}.duckdb")
        results[size] = (ingest.ingest_bytes(db, data, "x.csv"), rows_of(db))
    (small, small_rows), (large, large_rows) = results[2], results[1000]
    assert small_rows == large_rows
    assert small.to_dict() == large.to_dict()
    assert small.skipped == large.skipped
    assert small.rejected_rows.to_dict("records") == large.rejected_rows.to_dict("records")
    assert small.preview.equals(large.preview)
    assert (small.loaded, small.rejected) == (6, 2)
    assert small.errors[-1]["reason"] == "与第 4 行的键重复（行政处罚决定书文号）"


def test_a_duplicate_key_in_a_later_chunk_of_another_sheet_names_the_first(db, monkeypatch):
    monkeypatch.setattr(reader, "CHUNK_ROWS", 1)
    data = xlsx_bytes(
        {
            "2021": [LICENSE_HEADERS, license_row("L1"), license_row("L2")],
            "2022": [LICENSE_HEADERS, license_row("L3"), license_row("L2"), license_row("L3")],
        }
    )
    result = ingest.ingest_bytes(db, data, "x.xlsx")
    assert (result.loaded, result.rejected) == (3, 2)
    assert [(e["sheet"], e["row"], e["reason"]) for e in result.errors] == [
        ("2022", 3, "与工作表「2021」第 3 行的键重复（行政许可决定文书号）"),
        ("2022", 4, "与第 2 行的键重复（行政许可决定文书号）"),
    ]
    assert list(result.rejected_rows["行号"]) == [3, 4]


def test_a_chunk_that_fails_to_be_written_fails_the_load_and_leaves_the_store_as_it_was(db, monkeypatch):
    # Chunks are written on the writer thread while the next is checked: its error must still reach the
    # caller, roll the whole file back, and leave the writer free for the next load.
    monkeypatch.setattr(reader, "CHUNK_ROWS", 2)
    first = csv_bytes([PENALTY_HEADERS, penalty_row("D0", credit_code(0))])
    assert ingest.ingest_bytes(db, first, "first.csv").loaded == 1
    written, real_append = [], ingest._append

    def append_failing_the_third(con, stage, part, accepted, unknown):
        if len(written) == 2:
            raise duckdb.IOException("disk full")
        written.append(accepted.num_rows)
        real_append(con, stage, part, accepted, unknown)

    monkeypatch.setattr(ingest, "_append", append_failing_the_third)
    data = csv_bytes([PENALTY_HEADERS] + [penalty_row(f"D{i}", credit_code(i)) for i in range(1, 11)])
    with pytest.raises(duckdb.IOException, match="disk full"):
        ingest.ingest_bytes(db, data, "x.csv")
    assert written == [2, 2]
    assert [r[0] for r in rows_of(db)] == ["D0"]
    with duckdb.connect(db, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM uploads").fetchall() == [(1,)]
    monkeypatch.setattr(ingest, "_append", real_append)
    assert ingest.ingest_bytes(db, data, "x.csv").loaded == 10


def test_bytes_that_are_not_gbk_far_into_the_file_refuse_it_whole(db, monkeypatch):
    monkeypatch.setattr(reader, "CHUNK_ROWS", 2)
    good = csv_bytes([PENALTY_HEADERS] + [penalty_row(f"D{i}", credit_code(i)) for i in range(10)], "gbk")
    result = ingest.ingest_bytes(db, good + b"\x81\x20\xff,x\r\n", "x.csv")
    assert not result.ok
    assert result.message == reader.UNKNOWN_ENCODING
    assert result.rows_read == 0 and result.errors == []
    assert rows_of(db) == []


# --- the vectorised cleaners -------------------------------------------------------------------

# Characters chosen to catch disagreements: width forms, compatibility forms, every kind of space,
# letters with tricky case, and characters outside the blocks the fast path takes.
POOL = (
    "aZ09 ,.-_()\t\n\r\x0b\x0c\x1c\x1f\x85\xa0\u1680\u2000\u200a\u200b\u2028\u2029\u202f\u205f\u3000"
    "ＡＺａｚ０９，（）《》〔〕“”—·×µª²¼…‼〸ｶﾞﾟﾡ￥厦门交罚号ßéΩ℃①㎡ﬁ𠀾\U0001e030\U0001f600"
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=POOL, max_size=12), min_size=1, max_size=40))
def test_vectorised_cleaning_agrees_with_normalize(cells):
    array = pa.array(cells, pa.string())
    pairs = (
        (columns.clean_text, normalize.clean_text),
        (columns.clean_code, normalize.clean_code),
        (columns.masked_id_numbers, normalize.mask_id_number),
    )
    for fast, slow in pairs:
        values, done = fast(array)
        assert [v for v, d in zip(values.to_pylist(), done, strict=True) if d] == [
            slow(c) for c, d in zip(cells, done, strict=True) if d
        ]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([credit_code(1), credit_code(2), bad_check_code(3), " 9135 0203 ", ""]), min_size=1))
def test_vectorised_credit_codes_are_exactly_the_valid_ones(cells):
    values, done = columns.credit_codes(pa.array(cells, pa.string()))
    for cell, value, fast in zip(cells, values.to_pylist(), done, strict=True):
        try:
            expected = normalize.parse_credit_code(cell)
        except normalize.Invalid:
            assert not fast  # an invalid code always goes back for its reason
            continue
        if fast:
            assert value == expected


def test_whitespace_is_pythons():
    assert set(normalize.WHITESPACE) == {chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()}


def test_reading_ahead_hands_out_items_then_the_error_in_order():
    def items():
        yield from (1, 2)
        raise reader.ReadError("第 3 块读不出")

    got = []
    with pytest.raises(reader.ReadError, match="第 3 块"):
        for item in reader._read_ahead(items()):
            got.append(item)
    assert got == [1, 2]


def test_a_reader_left_early_stops_reading_ahead_and_closes_its_source():
    closed, blocked = [], threading.Event()

    def items():
        try:
            for i in range(1000):
                if i == 3:  # item 2 waits in the queue: handing out 3 blocks until someone takes it
                    blocked.set()
                yield i
        finally:
            closed.append(True)

    ahead = reader._read_ahead(items())
    assert [next(ahead), next(ahead)] == [0, 1]
    assert blocked.wait(timeout=10)
    ahead.close()  # as when a Restart or an error leaves the loop over the chunks
    for thread in [t for t in threading.enumerate() if t.name == "read-ahead"]:
        thread.join(timeout=10)
        assert not thread.is_alive()
    assert closed == [True]
