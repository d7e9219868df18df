"""A load, undo, backup or restore in another process never stops the pages (issue 12, item 5).

While the writer holds the database file, a page's read (dashboard.data.connect) answers from the last
published snapshot at once, the 数据更新中 banner names the writer, and the first read after the writer
is done sees the new data. A writer killed mid-load leaves the old snapshot served and no banner.

Steps are ordered by the writers' pause files, never by sleeping. "Without waiting" is shown without
timing anything: the reader's lock wait is set to 0 s, so a read that waited for the file would raise
StoreBusy instead of returning figures.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from analytics.intake import ingest
from analytics.storage import backup, snapshots, store
from dashboard import auth, data, updating
from dashboard.nav import PAGES
from tests.test_concurrency import entity_csv, wait_for

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
TIMEOUT = 60
DEMO_PAGES = [key for key, p in PAGES.items() if auth.allowed(auth.DEMO_USER, p.permission)]


class Cli:
    """``python -m analytics ARGS`` in its own process, paused inside its write (see the pause hooks)."""

    def __init__(self, db: str, gate: Path, *args: str, hook: str = "CREDIT_TEST_PAUSE_IN_LOAD"):
        self.gate = gate
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "analytics", *args, "--db", db],
            cwd=ROOT,
            env={**os.environ, hook: str(gate)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def wait_paused(self) -> None:
        wait_for(Path(f"{self.gate}.paused"), self)

    def finish(self) -> str:
        self.gate.touch()
        out, err = self.proc.communicate(timeout=TIMEOUT)
        assert self.proc.returncode == 0, err
        return out

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.communicate(timeout=TIMEOUT)


@pytest.fixture
def no_wait(monkeypatch):
    """Readers of this process give up at once on a held file: a read that waited would fail."""
    monkeypatch.setenv("CREDIT_LOCK_WAIT_SECONDS", "0")


@pytest.fixture
def db(tmp_path) -> str:
    path = str(tmp_path / "credit.duckdb")
    assert ingest.ingest_paths(path, [entity_csv(tmp_path / "base.csv", 0, 3)], user="王五")[0].loaded == 3
    return path


@pytest.fixture
def clis():
    started: list[Cli] = []
    yield started
    for cli in started:
        cli.kill()


def page_figures(db: str) -> tuple[int, int]:
    """What a page would read: (entities, uploads), through the dashboard's own connection."""
    with data.connect(db) as con:
        return tuple(con.execute("SELECT (SELECT count(*) FROM entities), (SELECT count(*) FROM uploads)").fetchone())


def file_is_held(db: str) -> bool:
    try:
        with store.connect(db, wait_seconds=0):
            return False
    except store.StoreBusy:
        return True


def test_a_page_read_during_a_cli_load_returns_the_last_commit_at_once_then_the_new_data(db, tmp_path, clis, no_wait):
    big = entity_csv(tmp_path / "big.csv", 100, 20_000)
    load = Cli(db, tmp_path / "gate", "ingest", str(big), "--user", "张三")
    clis.append(load)
    load.wait_paused()  # all 20,000 rows upserted, upload and audit written, not committed; the file held

    assert file_is_held(db)  # a live read would have to wait: this one did not
    assert page_figures(db) == (3, 1)
    [writer] = data.writers(db)
    assert (writer.what, writer.user, writer.pid) == ("导入 市场主体名录", "张三", load.proc.pid)
    assert writer.since.date() == date.today()
    ver_during = data.version(db)

    load.finish()
    assert page_figures(db) == (20_003, 2)  # the first read after the commit
    assert data.writers(db) == []
    assert data.version(db) != ver_during
    assert snapshots.current(db).data_version == (2, 0)


def test_a_load_killed_mid_transaction_leaves_the_old_snapshot_served_and_no_banner(db, tmp_path, clis, no_wait):
    before = snapshots.current(db)
    load = Cli(db, tmp_path / "gate", "ingest", str(entity_csv(tmp_path / "big.csv", 100, 5_000)))
    clis.append(load)
    load.wait_paused()
    assert len(data.writers(db)) == 1
    assert page_figures(db) == (3, 1)

    load.proc.send_signal(signal.SIGKILL)
    assert load.proc.wait(TIMEOUT) == -signal.SIGKILL

    # Its state file is still there, but nobody holds its lock: no banner, and the file is cleared away.
    assert len(list(snapshots.writers_dir(db).glob("*.json"))) == 1
    assert data.writers(db) == []
    assert list(snapshots.writers_dir(db).glob("*.json")) == []
    assert snapshots.current(db) == before
    assert page_figures(db) == (3, 1)
    # The next load goes through as usual and publishes.
    assert ingest.ingest_paths(db, [tmp_path / "big.csv"])[0].loaded == 5_000
    assert page_figures(db) == (5_003, 2)
    assert snapshots.current(db).data_version == (2, 0)


def test_undo_backup_and_restore_in_another_process_never_stop_a_read(db, tmp_path, clis, no_wait):
    ingest.ingest_paths(db, [entity_csv(tmp_path / "more.csv", 100, 50)])
    saved = backup.backup(db, tmp_path / "saved.duckdb")  # 53 entities, uploads 1 and 2
    hook = "CREDIT_TEST_PAUSE_IN_WRITE"

    undo = Cli(db, tmp_path / "gate-undo", "undo", "2", "--user", "管理员", hook=hook)
    clis.append(undo)
    undo.wait_paused()
    assert file_is_held(db)
    assert page_figures(db) == (53, 2)
    assert [(w.what, w.user) for w in data.writers(db)] == [("撤销上传 #2", "管理员")]
    undo.finish()
    assert page_figures(db) == (3, 2)

    copy = Cli(db, tmp_path / "gate-backup", "backup", str(tmp_path / "again.duckdb"), hook=hook)
    clis.append(copy)
    copy.wait_paused()
    assert file_is_held(db)
    assert page_figures(db) == (3, 2)
    assert [w.what for w in data.writers(db)] == ["备份"]
    copy.finish()
    assert (tmp_path / "again.duckdb").is_file()

    back = Cli(db, tmp_path / "gate-restore", "restore", saved, hook=hook)
    clis.append(back)
    back.wait_paused()
    assert file_is_held(db)
    assert page_figures(db) == (3, 2)
    assert [w.what for w in data.writers(db)] == ["恢复备份"]
    back.finish()
    assert page_figures(db)[0] == 53
    assert data.writers(db) == []


def test_a_database_without_a_snapshot_gets_one_before_its_first_write(tmp_path, clis, no_wait):
    db = str(tmp_path / "old.duckdb")
    with store.connect(db) as con:  # as an earlier version left it: data, no snapshot
        con.execute(
            "INSERT INTO entities (credit_code, name, sector, district, established)"
            " VALUES ('91350203MA0000001A', 'x', 'y', 'z', DATE '2010-01-01')"
        )
    assert snapshots.current(db) is None
    load = Cli(db, tmp_path / "gate", "ingest", str(entity_csv(tmp_path / "a.csv", 100, 10)))
    clis.append(load)
    load.wait_paused()
    assert page_figures(db) == (1, 0)  # published by the load before it began
    load.finish()
    assert page_figures(db) == (11, 1)


def test_a_snapshot_of_a_replaced_file_or_an_older_schema_is_never_read(db, tmp_path):
    snap = snapshots.current(db)
    assert snap is not None
    pointer = snapshots.snapshot_dir(db) / snapshots.POINTER
    text = pointer.read_text()
    pointer.write_text(text.replace(f'"schema": {store.latest_version()}', '"schema": 1'))
    assert snapshots.current(db) is None
    pointer.write_text(text)
    os.replace(db, db + ".moved")  # a rebuilt file at the same path is another file
    store.connect(db).__enter__().close()
    assert snapshots.current(db) is None


def test_only_the_newest_snapshot_is_kept_and_every_file_is_private(db, tmp_path):
    ingest.ingest_paths(db, [entity_csv(tmp_path / "more.csv", 100, 5)])
    folder = snapshots.snapshot_dir(db)
    assert sorted(p.name for p in folder.iterdir()) == sorted([snapshots.POINTER, snapshots.current(db).path.name])
    for d in (folder, snapshots.writers_dir(db)):
        assert stat.S_IMODE(d.stat().st_mode) == 0o700
    for f in folder.iterdir():
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f
    with snapshots.announce(db, "导入 行政处罚（双公示）", "张三"):
        [state] = snapshots.writers_dir(db).glob("*.json")
        assert stat.S_IMODE(state.stat().st_mode) == 0o600


def test_an_open_snapshot_stays_readable_after_a_newer_one_replaces_it(db, tmp_path):
    with snapshots.announce(db, "导入", None), data.connect(db) as old:
        ingest.ingest_paths(db, [entity_csv(tmp_path / "more.csv", 100, 5)])  # publishes, deletes the old file
        assert old.execute("SELECT count(*) FROM entities").fetchone()[0] == 3
        assert page_figures(db) == (8, 2)  # a new read, during a writer: the new snapshot


def test_the_banner_names_what_who_and_since_when_as_text(db):
    with snapshots.announce(db, "导入 行政处罚（双公示）", "*李四*[x](y)"):
        [line] = updating.lines(db)
    assert line.startswith(r"导入 行政处罚（双公示）（\*李四\*\[x\]\(y\)，自 ")
    assert updating.lines(db) == []
    with snapshots.announce(db, "备份", None):
        [writer] = data.writers(db)
        when = f"{writer.since:%Y-%m-%d %H:%M:%S}"
        assert updating.lines(db, today=date(2000, 1, 1)) == [f"备份（未注明操作人，自 {when} 起）"]
    assert isinstance(writer.since, datetime)


def test_every_page_shows_the_banner_while_a_writer_is_at_work(db, monkeypatch):
    monkeypatch.setenv("CREDIT_DB", db)
    with snapshots.announce(db, "导入 行政处罚（双公示）", "张三"):
        at = AppTest.from_file(APP, default_timeout=120)
        at.run()
        assert not at.exception
        assert any("数据更新中" in i.value and "张三" in i.value for i in at.info)
        for key in DEMO_PAGES:
            page = PAGES[key].path
            at.switch_page(page).run()
            assert not at.exception, page
            assert any("数据更新中" in i.value for i in at.info), page
    at.run()
    assert not any("数据更新中" in i.value for i in at.info)
