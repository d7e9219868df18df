"""Property-based: whatever the bytes, ingestion returns a result, and a refused file changes no data."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics.intake import datasets as ds
from analytics.intake import ingest
from tests.helpers import (
    LICENSE_HEADERS,
    OBJECTION_HEADERS,
    PENALTY_HEADERS,
    PROGRESS_HEADERS,
    bad_check_code,
    credit_code,
    csv_bytes,
    license_row,
    penalty_row,
    snapshot,
    xlsx_bytes,
)

SETTINGS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])

TITLE = "厦门市交通运输局行政处罚信息（双公示）2021年度"
BASE_HEADERS = [*PENALTY_HEADERS, "联系电话", "经办人"]  # two unknown columns: kept in extra, in any order
BASE_ROWS = [[TITLE], BASE_HEADERS] + [
    [*penalty_row(f"厦交罚〔2022〕{i}号", code=credit_code(i), fine=f"{i / 10:.1f}"), f"0592-{i}", "王五"]
    for i in range(1, 6)
]
BASE_ROWS.append(
    [*penalty_row("自然人-1", code="", subject_type="自然人", name="李四", id_no="350203199001011234"), "", "赵六"]
)
BASE_ROWS.append(["合计", "", "", "", "", "", "6条"])
BASE_CSV = csv_bytes(BASE_ROWS, "gbk")
BASE_XLSX = xlsx_bytes(
    {"处罚": BASE_ROWS, "许可": [LICENSE_HEADERS, license_row("厦交许〔2021〕1号")], "说明": [["填报说明"]]}
)
NAMES = ["导出.csv", "导出.xlsx", "导出.xls", "导出.txt", "导出.CSV"]


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> str:
    """A store holding some rows of every kind, so a refusal that wrote anything would show."""
    path = str(tmp_path_factory.mktemp("props") / "credit.duckdb")
    assert ingest.ingest_bytes(path, BASE_XLSX, "base.xlsx").loaded == 7
    progress = [PROGRESS_HEADERS, ["1", "2022-01-31", "60%", "推进中", "", ""]]
    assert ingest.ingest_bytes(path, csv_bytes(progress), "progress.csv").loaded == 1
    return path


# The data tables as the last check left them: only check() writes to a store after its fixture.
_known: dict[str, dict] = {}


def check(db: str, data: bytes, name: str, dataset: str | None = None) -> ingest.IngestResult:
    """Ingest and hold the invariants every upload keeps."""
    before = _known[db] if db in _known else snapshot(db)
    result = ingest.ingest_bytes(db, data, name, dataset=dataset)
    assert isinstance(result, ingest.IngestResult)
    assert min(result.rows_read, result.loaded, result.updated, result.unchanged, result.rejected) >= 0
    if result.dataset:
        assert result.rows_read == result.loaded + result.updated + result.unchanged + result.rejected
    assert result.rejected == (0 if result.rejected_rows is None else len(result.rejected_rows))
    for error in result.errors:
        assert isinstance(error["row"], int) and error["row"] >= 1
        assert error["reason"]
    after = snapshot(db)
    if not result.ok:
        assert result.message  # says why, in words
        assert after == before
    _known[db] = after
    return result


@SETTINGS
@given(data=st.binary(max_size=3000), name=st.sampled_from(NAMES))
def test_random_bytes_never_raise(db, data, name):
    check(db, data, name)


@SETTINGS
@given(cut=st.integers(min_value=0, max_value=len(BASE_CSV) - 1))
def test_truncated_csv_never_raises(db, cut):
    check(db, BASE_CSV[:cut], "导出.csv")


@SETTINGS
@given(cut=st.integers(min_value=0, max_value=len(BASE_XLSX) - 1), name=st.sampled_from(["导出.xlsx", "导出.xls"]))
def test_truncated_xlsx_never_raises(db, cut, name):
    result = check(db, BASE_XLSX[:cut], name)
    assert not result.ok  # a cut zip has no central directory: nothing loads


@SETTINGS
@given(flips=st.lists(st.tuples(st.integers(0, len(BASE_XLSX) - 1), st.integers(0, 255)), min_size=1, max_size=8))
def test_damaged_xlsx_never_raises(db, flips):
    data = bytearray(BASE_XLSX)
    for position, value in flips:
        data[position] = value
    check(db, bytes(data), "导出.xlsx")


def _permuted(rows: list[list], order: list[int]) -> list[list]:
    width = len(BASE_HEADERS)
    out = []
    for row in rows:
        if len(row) < width:  # title and total rows keep their shape
            out.append(row)
        else:
            out.append([row[i] for i in order])
    return out


@settings(SETTINGS, max_examples=30)
@given(order=st.permutations(range(len(BASE_HEADERS))), as_xlsx=st.booleans())
def test_column_order_does_not_change_the_stored_rows(db, order, as_xlsx):
    rows = _permuted(BASE_ROWS, list(order))
    data = xlsx_bytes({"处罚": rows}) if as_xlsx else csv_bytes(rows, "utf-8", bom=True)
    before = _known.get(db) or snapshot(db)
    result = check(db, data, "导出.xlsx" if as_xlsx else "导出.csv")
    assert (result.dataset, result.loaded, result.updated, result.unchanged) == ("penalties", 0, 0, 6)
    assert _known[db] == before


@settings(SETTINGS, max_examples=15)
@given(order=st.permutations(range(len(BASE_HEADERS))))
def test_column_order_gives_the_same_rows_in_a_fresh_store(tmp_path_factory, order):
    reference = str(tmp_path_factory.mktemp("ref") / "a.duckdb")
    permuted = str(tmp_path_factory.mktemp("perm") / "b.duckdb")
    ingest.ingest_bytes(reference, csv_bytes(BASE_ROWS), "a.csv")
    ingest.ingest_bytes(permuted, csv_bytes(_permuted(BASE_ROWS, list(order))), "b.csv")
    assert snapshot(permuted) == snapshot(reference)
    assert snapshot(permuted)["penalties"]


# Cells that each parser has an opinion on, plus anything at all.
PLAUSIBLE = [
    "", " ", "\u3000", "0", "1", "一", "（二）", "22", "60%", "101", "推进中", "完成", "2022-05-27", "2022-02-30",
    "19000101", "44708", "2099-01-01", "1,200.5", "2,000元", "0.2万元", "-1", "nan", "自然人", "法人及非法人组织",
    "行政处罚", "异议成立", "是", "15个工作日", "999天", "合计", "备注：无", "制表人：王五", "厦门市交通运输局\u3000",
    credit_code(1), credit_code(2).lower(), bad_check_code(3), "9135020" + "I" * 11, "350203199001011234",
    "9" * 400, "=SUM(A1:A2)", "'", '"', ",", "\n", "𠀾",
]  # fmt: skip
cells = st.one_of(st.sampled_from(PLAUSIBLE), st.text(max_size=12))
HEADER_SETS = {
    "penalties": PENALTY_HEADERS,
    "licenses": LICENSE_HEADERS,
    "progress": PROGRESS_HEADERS,
    "objections": OBJECTION_HEADERS + ["办理时限", "是否主观失误"],
}


@st.composite
def random_files(draw):
    headers = list(HEADER_SETS[draw(st.sampled_from(sorted(HEADER_SETS)))])
    if draw(st.booleans()):
        headers.append(draw(st.sampled_from(["联系电话", "", "序号", "备注", "行号"])))
    random.Random(draw(st.integers(0, 1000))).shuffle(headers)
    body = draw(st.lists(st.lists(cells, min_size=len(headers), max_size=len(headers)), max_size=6))
    rows = ([[TITLE]] if draw(st.booleans()) else []) + [headers] + body
    kind = draw(st.sampled_from(["utf-8", "gbk", "xlsx"]))
    if kind == "xlsx":
        return xlsx_bytes({"Sheet1": rows}), "导出.xlsx"
    try:
        return csv_bytes(rows, kind), "导出.csv"
    except UnicodeEncodeError:
        return csv_bytes(rows, "utf-8"), "导出.csv"


@SETTINGS
@given(file=random_files(), dataset=st.one_of(st.none(), st.sampled_from(ds.UPLOADABLE)))
def test_random_cells_never_raise_and_counts_add_up(db, file, dataset):
    data, name = file
    check(db, data, name, dataset)


GB2312 = [
    ch
    for lead in range(0xB0, 0xF8)
    for trail in range(0xA1, 0xFF)
    if (ch := bytes([lead, trail]).decode("gbk", errors="ignore"))
]


@SETTINGS
@given(name=st.text(alphabet=st.sampled_from(GB2312), min_size=1, max_size=12), title=st.booleans())
def test_any_gbk_text_reads_back_as_written(db, name, title):
    rows = ([[name + "行政处罚信息"]] if title else []) + [PENALTY_HEADERS, penalty_row(f"GBK-{name}", name=name)]
    result = check(db, csv_bytes(rows, "gbk"), "导出.csv")
    assert (result.encoding, result.rejected) == ("GBK", 0)
    assert result.preview["subject_name"].tolist() == [name]
