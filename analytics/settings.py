"""Every setting of the project, declared in one place.

Each setting has a default here and can be overridden by an environment
variable of the same name prefixed with ``CREDIT_``; the command line's
``--db`` overrides ``CREDIT_DB``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / "data"


@dataclass(frozen=True)
class Settings:
    # Where the DuckDB file lives; created on first use.
    db: str = str(DATA_DIR / "credit.duckdb")
    # Seed item 十五: warn at 60+ penalties in a year, 3+ departments, 2+ lists.
    warn_penalties: int = 60
    warn_departments: int = 3
    warn_severe_lists: int = 2
    # Default metric window, in calendar months ending with the as-of month.
    months: int = 12
    # Objections arrive weeks after the decision they contest: a decision month's objection ratio is
    # final ("mature") only once all its decisions are at least this many days old at the as-of date.
    objection_window_days: int = 60
    # Uploads above this size are refused before they are read whole.
    max_upload_mb: int = 200
    # A dataset whose coverage ends more than this many days before today is shown as stale (issue 12).
    stale_days: int = 14
    # How long a writer waits for another process holding the database.
    lock_wait_seconds: float = 60.0
    # A generated download holding entity-level data is deleted from the server this long after it was
    # built: its /media/ URL needs no session, so it must not outlive the click that asked for it.
    download_ttl_seconds: float = 30.0
    # Headless Chromium for the weekly briefing's PNGs; empty: chromium on PATH or /usr/bin/chromium.
    chromium: str = ""
    # Authentication: "none" (demo mode), "local" (users file) or "oidc".
    auth: str = "none"
    users_file: str = str(DATA_DIR / "users.json")
    # auth = "oidc": the role of a signed-in account that is not in the users file
    # (viewer, analyst or admin; "none" lets only the accounts listed there in).
    oidc_default_role: str = "viewer"
    # auth = "local": attempt limits (analytics.storage.lockout). Failures are counted per account and per
    # client over the window; after the free ones each further try waits delay * 2^k seconds;
    # the lockout_failures-th failure locks the account for lockout_minutes.
    sign_in_window_minutes: float = 15.0
    sign_in_free_failures: int = 5
    sign_in_delay_seconds: float = 2.0
    sign_in_lockout_failures: int = 10
    sign_in_lockout_minutes: float = 15.0
    # auth = "local": a signed-in session ends after this long without interaction (0: never).
    idle_timeout_minutes: float = 30.0


def load_settings(**overrides) -> Settings:
    """Defaults, then CREDIT_* environment variables, then explicit overrides."""
    values = {}
    for f in fields(Settings):
        env = os.environ.get("CREDIT_" + f.name.upper())
        if env is not None and env != "":
            values[f.name] = type(f.default)(env)
    values.update({k: v for k, v in overrides.items() if v is not None})
    return Settings(**values)
