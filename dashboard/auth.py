"""Sign-in, roles and the audit trail of the Streamlit app.

``settings.auth`` (``CREDIT_AUTH``) decides how people sign in:

- ``none`` (default): demo mode. Nobody signs in; everyone acts as 演示用户 with
  the analyst's rights (all pages, upload, identifiers unmasked). Undo and the
  audit log are not offered: with no accountable person behind a click, an
  anonymous visitor must not be able to take data out again (admins use
  ``python -m analytics undo`` / ``audit`` on the server). Every page carries
  the banner ``DEMO_BANNER``.
- ``local``: a Chinese sign-in form checked against the users file
  (``analytics.storage.users``: salted scrypt hashes, roles viewer | analyst | admin).
- ``oidc``: Streamlit's built-in OpenID Connect (``st.login`` / ``st.user`` /
  ``st.logout``, configured in ``.streamlit/secrets.toml``). The account's role
  comes from the users file when it holds the account's e-mail (or subject) as a
  user name, else from ``settings.oidc_default_role`` ("none": not let in).

Any other value fails closed: no page is shown. The signed-in ``users.User`` is
kept in the session (``SESSION_KEY``); its role is read again from the users
file on every run, so a role change or a removed user takes effect at once.
Sign-ins (and failed ones), sign-outs and downloads of entity-level data are
written to the audit log here; uploads and undos are audited by analytics.

Local sign-in is limited (``analytics.storage.lockout``: a growing delay, then a lockout, kept in a file
beside the users file), and a local session ends after ``settings.idle_timeout_minutes`` without
interaction; see the section "attempt limits and the idle timeout" at the end.
"""

from __future__ import annotations

import hashlib
import logging
import math
import secrets
import time
from collections.abc import Mapping
from datetime import datetime

import streamlit as st

from analytics.settings import Settings, load_settings
from analytics.storage import audit, lockout, store, users
from analytics.storage.users import ROLE_LABELS, ROLES, User

log = logging.getLogger(__name__)

SESSION_KEY = "auth_user"
DEMO_USER = User("演示用户", "analyst")
DEMO_BANNER = "演示模式：未启用登录，所有人可见全部数据"
BAD_CREDENTIALS = "用户名或密码错误"
MODES = ("none", "local", "oidc")

_ERROR_KEY = "auth_error"
_OIDC_SEEN_KEY = "auth_oidc_seen"
_NAME_KEY = "signin_name"
_PASSWORD_KEY = "signin_password"
_NAME_LIMIT = 64  # what goes into the audit log of a failed attempt
_NO_SIDEBAR = '[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"] { display: none; }'


def mode(settings: Settings | None = None) -> str:
    return str((settings or load_settings()).auth).strip().lower()


def is_demo(settings: Settings | None = None) -> bool:
    return mode(settings) == "none"


def current_user() -> User | None:
    """The signed-in user of this session; the demo user in demo mode; None when nobody is signed in."""
    user = st.session_state.get(SESSION_KEY)
    if isinstance(user, User):
        return user
    return DEMO_USER if is_demo() else None


def allowed(user: User | None, permission: str | None) -> bool:
    """Whether ``user`` may use something guarded by ``permission`` (None: any signed-in user)."""
    if user is None:
        return False
    return permission is None or user.can(permission)


def acting_user(permission: str, action: str) -> User | None:
    """The session's user as the users file has it at this moment, when that still allows ``permission``.

    A button's callback runs before the script, so before the gate has re-read the role: an admin
    demoted while a confirmation was open would act with the old role. None, audited as refused,
    when the role no longer allows it (or the account is gone, or the file cannot be read)."""
    settings = load_settings()
    user = current_user()
    if user is None:
        return None
    now = user
    if mode(settings) == "local":
        try:
            now = users.get_user(user.name, settings.users_file)
        except users.UserError as exc:  # fail closed
            log.error("users file unreadable: %s", exc)
            now = None
    elif mode(settings) == "oidc":
        try:
            now = resolve_oidc(_oidc_info(), settings)
        except users.UserError as exc:
            log.error("users file unreadable: %s", exc)
            now = None
    if now is not None and now != DEMO_USER:
        st.session_state[SESSION_KEY] = now
    if not allowed(now, permission):
        record("refused", {"action": action, "reason": "role", "role": now.role if now else None}, user=user)
        return None
    return now


# --- the audit log -----------------------------------------------------------------


def record(action: str, detail: dict | None = None, user=None) -> bool:
    """Append an audit record (by ``user``, default the current user); False, logged, when it fails."""
    settings = load_settings()
    who = user if user is not None else current_user()
    try:
        with store.connect(settings.db, wait_seconds=settings.lock_wait_seconds) as con:
            audit.record(con, who, action, detail)
    except Exception:  # the action itself has happened; a lost record is logged, never silent
        log.exception("audit record %s failed", action)
        return False
    return True


# --- the gate ------------------------------------------------------------------------


def gate(settings: Settings | None = None) -> User | None:
    """The user of this run: the demo user, the signed-in user, or None when nobody is signed in.

    With None, app.py registers the pages (hidden, so the URL asked for is kept) and calls
    ``sign_in_page``, which draws the sign-in page instead and stops the run.
    """
    settings = settings or load_settings()
    how = mode(settings)
    if how == "none":
        st.session_state[SESSION_KEY] = DEMO_USER
        return DEMO_USER
    if how == "local":
        return _refreshed(_unless_idle(st.session_state.get(SESSION_KEY), settings), settings)
    if how == "oidc":
        return _oidc_gate(settings)
    st.session_state.pop(SESSION_KEY, None)
    return None


def sign_in_page(settings: Settings | None = None) -> None:
    """The page shown while nobody is signed in (or the setting is wrong); stops the run."""
    how = mode(settings)
    # After signing out the browser keeps the sidebar's frame; the sign-in page has no sidebar.
    st.html(f"<style>{_NO_SIDEBAR}</style>")
    if how == "local":
        _local_sign_in_page()
    elif how == "oidc":
        _oidc_sign_in_page()
    else:
        _misconfigured_page()
    st.stop()


def _refreshed(user, settings: Settings) -> User | None:
    """The session's local user with the role the users file gives it now; None when removed."""
    if not isinstance(user, User) or user == DEMO_USER:
        st.session_state.pop(SESSION_KEY, None)
        return None
    try:
        now = users.get_user(user.name, settings.users_file)
        problem = "账号已被停用，请联系管理员。"
    except users.UserError as exc:  # fail closed: nobody stays signed in on an unreadable file
        log.error("users file unreadable: %s", exc)
        now, problem = None, USERS_FILE_UNREADABLE
    if now is None:
        st.session_state.pop(SESSION_KEY, None)
        st.session_state[_ERROR_KEY] = problem
        return None
    st.session_state[SESSION_KEY] = now
    return now


def _brand() -> None:
    st.title("交通信用看板")
    st.caption("厦门市交通运输局 · 信用体系建设")


def _local_sign_in_page() -> None:
    _, middle, _ = st.columns([1, 1.2, 1])
    with middle:
        _brand()
        with st.form("sign_in", border=True):
            st.subheader("登录")
            st.text_input("用户名", key=_NAME_KEY, autocomplete="username")
            st.text_input("密码", key=_PASSWORD_KEY, type="password", autocomplete="current-password")
            st.form_submit_button("登录", type="primary", icon=":material/login:", on_click=_sign_in_local)
        problem = st.session_state.pop(_ERROR_KEY, None)
        if problem:
            st.error(problem, icon=":material/error:")
        st.caption("账号由管理员创建；忘记密码请联系管理员重设。")
        st.caption(limits_note(load_settings()))


# The file's path stays in the server log: an anonymous visitor sees the sign-in page.
USERS_FILE_UNREADABLE = "暂时无法登录：用户文件无法读取，请联系管理员。"


def attempted_name(name: str, settings: Settings) -> str | None:
    """What a failed sign-in writes to the audit log as its name: the name of a known account; else a short
    hash, since what was typed may be a password typed into the wrong field."""
    if not name:
        return None
    try:
        known = users.get_user(name, settings.users_file)
    except users.UserError:
        known = None
    if known is not None:
        return known.name
    return "未知用户#" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]


def _sign_in_local() -> None:
    """The form's callback: check the name and password, audit the attempt either way."""
    settings = load_settings()
    name = str(st.session_state.get(_NAME_KEY) or "").strip()
    password = st.session_state.get(_PASSWORD_KEY) or ""
    st.session_state[_PASSWORD_KEY] = ""  # never kept in the session
    refusal = _attempt_refused(name, settings)
    if refusal is not None:  # locked or too early: the password is not even checked
        st.session_state[_ERROR_KEY] = refusal
        return
    try:
        user = users.verify(name, password, settings.users_file)
    except users.UserError as exc:  # a corrupt or unreadable users file: say so, sign nobody in
        log.error("sign-in impossible: %s", exc)
        st.session_state[_ERROR_KEY] = USERS_FILE_UNREADABLE
        return
    if user is None:
        record("sign_in", {"ok": False, "method": "local"}, user=attempted_name(name, settings))
        st.session_state[_ERROR_KEY] = _after_failure(name, settings)
        return
    _after_success(user, settings)
    st.session_state[SESSION_KEY] = user
    st.session_state.pop(_ERROR_KEY, None)
    record("sign_in", {"ok": True, "method": "local", "role": user.role}, user=user)


def oidc_identity(info: Mapping) -> str:
    """The name an OIDC account goes by: its e-mail, unless the provider says it is unverified; else its subject."""
    email = str(info.get("email") or "").strip()
    if email and info.get("email_verified") is not False:
        return email
    return str(info.get("sub") or "").strip()


def resolve_oidc(info: Mapping, settings: Settings, lookup=None) -> User | None:
    """The user behind ``st.user`` (as a mapping): its role from the users file, else the default role.

    None when not logged in, when the identity token carries no usable e-mail or subject,
    or when the account has no role (``oidc_default_role = none`` and not listed).
    """
    if not info.get("is_logged_in"):
        return None
    ident = oidc_identity(info)
    if not ident:
        return None
    lookup = lookup or (lambda name: users.get_user(name, settings.users_file))
    listed = lookup(ident) or (lookup(ident.lower()) if ident.lower() != ident else None)
    role = listed.role if listed is not None else str(settings.oidc_default_role).strip().lower()
    return User(ident, role) if role in ROLES else None


def _oidc_info() -> dict:
    try:
        return dict(st.user.to_dict())
    except Exception:  # no [auth] secrets: nobody is logged in
        log.exception("st.user unavailable")
        return {}


def _oidc_gate(settings: Settings) -> User | None:
    info = _oidc_info()
    if not info.get("is_logged_in"):
        st.session_state.pop(SESSION_KEY, None)
        st.session_state.pop(_OIDC_SEEN_KEY, None)
        return None
    try:
        user = resolve_oidc(info, settings)
    except users.UserError as exc:
        log.error("users file unreadable: %s", exc)
        user = None
    ident = oidc_identity(info)
    if st.session_state.get(_OIDC_SEEN_KEY) != ident:  # the first run of this account in this session
        st.session_state[_OIDC_SEEN_KEY] = ident
        detail = {"ok": user is not None, "method": "oidc"}
        if user is not None:
            detail["role"] = user.role
        record("sign_in", detail, user=ident[:_NAME_LIMIT] or None)
    if user is None:
        st.session_state.pop(SESSION_KEY, None)
        st.session_state[_ERROR_KEY] = f"账号 {ident or '（无标识）'} 未获授权访问本系统，请联系管理员分配角色。"
        return None
    st.session_state[SESSION_KEY] = user
    return user


def _oidc_sign_in_page() -> None:
    _, middle, _ = st.columns([1, 1.2, 1])
    with middle:
        _brand()
        with st.container(border=True):
            st.subheader("登录")
            problem = st.session_state.get(_ERROR_KEY)
            if problem and _oidc_info().get("is_logged_in"):
                st.error(problem, icon=":material/block:")
                st.button("退出当前账号", icon=":material/logout:", key="auth_oidc_out", on_click=_oidc_logout)
                return
            st.markdown("请使用单位统一身份认证账号登录。")
            if st.button("使用统一身份认证登录", type="primary", icon=":material/login:", key="auth_oidc_login"):
                try:
                    st.login()
                except Exception as exc:  # Authlib missing or [auth] not configured
                    log.exception("st.login failed")
                    st.error(f"统一身份认证未配置或不可用：{exc}", icon=":material/error:")


def _oidc_logout() -> None:
    st.session_state.pop(_ERROR_KEY, None)
    st.session_state.pop(_OIDC_SEEN_KEY, None)
    st.logout()


def _misconfigured_page() -> None:
    _brand()
    st.error(
        f"登录配置有误：CREDIT_AUTH 应为 {'、'.join(MODES)} 之一（当前为 {mode()!r}）。为安全起见，不显示任何页面。",
        icon=":material/error:",
    )


# --- pages and the sidebar ---------------------------------------------------------------


def require(permission: str, what: str) -> bool:
    """For a page or section guarded by ``permission``: True when allowed, else a refusal is shown."""
    user = current_user()
    if allowed(user, permission):
        return True
    who = "未登录" if user is None else f"{user.name}（{user.role_label}）"
    needs = "、".join(ROLE_LABELS[r] for r in ROLES if User("_", r).can(permission))
    st.error(f"无权访问「{what}」：仅{needs}可以使用。当前用户：{who}。", icon=":material/lock:")
    return False


def banner(settings: Settings | None = None) -> None:
    """On every page in demo mode: nobody signed in, everybody sees everything."""
    if is_demo(settings):
        st.warning(f"**{DEMO_BANNER}**", icon=":material/visibility:")


def sidebar_account(user: User, settings: Settings | None = None) -> None:
    """Who is signed in, with which role, and the sign-out button."""
    with st.sidebar, st.container(border=True):
        if is_demo(settings):
            st.markdown(f":orange-badge[演示模式] **{user.name}**（{user.role_label}权限）")
            st.caption("未启用登录：设置 CREDIT_AUTH=local 或 oidc 后需登录使用。")
            return
        st.markdown(f":material/account_circle: **{user.name}** · :blue-badge[{user.role_label}]")
        st.button("退出登录", icon=":material/logout:", key="auth_sign_out", on_click=_sign_out)


def _sign_out() -> None:
    user = current_user()
    how = mode()
    if user is not None:
        record("sign_out", {"method": how}, user=user)
    st.session_state.pop(SESSION_KEY, None)
    st.session_state.pop(_OIDC_SEEN_KEY, None)
    if how == "oidc":
        st.logout()


# --- attempt limits and the idle timeout (CREDIT_AUTH=local) ---------------------------------

LIMITS_UNREADABLE = "暂时无法登录：登录限制记录无法读取，请联系管理员。"
_SEEN_KEY = "auth_last_seen"
_CLIENT_KEY = "auth_client"
_clock = time.time  # tests put a fake clock here


def _guard(settings: Settings) -> lockout.Guard:
    return lockout.Guard(lockout.state_path(settings.users_file), lockout.Rules.from_settings(settings), clock=_clock)


def _client() -> str:
    """Who is trying, for the per-client count: the IP address Streamlit gives, else this browser session."""
    try:
        ip = st.context.ip_address  # None on localhost
    except Exception:  # outside a real connection (tests)
        ip = None
    if isinstance(ip, str) and ip:
        return f"ip:{ip}"
    if _CLIENT_KEY not in st.session_state:
        st.session_state[_CLIENT_KEY] = secrets.token_hex(8)
    return f"session:{st.session_state[_CLIENT_KEY]}"


def _account(name: str, settings: Settings) -> str:
    """What an attempt counts against: the name as the audit log shows it (a hash for unknown names)."""
    return attempted_name(name, settings) or ""


def _clock_time(at: float) -> str:
    return datetime.fromtimestamp(at).strftime("%H:%M")


def _locked_text(verdict: lockout.Verdict) -> str:
    minutes = max(1, math.ceil(((verdict.retry_at or 0) - _clock()) / 60))
    return (
        f"该账号因连续登录失败已被临时锁定，请于 {_clock_time(verdict.retry_at or 0)} 之后"
        f"（约 {minutes} 分钟后）再试；如需提前解锁，请联系管理员。"
    )


def _wait_seconds(verdict: lockout.Verdict) -> int:
    return max(1, math.ceil((verdict.retry_at or 0) - _clock()))


def _attempt_refused(name: str, settings: Settings) -> str | None:
    """Before the password is checked: None to go on, else the refusal to show (audited)."""
    account, client = _account(name, settings), _client()
    try:
        verdict = _guard(settings).before(account, client)
    except lockout.LockoutError as exc:  # fail closed, like an unreadable users file
        log.error("sign-in impossible: %s", exc)
        return LIMITS_UNREADABLE
    if verdict.allowed:
        return None
    refused = "locked" if verdict.outcome == "locked" else "too_early"
    record("sign_in", {"ok": False, "method": "local", "refused": refused}, user=account or None)
    if verdict.locked_now:
        _record_lockout(account, client, verdict)
    if verdict.outcome == "locked":
        return _locked_text(verdict)
    return f"尝试过于频繁，请 {_wait_seconds(verdict)} 秒后再试。"


def _after_failure(name: str, settings: Settings) -> str:
    """After a wrong password: the generic error, with the wait or the lockout it has brought."""
    account, client = _account(name, settings), _client()
    try:
        verdict = _guard(settings).failed(account, client)
    except lockout.LockoutError as exc:
        log.error("sign-in limits not updated: %s", exc)
        return BAD_CREDENTIALS
    if verdict.locked_now:
        _record_lockout(account, client, verdict)
    if verdict.outcome == "locked":
        return _locked_text(verdict)
    if verdict.retry_at is not None:
        return f"{BAD_CREDENTIALS}。连续失败次数较多，请 {_wait_seconds(verdict)} 秒后再试。"
    return BAD_CREDENTIALS


def _after_success(user: User, settings: Settings) -> None:
    st.session_state[_SEEN_KEY] = _clock()
    try:
        _guard(settings).succeeded(user.name)
    except lockout.LockoutError as exc:  # signed in all the same; the old failures stay counted
        log.error("sign-in limits not updated: %s", exc)


def _record_lockout(account: str, client: str, verdict: lockout.Verdict) -> None:
    until = datetime.fromtimestamp(verdict.retry_at or 0).isoformat(timespec="seconds")
    detail = {"name": account, "failures": verdict.failures, "until": until, "client": client}
    record("lockout", detail, user=account or None)


def limits_note(settings: Settings) -> str:
    """The rules, as the sign-in page states them."""
    rules = lockout.Rules.from_settings(settings)
    note = (
        f"为防止密码被猜测：{rules.window_seconds / 60:g} 分钟内连续失败 {rules.free_failures} 次后，"
        f"每次再试需等待更久；失败 {rules.lockout_failures} 次账号锁定 {rules.lockout_seconds / 60:g} 分钟。"
    )
    if settings.idle_timeout_minutes > 0:
        note += f"登录后 {settings.idle_timeout_minutes:g} 分钟无操作将自动退出。"
    return note


def _unless_idle(user, settings: Settings):
    """The session's user, unless it has been idle too long: then signed out (audited) and None."""
    now = _clock()
    if not isinstance(user, User) or user == DEMO_USER:
        st.session_state.pop(_SEEN_KEY, None)
        return user
    if lockout.idle_expired(st.session_state.get(_SEEN_KEY), now, settings.idle_timeout_minutes):
        record("sign_out", {"method": "local", "reason": "idle"}, user=user)
        st.session_state.pop(SESSION_KEY, None)
        st.session_state.pop(_SEEN_KEY, None)
        st.session_state[_ERROR_KEY] = (
            f"您已超过 {settings.idle_timeout_minutes:g} 分钟未操作，已自动退出登录，请重新登录。"
        )
        return None
    st.session_state[_SEEN_KEY] = now
    return user


def sign_in_locks(settings: Settings | None = None) -> list[lockout.Lock]:
    """The accounts locked now (for the admin page); [] when the record cannot be read (logged)."""
    settings = settings or load_settings()
    try:
        return _guard(settings).locks()
    except lockout.LockoutError as exc:
        log.error("sign-in locks unreadable: %s", exc)
        return []


def unlock_account(name: str) -> bool:
    """The admin page's control: lift ``name``'s lock (rights re-read now), audited; False when refused."""
    admin = acting_user("manage", "unlock")
    if admin is None:
        return False
    settings = load_settings()
    try:
        lifted = _guard(settings).unlock(name)
    except lockout.LockoutError as exc:
        log.error("unlock failed: %s", exc)
        return False
    if lifted:
        record("unlock", {"name": lockout.account_key(name), "via": "审计日志页面"}, user=admin)
    return lifted
