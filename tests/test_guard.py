"""A page over a busy store says so in one Chinese line: no traceback, no path, no PID."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from streamlit.testing.v1 import AppTest

from analytics.storage import store
from dashboard import guard

APP = str(Path(__file__).resolve().parent.parent / "app.py")
# Holds the database's file lock until its standard input closes; says "ready" once it holds it.
HOLDER = "import duckdb, sys; con = duckdb.connect(sys.argv[1]); print('ready', flush=True); sys.stdin.read()"


def test_a_busy_store_shows_one_chinese_line_and_no_details(tmp_path, monkeypatch):
    db = str(tmp_path / "busy.duckdb")
    with store.connect(db):
        pass
    monkeypatch.setenv("CREDIT_DB", db)
    monkeypatch.setenv("CREDIT_LOCK_WAIT_SECONDS", "0.2")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, db], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        at = AppTest.from_file(APP, default_timeout=60).run()
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    assert not at.exception
    assert [e.value for e in at.error] == [guard.BUSY]
    shown = " ".join(str(m.value) for m in [*at.markdown, *at.error, *at.warning, *at.caption])
    assert db not in shown and "Traceback" not in shown and str(holder.pid) not in shown


def test_the_message_says_whether_to_wait_or_to_ask():
    assert guard.user_message(store.StoreBusy("数据库正被其他进程使用：/srv/credit.duckdb")) == guard.BUSY
    assert guard.user_message(ValueError("/usr/lib/python3.11/site-packages/x.py")) == guard.FAILED
