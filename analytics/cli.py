"""Command line: the same code the upload page and the dashboard call.

    python -m analytics ingest FILE... [--dataset NAME] [--db PATH]
    python -m analytics metrics [--db PATH] [--as-of YYYY-MM-DD] [--months N]
    python -m analytics demo [--db PATH] [--seed N] [--scale K]

Errors are one line in plain words and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

from analytics.datasets import UPLOADABLE
from analytics.settings import load_settings


class CliError(Exception):
    """A user mistake: printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse would print usage and exit 2 itself
        raise CliError(message)


def _as_of(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"日期格式应为 YYYY-MM-DD：{text}") from None


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

    metrics = with_db(commands.add_parser("metrics", help="按截止日期计算全部指标，输出 JSON"))
    metrics.add_argument("--as-of", type=_as_of, help="截止日期 YYYY-MM-DD（默认今天）")
    metrics.add_argument("--months", type=_positive_int, help="统计月数（默认 12）")

    demo = with_db(commands.add_parser("demo", help="生成并导入演示数据（2021–2022 年，厦门）"))
    demo.add_argument("--seed", type=int, default=2022)
    demo.add_argument("--scale", type=_positive_float, default=1.0)
    demo.add_argument("--out", help="同时把演示用的导出文件保存到此目录")

    commands.add_parser("docs", help="由代码重新生成 docs/datasets.md")
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
        from analytics import docs

        print("\n".join(docs.write_docs()))
        return 0
    raise CliError(f"未知命令：{args.command}")


def _ingest(args, db: str) -> int:
    from analytics import ingest

    for name in args.files:
        if not Path(name).is_file():
            raise CliError(f"文件不存在：{name}")
    results = ingest.ingest_paths(db, args.files, dataset=args.dataset, user=args.user)
    print(json.dumps([r.to_dict() for r in results], ensure_ascii=False, indent=2))
    return 0 if all(r.ok for r in results) else 1


def _metrics(args, settings) -> int:
    from analytics import metrics, store

    if not Path(settings.db).exists():
        raise CliError(f"数据库不存在：{settings.db}（先用 ingest 导入数据，或用 demo 生成演示数据）")
    with store.connect(settings.db, read_only=True, wait_seconds=settings.lock_wait_seconds) as con:
        as_of = args.as_of or date.today()
        result = metrics.compute_all(con, as_of, args.months or settings.months, settings=settings)
    print(json.dumps(result, ensure_ascii=False, indent=2, default=str))
    return 0


def _demo(args, db: str) -> int:
    from analytics import demo

    results = demo.build(db, seed=args.seed, scale=args.scale, out_dir=Path(args.out) if args.out else None)
    summary = [r.to_dict() | {"errors": len(r.errors)} for r in results]
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    return 0


def main(argv: list[str] | None = None) -> int:
    try:
        return run(sys.argv[1:] if argv is None else argv)
    except CliError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # the promise is one line, never a traceback
        print(f"错误：{type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
