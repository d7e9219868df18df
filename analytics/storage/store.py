"""The DuckDB file: opening it, versioned migrations, and its data version.

Connections are short-lived on purpose: DuckDB lets one process at a time
open a file for writing, so the dashboard and a command-line load in another
process take turns instead of locking each other out for good.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import duckdb

from analytics.settings import PROJECT_ROOT

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
WORK_POINTS_CSV = PROJECT_ROOT / "data" / "work_points.csv"


_migrate_lock = threading.Lock()
# One writer at a time inside this process (loads, undo, restore); other processes wait on DuckDB's file lock.
write_lock = threading.Lock()


class StoreBusy(RuntimeError):
    """Another process holds the database for longer than we may wait."""


# Files the app writes hold unmasked credit codes and ID-bearing records: its owner reads them, nobody else.
PRIVATE_UMASK = 0o077


def keep_private() -> None:
    """Every file this process creates from now on is 0600 and every folder 0700, whatever the umask it was
    started with (a stricter one is kept). Called by the CLI, the app and every connection."""
    os.umask(os.umask(PRIVATE_UMASK) | PRIVATE_UMASK)


def make_private(path: str | os.PathLike) -> None:
    """An existing file (a database made by an older version, its WAL) readable by its owner only."""
    for p in (Path(path), Path(f"{path}.wal")):
        with contextlib.suppress(FileNotFoundError):
            mode = p.stat().st_mode & 0o777
            if mode & 0o077:
                os.chmod(p, mode & 0o700)


def migrations() -> list[tuple[int, Path]]:
    """(version, file) for every migration, in order: NNNN_name.sql."""
    found = sorted((int(p.name.split("_", 1)[0]), p) for p in MIGRATIONS_DIR.glob("*.sql"))
    return found


def latest_version() -> int:
    return migrations()[-1][0]


def _open(path: str, read_only: bool, wait_seconds: float) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + wait_seconds
    delay = 0.05
    while True:
        try:
            return duckdb.connect(path, read_only=read_only)
        except duckdb.IOException as exc:
            # Another process holds the file lock: wait our turn.
            if "lock" not in str(exc).lower() or time.monotonic() >= deadline:
                if "lock" in str(exc).lower():
                    raise StoreBusy(f"数据库正被其他进程使用，等待 {wait_seconds:.0f} 秒后仍未释放：{path}") from exc
                raise
            time.sleep(delay)
            delay = min(delay * 2, 1.0)


def migrate(con: duckdb.DuckDBPyConnection) -> int:
    """Apply the migrations the file has not seen yet; never drop data."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TIMESTAMP NOT NULL)"
    )
    current = con.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchall()[0][0]
    for version, path in migrations():
        if version <= current:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(path.read_text(encoding="utf-8"))
            con.execute("INSERT INTO schema_version VALUES (?, ?)", [version, datetime.now()])
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        current = version
    _seed_work_points(con)
    return current


def _seed_work_points(con: duckdb.DuckDBPyConnection) -> None:
    """The 21 work points ship with the code (data/work_points.csv), not as an upload."""
    if con.execute("SELECT count(*) FROM work_points").fetchall()[0][0] or not WORK_POINTS_CSV.exists():
        return
    import pandas as pd

    from analytics.normalize import chinese_number, clean_text

    frame = pd.read_csv(WORK_POINTS_CSV, dtype=str, keep_default_na=False)
    section_number, _, section_title = (frame["部分"].str.partition("、")[i] for i in (0, 1, 2))
    seeded = pd.DataFrame(
        {
            "id": frame["编号"].astype(int),
            "section": section_number.map(chinese_number),
            "section_title": section_title.map(clean_text),
            "title": frame["标题"].map(clean_text),
            "content": frame["内容"].map(clean_text),
            "lead_unit": frame["牵头单位"].map(clean_text),
            "responsible_units": frame["责任单位"].map(clean_text),
        }
    )
    con.register("seeded_work_points", seeded)
    con.execute(
        "INSERT INTO work_points (id, section, section_title, title, content, lead_unit, responsible_units)"
        " SELECT * FROM seeded_work_points"
    )
    con.unregister("seeded_work_points")


@contextlib.contextmanager
def connect(path: str, read_only: bool = False, wait_seconds: float = 60.0) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to the store at ``path``, migrated to the latest schema.

    Read-only opens of a file that does not exist or is not yet migrated
    fall back to a writable open once, to create and upgrade it.
    """
    keep_private()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    if read_only and not _is_current(path, wait_seconds):
        read_only = False
    con = _open(path, read_only, wait_seconds)
    make_private(path)
    try:
        if not read_only:
            # Threads of one process share the database instance: migrate one at a time.
            with _migrate_lock:
                migrate(con)
        yield con
    finally:
        con.close()


def _is_current(path: str, wait_seconds: float) -> bool:
    if not Path(path).exists():
        return False
    con = _open(path, True, wait_seconds)
    try:
        rows = con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'"
        ).fetchall()
        if rows[0][0] == 0:
            return False
        if con.execute("SELECT max(version) FROM schema_version").fetchall()[0][0] != latest_version():
            return False
        return con.execute("SELECT count(*) FROM work_points").fetchall()[0][0] > 0 or not WORK_POINTS_CSV.exists()
    finally:
        con.close()


def data_version(con: duckdb.DuckDBPyConnection) -> tuple:
    """Changes whenever data changes: used as the dashboard's cache key."""
    return tuple(
        con.execute("SELECT coalesce(max(id), 0), count(*) FILTER (WHERE status = 'undone') FROM uploads").fetchall()[0]
    )


def is_empty(con: duckdb.DuckDBPyConnection) -> bool:
    """True when no data set holds a row (work points excluded: they ship with the code)."""
    tables = ("progress", "entities", "severe_list", "penalties", "licenses", "objections")
    sql = " UNION ALL ".join(f"SELECT count(*) FROM {t}" for t in tables)
    return sum(r[0] for r in con.execute(sql).fetchall()) == 0
