"""Benchmark: ingestion, the metrics command and every dashboard page on demo databases of several sizes.

    python bench/run.py [--scales 1,10,100] [--runs 3] [--out bench/out]

For each scale K the demo database is built with ``python -m analytics demo --scale K`` (about 30 thousand
penalty records per unit of K, the other data sets in proportion) or reused when a previous run left it in
OUT/data; the output says which. The large penalties exports are written straight from
``analytics.demo.generate`` (the 2022 penalties, planted bad rows included): UTF-8 CSV, GBK CSV and XLSX
(at most 600,000 rows: a sheet holds 1,048,576 and ingestion refuses sheets above 20 million cells).

Every measurement runs in its own subprocess; its peak memory is that process's maximum resident set size
(``os.wait4``'s rusage, the same number ``getrusage(RUSAGE_CHILDREN)`` gives for a single child). Medians
of ``--runs`` runs are printed as a table and written to OUT/results.json.

- ingest: ``ingest.ingest_paths`` of one export into an empty database (and, for the UTF-8 file, loading
  it a second time: every row unchanged), against the bare reader of the same file in the same run:
  ``duckdb.read_csv`` materialised as an Arrow table (CSV; for GBK the UTF-8 file with the same rows, as
  DuckDB reads no GBK, and also the GBK file itself read by ``pyarrow.csv`` with encoding="gb18030") or
  ``pandas.read_excel(engine="calamine")``; and the least any loading into the store costs: DuckDB's
  ``read_csv`` straight into a table of a database file, unchecked, once into a plain table and once into
  one with the penalties table's primary key. Interpreter start-up and imports are not timed.
- metrics: ``python -m analytics metrics --as-of 2022-12-31``, wall clock, start-up included; cold is
  the first run after the database file is dropped from the OS page cache, warm the runs after it.
- pages: each page of dashboard/nav.py through ``streamlit.testing.v1.AppTest`` on app.py (the time
  Streamlit spends running the script before the page is sent). Cold: Streamlit's caches cleared and the
  database file dropped from the page cache, in a process that has already imported everything (as a
  running server has); warm: the same page again.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

AS_OF = "2022-12-31"
MAX_XLSX_ROWS = 600_000
FORMATS = {  # name → (file suffix, demo.write_penalty_export format)
    "csv_utf8": (".csv", "utf-8"),
    "csv_gbk": (".gbk.csv", "gbk"),
    "xlsx": (".xlsx", "xlsx"),
}
# Pages measured a second time with a widget set otherwise: page key → (variant, widget key, value).
PAGE_VARIANTS = {
    "sector_risk": [
        ("sector_risk:severe_share", "sr_measure", "severe_share"),
        ("sector_risk:warnings", "sr_measure", "warnings"),
    ],
}
# Ingestion reads whole files; the benchmark's largest export is above the 200 MB default upload limit.
CHILD_ENV = {"CREDIT_MAX_UPLOAD_MB": "4000"}


# --- Measuring in a subprocess -------------------------------------------------------------------


def measure(args: list[str], env: dict | None = None) -> dict:
    """Run a command; its wall time, peak RSS in MB, exit status and the JSON of its last output line."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(args, cwd=ROOT, stdout=out, stderr=err, env={**os.environ, **CHILD_ENV, **(env or {})})
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        text, problem = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({proc.returncode}):\n{problem[-3000:]}")
    lines = [line for line in text.strip().splitlines() if line.strip()]
    try:
        reported = json.loads(lines[-1]) if lines else {}
    except json.JSONDecodeError:
        reported = {}
    return {"wall": wall, "peak_mb": usage.ru_maxrss / 1024, "reported": reported, "stdout": text}


def child(*args: str) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), "_child", *args]


def evict(path: str | Path) -> None:
    """Drop a file's pages from the OS page cache (no root needed), so the next read comes from disk."""
    for p in (Path(path), Path(str(path) + ".wal")):
        if p.exists():
            fd = os.open(p, os.O_RDONLY)
            try:
                os.fsync(fd)
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


# --- Child processes: one measurement each ---------------------------------------------------------


def child_ingest(path: str, db: str, reload: str) -> None:
    from analytics.intake import ingest

    if reload == "reload":
        ingest.ingest_paths(db, [path])
    started = time.perf_counter()
    (result,) = ingest.ingest_paths(db, [path])
    seconds = time.perf_counter() - started
    out = {k: v for k, v in result.to_dict().items() if k != "errors"}
    print(json.dumps(out | {"seconds": seconds, "error_count": len(result.errors)}, ensure_ascii=False))


def child_read(path: str) -> None:
    if path.endswith(".gbk.csv"):  # DuckDB reads no GBK: pyarrow decodes it (Python's codec) and parses it
        import pyarrow.csv as pcsv

        started = time.perf_counter()
        rows = pcsv.read_csv(path, read_options=pcsv.ReadOptions(encoding="gb18030")).num_rows
    elif path.endswith(".xlsx"):
        import pandas as pd

        started = time.perf_counter()
        rows = len(pd.read_excel(path, engine="calamine"))
    else:
        import duckdb

        started = time.perf_counter()
        rows = duckdb.read_csv(path).to_arrow_table().num_rows
    print(json.dumps({"seconds": time.perf_counter() - started, "rows": rows}))


def child_store(path: str, db: str, keyed: str) -> None:
    """The least any loading into the store can cost: DuckDB's own reader straight into a table of the
    database file, every cell as text, nothing checked, committed. ``keyed``: the table has the penalties
    table's primary key (行政处罚决定书文号), as the store's has; DuckDB keeps its index as rows go in."""
    import duckdb

    from analytics.intake import datasets as ds

    penalties = ds.DATASETS["penalties"]
    key_headers = {penalties.column(k).label for k in penalties.key} if keyed == "keyed" else set()
    with duckdb.connect(db) as con:
        headers = [
            r[0] for r in con.execute("DESCRIBE SELECT * FROM read_csv(?, all_varchar = true)", [path]).fetchall()
        ]
        columns = ", ".join(f'"{h}" VARCHAR' for h in headers)
        key = f", PRIMARY KEY ({', '.join(f'{chr(34)}{h}{chr(34)}' for h in headers if h in key_headers)})"
        con.execute(f"CREATE TABLE loaded ({columns}{key if key_headers else ''})")
        started = time.perf_counter()
        con.execute("INSERT INTO loaded SELECT * FROM read_csv(?, all_varchar = true)", [path])
        rows = con.execute("SELECT count(*) FROM loaded").fetchall()[0][0]
        seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "rows": rows}))


def child_decoded(path: str) -> None:
    """The size of the file's text once decoded, as Python holds it (a CSV; None for a workbook)."""
    if path.endswith(".xlsx"):
        print(json.dumps({"decoded_mb": None}))
        return
    data = Path(path).read_bytes()
    text = data.decode("gb18030") if path.endswith(".gbk.csv") else data.decode("utf-8-sig")
    print(json.dumps({"decoded_mb": sys.getsizeof(text) / 2**20}))


def child_page(db: str, page: str, runs: str) -> None:
    """``page`` is a page key, or a variant from PAGE_VARIANTS: the page, then its widget set and run again."""
    os.environ["CREDIT_DB"] = db
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from dashboard.nav import DEFAULT_PAGE, PAGES

    key = page.split(":")[0]
    widget = next(((w, v) for variant, w, v in PAGE_VARIANTS.get(key, []) if variant == page), None)

    def run_page(at: AppTest) -> float:
        started = time.perf_counter()
        if widget:  # the page is open already (see below): only its widget changes
            at.radio(key=widget[0]).set_value(widget[1]).run()
        elif key == DEFAULT_PAGE:
            at.run()
        else:
            at.switch_page(PAGES[key].path).run()
        seconds = time.perf_counter() - started
        if at.exception:
            print(json.dumps({"error": str([e.value for e in at.exception])[:500]}, ensure_ascii=False))
            sys.exit(0)
        return seconds

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
    at.run()
    if widget:
        at.switch_page(PAGES[key].path).run()
    first = run_page(at)  # imports everything the page needs, as a running server already has
    st.cache_data.clear()
    st.cache_resource.clear()
    evict(db)
    cold = run_page(at)
    warm = [run_page(at) for _ in range(int(runs))]
    print(json.dumps({"first_in_process": first, "cold": cold, "warm": warm}))


def child_export(scale: str, directory: str) -> None:
    from analytics import demo

    data = demo.generate(2022, float(scale))
    rows = {}
    for name, (suffix, fmt) in FORMATS.items():
        path = Path(directory) / f"penalties_2022{suffix}"
        rows[name] = demo.write_penalty_export(path, data, fmt, MAX_XLSX_ROWS if fmt == "xlsx" else None)
    print(json.dumps(rows))


def child_count(db: str) -> None:
    import duckdb

    with duckdb.connect(db, read_only=True) as con:
        tables = ("penalties", "licenses", "entities", "severe_list", "objections", "progress")
        print(json.dumps({t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in tables}))


CHILDREN = {
    "ingest": child_ingest,
    "read": child_read,
    "page": child_page,
    "export": child_export,
    "count": child_count,
    "decoded": child_decoded,
    "store": child_store,
}


# --- The benchmark ---------------------------------------------------------------------------------


def median(values: list[float]) -> float:
    return statistics.median(values)


def prepare(scale: str, data_dir: Path, log) -> dict:
    """The scale's database and export files: built, or reused when present."""
    db = data_dir / f"scale{scale}.duckdb"
    info: dict = {"db": str(db.relative_to(ROOT) if db.is_relative_to(ROOT) else db)}
    if db.exists():
        info["db_reused"] = True
        log(f"scale {scale}: reusing the database {db} built by an earlier run")
    else:
        log(f"scale {scale}: building the demo database (python -m analytics demo --scale {scale}) …")
        tmp = db.with_suffix(".building")
        for leftover in (tmp, Path(str(tmp) + ".wal")):
            leftover.unlink(missing_ok=True)
        run = measure([sys.executable, "-m", "analytics", "demo", "--db", str(tmp), "--scale", scale])
        tmp.rename(db)
        info |= {"db_reused": False, "build_seconds": run["wall"], "build_peak_mb": run["peak_mb"]}
        log(f"  built in {run['wall']:.0f} s, peak {run['peak_mb']:.0f} MB")
    info["rows"] = measure(child("count", str(db)))["reported"]
    info["db_mb"] = db.stat().st_size / 2**20

    exports = data_dir / f"scale{scale}_exports"
    marker = exports / "rows.json"
    if marker.exists():
        info["export_rows"] = json.loads(marker.read_text())
        log(f"scale {scale}: reusing the penalties exports in {exports}")
    else:
        log(f"scale {scale}: writing the penalties exports (UTF-8 CSV, GBK CSV, XLSX) …")
        exports.mkdir(parents=True, exist_ok=True)
        run = measure(child("export", scale, str(exports)))
        info["export_rows"] = run["reported"]
        marker.write_text(json.dumps(run["reported"]))
        log(f"  written in {run['wall']:.0f} s")
    info["exports"] = {name: str(exports / f"penalties_2022{suffix}") for name, (suffix, _) in FORMATS.items()}
    return info


def bench_ingest(info: dict, runs: int, work: Path, log) -> dict:
    from analytics.storage import store

    template = work / "empty.duckdb"
    if not template.exists():
        with store.connect(str(template)):
            pass
    results = {}
    cases = [(name, path, "fresh") for name, path in info["exports"].items()]
    cases.append(("csv_utf8_reload", info["exports"]["csv_utf8"], "reload"))
    for name, path, mode in cases:
        size = Path(path).stat().st_size
        decoded = measure(child("decoded", path))["reported"]["decoded_mb"]
        times, peaks, bare, bare_peaks, floor, keyed_floor, own = [], [], [], [], [], [], []
        report = {}
        for _ in range(runs):
            db = work / "ingest.duckdb"
            for p in (db, Path(str(db) + ".wal")):
                p.unlink(missing_ok=True)
            shutil.copy(template, db)
            run = measure(child("ingest", path, str(db), mode))
            report = run["reported"]
            times.append(report["seconds"])
            peaks.append(run["peak_mb"])
            reference = info["exports"]["csv_utf8"] if name.startswith("csv") else path
            run = measure(child("read", reference))
            bare.append(run["reported"]["seconds"])
            bare_peaks.append(run["peak_mb"])
            if name == "csv_gbk":  # and the fastest reader we know of the GBK file itself
                own.append(measure(child("read", path))["reported"]["seconds"])
            if name.startswith("csv"):
                for keyed, found in (("plain", floor), ("keyed", keyed_floor)):
                    floor_db = work / "store.duckdb"
                    for p in (floor_db, Path(str(floor_db) + ".wal")):
                        p.unlink(missing_ok=True)
                    found.append(measure(child("store", reference, str(floor_db), keyed))["reported"]["seconds"])
        rows = report["rows_read"]
        results[name] = {
            "file_mb": size / 2**20,
            "decoded_mb": decoded,
            "rows": rows,
            "loaded": report["loaded"],
            "unchanged": report["unchanged"],
            "rejected": report["rejected"],
            "seconds": median(times),
            "rows_per_second": rows / median(times),
            "peak_mb": max(peaks),
            "peak_to_decoded": None if decoded is None else max(peaks) / decoded,
            "bare_reader_seconds": median(bare),
            "bare_reader_peak_mb": max(bare_peaks),
            "ratio_to_bare_reader": median(times) / median(bare),
            "gbk_reader_seconds": median(own) if own else None,
            "gbk_reader_ratio": median(times) / median(own) if own else None,
            "store_floor_seconds": median(floor) if floor else None,
            "store_floor_ratio": median(floor) / median(bare) if floor else None,
            "keyed_floor_seconds": median(keyed_floor) if keyed_floor else None,
            "keyed_floor_ratio": median(keyed_floor) / median(bare) if keyed_floor else None,
            "all_seconds": times,
        }
        r = results[name]
        log(
            f"  ingest {name}: {rows:,} rows in {r['seconds']:.2f} s ({r['rows_per_second']:,.0f} rows/s), "
            f"bare reader {r['bare_reader_seconds']:.2f} s, ×{r['ratio_to_bare_reader']:.1f}, peak {r['peak_mb']:.0f} MB"
        )
    return results


def bench_metrics(db: str, runs: int, log) -> dict:
    command = [sys.executable, "-m", "analytics", "metrics", "--db", db, "--as-of", AS_OF]
    cold, warm, peaks = [], [], []
    for _ in range(runs):
        evict(db)
        run = measure(command)
        cold.append(run["wall"])
        peaks.append(run["peak_mb"])
        run = measure(command)
        warm.append(run["wall"])
        peaks.append(run["peak_mb"])
    out = {"cold": median(cold), "warm": median(warm), "peak_mb": max(peaks), "all_cold": cold, "all_warm": warm}
    log(f"  metrics: cold {out['cold']:.2f} s, warm {out['warm']:.2f} s, peak {out['peak_mb']:.0f} MB")
    return out


def bench_pages(db: str, runs: int, log) -> dict:
    from dashboard.nav import PAGES

    results = {}
    keys = [variant for key in PAGES for variant in [key] + [v for v, _, _ in PAGE_VARIANTS.get(key, [])]]
    for key in keys:
        cold, warm, peaks, first = [], [], [], []
        for _ in range(runs):
            run = measure(child("page", db, key, "3"))
            if "error" in run["reported"]:
                break
            cold.append(run["reported"]["cold"])
            warm.append(median(run["reported"]["warm"]))
            first.append(run["reported"]["first_in_process"])
            peaks.append(run["peak_mb"])
        if not cold:
            results[key] = {"error": run["reported"]["error"]}
            log(f"  page {key}: failed: {results[key]['error']}")
            continue
        results[key] = {
            "cold": median(cold),
            "warm": median(warm),
            "first_in_process": median(first),
            "peak_mb": max(peaks),
            "all_cold": cold,
            "all_warm": warm,
        }
        r = results[key]
        log(f"  page {key}: cold {r['cold']:.2f} s, warm {r['warm']:.3f} s, peak {r['peak_mb']:.0f} MB")
    return results


def machine() -> dict:
    import duckdb
    import pandas
    import pyarrow
    import streamlit

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "nproc": os.cpu_count(),
        "affinity": len(os.sched_getaffinity(0)),
        "memory_gb": round(memory, 1),
        "cpu": cpu,
        "os": platform.platform(),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "pandas": pandas.__version__,
        "pyarrow": pyarrow.__version__,
        "streamlit": streamlit.__version__,
        "python_calamine": importlib.metadata.version("python-calamine"),
        "git": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip(),
    }


def table(results: dict) -> str:
    """The results as Markdown tables, one row per measurement and one column per scale."""
    scales = list(results["scales"])
    head = "| | " + " | ".join(f"scale {s}" for s in scales) + " |\n|---|" + "---:|" * len(scales) + "\n"

    def row(label, cell):
        cells = []
        for s in scales:
            try:
                cells.append(cell(results["scales"][s]))
            except (KeyError, TypeError):
                cells.append("—")
        return f"| {label} | " + " | ".join(cells) + " |\n"

    out = "Data\n\n" + head
    out += row("penalty records in the database", lambda r: f"{r['setup']['rows']['penalties']:,}")
    out += row("database file", lambda r: f"{r['setup']['db_mb']:,.0f} MB")
    out += row(
        "database", lambda r: "reused" if r["setup"]["db_reused"] else f"built, {r['setup']['build_seconds']:.0f} s"
    )
    out += row("load average before → after", lambda r: f"{r['load_before'][0]:.1f} → {r['load_after'][0]:.1f}")
    out += "\nIngestion of the 2022 penalties export into an empty database (median)\n\n" + head
    for name, label in (
        ("csv_utf8", "CSV UTF-8"),
        ("csv_gbk", "CSV GBK"),
        ("xlsx", "XLSX"),
        ("csv_utf8_reload", "CSV UTF-8, loaded again (all unchanged)"),
    ):
        out += row(
            f"{label}: rows, file size",
            lambda r, n=name: f"{r['ingest'][n]['rows']:,}, {r['ingest'][n]['file_mb']:,.0f} MB",
        )
        out += row(f"{label}: seconds", lambda r, n=name: f"{r['ingest'][n]['seconds']:.2f}")
        out += row(f"{label}: rows/s", lambda r, n=name: f"{r['ingest'][n]['rows_per_second']:,.0f}")
        out += row(
            f"{label}: bare reader s (ratio)",
            lambda r, n=name: (
                f"{r['ingest'][n]['bare_reader_seconds']:.2f} (×{r['ingest'][n]['ratio_to_bare_reader']:.1f})"
            ),
        )
        if name == "csv_gbk":
            out += row(
                f"{label}: pyarrow reading the GBK file itself, s (ratio)",
                lambda r, n=name: (
                    f"{r['ingest'][n]['gbk_reader_seconds']:.2f} (×{r['ingest'][n]['gbk_reader_ratio']:.1f})"
                ),
            )
        if not name.startswith("xlsx"):
            out += row(
                f"{label}: DuckDB into a table, unchecked, s (ratio)",
                lambda r, n=name: (
                    f"{r['ingest'][n]['store_floor_seconds']:.2f} (×{r['ingest'][n]['store_floor_ratio']:.1f})"
                ),
            )
            out += row(
                f"{label}: the same, table with the primary key, s (ratio)",
                lambda r, n=name: (
                    f"{r['ingest'][n]['keyed_floor_seconds']:.2f} (×{r['ingest'][n]['keyed_floor_ratio']:.1f})"
                ),
            )
        out += row(f"{label}: peak memory", lambda r, n=name: _memory_cell(r["ingest"][n]))
    out += "\n`python -m analytics metrics` (start-up included, median)\n\n" + head
    out += row("cold", lambda r: f"{r['metrics']['cold']:.2f} s")
    out += row("warm", lambda r: f"{r['metrics']['warm']:.2f} s")
    out += row("peak memory", lambda r: f"{r['metrics']['peak_mb']:,.0f} MB")
    pages = next((r["pages"] for r in results["scales"].values() if r.get("pages")), {})
    if pages:
        out += "\nPages through AppTest: cold / warm seconds (median), peak memory\n\n" + head
        for key in pages:
            out += row(key, lambda r, k=key: _page_cell(r["pages"][k]))
    return out


def _memory_cell(r: dict) -> str:
    """Peak RSS, and as a multiple of the file's decoded text (CSV)."""
    if r.get("peak_to_decoded") is None:
        return f"{r['peak_mb']:,.0f} MB"
    return f"{r['peak_mb']:,.0f} MB (×{r['peak_to_decoded']:.1f} decoded)"


def _page_cell(r: dict) -> str:
    if "error" in r:
        return "page raised an error"
    return f"{r['cold']:.2f} / {r['warm']:.3f} s, {r['peak_mb']:,.0f} MB"


def main(argv: list[str]) -> int:
    if argv[:1] == ["_child"]:
        CHILDREN[argv[1]](*argv[2:])
        return 0
    parser = argparse.ArgumentParser(prog="python bench/run.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--scales", default="1,10,100", help="demo scales, comma-separated (default 1,10,100)")
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement (default 3)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "out"), help="output directory (default bench/out)")
    parser.add_argument(
        "--only", default="ingest,metrics,pages", help="parts to run, comma-separated (default ingest,metrics,pages)"
    )
    args = parser.parse_args(argv)
    out = Path(args.out).resolve()
    data_dir = out / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    parts = set(args.only.split(","))

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    results = {"machine": machine(), "runs": args.runs, "as_of": AS_OF, "scales": {}}
    path = out / "results.json"
    for scale in args.scales.split(","):
        scale = scale.strip()
        entry = results["scales"][scale] = {"setup": prepare(scale, data_dir, log), "load_before": os.getloadavg()}
        db = str(data_dir / f"scale{scale}.duckdb")
        with tempfile.TemporaryDirectory(prefix="bench-", dir=out) as work:
            if "ingest" in parts:
                entry["ingest"] = bench_ingest(entry["setup"], args.runs, Path(work), log)
        if "metrics" in parts:
            entry["metrics"] = bench_metrics(db, args.runs, log)
        if "pages" in parts:
            entry["pages"] = bench_pages(db, args.runs, log)
        entry["load_after"] = os.getloadavg()  # other work on the machine shows in the times
        path.write_text(json.dumps(results, ensure_ascii=False, indent=2))
    reused = [s for s, r in results["scales"].items() if r["setup"]["db_reused"]]
    print(table(results))
    if reused:
        print(f"Databases reused from an earlier run (not rebuilt): scale {', '.join(reused)}.")
    print(f"Results written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
