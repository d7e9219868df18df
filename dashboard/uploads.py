"""The upload handler behind the 数据上传 page, callable without Streamlit."""

from __future__ import annotations

import logging
import unicodedata

import pandas as pd

from analytics.intake import ingest
from analytics.intake.datasets import DATASETS

log = logging.getLogger(__name__)

ACCEPTED_TYPES = ("csv", "xlsx", "xls")


def handle_upload(
    db: str,
    files: list[tuple[str, bytes]],
    dataset: str | None = None,
    user: str | None = None,
    covers=None,
    fills: dict[str, str] | None = None,
) -> list[ingest.IngestResult]:
    """Load each (file name, bytes) into ``db``; a file that fails unexpectedly becomes a refused result.
    ``covers``: the period the files cover as the analyst states it (None: their own dates); ``fills``:
    column → one value for the whole file, for columns the file lacks (the page's fields, ingest --set)."""
    results = []
    for raw_name, payload in files:
        name = clean_file_name(raw_name)
        try:
            results.append(
                ingest.ingest_bytes(db, payload, name, dataset=dataset, user=user, covers=covers, fills=fills)
            )
        except Exception as exc:  # one bad file must not stop the others
            log.exception("upload of %s failed", name)
            results.append(ingest.IngestResult(file=name, message=f"导入失败：{exc}"))
    return results


def clean_file_name(name: str) -> str:
    """An uploaded file's name as it may be shown and stored: the browser sends it unchecked, and a NUL
    or other control character in it broke Streamlit's widgets and the upload log; a path is cut to its
    last part, invisible format characters (bidi overrides) are dropped, and the length is bounded."""
    text = str(name).replace("\\", "/").rsplit("/", 1)[-1]
    text = "".join(c for c in text if unicodedata.category(c) not in ("Cc", "Cf", "Cs", "Co"))
    return text.strip()[:200] or "未命名文件"


def dataset_titles(value: str | None) -> str:
    """'penalties,licenses' → 行政处罚（双公示）、行政许可（双公示）."""
    if not isinstance(value, str) or not value:  # None, or NaN from a refused file's row in a DataFrame
        return "未识别"
    return "、".join(DATASETS[n].title if n in DATASETS else n for n in str(value).split(","))


def chinese_preview(result: ingest.IngestResult) -> pd.DataFrame | None:
    """The preview with each dataset's standard Chinese headers."""
    if result.preview is None:
        return None
    names = (result.dataset or "").split(",")
    mapping = {c.name: c.label for n in names if n in DATASETS for c in DATASETS[n].columns}
    return result.preview.rename(columns=mapping)


def errors_frame(result: ingest.IngestResult) -> pd.DataFrame:
    """One row per validation error: 工作表, 行号, 列, 原因."""
    if not result.errors:
        return pd.DataFrame(columns=["工作表", "行号", "列", "原因"])
    frame = pd.DataFrame(result.errors)
    frame = frame.rename(columns={"sheet": "工作表", "row": "行号", "column": "列", "reason": "原因"})
    return frame[[c for c in ("工作表", "行号", "列", "原因") if c in frame.columns]]


def undoable(history: pd.DataFrame) -> list[int]:
    """Ids of the uploads an admin can undo now, newest first (the rule of analytics.intake.undo).

    ``history`` holds id, dataset, status, loaded and updated. An upload is undoable when it
    is loaded and no later loaded upload wrote rows (new or updated) of any of its datasets:
    undoing goes newest first per dataset. analytics.intake.undo checks again and has the last word.
    """
    written: set[str] = set()  # datasets a later, not undone upload wrote to
    out: list[int] = []
    for row in history.sort_values("id", ascending=False).itertuples(index=False):
        if row.status != "loaded":
            continue
        datasets = {d for d in str(row.dataset or "").split(",") if d}
        if datasets and not datasets & written:
            out.append(int(row.id))
        if int(row.loaded or 0) + int(row.updated or 0) > 0:
            written |= datasets
    return out
