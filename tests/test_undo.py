"""Undoing an upload returns the data exactly to its state before that upload."""

from __future__ import annotations

import csv
import io
import json
import random

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics import cli, normalize
from analytics.intake import ingest, undo
from analytics.storage import audit, store
from analytics.storage.users import User

PENALTY_HEADERS = [
    "行政相对人名称",
    "统一社会信用代码",
    "行政处罚决定书文号",
    "处罚决定日期",
    "处罚机关",
    "罚款金额(万元)",
]
DATA_TABLES = ("work_points", "progress", "entities", "severe_list", "penalties", "licenses", "objections")


def code(seed: int) -> str:
    rng = random.Random(seed)
    first17 = "91350203" + "".join(rng.choice(normalize.CODE_ALPHABET) for _ in range(9))
    return first17 + normalize.credit_code_check_char(first17)


def csv_bytes(rows) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode("utf-8")


def penalty(doc_no: str, fine: str = "0.2", day: str = "2022-05-27", name: str = "厦门市鹭岛运输有限公司") -> list:
    return [name, code(len(doc_no)), doc_no, day, "厦门市交通运输局", fine]


def load(db: str, rows, name: str, headers=PENALTY_HEADERS) -> ingest.IngestResult:
    result = ingest.ingest_bytes(db, csv_bytes([headers, *rows]), name, user="分析员甲")
    assert result.upload_id is not None
    return result


def snapshot(db: str) -> dict[str, list[tuple]]:
    """Every data table in full, upload_id and the extra JSON (as text) included."""
    con = duckdb.connect(db, read_only=True)
    try:
        out = {}
        for table in DATA_TABLES:
            columns = con.execute(
                "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ?"
                " ORDER BY ordinal_position",
                [table],
            ).fetchall()
            select = ", ".join(f"CAST({c} AS VARCHAR)" if t == "JSON" else c for c, t in columns)
            out[table] = con.execute(f"SELECT {select} FROM {table} ORDER BY ALL").fetchall()
        return out
    finally:
        con.close()


def upload_row(db: str, upload_id: int) -> tuple:
    con = duckdb.connect(db, read_only=True)
    try:
        return con.execute("SELECT status, undone_at, undone_by FROM uploads WHERE id = ?", [upload_id]).fetchone()
    finally:
        con.close()


@pytest.fixture
def db(tmp_path) -> str:
    return str(tmp_path / "credit.duckdb")


@pytest.fixture
def a_then_b(db):
    """File A: three penalties (one with an extra column); file B: updates one, adds one, repeats one as is."""
    headers = [*PENALTY_HEADERS, "内部备注"]
    a = load(db, [penalty("P1", "0.1") + ["甲"], penalty("P2", "0.3333333333333333") + [""], penalty("P3") + ["丙"]],
             "a.csv", headers)  # fmt: skip
    after_a = snapshot(db)
    b = load(db, [penalty("P1", "1.5") + ["改"], penalty("P2", "0.3333333333333333") + [""], penalty("P4") + ["新"]],
             "b.csv", headers)  # fmt: skip
    assert (a.loaded, b.loaded, b.updated, b.unchanged) == (3, 1, 1, 1)
    return a, b, after_a


def test_undoing_the_latest_upload_restores_the_state_after_the_previous_one_exactly(db, a_then_b):
    _, b, after_a = a_then_b
    assert snapshot(db) != after_a

    result = undo.undo_upload(db, b.upload_id, "管理员")

    assert result.ok, result.message
    assert (result.removed, result.restored) == (2, 1)
    assert snapshot(db) == after_a  # upload_id, typed values, the extra JSON: all as they were
    status, undone_at, undone_by = upload_row(db, b.upload_id)
    assert (status, undone_by) == ("undone", "管理员") and undone_at is not None
    assert "已撤销" in result.message


def test_undoing_every_upload_newest_first_empties_the_tables(db, a_then_b):
    a, b, _ = a_then_b
    assert undo.undo_upload(db, b.upload_id, "管理员").ok
    result = undo.undo_upload(db, a.upload_id, "管理员")
    assert result.ok and result.removed == 3
    assert all(rows == [] for table, rows in snapshot(db).items() if table != "work_points")


def test_an_older_upload_cannot_be_undone_while_a_later_one_wrote_the_same_dataset(db, a_then_b):
    a, b, _ = a_then_b
    before = snapshot(db)
    result = undo.undo_upload(db, a.upload_id, "管理员")
    assert not result.ok
    assert f"#{b.upload_id}" in result.message and "请先撤销" in result.message
    assert snapshot(db) == before
    assert upload_row(db, a.upload_id)[0] == "loaded"


def test_undoing_twice_unknown_or_refused_uploads_is_refused_and_changes_nothing(db, a_then_b):
    _, b, _ = a_then_b
    assert undo.undo_upload(db, b.upload_id, "管理员").ok
    after = snapshot(db)

    again = undo.undo_upload(db, b.upload_id, "管理员")
    assert not again.ok and "不能重复撤销" in again.message and "管理员" in again.message

    unknown = undo.undo_upload(db, 999, "管理员")
    assert not unknown.ok and "不存在" in unknown.message

    refused = ingest.ingest_bytes(db, b"", "empty.csv")
    assert refused.message and refused.upload_id
    result = undo.undo_upload(db, refused.upload_id, "管理员")
    assert not result.ok and "无需撤销" in result.message
    assert snapshot(db) == after


def test_only_an_admin_user_may_undo(db, a_then_b):
    _, b, _ = a_then_b
    before = snapshot(db)
    for role in ("viewer", "analyst"):
        result = undo.undo_upload(db, b.upload_id, User("某人", role))
        assert not result.ok and "管理员" in result.message
    assert snapshot(db) == before
    assert undo.undo_upload(db, b.upload_id, User("王管理", "admin")).ok


def test_a_later_upload_of_another_dataset_or_one_that_changed_nothing_does_not_block(db, a_then_b):
    _, b, after_a = a_then_b
    entities = load(db, [[code(7), "厦门某公司", "道路运输", "思明区", "2010-01-01"]], "e.csv",
                    ["统一社会信用代码", "名称", "行业", "所在区", "成立日期"])  # fmt: skip
    same_again = load(db, [penalty("P4") + ["新"]], "b-again.csv", [*PENALTY_HEADERS, "内部备注"])
    assert (same_again.loaded, same_again.updated, same_again.unchanged) == (0, 0, 1)

    result = undo.undo_upload(db, b.upload_id, "管理员")

    assert result.ok, result.message
    now = snapshot(db)
    assert now["penalties"] == after_a["penalties"]
    assert len(now["entities"]) == 1 and entities.loaded == 1


def test_undo_is_audited_in_the_same_transaction_and_changes_the_data_version(db, a_then_b):
    _, b, _ = a_then_b
    with store.connect(db, read_only=True) as con:
        version_before = store.data_version(con)
    undo.undo_upload(db, b.upload_id, "管理员")
    with store.connect(db, read_only=True) as con:
        assert store.data_version(con) != version_before
        log = audit.list_log(con, 10)
    assert list(log["action"])[:3] == ["undo", "upload", "upload"]
    detail = json.loads(log["detail"][0])
    assert detail["upload_id"] == b.upload_id and (detail["removed"], detail["restored"]) == (2, 1)
    assert log["user_name"][0] == "管理员"


def test_an_undo_that_fails_midway_changes_nothing(db, a_then_b, monkeypatch):
    _, b, _ = a_then_b
    before = snapshot(db)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(audit, "record", broken)  # fails after rows were deleted and restored
    with pytest.raises(RuntimeError):
        undo.undo_upload(db, b.upload_id, "管理员")
    assert snapshot(db) == before
    assert upload_row(db, b.upload_id)[0] == "loaded"


def test_a_workbook_of_two_datasets_is_undone_in_both(db, tmp_path):
    import xlsxwriter

    path = tmp_path / "two.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("处罚")
    for r, row in enumerate([PENALTY_HEADERS, penalty("X1"), penalty("X2")]):
        sheet.write_row(r, 0, row)
    sheet = book.add_worksheet("许可")
    license_headers = ["行政相对人名称", "统一社会信用代码", "行政许可决定文书号", "许可决定日期", "许可机关"]
    for r, row in enumerate([license_headers, ["厦门某公司", code(3), "L1", "2021-03-01", "厦门市交通运输局"]]):
        sheet.write_row(r, 0, row)
    book.close()
    result = ingest.ingest_paths(db, [path])[0]
    assert result.dataset == "penalties,licenses" and result.loaded == 3, result.to_dict()

    undone = undo.undo_upload(db, result.upload_id, "管理员")

    assert undone.ok and undone.datasets == ["penalties", "licenses"] and undone.removed == 3
    now = snapshot(db)
    assert now["penalties"] == [] and now["licenses"] == []


def test_cli_undo_prints_the_result_and_refuses_in_one_line(db, a_then_b, capsys):
    a, b, _ = a_then_b
    assert cli.main(["undo", str(a.upload_id), "--db", db]) == 2
    err = capsys.readouterr().err
    assert err.startswith("错误：不能撤销上传") and err.count("\n") == 1

    assert cli.main(["undo", str(b.upload_id), "--db", db, "--user", "管理员"]) == 0
    assert "已撤销上传" in capsys.readouterr().out
    assert cli.main(["undo", "abc", "--db", db]) == 2
    assert "正整数" in capsys.readouterr().err


KEYS = ["K1", "K2", "K3", "K4"]
version_strategy = st.lists(
    st.tuples(st.sampled_from(KEYS), st.sampled_from(["0.1", "0.25", "1", "2.5"]), st.sampled_from(["", "甲", "乙"])),
    min_size=1,
    max_size=4,
    unique_by=lambda t: t[0],
)


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(files=st.lists(version_strategy, min_size=2, max_size=3))
def test_undoing_any_sequence_of_uploads_newest_first_walks_back_through_every_state(tmp_path_factory, files):
    db = str(tmp_path_factory.mktemp("undo") / "credit.duckdb")
    with store.connect(db):
        pass
    states = [snapshot(db)]
    ids = []
    for n, rows in enumerate(files):
        result = load(db, [penalty(k, fine) + [note] for k, fine, note in rows], f"f{n}.csv",
                      [*PENALTY_HEADERS, "内部备注"])  # fmt: skip
        ids.append(result.upload_id)
        states.append(snapshot(db))
    for upload_id, state in zip(reversed(ids), reversed(states[:-1]), strict=True):
        result = undo.undo_upload(db, upload_id, "管理员")
        assert result.ok, result.message
        assert snapshot(db) == state
