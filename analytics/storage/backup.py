"""Backing up the store while the app runs, and restoring a backup.

A backup is a complete DuckDB file written by ``COPY FROM DATABASE`` from a
read-only connection: it is consistent (one snapshot) and other readers keep
reading meanwhile; a running writer is waited for like any other.

Restoring takes the write lock like a loader (a running load finishes first, a
later one waits), saves the current contents to ``<db>.before-restore`` (a new
name if that exists), then replaces every table's rows with the backup's in
one transaction. The file stays in place, so no process ever opens a
half-restored database. The logs are the exception to "as in the backup":
audit records written after the backup was taken are carried over, and so are
the uploads made since, marked undone (their data is gone with the restore),
so a restore never erases who did what and never reuses an upload id. The
restore itself is recorded.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from analytics.settings import load_settings
from analytics.storage import audit, snapshots, store

# Tables a restore leaves alone: the schema history belongs to the file itself.
_KEEP = {"schema_version"}


class BackupError(RuntimeError):
    """A backup or restore that cannot be done; the message is shown as is."""


@dataclass
class RestoreResult:
    source: str
    previous: str  # where the contents before the restore were saved
    rows: dict[str, int] = field(default_factory=dict)  # restored rows per table
    carried_uploads: int = 0  # uploads made after the backup, kept in the log as undone
    carried_audit: int = 0  # audit records newer than the backup, kept


def backup(db_path: str, dest: str | os.PathLike, user=None) -> str:
    """Write a consistent copy of ``db_path`` to ``dest`` (a new file, or a folder to put one in)."""
    if not Path(db_path).is_file():
        raise BackupError(f"数据库不存在：{db_path}")
    target = Path(dest)
    if target.is_dir() or str(dest).endswith(("/", os.sep)):
        # A trailing slash names a folder even before it exists: never a file called "backups".
        target.mkdir(parents=True, exist_ok=True)
        target = target / f"{Path(db_path).stem}-{datetime.now():%Y%m%d-%H%M%S}.duckdb"
    if target.exists():
        raise BackupError(f"备份文件已存在：{target}（请换一个文件名）")
    if not target.parent.is_dir():
        raise BackupError(f"备份目录不存在：{target.parent}")
    partial = target.with_name(f".{target.name}.partial")
    _remove(partial)
    settings = load_settings()
    with snapshots.announce(db_path, "备份", user):
        # The read-only copy below keeps the app's live reads out: they read this snapshot meanwhile.
        with store.connect(db_path, wait_seconds=settings.lock_wait_seconds) as con:
            snapshots.ensure(con, db_path)
        try:
            with _reading(db_path, settings.lock_wait_seconds) as con:
                _copy_database(con, partial, "backup_target", read_write=True)
            os.replace(partial, target)
        finally:
            _remove(partial)
        size = target.stat().st_size
        with store.connect(db_path, wait_seconds=settings.lock_wait_seconds) as con:
            audit.record(con, user, "backup", {"dest": str(target.resolve()), "bytes": size})
    return str(target)


@contextlib.contextmanager
def _reading(db_path: str, wait_seconds: float):
    """A read-only connection, or a writable one when this process holds the file open for writing
    (DuckDB refuses two configurations of one file in one process)."""
    try:
        cm = store.connect(db_path, read_only=True, wait_seconds=wait_seconds)
        con = cm.__enter__()
    except duckdb.ConnectionException:
        cm = store.connect(db_path, wait_seconds=wait_seconds)
        con = cm.__enter__()
    try:
        yield con
    finally:
        cm.__exit__(None, None, None)


def restore(db_path: str, src: str | os.PathLike, user=None) -> RestoreResult:
    """Replace the contents of ``db_path`` with the backup ``src``; the old contents are kept beside it."""
    source = Path(src)
    if not source.is_file():
        raise BackupError(f"备份文件不存在：{source}")
    if Path(db_path).exists() and source.resolve() == Path(db_path).resolve():
        raise BackupError("备份文件就是当前数据库，无需恢复")
    Path(db_path).parent.mkdir(parents=True, exist_ok=True)
    staged = Path(db_path).with_name(f".{Path(db_path).name}.restore-{os.getpid()}")
    settings = load_settings()
    try:
        with snapshots.announce(db_path, "恢复备份", user):
            _stage(source, staged)
            with store.write_lock, store.connect(db_path, wait_seconds=settings.lock_wait_seconds) as con:
                snapshots.ensure(con, db_path)
                previous = _save_previous(con, db_path)
                con.execute("ATTACH ? AS restore_source (READ_ONLY)", [str(staged)])
                try:
                    result = _replace_contents(con, source, previous, user)
                finally:
                    con.execute("DETACH restore_source")
                con.execute("CHECKPOINT")
                snapshots.publish(con, db_path)
    finally:
        _remove(staged)
    return result


def _stage(source: Path, staged: Path) -> None:
    """A private copy of the backup, checked and migrated to this version's schema."""
    _remove(staged)
    shutil.copyfile(source, staged)
    if Path(str(source) + ".wal").exists():
        shutil.copyfile(str(source) + ".wal", str(staged) + ".wal")
    try:
        con = duckdb.connect(str(staged))
    except duckdb.Error:
        raise BackupError(f"不是有效的 DuckDB 数据库文件：{source}") from None
    try:
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        if not {"schema_version", "uploads", "audit_log"} <= tables:
            raise BackupError(f"不是本系统的数据库备份：{source}")
        version = con.execute("SELECT max(version) FROM schema_version").fetchall()[0][0] or 0
        if version > store.latest_version():
            raise BackupError(f"备份来自更新版本的程序（数据结构版本 {version}），当前程序无法恢复：{source}")
        store.migrate(con)
        con.execute("CHECKPOINT")
    finally:
        con.close()


def _save_previous(con, db_path: str) -> str:
    previous = Path(db_path + ".before-restore")
    if previous.exists() or Path(str(previous) + ".wal").exists():
        previous = Path(f"{db_path}.before-restore-{datetime.now():%Y%m%d-%H%M%S-%f}")
    _copy_database(con, previous, "before_restore")
    return str(previous)


def _copy_database(con, target: Path, alias: str, read_write: bool = False) -> None:
    """Every table of ``con``'s database into a new database file at ``target``."""
    source = _ident(con.execute("SELECT current_database()").fetchall()[0][0])
    con.execute(f"ATTACH ? AS {alias}{' (READ_WRITE)' if read_write else ''}", [str(target)])
    try:
        con.execute(f"COPY FROM DATABASE {source} TO {alias}")
    finally:
        con.execute(f"DETACH {alias}")


def _tables(con, catalog: str) -> dict[str, list[str]]:
    rows = con.execute(
        "SELECT c.table_name, c.column_name FROM information_schema.columns c"
        " JOIN information_schema.tables t USING (table_catalog, table_schema, table_name)"
        " WHERE c.table_catalog = ? AND c.table_schema = 'main' AND t.table_type = 'BASE TABLE'"
        " ORDER BY c.table_name, c.ordinal_position",
        [catalog],
    ).fetchall()
    tables: dict[str, list[str]] = {}
    for table, column in rows:
        tables.setdefault(table, []).append(column)
    return tables


def _replace_contents(con, source: Path, previous: str, user) -> RestoreResult:
    main = con.execute("SELECT current_database()").fetchall()[0][0]
    ours, theirs = _tables(con, main), _tables(con, "restore_source")
    if ours != theirs:
        raise BackupError(f"备份的数据结构与当前数据库不一致，无法恢复：{source}")
    result = RestoreResult(str(source), previous)
    con.execute("BEGIN TRANSACTION")
    try:
        # Audit records the backup does not hold: written after it was taken.
        carried = con.execute(
            "SELECT logged_at, user_name, action, CAST(detail AS VARCHAR) FROM audit_log o WHERE NOT EXISTS ("
            " SELECT 1 FROM restore_source.main.audit_log b WHERE b.logged_at = o.logged_at"
            " AND b.action = o.action AND b.user_name IS NOT DISTINCT FROM o.user_name"
            " AND CAST(b.detail AS VARCHAR) IS NOT DISTINCT FROM CAST(o.detail AS VARCHAR)) ORDER BY id"
        ).fetchall()
        # Uploads made after the backup stay in the log, undone by this restore: their ids are never
        # reused, so audit records naming them stay unambiguous and the data version never goes back.
        con.execute(
            "CREATE TEMP TABLE carried_uploads AS SELECT * FROM main.uploads"
            " WHERE id > (SELECT coalesce(max(id), 0) FROM restore_source.main.uploads)"
        )
        for table, columns in ours.items():
            if table in _KEEP:
                continue
            quoted = ", ".join(_ident(c) for c in columns)
            con.execute(f"DELETE FROM main.{_ident(table)}")
            result.rows[table] = con.execute(
                f"INSERT INTO main.{_ident(table)} ({quoted}) SELECT {quoted} FROM restore_source.main.{_ident(table)}"
            ).fetchall()[0][0]
        result.carried_uploads = con.execute(
            "INSERT INTO main.uploads SELECT * REPLACE ("
            " CASE WHEN status = 'loaded' THEN 'undone' ELSE status END AS status,"
            " CASE WHEN status = 'loaded' THEN ? ELSE undone_at END AS undone_at,"
            " CASE WHEN status = 'loaded' THEN ? ELSE undone_by END AS undone_by)"
            " FROM carried_uploads",
            [datetime.now(), audit.user_name(user)],
        ).fetchall()[0][0]
        con.execute("DROP TABLE carried_uploads")
        # New audit ids must follow every id the table now holds (a backup from another machine may hold more).
        gap = con.execute(
            f"SELECT (SELECT coalesce(max(id), 0) FROM audit_log) - nextval('{audit.SEQUENCE}')"
        ).fetchall()[0][0]
        if gap > 0:
            con.execute(f"SELECT max(nextval('{audit.SEQUENCE}')) FROM range(?)", [gap])
        if carried:
            con.executemany(
                f"INSERT INTO audit_log VALUES (nextval('{audit.SEQUENCE}'), ?, ?, ?, ?)", [list(r) for r in carried]
            )
        result.carried_audit = len(carried)
        audit.record(
            con,
            user,
            "restore",
            {
                "source": str(source.resolve()),
                "previous": previous,
                "carried_uploads": result.carried_uploads,
                "carried_audit": result.carried_audit,
            },
        )
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return result


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _remove(path: Path) -> None:
    for p in (path, Path(str(path) + ".wal")):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()
