"""Cached access to the analytics layer.

Every cached function takes the database path and its data version first, so
an upload (which changes ``store.data_version``) makes every page read fresh
numbers at once, while unchanged data is served from the cache.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import streamlit as st

from analytics.compute import coverage, metrics
from analytics.settings import load_settings
from analytics.storage import snapshots, store

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DISTRICTS_CSV = PROJECT_ROOT / "data" / "xiamen_districts.csv"


def db_path() -> str:
    return load_settings().db


@contextlib.contextmanager
def connect(db: str) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection for reading, opened in the same (writable) configuration as uploads.

    DuckDB refuses, within one process, a read-only connection to a file that is
    open for writing and the reverse; the server's sessions are threads of one
    process, so an upload in one session would fail while another session reads.
    Same-configuration connections share one database instance and never clash.
    While a load, undo, backup or restore is at work (here or in another process),
    the last published snapshot is read instead, without waiting (analytics.storage.snapshots).
    """
    with snapshots.reading(db, load_settings().lock_wait_seconds) as con:
        yield con


def writers(db: str) -> list[snapshots.Writer]:
    """Loads, undos, backups and restores at work on ``db`` now: the 数据更新中 banner's lines."""
    return snapshots.writers(db)


def version(db: str) -> tuple:
    """The cache key for ``db``: its data version plus the file's identity, so a
    rebuilt file never serves numbers cached from the one it replaced."""
    with connect(db) as con:
        ver = store.data_version(con)
    try:
        ino = os.stat(db).st_ino
    except OSError:
        ino = 0
    return (ino, *ver)


@st.cache_data(show_spinner=False, max_entries=1024)
def run(
    db: str, ver: tuple, name: str, as_of: date, months: int, sector: str | None, district: str | None
) -> pd.DataFrame:
    with connect(db) as con:
        frame = metrics.run(con, name, as_of, months=months, sector=sector, district=district)
        if name not in coverage.masked_metrics():
            return frame
        # Values of a period the data does not cover are NaN (not covered), never 0; a coverage column
        # (full / partial / none) lets charts, cards and downloads say so.
        first_day = date.fromisoformat(metrics.months_window(as_of, months)[0] + "-01")
        return coverage.mask_frame(coverage.load(con), name, frame, as_of, first_day)


@st.cache_data(show_spinner=False, max_entries=64)
def coverage_of(db: str, ver: tuple) -> coverage.Coverage:
    with connect(db) as con:
        return coverage.load(con)


@st.cache_data(show_spinner=False, max_entries=64)
def default_as_of(db: str, ver: tuple) -> date:
    with connect(db) as con:
        return metrics.default_as_of(con)


@st.cache_data(show_spinner=False, max_entries=64)
def is_empty(db: str, ver: tuple) -> bool:
    with connect(db) as con:
        return store.is_empty(con)


@st.cache_data(show_spinner=False, max_entries=64)
def choices(db: str, ver: tuple) -> tuple[list[str], list[str]]:
    """(sectors, districts) for the sidebar: the districts file's six plus any in the data."""
    with connect(db) as con:
        sectors = [r[0] for r in con.execute("SELECT DISTINCT sector FROM entities ORDER BY sector").fetchall()]
        in_data = [r[0] for r in con.execute("SELECT DISTINCT district FROM entities ORDER BY district").fetchall()]
    known = list(districts_geo()["district"])
    return sectors, known + [d for d in in_data if d not in known]


@st.cache_data(show_spinner=False, max_entries=64)
def uploads(db: str, ver: tuple, limit: int = 200) -> pd.DataFrame:
    with connect(db) as con:
        return con.execute(
            "SELECT id, uploaded_at, user_name, file_name, dataset, encoding, rows_read, loaded, updated,"
            " unchanged, rejected, status, message FROM uploads ORDER BY id DESC LIMIT ?",
            [limit],
        ).df()


@st.cache_data(show_spinner=False)
def districts_geo() -> pd.DataFrame:
    return pd.read_csv(DISTRICTS_CSV, dtype={"adcode": str})
