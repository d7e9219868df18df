"""The store: migrations keep old data, schema_version records them, work points are seeded."""

from __future__ import annotations

import csv
import shutil
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from analytics.intake import ingest
from analytics.storage import store
from tests.helpers import PENALTY_HEADERS, csv_bytes, penalty_row, query

FIRST_MIGRATION = store.MIGRATIONS_DIR / "0001_initial.sql"


def old_database(path: Path) -> None:
    """A store as the first release left it: only 0001 applied, by hand, a row of data, no work points."""
    con = duckdb.connect(str(path))
    try:
        con.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TIMESTAMP NOT NULL)")
        con.execute(FIRST_MIGRATION.read_text(encoding="utf-8"))
        con.execute("INSERT INTO schema_version VALUES (1, ?)", [datetime(2022, 1, 1)])
        con.execute(
            "INSERT INTO uploads (id, uploaded_at, file_name, sha256, dataset, loaded, status)"
            " VALUES (1, ?, '处罚2021.csv', 'abc', 'penalties', 1, 'loaded')",
            [datetime(2022, 1, 2)],
        )
        con.execute(
            "INSERT INTO penalties (doc_no, subject_name, decision_date, authority, fine_wan, upload_id)"
            " VALUES ('厦交罚〔2021〕1号', '厦门某公司', DATE '2021-06-01', '厦门市交通运输局', 0.2, 1)"
        )
    finally:
        con.close()


def versions(db: Path) -> list[int]:
    return [v for (v,) in query(db, "SELECT version FROM schema_version ORDER BY version")]


def test_migrations_are_numbered_and_start_at_0001():
    numbers = [v for v, _ in store.migrations()]
    assert numbers[0] == 1
    assert numbers == sorted(set(numbers))
    assert store.latest_version() == numbers[-1]


def test_a_new_store_is_created_migrated_and_seeded(tmp_path):
    db = tmp_path / "new" / "credit.duckdb"
    with store.connect(str(db)) as con:
        assert store.is_empty(con)
    assert versions(db) == [v for v, _ in store.migrations()]


def test_an_older_store_opens_and_keeps_its_data(tmp_path):
    db = tmp_path / "old.duckdb"
    old_database(db)
    with store.connect(str(db)) as con:
        assert con.execute("SELECT doc_no, subject_name, decision_date, fine_wan FROM penalties").fetchall() == [
            ("厦交罚〔2021〕1号", "厦门某公司", date(2021, 6, 1), 0.2)
        ]
        assert con.execute("SELECT id, file_name FROM uploads").fetchall() == [(1, "处罚2021.csv")]
        assert not store.is_empty(con)
    assert versions(db) == [v for v, _ in store.migrations()]
    applied = dict(query(db, "SELECT version, applied_at FROM schema_version"))
    assert applied[1] == datetime(2022, 1, 1)  # the first migration is not run again
    assert query(db, "SELECT count(*) FROM work_points") == [(21,)]


def test_an_older_store_opened_read_only_is_upgraded_once(tmp_path):
    db = tmp_path / "old.duckdb"
    old_database(db)
    with store.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM work_points").fetchall() == [(21,)]
        assert con.execute("SELECT count(*) FROM penalties").fetchall() == [(1,)]
    assert versions(db)[-1] == store.latest_version()
    with store.connect(str(db), read_only=True) as con, pytest.raises(duckdb.Error):
        con.execute("DELETE FROM penalties")  # now current: a real read-only connection


def test_loading_into_an_older_store_works(tmp_path):
    db = tmp_path / "old.duckdb"
    old_database(db)
    result = ingest.ingest_bytes(str(db), csv_bytes([PENALTY_HEADERS, penalty_row("厦交罚〔2022〕1号")]), "x.csv")
    assert result.loaded == 1
    assert result.upload_id == 2
    assert query(db, "SELECT count(*) FROM penalties") == [(2,)]


def _migrations_with(tmp_path: Path, extra: dict[str, str]) -> Path:
    folder = tmp_path / "migrations"
    folder.mkdir()
    for _, path in store.migrations():
        shutil.copy(path, folder / path.name)
    for name, sql in extra.items():
        (folder / name).write_text(sql, encoding="utf-8")
    return folder


def test_a_new_migration_is_applied_to_an_older_store_without_losing_rows(tmp_path, monkeypatch):
    db = tmp_path / "old.duckdb"
    old_database(db)
    sql = "ALTER TABLE penalties ADD COLUMN region VARCHAR; UPDATE penalties SET region = '思明区';"
    folder = _migrations_with(tmp_path, {"0999_region.sql": sql})
    monkeypatch.setattr(store, "MIGRATIONS_DIR", folder)
    with store.connect(str(db)) as con:
        assert con.execute("SELECT doc_no, region FROM penalties").fetchall() == [("厦交罚〔2021〕1号", "思明区")]
    assert versions(db)[-1] == 999
    with store.connect(str(db)):
        pass  # a second open applies nothing twice
    assert versions(db).count(999) == 1


def test_a_failing_migration_changes_nothing_and_is_not_recorded(tmp_path, monkeypatch):
    db = tmp_path / "old.duckdb"
    old_database(db)
    with store.connect(str(db)):
        pass
    before = versions(db)
    sql = "ALTER TABLE penalties ADD COLUMN region VARCHAR; SELECT * FROM no_such_table;"
    monkeypatch.setattr(store, "MIGRATIONS_DIR", _migrations_with(tmp_path, {"0999_broken.sql": sql}))
    with pytest.raises(duckdb.Error), store.connect(str(db)):
        pass
    assert versions(db) == before
    columns = [
        c for (c,) in query(db, "SELECT column_name FROM information_schema.columns WHERE table_name = 'penalties'")
    ]
    assert "region" not in columns
    assert query(db, "SELECT count(*) FROM penalties") == [(1,)]


def test_work_points_are_seeded_from_the_shipped_csv(tmp_path):
    db = tmp_path / "credit.duckdb"
    with store.connect(str(db)):
        pass
    with open(store.WORK_POINTS_CSV, encoding="utf-8", newline="") as handle:
        shipped = list(csv.DictReader(handle))
    assert len(shipped) == 21
    stored = query(db, "SELECT id, section, section_title, title, lead_unit FROM work_points ORDER BY id")
    assert [r[0] for r in stored] == list(range(1, 22))
    assert {r[1] for r in stored} == {1, 2, 3, 4, 5}
    first = stored[0]
    assert first[1:] == (1, "推进信用制度落实", shipped[0]["标题"], shipped[0]["牵头单位"])
    for row, source in zip(stored, shipped, strict=True):
        assert row[3] == source["标题"].strip()
        assert not row[2].startswith(("一", "二", "三", "四", "五"))  # the 一、 numbering is split off
    with store.connect(str(db)):
        pass
    assert query(db, "SELECT count(*) FROM work_points") == [(21,)]  # seeded once, not again


def test_data_version_moves_with_every_upload(tmp_path):
    db = str(tmp_path / "credit.duckdb")
    with store.connect(db) as con:
        first = store.data_version(con)
    ingest.ingest_bytes(db, csv_bytes([PENALTY_HEADERS, penalty_row("D1")]), "x.csv")
    with store.connect(db) as con:
        second = store.data_version(con)
        assert not store.is_empty(con)
    ingest.ingest_bytes(db, b"junk", "x.csv")  # refused uploads are logged too
    with store.connect(db) as con:
        third = store.data_version(con)
    assert first != second != third


def test_threads_opening_a_new_database_together_migrate_it_once(tmp_path):
    # The dashboard's sessions are threads of one process: the first requests
    # after a start all open the fresh file at once.
    import threading

    path = str(tmp_path / "fresh.duckdb")
    errors = []

    def open_and_query():
        try:
            with store.connect(path) as con:
                con.execute("SELECT 1").fetchall()
        except Exception as exc:
            errors.append(repr(exc))

    threads = [threading.Thread(target=open_and_query) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with store.connect(path) as con:
        versions = [v for (v,) in con.execute("SELECT version FROM schema_version ORDER BY version").fetchall()]
        assert versions == [v for v, _ in store.migrations()]
        assert con.execute("SELECT count(*) FROM work_points").fetchall()[0][0] == 21


def test_migration_4_removes_format_characters_from_stored_names(tmp_path):
    """A database written before issue 23 kept a right-to-left override in a name; opening it cleans it."""
    import duckdb

    db = str(tmp_path / "old.duckdb")
    con = duckdb.connect(db)
    con.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TIMESTAMP NOT NULL)")
    for version, path in store.migrations():
        if version < 4:
            con.execute(path.read_text(encoding="utf-8"))
            con.execute("INSERT INTO schema_version VALUES (?, now())", [version])
    con.execute(
        "INSERT INTO entities (credit_code, name, sector, district, established) VALUES (?, ?, '出租汽车', '思明区', DATE '2020-01-01')",
        ["91350203MA0000001A", "厦门甲公司\u202egpj.exe"],
    )
    con.close()
    with store.connect(db) as con:
        assert con.execute("SELECT name FROM entities").fetchall() == [("厦门甲公司gpj.exe",)]
