"""Local sign-in limits and the idle timeout in the app (AppTest) and on the command line.

The app's clock is replaced (``auth._clock``), so waits and timeouts pass without sleeping.
Default rules: 5 free failures, then waits of 2, 4, 8, 16 s; the 10th failure locks for 15 minutes.
"""

from __future__ import annotations

import json
import time

import pytest

from analytics import cli
from analytics.storage import lockout, users
from dashboard import auth
from tests.test_access import ADMIN, ANALYST, PASSWORD, audit_log, button, go, is_sign_in_page, open_app, sign_in
from tests.test_app import HEADINGS, build_fixture
from tests.test_lockout import Clock

LOCKED = "该账号因连续登录失败已被临时锁定"


@pytest.fixture
def clock(monkeypatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(auth, "_clock", fake)
    return fake


@pytest.fixture
def env(monkeypatch, tmp_path, clock) -> dict:
    """Local sign-in with its own users file (so its own limits file) and database."""
    users_file = tmp_path / "users.json"
    users.add_user(ANALYST, "analyst", PASSWORD, users_file)
    users.add_user(ADMIN, "admin", PASSWORD, users_file)
    db = str(tmp_path / "limits.duckdb")
    build_fixture(db)
    monkeypatch.setenv("CREDIT_AUTH", "local")
    monkeypatch.setenv("CREDIT_USERS_FILE", str(users_file))
    monkeypatch.setenv("CREDIT_DB", db)
    return {"db": db, "users_file": users_file}


def errors(at) -> list[str]:
    return [e.value for e in at.error]


def signed_in_as(at, name: str) -> bool:
    return not is_sign_in_page(at) and any(name in m.value for m in at.sidebar.markdown)


def wrong_passwords(at, clock: Clock, n: int, name: str = ANALYST) -> None:
    """``n`` wrong passwords, each after the wait the previous one asked for."""
    for _ in range(n):
        clock.advance(60)  # longer than any wait before the lockout (at most 16 s)
        sign_in(at, name, "wrong-password")


def test_sign_in_page_states_the_rules(env):
    at = open_app()
    assert any(
        "连续失败 5 次后" in c.value and "锁定 15 分钟" in c.value and "30 分钟无操作" in c.value for c in at.caption
    )


def test_after_five_failures_the_next_try_waits(env, clock):
    at = open_app()
    for _ in range(4):
        sign_in(at, ANALYST, "wrong-password")
        assert errors(at) == [auth.BAD_CREDENTIALS]
    sign_in(at, ANALYST, "wrong-password")  # the 5th: the next try waits 2 s
    assert errors(at) == [f"{auth.BAD_CREDENTIALS}。连续失败次数较多，请 2 秒后再试。"]
    clock.advance(1)
    sign_in(at, ANALYST)  # the right password, too early: refused unchecked
    assert errors(at) == ["尝试过于频繁，请 4 秒后再试。"]  # counted: 6 failures, so 4 s after this one
    assert is_sign_in_page(at)
    clock.advance(4)
    sign_in(at, ANALYST)
    assert HEADINGS["overview"] in [t.value for t in at.title]
    detail = json.loads(audit_log(env["db"], action="sign_in").iloc[1]["detail"])
    assert detail == {"ok": False, "method": "local", "refused": "too_early"}


def test_lockout_refuses_the_right_password_until_an_admin_unlocks(env, clock):
    at = open_app()
    wrong_passwords(at, clock, 9)
    assert not any(LOCKED in e for e in errors(at))
    wrong_passwords(at, clock, 1)  # the 10th failure locks
    assert len(errors(at)) == 1 and errors(at)[0].startswith(LOCKED)
    assert "约 15 分钟后" in errors(at)[0]
    for password in ("wrong-password", PASSWORD):  # the 11th and 12th: the same words either way
        clock.advance(60)
        sign_in(at, ANALYST, password)
        assert len(errors(at)) == 1 and errors(at)[0].startswith(LOCKED), password
        assert "约 14 分钟后" in errors(at)[0] or "约 13 分钟后" in errors(at)[0]
        assert is_sign_in_page(at)
    fresh_tab = sign_in(open_app(), ANALYST)  # a new session is locked out just the same
    assert errors(fresh_tab)[0].startswith(LOCKED)

    lockouts = audit_log(env["db"], action="lockout")
    assert list(lockouts["user_name"]) == [ANALYST]
    detail = json.loads(lockouts.iloc[0]["detail"])
    assert (detail["name"], detail["failures"]) == (ANALYST, 10)
    assert detail["client"].startswith("session:")
    refused = [json.loads(d).get("refused") for d in audit_log(env["db"], action="sign_in")["detail"]]
    assert refused[:3] == ["locked"] * 3 and refused.count(None) == 10

    admin = sign_in(open_app(), ADMIN)
    go(admin, "audit")
    assert not admin.exception, [e.value for e in admin.exception]
    locks = admin.dataframe[1].value
    assert list(locks["账号"]) == [ANALYST]
    assert admin.selectbox(key="al_unlock_name").value == ANALYST
    button(admin, "解除锁定").click().run()
    assert any(f"已解除 {ANALYST} 的登录锁定" in s.value for s in admin.success)
    assert any("当前没有因连续登录失败而被锁定的账号" in c.value for c in admin.caption)
    unlock = audit_log(env["db"], action="unlock").iloc[0]
    assert unlock["user_name"] == ADMIN
    assert json.loads(unlock["detail"]) == {"name": ANALYST, "via": "审计日志页面"}

    sign_in(at, ANALYST)
    assert signed_in_as(at, ANALYST)


def test_the_cli_unlocks_and_audits(env, clock, capsys):
    clock.now = time.time()  # the CLI runs on the real clock
    guard = lockout.Guard(lockout.state_path(env["users_file"]), clock=clock)
    for _ in range(10):
        clock.now = guard.status(ANALYST, "ip:10.0.0.1").retry_at or clock.now
        guard.before(ANALYST, "ip:10.0.0.1")
        guard.failed(ANALYST, "ip:10.0.0.1")
    assert cli.main(["users", "unlock", ANALYST]) == 0
    assert capsys.readouterr().out.strip() == f"已解除 {ANALYST} 的登录锁定"
    assert guard.locks() == []
    assert cli.main(["users", "unlock", ANALYST]) == 0
    assert "无需解锁" in capsys.readouterr().out
    rows = audit_log(env["db"], action="unlock")
    assert len(rows) == 1
    assert json.loads(rows.iloc[0]["detail"]) == {"name": ANALYST, "was_locked": True, "via": "命令行"}


def test_idle_session_is_signed_out_after_thirty_minutes(env, clock):
    at = sign_in(open_app(), ANALYST)
    assert signed_in_as(at, ANALYST)
    clock.advance(29 * 60 + 59)  # 1799 s without a click: still signed in
    at.run()
    assert signed_in_as(at, ANALYST)
    clock.advance(30 * 60)  # 1800 s since that click
    at.run()
    assert is_sign_in_page(at)
    assert errors(at) == ["您已超过 30 分钟未操作，已自动退出登录，请重新登录。"]
    newest = audit_log(env["db"]).iloc[0]
    assert (newest["user_name"], newest["action"]) == (ANALYST, "sign_out")
    assert json.loads(newest["detail"]) == {"method": "local", "reason": "idle"}
    at.run()  # the page stays the sign-in page; signing in again starts a new 30 minutes
    sign_in(at, ANALYST)
    assert signed_in_as(at, ANALYST)


def test_idle_timeout_is_a_setting(env, clock, monkeypatch):
    monkeypatch.setenv("CREDIT_IDLE_TIMEOUT_MINUTES", "5")
    at = sign_in(open_app(), ANALYST)
    clock.advance(5 * 60)
    at.run()
    assert errors(at) == ["您已超过 5 分钟未操作，已自动退出登录，请重新登录。"]
