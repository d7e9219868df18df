"""The sign-in attempt limits and the idle timeout (analytics.storage.lockout), with an injected clock.

Default rules: window 900 s, 5 free failures, then waits of 2 * 2^(n-5) s (2, 4, 8, 16, 32 …),
the 10th failure locks the account for 900 s.
"""

from __future__ import annotations

import json
import os
import stat

import pytest

from analytics.settings import load_settings
from analytics.storage import lockout
from analytics.storage.lockout import Guard, LockoutError, Rules

T0 = 1_700_000_000.0  # any fixed instant


class Clock:
    def __init__(self, now: float = T0):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def path(tmp_path):
    return tmp_path / "data" / "users.signin.json"


def guard(path, clock, **rules) -> Guard:
    return Guard(path, Rules(**rules), clock=clock)


def fail(g: Guard, account: str = "zhang", client: str = "ip:10.0.0.1") -> lockout.Verdict:
    """One wrong password, tried as soon as it is allowed; the verdict after it."""
    first = g.before(account, client)
    assert first.allowed, first
    return g.failed(account, client)


def fail_patiently(g: Guard, clock: Clock, n: int, account: str = "zhang", client: str = "ip:10.0.0.1"):
    """``n`` wrong passwords, each waiting exactly as long as it must; the last verdict."""
    verdict = None
    for _ in range(n):
        status = g.status(account, client)
        if status.retry_at is not None:
            clock.now = status.retry_at
        verdict = fail(g, account, client)
    return verdict


def test_delays_double_after_the_free_failures():
    rules = Rules()
    assert [rules.delay_after(n) for n in range(0, 11)] == [0, 0, 0, 0, 0, 2, 4, 8, 16, 32, 64]
    assert rules.delay_after(30) == 900  # capped at the lockout length
    assert rules.delay_after(10_000) == 900


def test_rules_come_from_the_settings():
    assert Rules.from_settings(load_settings()) == Rules()
    custom = Rules.from_settings(load_settings(sign_in_window_minutes=1, sign_in_lockout_failures=3))
    assert (custom.window_seconds, custom.lockout_failures) == (60, 3)


def test_five_failures_are_free_the_sixth_try_waits(path, clock):
    g = guard(path, clock)
    for _ in range(4):
        assert fail(g).retry_at is None  # free: try again at once
        clock.advance(1)
    # Failures at T0+0..4; the 5th at T0+4, so the next try is allowed from T0+4+2 = T0+6.
    assert fail(g).retry_at == T0 + 6
    clock.now = T0 + 5.5
    assert g.status("zhang", "ip:10.0.0.1") == lockout.Verdict("wait", T0 + 6, 5)
    clock.now = T0 + 6
    assert g.before("zhang", "ip:10.0.0.1").allowed
    verdict = g.failed("zhang", "ip:10.0.0.1")
    assert verdict.retry_at == T0 + 6 + 4  # six failures: wait 4 s


def test_a_try_too_early_is_refused_unchecked_and_counts(path, clock):
    g = guard(path, clock)
    fail_patiently(g, clock, 5)
    last = clock.now  # the 5th failure
    clock.advance(1)  # 1 s of the 2 s wait
    early = g.before("zhang", "ip:10.0.0.1")
    assert early.outcome == "wait"
    assert early.failures == 6
    assert early.retry_at == last + 1 + 4  # counted: six failures now, 4 s after this one


def test_the_window_forgets_old_failures(path, clock):
    g = guard(path, clock)
    for _ in range(5):  # at T0+0, 1, 2, 3, 4
        fail(g)
        clock.advance(1)
    # At T0+900 the failure at T0+0 leaves the window (it counts only while at > now - 900).
    clock.now = T0 + 899.9
    assert g.status("zhang", "ip:10.0.0.1").failures == 5
    clock.now = T0 + 900
    assert g.status("zhang", "ip:10.0.0.1") == lockout.Verdict("try", None, 4)
    clock.now = T0 + 904
    assert g.status("zhang", "ip:10.0.0.1").failures == 0


def test_the_tenth_failure_locks_and_the_eleventh_try_is_refused(path, clock):
    g = guard(path, clock)
    assert fail_patiently(g, clock, 9).outcome == "try"
    ninth = clock.now
    clock.now = ninth + 32  # 9 failures: the 10th try waits 2 * 2^4 = 32 s
    tenth = g.before("zhang", "ip:10.0.0.1")
    assert tenth.allowed and tenth.failures == 10
    locked = g.failed("zhang", "ip:10.0.0.1")
    assert locked == lockout.Verdict("locked", clock.now + 900, 10, locked_now=True)
    assert [(x.account, x.until) for x in g.locks()] == [("zhang", clock.now + 900)]

    clock.advance(899)
    eleventh = g.before("zhang", "ip:10.0.0.2")  # another client, maybe the right password: still refused
    assert (eleventh.outcome, eleventh.locked_now, eleventh.retry_at) == ("locked", False, locked.retry_at)
    clock.advance(1)  # the lock has run its 900 s
    assert g.before("zhang", "ip:10.0.0.2").allowed
    assert g.locks() == []


def test_the_tenth_try_with_the_right_password_signs_in(path, clock):
    g = guard(path, clock)
    fail_patiently(g, clock, 9)
    clock.advance(32)
    assert g.before("zhang", "ip:10.0.0.1").allowed
    g.succeeded("zhang")  # the right password: the failures are forgiven
    assert g.status("zhang", "ip:10.0.0.1") == lockout.Verdict("try", None, 0)
    assert fail(g).retry_at is None


def test_tries_while_locked_do_not_extend_the_lock(path, clock):
    g = guard(path, clock)
    until = fail_patiently(g, clock, 10).retry_at
    for _ in range(50):
        clock.advance(10)
        assert g.before("zhang", "ip:10.0.0.1").retry_at == until
    clock.now = until
    assert g.status("zhang", "ip:10.0.0.9") == lockout.Verdict("try", None, 0)  # afresh after the lock


def test_one_client_guessing_many_accounts_is_slowed(path, clock):
    g = guard(path, clock)
    for n in range(5):
        fail(g, account=f"user{n}")
    # Five failures from this client, each on a different account: the client waits.
    assert g.status("someone.else", "ip:10.0.0.1").outcome == "wait"
    assert g.status("someone.else", "ip:10.0.0.2").outcome == "try"  # other clients do not
    assert g.locks() == []  # no account failed ten times


def test_many_clients_guessing_one_account_lock_it(path, clock):
    g = guard(path, clock)
    for n in range(10):
        status = g.status("zhang", f"ip:10.0.1.{n}")
        clock.now = status.retry_at or clock.now
        verdict = fail(g, client=f"ip:10.0.1.{n}")
    assert verdict.locked_now


def test_unlock_lifts_the_lock_and_the_clients_delay(path, clock):
    g = guard(path, clock)
    fail_patiently(g, clock, 10)
    assert g.status("zhang", "ip:10.0.0.1").outcome == "locked"
    assert g.unlock("zhang") is True
    assert g.status("zhang", "ip:10.0.0.1") == lockout.Verdict("try", None, 0)
    assert g.unlock("zhang") is False  # nothing left to lift


def test_state_survives_a_restart_and_is_private(path, clock):
    fail_patiently(guard(path, clock), clock, 10, account="张三")
    restarted = guard(path, clock)  # a new process reading the same file
    assert restarted.status("张三", "session:other-tab").outcome == "locked"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left behind


def test_names_are_looked_up_as_users_py_does(path, clock):
    g = guard(path, clock)
    fail_patiently(g, clock, 10, account="ｚｈａｎｇ ")  # full-width letters and a trailing space
    assert g.status("zhang", "ip:10.0.0.5").outcome == "locked"
    assert lockout.account_key("x" * 500) == "x" * lockout.NAME_LIMIT


def test_only_the_window_is_kept_in_the_file(path, clock):
    g = guard(path, clock)
    for n in range(20):
        fail(g, account=f"u{n}", client=f"ip:{n}")
    clock.advance(901)
    fail(g, account="late", client="ip:x")
    kept = json.loads(path.read_text(encoding="utf-8"))
    assert [f["account"] for f in kept["failures"]] == ["late"]


def test_a_corrupt_state_file_fails_closed(path, clock):
    path.parent.mkdir(parents=True)
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(LockoutError, match="登录限制记录已损坏"):
        guard(path, clock).before("zhang", "ip:1")
    path.write_text(json.dumps({"failures": [{"at": "x"}], "locks": {}}), encoding="utf-8")
    with pytest.raises(LockoutError):
        guard(path, clock).status("zhang", "ip:1")


def test_state_path_is_beside_the_users_file(tmp_path):
    assert lockout.state_path(tmp_path / "users.json") == tmp_path / "users.signin.json"


def test_idle_timeout():
    # 30 minutes = 1800 s: idle at 1800 s exactly, not at 1799.
    assert not lockout.idle_expired(T0, T0 + 1799, 30)
    assert lockout.idle_expired(T0, T0 + 1800, 30)
    assert not lockout.idle_expired(None, T0 + 10_000, 30)  # never seen: just signed in
    assert not lockout.idle_expired(T0, T0 + 10_000, 0)  # 0: no timeout
