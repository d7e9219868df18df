"""Loading an export into the store: detect, validate, upsert, log.

One file is one transaction: all its accepted rows or none. A row whose key
is stored already replaces the stored row (updated) unless it is identical
(unchanged), so loading the same file twice changes nothing. Every upload is
logged with its rejected rows, so analysts can fix and reload them.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from analytics import audit, store
from analytics import datasets as ds
from analytics import normalize as nz
from analytics.reader import ReadError, Sheet, read_file
from analytics.settings import load_settings

# Dates that record something that happened: a future one is a typo.
EVENT_DATES = {"report_date", "established", "listed_on", "decision_date", "filed_on", "closed_on"}
# Rejected rows kept in the upload log; the count is always exact.
MAX_LOGGED_REJECTED_ROWS = 5000
PREVIEW_ROWS = 20
# Columns the rejected-rows download adds to the file's own: on reload they are bookkeeping, not data.
REJECT_COLUMNS = ("工作表", "行号", "错误原因")

# One writer at a time inside this process; other processes wait on DuckDB's file lock.
_write_lock = threading.Lock()


@dataclass
class IngestResult:
    file: str
    dataset: str | None = None
    encoding: str | None = None
    rows_read: int = 0
    loaded: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    errors: list[dict] = field(default_factory=list)
    message: str | None = None
    skipped: list[dict] = field(default_factory=list)
    extra_columns: list[str] = field(default_factory=list)
    upload_id: int | None = None
    preview: pd.DataFrame | None = None
    rejected_rows: pd.DataFrame | None = None

    @property
    def ok(self) -> bool:
        return self.loaded + self.updated + self.unchanged > 0

    def to_dict(self) -> dict:
        """The documented fields, every one always present (message null when there is nothing to say)."""
        return {
            "file": self.file,
            "dataset": self.dataset,
            "encoding": self.encoding,
            "rows_read": self.rows_read,
            "loaded": self.loaded,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "errors": self.errors,
            "message": self.message,
        }


@dataclass
class _Prepared:
    """One sheet's rows, checked: accepted rows in canonical columns, and the rejected ones."""

    dataset: ds.Dataset
    sheet: Sheet
    accepted: pd.DataFrame  # canonical columns + _row + extra columns e0.. as text
    extra_headers: list[str]
    errors: list[dict]
    rejected: pd.DataFrame
    mapping: dict[int, str] = field(default_factory=dict)  # file column position → canonical column


# --- public entry points ---------------------------------------------------


def ingest_paths(db_path: str, paths: list, dataset: str | None = None, user: str | None = None) -> list[IngestResult]:
    """Load files in order; each in its own transaction."""
    settings = load_settings()
    results = []
    for path in paths:
        path = Path(path)
        try:
            size = path.stat().st_size
            if size > settings.max_upload_mb * 1024 * 1024:
                raise ReadError(f"文件过大（{size / 1024 / 1024:.0f} MB），超过上限 {settings.max_upload_mb} MB")
            data = path.read_bytes()
        except ReadError as exc:
            results.append(_refuse(db_path, IngestResult(file=path.name), b"", str(exc), user))
            continue
        except OSError as exc:
            results.append(IngestResult(file=str(path), message=f"无法读取文件：{exc.strerror or exc}"))
            continue
        results.append(ingest_bytes(db_path, data, path.name, dataset=dataset, user=user))
    return results


def ingest_bytes(
    db_path: str, data: bytes, file_name: str, dataset: str | None = None, user: str | None = None
) -> IngestResult:
    result = IngestResult(file=file_name)
    settings = load_settings()
    try:
        if dataset is not None and dataset not in ds.UPLOADABLE:
            raise ReadError(f"未知的数据集：{dataset}（可选：{'、'.join(ds.UPLOADABLE)}）")
        if len(data) > settings.max_upload_mb * 1024 * 1024:
            raise ReadError(f"文件过大（{len(data) / 1024 / 1024:.0f} MB），超过上限 {settings.max_upload_mb} MB")
        candidates = [ds.DATASETS[dataset]] if dataset else [ds.DATASETS[n] for n in ds.UPLOADABLE]
        read = read_file(data, file_name, _known_headers(candidates))
        result.encoding = read.encoding
        prepared = [_prepare(sheet, candidates) for sheet in read.sheets]
        if not prepared:
            raise ReadError(_no_match_message(candidates))
    except ReadError as exc:
        return _refuse(db_path, result, data, str(exc), user)

    result.dataset = ",".join(dict.fromkeys(p.dataset.name for p in prepared))
    result.rows_read = sum(len(p.sheet.frame) for p in prepared)
    result.skipped = [
        {"sheet": p.sheet.name, "row": row, "reason": why} for p in prepared for row, why in p.sheet.skipped
    ]
    result.extra_columns = list(dict.fromkeys(h for p in prepared for h in p.extra_headers))
    for p in prepared:
        result.errors.extend(p.errors)
    rejected_frames = [p.rejected for p in prepared if len(p.rejected)]
    result.rejected_rows = pd.concat(rejected_frames, ignore_index=True) if rejected_frames else None
    result.rejected = 0 if result.rejected_rows is None else len(result.rejected_rows)
    result.preview = pd.concat([p.accepted.head(PREVIEW_ROWS) for p in prepared], ignore_index=True).drop(
        columns=["_row"] + [c for c in prepared[0].accepted.columns if c.startswith("_e")], errors="ignore"
    )

    if not any(len(p.accepted) for p in prepared):
        result.message = "没有可导入的数据行：所有数据行均未通过校验" if result.rows_read else "文件中没有数据行"
        return _refuse(db_path, result, data, result.message, user)

    with _write_lock, store.connect(db_path, wait_seconds=settings.lock_wait_seconds) as con:
        con.execute("BEGIN TRANSACTION")
        try:
            result.upload_id = _next_id(con, "uploads")
            for dataset_prepared in _group_by_dataset(prepared, result):
                loaded, updated, unchanged = _upsert(con, dataset_prepared, result.upload_id)
                result.loaded += loaded
                result.updated += updated
                result.unchanged += unchanged
            _log_upload(con, result, data, user, "loaded")
            audit.record_upload(con, user, result, "loaded")
            _pause_for_tests()
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
    return result


# --- detection ---------------------------------------------------------------


def _known_headers(candidates: list[ds.Dataset]) -> set[str]:
    return {key for d in candidates for key in ds.header_index(d)}


def _match(sheet: Sheet, dataset: ds.Dataset) -> dict[int, str]:
    """File column position → canonical column, first occurrence winning."""
    index = ds.header_index(dataset)
    mapping: dict[int, str] = {}
    for position, header in enumerate(sheet.headers):
        name = index.get(nz.header_key(header))
        if name and name not in mapping.values():
            mapping[position] = name
    return mapping


def _missing(dataset: ds.Dataset, mapping: dict[int, str]) -> list[str]:
    present = set(mapping.values())
    return [c.label for c in dataset.required if c.name not in present]


def _detect(sheet: Sheet, candidates: list[ds.Dataset]) -> tuple[ds.Dataset, dict[int, str]]:
    scored = [(d, _match(sheet, d)) for d in candidates]
    complete = [(d, m) for d, m in scored if not _missing(d, m)]
    if complete:
        return max(complete, key=lambda dm: len(dm[1]))
    best, mapping = max(scored, key=lambda dm: len(dm[1]) - len(_missing(*dm)))
    where = f"工作表「{sheet.name}」" if sheet.name else "文件"
    raise ReadError(f"{where}缺少{best.title}的必需列：{'、'.join(_missing(best, mapping))}")


def _no_match_message(candidates: list[ds.Dataset]) -> str:
    if len(candidates) == 1:
        return f"未找到{candidates[0].title}的表头，请确认文件内容与所选数据集一致"
    return "表头与任何数据集都不匹配：未识别出数据集（请确认表头为系统导出的标准列名）"


# --- validation ----------------------------------------------------------------


def _prepare(sheet: Sheet, candidates: list[ds.Dataset]) -> _Prepared:
    dataset, mapping = _detect(sheet, candidates)
    frame = sheet.frame
    n = len(frame)
    row_errors: list[list[str]] = [[] for _ in range(n)]
    error_list: list[dict] = []
    by_name = {name: position for position, name in mapping.items()}
    parsed: dict[str, np.ndarray] = {}
    invalid: dict[str, np.ndarray] = {}  # cells that failed to parse, by column

    def fail(mask: np.ndarray, column_label: str, reasons) -> None:
        for i in np.flatnonzero(mask):
            reason = reasons if isinstance(reasons, str) else reasons[i]
            row_errors[i].append(f"{column_label}：{reason}")
            error_list.append({"sheet": sheet.name, "row": sheet.rows[i], "column": column_label, "reason": reason})

    for column in dataset.columns:
        if column.name not in by_name or column.kind == ds.DEADLINE:
            continue
        label = sheet.headers[by_name[column.name]].strip() or column.label
        values, reasons = _parse_column(frame[by_name[column.name]], column)
        invalid[column.name] = reasons != None  # noqa: E711 - elementwise on an object array
        fail(invalid[column.name], label, reasons)
        if column.required:
            fail((values == None) & (reasons == None), label, "必填项为空")  # noqa: E711
        if column.kind == ds.DATE and column.name in EVENT_DATES:
            today = date.today()
            future = np.array([v is not None and v > today for v in values], dtype=bool)
            fail(future, label, "日期晚于今天，不合理")
        parsed[column.name] = values

    if "deadline" in by_name:
        label = sheet.headers[by_name["deadline"]].strip()
        starts = parsed.get("filed_on", np.full(n, None, dtype=object))
        deadlines = np.full(n, None, dtype=object)
        for i, raw in enumerate(frame[by_name["deadline"]].to_numpy()):
            try:
                deadlines[i] = nz.parse_deadline(raw, starts[i])
            except nz.Invalid as exc:
                fail(np.arange(n) == i, label, str(exc))
        parsed["deadline"] = deadlines

    if dataset.subject_rule:
        _apply_subject_rule(parsed, invalid, n, fail, sheet, by_name)
    error_list.sort(key=lambda e: e["row"])

    accepted_mask = np.array([not e for e in row_errors], dtype=bool)
    accepted = pd.DataFrame({name: values[accepted_mask] for name, values in parsed.items()})
    accepted.insert(0, "_row", np.asarray(sheet.rows, dtype=np.int64)[accepted_mask])

    extra_positions = [
        p
        for p, h in enumerate(sheet.headers)
        if p not in mapping and h.strip() not in REJECT_COLUMNS and (h.strip() or _has_data(frame[p]))
    ]
    # Unique names: two unknown columns both headed 联系电话 must not share one JSON key (one would be lost).
    unique_headers = _unique_headers(sheet.headers)
    extra_headers = [unique_headers[p] for p in extra_positions]
    for k, position in enumerate(extra_positions):
        accepted[f"_e{k}"] = frame[position].to_numpy()[accepted_mask]

    reasons = ["；".join(e) for e in row_errors if e]
    rejected = _rejected_frame(sheet, dataset, mapping, np.flatnonzero(~accepted_mask), reasons)
    return _Prepared(dataset, sheet, accepted, extra_headers, error_list, rejected, mapping)


def _rejected_frame(
    sheet: Sheet, dataset: ds.Dataset, mapping: dict[int, str], indices: np.ndarray, reasons: list[str]
) -> pd.DataFrame:
    """Rejected rows as read, for download and reload: the file's headers, 行号, 错误原因."""
    rejected = sheet.frame.iloc[indices].copy()
    # ID numbers are stored only masked, rejected rows (kept in the upload log) included.
    for position, name in mapping.items():
        if dataset.column(name).kind == ds.ID_NO:
            rejected[position] = rejected[position].map(lambda v: nz.mask_id_number(v) or "")
    # A natural person carries no credit code: what some exports put there instead is the ID number.
    by_name = {name: position for position, name in mapping.items()}
    if dataset.subject_rule and {"subject_type", "credit_code"} <= by_name.keys():
        kind = rejected[by_name["subject_type"]].map(lambda v: (nz.clean_text(v) or "").replace(" ", ""))
        person = (kind == "自然人").to_numpy()
        code = rejected[by_name["credit_code"]]
        rejected[by_name["credit_code"]] = code.where(~person, code.map(lambda v: nz.mask_id_number(v) or ""))
    rejected.columns = _unique_headers(sheet.headers)
    # A reloaded rejected-rows download carries the previous upload's bookkeeping: replaced below.
    rejected = rejected.drop(columns=[c for c in REJECT_COLUMNS if c in rejected.columns])
    rejected.insert(0, "行号", np.asarray(sheet.rows, dtype=np.int64)[indices])
    if sheet.name:
        rejected.insert(0, "工作表", sheet.name)
    rejected["错误原因"] = reasons
    return rejected.reset_index(drop=True)


def _has_data(column: pd.Series) -> bool:
    return bool((column.str.strip() != "").any())


def _unique_headers(headers: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for position, header in enumerate(headers):
        name = header.strip() or f"第{position + 1}列"
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}({seen[name]})")
    return out


def _parser(column: ds.Column):
    kind = column.kind
    if kind == ds.CODE:
        return nz.parse_credit_code
    if kind == ds.DOC:
        return nz.clean_code
    if kind == ds.DATE:
        return nz.parse_date
    if kind == ds.AMOUNT:
        return nz.parse_amount
    if kind == ds.PERCENT:
        return nz.parse_percent
    if kind == ds.POINT_ID:
        return nz.parse_point_id
    if kind == ds.BOOL:
        return nz.parse_bool
    if kind == ds.CHOICE:
        return lambda v: nz.parse_choice(v, column.choices)
    if kind == ds.ID_NO:
        return nz.mask_id_number
    return nz.clean_text


def _parse_column(raw: pd.Series, column: ds.Column) -> tuple[np.ndarray, np.ndarray]:
    """Parse each distinct cell once: (values, reasons) as object arrays, reason None when valid."""
    codes, uniques = pd.factorize(raw, use_na_sentinel=False)
    parse = _parser(column)
    values = np.empty(len(uniques), dtype=object)
    reasons = np.empty(len(uniques), dtype=object)
    for i, cell in enumerate(uniques):
        try:
            values[i] = parse(cell)
        except nz.Invalid as exc:
            reasons[i] = str(exc)
    return values[codes], reasons[codes]


def _apply_subject_rule(parsed: dict, invalid: dict, n: int, fail, sheet: Sheet, by_name: dict) -> None:
    """Natural persons carry no credit code; everyone else must have one."""
    subject_type = parsed.get("subject_type", np.full(n, None, dtype=object))
    codes = parsed.get("credit_code", np.full(n, None, dtype=object))
    person = subject_type == "自然人"
    codes = np.where(person, None, codes)
    label = sheet.headers[by_name["credit_code"]].strip() if "credit_code" in by_name else "统一社会信用代码"
    empty = (codes == None) & ~invalid.get("credit_code", np.zeros(n, dtype=bool))  # noqa: E711
    fail(~person & empty, label, "非自然人的统一社会信用代码为必填项")
    parsed["credit_code"] = codes


# --- writing -------------------------------------------------------------------


def _group_by_dataset(prepared: list[_Prepared], result: IngestResult) -> list[_Prepared]:
    """Sheets of one dataset are written together; a key seen twice keeps its first row."""
    grouped = []
    for name in dict.fromkeys(p.dataset.name for p in prepared):
        parts = [p for p in prepared if p.dataset.name == name]
        frame = pd.concat([p.accepted for p in parts], ignore_index=True) if len(parts) > 1 else parts[0].accepted
        extras = list(dict.fromkeys(h for p in parts for h in p.extra_headers))
        if len(parts) > 1:
            frame = _align_extras(parts, extras)
        key = list(parts[0].dataset.key)
        dup = frame.duplicated(subset=key, keep="first").to_numpy()
        if dup.any():
            _reject_duplicates(parts, frame, dup, key, result)
            frame = frame[~dup].reset_index(drop=True)
        grouped.append(_Prepared(parts[0].dataset, parts[0].sheet, frame, extras, [], pd.DataFrame()))
    return grouped


def _reject_duplicates(parts: list[_Prepared], frame: pd.DataFrame, dup: np.ndarray, key: list, result) -> None:
    """The later row of a key seen twice is rejected, naming the first (and its sheet, if another)."""
    part_of_row = np.concatenate([np.full(len(p.accepted), k) for k, p in enumerate(parts)])
    firsts = frame.assign(_part=part_of_row)[~dup].set_index(key)
    labels = "、".join(parts[0].dataset.column(c).label for c in key)
    positions: dict[int, list[int]] = {}
    reasons: dict[int, list[str]] = {}
    row_index: dict[int, dict[int, int]] = {}  # file row number → position in the sheet, per part
    for i in np.flatnonzero(dup):
        k = tuple(frame.loc[i, key]) if len(key) > 1 else frame.loc[i, key[0]]
        first_row, first_part = int(firsts.loc[k, "_row"]), int(firsts.loc[k, "_part"])
        part = int(part_of_row[i])
        where = f"工作表「{parts[first_part].sheet.name}」" if first_part != part else ""
        reason = f"与{where}第 {first_row} 行的键重复（{labels}）"
        row = int(frame.loc[i, "_row"])
        result.errors.append({"sheet": parts[part].sheet.name, "row": row, "column": "", "reason": reason})
        if part not in row_index:
            row_index[part] = {r: j for j, r in enumerate(parts[part].sheet.rows)}
        positions.setdefault(part, []).append(row_index[part][row])
        reasons.setdefault(part, []).append(reason)
        result.rejected += 1
    # Rejected for a duplicate key is rejected all the same: in the download and the upload log too.
    frames = [] if result.rejected_rows is None else [result.rejected_rows]
    for part, where in positions.items():
        p = parts[part]
        frames.append(_rejected_frame(p.sheet, p.dataset, p.mapping, np.asarray(where), reasons[part]))
    result.rejected_rows = pd.concat(frames, ignore_index=True)


def _align_extras(parts: list[_Prepared], extras: list[str]) -> pd.DataFrame:
    frames = []
    for p in parts:
        frame = p.accepted.rename(columns={f"_e{k}": f"_x{extras.index(h)}" for k, h in enumerate(p.extra_headers)})
        frames.append(frame)
    merged = pd.concat(frames, ignore_index=True)
    return merged.rename(columns={f"_x{k}": f"_e{k}" for k in range(len(extras))})


def _table_columns(con, table: str) -> list[tuple[str, str]]:
    return [
        (name, dtype)
        for name, dtype in con.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position",
            [table],
        ).fetchall()
    ]


def _upsert(con, prepared: _Prepared, upload_id: int) -> tuple[int, int, int]:
    """(loaded, updated, unchanged). Identifiers come from the schema only; values are bound."""
    dataset = prepared.dataset
    table = dataset.name
    columns = _table_columns(con, table)
    stage_df = prepared.accepted
    con.register("stage_df", stage_df)
    try:
        select, params = [], []
        for name, dtype in columns:
            if name == "upload_id":
                select.append(f"CAST(? AS INTEGER) AS {name}")
                params.append(upload_id)
            elif name == "extra":
                extra_sql, extra_params = _extra_sql(prepared.extra_headers)
                select.append(extra_sql + " AS extra")
                params.extend(extra_params)
            elif name in stage_df.columns:
                select.append(f"CAST({name} AS {dtype}) AS {name}")
            else:
                select.append(f"CAST(NULL AS {dtype}) AS {name}")
        con.execute("DROP TABLE IF EXISTS stage")
        con.execute(f"CREATE TEMP TABLE stage AS SELECT {', '.join(select)} FROM stage_df", params)
    finally:
        con.unregister("stage_df")

    key_match = " AND ".join(f"t.{k} = s.{k}" for k in dataset.key)
    compared = [name for name, _ in columns if name not in ("upload_id",) and name not in dataset.key]
    differs = " OR ".join(f"t.{c} IS DISTINCT FROM s.{c}" for c in compared) or "FALSE"
    con.execute(
        f"INSERT INTO replaced_rows SELECT ?, ?, to_json(t) FROM {table} t JOIN stage s ON {key_match} WHERE {differs}",
        [upload_id, table],
    )
    updated = con.execute("SELECT count(*) FROM replaced_rows WHERE upload_id = ? AND dataset = ?", [upload_id, table])
    updated = updated.fetchall()[0][0]
    con.execute(f"DELETE FROM {table} t USING stage s WHERE {key_match} AND ({differs})")
    inserted = con.execute(
        f"INSERT INTO {table} SELECT s.* FROM stage s WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE {key_match})"
    ).fetchall()[0][0]
    con.execute("DROP TABLE stage")
    return inserted - updated, updated, len(stage_df) - inserted


def _extra_sql(extra_headers: list[str]) -> tuple[str, list[str]]:
    """Unknown columns as one JSON object per row (NULL when all of them are empty), and its key parameters.

    Only filled cells, keys in name order: the same data must give the same JSON whatever the
    column order, and whatever other sheets of the workbook had, so that a re-upload compares
    equal (unchanged) instead of counting as an update.
    """
    if not extra_headers:
        return "CAST(NULL AS JSON)", []
    cells = [f"nullif(trim(_e{k}), '')" for k in range(len(extra_headers))]
    order = sorted(range(len(extra_headers)), key=lambda k: extra_headers[k])
    entries = ", ".join(f"{{'k': ?, 'v': {cells[k]}}}" for k in order)
    filled = f"map_from_entries(list_filter([{entries}], lambda e: e.v IS NOT NULL))"
    sql = f"CASE WHEN coalesce({', '.join(cells)}) IS NULL THEN NULL ELSE to_json({filled}) END"
    return sql, [extra_headers[k] for k in order]


def _next_id(con, table: str) -> int:
    return con.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}").fetchall()[0][0]


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _log_upload(con, result: IngestResult, data: bytes, user: str | None, status: str) -> None:
    rejected = None
    if result.rejected_rows is not None and len(result.rejected_rows):
        rejected = result.rejected_rows.head(MAX_LOGGED_REJECTED_ROWS).to_dict(orient="records")
    con.execute(
        "INSERT INTO uploads (id, uploaded_at, user_name, file_name, sha256, dataset, encoding, rows_read, loaded,"
        " updated, unchanged, rejected, errors, rejected_rows, extra_columns, status, message)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            result.upload_id,
            datetime.now(),
            user,
            result.file,
            hashlib.sha256(data).hexdigest(),
            result.dataset,
            result.encoding,
            result.rows_read,
            result.loaded,
            result.updated,
            result.unchanged,
            result.rejected,
            _json(result.errors),
            _json(rejected) if rejected else None,
            _json(result.extra_columns) if result.extra_columns else None,
            status,
            result.message,
        ],
    )


def _refuse(db_path: str, result: IngestResult, data: bytes, message: str, user: str | None) -> IngestResult:
    """Log a file that loads nothing; the data tables stay as they were."""
    result.message = message
    try:
        with _write_lock, store.connect(db_path, wait_seconds=load_settings().lock_wait_seconds) as con:
            con.execute("BEGIN TRANSACTION")  # closing without COMMIT rolls back
            result.upload_id = _next_id(con, "uploads")
            _log_upload(con, result, data, user, "refused")
            audit.record_upload(con, user, result, "refused")
            con.execute("COMMIT")
    except store.StoreBusy:
        pass  # the refusal is still reported to the caller
    return result


def _pause_for_tests() -> None:
    """Test-only hook: with CREDIT_TEST_PAUSE_IN_LOAD=PATH set, a load stops inside its
    transaction, just before COMMIT: it creates PATH.paused, then waits (60 s at most)
    until PATH exists. Crash and concurrency tests kill or race the process there."""
    gate = os.environ.get("CREDIT_TEST_PAUSE_IN_LOAD")
    if not gate:
        return
    Path(gate + ".paused").touch()
    deadline = time.monotonic() + 60
    while not os.path.exists(gate):
        if time.monotonic() > deadline:
            raise TimeoutError(f"CREDIT_TEST_PAUSE_IN_LOAD: {gate} did not appear")
        time.sleep(0.01)
