"""Limits on local sign-in attempts (a growing delay, then a lockout) and the idle timeout.

No Streamlit here: the dashboard asks ``Guard.before`` ahead of checking a password and tells it
``failed`` or ``succeeded`` afterwards; the clock is injected so the rules are tested without waiting.

The rules (``Rules``, from settings): failures are counted per account and per client over a sliding
window (15 minutes). Up to ``free_failures`` (5) cost nothing; after that each further try must wait
``delay_seconds * 2 ** (failures - free_failures)`` after the last failure (2, 4, 8, 16, 32 s …, at
most the lockout length). A try that comes too early is refused without checking the password and
counts as a failure, so hammering only reaches the lockout sooner. The ``lockout_failures``-th (10th)
failure of an account locks it for ``lockout_seconds`` (15 minutes): until then every try is refused,
right password or not, and not counted. Clients are never locked as such, but their delay keeps
doubling up to the lockout length. A success clears the account's failures; ``unlock`` does so early.

Where the state lives: a small JSON file beside the users file (``state_path``), not a DuckDB table.
DuckDB lets one process write at a time and a load holds the database for its whole length; a
sign-in attempt must be counted, and refused, at once, whoever holds the database. Like the users
file it survives a restart and is shared by every tab and process: it is rewritten atomically
(temporary file, then ``os.replace``) with mode 0600 under an exclusive lock on its folder, and it
stays small (only failures inside the window are kept).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

_FILE_VERSION = 1
MAX_FAILURES = 10_000  # kept in the file at most (newest), whatever an attacker sends
NAME_LIMIT = 64


class LockoutError(RuntimeError):
    """The state file cannot be read or written; sign-in fails closed."""


@dataclass(frozen=True)
class Rules:
    window_seconds: float = 15 * 60
    free_failures: int = 5
    lockout_failures: int = 10
    lockout_seconds: float = 15 * 60
    delay_seconds: float = 2.0

    @classmethod
    def from_settings(cls, settings) -> Rules:
        return cls(
            window_seconds=max(0.0, float(settings.sign_in_window_minutes)) * 60,
            free_failures=max(0, int(settings.sign_in_free_failures)),
            lockout_failures=max(1, int(settings.sign_in_lockout_failures)),
            lockout_seconds=max(0.0, float(settings.sign_in_lockout_minutes)) * 60,
            delay_seconds=max(0.0, float(settings.sign_in_delay_seconds)),
        )

    def delay_after(self, failures: int) -> float:
        """How long the next try waits after ``failures`` failures in the window."""
        if failures < self.free_failures:
            return 0.0
        return min(self.delay_seconds * 2 ** min(failures - self.free_failures, 40), self.lockout_seconds)


@dataclass(frozen=True)
class Verdict:
    """``outcome``: "try" (check the password), "wait" (too early) or "locked"."""

    outcome: str
    retry_at: float | None = None  # when the next try is allowed (clock seconds); None: at once
    failures: int = 0  # the account's failures in the window, this one included
    locked_now: bool = False  # this attempt locked the account

    @property
    def allowed(self) -> bool:
        return self.outcome == "try"


@dataclass(frozen=True)
class Lock:
    account: str
    since: float
    until: float
    client: str


def account_key(name) -> str:
    """The account a typed name counts against: NFKC, trimmed (as users.py looks names up), bounded."""
    text = unicodedata.normalize("NFKC", name).strip() if isinstance(name, str) else ""
    return text[:NAME_LIMIT]


def state_path(users_file: str | os.PathLike) -> Path:
    """The state file beside the users file: data/users.json -> data/users.signin.json."""
    file = Path(users_file)
    return file.with_name(file.stem + ".signin.json")


def idle_expired(last_seen: float | None, now: float, minutes: float) -> bool:
    """Whether a session last used at ``last_seen`` has been idle ``minutes`` or more (0: never)."""
    if last_seen is None or minutes <= 0:
        return False
    return now - last_seen >= minutes * 60


class Guard:
    def __init__(self, path: str | os.PathLike, rules: Rules | None = None, clock: Callable[[], float] = time.time):
        self.path = Path(path)
        self.rules = rules or Rules()
        self.clock = clock

    # --- the sign-in steps ------------------------------------------------------------

    def before(self, account: str, client: str) -> Verdict:
        """Ahead of the password check. A "try" is counted as a failure already, so attempts in
        parallel see it; ``succeeded`` takes it back."""
        account = account_key(account)
        with self._changing() as state:
            now = self.clock()
            lock = self._active_lock(state, account, now)
            if lock is not None:
                return Verdict("locked", lock.until, len(self._account_failures(state, account, now)))
            retry_at = self._retry_at(state, account, client, now)
            self._add_failure(state, account, client, now)
            if retry_at is not None and now < retry_at:
                verdict = self._after_failure(state, account, client, now)
                if verdict.outcome == "locked":
                    return verdict
                return Verdict("wait", max(retry_at, verdict.retry_at or retry_at), verdict.failures)
            return Verdict("try", None, len(self._account_failures(state, account, now)))

    def failed(self, account: str, client: str) -> Verdict:
        """After a wrong password (already counted by ``before``): locks the account at the limit."""
        account = account_key(account)
        with self._changing() as state:
            return self._after_failure(state, account, client, self.clock())

    def succeeded(self, account: str) -> None:
        """After the right password: the account's failures are forgiven."""
        self.unlock(account)

    def unlock(self, account: str) -> bool:
        """Lift the account's lock and forget its failures; False when there was nothing to lift."""
        account = account_key(account)
        with self._changing() as state:
            before = len(state["failures"]), len(state["locks"])
            state["failures"] = [f for f in state["failures"] if f["account"] != account]
            state["locks"].pop(account, None)
            return (len(state["failures"]), len(state["locks"])) != before

    # --- reading --------------------------------------------------------------------------

    def locks(self) -> list[Lock]:
        """The accounts locked now, the latest lock first."""
        state, now = self._read(), self.clock()
        found = [self._lock(a, e) for a, e in state["locks"].items() if e["until"] > now]
        return sorted(found, key=lambda lock: lock.since, reverse=True)

    def status(self, account: str, client: str) -> Verdict:
        """What ``before`` would answer now, without counting anything."""
        account = account_key(account)
        state, now = self._read(), self.clock()
        lock = self._active_lock(state, account, now)
        failures = len(self._account_failures(state, account, now))
        if lock is not None:
            return Verdict("locked", lock.until, failures)
        retry_at = self._retry_at(state, account, client, now)
        if retry_at is not None and now < retry_at:
            return Verdict("wait", retry_at, failures)
        return Verdict("try", None, failures)

    # --- the rules over the state -------------------------------------------------------

    def _account_failures(self, state: dict, account: str, now: float) -> list[float]:
        # Failures before a lock (expired or not) are spent: after the lock the account starts afresh.
        since = state["locks"].get(account, {}).get("since", float("-inf"))
        start = max(now - self.rules.window_seconds, since)
        return sorted(f["at"] for f in state["failures"] if f["account"] == account and start < f["at"] <= now)

    def _client_failures(self, state: dict, client: str, now: float) -> list[float]:
        start = now - self.rules.window_seconds
        return sorted(f["at"] for f in state["failures"] if f["client"] == client and start < f["at"] <= now)

    def _retry_at(self, state: dict, account: str, client: str, now: float) -> float | None:
        times = [t for t in (self._next_try(self._account_failures(state, account, now)),
                             self._next_try(self._client_failures(state, client, now))) if t is not None]  # fmt: skip
        return max(times) if times else None

    def _next_try(self, failures: list[float]) -> float | None:
        delay = self.rules.delay_after(len(failures))
        return failures[-1] + delay if failures and delay > 0 else None

    def _active_lock(self, state: dict, account: str, now: float) -> Lock | None:
        entry = state["locks"].get(account)
        return self._lock(account, entry) if entry and entry["until"] > now else None

    def _after_failure(self, state: dict, account: str, client: str, now: float) -> Verdict:
        failures = self._account_failures(state, account, now)
        if len(failures) >= self.rules.lockout_failures and self._active_lock(state, account, now) is None:
            until = now + self.rules.lockout_seconds
            state["locks"][account] = {"since": now, "until": until, "client": client}
            return Verdict("locked", until, len(failures), locked_now=True)
        lock = self._active_lock(state, account, now)
        if lock is not None:
            return Verdict("locked", lock.until, len(failures))
        retry_at = self._retry_at(state, account, client, now)
        return Verdict("try", retry_at if retry_at is not None and retry_at > now else None, len(failures))

    @staticmethod
    def _add_failure(state: dict, account: str, client: str, now: float) -> None:
        state["failures"].append({"at": now, "account": account, "client": str(client)[:200]})

    @staticmethod
    def _lock(account: str, entry: dict) -> Lock:
        return Lock(account, entry["since"], entry["until"], entry.get("client", ""))

    def _prune(self, state: dict, now: float) -> None:
        start = now - self.rules.window_seconds
        state["failures"] = [f for f in state["failures"] if start < f["at"] <= now][-MAX_FAILURES:]
        # A lock is kept while it runs, and as long as failures before it are still in the window.
        state["locks"] = {a: e for a, e in state["locks"].items() if e["until"] > now or e["since"] > start}

    # --- the file ------------------------------------------------------------------------

    def _read(self) -> dict:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {"failures": [], "locks": {}}
        except OSError as exc:
            raise LockoutError(f"无法读取登录限制记录 {self.path}：{exc.strerror or exc}") from None
        try:
            data = json.loads(text)
            failures, locks = data["failures"], data["locks"]
            if not isinstance(failures, list) or not isinstance(locks, dict):
                raise ValueError
            for f in failures:
                f["at"] = float(f["at"])
                if not isinstance(f["account"], str) or not isinstance(f["client"], str):
                    raise ValueError
            for e in locks.values():
                e["since"], e["until"] = float(e["since"]), float(e["until"])
        except (ValueError, KeyError, TypeError):
            raise LockoutError(f"登录限制记录已损坏：{self.path}（管理员可删除该文件后重试）") from None
        return {"failures": failures, "locks": locks}

    @contextlib.contextmanager
    def _changing(self) -> Iterator[dict]:
        """Read, change and write back the state under an exclusive lock on its folder."""
        with _folder_locked(self.path):
            state = self._read()
            yield state
            self._prune(state, self.clock())
            self._write(state)

    def _write(self, state: dict) -> None:
        text = json.dumps({"version": _FILE_VERSION, **state}, ensure_ascii=False, sort_keys=True)
        try:
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix="." + self.path.name + ".", suffix=".tmp")
        except OSError as exc:
            raise LockoutError(f"无法写入登录限制记录 {self.path}：{exc.strerror or exc}") from None
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(text + "\n")
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise


@contextlib.contextmanager
def _folder_locked(file: Path) -> Iterator[None]:
    """The same lock users.py takes for a change of the users file: one writer at a time."""
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LockoutError(f"无法创建登录限制记录所在目录 {file.parent}：{exc.strerror or exc}") from None
    try:
        import fcntl
    except ImportError:  # not POSIX: atomic replace only
        yield
        return
    fd = os.open(file.parent, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
