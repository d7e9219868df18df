"""Loading an export into the store: detect, validate, upsert, log.

One file is one transaction: all its accepted rows or none. A row whose key
is stored already replaces the stored row (updated) unless it is identical
(unchanged), so loading the same file twice changes nothing. Every upload is
logged with its rejected rows, so analysts can fix and reload them.

A file is read a chunk of rows at a time (``reader.CHUNK_ROWS``): each chunk
is checked, its accepted rows are appended to a temporary table per dataset
(on a writer thread, while the next chunk is checked), and one upsert per
dataset follows, then COMMIT. Memory follows the chunk, not the file.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as futures_wait
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analytics import normalize as nz
from analytics.intake import columns, derive, matching, periods
from analytics.intake import datasets as ds
from analytics.intake.reader import Chunk, FileData, ReadError, Restart, SheetSource, open_file
from analytics.settings import load_settings
from analytics.storage import audit, snapshots, store

# Dates that record something that happened: a future one is a typo.
EVENT_DATES = {"report_date", "established", "listed_on", "decision_date", "filed_on", "closed_on"}
# Rejected rows kept in the upload log; the count is always exact.
MAX_LOGGED_REJECTED_ROWS = 5000
# Kinds where a placeholder like "/" or "无" stands for an empty cell (text keeps them as written).
PLACEHOLDER_KINDS = {
    ds.DATE,
    ds.AMOUNT,
    ds.PERCENT,
    ds.BOOL,
    ds.SUBJECT_CODE,
    ds.ORG_CODE,
    ds.REG_NO,
}  # 办理时限 is read with its filing date
PREVIEW_ROWS = 20
# Derived by matching.py after the rows are stored: never compared, so a reload stays unchanged.
LINKS = ("entity_code", "match_method", "subject_code")
# Columns the rejected-rows download adds to the file's own: on reload they are bookkeeping, not data.
REJECT_COLUMNS = ("工作表", "行号", "错误原因")

# Columns of a chunk are parsed side by side, one per core (see _check); the file is hashed alongside, apart,
# so that hashing a large file never holds one of the parsers' threads.
_pool = ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2), thread_name_prefix="ingest")
_hasher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-hash")
# A chunk's duplicate check and its append to staging (DuckDB, which lets go of the GIL) run here while the
# next chunk is checked: see _ChunkWriter.
_writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-write")


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
    # Per dataset loaded: the period the file covers (coverage.py), as recorded in upload_coverage.
    coverage: dict[str, tuple[date, date]] = field(default_factory=dict)
    cleaned_cells: int = 0  # cells that held invisible format characters (bidi overrides …), removed
    # Values given for the whole file (--set, the upload page's fields; a list's name from its title row):
    # canonical column → value, and where a value came from when the analyst did not give it.
    set_values: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # What a refused file lacked, for the upload page's fields: the closest dataset and its missing columns.
    missing: dict[str, list[str]] = field(default_factory=dict)
    # How the subjects were identified: rows by identifier kind (credit_code, org_code, … name).
    identified_by: dict[str, int] = field(default_factory=dict)
    # Register values the file did not carry, by column and how they were found (derive.py), and warnings.
    derived: dict[str, dict[str, int]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

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
            "cleaned_cells": self.cleaned_cells,
            "set_values": self.set_values,
            "notes": self.notes,
            "identified_by": self.identified_by,
            "derived": self.derived,
            "warnings": self.warnings,
        }


@dataclass
class _Part:
    """One sheet of the file and the dataset its header matched."""

    sheet: SheetSource
    dataset: ds.Dataset
    mapping: dict[int, str]  # file column position → canonical column, first occurrence winning
    index: int = 0  # among the sheets of its dataset, in file order
    extra_headers: list[str] = field(default_factory=list)  # its unknown columns, kept in extra
    cleaned_cells: int = 0  # cells that held invisible format characters, in the pass being read
    fills: dict[str, str] = field(default_factory=dict)  # canonical column → value for its empty cells
    notes: list[str] = field(default_factory=list)  # for the upload report, in the pass being read
    identified_by: dict[str, int] = field(default_factory=dict)  # rows by identifier kind, in the pass being read
    derived: dict[str, Counter] = field(default_factory=dict)  # derive.entities' counts, in that pass
    unknown_sectors: Counter = field(default_factory=Counter)


@dataclass
class _Checked:
    """One chunk's rows, checked: the accepted ones in canonical columns, and the rest."""

    accepted: pa.Table  # canonical columns, _row, and each unknown column's text as _x<position>
    positions: np.ndarray  # of the accepted rows in the chunk
    errors: list[dict]
    rejected: pd.DataFrame | None


@dataclass
class _Staged:
    """One dataset's accepted rows, in a temporary table until the upsert."""

    dataset: ds.Dataset
    table: str
    parts: list[_Part] = field(default_factory=list)
    extra_columns: dict[str, str] = field(default_factory=dict)  # unknown column's header → staging column
    rows: int = 0
    duplicate_errors: list[dict] = field(default_factory=list)
    duplicate_rejects: list[pd.DataFrame] = field(default_factory=list)

    @property
    def extra_headers(self) -> list[str]:
        return list(dict.fromkeys(h for p in self.parts for h in p.extra_headers))


# --- public entry points ---------------------------------------------------


def ingest_paths(
    db_path: str,
    paths: list,
    dataset: str | None = None,
    user: str | None = None,
    covers: tuple[date, date] | None = None,
    fills: dict[str, str] | None = None,
) -> list[IngestResult]:
    """Load files in order; each in its own transaction. A file is read from disk in pieces, not held whole.
    ``covers``: the period the files cover, as the analyst states it (periods.parse_covers); by default
    each file's own dates, or the upload day for the register and the lists. ``fills``: header → value for
    the whole file (ingest --set): it fills that column where the file has none or the cell is empty."""
    results = []
    for path in paths:
        path = Path(path)
        try:
            source = FileData(path=path)
            if not _too_large(source):
                path.open("rb").close()  # a directory or an unreadable file fails here, with the system's reason
        except OSError as exc:
            results.append(IngestResult(file=str(path), message=f"无法读取文件：{exc.strerror or exc}"))
            continue
        results.append(_ingest(db_path, source, path.name, dataset, user, covers, fills))
    return results


def ingest_bytes(
    db_path: str,
    data: bytes,
    file_name: str,
    dataset: str | None = None,
    user: str | None = None,
    covers: tuple[date, date] | None = None,
    fills: dict[str, str] | None = None,
) -> IngestResult:
    return _ingest(db_path, FileData(data), file_name, dataset, user, covers, fills)


def _ingest(
    db_path: str,
    data: FileData,
    file_name: str,
    dataset: str | None,
    user: str | None,
    covers: tuple[date, date] | None = None,
    fills: dict[str, str] | None = None,
) -> IngestResult:
    result = IngestResult(file=file_name)
    settings = load_settings()
    if message := _too_large(data):  # refused unread: its log entry hashes no bytes
        return _refuse(db_path, result, FileData(b""), message, user)
    try:
        if dataset is not None and dataset not in ds.UPLOADABLE:
            raise ReadError(f"未知的数据集：{dataset}（可选：{'、'.join(ds.UPLOADABLE)}）")
        candidates = [ds.DATASETS[dataset]] if dataset else [ds.DATASETS[n] for n in ds.UPLOADABLE]
        _check_fills(fills or {}, candidates)
        opened = open_file(data, file_name, _known_headers(candidates))
        result.encoding = opened.encoding
        parts = [_Part(sheet, *_detect(sheet, candidates, fills or {}, result)) for sheet in opened.sheets]
        if not parts:
            raise ReadError(_no_match_message(candidates, opened, result))
        for part in parts:
            part.fills = _resolve_fills(part.dataset, fills or {})
            _list_name_from_title(part, result)
            result.set_values |= part.fills
    except ReadError as exc:
        return _refuse(db_path, result, data, str(exc), user)
    result.dataset = ",".join(dict.fromkeys(p.dataset.name for p in parts))
    digest = _hasher.submit(data.sha256)  # alongside the reading: hashlib lets go of the GIL

    try:
        # Announced before waiting for the lock; pages read the published snapshot meanwhile (snapshots.py).
        with (
            snapshots.announce(db_path, f"导入{_titles(result.dataset)}", user),
            store.write_lock,
            store.connect(db_path, wait_seconds=settings.lock_wait_seconds) as con,
        ):
            snapshots.ensure(con, db_path)
            con.execute("BEGIN TRANSACTION")
            try:
                staged = _stage(con, parts, result)
                if not any(s.rows for s in staged):
                    result.message = (
                        "没有可导入的数据行：所有数据行均未通过校验" if result.rows_read else "文件中没有数据行"
                    )
                    raise _NothingToLoad
                result.upload_id = _next_id(con, "uploads")
                _record_coverage(con, staged, result, covers)  # before the upsert empties the staging tables
                for dataset_staged in staged:
                    loaded, updated, unchanged = _upsert(con, dataset_staged, result.upload_id)
                    result.loaded += loaded
                    result.updated += updated
                    result.unchanged += unchanged
                _relink(con, staged, result.upload_id)
                _log_upload(con, result, digest, user, "loaded")
                audit.record_upload(con, user, result, "loaded")
                _pause_for_tests()
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
            snapshots.publish(con, db_path)  # still holding the file: the next page run reads this load
    except _NothingToLoad:
        return _refuse(db_path, result, data, result.message, user)
    except ReadError as exc:  # found while reading the rows: the file is refused as a whole, as if never read
        return _refuse(db_path, IngestResult(file=file_name, encoding=result.encoding), data, str(exc), user)
    return result


def _record_coverage(con, staged: list[_Staged], result: IngestResult, covers: tuple[date, date] | None) -> None:
    """The period each dataset of the file covers, into upload_coverage (in the load's transaction)."""
    today = date.today()
    for stage in staged:
        name = stage.dataset.name
        if not stage.rows:
            continue
        if name in periods.SNAPSHOTS:  # a snapshot: of the stated date (the period's last day) or of today
            period = (covers[1], covers[1]) if covers else (today, today)
        elif name in periods.MAIN_DATE:
            column = periods.MAIN_DATE[name]
            period = covers or con.execute(f"SELECT min({column}), max({column}) FROM {stage.table}").fetchone()
        else:
            continue
        result.coverage[name] = (period[0], period[1])
        con.execute(
            "INSERT INTO upload_coverage VALUES (?, ?, ?, ?, ?)",
            [result.upload_id, name, period[0], period[1], covers is not None],
        )


def _too_large(data: FileData) -> str | None:
    limit = load_settings().max_upload_mb
    if data.size > limit * 1024 * 1024:
        return f"文件过大（{data.size / 1024 / 1024:.0f} MB），超过上限 {limit} MB"
    return None


class _NothingToLoad(Exception):
    """Every row was rejected, or there were none."""


# --- detection ---------------------------------------------------------------


def _known_headers(candidates: list[ds.Dataset]) -> set[str]:
    return {key for d in candidates for key in ds.header_index(d)}


def _match(sheet: SheetSource, dataset: ds.Dataset) -> dict[int, str]:
    """File column position → canonical column, first occurrence winning."""
    index = ds.header_index(dataset)
    mapping: dict[int, str] = {}
    for position, header in enumerate(sheet.headers):
        name = index.get(nz.header_key(header))
        if name and name not in mapping.values():
            mapping[position] = name
    return mapping


def _detect(
    sheet: SheetSource, candidates: list[ds.Dataset], fills: dict[str, str], result: IngestResult
) -> tuple[ds.Dataset, dict[int, str]]:
    scored = [(d, _match(sheet, d)) for d in candidates]
    complete = [(d, m) for d, m in scored if not _missing(d, m, fills, sheet)]
    if complete:
        return max(complete, key=lambda dm: len(dm[1]))

    def closeness(dm: tuple[ds.Dataset, dict[int, str]]) -> tuple[bool, int]:
        # A dataset the file can complete by giving one value per missing column comes first: a published
        # list of names and codes is a severe list lacking its 名单名称, not a register lacking codes.
        missing = _missing(dm[0], dm[1], fills, sheet)
        return _all_one_per_file(dm[0], missing), len(dm[1]) - len(missing)

    best, mapping = max(scored, key=closeness)
    missing = _missing(best, mapping, fills, sheet)
    where = f"工作表「{sheet.name}」" if sheet.name else "文件"
    text = f"{where}缺少{best.title}的必需列：{'、'.join(missing)}。"
    raise ReadError(text + _how_to_give(best, missing, result))


def _all_one_per_file(dataset: ds.Dataset, labels: list[str]) -> bool:
    by_label = {c.label: c for c in dataset.columns}
    return all(by_label[label].one_per_file for label in labels)


def _how_to_give(dataset: ds.Dataset, missing: list[str], result: IngestResult | None, flag: str = "") -> str:
    """How the analyst completes the file; a column that may hold one value for the whole file is offered
    as fields on the upload page (``result.missing``) and as ``--set``."""
    if not _all_one_per_file(dataset, missing):
        return "这些列每行不同，请在导出时选上这些列，或把表头改为标准列名后重新上传"
    if result is not None:
        result.missing = {dataset.name: missing}
    sets = " ".join(f"--set {label}=…" for label in missing)
    return f"如整个文件取同一值，可在命令行加 {sets}{flag}，或在上传页面填写这些列后重新导入"


def _missing(
    dataset: ds.Dataset, mapping: dict[int, str], fills: dict[str, str] | None = None, sheet=None
) -> list[str]:
    present = set(mapping.values()) | set(_resolve_fills(dataset, fills or {}))
    if dataset.name == "severe_list" and sheet is not None and _title_list_name(sheet):
        present.add("list_name")
    return [c.label for c in dataset.required if c.name not in present]


def _resolve_fills(dataset: ds.Dataset, fills: dict[str, str]) -> dict[str, str]:
    """``fills`` (any accepted header of the dataset → value) by canonical column."""
    index = ds.header_index(dataset)
    names = {c.name for c in dataset.columns}
    resolved = {}
    for header, value in fills.items():
        name = index.get(nz.header_key(header)) or (header if header in names else None)
        if name and nz.clean_text(value) is not None:
            resolved[name] = nz.clean_text(value)
    return resolved


def _check_fills(fills: dict[str, str], candidates: list[ds.Dataset]) -> None:
    unknown = [h for h in fills if not any(_resolve_fills(d, {h: fills[h] or "x"}) for d in candidates)]
    if unknown:
        raise ReadError(f"--set 的列名不属于{'或'.join(d.title for d in candidates[:3])}：{'、'.join(unknown)}")
    per_row = [
        h
        for h in fills
        if not any(d.column(name).one_per_file for d in candidates for name in _resolve_fills(d, {h: fills[h] or "x"}))
    ]
    if per_row:
        raise ReadError(f"这些列每行的值不同，不能整个文件统一填写：{'、'.join(per_row)}；请在文件中提供这些列")


def _title_list_name(sheet: SheetSource) -> str | None:
    """A list's name as published lists give it: in a title row above the header, else in the sheet's name,
    when either names a 名单."""
    for text in [*getattr(sheet, "titles", []), sheet.name or ""]:
        text = nz.clean_text(text)
        if text and "名单" in text and len(text) <= 100:
            return text
    return None


def _list_name_from_title(part: _Part, result: IngestResult) -> None:
    if part.dataset.name != "severe_list" or "list_name" in part.mapping.values() or "list_name" in part.fills:
        return
    if name := _title_list_name(part.sheet):
        part.fills["list_name"] = name
        where = "标题行" if name in [nz.clean_text(t) for t in getattr(part.sheet, "titles", [])] else "工作表名称"
        result.notes.append(f"名单名称取自{where}：{name}")


def _no_match_message(candidates: list[ds.Dataset], opened=None, result: IngestResult | None = None) -> str:
    """What a refusal teaches: the header row read, and for the two closest datasets the columns recognised
    and the required ones missing, with how to give them."""
    if len(candidates) == 1:
        text = f"未找到{candidates[0].title}的表头，请确认文件内容与所选数据集一致"
    else:
        text = "表头与任何数据集都不匹配：未识别出数据集（请确认表头为系统导出的标准列名）"
    guesses = getattr(opened, "header_guesses", None) or []
    if not guesses:
        return text
    sheet, row, cells = guesses[0]
    where = f"工作表「{sheet}」" if sheet else ""
    shown = "、".join(c or "（空）" for c in cells[:20]) + ("…" if len(cells) > 20 else "")
    text += f"。读作表头的是{where}第 {row} 行：{shown}"
    scored = []
    for dataset in candidates:
        index = ds.header_index(dataset)
        found = {index[nz.header_key(c)]: c for c in cells if c and nz.header_key(c) in index}
        missing = [c.label for c in dataset.required if c.name not in found]
        completable = _all_one_per_file(dataset, missing)
        scored.append((len(found) > 0, completable, len(found) - len(missing), dataset, list(found.values()), missing))
    scored.sort(key=lambda s: s[:3], reverse=True)
    closest = [s for s in scored[:2] if s[0]]
    for *_, dataset, found, missing in closest:
        text += f"。最接近「{dataset.title}」：识别出 {'、'.join(found)}；缺少必需列 {'、'.join(missing)}"
    if closest:
        dataset, missing = closest[0][3], closest[0][5]
        text += "。" + _how_to_give(dataset, missing, result, f" --dataset {dataset.name}")
    return text


# --- validation ----------------------------------------------------------------


def _stage(con, parts: list[_Part], result: IngestResult) -> list[_Staged]:
    """Read every sheet a chunk at a time: check the rows, reject keys seen before in the file, and
    append the accepted rows to one temporary table per dataset. Fills in the result's counts,
    skipped rows, errors, rejected rows and preview."""
    while True:
        staged: dict[str, _Staged] = {}
        read = IngestResult(file=result.file)
        for part in parts:
            part.cleaned_cells = 0
            part.identified_by, part.notes = {}, []
            part.derived, part.unknown_sectors = {}, Counter()
        try:
            _read_parts(con, parts, staged, read)
            break
        except Restart:  # the reader must start over: so do we
            for table in staged.values():
                con.execute(f"DROP TABLE {table.table}")
    for name in ("rows_read", "skipped", "errors", "preview"):
        setattr(result, name, getattr(read, name))
    result.errors += [e for s in staged.values() for e in s.duplicate_errors]
    rejected = [read.rejected_rows] if read.rejected_rows is not None else []
    rejected += [frame for s in staged.values() for frame in s.duplicate_rejects]
    result.rejected_rows = pd.concat(rejected, ignore_index=True) if rejected else None
    result.rejected = 0 if result.rejected_rows is None else len(result.rejected_rows)
    result.extra_columns = list(dict.fromkeys(h for p in parts for h in p.extra_headers))
    result.cleaned_cells = sum(p.cleaned_cells for p in parts)
    for part in parts:
        for kind, count in part.identified_by.items():
            result.identified_by[kind] = result.identified_by.get(kind, 0) + count
        result.notes += part.notes
    result.derived, result.warnings = derive.summary(parts)
    return list(staged.values())


def _read_parts(con, parts: list[_Part], staged: dict[str, _Staged], out: IngestResult) -> None:
    rejected, previews = [], []
    writes = _ChunkWriter()
    try:
        for part in parts:
            writes.wait()  # the connection is ours again: a staging table may be created
            stage = staged.get(part.dataset.name)
            if stage is None:
                stage = staged[part.dataset.name] = _new_stage(con, part.dataset)
            part.index = len(stage.parts)
            stage.parts.append(part)
            sheet = part.sheet
            out.skipped += [{"sheet": sheet.name, "row": row, "reason": why} for row, why in sheet.skipped]
            blank_with_data: set[int] = set()
            preview_rows = 0
            for chunk in sheet.chunks():
                unknown = _unknown_columns(part)  # once reading has begun: a row wider than the header widens it
                out.rows_read += chunk.table.num_rows
                out.skipped += [{"sheet": sheet.name, "row": row, "reason": why} for row, why in chunk.skipped]
                checked = _check(chunk, part, unknown)
                out.errors += checked.errors
                if checked.rejected is not None:
                    rejected.append(checked.rejected)
                blank_with_data |= {
                    p for p in unknown if not sheet.headers[p].strip() and _has_data(chunk.table.column(p))
                }
                if preview_rows < PREVIEW_ROWS and checked.accepted.num_rows:
                    canonical = [c for c in checked.accepted.column_names if not c.startswith("_")]
                    # Taken, not sliced: a slice (and the frame made from it) would keep the whole chunk in memory.
                    first = pa.array(np.arange(min(PREVIEW_ROWS - preview_rows, checked.accepted.num_rows)))
                    previews.append(checked.accepted.select(canonical).take(first).to_pandas())
                    preview_rows += len(previews[-1])
                writes.submit(_write_chunk, con, stage, part, chunk, checked, unknown)
            # Unique names: two unknown columns both headed 联系电话 must not share one JSON key (one would be lost).
            unique = _unique_headers(sheet.headers)
            kept = [p for p in _unknown_columns(part) if sheet.headers[p].strip() or p in blank_with_data]
            part.extra_headers = [unique[p] for p in kept]
        writes.wait()
    finally:
        writes.settle()
    out.rejected_rows = pd.concat(rejected, ignore_index=True) if rejected else None
    out.preview = pd.concat(previews, ignore_index=True) if previews else pd.DataFrame()


class _ChunkWriter:
    """Writes checked chunks on the writer thread while the caller checks the next one: one write at a
    time, in chunk order (a chunk's duplicate check sees every chunk before it staged). While a write is
    pending only the writer uses the connection."""

    def __init__(self) -> None:
        self._pending: Future | None = None

    def submit(self, write, *args) -> None:
        self.wait()
        self._pending = _writer.submit(write, *args)

    def wait(self) -> None:
        """Until the last write is done; its error is raised here."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def settle(self) -> None:
        """Until the last write is done, its error dropped: the caller is raising one of its own already."""
        if self._pending is not None:
            futures_wait([self._pending])


def _write_chunk(con, stage: _Staged, part: _Part, chunk: Chunk, checked: _Checked, unknown: list[int]) -> None:
    _append(con, stage, part, _reject_duplicates(con, stage, part, chunk, checked), unknown)


def _unknown_columns(part: _Part) -> list[int]:
    """Positions of the columns kept in extra: unknown ones (one without a header only when it holds something)."""
    headers = part.sheet.headers
    bookkeeping = {*REJECT_COLUMNS, ds.ROW_COUNTER}
    return [p for p, h in enumerate(headers) if p not in part.mapping and nz.header_key(h) not in bookkeeping]


def _check(chunk: Chunk, part: _Part, unknown: list[int]) -> _Checked:
    sheet, dataset, mapping = part.sheet, part.dataset, part.mapping
    chunk.table, cleaned = columns.without_format_characters(chunk.table)
    part.cleaned_cells += cleaned
    for p in unknown:  # kept in extra, and in the rejected rows: never an ID number in the clear
        chunk.table = chunk.table.set_column(p, chunk.table.field(p), columns.mask_id_like(chunk.table.column(p)))
    table = chunk.table
    n = table.num_rows
    row_errors: dict[int, list[str]] = {}  # only the rows with errors
    error_list: list[dict] = []
    by_name = {name: position for position, name in mapping.items()}
    parsed: dict[str, pa.Array] = {}
    invalid: dict[str, np.ndarray] = {}  # cells that failed to parse, by column

    def fail(mask: np.ndarray, column_label: str, reasons) -> None:
        for i in np.flatnonzero(mask):
            reason = reasons if isinstance(reasons, str) else reasons[i]
            row_errors.setdefault(i, []).append(f"{column_label}：{reason}")
            error_list.append(
                {"sheet": sheet.name, "row": int(chunk.rows[i]), "column": column_label, "reason": reason}
            )

    def source(column: ds.Column) -> pa.ChunkedArray:
        """The column's cells, a value given for the whole file (--set) in its empty ones."""
        value = part.fills.get(column.name)
        if column.name not in by_name:
            return pa.chunked_array([pa.array(np.full(n, value, dtype=object), pa.string())])
        raw = table.column(by_name[column.name])
        if value is None:
            return raw
        return pc.if_else(pc.match_substring_regex(raw, columns.BLANK), value, raw)

    def label_of(column: ds.Column) -> str:
        return sheet.headers[by_name[column.name]].strip() or column.label if column.name in by_name else column.label

    skipped_kinds = (ds.DEADLINE, ds.ANY_ID)  # read apart, with another column
    checked = [
        c for c in dataset.columns if (c.name in by_name or c.name in part.fills) and c.kind not in skipped_kinds
    ]
    # pyarrow's kernels let go of the GIL: two columns at a time use both cores. Errors keep column order.
    results = _pool.map(lambda c: _parse_column(source(c), c), checked)
    id_reasons: dict[str, np.ndarray] = {}  # failed identifier cells: judged with the row's other identifiers
    for column, (values, reasons) in zip(checked, results, strict=True):
        label = label_of(column)
        if column.kind in (ds.TEXT, ds.NAME):
            values = derive.blank_placeholders(values)
        invalid[column.name] = np.zeros(n, dtype=bool) if reasons is None else reasons != None  # noqa: E711
        if reasons is not None and column.kind in ds.IDENTIFIER_KINDS and dataset.subject_rule:
            id_reasons[label] = reasons
            values = pc.if_else(pa.array(invalid[column.name]), pa.scalar(None, values.type), values)
        elif reasons is not None:
            fail(invalid[column.name], label, reasons)
        if column.required:
            fail(_mask(values.is_null()) & ~invalid[column.name], label, "必填项为空")
        if column.kind == ds.DATE and column.name in EVENT_DATES:
            fail(_mask(pc.greater(values, pa.scalar(date.today()))), label, "日期晚于今天，不合理")
        parsed[column.name] = values

    if "deadline" in by_name:
        label = sheet.headers[by_name["deadline"]].strip()
        starts = parsed["filed_on"].to_pylist() if "filed_on" in parsed else [None] * n
        deadlines: list = [None] * n
        reasons = np.full(n, None, dtype=object)
        for i, (raw, start) in enumerate(zip(table.column(by_name["deadline"]).to_pylist(), starts, strict=True)):
            if nz.is_placeholder(raw):
                continue
            try:
                deadlines[i] = nz.parse_deadline(raw, start)
            except nz.Invalid as exc:
                reasons[i] = str(exc)
        fail(reasons != None, label, reasons)  # noqa: E711 - elementwise on an object array
        parsed["deadline"] = pa.array(deadlines, pa.date32())

    if dataset.name == "entities":
        derive.add_counts(part, *derive.entities(parsed, n))
    if dataset.subject_rule:
        any_id = table.column(by_name["any_id"]) if "any_id" in by_name else None
        any_label = label_of(dataset.column("any_id")) if any_id is not None else ""
        identified = _identify_subjects(dataset, parsed, id_reasons, any_id, any_label, n, fail, part)
    error_list.sort(key=lambda e: e["row"])

    accepted_mask = np.ones(n, dtype=bool)
    accepted_mask[list(row_errors)] = False
    if dataset.subject_rule:  # the loaded rows only, so that the counts add up to what the report says loaded
        for kind, count in zip(*np.unique(identified[accepted_mask], return_counts=True), strict=True):
            part.identified_by[str(kind)] = part.identified_by.get(str(kind), 0) + int(count)
    positions = np.flatnonzero(accepted_mask)
    keep = pa.array(accepted_mask)
    accepted = {"_row": pa.array(chunk.rows[positions])}
    accepted |= {name: values if not row_errors else values.filter(keep) for name, values in parsed.items()}
    accepted |= {f"_x{p}": table.column(p) if not row_errors else table.column(p).filter(keep) for p in unknown}
    rejected = None
    if row_errors:
        indices = np.asarray(sorted(row_errors))
        reasons = ["；".join(row_errors[i]) for i in indices]
        rejected = _rejected_frame(part, chunk, indices, reasons)
    return _Checked(pa.table(accepted), positions, error_list, rejected)


def _mask(values) -> np.ndarray:
    """A pyarrow boolean array as numpy, null as False."""
    return pc.fill_null(values, False).to_numpy(zero_copy_only=False)


def _rejected_frame(part: _Part, chunk: Chunk, indices: np.ndarray, reasons: list[str]) -> pd.DataFrame:
    """Rejected rows as read, for download and reload: the file's headers, 行号, 错误原因."""
    sheet, dataset, mapping = part.sheet, part.dataset, part.mapping
    rejected = chunk.table.take(pa.array(indices, pa.int64())).to_pandas()
    rejected.columns = range(len(sheet.headers))
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
    rejected.insert(0, "行号", chunk.rows[indices])
    if sheet.name:
        rejected.insert(0, "工作表", sheet.name)
    rejected["错误原因"] = reasons
    return rejected.reset_index(drop=True)


def _has_data(column: pa.ChunkedArray) -> bool:
    return not pc.all(pc.match_substring_regex(column, columns.BLANK)).as_py()


def _unique_headers(headers: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for position, header in enumerate(headers):
        name = header.strip() or f"第{position + 1}列"
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}({seen[name]})")
    return out


# How a cell of each kind is parsed; choices need the column, 办理时限 its filing date (read apart).
_PARSERS = {
    ds.CODE: nz.parse_credit_code,
    ds.DOC: nz.clean_code,
    ds.DATE: nz.parse_date,
    ds.AMOUNT: nz.parse_amount,
    ds.PERCENT: nz.parse_percent,
    ds.POINT_ID: nz.parse_point_id,
    ds.BOOL: nz.parse_bool,
    ds.ID_NO: nz.mask_id_number,
    ds.SUBJECT_CODE: nz.parse_masked_code,
    ds.ORG_CODE: nz.parse_org_code,
    ds.REG_NO: nz.parse_reg_no,
}


def _parser(column: ds.Column):
    if column.kind == ds.CHOICE:
        return lambda v: nz.parse_choice(v, column.choices)
    return _PARSERS.get(column.kind, nz.clean_text)


# Parsed values by column kind, as Arrow types (text otherwise).
_ARROW_TYPES = {
    ds.DATE: pa.date32(),
    ds.AMOUNT: pa.float64(),
    ds.PERCENT: pa.float64(),
    ds.POINT_ID: pa.int64(),
    ds.BOOL: pa.bool_(),
}


def _parse_column(raw: pa.ChunkedArray, column: ds.Column) -> tuple[pa.Array, np.ndarray | None]:
    """Parse each distinct cell once: (values, reasons). Reasons is an object array holding the reason of each
    invalid cell and None elsewhere, or None when every cell is valid. Text, document numbers and credit codes
    are cleaned all at once where ``columns`` can (exactly as ``normalize`` would), the rest one by one."""
    encoded = pc.dictionary_encode(raw.combine_chunks())
    uniques, codes = encoded.dictionary, encoded.indices
    fast, done = columns.fast_values(uniques, column.kind)
    if done is not None and done.all():  # the usual case for text: no Python at all
        return fast.take(codes), None
    values = [None] * len(uniques) if fast is None else fast.to_pylist()
    todo = range(len(uniques)) if done is None else np.flatnonzero(~done)
    reasons: list[str | None] = [None] * len(uniques)
    parse, cells = _parser(column), uniques.to_pylist()
    for i in todo:
        if column.kind in PLACEHOLDER_KINDS and nz.is_placeholder(cells[i]):
            values[i] = None  # "/" or "无" in a date or amount cell means empty, as in 警告 penalties
            continue
        try:
            values[i] = parse(cells[i])
        except nz.Invalid as exc:
            reasons[i] = str(exc)
    typed = pa.array(values, _ARROW_TYPES.get(column.kind, pa.string())).take(codes)
    if all(r is None for r in reasons):
        return typed, None
    return typed, np.array(reasons, dtype=object)[codes.to_numpy(zero_copy_only=False)]


def _identify_subjects(
    dataset, parsed: dict, id_reasons: dict, any_id, any_label: str, n: int, fail, part
) -> np.ndarray:
    """Who each row names. Identifiers: a 统一社会信用代码 (full or masked), a 组织机构代码, a 工商注册号, and for
    a natural person an ID number (stored masked); a column such as 身份证号码/组织机构代码 may hold any of them.
    A row loads when it carries at least one valid identifier (an identifier failing its check beside a valid
    one is dropped, with a note); a row whose identifiers all fail is rejected with their reasons. Penalties and
    licences need one unless the subject is a natural person; a list row without any loads on its name alone,
    marked as identified by name. Returns, per row, the identifier kind it is known by (or "name")."""
    simply = _identify_simply(dataset, parsed, id_reasons, any_id, n, fail, part)
    if simply is not None:
        return simply
    name_column = "subject_name" if "subject_name" in parsed else "name"
    names = parsed.get(name_column, pa.nulls(n, pa.string())).to_pylist()
    columns_ = {k: parsed.get(k, pa.nulls(n, pa.string())).to_pylist() for k in ("credit_code", "org_code", "reg_no")}
    masked = [None] * n
    for i, code in enumerate(columns_["credit_code"]):
        if code and "*" in code:
            masked[i], columns_["credit_code"][i] = code, None
    columns_["masked_code"] = masked
    ids = parsed.get("id_no", pa.nulls(n, pa.string())).to_pylist()
    reasons = {label: list(r) for label, r in id_reasons.items()}
    if any_id is not None:
        seen: dict[tuple, object] = {}
        any_reasons = [None] * n
        for i, cell in enumerate(any_id.to_pylist()):
            if nz.is_placeholder(cell):
                continue
            key = (cell, names[i])
            if key not in seen:
                try:
                    seen[key] = nz.classify_identifier(cell, names[i])
                except nz.Invalid as exc:
                    seen[key] = exc
            found = seen[key]
            if isinstance(found, nz.Invalid):
                any_reasons[i] = str(found)
            elif found is not None:
                kind, value = found
                target = ids if kind == "id_no" else columns_[kind]
                if target[i] is None:
                    target[i] = value
        reasons[any_label] = any_reasons

    subject_type = parsed.get("subject_type", pa.nulls(n, pa.string())).to_pylist()
    if dataset.name == "severe_list":
        person = [ids[i] is not None and not any(columns_[k][i] for k in columns_) for i in range(n)]
    else:
        person = [t == "自然人" for t in subject_type]
    kinds = ("credit_code", "org_code", "reg_no", "masked_code")
    identified = []
    dropped = 0
    for i in range(n):
        if person[i] and dataset.name != "severe_list":
            for k in kinds:  # natural persons carry no credit code (some exports put the ID number there)
                columns_[k][i] = None
        kind = next((k for k in kinds if columns_[k][i]), None) or ("id_no" if ids[i] else None)
        failed = [(label, r[i]) for label, r in reasons.items() if r[i] is not None]
        if failed and kind is None:
            for label, reason in failed:
                fail(_one(n, i), label, reason)
        elif failed:
            dropped += 1
        if kind is None and not failed and dataset.name != "severe_list" and not person[i]:
            label = next(iter(id_reasons), None) or _code_label(part)
            fail(_one(n, i), label, "非自然人的统一社会信用代码为必填项（也可填写组织机构代码或工商注册号）")
        identified.append(kind or "name")
    if dropped:
        part.notes.append(f"{dropped} 行的某个代码未通过校验而被忽略，这些行以同一行的其他代码识别")
    for k in kinds:
        parsed[k] = pa.array(columns_[k], pa.string())
    if "id_no" in parsed or any(ids):
        parsed["id_no"] = pa.array(ids, pa.string())
    parsed.pop("any_id", None)
    if dataset.name == "severe_list":
        keys = []
        for i, kind in enumerate(identified):
            if kind in ("credit_code", "org_code", "reg_no"):
                keys.append(columns_[kind][i])
            elif kind in ("masked_code", "id_no"):  # a masked code is shared by strangers: with the name
                keys.append(f"{(columns_['masked_code'][i] or ids[i])} {nz.name_key(names[i]) or ''}")
            else:
                keys.append(f"名称:{nz.name_key(names[i]) or ''}")
        parsed["subject_key"] = pa.array(keys, pa.string())
        parsed["identified_by"] = pa.array(identified, pa.string())
        parsed["case_no"] = pc.fill_null(parsed.get("case_no", pa.nulls(n, pa.string())), "")
    return np.array(identified, dtype=object)


def _identify_simply(dataset, parsed: dict, id_reasons: dict, any_id, n: int, fail, part) -> np.ndarray | None:
    """The usual 双公示 export, all at once: no mixed identifier column, no masked code, no failed code.
    None (nothing done) for any other file: ``_identify_subjects`` goes row by row."""
    if dataset.name == "severe_list" or any_id is not None or id_reasons:
        return None
    codes = parsed.get("credit_code", pa.nulls(n, pa.string()))
    if pc.any(pc.match_substring(codes, "*")).as_py():
        return None
    person = _mask(pc.equal(parsed.get("subject_type", pa.nulls(n, pa.string())), "自然人"))
    found = {}
    for kind in ("credit_code", "org_code", "reg_no"):
        values = parsed.get(kind, pa.nulls(n, pa.string()))
        values = pc.if_else(pa.array(person), pa.scalar(None, pa.string()), values)
        parsed[kind] = values
        found[kind] = _mask(values.is_valid())
    parsed["masked_code"] = pa.nulls(n, pa.string())
    has = found["credit_code"] | found["org_code"] | found["reg_no"]
    fail(~person & ~has, _code_label(part), "非自然人的统一社会信用代码为必填项（也可填写组织机构代码或工商注册号）")
    has_id_no = person & _mask(parsed.get("id_no", pa.nulls(n, pa.string())).is_valid())
    return np.select(
        [found["credit_code"], found["org_code"], found["reg_no"], has_id_no],
        ["credit_code", "org_code", "reg_no", "id_no"],
        "name",
    ).astype(object)


def _one(n: int, i: int) -> np.ndarray:
    mask = np.zeros(n, dtype=bool)
    mask[i] = True
    return mask


def _code_label(part) -> str:
    by_name = {name: position for position, name in part.mapping.items()}
    return part.sheet.headers[by_name["credit_code"]].strip() if "credit_code" in by_name else "统一社会信用代码"


# --- writing -------------------------------------------------------------------


def _new_stage(con, dataset: ds.Dataset) -> _Staged:
    """A temporary table shaped like the dataset's (upload_id aside), plus each row's file row and sheet."""
    stage = _Staged(dataset, f"staged_{dataset.name}")
    con.execute(f"CREATE OR REPLACE TABLE {stage.table} AS SELECT * EXCLUDE (upload_id) FROM {dataset.name} LIMIT 0")
    con.execute(f"ALTER TABLE {stage.table} ADD COLUMN _row BIGINT")
    con.execute(f"ALTER TABLE {stage.table} ADD COLUMN _part INTEGER")
    return stage


def _reject_duplicates(con, stage: _Staged, part: _Part, chunk: Chunk, checked: _Checked) -> pa.Table:
    """A key seen before in the file (this chunk, an earlier one, an earlier sheet) rejects the later row,
    naming the first (and its sheet, if another). Returns the accepted rows without them."""
    accepted = checked.accepted
    if not accepted.num_rows:
        return accepted
    key = list(stage.dataset.key)
    keys = ", ".join(key)
    numbered = accepted.select(["_row", *key]).append_column("_i", pa.array(np.arange(accepted.num_rows)))
    found = _query_arrow(
        con,
        numbered,
        "chunk_keys",
        f"""SELECT c._i, coalesce(s._row, c.first_row), coalesce(s._part, {int(part.index)})
        FROM (SELECT _i, {keys}, first_value(_row) OVER w AS first_row, row_number() OVER w AS n
              FROM chunk_keys WINDOW w AS (PARTITION BY {keys} ORDER BY _i)) AS c
        LEFT JOIN {stage.table} AS s ON {" AND ".join(f"s.{k} = c.{k}" for k in key)}
        WHERE s._row IS NOT NULL OR c.n > 1
        ORDER BY c._i""",
    )
    if not found:
        return accepted
    labels = "、".join(stage.dataset.column(c).label for c in key)
    rows = accepted.column("_row").to_numpy()
    reasons = []
    for i, first_row, first_part in found:
        where = f"工作表「{stage.parts[first_part].sheet.name}」" if first_part != part.index else ""
        reasons.append(f"与{where}第 {first_row} 行的键重复（{labels}）")
        error = {"sheet": part.sheet.name, "row": int(rows[i]), "column": "", "reason": reasons[-1]}
        stage.duplicate_errors.append(error)
    duplicates = np.array([i for i, _, _ in found])
    # Rejected for a duplicate key is rejected all the same: in the download and the upload log too.
    stage.duplicate_rejects.append(_rejected_frame(part, chunk, checked.positions[duplicates], reasons))
    keep = np.ones(accepted.num_rows, dtype=bool)
    keep[duplicates] = False
    return accepted.filter(pa.array(keep))


def _append(con, stage: _Staged, part: _Part, accepted: pa.Table, unknown: list[int]) -> None:
    """Accepted rows into the dataset's staging table; unknown columns by header, across sheets."""
    unique = _unique_headers(part.sheet.headers)
    added = {"_part": pa.array(np.full(accepted.num_rows, part.index, dtype=np.int32))}
    for p in unknown:
        column = stage.extra_columns.get(unique[p])
        if column is None:
            column = stage.extra_columns[unique[p]] = f"_e{len(stage.extra_columns)}"
            con.execute(f"ALTER TABLE {stage.table} ADD COLUMN {column} VARCHAR")
        added[column] = accepted.column(f"_x{p}")
    rows = accepted.drop_columns([f"_x{p}" for p in unknown])
    for name, values in added.items():
        rows = rows.append_column(name, values)
    _query_arrow(con, rows, "chunk_rows", f"INSERT INTO {stage.table} BY NAME SELECT * FROM chunk_rows")
    stage.rows += rows.num_rows


def _query_arrow(con, table: pa.Table, name: str, sql: str) -> list[tuple]:
    """Run ``sql`` with ``table`` as ``name``. Not con.register(): inside a transaction DuckDB keeps every
    registered table alive until COMMIT, so a large file would stay in memory chunk after chunk."""
    return con.from_arrow(table).query(name, sql).fetchall()


def _table_columns(con, table: str) -> list[tuple[str, str]]:
    return [
        (name, dtype)
        for name, dtype in con.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position",
            [table],
        ).fetchall()
    ]


def _upsert(con, staged: _Staged, upload_id: int) -> tuple[int, int, int]:
    """(loaded, updated, unchanged). Identifiers come from the schema only; values are bound."""
    dataset = staged.dataset
    table, stage = dataset.name, staged.table
    names = [name for name, _ in _table_columns(con, table)]
    if staged.extra_headers:
        extra_sql, params = _extra_sql(staged.extra_headers, [staged.extra_columns[h] for h in staged.extra_headers])
        con.execute(f"UPDATE {stage} SET extra = {extra_sql}", params)

    keys = ", ".join(dataset.key)
    key_match = " AND ".join(f"t.{k} = s.{k}" for k in dataset.key)
    compared = [name for name in names if name != "upload_id" and name not in dataset.key and name not in LINKS]
    differs = " OR ".join(f"t.{c} IS DISTINCT FROM s.{c}" for c in compared) or "FALSE"
    # Stored rows the file changes. Found by a hash of the compared columns first, so the join over a
    # whole table holds keys and hashes, not whole rows (a reload of 1.5 million rows needed 3.5 GB);
    # those are then confirmed cell by cell below. Equal rows always hash alike; a change whose 64-bit
    # hash happened to equal the stored row's would pass for unchanged (about 1 in 10^19 per row).
    row_hash = f"hash({', '.join(compared)})" if compared else "0"
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE changed AS SELECT {', '.join(f's.{k}' for k in dataset.key)}"
        f" FROM (SELECT {keys}, {row_hash} AS h FROM {stage}) s"
        f" JOIN (SELECT {keys}, {row_hash} AS h FROM {table}) t ON {key_match} WHERE s.h <> t.h"
    )
    on_changed = " AND ".join(f"c.{k} = s.{k} AND c.{k} = t.{k}" for k in dataset.key)
    updated = con.execute(
        f"INSERT INTO replaced_rows SELECT ?, ?, to_json(t) FROM changed c, {stage} s, {table} t"
        f" WHERE {on_changed} AND ({differs})",
        [upload_id, table],
    ).fetchall()[0][0]
    con.execute(f"DELETE FROM {table} t USING changed c, {stage} s WHERE {on_changed} AND ({differs})")
    con.execute("DROP TABLE changed")
    # What is still stored is unchanged: left out (a join on the keys alone, not on whole rows), the rest goes in.
    con.execute(f"DELETE FROM {stage} s USING {table} t WHERE {key_match}")
    values = ", ".join("?" if name == "upload_id" else f"s.{name}" for name in names)
    inserted = con.execute(
        f"INSERT INTO {table} ({', '.join(names)}) SELECT {values} FROM {stage} s", [upload_id]
    ).fetchall()[0][0]
    con.execute(f"DROP TABLE {stage}")
    return inserted - updated, updated, staged.rows - inserted


def _relink(con, staged: list[_Staged], upload_id: int) -> None:
    """Match the subjects the file wrote to the register (matching.py); a new register re-matches them all."""
    names = {s.dataset.name for s in staged if s.rows}
    if "entities" in names:
        matching.relink(con)
    else:
        matching.relink(con, [n for n in matching.SUBJECT_TABLES if n in names], upload_id)


def _extra_sql(extra_headers: list[str], column_names: list[str] | None = None) -> tuple[str, list[str]]:
    """Unknown columns (``column_names``: _e0, _e1, … by default) as one JSON object per row (NULL when all of
    them are empty), and its key parameters.

    Only filled cells, keys in name order: the same data must give the same JSON whatever the
    column order, and whatever other sheets of the workbook had, so that a re-upload compares
    equal (unchanged) instead of counting as an update.
    """
    if not extra_headers:
        return "CAST(NULL AS JSON)", []
    column_names = column_names or [f"_e{k}" for k in range(len(extra_headers))]
    cells = [f"nullif(trim({name}), '')" for name in column_names]
    order = sorted(range(len(extra_headers)), key=lambda k: extra_headers[k])
    entries = ", ".join(f"{{'k': ?, 'v': {cells[k]}}}" for k in order)
    filled = f"map_from_entries(list_filter([{entries}], lambda e: e.v IS NOT NULL))"
    sql = f"CASE WHEN coalesce({', '.join(cells)}) IS NULL THEN NULL ELSE to_json({filled}) END"
    return sql, [extra_headers[k] for k in order]


def _next_id(con, table: str) -> int:
    return con.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}").fetchall()[0][0]


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _log_upload(con, result: IngestResult, data: FileData | Future, user: str | None, status: str) -> None:
    """``data`` is the file, or its SHA-256 being computed (see _ingest)."""
    digest = data.result() if isinstance(data, Future) else data.sha256()
    rejected = None
    if result.rejected_rows is not None and len(result.rejected_rows):
        rejected = result.rejected_rows.head(MAX_LOGGED_REJECTED_ROWS).to_dict(orient="records")
    con.execute(
        "INSERT INTO uploads (id, uploaded_at, user_name, file_name, sha256, dataset, encoding, rows_read, loaded,"
        " updated, unchanged, rejected, errors, rejected_rows, extra_columns, status, message, set_values)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            result.upload_id,
            datetime.now(),
            user,
            result.file,
            digest,
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
            _json(result.set_values) if result.set_values else None,
        ],
    )


def _refuse(db_path: str, result: IngestResult, data: FileData, message: str, user: str | None) -> IngestResult:
    """Log a file that loads nothing; the data tables stay as they were."""
    result.message = message
    try:
        with (
            snapshots.announce(db_path, f"记录被拒收的文件{_titles(result.dataset)}", user),
            store.write_lock,
            store.connect(db_path, wait_seconds=load_settings().lock_wait_seconds) as con,
        ):
            snapshots.ensure(con, db_path)
            con.execute("BEGIN TRANSACTION")  # closing without COMMIT rolls back
            result.upload_id = _next_id(con, "uploads")
            _log_upload(con, result, data, user, "refused")
            audit.record_upload(con, user, result, "refused")
            con.execute("COMMIT")
            snapshots.publish(con, db_path)
    except store.StoreBusy:
        pass  # the refusal is still reported to the caller
    return result


def _titles(dataset: str | None) -> str:
    """' 行政处罚（双公示）、行政许可（双公示）' for the banner; empty when not yet known."""
    names = [n for n in (dataset or "").split(",") if n in ds.DATASETS]
    return (" " + "、".join(ds.DATASETS[n].title for n in names)) if names else ""


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
