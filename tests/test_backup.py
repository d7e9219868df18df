"""Backups are consistent copies; a restore brings the backup's data back and loses nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from analytics import cli, normalize
from analytics.intake import ingest, undo
from analytics.storage import audit, backup, store

ROOT = Path(__file__).resolve().parent.parent
DATA_TABLES = ("work_points", "progress", "entities", "severe_list", "penalties", "licenses", "objections")
LOG_TABLES = ("uploads", "replaced_rows")


def entity_csv(first: int, n: int, name: str = "公司") -> bytes:
    lines = ["统一社会信用代码,名称,行业,所在区,成立日期"]
    for i in range(first, first + n):
        first17 = f"91350203MA{i:07d}"
        lines.append(f"{first17}{normalize.credit_code_check_char(first17)},{name}{i},道路运输,思明区,2010-01-01")
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def contents(db: str, tables=DATA_TABLES + LOG_TABLES) -> dict[str, list[tuple]]:
    con = duckdb.connect(db, read_only=True)
    try:
        return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in tables}
    finally:
        con.close()


def audit_actions(db: str) -> list[str]:
    with store.connect(db, read_only=True) as con:
        return list(audit.list_log(con, 1000)["action"])[::-1]


def wait_for(path: Path, proc: subprocess.Popen, timeout: float = 60) -> None:
    """Bounded wait for a step of another process, signalled by a file."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, f"{path} did not appear"
        time.sleep(0.01)


def run_cli(*args: str, env: dict | None = None, wait: bool = True):
    command = [sys.executable, "-m", "analytics", *args]
    full_env = {**os.environ, **(env or {})}
    kwargs = {"cwd": ROOT, "env": full_env, "stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True}
    if wait:
        return subprocess.run(command, timeout=120, **kwargs)
    return subprocess.Popen(command, **kwargs)


@pytest.fixture
def db(tmp_path) -> str:
    path = str(tmp_path / "credit.duckdb")
    ingest.ingest_bytes(path, entity_csv(0, 3), "first.csv", user="分析员甲")
    ingest.ingest_bytes(path, entity_csv(2, 2, "新名"), "second.csv", user="分析员甲")  # one update, one new
    return path


def test_backup_then_change_then_restore_brings_the_backups_data_back(db, tmp_path):
    dest = backup.backup(db, tmp_path / "b.duckdb", user="管理员")
    assert contents(dest) == contents(db)
    ingest.ingest_bytes(db, entity_csv(10, 5), "third.csv")
    ingest.ingest_bytes(db, entity_csv(0, 1, "改名"), "fourth.csv")
    assert undo.undo_upload(db, 4, "管理员").ok
    assert undo.undo_upload(db, 3, "管理员").ok
    assert undo.undo_upload(db, 2, "管理员").ok
    changed = contents(db)
    assert changed != contents(dest)

    result = backup.restore(db, dest, user="管理员")

    assert contents(db, DATA_TABLES + ("replaced_rows",)) == contents(dest, DATA_TABLES + ("replaced_rows",))
    assert contents(result.previous) == changed  # nothing lost: the state before is kept beside it
    assert result.previous == db + ".before-restore"
    assert result.rows["entities"] == 4
    # The upload log keeps the uploads made since the backup, undone (here they already were).
    assert statuses(db) == [(1, "loaded"), (2, "loaded"), (3, "undone"), (4, "undone")]
    assert result.carried_uploads == 2
    # The audit log goes on: records since the backup are kept, and the restore is recorded.
    assert audit_actions(db) == ["upload", "upload", "backup"] + ["upload"] * 2 + ["undo"] * 3 + ["restore"]
    assert result.carried_audit == 6
    with store.connect(db) as con:
        ids = audit.list_log(con, 1000)["id"]
        assert ids.is_unique
        assert audit.record(con, "x", "sign_in", {}) > ids.max()


def statuses(db: str) -> list[tuple]:
    return [(r[0], r[1]) for r in query(db, "SELECT id, status, undone_by FROM uploads ORDER BY id")]


def query(db: str, sql: str) -> list[tuple]:
    con = duckdb.connect(db, read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_an_upload_made_after_the_backup_is_undone_by_the_restore_and_its_id_never_reused(db, tmp_path):
    dest = backup.backup(db, tmp_path / "b.duckdb")
    with store.connect(db, read_only=True) as con:
        version_before = store.data_version(con)
    later = ingest.ingest_bytes(db, entity_csv(50, 2), "later.csv")
    with store.connect(db, read_only=True) as con:
        version_loaded = store.data_version(con)

    backup.restore(db, dest, user="管理员")

    assert query(db, f"SELECT status, undone_by FROM uploads WHERE id = {later.upload_id}") == [("undone", "管理员")]
    assert contents(db, ("entities",)) == contents(dest, ("entities",))
    with store.connect(db, read_only=True) as con:
        assert store.data_version(con) not in (version_before, version_loaded)  # caches keyed on it go stale
    refused = undo.undo_upload(db, later.upload_id, "管理员")
    assert not refused.ok and "不能重复撤销" in refused.message
    assert ingest.ingest_bytes(db, entity_csv(60, 1), "next.csv").upload_id == later.upload_id + 1


def test_backup_works_while_this_process_holds_the_file_open_for_writing(db, tmp_path):
    holder = duckdb.connect(db)  # as the app does between requests; read-only would be refused in-process
    try:
        dest = backup.backup(db, tmp_path / "b.duckdb")
    finally:
        holder.close()
    assert contents(dest, DATA_TABLES) == contents(db, DATA_TABLES)


def test_undo_still_works_after_a_restore(db, tmp_path):
    dest = backup.backup(db, tmp_path / "b.duckdb")
    assert undo.undo_upload(db, 2, "管理员").ok
    backup.restore(db, dest)
    assert undo.undo_upload(db, 2, "管理员").ok  # the restored upload 2 is live again
    assert undo.undo_upload(db, 1, "管理员").ok
    assert contents(db, ("entities",)) == {"entities": []}


def test_a_second_restore_keeps_the_first_before_restore_file(db, tmp_path):
    dest = backup.backup(db, tmp_path / "b.duckdb")
    first = backup.restore(db, dest)
    ingest.ingest_bytes(db, entity_csv(20, 1), "later.csv")
    second = backup.restore(db, dest)
    assert first.previous != second.previous and Path(first.previous).exists() and Path(second.previous).exists()
    assert len(contents(second.previous, ("entities",))["entities"]) == 5


def test_backup_into_a_folder_names_the_file_and_never_overwrites(db, tmp_path):
    folder = tmp_path / "backups"
    folder.mkdir()
    dest = Path(backup.backup(db, folder))
    assert dest.parent == folder and dest.name.startswith("credit-") and dest.suffix == ".duckdb"
    assert [p.name for p in folder.iterdir()] == [dest.name]  # no partial file or WAL left behind
    with pytest.raises(backup.BackupError, match="备份文件已存在"):
        backup.backup(db, dest)
    with pytest.raises(backup.BackupError, match="数据库不存在"):
        backup.backup(str(tmp_path / "none.duckdb"), tmp_path / "x.duckdb")
    with pytest.raises(backup.BackupError, match="备份目录不存在"):
        backup.backup(db, tmp_path / "no" / "such" / "x.duckdb")


def test_a_trailing_slash_names_a_folder_even_before_it_exists(db, tmp_path):
    dest = Path(backup.backup(db, f"{tmp_path / 'new-backups'}/"))
    assert dest.parent == tmp_path / "new-backups" and dest.name.startswith("credit-")
    assert query(str(dest), "SELECT count(*) FROM entities") == query(db, "SELECT count(*) FROM entities")


def test_the_backup_keeps_keys_and_the_audit_sequence(db, tmp_path):
    dest = backup.backup(db, tmp_path / "b.duckdb")
    con = duckdb.connect(dest)
    try:
        with pytest.raises(duckdb.ConstraintException):
            con.execute("INSERT INTO entities SELECT * FROM entities LIMIT 1")
        assert con.execute("SELECT nextval('audit_log_id_seq')").fetchone()[0] > 0
    finally:
        con.close()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.write_bytes(b"not a database at all" * 100), "不是有效的 DuckDB 数据库文件"),
        (lambda p: duckdb.connect(str(p)).execute("CREATE TABLE t (x INT)").close(), "不是本系统的数据库备份"),
        (None, "备份文件不存在"),
    ],
)
def test_restoring_something_that_is_not_our_backup_is_refused_and_changes_nothing(db, tmp_path, make, message):
    src = tmp_path / "odd.duckdb"
    if make:
        make(src)
    before = contents(db)
    with pytest.raises(backup.BackupError, match=message):
        backup.restore(db, src)
    assert contents(db) == before
    assert not Path(db + ".before-restore").exists()
    assert not [p for p in tmp_path.iterdir() if ".restore-" in p.name]


def test_a_backup_from_a_newer_version_is_refused(db, tmp_path):
    dest = backup.backup(db, tmp_path / "b.duckdb")
    con = duckdb.connect(dest)
    con.execute("INSERT INTO schema_version VALUES (999, now())")
    con.close()
    with pytest.raises(backup.BackupError, match="更新版本"):
        backup.restore(db, dest)


def test_a_backup_from_before_the_audit_sequence_is_migrated_then_restored(db, tmp_path):
    dest = backup.backup(db, tmp_path / "b.duckdb")
    con = duckdb.connect(dest)  # as a version-1 file was: no sequence, and audit ids far ahead of ours
    con.execute("DROP SEQUENCE audit_log_id_seq")
    con.execute("DELETE FROM schema_version WHERE version >= 2")
    con.execute("UPDATE audit_log SET id = id + 1000")
    con.close()
    backup.restore(db, dest)
    with store.connect(db) as con:
        assert audit.record(con, "x", "sign_in", {}) > 1000
        assert con.execute("SELECT max(version) FROM schema_version").fetchone()[0] == store.latest_version()


def test_restore_waits_for_a_running_load_then_replaces_it(db, tmp_path):
    dest = backup.backup(db, tmp_path / "b.duckdb")
    csv_path = tmp_path / "big.csv"
    csv_path.write_bytes(entity_csv(100, 500))
    gate = tmp_path / "gate"
    loader = run_cli("ingest", str(csv_path), "--db", db, env={"CREDIT_TEST_PAUSE_IN_LOAD": str(gate)}, wait=False)
    try:
        wait_for(Path(str(gate) + ".paused"), loader)  # the loader holds the file, inside its transaction
        restorer = run_cli("restore", dest, "--db", db, wait=False)
        gate.touch()
        assert loader.wait(60) == 0, loader.communicate()
        out, err = restorer.communicate(timeout=60)
    finally:
        gate.touch()
        loader.kill()
    assert restorer.returncode == 0, err
    assert "已从" in out and ".before-restore" in out
    assert contents(db, DATA_TABLES) == contents(dest, DATA_TABLES)
    assert len(contents(db + ".before-restore", ("entities",))["entities"]) == 504  # the load finished first
    assert statuses(db)[-1] == (3, "undone")  # and the restore undid it


def test_backup_while_a_loader_holds_the_file_waits_and_copies_all_of_the_load(db, tmp_path):
    csv_path = tmp_path / "big.csv"
    csv_path.write_bytes(entity_csv(100, 500))
    gate = tmp_path / "gate"
    loader = run_cli("ingest", str(csv_path), "--db", db, env={"CREDIT_TEST_PAUSE_IN_LOAD": str(gate)}, wait=False)
    try:
        wait_for(Path(str(gate) + ".paused"), loader)  # the loader holds the file, inside its transaction
        waiting = run_cli("backup", str(tmp_path / "b.duckdb"), "--db", db, wait=False)
        gate.touch()
        assert loader.wait(60) == 0
        _, err = waiting.communicate(timeout=60)
    finally:
        gate.touch()
        loader.kill()
    assert waiting.returncode == 0, err
    assert len(contents(str(tmp_path / "b.duckdb"), ("entities",))["entities"]) == 504  # all of the load


def test_cli_backup_and_restore(db, tmp_path, capsys):
    dest = str(tmp_path / "cli.duckdb")
    assert cli.main(["backup", dest, "--db", db, "--user", "管理员"]) == 0
    assert capsys.readouterr().out == f"已备份到 {dest}\n"
    assert cli.main(["backup", dest, "--db", db]) == 2
    assert capsys.readouterr().err.startswith("错误：备份文件已存在")
    assert cli.main(["restore", dest, "--db", db]) == 0
    assert "恢复前的数据库已另存为" in capsys.readouterr().out
    assert cli.main(["restore", str(tmp_path / "none.duckdb"), "--db", db]) == 2
    assert capsys.readouterr().err.startswith("错误：备份文件不存在")
    with store.connect(db, read_only=True) as con:
        detail = json.loads(audit.list_log(con, 5, action="backup")["detail"][0])
    assert detail["dest"] == str(Path(dest).resolve())
