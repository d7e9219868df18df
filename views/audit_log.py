"""审计日志 (admins): who signed in, uploaded, undid and downloaded what, read-only; the settings in force.

The log is append-only (analytics.audit has no update or delete), and this page offers
nothing that changes it: filters and a table, no editor.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analytics import audit, users
from analytics.settings import load_settings
from dashboard import auth, data, ui

LIMITS = (200, 1000, 5000)
ALL = "全部"


def read_log(db: str, limit: int, action: str | None, user: str | None) -> pd.DataFrame:
    with data.connect(db) as con:
        return audit.list_log(con, limit=limit, action=action, user=user)


def log_section(db: str) -> None:
    c1, c2, c3 = st.columns([1, 1, 1])
    action = c1.selectbox(
        "操作", [ALL, *audit.ACTIONS], format_func=lambda a: audit.ACTION_LABELS.get(a, a), key="al_action"
    )
    who = c2.text_input("用户", key="al_user", placeholder="全部用户（输入完整用户名筛选）").strip()
    limit = c3.selectbox("显示条数", LIMITS, key="al_limit", format_func=lambda n: f"最新 {n} 条")
    log = read_log(db, limit, None if action == ALL else action, who or None)
    if log.empty:
        st.info("没有符合条件的审计记录。", icon=":material/info:")
        return
    shown = pd.DataFrame(
        {
            "编号": log["id"],
            "时间": log["logged_at"],
            "用户": log["user_name"].fillna("—"),
            "操作": log["action_label"].fillna(log["action"]),
            "详情": log["detail"],
        }
    )
    st.dataframe(
        shown,
        hide_index=True,
        key="al_table",
        height=min(640, 38 + 35 * len(shown)),
        column_config={
            "时间": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss"),
            "详情": st.column_config.TextColumn(width="large"),
        },
    )
    st.caption(f"共显示 {len(shown)} 条，最新在前。审计日志只能追加，页面与命令行均不提供修改或删除。")


def settings_section() -> None:
    st.subheader("当前设置")
    settings = load_settings()
    rows = [
        ("登录方式（CREDIT_AUTH）", {"none": "未启用（演示模式）", "local": "本地用户", "oidc": "统一身份认证（OIDC）"}.get(
            auth.mode(settings), settings.auth
        )),
        ("用户文件（CREDIT_USERS_FILE）", settings.users_file),
        ("OIDC 默认角色（CREDIT_OIDC_DEFAULT_ROLE）", settings.oidc_default_role),
        ("数据库（CREDIT_DB）", settings.db),
        ("预警：一年内处罚次数", str(settings.warn_penalties)),
        ("预警：处罚部门数", str(settings.warn_departments)),
        ("预警：严重失信名单数", str(settings.warn_severe_lists)),
        ("上传文件大小上限(MB)", str(settings.max_upload_mb)),
    ]  # fmt: skip
    st.table(pd.DataFrame(rows, columns=["设置", "值"]).set_index("设置"))
    try:
        listed = users.list_users(settings.users_file)
    except users.UserError as exc:
        st.warning(str(exc), icon=":material/warning:")
        return
    if listed:
        st.markdown("**本地用户**")
        st.table(
            pd.DataFrame({"用户名": [u.name for u in listed], "角色": [u.role_label for u in listed]}).set_index(
                "用户名"
            )
        )
    st.caption(
        "设置通过环境变量修改后重启生效；用户与角色用命令行管理："
        "python -m analytics users add 用户名 --role viewer|analyst|admin、users set-role、users remove。"
    )


def render() -> None:
    st.title("审计日志")
    st.caption("登录（含失败的登录）、退出、上传、撤销上传、下载明细数据、备份与恢复的记录。")
    db = data.db_path()
    log_section(db)
    settings_section()


if auth.require("manage", "审计日志"):
    ui.guarded(render)
