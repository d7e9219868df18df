"""Real processes on one database file: loaders take turns, a killed load leaves no trace,
and a reader never sees half a load. Steps are ordered by pipes and files, never by sleeping."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from analytics import normalize
from analytics.intake import ingest
from analytics.storage import store

ROOT = Path(__file__).resolve().parent.parent
TABLES = ("entities", "penalties", "uploads", "replaced_rows", "audit_log")
TIMEOUT = 60

# A process that imports everything, says "ready", waits for "go" on stdin, then does one thing.
WORKER = r"""
import json, sys
from analytics.intake import ingest
from analytics.storage import store
from analytics.settings import load_settings

mode, db, *files = sys.argv[1:]
print("ready", flush=True)
if sys.stdin.readline().strip() != "go":
    sys.exit(3)
if mode == "load":
    results = ingest.ingest_paths(db, files)
    print(json.dumps([r.to_dict() | {"upload_id": r.upload_id} for r in results], ensure_ascii=False), flush=True)
else:
    try:
        with store.connect(db, read_only=True, wait_seconds=load_settings().lock_wait_seconds) as con:
            counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("entities", "uploads")}
        print(json.dumps(counts), flush=True)
    except store.StoreBusy as exc:
        print(json.dumps({"busy": str(exc)}, ensure_ascii=False), flush=True)
"""


class Worker:
    def __init__(self, *args: str, env: dict | None = None):
        self.proc = subprocess.Popen(
            [sys.executable, "-c", WORKER, *args],
            cwd=ROOT,
            env={**os.environ, **(env or {})},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def wait_ready(self) -> None:
        readable, _, _ = select.select([self.proc.stdout], [], [], TIMEOUT)
        assert readable, "worker did not start"
        line = self.proc.stdout.readline()
        assert line == "ready\n", (line, self.proc.stderr.read() if self.proc.poll() is not None else "")

    def go(self) -> None:
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()

    def result(self):
        out, err = self.proc.communicate(timeout=TIMEOUT)
        assert self.proc.returncode == 0, err
        return json.loads(out.strip().splitlines()[-1])

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.communicate(timeout=TIMEOUT)


def wait_for(path: Path, worker: Worker) -> None:
    """Bounded wait for a step of another process, signalled by a file it creates."""
    deadline = time.monotonic() + TIMEOUT
    while not path.exists():
        assert worker.proc.poll() is None, worker.proc.communicate()
        assert time.monotonic() < deadline, f"{path} did not appear"
        time.sleep(0.01)  # polling interval of the bounded wait, not an ordering assumption


def entity_csv(path: Path, first: int, n: int) -> Path:
    lines = ["统一社会信用代码,名称,行业,所在区,成立日期"]
    for i in range(first, first + n):
        first17 = f"91350203MA{i:07d}"
        lines.append(f"{first17}{normalize.credit_code_check_char(first17)},公司{i},道路运输,思明区,2010-01-01")
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    return path


def contents(db: str) -> dict[str, list[tuple]]:
    con = duckdb.connect(db, read_only=True)
    try:
        return {t: con.execute(f"SELECT CAST(COLUMNS(*) AS VARCHAR) FROM {t} ORDER BY ALL").fetchall() for t in TABLES}
    finally:
        con.close()


@pytest.fixture
def db(tmp_path) -> str:
    path = str(tmp_path / "credit.duckdb")
    result = ingest.ingest_paths(path, [entity_csv(tmp_path / "base.csv", 0, 3)])[0]
    assert result.loaded == 3
    return path


@pytest.fixture
def workers():
    started: list[Worker] = []
    yield started
    for worker in started:
        worker.kill()


def test_two_loaders_started_at_the_same_moment_both_succeed(db, tmp_path, workers):
    files = [entity_csv(tmp_path / "a.csv", 100, 400), entity_csv(tmp_path / "b.csv", 1000, 400)]
    workers += [Worker("load", db, str(f)) for f in files]
    for worker in workers:
        worker.wait_ready()
    for worker in workers:
        worker.go()
    results = [worker.result()[0] for worker in workers]

    assert [r["loaded"] for r in results] == [400, 400]
    assert sorted(r["upload_id"] for r in results) == [2, 3]
    with store.connect(db, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM entities").fetchone()[0] == 803
        assert con.execute("SELECT count(*) FROM uploads WHERE status = 'loaded'").fetchone()[0] == 3
        assert con.execute("SELECT count(*) FROM audit_log WHERE action = 'upload'").fetchone()[0] == 3


def test_a_loader_waits_for_one_inside_its_transaction_or_says_it_is_busy(db, tmp_path, workers):
    gate = tmp_path / "gate"
    first = Worker(
        "load", db, str(entity_csv(tmp_path / "a.csv", 100, 50)), env={"CREDIT_TEST_PAUSE_IN_LOAD": str(gate)}
    )
    second = Worker("load", db, str(entity_csv(tmp_path / "b.csv", 1000, 50)))
    workers += [first, second]
    first.wait_ready()
    second.wait_ready()
    first.go()
    wait_for(Path(f"{gate}.paused"), first)  # the first load is inside its transaction, holding the file

    busy = subprocess.run(
        [sys.executable, "-m", "analytics", "ingest", str(tmp_path / "b.csv"), "--db", db],
        cwd=ROOT,
        env={**os.environ, "CREDIT_LOCK_WAIT_SECONDS": "1"},
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    second.go()  # waits its turn on the file lock (default: 60 s)
    gate.touch()
    [a], [b] = first.result(), second.result()

    assert busy.returncode == 1
    assert busy.stderr == f"错误：数据库正被其他进程使用，等待 1 秒后仍未释放：{db}\n"
    assert (a["loaded"], b["loaded"]) == (50, 50)
    assert a["upload_id"] < b["upload_id"]  # the second one went after the first had committed


def test_a_loader_killed_inside_its_transaction_leaves_the_database_as_before(db, tmp_path, workers):
    before = contents(db)
    gate = tmp_path / "gate"
    loader = Worker(
        "load", db, str(entity_csv(tmp_path / "big.csv", 100, 5000)), env={"CREDIT_TEST_PAUSE_IN_LOAD": str(gate)}
    )
    workers.append(loader)
    loader.wait_ready()
    loader.go()
    wait_for(Path(f"{gate}.paused"), loader)  # rows upserted, upload and audit written, not committed

    loader.proc.send_signal(signal.SIGKILL)
    assert loader.proc.wait(TIMEOUT) == -signal.SIGKILL

    assert contents(db) == before  # no rows, no upload, no audit record of the killed load
    again = ingest.ingest_paths(db, [tmp_path / "big.csv"])[0]  # the file opens and takes the load
    assert (again.loaded, again.upload_id) == (5000, 2)


def test_a_reader_sees_none_or_all_of_a_load_never_half(db, tmp_path, workers):
    gate = tmp_path / "gate"
    loader = Worker(
        "load", db, str(entity_csv(tmp_path / "a.csv", 100, 2000)), env={"CREDIT_TEST_PAUSE_IN_LOAD": str(gate)}
    )
    impatient = Worker("count", db, env={"CREDIT_LOCK_WAIT_SECONDS": "1"})
    patient = Worker("count", db)
    workers += [loader, impatient, patient]
    for worker in workers:
        worker.wait_ready()
    loader.go()
    wait_for(Path(f"{gate}.paused"), loader)

    impatient.go()
    busy = impatient.result()  # cannot open the file while the writer holds it: DuckDB's design
    patient.go()  # waits for the writer
    gate.touch()
    loaded = loader.result()[0]
    seen = patient.result()

    assert busy == {"busy": f"数据库正被其他进程使用，等待 1 秒后仍未释放：{db}"}
    assert loaded["loaded"] == 2000
    assert seen == {"entities": 2003, "uploads": 2}
