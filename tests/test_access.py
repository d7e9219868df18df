"""Sign-in, roles, masking and the audit trail in the app (AppTest), plus the pure helpers behind them.

Every AppTest here runs app.py with CREDIT_AUTH set as a deployment would: local users from a users
file made in the test, OIDC with a fake ``st.user`` (AppTest.user), or the demo mode.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from analytics import normalize
from analytics.settings import load_settings
from analytics.storage import audit, store, users
from dashboard import auth, exporting, privacy
from dashboard.nav import PAGES
from dashboard.uploads import handle_upload, undoable
from tests.test_app import APP, D_, HEADINGS, TIMEOUT, A, B, C, build_fixture

PASSWORD = "正确的密码-2022"
ACCOUNTS = {"zhao.viewer": "viewer", "qian.analyst": "analyst", "sun.admin": "admin"}
VIEWER, ANALYST, ADMIN = ACCOUNTS
FIXTURE_CODES = (A, B, C, D_)
CODE_PATTERN = re.compile(r"[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}")


# --------------------------------------------------------------------------- fixtures and helpers


@pytest.fixture(scope="module")
def users_file(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("users") / "users.json"
    for name, role in ACCOUNTS.items():
        users.add_user(name, role, PASSWORD, path)
    return str(path)


@pytest.fixture
def db(tmp_path) -> str:
    """A fresh copy of the hand-made fixture per test: these tests write audit records and undo uploads."""
    path = str(tmp_path / "access.duckdb")
    build_fixture(path)
    return path


@pytest.fixture
def local(monkeypatch, users_file, db) -> str:
    monkeypatch.setenv("CREDIT_AUTH", "local")
    monkeypatch.setenv("CREDIT_USERS_FILE", users_file)
    monkeypatch.setenv("CREDIT_DB", db)
    return db


@pytest.fixture
def navigation(monkeypatch) -> list[dict[str, list]]:
    """What app.py hands to st.navigation on each run: {section: [(title, visibility)]}."""
    calls: list[dict[str, list]] = []
    original = st.navigation

    def spy(pages, **kwargs):
        sections = pages if isinstance(pages, dict) else {"": pages}
        calls.append({name: [(p.title, p.visibility) for p in ps] for name, ps in sections.items()})
        return original(pages, **kwargs)

    monkeypatch.setattr(st, "navigation", spy)
    return calls


def visible_titles(navigation) -> set[str]:
    return {title for pages in navigation[-1].values() for title, shown in pages if shown == "visible"}


def open_app(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    if query:
        at.query_params.update(query)
    return at.run()


def button(at: AppTest, label: str):
    found = [b for b in at.button if b.label == label]
    assert found, f"no button {label!r}; have {[b.label for b in at.button]}"
    return found[0]


def sign_in(at: AppTest, name: str, password: str = PASSWORD) -> AppTest:
    at.text_input(key="signin_name").input(name)
    at.text_input(key="signin_password").input(password)
    return button(at, "登录").click().run()


def signed_in(name: str, query: dict | None = None) -> AppTest:
    at = sign_in(open_app(query), name)
    assert not at.exception, [e.value for e in at.exception]
    assert HEADINGS["overview"] in [t.value for t in at.title], "sign-in did not reach the overview"
    return at


def go(at: AppTest, page: str) -> AppTest:
    return at.switch_page(PAGES[page].path).run()


def audit_log(db: str, **kwargs) -> pd.DataFrame:
    with store.connect(db, read_only=True) as con:
        return audit.list_log(con, **kwargs)


def is_sign_in_page(at: AppTest) -> bool:
    keys = {t.key for t in at.text_input}
    return {"signin_name", "signin_password"} <= keys


def page_texts(at: AppTest) -> list[str]:
    """Everything a page shows as text: tables, dataframes, markdown, captions, metrics, alerts, chart specs."""
    out: list[str] = []
    for frame in [*at.dataframe, *at.table]:
        value = frame.value
        out.append(value.to_csv())
        out.append(" ".join(map(str, value.index)))
    for group in (at.markdown, at.caption, at.info, at.warning, at.success, at.error, at.title, at.subheader):
        out.extend(str(e.value) for e in group)
    out.extend(f"{m.label} {m.value}" for m in at.metric)
    out.extend(chart.proto.spec for chart in at.get("plotly_chart"))
    out.extend(str(getattr(e, "proto", e)) for e in at.get("html"))
    return out


# --------------------------------------------------------------------------- demo mode


def test_demo_mode_is_labelled_on_every_page(monkeypatch, db, navigation):
    monkeypatch.delenv("CREDIT_AUTH", raising=False)
    monkeypatch.setenv("CREDIT_DB", db)
    assert handle_upload(db, [("进展.csv", "要点编号,填报日期,完成进度,状态\n4,2022-06-15,10,推进中\n".encode())])[0].ok
    at = open_app()
    shown = visible_titles(navigation)
    assert shown == {p.title for p in PAGES.values() if p.key != "audit"}, shown
    for key, page in PAGES.items():
        go(at, key)
        assert not at.exception, [e.value for e in at.exception]
        assert any(auth.DEMO_BANNER in w.value for w in at.warning), f"no demo banner on {key}"
        assert any("演示模式" in m.value and auth.DEMO_USER.name in m.value for m in at.markdown)
        if page.permission == "manage":  # the audit log is admin only, and demo mode has no admin
            assert any("无权访问" in e.value for e in at.error)
        elif key in HEADINGS:
            assert HEADINGS[key] in [t.value for t in at.title]
    # Demo mode acts as an analyst: full codes, upload allowed, no undo.
    go(at, "sector_risk")
    assert A in set(at.dataframe[-1].value["统一社会信用代码"])
    go(at, "upload")
    assert at.get("file_uploader")
    assert not [b for b in at.button if b.label == "撤销"]
    assert any("演示模式不提供撤销上传" in c.value for c in at.caption)


def test_unknown_auth_setting_fails_closed(monkeypatch, db):
    monkeypatch.setenv("CREDIT_AUTH", "lcoal")
    monkeypatch.setenv("CREDIT_DB", db)
    at = open_app()
    assert any("登录配置有误" in e.value for e in at.error)
    assert HEADINGS["overview"] not in [t.value for t in at.title]
    assert not at.dataframe and not at.metric


# --------------------------------------------------------------------------- local sign-in


def test_nothing_is_shown_before_signing_in(local, navigation):
    at = open_app()
    assert is_sign_in_page(at)
    assert [t.label for t in at.text_input] == ["用户名", "密码"]
    assert button(at, "登录")
    assert HEADINGS["overview"] not in [t.value for t in at.title]
    assert not at.metric and not at.dataframe and not at.get("plotly_chart")
    assert "f_as_of" not in [d.key for d in at.date_input]  # no sidebar either
    assert not any(auth.DEMO_BANNER in w.value for w in at.warning)
    # Every page is registered (the URL asked for is kept for after signing in), none is listed.
    assert {title for pages in navigation[-1].values() for title, _ in pages} == {p.title for p in PAGES.values()}
    assert not visible_titles(navigation)
    at.switch_page(PAGES["upload"].path).run()  # a page's URL shows the sign-in page too
    assert is_sign_in_page(at) and not at.get("file_uploader")
    assert HEADINGS["upload"] not in [t.value for t in at.title]


def test_wrong_password_gives_one_generic_error_and_is_audited(local):
    at = open_app()
    sign_in(at, ANALYST, "wrong-password")
    assert [e.value for e in at.error] == [auth.BAD_CREDENTIALS]
    assert is_sign_in_page(at)
    assert at.text_input(key="signin_password").value == ""  # the password is not kept
    sign_in(at, "nobody.at.all", PASSWORD)  # an unknown name reads exactly the same
    assert [e.value for e in at.error] == [auth.BAD_CREDENTIALS]

    log = audit_log(local, action="sign_in")
    # An unknown name may be a password typed into the wrong field: only a short hash of it is kept.
    unknown = "未知用户#" + hashlib.sha256(b"nobody.at.all").hexdigest()[:8]
    assert list(log["user_name"]) == [unknown, ANALYST]
    details = [json.loads(d) for d in log["detail"]]
    assert details == [{"ok": False, "method": "local"}] * 2
    assert not any("wrong-password" in str(v) for v in log.to_numpy().ravel())  # never a password

    sign_in(at, ANALYST)
    assert HEADINGS["overview"] in [t.value for t in at.title]
    newest = audit_log(local, action="sign_in").iloc[0]
    assert newest["user_name"] == ANALYST
    assert json.loads(newest["detail"]) == {"ok": True, "method": "local", "role": "analyst"}


def test_the_page_asked_for_opens_after_signing_in(local):
    at = open_app()
    at.switch_page(PAGES["severe_share"].path).run()
    assert is_sign_in_page(at)
    sign_in(at, ANALYST)
    assert HEADINGS["severe_share"] in [t.value for t in at.title]


def test_sidebar_shows_user_and_role_and_signs_out(local):
    at = signed_in(VIEWER)
    assert any(VIEWER in m.value and "查看者" in m.value for m in at.sidebar.markdown)
    button(at, "退出登录").click().run()
    assert is_sign_in_page(at)
    assert HEADINGS["overview"] not in [t.value for t in at.title]
    newest = audit_log(local).iloc[0]
    assert (newest["user_name"], newest["action"]) == (VIEWER, "sign_out")


def test_a_removed_user_is_signed_out_and_a_new_role_applies_at_once(local, tmp_path, monkeypatch):
    path = tmp_path / "own-users.json"
    users.add_user("temp.user", "viewer", PASSWORD, path)
    users.add_user("keeper", "admin", PASSWORD, path)
    monkeypatch.setenv("CREDIT_USERS_FILE", str(path))
    at = signed_in("temp.user")
    go(at, "upload")
    assert any("无权访问" in e.value for e in at.error)
    users.set_role("temp.user", "analyst", path)
    go(at, "upload")
    assert HEADINGS["upload"] in [t.value for t in at.title]
    users.remove_user("temp.user", path)
    at.run()
    assert is_sign_in_page(at)
    assert any("账号已被停用" in e.value for e in at.error)


# --------------------------------------------------------------------------- roles


def test_viewer_cannot_reach_upload_or_audit(local, navigation):
    at = signed_in(VIEWER)
    shown = visible_titles(navigation)
    assert PAGES["upload"].title not in shown
    assert PAGES["audit"].title not in shown
    assert {p.title for p in PAGES.values() if p.permission is None} <= shown
    assert "数据管理" not in navigation[-1]
    for key in ("upload", "audit"):
        go(at, key)  # the URL typed directly: the page itself refuses
        assert not at.exception
        assert any("无权访问" in e.value and "查看者" in e.value for e in at.error), key
        assert HEADINGS[key] not in [t.value for t in at.title]
        assert not at.get("file_uploader")
        assert not [b for b in at.button if b.label in ("撤销", "确认撤销")]
    go(at, "overview")
    # No link invites a viewer to a page it may not use.
    assert not [p for p in at.get("page_link") if "upload" in p.proto.page]


def test_viewer_never_sees_an_unmasked_code(local, monkeypatch):
    downloaded: list[pd.DataFrame] = []
    csv, xlsx = exporting.to_csv_bytes, exporting.to_xlsx_bytes
    monkeypatch.setattr(exporting, "to_csv_bytes", lambda df: downloaded.append(df) or csv(df))
    monkeypatch.setattr(exporting, "to_xlsx_bytes", lambda df, sheet="数据": downloaded.append(df) or xlsx(df, sheet))

    at = signed_in(VIEWER)
    texts: list[str] = []
    for key in PAGES:
        go(at, key)
        assert not at.exception, [e.value for e in at.exception]
        texts += page_texts(at)
        if key == "severe_share":  # May: A's two lists and C's are in force
            at.selectbox(key="ss_month").select("2022-05").run()
            texts += page_texts(at)
            detail = at.dataframe[-1].value
            assert sorted(detail["统一社会信用代码"]) == sorted(map(privacy.mask_code, (A, A, C)))
        if key == "sector_risk":
            for measure in ("per_100", "severe_share", "warnings"):
                at.radio(key="sr_measure").set_value(measure).run()
                texts += page_texts(at)
    texts += [df.to_csv() for df in downloaded]
    blob = "\n".join(texts)
    assert downloaded, "no download was offered"
    for code in FIXTURE_CODES:
        assert code not in blob
    assert not CODE_PATTERN.findall(blob)
    assert privacy.mask_code(A) in blob  # the scan saw the entity tables


def test_analyst_sees_full_codes_and_uploads_but_no_undo_or_audit(local, navigation):
    at = signed_in(ANALYST)
    shown = visible_titles(navigation)
    assert PAGES["upload"].title in shown and PAGES["audit"].title not in shown
    go(at, "sector_risk")
    assert set(at.dataframe[-1].value["统一社会信用代码"]) == {A, B}
    assert any("完整显示" in c.value for c in at.caption)
    go(at, "upload")
    assert HEADINGS["upload"] in [t.value for t in at.title]
    code = "91350203MA2Y4G0P7" + normalize.credit_code_check_char("91350203MA2Y4G0P7")
    payload = f"统一社会信用代码,名称,行业,所在区,成立日期\n{code},厦门新运输有限公司,道路货运,思明区,2021-03-01\n"
    at.file_uploader(key="up_files").set_value(("名录.csv", payload.encode(), "text/csv")).run()
    assert not at.exception, [e.value for e in at.exception]
    assert not [b for b in at.button if b.label == "撤销"]
    with store.connect(local, read_only=True) as con:
        assert con.execute("SELECT user_name FROM uploads ORDER BY id DESC LIMIT 1").fetchall() == [(ANALYST,)]
    newest = audit_log(local, action="upload").iloc[0]
    assert newest["user_name"] == ANALYST
    go(at, "audit")
    assert any("无权访问" in e.value for e in at.error)


def test_admin_undoes_an_upload_after_confirming(local, navigation):
    first = handle_upload(
        local, [("进展1.csv", "要点编号,填报日期,完成进度,状态\n4,2022-06-15,10,推进中\n".encode())], user=ANALYST
    )
    second = handle_upload(
        local, [("进展2.csv", "要点编号,填报日期,完成进度,状态\n4,2022-06-20,30,推进中\n".encode())], user=ANALYST
    )
    assert first[0].ok and second[0].ok
    latest = second[0].upload_id

    at = signed_in(ADMIN)
    assert {PAGES["upload"].title, PAGES["audit"].title} <= visible_titles(navigation)
    assert set(navigation[-1]["数据管理"]) == {(PAGES["upload"].title, "visible"), (PAGES["audit"].title, "visible")}
    go(at, "upload")
    assert [b.key for b in at.button if b.label == "撤销"] == [f"undo_{latest}"]  # newest first per dataset
    at.button(key=f"undo_{latest}").click().run()
    assert any(f"确定撤销上传 #{latest}" in w.value for w in at.warning)
    assert audit_log(local, action="undo").empty  # nothing happens before the confirmation
    at.button(key="undo_cancel").click().run()
    assert not any("确定撤销" in w.value for w in at.warning)

    at.button(key=f"undo_{latest}").click().run()
    at.button(key="undo_confirm").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(f"已撤销上传 #{latest}" in s.value for s in at.success)
    with store.connect(local, read_only=True) as con:
        assert con.execute("SELECT status, undone_by FROM uploads WHERE id = ?", [latest]).fetchall() == [
            ("undone", ADMIN)
        ]
    record = audit_log(local, action="undo").iloc[0]
    assert record["user_name"] == ADMIN and json.loads(record["detail"])["upload_id"] == latest
    # The older upload of the same dataset is the one that can be undone now.
    assert [b.key for b in at.button if b.label == "撤销"] == [f"undo_{first[0].upload_id}"]


def test_admin_reads_the_audit_log_and_cannot_change_it(local):
    at = signed_in(ADMIN)
    go(at, "audit")
    assert not at.exception, [e.value for e in at.exception]
    assert HEADINGS["audit"] in [t.value for t in at.title]
    log = at.dataframe[0].value
    assert list(log.columns) == ["编号", "时间", "用户", "操作", "详情"]
    assert (log["用户"] == ADMIN).any() and (log["操作"] == "登录").any()
    # Read-only: filters and a table, no editor and no button but signing out.
    assert not at.get("arrow_data_frame_editor")
    assert [b.label for b in at.button] == ["退出登录"]
    at.selectbox(key="al_action").select("undo").run()
    assert any("没有符合条件的审计记录" in i.value for i in at.info)
    assert any("本地用户" in m.value for m in at.markdown)


def test_download_of_entity_level_data_is_audited(local):
    at = signed_in(VIEWER)
    go(at, "sector_risk")
    assert audit_log(local, action="download").empty
    at.download_button(key="dl_csv_sr_warnings").click().run()
    assert not at.exception, [e.value for e in at.exception]
    record = audit_log(local, action="download").iloc[0]
    detail = json.loads(record["detail"])
    assert record["user_name"] == VIEWER
    assert detail["file"].startswith("信用风险预警名单_") and detail["file"].endswith(".csv")
    assert detail["rows"] == 2 and detail["identifiers"] == "masked"
    assert "统一社会信用代码" in detail["columns"]
    # Aggregated numbers are not entity-level data: no record for them.
    at.download_button(key="dl_csv_sr_district").click().run()
    assert len(audit_log(local, action="download")) == 1


# --------------------------------------------------------------------------- OIDC


@pytest.fixture
def oidc(monkeypatch, users_file, db) -> str:
    monkeypatch.setenv("CREDIT_AUTH", "oidc")
    monkeypatch.setenv("CREDIT_USERS_FILE", users_file)
    monkeypatch.setenv("CREDIT_DB", db)
    return db


def oidc_app(user: dict) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.user = user
    return at.run()


def test_oidc_sign_in_button_calls_st_login(oidc, monkeypatch):
    calls = []
    monkeypatch.setattr(st, "login", lambda provider=None: calls.append(provider))
    at = oidc_app({"is_logged_in": False})
    assert HEADINGS["overview"] not in [t.value for t in at.title]
    assert not at.metric and not at.dataframe
    button(at, "使用统一身份认证登录").click().run()
    assert calls == [None]


def test_oidc_role_comes_from_the_users_file_or_the_default(oidc, monkeypatch, tmp_path, navigation):
    path = tmp_path / "oidc-users.json"
    users.add_user("li.admin@xm.gov.cn", "admin", "unused-for-oidc", path)
    monkeypatch.setenv("CREDIT_USERS_FILE", str(path))

    at = oidc_app({"is_logged_in": True, "email": "li.admin@xm.gov.cn", "name": "李管理"})
    assert HEADINGS["overview"] in [t.value for t in at.title]
    assert PAGES["audit"].title in visible_titles(navigation)
    assert any("li.admin@xm.gov.cn" in m.value and "管理员" in m.value for m in at.sidebar.markdown)

    at = oidc_app({"is_logged_in": True, "email": "wang@xm.gov.cn"})  # not listed: the default role
    assert load_settings().oidc_default_role == "viewer"
    assert PAGES["upload"].title not in visible_titles(navigation)
    go(at, "sector_risk")
    assert set(at.dataframe[-1].value["统一社会信用代码"]) == {privacy.mask_code(A), privacy.mask_code(B)}

    sign_ins = audit_log(oidc, action="sign_in")
    assert list(sign_ins["user_name"]) == ["wang@xm.gov.cn", "li.admin@xm.gov.cn"]  # once per session each
    assert [json.loads(d)["role"] for d in sign_ins["detail"]] == ["viewer", "admin"]


def test_oidc_account_without_a_role_is_refused(oidc, monkeypatch):
    monkeypatch.setenv("CREDIT_OIDC_DEFAULT_ROLE", "none")
    logouts = []
    monkeypatch.setattr(st, "logout", lambda: logouts.append(True))
    at = oidc_app({"is_logged_in": True, "email": "stranger@example.com"})
    assert HEADINGS["overview"] not in [t.value for t in at.title]
    assert any("stranger@example.com" in e.value and "未获授权" in e.value for e in at.error)
    record = audit_log(oidc, action="sign_in").iloc[0]
    assert (record["user_name"], json.loads(record["detail"])) == (
        "stranger@example.com",
        {"ok": False, "method": "oidc"},
    )
    button(at, "退出当前账号").click().run()
    assert logouts == [True]


def test_resolve_oidc():
    settings = load_settings(oidc_default_role="analyst")
    listed = {"boss@xm.gov.cn": users.User("boss@xm.gov.cn", "admin")}
    lookup = listed.get
    assert auth.resolve_oidc({"is_logged_in": False, "email": "boss@xm.gov.cn"}, settings, lookup) is None
    assert auth.resolve_oidc({"is_logged_in": True}, settings, lookup) is None  # no identity at all
    assert auth.resolve_oidc({"is_logged_in": True, "email": "Boss@XM.gov.cn"}, settings, lookup) == users.User(
        "Boss@XM.gov.cn", "admin"
    )
    assert auth.resolve_oidc({"is_logged_in": True, "sub": "abc"}, settings, lookup) == users.User("abc", "analyst")
    # An e-mail the provider has not verified never picks up a listed account's role.
    unverified = {"is_logged_in": True, "email": "boss@xm.gov.cn", "email_verified": False, "sub": "u-1"}
    assert auth.resolve_oidc(unverified, settings, lookup) == users.User("u-1", "analyst")
    assert auth.resolve_oidc({**unverified, "sub": None}, settings, lookup) is None
    strict = load_settings(oidc_default_role="none")
    assert auth.resolve_oidc({"is_logged_in": True, "email": "x@y"}, strict, lookup) is None
    assert (
        auth.resolve_oidc({"is_logged_in": True, "email": "x@y"}, load_settings(oidc_default_role="root"), lookup)
        is None
    )


# --------------------------------------------------------------------------- pure helpers


VIEWER_USER, ANALYST_USER = users.User("v", "viewer"), users.User("a", "analyst")


def test_mask_frame_by_role():
    frame = pd.DataFrame(
        {
            "credit_code": [A, None],
            "subject_name": ["厦门甲货运有限公司", "张三丰"],
            "subject_type": ["法人及非法人组织", "自然人"],
            "legal_rep": ["李四", None],
            "id_no": [None, "350203199001011234"],
            "legal_rep_id_no": ["350***********34", None],
            "reason": [f"与 {B} 关联，联系人电话 13812345678", "身份证 35020319900101123X"],
            "penalties": [3, 1],
        }
    )
    assert privacy.mask_frame(frame, ANALYST_USER) is frame
    for who in (VIEWER_USER, None):
        masked = privacy.mask_frame(frame, who)
        assert masked["credit_code"].iloc[0] == privacy.mask_code(A) and pd.isna(masked["credit_code"].iloc[1])
        assert masked["subject_name"].tolist() == ["厦门甲货运有限公司", "张**"]  # only the natural person's
        assert masked["legal_rep"].iloc[0] == "李*" and pd.isna(masked["legal_rep"].iloc[1])
        assert masked["id_no"].tolist()[1] == "350*************34"
        assert masked["reason"].tolist() == [
            f"与 {privacy.mask_code(B)} 关联，联系人电话 138****5678",
            "身份证 350*************3X",
        ]
        assert masked["penalties"].tolist() == [3, 1]
    assert frame["credit_code"].iloc[0] == A  # the input is not changed


def test_mask_frame_knows_chinese_headers():
    frame = pd.DataFrame(
        {
            "行政相对人代码_1(统一社会信用代码)": [A],
            "行政相对人名称": ["王五"],
            "行政相对人类别": ["自然人"],
            "证件号码": ["350203199001011234"],
            "联系电话": ["0592-1234567"],
            "统一社会信用代码": [C],
        }
    )
    masked = privacy.mask_frame(frame, VIEWER_USER)
    assert masked.iloc[0].tolist() == [
        privacy.mask_code(A),
        "王*",
        "自然人",
        "350*************34",
        "059****4567",
        privacy.mask_code(C),
    ]
    assert privacy.is_entity_level(frame)
    assert not privacy.is_entity_level(pd.DataFrame({"sector": ["道路货运"], "penalties": [1]}))


def test_undoable_is_newest_first_per_dataset():
    history = pd.DataFrame(
        [
            (6, "progress", "refused", 0, 0),
            (5, "entities", "loaded", 0, 0),  # wrote nothing: blocks nobody
            (4, "progress", "loaded", 2, 0),
            (3, "entities", "loaded", 1, 1),
            (2, "progress", "loaded", 5, 0),
            (1, "penalties,licenses", "undone", 3, 0),
        ],
        columns=["id", "dataset", "status", "loaded", "updated"],
    )
    assert undoable(history) == [5, 4, 3]


def test_downloads_are_formula_safe():
    frame = pd.DataFrame({"列入事由": ['=HYPERLINK("http://x","点我")'], "原因": [["penalties_60", "departments_3"]]})
    text = exporting.to_csv_bytes(frame).decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "penalties_60、departments_3" in text


def test_no_page_draws_a_dataframe_around_the_masking():
    """Sweep: pages draw rows through ui.table (masked by role) or hand st.dataframe a privacy.mask_frame."""
    root = Path(__file__).resolve().parent.parent
    for path in sorted((root / "views").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        for call in re.findall(r"st\.(?:dataframe|data_editor)\(\s*(.*?)[,)]", text):
            # The audit log is for admins only, who see identifiers anyway.
            assert call.startswith("privacy.mask_frame") or path.name == "audit_log.py", f"{path.name}: {call}"


def test_briefing_downloads_are_audited(local):
    # The briefing lists the week's newly warned entities by name: entity-level data.
    at = signed_in(VIEWER)
    go(at, "briefing")
    assert not at.exception, [e.value for e in at.exception]
    at.download_button(key="bf_dl_xlsx").click().run()
    assert not at.exception, [e.value for e in at.exception]
    record = audit_log(local, action="download").iloc[0]
    assert record["user_name"] == VIEWER
    assert json.loads(record["detail"])["file"].endswith(".xlsx")


# The probe's 列入事由: every form below reached a viewer's CSV in clear but the plain mobile number.
FREE_TEXT_FORMS = [
    ("+8613812345678", "138****5678"),
    ("+86 138 1234 5678", "138****5678"),
    ("(+86) 138-1234-5678", "138****5678"),
    ("138-1234-5678", "138****5678"),
    ("138 1234 5678", "138****5678"),
    ("13900001111", "139****1111"),
    ("0592-5123456", "059****3456"),
    ("（0592）5123456", "059****3456"),
    ("350203 19900101 1234", "350*************34"),
    ("350203-1990-0101-1234", "350*************34"),
    ("IDNO350203199001011234", "IDNO350*************34"),
    ("35020319900101123x", "350*************3X"),
    ("统一社会信用代码91350203MA2Y8N7A1K", "统一社会信用代码913502**********1K"),
]


@pytest.mark.parametrize(("written", "shown"), FREE_TEXT_FORMS, ids=[w for w, _ in FREE_TEXT_FORMS])
def test_every_written_form_of_an_identifier_in_free_text_is_masked(written, shown):
    assert privacy.mask_text(f"列入事由：联系{written}，已核实") == f"列入事由：联系{shown}，已核实"


def test_free_text_masking_leaves_dates_amounts_and_document_numbers_alone():
    text = "2022年5月27日处罚，罚款2000元（0.2万元），文号厦交罚〔2022〕12号，日期20220527，金额1234567.89"
    assert privacy.mask_text(text) == text


def test_a_viewer_download_of_the_probe_reason_shows_no_identifier_in_clear():
    reason = (
        "法定代表人张三丰，电话+8613812345678，备用138-1234-5678，身份证 350203 19900101 1234，"
        "IDNO350203199001011234，联系13900001111"
    )
    frame = pd.DataFrame({"名单名称": ["严重失信主体名单"], "列入事由": [reason]})
    masked = privacy.mask_frame(frame, users.User("v", "viewer")).iloc[0]["列入事由"]
    digits = re.sub(r"\D", "", masked)
    for clear in ("13812345678", "350203199001011234", "13900001111", "8613812345678"):
        assert clear not in digits.replace("*", ""), masked
    assert "1234-5678" not in masked and "19900101" not in masked
    # An analyst sees the reason as written.
    assert privacy.mask_frame(frame, users.User("a", "analyst")).iloc[0]["列入事由"] == reason


def test_an_admin_demoted_while_confirming_an_undo_is_refused_and_audited(local, tmp_path, monkeypatch):
    path = tmp_path / "own-users.json"
    users.add_user("boss", "admin", PASSWORD, path)
    users.add_user("keeper", "admin", PASSWORD, path)  # the last admin cannot be demoted
    monkeypatch.setenv("CREDIT_USERS_FILE", str(path))
    done = handle_upload(
        local, [("进展.csv", "要点编号,填报日期,完成进度,状态\n4,2022-06-15,10,推进中\n".encode())], user=ANALYST
    )
    upload_id = done[0].upload_id
    at = signed_in("boss")
    go(at, "upload")
    at.button(key=f"undo_{upload_id}").click().run()
    users.set_role("boss", "viewer", path)  # demoted while the confirmation is open
    at.button(key="undo_confirm").click().run()
    assert not at.exception, [e.value for e in at.exception]
    with store.connect(local, read_only=True) as con:
        assert con.execute("SELECT status FROM uploads WHERE id = ?", [upload_id]).fetchall() == [("loaded",)]
    assert audit_log(local, action="undo").empty
    refused = audit_log(local, action="refused").iloc[0]
    assert refused["user_name"] == "boss"
    assert json.loads(refused["detail"]) == {"action": "undo", "reason": "role", "role": "viewer"}


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("进展\x00.csv", "进展.csv"),
        ("C:\\fakepath\\进展.csv", "进展.csv"),
        ("../../etc/进展.csv", "进展.csv"),
        ("公司\u202egpj.csv", "公司gpj.csv"),
        ("\x00\x01", "未命名文件"),
    ],
)
def test_an_upload_name_with_control_characters_is_cleaned_before_use(sent, kept, local):
    from dashboard.uploads import clean_file_name

    assert clean_file_name(sent) == kept
    [result] = handle_upload(local, [(sent, "要点编号,填报日期,完成进度,状态\n4,2022-06-15,10,推进中\n".encode())])
    assert result.file == kept
    assert result.ok == kept.endswith(".csv")  # a name with nothing left has no type to read it by


def test_a_password_typed_as_the_name_never_reaches_the_audit_log(local):
    at = open_app()
    sign_in(at, PASSWORD, PASSWORD)
    assert [e.value for e in at.error] == [auth.BAD_CREDENTIALS]
    blob = audit_log(local).to_csv()
    assert PASSWORD not in blob and "未知用户#" in blob


def test_a_corrupt_users_file_does_not_show_its_path_on_the_sign_in_page(local, tmp_path, monkeypatch):
    path = tmp_path / "secret-place" / "users.json"
    path.parent.mkdir()
    path.write_text("{not json", encoding="utf-8")
    monkeypatch.setenv("CREDIT_USERS_FILE", str(path))
    at = open_app()
    sign_in(at, ANALYST)
    assert [e.value for e in at.error] == [auth.USERS_FILE_UNREADABLE]
    assert "secret-place" not in " ".join(str(e.value) for e in [*at.error, *at.markdown, *at.caption])
