"""Command line: the same code the upload page and the dashboard call.

    python -m analytics ingest FILE... [--dataset NAME] [--set COLUMN=VALUE]... [--covers FROM..THROUGH] [--db PATH]
    python -m analytics metrics [--db PATH] [--as-of YYYY-MM-DD] [--months N]
    python -m analytics demo [--db PATH] [--seed N] [--scale K]
    python -m analytics users add NAME --role viewer|analyst|admin [--password-stdin]
    python -m analytics users list | remove NAME | set-role NAME ROLE | passwd NAME [--password-stdin]
    python -m analytics users unlock NAME
    python -m analytics undo UPLOAD_ID [--user NAME] [--db PATH]
    python -m analytics backup DEST [--db PATH]
    python -m analytics restore SRC [--db PATH]
    python -m analytics audit [--limit N] [--action ACTION] [--db PATH]
    python -m analytics briefing [--week YYYY-Www] [--db PATH] [--out DIR]

Errors are one line in plain words and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import getpass
import json
import re
import sys
from datetime import date
from pathlib import Path

from analytics.intake.datasets import UPLOADABLE
from analytics.settings import load_settings


class CliError(Exception):
    """A user mistake: printed as one line, exit status 2."""


# argparse's own messages, in the language of the rest of the tool.
_ARGPARSE_ZH = (
    (re.compile(r"the following arguments are required: (.+)"), r"缺少参数：\1"),
    (re.compile(r"argument (\S+): invalid choice: (\S+) \(choose from (.+)\)"), r"参数 \1 的取值 \2 无效（可选：\3）"),
    (re.compile(r"argument (\S+): expected one argument"), r"参数 \1 需要一个值"),
    (re.compile(r"argument (\S+): (.+)"), r"参数 \1：\2"),
    (re.compile(r"unrecognized arguments: (.+)"), r"无法识别的参数：\1"),
)


def _argparse_message_zh(message: str) -> str:
    for pattern, replacement in _ARGPARSE_ZH:
        if pattern.fullmatch(message):
            return pattern.sub(replacement, message)
    return message


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse would print usage and exit 2 itself
        raise CliError(_argparse_message_zh(message))


def _as_of(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"日期格式应为 YYYY-MM-DD：{text}") from None


def _covers(text: str):
    from analytics.intake import periods

    try:
        return periods.parse_covers(text)
    except periods.CoversError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"应为正整数：{text}")
    return int(text)


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1
    if value <= 0:
        raise argparse.ArgumentTypeError(f"应为正数：{text}")
    return value


def _week(text: str):
    from analytics.output import briefing

    try:
        return briefing.parse_week(text)
    except briefing.WeekError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m analytics", description="交通信用看板：数据导入、指标计算与演示数据")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def with_db(sub):
        sub.add_argument("--db", help="DuckDB 数据库文件（默认 data/credit.duckdb，或环境变量 CREDIT_DB）")
        return sub

    ingest = with_db(commands.add_parser("ingest", help="导入 CSV/Excel 导出文件"))
    ingest.add_argument("files", nargs="+", metavar="FILE")
    ingest.add_argument("--dataset", choices=UPLOADABLE, help="指定数据集（默认按表头自动识别）")
    ingest.add_argument("--user", help="记录在上传日志中的用户名")
    ingest.add_argument(
        "--covers",
        type=_covers,
        metavar="FROM..THROUGH",
        help="文件覆盖的时段，如 2022-01-01..2022-12-31（其间无记录的日子也算已覆盖；名录、名单为快照日期，"
        "可只写一个日期）。默认：文件中最早至最晚的日期，名录、名单为上传当天",
    )
    ingest.add_argument(
        "--set",
        dest="fills",
        type=_fill,
        action="append",
        default=[],
        metavar="COLUMN=VALUE",
        help="整个文件取同一值的列，如 --set 名单名称=失信被执行人名单（可重复；文件缺这一列或单元格为空时填入）",
    )

    metrics = with_db(commands.add_parser("metrics", help="按截止日期计算全部指标，输出 JSON"))
    metrics.add_argument(
        "--as-of", type=_as_of, help="截止日期 YYYY-MM-DD（默认：行政处罚与行政许可均已覆盖到的最后一天）"
    )
    metrics.add_argument("--months", type=_positive_int, help="统计月数（默认 12）")

    demo = with_db(commands.add_parser("demo", help="生成并导入演示数据（2021–2022 年，厦门）"))
    demo.add_argument("--seed", type=int, default=2022)
    demo.add_argument("--scale", type=_positive_float, default=1.0)
    demo.add_argument("--out", help="同时把演示用的导出文件保存到此目录")

    commands.add_parser("docs", help="由代码重新生成 docs/datasets.md 与 docs/metrics.md")

    from analytics.storage.audit import ACTIONS
    from analytics.storage.users import ROLES

    users = commands.add_parser("users", help="管理本地用户（用户文件见 CREDIT_USERS_FILE，默认 data/users.json）")
    user_commands = users.add_subparsers(dest="users_command", required=True, parser_class=_Parser)
    add = with_db(user_commands.add_parser("add", help="添加用户"))
    add.add_argument("name", metavar="NAME")
    add.add_argument("--role", choices=ROLES, required=True, help="角色：viewer 查看者、analyst 分析员、admin 管理员")
    add.add_argument("--password-stdin", action="store_true", help="从标准输入读取一行作为密码（默认交互输入）")
    user_commands.add_parser("list", help="列出用户及其角色")
    remove = with_db(user_commands.add_parser("remove", help="删除用户"))
    remove.add_argument("name", metavar="NAME")
    set_role = with_db(user_commands.add_parser("set-role", help="修改用户角色"))
    set_role.add_argument("name", metavar="NAME")
    set_role.add_argument("role", choices=ROLES, metavar="ROLE", help="viewer、analyst 或 admin")
    passwd = with_db(user_commands.add_parser("passwd", help="重设用户密码"))
    passwd.add_argument("name", metavar="NAME")
    passwd.add_argument("--password-stdin", action="store_true", help="从标准输入读取一行作为密码（默认交互输入）")
    unlock = with_db(user_commands.add_parser("unlock", help="解除因连续登录失败造成的账号锁定"))
    unlock.add_argument("name", metavar="NAME", help="用户名（未知用户按审计日志中显示的“未知用户#…”）")

    undo = with_db(commands.add_parser("undo", help="撤销一次上传（管理员操作），数据恢复到该次上传之前"))
    undo.add_argument("upload_id", type=_positive_int, metavar="UPLOAD_ID", help="上传编号（见上传日志）")
    undo.add_argument("--user", help="记录在审计日志中的操作人（默认当前登录用户名）")

    backup = with_db(commands.add_parser("backup", help="在系统运行时备份数据库"))
    backup.add_argument("dest", metavar="DEST", help="备份文件路径，或存放备份的目录")
    backup.add_argument("--user", help="记录在审计日志中的操作人（默认当前登录用户名）")

    restore = with_db(commands.add_parser("restore", help="用备份替换数据库（原数据另存为 .before-restore）"))
    restore.add_argument("src", metavar="SRC", help="备份文件")
    restore.add_argument("--user", help="记录在审计日志中的操作人（默认当前登录用户名）")

    log = with_db(commands.add_parser("audit", help="查看审计日志（最新的在前），输出 JSON"))
    log.add_argument("--limit", type=_positive_int, default=50, help="条数（默认 50）")
    log.add_argument("--action", choices=ACTIONS, help="只看某类操作")

    brief = with_db(commands.add_parser("briefing", help="导出周报：HTML、PNG（需 Chromium）和 XLSX"))
    brief.add_argument("--week", type=_week, help="ISO 周次 YYYY-Www，如 2022-W52（默认为数据覆盖的最近一个完整周）")
    brief.add_argument("--out", default=".", help="输出目录（默认当前目录）")
    return parser


def run(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    settings = load_settings(db=getattr(args, "db", None))
    if args.command == "ingest":
        return _ingest(args, settings.db)
    if args.command == "metrics":
        return _metrics(args, settings)
    if args.command == "demo":
        return _demo(args, settings.db)
    if args.command == "docs":
        from analytics.compute import metrics
        from analytics.output import docs

        print("\n".join([*docs.write_docs(), str(metrics.write_docs())]))
        return 0
    if args.command == "users":
        return _users(args, settings)
    if args.command == "undo":
        return _undo(args, settings.db)
    if args.command in ("backup", "restore"):
        return _backup(args, settings.db)
    if args.command == "audit":
        return _audit(args, settings)
    if args.command == "briefing":
        return _briefing(args, settings)
    raise CliError(f"未知命令：{args.command}")


def _fill(text: str) -> tuple[str, str]:
    column, sep, value = text.partition("=")
    if not sep or not column.strip() or not value.strip():
        raise argparse.ArgumentTypeError(f"应写作 列名=值，如 名单名称=失信被执行人名单：{text}")
    return column.strip(), value.strip()


def _ingest(args, db: str) -> int:
    from analytics.intake import ingest

    for name in args.files:
        if not Path(name).is_file():
            raise CliError(f"文件不存在：{name}")
    results = ingest.ingest_paths(
        db, args.files, dataset=args.dataset, user=args.user, covers=args.covers, fills=dict(args.fills) or None
    )
    print(json.dumps([r.to_dict() for r in results], ensure_ascii=False, indent=2))
    return 0 if all(r.ok for r in results) else 1


def _metrics(args, settings) -> int:
    from analytics.compute import metrics
    from analytics.storage import store

    if not Path(settings.db).exists():
        raise CliError(f"数据库不存在：{settings.db}（先用 ingest 导入数据，或用 demo 生成演示数据）")
    with store.connect(settings.db, read_only=True, wait_seconds=settings.lock_wait_seconds) as con:
        as_of = args.as_of or metrics.default_as_of(con)  # the pages' and the briefing's default too
        result = metrics.compute_all(con, as_of, args.months or settings.months, settings=settings)
    print(json.dumps(result, ensure_ascii=False, indent=2, default=str))
    return 0


def _demo(args, db: str) -> int:
    from analytics import demo

    results = demo.build(db, seed=args.seed, scale=args.scale, out_dir=Path(args.out) if args.out else None)
    summary = [r.to_dict() | {"errors": len(r.errors)} for r in results]
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    return 0


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        return line.removesuffix("\n").removesuffix("\r")
    if not sys.stdin.isatty():
        raise CliError("非交互环境请用 --password-stdin 从标准输入提供密码")
    first = getpass.getpass("密码：")
    if getpass.getpass("再次输入密码：") != first:
        raise CliError("两次输入的密码不一致")
    return first


def _users(args, settings) -> int:
    from analytics.storage import users

    command = args.users_command
    if command == "unlock":
        return _unlock(args, settings)
    if command == "list":
        listed = users.list_users(settings.users_file)
        if not listed:
            print(f"还没有用户（用户文件：{settings.users_file}）")
        for user in listed:
            print(f"{user.name}\t{user.role}\t{user.role_label}")
        return 0
    try:
        if command == "add":
            user = users.add_user(args.name, args.role, _read_password(args.password_stdin), settings.users_file)
            done, detail = f"已添加用户 {user.name}（{user.role_label}）", {"op": "add", "role": user.role}
        elif command == "remove":
            users.remove_user(args.name, settings.users_file)
            done, detail = f"已删除用户 {args.name}", {"op": "remove"}
        elif command == "set-role":
            user = users.set_role(args.name, args.role, settings.users_file)
            done, detail = f"已将用户 {user.name} 的角色改为{user.role_label}", {"op": "set_role", "role": user.role}
        else:
            users.set_password(args.name, _read_password(args.password_stdin), settings.users_file)
            done, detail = f"已重设用户 {args.name} 的密码", {"op": "set_password"}
    except users.UserError as exc:
        raise CliError(str(exc)) from None
    _audit_user_change(settings, args.name, detail)
    print(done)
    return 0


def _unlock(args, settings) -> int:
    """Lift a sign-in lockout early (analytics.storage.lockout); audited when there was one to lift."""
    from analytics.storage import audit, lockout, store

    guard = lockout.Guard(lockout.state_path(settings.users_file), lockout.Rules.from_settings(settings))
    name = lockout.account_key(args.name)
    try:
        locked = any(lock.account == name for lock in guard.locks())
        lifted = guard.unlock(name)
    except lockout.LockoutError as exc:
        raise CliError(str(exc)) from None
    if not lifted:
        print(f"{name} 没有登录锁定或失败记录，无需解锁")
        return 0
    with store.connect(settings.db, wait_seconds=settings.lock_wait_seconds) as con:
        audit.record(con, _operator(None), "unlock", {"name": name, "was_locked": locked, "via": "命令行"})
    print(f"已解除 {name} 的登录锁定" if locked else f"已清除 {name} 的登录失败记录（未处于锁定状态）")
    return 0


def _operator(name: str | None) -> str | None:
    """Who is recorded for a command-line change: --user, else the login name."""
    if name:
        return name
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return None


def _audit_user_change(settings, name: str, detail: dict) -> None:
    from analytics.storage import audit, store

    with store.connect(settings.db, wait_seconds=settings.lock_wait_seconds) as con:
        audit.record(con, _operator(None), "user_change", {"name": name, **detail, "via": "命令行"})


def _undo(args, db: str) -> int:
    from analytics.intake import undo

    if not Path(db).exists():
        raise CliError(f"数据库不存在：{db}")
    result = undo.undo_upload(db, args.upload_id, _operator(args.user))
    if not result.ok:
        raise CliError(result.message)
    print(result.message)
    return 0


def _backup(args, db: str) -> int:
    from analytics.storage import backup

    try:
        if args.command == "backup":
            print(f"已备份到 {backup.backup(db, args.dest, user=_operator(args.user))}")
        else:
            result = backup.restore(db, args.src, user=_operator(args.user))
            rows = sum(n for t, n in result.rows.items() if t not in ("audit_log", "uploads", "replaced_rows"))
            print(f"已从 {result.source} 恢复（数据 {rows} 行）；恢复前的数据库已另存为 {result.previous}")
    except backup.BackupError as exc:
        raise CliError(str(exc)) from None
    return 0


def _audit(args, settings) -> int:
    from analytics.storage import audit, store

    if not Path(settings.db).exists():
        raise CliError(f"数据库不存在：{settings.db}")
    with store.connect(settings.db, read_only=True, wait_seconds=settings.lock_wait_seconds) as con:
        frame = audit.list_log(con, args.limit, args.action)
    frame["logged_at"] = frame["logged_at"].astype(str)
    frame["detail"] = frame["detail"].map(json.loads)
    print(json.dumps(frame.to_dict(orient="records"), ensure_ascii=False, indent=2, default=str))
    return 0


def _briefing(args, settings) -> int:
    from analytics.compute import metrics
    from analytics.output import briefing
    from analytics.storage import store

    if not Path(settings.db).exists():
        raise CliError(f"数据库不存在：{settings.db}（先用 ingest 导入数据，或用 demo 生成演示数据）")
    with store.connect(settings.db, read_only=True, wait_seconds=settings.lock_wait_seconds) as con:
        latest = metrics.default_as_of(con)
        week = args.week or briefing.last_complete_week(latest)
        try:
            briefing.check_week(week, latest)
        except briefing.WeekError as exc:
            raise CliError(str(exc)) from None
        result = briefing.compute(con, week, settings)
    written = briefing.write_files(result, Path(args.out), settings)
    for warning in written.warnings:
        print(f"警告：{warning}", file=sys.stderr)
    print(f"{result.week.label}：{result.summary}")
    for path in written.files:
        print(f"已生成：{path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    from analytics.storage.store import StoreBusy, keep_private

    keep_private()  # databases, backups, briefings and demo exports: 0600, folders 0700
    try:
        return run(sys.argv[1:] if argv is None else argv)
    except CliError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    except StoreBusy as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # the promise is one line, never a traceback
        print(f"错误：{type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
