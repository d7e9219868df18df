"""Undoing an upload: the data returns exactly to its state before that upload.

An upload wrote rows carrying its id; the rows it replaced are kept as JSON in
``replaced_rows``. Undoing deletes the upload's rows, puts the replaced ones
back (decoded into the table's typed columns), marks the upload undone and
writes an audit record, all in one transaction.

Uploads of one dataset are undone newest first: while a later upload that is
not undone has written rows of the same dataset, "the state before" an older
upload cannot be restored without also discarding the later one, so the undo
is refused and names the uploads to undo first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from analytics.intake import datasets as ds
from analytics.intake import matching
from analytics.settings import load_settings
from analytics.storage import audit, snapshots, store


@dataclass
class UndoResult:
    upload_id: int
    ok: bool
    message: str
    file: str | None = None
    datasets: list[str] = field(default_factory=list)
    removed: int = 0  # rows the upload had written (new rows and new versions), deleted
    restored: int = 0  # previous versions of the rows it updated, put back

    def to_dict(self) -> dict:
        return {
            "upload_id": self.upload_id,
            "ok": self.ok,
            "message": self.message,
            "file": self.file,
            "datasets": self.datasets,
            "removed": self.removed,
            "restored": self.restored,
        }


class _Refused(Exception):
    pass


def undo_upload(db_path: str, upload_id: int, user) -> UndoResult:
    """Undo one upload. ``user`` is a ``users.User`` (must be an admin) or a name (trusted callers: the CLI)."""
    if isinstance(upload_id, bool) or not isinstance(upload_id, int):
        return UndoResult(upload_id, False, f"上传编号应为整数：{upload_id}")
    if hasattr(user, "can_undo") and not user.can_undo:
        return UndoResult(upload_id, False, "只有管理员可以撤销上传")
    settings = load_settings()
    with (
        snapshots.announce(db_path, f"撤销上传 #{upload_id}", user),
        store.write_lock,
        store.connect(db_path, wait_seconds=settings.lock_wait_seconds) as con,
    ):
        snapshots.ensure(con, db_path)
        con.execute("BEGIN TRANSACTION")
        try:
            result = _undo(con, upload_id, user)
        except _Refused as exc:
            con.execute("ROLLBACK")
            return UndoResult(upload_id, False, str(exc))
        except Exception:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")
        snapshots.publish(con, db_path)
    return result


def _undo(con, upload_id: int, user) -> UndoResult:
    row = con.execute(
        "SELECT status, dataset, file_name, undone_at, undone_by, loaded, updated FROM uploads WHERE id = ?",
        [upload_id],
    ).fetchall()
    if not row:
        raise _Refused(f"上传记录 #{upload_id} 不存在")
    status, dataset, file_name, undone_at, undone_by, loaded, updated = row[0]
    name = f"#{upload_id}（{file_name}）"
    if status == "refused":
        raise _Refused(f"上传 {name} 已被拒绝，没有导入任何数据，无需撤销")
    if status == "undone":
        when = undone_at.strftime("%Y-%m-%d %H:%M") if undone_at else "此前"
        raise _Refused(f"上传 {name} 已于 {when} 由 {undone_by or '未知用户'} 撤销，不能重复撤销")
    if status != "loaded":
        raise _Refused(f"上传 {name} 的状态为 {status}，无法撤销")

    tables = _tables(con, dataset, name)
    later = _later_writers(con, upload_id, tables)
    if later:
        titles = "、".join(ds.DATASETS[t].title for t in tables)
        ids = "、".join(f"#{i}" for i in later)
        raise _Refused(
            f"不能撤销上传 {name}：之后的上传 {ids} 也写入了{titles}。请先撤销这些更晚的上传（撤销须从最新的上传开始）"
        )

    removed = restored = 0
    for table in tables:
        removed += con.execute(f'DELETE FROM "{table}" WHERE upload_id = ?', [upload_id]).fetchall()[0][0]
        restored += _restore_replaced(con, table, upload_id)
    if removed != loaded + updated or restored != updated:
        raise _Refused(
            f"上传 {name} 的数据与上传记录不一致（记录为新增 {loaded} 行、更新 {updated} 行，"
            f"实际可删除 {removed} 行、可恢复 {restored} 行），为安全起见未做任何更改"
        )

    matching.relink(con)  # the register or a list changed: any subject may match differently now
    user_name = audit.user_name(user)
    con.execute(
        "UPDATE uploads SET status = 'undone', undone_at = ?, undone_by = ? WHERE id = ?",
        [datetime.now(), user_name, upload_id],
    )
    audit.record(
        con,
        user,
        "undo",
        {"upload_id": upload_id, "file": file_name, "dataset": dataset, "removed": removed, "restored": restored},
    )
    message = f"已撤销上传 {name}：删除 {removed} 行，恢复 {restored} 行被替换前的数据"
    return UndoResult(upload_id, True, message, file_name, tables, removed, restored)


def _tables(con, dataset: str | None, name: str) -> list[str]:
    """The upload's data tables, as the schema names them (never as the log spells them)."""
    existing = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    wanted = [d for d in (dataset or "").split(",") if d]
    tables = [t for t in ds.UPLOADABLE if t in wanted and t in existing]
    if not tables or len(tables) != len(set(wanted)):
        raise _Refused(f"上传 {name} 的数据集无法识别（{dataset}），无法撤销")
    return tables


def _later_writers(con, upload_id: int, tables: list[str]) -> list[int]:
    """Later uploads, not undone, that wrote rows to any of ``tables``."""
    later: set[int] = set()
    for table in tables:
        # Rows a later upload wrote carry its id until that upload is undone.
        later.update(
            r[0]
            for r in con.execute(
                f'SELECT DISTINCT upload_id FROM "{table}" WHERE upload_id > ?', [upload_id]
            ).fetchall()
        )
    later.update(
        r[0]
        for r in con.execute(
            "SELECT id FROM uploads WHERE id > ? AND status = 'loaded' AND loaded + updated > 0"
            " AND list_has_any(string_split(dataset, ','), ?)",
            [upload_id, tables],
        ).fetchall()
    )
    return sorted(later)


def _restore_replaced(con, table: str, upload_id: int) -> int:
    """Put back the versions ``upload_id`` replaced, typed by the table's own schema."""
    columns = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns"
        " WHERE table_schema = 'main' AND table_name = ? ORDER BY ordinal_position",
        [table],
    ).fetchall()
    structure = json.dumps({name: dtype for name, dtype in columns})
    quoted = [_ident(name) for name, _ in columns]
    return con.execute(
        f'INSERT INTO "{table}" ({", ".join(quoted)})'
        f" SELECT {', '.join(f'r.{q}' for q in quoted)}"
        " FROM (SELECT from_json(row_data, ?) AS r FROM replaced_rows WHERE upload_id = ? AND dataset = ?)",
        [structure, upload_id, table],
    ).fetchall()[0][0]


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
