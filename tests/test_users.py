"""Local users: hashed passwords, roles and their permissions, the file and the CLI."""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from analytics import cli
from analytics.storage import audit, store, users
from analytics.storage.users import PERMISSIONS, ROLES, User, UserError

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def path(tmp_path) -> Path:
    return tmp_path / "data" / "users.json"


def test_a_user_verifies_with_the_right_password_only(path):
    users.add_user("zhang.san", "analyst", "正确的密码123", path)
    assert users.verify("zhang.san", "正确的密码123", path) == User("zhang.san", "analyst")
    assert users.verify("zhang.san", "正确的密码12", path) is None
    assert users.verify("zhang.san", "", path) is None
    assert users.verify("nobody", "正确的密码123", path) is None
    assert users.verify("zhang.san", "x" * 5000, path) is None
    assert users.verify("zhang.san", None, path) is None


def test_the_file_holds_salted_hashes_never_the_password_and_is_private(path):
    users.add_user("a", "viewer", "same-password", path)
    users.add_user("b", "viewer", "same-password", path)
    text = path.read_text(encoding="utf-8")
    assert "same-password" not in text
    entries = json.loads(text)["users"]
    assert entries["a"]["password"].startswith("scrypt$")
    assert entries["a"]["password"] != entries["b"]["password"]  # a salt per user
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["users.json"]  # no temporary file left behind


def test_roles_and_permissions_come_from_one_table():
    assert set(PERMISSIONS) == set(ROLES)
    viewer, analyst, admin = (User("u", r) for r in ("viewer", "analyst", "admin"))
    assert (viewer.can_upload, viewer.can_see_identifiers, viewer.can_undo, viewer.can_manage) == (False,) * 4
    assert (analyst.can_upload, analyst.can_see_identifiers, analyst.can_undo, analyst.can_manage) == (
        True,
        True,
        False,
        False,
    )
    assert (admin.can_upload, admin.can_see_identifiers, admin.can_undo, admin.can_manage) == (True,) * 4
    assert not User("u", "root").can_upload  # an unknown role may do nothing


def test_list_set_role_remove(path):
    users.add_user("王五", "admin", "password-1", path)
    users.add_user("李四", "viewer", "password-2", path)
    assert users.set_role("李四", "analyst", path) == User("李四", "analyst")
    assert users.list_users(path) == [User("李四", "analyst"), User("王五", "admin")]
    users.remove_user("李四", path)
    assert users.list_users(path) == [User("王五", "admin")]
    assert users.verify("李四", "password-2", path) is None


def test_names_are_looked_up_after_nfkc_so_full_width_letters_match(path):
    users.add_user("admin", "admin", "password-1", path)
    assert users.verify("ａｄｍｉｎ ", "password-1", path) == User("admin", "admin")


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda p: users.add_user("dup", "viewer", "password-1", p), "用户已存在"),
        (lambda p: users.add_user("new", "root", "password-1", p), "角色应为"),
        (lambda p: users.add_user("new", "viewer", "short", p), "密码至少 8 个字符"),
        (lambda p: users.add_user("bad name", "viewer", "password-1", p), "用户名应为"),
        (lambda p: users.add_user("", "viewer", "password-1", p), "用户名应为"),
        (lambda p: users.add_user("a\nb", "viewer", "password-1", p), "用户名应为"),
        (lambda p: users.remove_user("ghost", p), "用户不存在"),
        (lambda p: users.set_role("ghost", "admin", p), "用户不存在"),
        (lambda p: users.remove_user("boss", p), "不能删除最后一位管理员"),
        (lambda p: users.set_role("boss", "viewer", p), "不能取消最后一位管理员"),
    ],
)
def test_refused_changes_say_why_in_chinese_and_change_nothing(path, call, message):
    users.add_user("boss", "admin", "password-1", path)
    users.add_user("dup", "viewer", "password-1", path)
    before = path.read_bytes()
    with pytest.raises(UserError, match=message):
        call(path)
    assert path.read_bytes() == before


def test_a_damaged_file_is_reported_not_overwritten(path):
    path.parent.mkdir(parents=True)
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(UserError, match="用户文件已损坏"):
        users.verify("a", "password-1", path)
    with pytest.raises(UserError, match="用户文件已损坏"):
        users.add_user("a", "admin", "password-1", path)
    assert path.read_text(encoding="utf-8") == "{not json"


def test_set_password(path):
    users.add_user("a", "viewer", "old-password", path)
    users.set_password("a", "new-password", path)
    assert users.verify("a", "old-password", path) is None
    assert users.verify("a", "new-password", path) == User("a", "viewer")


def test_the_default_file_comes_from_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("CREDIT_USERS_FILE", str(tmp_path / "u.json"))
    users.add_user("a", "viewer", "password-1")
    assert (tmp_path / "u.json").exists() and users.list_users() == [User("a", "viewer")]


def test_cli_manages_users_and_audits_each_change(tmp_path, monkeypatch, capsys):
    path, db = tmp_path / "users.json", str(tmp_path / "credit.duckdb")
    monkeypatch.setenv("CREDIT_USERS_FILE", str(path))
    monkeypatch.setattr(sys, "stdin", io.StringIO("管理员的密码很长\n"))
    assert cli.main(["users", "add", "王五", "--role", "admin", "--password-stdin", "--db", db]) == 0
    assert "已添加用户 王五（管理员）" in capsys.readouterr().out
    assert users.verify("王五", "管理员的密码很长", path) == User("王五", "admin")

    monkeypatch.setattr(sys, "stdin", io.StringIO("viewer-password\r\n"))
    assert cli.main(["users", "add", "li", "--role", "viewer", "--password-stdin", "--db", db]) == 0
    assert users.verify("li", "viewer-password", path)  # the line ending is not part of the password
    assert cli.main(["users", "set-role", "li", "analyst", "--db", db]) == 0
    assert cli.main(["users", "list"]) == 0
    out = capsys.readouterr().out
    assert "li\tanalyst\t分析员" in out and "王五\tadmin\t管理员" in out
    assert cli.main(["users", "remove", "li", "--db", db]) == 0

    assert cli.main(["users", "remove", "王五", "--db", db]) == 2
    assert capsys.readouterr().err == "错误：不能删除最后一位管理员：王五\n"
    assert cli.main(["users", "add", "x", "--role", "root", "--password-stdin"]) == 2
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert cli.main(["users", "add", "x", "--role", "viewer"]) == 2  # not a terminal, no --password-stdin
    assert "--password-stdin" in capsys.readouterr().err

    with store.connect(db, read_only=True) as con:
        log = audit.list_log(con, 10, action="user_change")
    ops = [(json.loads(d)["name"], json.loads(d)["op"]) for d in log["detail"]]
    assert ops == [("li", "remove"), ("li", "set_role"), ("li", "add"), ("王五", "add")]
    assert not any(secret in d for d in log["detail"] for secret in ("管理员的密码很长", "viewer-password"))


def test_cli_reads_the_password_from_stdin_in_a_real_process(tmp_path):
    path = tmp_path / "users.json"
    env = {**os.environ, "CREDIT_USERS_FILE": str(path), "CREDIT_DB": str(tmp_path / "credit.duckdb")}
    done = subprocess.run(
        [sys.executable, "-m", "analytics", "users", "add", "ops", "--role", "admin", "--password-stdin"],
        input="a long enough password\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert users.verify("ops", "a long enough password", path) == User("ops", "admin")


@pytest.mark.parametrize("password", ["12345678", "password", "PASSWORD", "qwerty123", "iloveyou"])
def test_a_common_password_is_refused_at_add_and_passwd(tmp_path, password):
    path = tmp_path / "users.json"
    with pytest.raises(users.UserError, match="密码过于常见"):
        users.add_user("zhang.san", "viewer", password, path)
    users.add_user("zhang.san", "viewer", "厦门交通-信用2022", path)
    with pytest.raises(users.UserError, match="密码过于常见"):
        users.set_password("zhang.san", password, path)
    assert users.verify("zhang.san", "厦门交通-信用2022", path) is not None
