"""审计日志 (admins): who signed in, uploaded, undid and downloaded what, read-only; the settings in force.

The log is append-only (analytics.storage.audit has no update or delete), and this page offers
nothing that changes it: filters and a table, no editor. With local sign-in it also lists the
accounts locked by failed sign-ins, with a control that lifts a lock early (audited).
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import streamlit as st

from analytics.settings import load_settings
from analytics.storage import audit, users
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


def locks_section() -> None:
    """Accounts locked by failed sign-ins (CREDIT_AUTH=local), and the control that lifts a lock early."""
    if auth.mode() != "local":
        return
    st.subheader("登录锁定")
    unlocked = st.session_state.pop("al_unlocked", None)
    if unlocked:
        st.success(f"已解除 {unlocked} 的登录锁定。", icon=":material/lock_open:")
    locks = auth.sign_in_locks()
    if not locks:
        st.caption("当前没有因连续登录失败而被锁定的账号。")
        return
    st.dataframe(
        pd.DataFrame(
            {
                "账号": [lock.account for lock in locks],
                "锁定时间": [datetime.fromtimestamp(lock.since) for lock in locks],
                "自动解锁时间": [datetime.fromtimestamp(lock.until) for lock in locks],
                "来源": [lock.client for lock in locks],
            }
        ),
        hide_index=True,
        key="al_locks",
        column_config={
            "锁定时间": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss"),
            "自动解锁时间": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss"),
        },
    )
    c1, c2 = st.columns([2, 1], vertical_alignment="bottom")
    name = c1.selectbox("要解锁的账号", [lock.account for lock in locks], key="al_unlock_name")
    if c2.button("解除锁定", icon=":material/lock_open:", key="al_unlock"):
        if auth.unlock_account(name):
            st.session_state["al_unlocked"] = name  # shown after the rerun that redraws the list
            st.rerun()
        st.error("未能解除锁定（无权操作或记录无法读写），请查看服务器日志。", icon=":material/error:")


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
        ("登录失败计数窗口(分钟)", f"{settings.sign_in_window_minutes:g}"),
        ("免等待的失败次数", str(settings.sign_in_free_failures)),
        ("之后每次等待(秒，逐次加倍)", f"{settings.sign_in_delay_seconds:g}"),
        ("锁定账号的失败次数", str(settings.sign_in_lockout_failures)),
        ("锁定时长(分钟)", f"{settings.sign_in_lockout_minutes:g}"),
        ("无操作自动退出(分钟)", f"{settings.idle_timeout_minutes:g}"),
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
    locks_section()
    settings_section()


if auth.require("manage", "审计日志"):
    ui.guarded(render)
