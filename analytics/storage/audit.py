"""The audit log: who signed in, uploaded, undid, downloaded, backed up, restored.

Append-only by design: this module offers ``record`` and ``list_log`` and
nothing that updates or deletes a record. ``record`` writes on the caller's
connection, so inside the caller's transaction when there is one: an upload
and its audit record are committed (or rolled back) together.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING

import duckdb

if TYPE_CHECKING:  # pandas is imported by DuckDB's .df() when needed: the CLI starts faster without it
    import pandas as pd

ACTIONS = ("sign_in", "sign_out", "upload", "undo", "download", "backup", "restore", "user_change", "refused")
ACTIONS += ("lockout", "unlock")  # local sign-in limits (analytics.storage.lockout)
ACTION_LABELS = {
    "sign_in": "登录",
    "sign_out": "退出",
    "upload": "上传",
    "undo": "撤销上传",
    "download": "下载",
    "backup": "备份",
    "restore": "恢复备份",
    "user_change": "用户变更",
    "refused": "拒绝操作",  # a data-changing action the role no longer allowed when it was attempted
    "lockout": "账号锁定",
    "unlock": "解除锁定",
}
SEQUENCE = "audit_log_id_seq"  # created by migration 0002
MAX_LIST = 10_000


def user_name(user) -> str | None:
    """A ``users.User``, a plain name, or None (an unnamed command-line user)."""
    if user is None:
        return None
    return str(getattr(user, "name", user))


def record(con: duckdb.DuckDBPyConnection, user, action: str, detail: dict | None = None) -> int:
    """Append one record; returns its id. ``detail`` holds what the action concerned, as JSON."""
    if action not in ACTIONS:
        raise ValueError(f"未知的审计操作：{action}（可选：{'、'.join(ACTIONS)}）")
    if detail is not None and not isinstance(detail, dict):
        raise TypeError("detail 应为字典")
    text = json.dumps(detail or {}, ensure_ascii=False, default=str)
    row = con.execute(
        f"INSERT INTO audit_log (id, logged_at, user_name, action, detail)"
        f" VALUES (nextval('{SEQUENCE}'), ?, ?, ?, ?) RETURNING id",
        [datetime.now(), user_name(user), action, text],
    ).fetchall()
    return row[0][0]


def record_upload(con: duckdb.DuckDBPyConnection, user, result, status: str) -> int:
    """The audit record of one upload (``ingest.IngestResult``), loaded or refused."""
    return record(
        con,
        user,
        "upload",
        {
            "upload_id": result.upload_id,
            "file": result.file,
            "dataset": result.dataset,
            "status": status,
            "loaded": result.loaded,
            "updated": result.updated,
            "unchanged": result.unchanged,
            "rejected": result.rejected,
            "message": result.message,
        },
    )


def list_log(
    con: duckdb.DuckDBPyConnection, limit: int = 200, action: str | None = None, user: str | None = None
) -> pd.DataFrame:
    """The newest ``limit`` records, newest first: id, logged_at, user_name, action, action_label, detail."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIST:
        raise ValueError(f"条数应为 1 到 {MAX_LIST} 之间的整数：{limit}")
    if action is not None and action not in ACTIONS:
        raise ValueError(f"未知的审计操作：{action}（可选：{'、'.join(ACTIONS)}）")
    where, params = [], []
    if action is not None:
        where.append("action = ?")
        params.append(action)
    if user is not None:
        where.append("user_name = ?")
        params.append(user)
    sql = "SELECT id, logged_at, user_name, action, CAST(detail AS VARCHAR) AS detail FROM audit_log"
    if where:
        sql += " WHERE " + " AND ".join(where)
    frame = con.execute(sql + " ORDER BY id DESC LIMIT ?", [*params, limit]).df()
    frame.insert(4, "action_label", frame["action"].map(ACTION_LABELS))
    return frame
