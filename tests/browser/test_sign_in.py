"""Sign-in and sign-out in a real browser, with CREDIT_AUTH=local and a users file made by the CLI.

Screenshots (artifacts/screenshots/signin_*.png) show the sign-in form, its error, the signed-in
sidebar with the user and role, a viewer's refusal and the form again after signing out.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from playwright.sync_api import Page, expect

from analytics.storage import audit, store
from tests.browser.conftest import ROOT, running_server
from tests.browser.test_pages import IDLE, wait_ready

PASSWORD = "Xm-交通-2022!"
ANALYST, VIEWER, ADMIN = "钱分析", "赵查看", "孙管理"


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory):
    """(base URL, database) of a server with local sign-in; its users were added with the CLI."""
    from analytics import demo

    folder = tmp_path_factory.mktemp("auth")
    db = str(folder / "credit.duckdb")
    demo.build(db, seed=2022, scale=0.1)
    users_file = str(folder / "users.json")
    env = {**os.environ, "CREDIT_USERS_FILE": users_file, "CREDIT_DB": db}
    for name, role in ((ANALYST, "analyst"), (VIEWER, "viewer"), (ADMIN, "admin")):
        subprocess.run(
            [sys.executable, "-m", "analytics", "users", "add", name, "--role", role, "--password-stdin"],
            input=PASSWORD + "\n",
            text=True,
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
    extra = {"CREDIT_AUTH": "local", "CREDIT_USERS_FILE": users_file}
    with running_server(db, folder / "streamlit.log", env=extra) as url:
        yield url, db


def sign_in(page: Page, name: str, password: str) -> None:
    form = page.get_by_test_id("stForm")
    form.get_by_label("用户名").fill(name)
    form.get_by_label("密码", exact=True).fill(password)
    form.get_by_role("button", name="登录").click()


def expect_sign_in_form(page: Page) -> None:
    expect(page.get_by_test_id("stForm").get_by_label("用户名")).to_be_visible()
    expect(page.get_by_role("heading", name="交通信用看板", exact=True)).to_be_visible()
    page.wait_for_function(IDLE)


def test_sign_in_and_sign_out(page: Page, auth_server, screenshots):
    url, db = auth_server
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{url}/")
    expect_sign_in_form(page)
    expect(page.get_by_role("heading", name="交通信用看板 · 总览")).to_have_count(0)
    expect(page.get_by_test_id("stSidebar")).to_have_count(0)
    page.screenshot(path=str(screenshots / "signin_form.png"))

    sign_in(page, ANALYST, "not-the-password")
    expect(page.get_by_text("用户名或密码错误")).to_be_visible()
    expect(page.get_by_test_id("stForm").get_by_label("密码", exact=True)).to_have_value("")
    page.wait_for_function(IDLE)
    page.screenshot(path=str(screenshots / "signin_error.png"))

    sign_in(page, ANALYST, PASSWORD)
    wait_ready(page, "")
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar.get_by_text(ANALYST)).to_be_visible()
    expect(sidebar.get_by_text("分析员")).to_be_visible()
    expect(sidebar.get_by_role("link", name="数据上传")).to_be_visible()
    expect(sidebar.get_by_role("link", name="审计日志")).to_have_count(0)
    expect(page.get_by_text("演示模式")).to_have_count(0)
    page.screenshot(path=str(screenshots / "signin_analyst.png"))

    sidebar.get_by_role("button", name="退出登录").click()
    expect_sign_in_form(page)
    expect(page.get_by_test_id("stSidebar")).to_be_hidden()
    page.screenshot(path=str(screenshots / "signin_signed_out.png"))

    with store.connect(db, read_only=True) as con:
        log = audit.list_log(con)
    rows = list(zip(log["user_name"], log["action"], strict=True))[:3]
    assert rows == [(ANALYST, "sign_out"), (ANALYST, "sign_in"), (ANALYST, "sign_in")]
    assert '"ok": false' in log["detail"].iloc[2]


def test_viewer_is_refused_the_upload_page(page: Page, auth_server, screenshots):
    url, _ = auth_server
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{url}/upload")  # a deep link: the sign-in page first, then the page asked for
    expect_sign_in_form(page)
    sign_in(page, VIEWER, PASSWORD)
    expect(page.get_by_text("无权访问「数据上传」")).to_be_visible()
    page.wait_for_function(IDLE)
    expect(page.locator('input[type="file"]')).to_have_count(0)
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar.get_by_text("查看者")).to_be_visible()
    expect(sidebar.get_by_role("link", name="数据上传")).to_have_count(0)
    expect(sidebar.get_by_role("link", name="总览")).to_be_visible()
    page.screenshot(path=str(screenshots / "signin_viewer_refused.png"))

    sidebar.get_by_role("link", name="行业风险热力图").click()
    expect(page.get_by_role("heading", name="信用风险预警名单")).to_be_visible()
    page.wait_for_function(IDLE)
    expect(page.get_by_text("统一社会信用代码已脱敏显示")).to_be_visible()
    table = page.get_by_test_id("stDataFrame").last
    table.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots / "signin_viewer_masked.png"))


def test_admin_undo_confirmation_and_audit_log(page: Page, auth_server, screenshots):
    url, _ = auth_server
    page.set_viewport_size({"width": 1440, "height": 1400})
    page.goto(f"{url}/upload")
    expect_sign_in_form(page)
    sign_in(page, ADMIN, PASSWORD)
    wait_ready(page, "upload")
    expect(page.get_by_role("heading", name="撤销上传")).to_be_visible()
    undo = page.get_by_test_id("stMain").get_by_role("button", name="撤销", exact=True)
    expect(undo.first).to_be_visible()
    page.screenshot(path=str(screenshots / "admin_undo_list.png"), full_page=True)
    undo.first.click()
    expect(page.get_by_text("确定撤销上传")).to_be_visible()
    expect(page.get_by_role("button", name="确认撤销")).to_be_visible()
    page.wait_for_function(IDLE)
    page.get_by_text("确定撤销上传").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots / "admin_undo_confirm.png"))
    page.get_by_role("button", name="取消").click()
    expect(page.get_by_text("确定撤销上传")).to_have_count(0)

    page.get_by_test_id("stSidebar").get_by_role("link", name="审计日志").click()
    expect(page.get_by_role("heading", name="审计日志", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="当前设置")).to_be_visible()
    page.wait_for_function(IDLE)
    page.screenshot(path=str(screenshots / "admin_audit_log.png"), full_page=True)


def test_lockout_after_twelve_wrong_passwords_until_unlocked(page: Page, auth_server, screenshots):
    url, db = auth_server
    folder = os.path.dirname(db)
    env = {**os.environ, "CREDIT_USERS_FILE": os.path.join(folder, "users.json"), "CREDIT_DB": db}

    def cli(*args: str, stdin: str = "") -> str:
        done = subprocess.run(
            [sys.executable, "-m", "analytics", *args], input=stdin, text=True, cwd=ROOT, env=env,
            check=True, capture_output=True,
        )  # fmt: skip
        return done.stdout

    name = "周锁定"
    cli("users", "add", name, "--role", "viewer", "--password-stdin", stdin=PASSWORD + "\n")
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{url}/")
    expect_sign_in_form(page)
    password = page.get_by_test_id("stForm").get_by_label("密码", exact=True)
    for _ in range(12):  # too-early tries count too, so the 10th locks whatever the timing
        sign_in(page, name, "not-the-password")
        expect(password).to_have_value("")  # the callback has run
        page.wait_for_function(IDLE)
    sign_in(page, name, PASSWORD)
    expect(page.get_by_text("该账号因连续登录失败已被临时锁定")).to_be_visible()
    expect(page.get_by_test_id("stSidebar")).to_have_count(0)
    page.wait_for_function(IDLE)
    page.screenshot(path=str(screenshots / "signin_locked.png"))

    assert "已解除" in cli("users", "unlock", name)
    sign_in(page, name, PASSWORD)
    expect(page.get_by_test_id("stSidebar").get_by_text(name)).to_be_visible()

    with store.connect(db, read_only=True) as con:
        log = audit.list_log(con, user=name)
    actions = list(log["action"])
    assert actions.count("lockout") == 1 and actions.count("unlock") == 0  # the CLI's operator is the OS user
    failed = [d for a, d in zip(log["action"], log["detail"], strict=True) if a == "sign_in" and '"ok": false' in d]
    assert len(failed) == 13  # 10 counted, then 2 wrong and 1 right refused while locked
    assert actions[0] == "sign_in" and '"ok": true' in log["detail"].iloc[0]
    with store.connect(db, read_only=True) as con:
        unlocks = audit.list_log(con, action="unlock")
    assert name in unlocks["detail"].iloc[0]
