"""Benchmark (issue 12): pages while a command-line load runs, and how long a load holds the write lock.

    python bench/live.py [--load-rows 2000000] [--lock-rows 1000000] [--runs 5] [--out bench/out/live]

- pages: a process that has imported everything runs AppTest on app.py over a set of pages (Streamlit's
  data cache cleared before each page, so every page asks the database again). First ``--runs`` times
  with nothing else running ("idle"), then over and over while ``python -m analytics ingest`` loads a
  ``--load-rows``-row penalties CSV into the same database in another process; only page runs that start
  after the loader holds the file and end before it exits count.
- lock: ``ingest.ingest_paths`` of a ``--lock-rows``-row penalties CSV into a copy of the base database,
  timing how long the writable DuckDB connection (the file lock) is held and the whole load; and, in the
  same run, ``duckdb.read_csv(path).to_arrow_table()`` of the same file (the bare reader of RESULTS.md).

The base database is the demo at scale 1; the CSVs are written by this script (valid rows, 2021 dates,
5,000 entities' credit codes) and reused when present.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PAGES = ["views/overview.py", "views/sector_risk.py", "views/severe_share.py", "views/objections.py"]
HEADERS = [
    "行政相对人名称", "行政相对人类别", "行政相对人代码_1（统一社会信用代码）", "法定代表人", "证件类型", "证件号码",
    "行政处罚决定书文号", "违法行为类型", "违法事实", "处罚依据", "处罚类别", "处罚内容", "罚款金额（万元）",
    "处罚决定日期", "处罚机关", "数据来源单位", "备注",
]  # fmt: skip
ENV = {**os.environ, "CREDIT_MAX_UPLOAD_MB": "4000"}


def write_csv(path: Path, rows: int) -> None:
    from analytics.normalize import credit_code_check_char

    codes = []
    for i in range(5000):
        first17 = f"91350203MA{i:07d}"
        codes.append(first17 + credit_code_check_char(first17))
    start = date(2021, 1, 1)
    tmp = path.with_suffix(".partial")
    with tmp.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f, lineterminator="\r\n")
        out.writerow(HEADERS)
        for i in range(rows):
            out.writerow(
                [
                    f"厦门市测试运输有限公司{i % 5000}", "法人及非法人组织", codes[i % 5000], "张三", "", "",
                    f"厦交罚〔2021〕B{i:08d}号", "超限运输", "车辆超限运输", "《公路安全保护条例》第六十四条", "罚款",
                    "罚款人民币贰仟元", "0.2", (start + timedelta(days=i % 365)).isoformat(), "厦门市交通运输局",
                    "厦门市交通运输局", "",
                ]
            )  # fmt: skip
    tmp.rename(path)


# --- children ------------------------------------------------------------------------------------------


def child_pages(db: str) -> None:
    """Reads "run" lines; answers each with the seconds every page took, as JSON."""
    os.environ["CREDIT_DB"] = db
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
    at.run()
    for page in PAGES:  # imports everything once, as a running server has
        at.switch_page(page).run()
    print("ready", flush=True)
    for line in sys.stdin:
        if line.strip() != "run":
            break
        seconds = {}
        for page in PAGES:
            st.cache_data.clear()
            started = time.perf_counter()
            at.switch_page(page).run()
            seconds[page] = time.perf_counter() - started
            errors = [e.value for e in at.exception] + [e.value for e in at.error]
            if errors:
                seconds[page + ":error"] = str(errors)[:300]
        print(json.dumps(seconds, ensure_ascii=False), flush=True)


def child_lock(db: str, path: str) -> None:
    """One load, timing the writable connection's life (the file lock) and the whole load."""
    import contextlib

    from analytics.intake import ingest
    from analytics.storage import store

    held: list[float] = []
    original = store.connect

    @contextlib.contextmanager
    def timed(p, read_only=False, wait_seconds=60.0):
        with original(p, read_only=read_only, wait_seconds=wait_seconds) as con:
            started = time.perf_counter()
            try:
                yield con
            finally:
                if not read_only:
                    held.append(time.perf_counter() - started)

    store.connect = timed
    started = time.perf_counter()
    [result] = ingest.ingest_paths(db, [path], user="bench")
    total = time.perf_counter() - started
    print(json.dumps({"load": total, "lock_held": held, "loaded": result.loaded, "rejected": result.rejected}))


def child_read(path: str) -> None:
    import duckdb

    started = time.perf_counter()
    table = duckdb.read_csv(path).to_arrow_table()
    print(json.dumps({"read_csv": time.perf_counter() - started, "rows": table.num_rows}))


CHILDREN = {"pages": child_pages, "lock": child_lock, "read": child_read}


# --- the benchmark -------------------------------------------------------------------------------------


def run_child(*args: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", *args], cwd=ROOT, env=ENV, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def fresh_copy(base: Path, target: Path) -> str:
    for p in target.parent.glob(target.name + "*"):
        if p.is_dir():
            shutil.rmtree(p)
        else:
            p.unlink()
    shutil.copyfile(base, target)
    return str(target)


def file_is_held(db: str) -> bool:
    from analytics.storage import store

    try:
        with store.connect(db, wait_seconds=0):
            return False
    except store.StoreBusy:
        return True


def bench_pages(base: Path, csv_path: Path, work: Path, runs: int, log) -> dict:
    from analytics.storage import snapshots

    db = fresh_copy(base, work / "pages.duckdb")
    pages = subprocess.Popen(
        [sys.executable, __file__, "--child", "pages", db],
        cwd=ROOT,
        env=ENV,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )

    def one_run() -> dict:
        pages.stdin.write("run\n")
        pages.stdin.flush()
        return json.loads(pages.stdout.readline())

    assert pages.stdout.readline() == "ready\n"
    idle = [one_run() for _ in range(runs)]
    log(f"  idle: {[round(sum(v for v in r.values() if isinstance(v, float)), 2) for r in idle]}")
    load = subprocess.Popen(
        [sys.executable, "-m", "analytics", "ingest", str(csv_path), "--db", db, "--user", "bench"],
        cwd=ROOT,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    started = time.perf_counter()
    while not (snapshots.writers(db) and file_is_held(db)):  # polling interval of a bounded wait
        assert load.poll() is None, load.communicate()
        time.sleep(0.05)
    held_at = time.perf_counter() - started
    during, late = [], 0
    while load.poll() is None:
        result = one_run()
        if load.poll() is None:  # the load was running from the start to the end of this page run
            during.append(result)
        else:
            late += 1
    load_seconds = time.perf_counter() - started
    out, err = load.communicate()
    assert load.returncode == 0, err
    loaded = json.loads(out)[0]["loaded"]
    after = one_run()
    pages.stdin.write("stop\n")
    pages.stdin.flush()
    pages.wait(60)
    log(f"  during: {len(during)} runs ({late} ended after the load), load {load_seconds:.1f} s, {loaded} rows")
    return {
        "idle": idle,
        "during": during,
        "after": after,
        "load_seconds": load_seconds,
        "lock_taken_after": held_at,
        "loaded": loaded,
    }


def summarise(runs: list[dict]) -> dict:
    out = {}
    for page in PAGES:
        values = [r[page] for r in runs if page in r]
        out[page] = {"median": statistics.median(values), "worst": max(values), "n": len(values)} if values else None
    totals = [sum(r[p] for p in PAGES) for r in runs]
    out["all"] = {"median": statistics.median(totals), "worst": max(totals), "n": len(totals)} if totals else None
    return out


def main(argv: list[str]) -> int:
    if argv[:1] == ["--child"]:
        CHILDREN[argv[1]](*argv[2:])
        return 0
    parser = argparse.ArgumentParser(prog="python bench/live.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--load-rows", type=int, default=2_000_000)
    parser.add_argument("--lock-rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", default=str(ROOT / "bench" / "out" / "live"))
    args = parser.parse_args(argv)
    work = Path(args.out)
    work.mkdir(parents=True, exist_ok=True)

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    base = work / "base.duckdb"
    if not base.exists():
        log("building the base database (demo, scale 1) …")
        subprocess.run(
            [sys.executable, "-m", "analytics", "demo", "--db", str(work / "base.building"), "--scale", "1"],
            cwd=ROOT,
            env=ENV,
            check=True,
            capture_output=True,
        )
        (work / "base.building").rename(base)
        shutil.rmtree(work / "base.building.snapshots", ignore_errors=True)
        shutil.rmtree(work / "base.building.writers", ignore_errors=True)
    files = {}
    for name, rows in (("load", args.load_rows), ("lock", args.lock_rows)):
        files[name] = work / f"penalties_{rows}.csv"
        if not files[name].exists():
            log(f"writing {files[name]} ({rows:,} rows) …")
            write_csv(files[name], rows)

    results: dict = {"load_rows": args.load_rows, "lock_rows": args.lock_rows, "load_avg_before": os.getloadavg()}
    log(f"pages idle and during a {args.load_rows:,}-row CLI load …")
    pages = bench_pages(base, files["load"], work, args.runs, log)
    results["pages"] = {
        "idle": summarise(pages["idle"]),
        "during": summarise(pages["during"]),
        **{k: v for k, v in pages.items() if k not in ("idle", "during")},
    }
    log(f"lock held during a {args.lock_rows:,}-row load, and duckdb.read_csv of the same file …")
    lock, read = [], []
    for _ in range(args.runs if args.runs < 3 else 3):
        db = fresh_copy(base, work / "lock.duckdb")
        lock.append(run_child("lock", db, str(files["lock"])))
        read.append(run_child("read", str(files["lock"])))
        log(
            f"  load {lock[-1]['load']:.2f} s, lock {max(lock[-1]['lock_held']):.2f} s, read_csv {read[-1]['read_csv']:.2f} s"
        )
    results["lock"] = {
        "load_median": statistics.median(r["load"] for r in lock),
        "lock_held_median": statistics.median(max(r["lock_held"]) for r in lock),
        "read_csv_median": statistics.median(r["read_csv"] for r in read),
        "runs": lock,
        "reads": read,
    }
    results["load_avg_after"] = os.getloadavg()
    (work / "results.json").write_text(json.dumps(results, ensure_ascii=False, indent=2, default=str))
    print(json.dumps({k: results[k] for k in ("pages", "lock")}, ensure_ascii=False, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
