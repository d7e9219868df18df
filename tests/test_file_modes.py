"""Files that hold the data are their owner's only: 0600 files, 0700 folders, whatever the umask (issue 23)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from analytics.storage import store

ROOT = Path(__file__).resolve().parents[1]


def cli(*args: str) -> subprocess.CompletedProcess:
    """``python -m analytics ARGS`` started with the usual, permissive umask 022."""
    return subprocess.run(
        [sys.executable, "-m", "analytics", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        preexec_fn=lambda: os.umask(0o022),
        check=True,
    )


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_demo_ingest_backup_and_restore_write_owner_only_files(tmp_path):
    data = tmp_path / "data"
    db = data / "credit.duckdb"
    exports = tmp_path / "exports"
    cli("demo", "--db", str(db), "--out", str(exports))
    assert mode(db) == 0o600 and mode(data) == 0o700
    assert {mode(p) for p in exports.rglob("*") if p.is_file()} == {0o600}

    export = next(p for p in exports.rglob("*.csv"))
    ingested = tmp_path / "ingested" / "other.duckdb"
    cli("ingest", str(export), "--db", str(ingested))
    assert mode(ingested) == 0o600 and mode(ingested.parent) == 0o700

    backups = tmp_path / "backups"
    cli("backup", f"{backups}/", "--db", str(db))
    [copy] = list(backups.glob("*.duckdb"))
    assert mode(copy) == 0o600 and mode(backups) == 0o700

    cli("restore", str(copy), "--db", str(db))
    kept = list(data.glob("credit.duckdb.before-restore*"))
    assert kept and {mode(p) for p in kept} == {0o600}
    assert mode(db) == 0o600


def test_an_older_world_readable_database_is_made_private_when_opened(tmp_path):
    db = tmp_path / "old.duckdb"
    with store.connect(str(db)):
        pass
    os.chmod(db, 0o644)
    with store.connect(str(db), read_only=True):
        pass
    assert mode(db) == 0o600
