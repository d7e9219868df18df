"""Local users (auth = "local"): names, roles and salted password hashes in one JSON file.

The file (settings.users_file, git-ignored) never holds a password: each user
has a random salt and an scrypt hash, compared in constant time. It is
rewritten atomically (temporary file, then ``os.replace``) with mode 0600, and
read-modify-write changes hold an exclusive lock on its folder, so two
commands never lose each other's change.

What each role may do is declared once, in ``PERMISSIONS``.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import json
import os
import re
import secrets
import tempfile
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from analytics.settings import load_settings

ROLES = ("viewer", "analyst", "admin")
ROLE_LABELS = {"viewer": "查看者", "analyst": "分析员", "admin": "管理员"}
# The one table of who may do what.
PERMISSIONS: dict[str, frozenset[str]] = {
    "viewer": frozenset(),
    "analyst": frozenset({"upload", "see_identifiers"}),
    "admin": frozenset({"upload", "see_identifiers", "undo", "manage"}),
}

MIN_PASSWORD = 8
MAX_PASSWORD = 1024
_NAME = re.compile(r"[\w.@\-]{1,64}")  # \w includes Chinese characters
# scrypt cost: 16 MiB and ~50 ms per check; stored with each hash so it can be raised later.
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}
_FILE_VERSION = 1


class UserError(ValueError):
    """A refused user change; the message is shown as is."""


@dataclass(frozen=True)
class User:
    name: str
    role: str

    def can(self, permission: str) -> bool:
        return permission in PERMISSIONS.get(self.role, frozenset())

    @property
    def can_upload(self) -> bool:
        return self.can("upload")

    @property
    def can_see_identifiers(self) -> bool:
        return self.can("see_identifiers")

    @property
    def can_undo(self) -> bool:
        return self.can("undo")

    @property
    def can_manage(self) -> bool:
        return self.can("manage")

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)


# --- public API ------------------------------------------------------------------


def add_user(name: str, role: str, password: str, path: str | os.PathLike | None = None) -> User:
    name, role = _check_name(name), _check_role(role)
    _check_password(password)
    with _locked(path) as file:
        users = _load(file)
        if name in users:
            raise UserError(f"用户已存在：{name}")
        now = _now()
        users[name] = {"role": role, "password": _hash(password), "created_at": now, "updated_at": now}
        _save(file, users)
    return User(name, role)


def remove_user(name: str, path: str | os.PathLike | None = None) -> None:
    with _locked(path) as file:
        users = _load(file)
        name = _existing(users, name)
        if users[name]["role"] == "admin" and _admins(users) == [name]:
            raise UserError(f"不能删除最后一位管理员：{name}")
        del users[name]
        _save(file, users)


def set_role(name: str, role: str, path: str | os.PathLike | None = None) -> User:
    role = _check_role(role)
    with _locked(path) as file:
        users = _load(file)
        name = _existing(users, name)
        if role != "admin" and _admins(users) == [name]:
            raise UserError(f"不能取消最后一位管理员的管理员角色：{name}")
        users[name]["role"] = role
        users[name]["updated_at"] = _now()
        _save(file, users)
    return User(name, role)


def set_password(name: str, password: str, path: str | os.PathLike | None = None) -> None:
    _check_password(password)
    with _locked(path) as file:
        users = _load(file)
        name = _existing(users, name)
        users[name]["password"] = _hash(password)
        users[name]["updated_at"] = _now()
        _save(file, users)


def verify(name: str, password: str, path: str | os.PathLike | None = None) -> User | None:
    """The user when the name and password match, else None (unknown names take as long)."""
    name = _key(name)
    entry = _load(_file(path)).get(name)
    stored = entry["password"] if entry else _dummy_hash()
    if not isinstance(password, str) or len(password) > MAX_PASSWORD:
        password, entry = "", None  # still spend the time of one check
    matched = _check_hash(password, stored)
    if not matched or entry is None or entry["role"] not in ROLES:
        return None
    return User(name, entry["role"])


def get_user(name: str, path: str | os.PathLike | None = None) -> User | None:
    name = _key(name)
    entry = _load(_file(path)).get(name)
    return User(name, entry["role"]) if entry and entry["role"] in ROLES else None


def list_users(path: str | os.PathLike | None = None) -> list[User]:
    return [User(name, entry["role"]) for name, entry in sorted(_load(_file(path)).items())]


# --- hashing -------------------------------------------------------------------------


def _hash(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, dklen=32, maxmem=64 * 1024 * 1024, **_SCRYPT)
    params = ",".join(f"{k}={v}" for k, v in _SCRYPT.items())
    return f"scrypt${params}${salt.hex()}${digest.hex()}"


def _check_hash(password: str, stored: str) -> bool:
    try:
        scheme, params, salt, digest = stored.split("$")
        cost = {k: int(v) for k, v in (p.split("=") for p in params.split(","))}
        if scheme != "scrypt" or set(cost) != {"n", "r", "p"} or cost["n"] > 2**20:
            return False
        expected = bytes.fromhex(digest)
        actual = hashlib.scrypt(
            password.encode("utf-8"), salt=bytes.fromhex(salt), dklen=len(expected), maxmem=256 * 1024 * 1024, **cost
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


@functools.cache
def _dummy_hash() -> str:
    return _hash(secrets.token_hex(16))


# --- the file --------------------------------------------------------------------------


def _file(path) -> Path:
    return Path(path if path is not None else load_settings().users_file)


def _load(file: Path) -> dict[str, dict]:
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise UserError(f"无法读取用户文件 {file}：{exc.strerror or exc}") from None
    try:
        data = json.loads(text)
        users = data["users"]
        if not isinstance(users, dict) or not all(
            isinstance(e, dict) and isinstance(e.get("password"), str) and isinstance(e.get("role"), str)
            for e in users.values()
        ):
            raise ValueError
    except (ValueError, KeyError, TypeError):
        raise UserError(f"用户文件已损坏，无法读取：{file}") from None
    return users


def _save(file: Path, users: dict[str, dict]) -> None:
    """Write atomically: readers see the old file or the new one, never half of it."""
    file.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"version": _FILE_VERSION, "users": users}, ensure_ascii=False, indent=2, sort_keys=True)
    fd, tmp = tempfile.mkstemp(dir=file.parent, prefix="." + file.name + ".", suffix=".tmp")  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text + "\n")
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, file)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def _locked(path) -> Iterator[Path]:
    """An exclusive lock on the users file's folder for one read-modify-write."""
    file = _file(path)
    file.parent.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # not POSIX: atomic replace only
        yield file
        return
    fd = os.open(file.parent, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield file
    finally:
        os.close(fd)  # releases the lock


# --- checks ------------------------------------------------------------------------------


def _check_name(name: str) -> str:
    text = _key(name)
    if not _NAME.fullmatch(text):
        raise UserError(f"用户名应为 1–64 个字母、数字、汉字或 . _ - @：{name!r}")
    return text


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise UserError(f"角色应为 {'、'.join(ROLES)} 之一：{role}")
    return role


def _check_password(password: str) -> None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise UserError(f"密码至少 {MIN_PASSWORD} 个字符")
    if len(password) > MAX_PASSWORD:
        raise UserError(f"密码不能超过 {MAX_PASSWORD} 个字符")
    if password.casefold() in _common_passwords():
        raise UserError("密码过于常见（在常用密码表中），容易被猜中：请换一个")


@functools.cache
def _common_passwords() -> frozenset[str]:
    """The 30,000 most common passwords of public breach corpora, as zxcvbn ships them (12345678, password, …)."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def _key(name) -> str:
    """How a typed name is looked up: NFKC (full-width letters), trimmed."""
    return unicodedata.normalize("NFKC", name).strip() if isinstance(name, str) else ""


def _existing(users: dict, name: str) -> str:
    key = _key(name)
    if key not in users:
        raise UserError(f"用户不存在：{name}")
    return key


def _admins(users: dict) -> list[str]:
    return [n for n, e in users.items() if e["role"] == "admin"]


def _now() -> str:
    return datetime.now().isoformat(timespec="seconds")
