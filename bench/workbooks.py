"""Peak memory of hostile and large-but-allowed workbooks through `python -m analytics ingest`.

    python bench/workbooks.py [--out bench/out]

Each file is loaded in its own process into a fresh database; the table gives its size, wall time,
exit status, peak resident memory and the refusal, if any. No test times anything: this script does.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

HEADER = ["企业名称", "统一社会信用代码", "行业", "所在区"]


def far_sheets_xlsx(sheets: int) -> bytes:
    import xlsxwriter

    # Written row by row to a file: in memory, xlsxwriter itself would take 5 GB for these rows.
    with tempfile.TemporaryDirectory() as work:
        path = Path(work) / "far.xlsx"
        book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
        for i in range(sheets):
            sheet = book.add_worksheet(f"登记{i + 1}")
            sheet.write_row(0, 0, HEADER)
            sheet.write(1048575, 18, "x")
        book.close()
        return path.read_bytes()


def far_sheets_xls(sheets: int) -> bytes:
    import xlwt

    book = xlwt.Workbook()
    for i in range(sheets):
        sheet = book.add_sheet(f"S{i + 1}")
        for column, header in enumerate(HEADER):
            sheet.write(0, column, header)
        sheet.write(65535, 255, "x")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


CASES = {
    "40 sheets × 1048576 × 19 (.xlsx, refused)": ("forty.xlsx", lambda: far_sheets_xlsx(40)),
    "30 sheets × 65536 × 256 (.xls, refused)": ("thirty.xls", lambda: far_sheets_xls(30)),
    "1 sheet × 1048576 × 19 (.xlsx, the largest allowed)": ("one.xlsx", lambda: far_sheets_xlsx(1)),
    "1 sheet × 65536 × 256 (.xls, refused)": ("one.xls", lambda: far_sheets_xls(1)),
}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python bench/workbooks.py")
    parser.add_argument("--out", default=str(ROOT / "bench" / "out"))
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    with tempfile.TemporaryDirectory(dir=out) as work:
        for label, (name, build) in CASES.items():
            path = Path(work) / name
            path.write_bytes(build())
            result = measure(path, Path(work) / f"{name}.duckdb")
            rows.append((label, path.stat().st_size, result))
            print(
                f"{label}: {path.stat().st_size / 1024:.1f} KB, {result['wall']:.2f} s, exit {result['exit']}, "
                f"peak {result['peak_mb']:.0f} MB — {result['message'][:80]}",
                flush=True,
            )
    (out / "workbooks.json").write_text(
        json.dumps([{"case": c, "bytes": b, **r} for c, b, r in rows], ensure_ascii=False, indent=2)
    )
    return 0


def measure(path: Path, db: Path) -> dict:
    """Wall time, exit status, peak RSS (MB) and the refusal of one ingest in its own process."""
    with tempfile.TemporaryFile() as stdout:
        started = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "analytics", "ingest", str(path), "--db", str(db)],
            cwd=ROOT,
            stdout=stdout,
            stderr=subprocess.DEVNULL,
        )
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        stdout.seek(0)
        text = stdout.read().decode(errors="replace")
    try:
        message = json.loads(text)[0].get("message") or ""
    except (json.JSONDecodeError, IndexError, AttributeError):
        message = text[-200:]
    return {
        "wall": wall,
        "exit": os.waitstatus_to_exitcode(status),
        "peak_mb": usage.ru_maxrss / 1024,
        "message": message,
    }


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
