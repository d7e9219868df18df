"""One Chinese line for a page that cannot be drawn; the details go to the server log only.

A traceback shows file paths, the Python install and, for a busy store, the lock holder's PID:
nothing a viewer needs, and something a prober wants. `client.showErrorDetails = "none"` in
.streamlit/config.toml is the backstop for anything raised outside this guard.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

import streamlit as st

from analytics.storage.store import StoreBusy

log = logging.getLogger(__name__)

BUSY = "数据正在更新，请稍后刷新"
FAILED = "页面暂时无法显示，请稍后刷新；如仍出现，请联系管理员查看服务器日志"


def user_message(exc: BaseException) -> str:
    """What a user is told: whether to wait (a load holds the store) or to ask the admin."""
    text = str(exc).lower()
    if isinstance(exc, StoreBusy) or ("lock" in text and "conflict" in text) or "could not set lock" in text:
        return BUSY
    return FAILED


@contextlib.contextmanager
def page_errors() -> Iterator[None]:
    """Run a page or the sidebar; an error becomes one line (Streamlit's stop and rerun pass through:
    they are not Exceptions)."""
    try:
        yield
    except Exception as exc:
        log.exception("page failed")
        st.error(user_message(exc), icon=":material/error:")
