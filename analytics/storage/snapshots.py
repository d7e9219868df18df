"""Pages keep answering while another process writes: a published snapshot, and who is writing.

DuckDB locks a database file per process: while a command-line load, undo, backup or restore holds
``<db>``, no other process can open it, not even to read. So every writer, right after its COMMIT and
while it still holds the file, publishes a copy of the committed file as a read-only snapshot:

    CHECKPOINT (the WAL into the file) → copy the file to ``<db>.snapshots/.<n>.duckdb.partial`` →
    check the copy (it opens, and holds the data version just committed) → rename it to ``<n>.duckdb`` →
    write ``current.json`` naming it (temp file + rename) → delete the older snapshots.

``n`` is a nanosecond timestamp: a name is never reused, so DuckDB's in-process instance cache (keyed by
path) never hands out a stale database. An older snapshot a reader still has open stays readable after
it is deleted (POSIX unlink); a reader that read the pointer just before the swap retries.

Readers (dashboard/data.py) read the live file when no writer is at work, as before, and the newest
snapshot when one is, or when the file is held by another process: never waiting on the lock. Why not
"stage outside the lock and hold it only for the final merge": the merge of a large file (the upsert
into keyed tables and its commit) still holds the lock for seconds, the pages would still wait for it,
and the staging would have to move out of ingest's one transaction; a snapshot makes reads independent
of any writer at the cost of one file copy per commit (about 1.3 s for a 466 MB file on a 2-core VM).

A writer announces itself first (``announce``), before it waits for the lock: a small JSON file in
``<db>.writers/`` (what, who, since, pid), locked with flock(2) for as long as the writer lives. The lock
dies with the process, so a crashed writer's file is recognised as stale (unlocked) and removed: the
"数据更新中" banner never outlives its writer. Every file here is private (0600, folders 0700).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from analytics.storage import store

log = logging.getLogger(__name__)

POINTER = "current.json"
# DuckDB's main header and its two database headers (4 KiB each): a checkpoint rewrites them last.
_HEADER_BYTES = 3 * 4096
_COPY_ATTEMPTS = 3


@dataclass(frozen=True)
class Writer:
    """A process (or thread) at work on the database, as the banner shows it."""

    what: str  # 导入 行政处罚（双公示）, 撤销上传 #3, 备份, 恢复备份
    user: str | None
    since: datetime
    pid: int


@dataclass(frozen=True)
class Snapshot:
    path: Path
    data_version: tuple
    published_at: datetime


def snapshot_dir(db: str) -> Path:
    return Path(f"{db}.snapshots")


def writers_dir(db: str) -> Path:
    return Path(f"{db}.writers")


def _private_dir(path: Path) -> None:
    store.keep_private()
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o077:
        os.chmod(path, 0o700)


# --- who is writing --------------------------------------------------------------------------------


@contextlib.contextmanager
def announce(db: str, what: str, user=None) -> Iterator[None]:
    """Mark ``db`` as being written for as long as the block runs (and not a moment after the process dies)."""
    folder = writers_dir(db)
    _private_dir(folder)
    name = f"{os.getpid()}-{threading.get_ident()}-{time.time_ns()}"
    partial, path = folder / f".{name}.partial", folder / f"{name}.json"
    fd = os.open(partial, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    try:
        # Locked before it gets its visible name: a visible file that is not locked is always stale.
        fcntl.flock(fd, fcntl.LOCK_EX)
        user_name = None if user is None else str(getattr(user, "name", user))
        state = {"what": what, "user": user_name, "since": datetime.now().isoformat(), "pid": os.getpid()}
        os.write(fd, json.dumps(state, ensure_ascii=False).encode("utf-8"))
        os.replace(partial, path)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
        raise
    try:
        yield
    finally:
        # Removed before the lock goes (with the descriptor), so no reader ever sees it unlocked and alive.
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        os.close(fd)


def writers(db: str) -> list[Writer]:
    """The writers at work on ``db``, oldest first; files left by dead ones are removed on the way."""
    folder = writers_dir(db)
    try:
        entries = sorted(folder.glob("*.json"))
    except OSError:
        return []
    found = []
    for path in entries:
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            continue  # its writer has just finished
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:  # held: its writer is alive
                with contextlib.suppress(ValueError, KeyError, OSError):
                    state = json.loads(os.read(fd, 65536).decode("utf-8"))
                    found.append(
                        Writer(state["what"], state.get("user"), datetime.fromisoformat(state["since"]), state["pid"])
                    )
                continue
            # Nobody holds it: its writer died without removing it (a crash, a kill -9).
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        finally:
            os.close(fd)
    return sorted(found, key=lambda w: w.since)


# --- publishing ------------------------------------------------------------------------------------


def current(db: str) -> Snapshot | None:
    """The newest snapshot of ``db`` that readers may use: of this very file (not one it replaced) and of
    the schema this code expects; None when there is none."""
    try:
        pointer = json.loads((snapshot_dir(db) / POINTER).read_text(encoding="utf-8"))
        if pointer["ino"] != os.stat(db).st_ino or pointer["schema"] != store.latest_version():
            return None
        path = snapshot_dir(db) / pointer["file"]
        if not path.exists():
            return None
        return Snapshot(path, tuple(pointer["data_version"]), datetime.fromisoformat(pointer["published_at"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def ensure(con: duckdb.DuckDBPyConnection, db: str) -> None:
    """Before a writer changes anything: publish the committed state if no snapshot holds it yet (a database
    made before snapshots existed, or a writer that died between its COMMIT and its publish)."""
    snap = current(db)
    if snap is None or snap.data_version != tuple(store.data_version(con)):
        publish(con, db)
    _pause_for_tests()


def _pause_for_tests() -> None:
    """Test-only hook: with CREDIT_TEST_PAUSE_IN_WRITE=PATH set, a writer holding the file (a load, undo,
    backup or restore, right after ``ensure``) creates PATH.paused, then waits (60 s at most) for PATH."""
    gate = os.environ.get("CREDIT_TEST_PAUSE_IN_WRITE")
    if not gate:
        return
    Path(gate + ".paused").touch()
    deadline = time.monotonic() + 60
    while not os.path.exists(gate):
        if time.monotonic() > deadline:
            raise TimeoutError(f"CREDIT_TEST_PAUSE_IN_WRITE: {gate} did not appear")
        time.sleep(0.01)


def publish(con: duckdb.DuckDBPyConnection, db: str) -> Snapshot | None:
    """Publish what ``con`` (the writer's connection, just after COMMIT, still holding the file) has
    committed. Never raises: the data is committed whatever happens here; a failure is logged and the
    next writer publishes again (``ensure``)."""
    try:
        return _publish(con, db)
    except Exception:
        log.exception("publishing a snapshot of %s failed", db)
        return None


def _header(db: str) -> bytes:
    with open(db, "rb") as f:
        return f.read(_HEADER_BYTES)


def _publish(con: duckdb.DuckDBPyConnection, db: str) -> Snapshot:
    folder = snapshot_dir(db)
    _private_dir(folder)
    version = tuple(store.data_version(con))
    name = f"{time.time_ns()}.duckdb"
    partial = folder / f".{name}.partial"
    try:
        for attempt in range(_COPY_ATTEMPTS):
            con.execute("CHECKPOINT")
            before = _header(db)
            shutil.copyfile(db, partial)
            # Another thread of this process may have committed meanwhile (an audit record); only a
            # checkpoint rewrites the file's headers, and a copy is whole when they did not move during it.
            if _header(db) == before and _holds(partial, version):
                break
            log.warning("snapshot copy of %s changed while copied (attempt %d)", db, attempt + 1)
        else:
            raise RuntimeError(f"no consistent copy of {db} after {_COPY_ATTEMPTS} attempts")
        os.chmod(partial, 0o600)
        os.replace(partial, folder / name)
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    published = datetime.now()
    pointer = {
        "file": name,
        "data_version": list(version),
        "schema": store.latest_version(),
        "ino": os.stat(db).st_ino,
        "published_at": published.isoformat(),
    }
    tmp = folder / f".{POINTER}.{os.getpid()}.partial"
    tmp.write_text(json.dumps(pointer), encoding="utf-8")
    os.replace(tmp, folder / POINTER)
    _prune(folder, keep=name)
    return Snapshot(folder / name, version, published)


def _holds(path: Path, version: tuple) -> bool:
    """The copy opens and holds the data version the writer committed."""
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error:
        return False
    try:
        return tuple(store.data_version(con)) == version
    except duckdb.Error:
        return False
    finally:
        con.close()


def _prune(folder: Path, keep: str) -> None:
    """Delete every snapshot but the newest: a reader holding an older one open keeps reading it."""
    for path in folder.glob("*.duckdb*"):
        if path.name != keep:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()


# --- reading ---------------------------------------------------------------------------------------


@contextlib.contextmanager
def reading(db: str, wait_seconds: float) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection for a page: to the live file when nobody writes, else to the newest snapshot.

    Live reads keep today's behaviour (same-process uploads share one DuckDB instance, migrations run on
    open). When a writer has announced itself, or another process holds the file, the snapshot is read
    at once instead of waiting; with no usable snapshot (none published yet) the read waits as before.
    """
    con = _open_snapshot(db) if writers(db) else None
    if con is None:
        live = contextlib.ExitStack()
        try:
            wait = 0.0 if current(db) is not None else wait_seconds
            con = live.enter_context(store.connect(db, wait_seconds=wait))
        except store.StoreBusy:
            con = _open_snapshot(db)
            if con is None:
                raise
        else:
            with live:
                yield con
            return
    try:
        yield con
    finally:
        con.close()


def _open_snapshot(db: str) -> duckdb.DuckDBPyConnection | None:
    for _ in range(3):  # a publish may delete the one just named: read the pointer again
        snap = current(db)
        if snap is None:
            return None
        try:
            return duckdb.connect(str(snap.path), read_only=True)
        except duckdb.Error:
            continue
    return None
