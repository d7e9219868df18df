"""`python -m analytics ingest` as analysts run it: JSON out, exit codes, one-line Chinese errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import (
    LICENSE_HEADERS,
    PENALTY_HEADERS,
    bad_check_code,
    csv_bytes,
    license_row,
    penalty_row,
    query,
    xlsx_bytes,
)

ROOT = Path(__file__).resolve().parent.parent
FIELDS = ["file", "dataset", "encoding", "rows_read", "loaded", "updated", "unchanged", "rejected", "errors", "message",
    "cleaned_cells", "set_values", "notes", "identified_by", "derived", "warnings"]  # fmt: skip


def run(*args: str, db: Path | None = None, env_db: Path | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CREDIT_")}
    if env_db is not None:
        env["CREDIT_DB"] = str(env_db)
    argv = [sys.executable, "-m", "analytics", *args]
    if db is not None:
        argv += ["--db", str(db)]
    return subprocess.run(
        argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL
    )


def assert_one_line_error(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("错误：")
    return lines[0]


@pytest.fixture
def files(tmp_path) -> dict[str, Path]:
    out = {}
    good = [["厦门市交通运输局行政处罚信息（双公示）2021年度"], PENALTY_HEADERS, penalty_row("D1"), penalty_row("D2")]
    good.append(penalty_row("D3", code=bad_check_code(1)))
    out["penalties"] = tmp_path / "处罚 2021.csv"
    out["penalties"].write_bytes(csv_bytes(good, "gbk"))
    out["licenses"] = tmp_path / "许可.xlsx"
    out["licenses"].write_bytes(xlsx_bytes({"2021": [LICENSE_HEADERS, license_row("L1")], "说明": [["说明"]]}))
    out["unknown"] = tmp_path / "其他.csv"
    out["unknown"].write_bytes(csv_bytes([["姓名", "年龄"], ["张三", "30"]]))
    return out


def test_ingest_prints_one_json_result_per_file_and_exits_0(tmp_path, files):
    db = tmp_path / "store" / "credit.duckdb"  # its folder does not exist yet
    proc = run("ingest", str(files["penalties"]), str(files["licenses"]), "--user", "王五", db=db)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    results = json.loads(proc.stdout)
    assert [list(r) for r in results] == [FIELDS, FIELDS]  # every field, also when there is no message
    assert [r["message"] for r in results] == [None, None]
    penalties, licenses = results
    assert (penalties["file"], penalties["dataset"], penalties["encoding"]) == ("处罚 2021.csv", "penalties", "GBK")
    assert (penalties["rows_read"], penalties["loaded"], penalties["rejected"]) == (3, 2, 1)
    assert penalties["errors"] == [
        {"sheet": None, "row": 5, "column": "行政相对人代码_1（统一社会信用代码）",
         "reason": penalties["errors"][0]["reason"]}]  # fmt: skip
    assert "校验位错误" in penalties["errors"][0]["reason"]
    assert (licenses["dataset"], licenses["encoding"], licenses["loaded"]) == ("licenses", None, 1)
    assert query(db, "SELECT count(*) FROM penalties") == [(2,)]
    assert query(db, "SELECT file_name, user_name FROM uploads ORDER BY id") == [
        ("处罚 2021.csv", "王五"), ("许可.xlsx", "王五")]  # fmt: skip

    again = run("ingest", str(files["penalties"]), db=db)
    assert again.returncode == 0
    [result] = json.loads(again.stdout)
    assert (result["loaded"], result["updated"], result["unchanged"]) == (0, 0, 2)


def test_credit_db_environment_variable_chooses_the_store(tmp_path, files):
    db = tmp_path / "env.duckdb"
    proc = run("ingest", str(files["licenses"]), env_db=db)
    assert proc.returncode == 0, proc.stderr
    assert query(db, "SELECT doc_no FROM licenses") == [("L1",)]


def test_exit_1_when_a_file_loads_nothing_and_the_others_still_load(tmp_path, files):
    db = tmp_path / "credit.duckdb"
    proc = run("ingest", str(files["unknown"]), str(files["licenses"]), db=db)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    unknown, licenses = json.loads(proc.stdout)
    assert unknown["loaded"] == 0
    assert "表头与任何数据集都不匹配" in unknown["message"]
    assert licenses["loaded"] == 1
    assert query(db, "SELECT count(*) FROM licenses") == [(1,)]


def test_named_dataset_missing_columns_says_which(tmp_path, files):
    proc = run("ingest", str(files["licenses"]), "--dataset", "penalties", db=tmp_path / "c.duckdb")
    assert proc.returncode == 1
    [result] = json.loads(proc.stdout)
    assert result["message"].startswith("工作表「2021」缺少行政处罚（双公示）的必需列：")
    assert "行政处罚决定书文号" in result["message"]


def test_missing_file_is_a_one_line_chinese_error_and_nothing_loads(tmp_path, files):
    db = tmp_path / "credit.duckdb"
    proc = run("ingest", str(files["licenses"]), str(tmp_path / "没有这个文件.csv"), db=db)
    line = assert_one_line_error(proc)
    assert line == f"错误：文件不存在：{tmp_path / '没有这个文件.csv'}"
    assert proc.stdout == ""
    assert not db.exists() or query(db, "SELECT count(*) FROM licenses") == [(0,)]


@pytest.mark.parametrize(
    ("args", "mentions"),
    [
        (["ingest", "x.csv", "--dataset", "no_such_dataset"], "no_such_dataset"),
        (["ingest"], "FILE"),
        ([], "command"),
        (["ingest", "x.csv", "--no-such-option"], "--no-such-option"),
    ],
)
def test_bad_arguments_are_one_line_errors_without_traceback(tmp_path, args, mentions):
    line = assert_one_line_error(run(*args, env_db=tmp_path / "c.duckdb"))
    assert mentions in line


def test_a_database_path_that_is_a_directory_is_a_one_line_error(tmp_path, files):
    assert_one_line_error(run("ingest", str(files["licenses"]), db=tmp_path))
