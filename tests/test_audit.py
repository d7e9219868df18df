"""The audit log: append-only records, written with the change they describe."""

from __future__ import annotations

import json
import threading

import duckdb
import pytest

from analytics import cli, normalize
from analytics.intake import ingest
from analytics.storage import audit, store

HEADERS = "统一社会信用代码,名称,行业,所在区,成立日期\r\n"


def entity_csv(n: int = 2) -> bytes:
    lines = []
    for i in range(n):
        first17 = f"91350203MA{i:07d}"
        lines.append(f"{first17}{normalize.credit_code_check_char(first17)},公司{i},道路运输,思明区,2010-01-01\r\n")
    return (HEADERS + "".join(lines)).encode("utf-8")


@pytest.fixture
def db(tmp_path) -> str:
    path = str(tmp_path / "credit.duckdb")
    with store.connect(path):
        pass
    return path


def log(db: str, **kwargs):
    with store.connect(db, read_only=True) as con:
        return audit.list_log(con, **kwargs)


def test_records_are_listed_newest_first_with_their_detail(db):
    with store.connect(db) as con:
        first = audit.record(con, "张三", "sign_in", {"method": "local"})
        second = audit.record(con, None, "download", {"table": "penalties", "rows": 12, "格式": "CSV"})
    assert second > first
    frame = log(db)
    assert list(frame["id"]) == [second, first]
    assert list(frame["action_label"]) == ["下载", "登录"]
    assert json.loads(frame["detail"][0]) == {"table": "penalties", "rows": 12, "格式": "CSV"}
    assert frame["user_name"][1] == "张三"
    assert list(log(db, action="sign_in")["id"]) == [first]
    assert len(log(db, limit=1)) == 1


def test_a_user_object_is_recorded_by_name(db):
    from analytics.storage.users import User

    with store.connect(db) as con:
        audit.record(con, User("王五", "admin"), "sign_out", {})
    assert log(db)["user_name"][0] == "王五"


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda con: audit.record(con, "a", "delete_everything", {}), "未知的审计操作"),
        (lambda con: audit.list_log(con, 0), "条数应为"),
        (lambda con: audit.list_log(con, 10, action="drop"), "未知的审计操作"),
    ],
)
def test_unknown_actions_and_bad_limits_are_refused(db, call, error):
    with store.connect(db) as con, pytest.raises(ValueError, match=error):
        call(con)


def test_the_api_is_append_only():
    public = [name for name in dir(audit) if not name.startswith("_")]
    assert not [name for name in public if any(word in name.lower() for word in ("update", "delete", "clear", "edit"))]


def test_every_upload_loaded_or_refused_is_audited(db):
    loaded = ingest.ingest_bytes(db, entity_csv(), "entities.csv", user="分析员甲")
    refused = ingest.ingest_bytes(db, b"%PDF-1.4", "scan.pdf", user="分析员乙")
    frame = log(db, action="upload")
    details = [json.loads(d) for d in frame["detail"]]
    assert [(d["upload_id"], d["status"]) for d in details] == [
        (refused.upload_id, "refused"),
        (loaded.upload_id, "loaded"),
    ]
    assert details[1]["loaded"] == 2 and details[1]["file"] == "entities.csv"
    assert "不支持的文件类型" in details[0]["message"]
    assert list(frame["user_name"]) == ["分析员乙", "分析员甲"]


def test_a_load_that_fails_leaves_neither_upload_nor_audit_record(db, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(ingest, "_log_upload", broken)
    with pytest.raises(RuntimeError):
        ingest.ingest_bytes(db, entity_csv(), "entities.csv")
    assert log(db).empty
    con = duckdb.connect(db, read_only=True)
    assert con.execute("SELECT count(*) FROM entities").fetchone()[0] == 0
    con.close()


def test_a_sign_in_while_an_upload_transaction_is_open_gets_its_own_id(db, monkeypatch):
    paused, release = threading.Event(), threading.Event()

    def pause():  # inside the load's transaction, just before COMMIT
        paused.set()
        assert release.wait(60)

    monkeypatch.setattr(ingest, "_pause_for_tests", pause)
    results = []
    loader = threading.Thread(target=lambda: results.append(ingest.ingest_bytes(db, entity_csv(), "e.csv")))
    loader.start()
    try:
        assert paused.wait(60)
        with store.connect(db) as con:  # another connection of this process, while the load's transaction is open
            audit.record(con, "李四", "sign_in", {})
    finally:
        release.set()
        loader.join(60)
    assert results and results[0].loaded == 2
    frame = log(db)
    assert sorted(frame["action"]) == ["sign_in", "upload"] and frame["id"].is_unique


def test_cli_lists_the_log_as_json(db, capsys):
    ingest.ingest_bytes(db, entity_csv(), "entities.csv", user="分析员甲")
    assert cli.main(["audit", "--db", db, "--limit", "5"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert records[0]["action"] == "upload" and records[0]["detail"]["file"] == "entities.csv"
