"""交通信用看板 — the Streamlit entry point.

Builds the navigation and the shared sidebar; the pages under views/ are thin:
they read the filters, call analytics, and draw. (Not pages/: Streamlit treats a
pages/ folder beside the entry point as a legacy multipage app and may run a page
file on its own, without this script's sidebar.) On first start, when the
database file does not exist yet, the demo data is built there so the first
screen is never empty.

Run: streamlit run app.py
"""

from __future__ import annotations

import logging
from pathlib import Path

import streamlit as st

from analytics.storage.store import keep_private
from dashboard import auth, data, filters, updating
from dashboard.guard import page_errors
from dashboard.nav import DEFAULT_PAGE, PAGES

log = logging.getLogger(__name__)
keep_private()  # every file the app writes (database, WAL, briefing PNGs) is its owner's only

# A local icon: a material or emoji icon would make the browser fetch the favicon from a CDN.
FAVICON = str(Path(__file__).resolve().parent / "static" / "favicon.png")
st.set_page_config(page_title="交通信用看板", page_icon=FAVICON, layout="wide")


@st.cache_resource(show_spinner=False)
def ensure_database(db: str) -> str | None:
    """Build the demo database at ``db`` once per process if the file is missing; an error text on failure."""
    if Path(db).exists():
        return None
    try:
        from analytics import demo

        demo.build(db)
    except Exception as exc:  # the app still starts, on an empty store
        log.exception("demo build failed")
        return f"演示数据生成失败：{exc}"
    return None


db = data.db_path()
if not Path(db).exists():
    with st.spinner("首次启动：正在生成演示数据，请稍候……"):
        problem = ensure_database(db)
    if problem:
        st.warning(problem, icon=":material/warning:")


def unknown_path() -> str | None:
    """The path asked for when it names no page, after pointing this run at the overview.

    Streamlit serves the default page at "/" only and answers any other unknown path, /overview
    included, with an English "Page not found" dialog. Asking for the overview's own path is the
    overview; any other unknown path opens it with a Chinese note (set before st.navigation resolves).
    """
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    manager = getattr(ctx, "pages_manager", None)
    asked = getattr(manager, "intended_page_name", None)
    if not asked or getattr(manager, "intended_page_script_hash", None):
        return None
    known = {p.url_path for k, p in PAGES.items() if k != DEFAULT_PAGE}
    if asked in known:
        return None
    manager._intended_page_name = None  # resolve to the default page, without the dialog
    return None if asked == PAGES[DEFAULT_PAGE].url_path else asked


# None when sign-in is switched on and nobody has signed in yet.
user = auth.gate()

# Every page is registered, so a page's URL always reaches that page's own check; the ones the
# role may not use are hidden from the menu (and refuse when opened directly). Before sign-in all
# are hidden: the sign-in page is drawn in place of the page asked for, which opens once signed in.
sections: dict[str, list] = {"交通信用看板": [], "数据管理": []}
for key, p in PAGES.items():
    shown = user is not None and auth.allowed(user, p.permission)
    section = "数据管理" if p.permission and shown else "交通信用看板"
    sections[section].append(
        st.Page(
            p.path,
            title=p.title,
            icon=p.icon,
            url_path=p.url_path,
            default=(key == DEFAULT_PAGE),
            visibility="visible" if shown else "hidden",
        )
    )
lost = unknown_path()
nav = st.navigation(
    {name: pages for name, pages in sections.items() if pages}, position="sidebar" if user else "hidden"
)
if user is None:
    auth.sign_in_page()  # stops the run
with st.sidebar:
    st.markdown("**厦门市交通运输局 · 信用体系建设**")
auth.sidebar_account(user)
auth.banner()
updating.banner(db)  # a load, undo, backup or restore at work: figures are the last commit's
if lost:
    # The path is not echoed: it is user text.
    st.info("未找到所请求的页面，已为您打开总览。", icon=":material/explore:")
# A busy or broken store shows one Chinese line, never a traceback (dashboard/guard.py).
with page_errors():
    filters.sidebar(db)
    nav.run()
