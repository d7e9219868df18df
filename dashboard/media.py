"""Downloads built on click expire within seconds.

Streamlit serves a download at /media/<id> to anybody who has the URL, with no session or cookie,
until its own clean-up runs (the next rerun of some session, after a grace pass), which on a quiet
server can be minutes after the browser closed. A file with identifiers is therefore built only when
its button is clicked, and deleted ``download_ttl_seconds`` later, unless a session's page still
shows it. This reaches into Streamlit's media manager (its lock, the file id rule of its in-memory
storage); tests/browser/test_downloads.py fails if an upgrade changes either.
"""

from __future__ import annotations

import logging
import threading

from streamlit import runtime
from streamlit.runtime.memory_media_file_storage import _calculate_file_id

log = logging.getLogger(__name__)


def expire_after(data: bytes, mimetype: str, file_name: str, seconds: float) -> None:
    """Delete the file Streamlit is about to store for ``data`` once ``seconds`` have passed."""
    if not runtime.exists():
        return  # AppTest and plain scripts store nothing to serve
    manager = runtime.get_instance().media_file_mgr
    timer = threading.Timer(seconds, _drop, (manager, _calculate_file_id(data, mimetype, file_name)))
    timer.daemon = True
    timer.start()


def _drop(manager, file_id: str) -> None:
    try:
        with manager._lock:
            shown = any(file_id in refs.values() for refs in manager._files_by_session_and_coord.values())
            if file_id in manager._file_metadata and not shown:
                manager._delete_file(file_id)
    except Exception:  # a Streamlit upgrade changed the manager: say so, never crash the timer thread
        log.exception("could not expire download %s", file_id)
