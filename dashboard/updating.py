"""The 数据更新中 banner: shown on every page while a load, undo, backup or restore is at work.

Meanwhile the pages read the last published snapshot (analytics.storage.snapshots), so the figures are those of
the last commit; the first rerun after the writer finishes reads the new data.
"""

from __future__ import annotations

from datetime import date

import streamlit as st

from analytics.output.escaping import markdown_text as md
from dashboard import data

BANNER_KEY = "updating_banner"  # CSS class st-key-updating_banner: what browser tests look for


def lines(db: str, today: date | None = None) -> list[str]:
    """One line per writer: what, who, since when (the time, and the date when not today). Names are user
    text: escaped for Markdown."""
    today = today or date.today()
    out = []
    for w in data.writers(db):
        since = f"{w.since:%H:%M:%S}" if w.since.date() == today else f"{w.since:%Y-%m-%d %H:%M:%S}"
        who = md(w.user) if w.user else "未注明操作人"
        out.append(f"{md(w.what)}（{who}，自 {since} 起）")
    return out


def banner(db: str) -> None:
    shown = lines(db)
    if not shown:
        return
    with st.container(key=BANNER_KEY):
        st.info(
            "**数据更新中**：" + "；".join(shown) + "。页面显示的是上次提交的数据，完成后刷新即可看到新数据。",
            icon=":material/sync:",
        )
