"""The metric layer: one named, parameterised SQL query per metric (dbt / Evidence style).

Each metric lives in ``analytics/compute/queries/<name>.sql`` and uses DuckDB named
parameters (``$as_of``, ``$months``, ``$sector``, ``$district``,
``$warn_penalties``, ...). ``METRICS`` registers every query with its Chinese
and English definition; ``run`` executes one by name and passes exactly the
parameters its SQL mentions. Definitions shared by several queries (the month
window, objections per record) are DuckDB macros in ``queries/_macros.sql``,
created on the connection by ``run`` and ``records`` before each query, so on
every connection (read-only ones too). ``compute_all`` builds the JSON object of
the command line's ``metrics`` command. All filtering and aggregation happen in SQL.

docs/metrics.md is generated from the registry: ``python -m analytics docs``.
"""

from __future__ import annotations

import math
import re
import weakref
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pandas is imported by DuckDB's .df() when needed: the CLI starts faster without it
    import pandas as pd

from analytics.compute import coverage
from analytics.intake import matching
from analytics.settings import PROJECT_ROOT, Settings, load_settings

QUERIES_DIR = Path(__file__).resolve().parent / "queries"
DOCS_PATH = PROJECT_ROOT / "docs" / "metrics.md"
# Shared definitions (CREATE OR REPLACE TEMP MACRO ...): not a metric, hence the leading underscore.
MACROS_PATH = QUERIES_DIR / "_macros.sql"

# Values of the '全部' pseudo-sector / category and of the bucket for records outside the register.
ALL = "全部"
UNREGISTERED = "未登记"

_PARAM_RE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_COMMENT_RE = re.compile(r"--[^\n]*")
_STRING_RE = re.compile(r"'(?:[^']|'')*'")


@dataclass(frozen=True)
class Metric:
    name: str
    title_zh: str
    definition_zh: str
    definition_en: str
    columns: tuple[str, ...]  # output columns of the query, in order
    # Fields of each row in the CLI JSON (None: all columns; not in compute_all: unused).
    json_columns: tuple[str, ...] | None = None

    @property
    def path(self) -> Path:
        return QUERIES_DIR / f"{self.name}.sql"

    @cached_property
    def sql(self) -> str:
        return self.path.read_text(encoding="utf-8")

    @cached_property
    def params(self) -> frozenset[str]:
        """Named parameters the SQL uses (comments and string literals ignored)."""
        return sql_params(self.sql)


def sql_params(sql: str) -> frozenset[str]:
    text = _COMMENT_RE.sub(" ", sql)
    text = _STRING_RE.sub("''", text)
    return frozenset(_PARAM_RE.findall(text))


METRICS: dict[str, Metric] = {}


def _register(metric: Metric) -> None:
    METRICS[metric.name] = metric


_register(
    Metric(
        "work_points",
        "工作要点进展",
        "21项工作要点各取截至统计日（含当日）的最新一次进展填报：完成进度取该次填报值，无填报记为0；"
        "填报状态为“已完成”或进度≥100%记为已完成，否则取填报状态，无填报记为“未启动”；"
        "未完成且计划完成日期早于统计日的记为逾期（计划完成日期等于统计日不算逾期）。"
        "汇总各状态个数、逾期个数和21项平均完成进度（保留一位小数）。",
        "For each of the 21 work points, its latest progress report dated on or before the as-of date D. "
        "progress is that report's progress (0 without a report); status is 已完成 if the report says 已完成 "
        "or progress >= 100, else the report's status, 未启动 without a report; overdue = not 已完成 and "
        "planned_date < D. Totals: count per status, overdue count, mean progress over all points (1 decimal).",
        (
            "id", "section", "section_title", "title", "lead_unit", "responsible_units", "report_date",
            "progress", "status", "planned_date", "overdue", "unit", "note",
        ),
    )
)  # fmt: skip
_register(
    Metric(
        "severe_share",
        "严重失信主体占比",
        "统计期内每月、按行业（另含“全部”）：主体数＝月末E在册且存续的登记主体数（成立日期≤E，且未注销或注销日期>E）；"
        "严重失信数＝其中在E时至少有一条名单记录有效的主体数（列入日期≤E，且未移出或移出日期>E）；"
        "占比＝严重失信数÷主体数，主体数为0时为空。月末E为该月最后一天，统计日所在月取统计日。"
        "信用代码不在名录中的名单记录不计入，另在“未匹配”中统计。",
        "Per month of the window and per register sector (plus 全部 for all): entities = registered entities "
        "active at the month end E (established <= E and deregistered null or > E); severe = how many of them "
        "have at least one severe-list record in force at E (listed_on <= E and removed_on null or > E); "
        "share = severe / entities, null when entities is 0. E is the month's last day, or D in D's own month. "
        "List records whose credit code is not in the register are counted apart as unmatched.",
        ("month", "sector", "entities", "severe", "share"),
    )
)
_register(
    Metric(
        "objection_ratio",
        "信用异议比例",
        "统计期内每月、按信息类别（行政处罚、行政许可、全部）：记录数＝该类别处罚/许可决定日期在该月且不晚于统计日的记录数；"
        "只计提出日期不晚于统计日的异议，按其已存处理结果；被异议数＝至少有一条该类异议（文书号和类别一致）的记录数；"
        "异议成立数＝至少有一条“异议成立”异议的记录数；主观失误数＝至少有一条“异议成立”且主观失误的异议的记录数；"
        "异议比例＝被异议数÷记录数，记录数为0时为空（成立比例、主观失误比例同理）。"
        "异议在决定作出后数周才陆续提出，最近月份的比例在统计日尚未完整：某月的决定在统计日均已满异议期W天"
        "（统计日－该月最后一天≥W，W为设置 CREDIT_OBJECTION_WINDOW_DAYS，默认60天）时，该月“已过异议期”"
        "（mature＝true），其数字不再因迟到的异议而上升；mature_on＝该月最后一天＋W，即该月成熟的第一个统计日。"
        "统计日所在月始终未成熟。总览、周报的标题数字及“较上月”只比较已过异议期的最近两个月，当月数字仅作暂计。",
        "Per month of the window and per category (行政处罚 = penalties, 行政许可 = licenses, 全部 = both): "
        "records = records of the category with decision_date in the month and <= D; only objections filed on "
        "or before D count, each with its stored result; objected = records with at least one such objection "
        "(same doc_no and category); upheld = records with one whose result is 异议成立; subjective = records "
        "with one that is 异议成立 and subjective; ratio = objected / records (null when records is 0); "
        "upheld_ratio and subjective_ratio likewise. Maturity: objections arrive weeks after the decision they "
        "contest, so the newest months' ratios are incomplete at D. A month is mature (mature = true) when all its "
        "decisions are at least W days old at D, i.e. D - (the month's last day) >= W, W being the setting "
        "CREDIT_OBJECTION_WINDOW_DAYS (default 60): e.g. with W = 60 October is mature from D = 30 December "
        "(61 days at 31 December), not at 29 December (59 days). mature_on = the month's last day + W, the first D "
        "at which it is mature. D's own month is never mature (for W >= 1). Headlines (the overview card, the "
        "weekly briefing and any change from the month before) compare the latest two mature months only; the "
        "current month's figure is shown as provisional.",
        (
            "month", "category", "records", "objected", "upheld", "subjective", "ratio", "upheld_ratio",
            "subjective_ratio", "mature", "mature_on",
        ),
        json_columns=("month", "category", "records", "objected", "upheld", "subjective", "ratio", "mature"),
    )
)  # fmt: skip
_register(
    Metric(
        "risk_warnings",
        "信用风险预警",
        "（工作要点第十五项）按统一社会信用代码统计截至统计日D：近12个月处罚数＝处罚决定日期在（D前推一年，D]内的处罚记录数"
        "（D为2月29日时前推至上一年2月28日，不含该日）；近12个月处罚部门数＝其中不同处罚机关数；"
        "严重失信名单数＝D时有效的不同名单名称数。处罚数≥60（penalties_60）、部门数≥3（departments_3）"
        "或名单数≥2（severe_lists_2）即预警，阈值可在设置中调整。只列出预警主体；无信用代码的自然人不纳入。"
        "名称取名录名称，其次为最近一次处罚的当事人名称或名单名称；行业不在名录中的记为“未登记”。",
        "Seed item 十五, per credit code at D: penalties_12m = penalty records with (D minus one year) < "
        "decision_date <= D (for D = 29 Feb the bound is 28 Feb of the previous year); departments_12m = distinct "
        "authority among them; severe_lists = distinct list_name in force at D. Warned when penalties_12m >= "
        "warn_penalties (penalties_60), departments_12m >= warn_departments (departments_3) or severe_lists >= "
        "warn_severe_lists (severe_lists_2); reasons lists the codes in that order. Only warned codes are output; "
        "natural persons (no credit code) are excluded. name = register name, else the latest penalty's "
        "subject_name, else the list's name; sector = register sector or 未登记.",
        ("credit_code", "name", "sector", "district", "penalties_12m", "departments_12m", "severe_lists", "reasons"),
        json_columns=("credit_code", "name", "sector", "penalties_12m", "departments_12m", "severe_lists", "reasons"),
    )
)
_register(
    Metric(
        "risk_warnings_week",
        "信用风险预警周变化",
        "统计日D及其前7天（D为周日时即上周日）两个日期的“信用风险预警”（risk_warnings），一次查询得出："
        "列出在D或D前7天任一日期预警的主体，每户一行；除最后两列外各列均为D时risk_warnings的取值，口径与之完全相同"
        "（近12个月处罚数＝处罚决定日期在（D前推一年，D]内的处罚记录数，D为2月29日时前推至上一年2月28日，不含该日；"
        "近12个月处罚部门数＝其中不同处罚机关数；严重失信名单数＝D时有效的不同名单名称数；预警原因同前，仅在D前7天预警的主体为空）。"
        "warned＝D时预警；warned_week_before＝以D前7天为统计日时按同一口径预警。无信用代码的自然人不纳入；"
        "排序与risk_warnings相同，D时预警的行在前。用于周报的本周新增（D时预警、前7天未预警）和解除（反之）预警主体。",
        "risk_warnings at D and at D - 7 (the Sunday before, for a Sunday D) in one query: one row per credit "
        "code warned at either date. Every column but the last two is risk_warnings' at D, by exactly its "
        "conditions (penalties_12m = penalty records with (D minus one year) < decision_date <= D, for D = 29 Feb "
        "the bound is 28 Feb of the previous year; departments_12m = distinct authority among them; severe_lists "
        "= distinct list_name in force at D; reasons as there, empty for a code warned only at D - 7). warned = "
        "risk_warnings lists the code at D; warned_week_before = it lists it at D - 7 (the same conditions read at "
        "D - 7). Natural persons (no credit code) excluded. Rows in risk_warnings' order, those warned at D first. "
        "Feeds the weekly briefing's new (warned at D, not at D - 7) and lifted (the reverse) warnings.",
        (
            "credit_code", "name", "sector", "district", "penalties_12m", "departments_12m", "severe_lists",
            "reasons", "warned", "warned_week_before",
        ),
    )
)  # fmt: skip
_register(
    Metric(
        "sector_risk",
        "行业处罚强度",
        "统计期内每月、按行业：处罚数＝处罚决定日期在该月且不晚于统计日的处罚记录数，按信用代码关联名录取行业"
        "（不在名录中的主体及自然人记为“未登记”，仅在有记录的月份出现）；主体数＝月末E该行业存续的登记主体数；"
        "每百户处罚数＝处罚数÷主体数×100，主体数为0时为空。名录中的每个行业每月都出现（无处罚记为0）。",
        "Per month of the window and per sector: penalties = penalty records with decision_date in the month "
        "and <= D, by the register sector of their entity (joined on credit_code; records outside the register, "
        "natural persons included, go to 未登记, shown only in months that have some); entities = active "
        "registered entities of the sector at the month end E; per_100 = penalties / entities * 100 (null when "
        "entities is 0). Every register sector appears every month.",
        ("month", "sector", "penalties", "entities", "per_100"),
    )
)
_register(
    Metric(
        "sector_warnings",
        "各行业风险预警主体数",
        "统计期内每月、按行业：预警主体数＝以月末E为统计日时“信用风险预警”（risk_warnings）列出的主体数，口径与之完全相同："
        "近12个月处罚数＝处罚决定日期在（E前推一年，E]内的处罚记录数，近12个月处罚部门数＝其中不同处罚机关数，"
        "严重失信名单数＝E时有效的不同名单名称数，任一达到阈值即预警；无信用代码的自然人不纳入。"
        "月末E为该月最后一天，统计日所在月取统计日。行业取名录行业，不在名录中的记为“未登记”。"
        "名录中的每个行业每月都出现（无预警记为0）；“未登记”在统计期内任一月有预警主体时每月都出现。",
        "Per month of the window and per sector: value = how many credit codes risk_warnings lists with the "
        "month end E as its as-of date, by exactly its conditions: penalties_12m = penalty records with (E minus "
        "one year) < decision_date <= E, departments_12m = distinct authority among them, severe_lists = distinct "
        "list_name in force at E; warned when any reaches its threshold (warn_penalties, warn_departments, "
        "warn_severe_lists); natural persons (no credit code) excluded. E is the month's last day, or D in D's own "
        "month. sector = register sector, else 未登记. Every register sector appears every month (0 when none); "
        "未登记 appears every month once it has a warned code in any month of the window.",
        ("month", "sector", "value"),
    )
)
_register(
    Metric(
        "district_risk",
        "各区处罚强度",
        "按区统计整个统计期：处罚数＝处罚决定日期自统计期首月1日至统计日的处罚记录数，按名录所在区归集"
        "（不在名录中的记为“未登记”）；主体数＝统计日存续的登记主体数；每百户处罚数＝处罚数÷主体数×100，主体数为0时为空。",
        "Per register district over the whole window: penalties = penalty records with decision_date from the "
        "first day of the window's first month to D, by the register district of their entity (未登记 for "
        "records outside the register); entities = registered entities active at D; per_100 = penalties / "
        "entities * 100 (null when entities is 0).",
        ("district", "penalties", "entities", "per_100"),
    )
)
_register(
    Metric(
        "unmatched",
        "未匹配记录",
        "不论日期：名单＝信用代码不在名录中的严重失信名单记录数；异议＝文书号在其类别（行政处罚/行政许可）已存记录中找不到的异议数；"
        "处罚＝带有信用代码但该代码不在名录中的处罚记录数（无信用代码的不计）。",
        "Whatever their dates: severe_list = list records whose credit code is not in the register; objections = "
        "objections whose doc_no matches no stored record of their category; penalties = penalty records that "
        "carry a credit code not in the register (null codes not counted).",
        ("severe_list", "objections", "penalties"),
    )
)
_register(
    Metric(
        "severe_entities",
        "严重失信主体明细",
        "在给定日期（通常为某月月末E）有效的每条严重失信名单记录（列入日期≤E，且未移出或移出日期>E），"
        "附名录中的名称、行业和所在区；信用代码不在名录中的记录保留名单上的名称，行业、所在区记为“未登记”。",
        "One row per severe-list record in force at the given date (usually a month end E: listed_on <= E and "
        "removed_on null or > E), with the register name, sector and district of its entity; codes not in the "
        "register keep the list's name and get sector and district 未登记.",
        (
            "credit_code", "name", "sector", "district", "list_name", "listed_on", "removed_on", "department",
            "reason", "in_register",
        ),
    )
)  # fmt: skip
_register(
    Metric(
        "objection_departments",
        "各部门信用异议比例",
        "按作出决定的机关统计统计期内已过异议期的月份（处罚/许可决定日期自统计期首月1日至统计日，且所在月已过异议期，"
        "口径同“信用异议比例”的mature）：记录数、被异议数、异议成立数、主观失误数（口径同“信用异议比例”），"
        "异议比例＝被异议数÷记录数，按异议比例从高到低排列。异议期内的月份不计入，以免决定较晚的部门显得异议较少。",
        "Per issuing authority over the window's mature decision months (penalty and license records with "
        "decision_date from the first day of the window's first month to D whose month is mature at D, as in "
        "objection_ratio's mature): records, objected, upheld and subjective counted as in objection_ratio; "
        "ratio = objected / records, upheld_ratio = upheld / records; highest ratio first. Immature months are "
        "left out so that departments deciding late in the window do not look better by construction.",
        ("authority", "records", "objected", "upheld", "subjective", "ratio", "upheld_ratio"),
    )
)
_register(
    Metric(
        "objection_delay",
        "异议提出时滞",
        "统计期内作出决定（处罚/许可决定日期自统计期首月1日至统计日）、且在统计日前（含当日）被提出异议的记录"
        "（文书号和类别一致）：时滞天数＝该记录第一条异议的提出日期－决定日期。第一条异议早于决定日期的记录"
        "（数据错误）计入before_decision，不参与其余统计。objected＝其余记录数；p50_days、p90_days＝时滞的"
        "最近秩分位数（从小到大第⌈q×objected⌉个值，即至少q比例的记录在该天数内被提出异议）；max_days＝最大时滞；"
        "within_window＝时滞≤异议期W天的记录数，within_share＝within_window÷objected（objected为0时为空）。"
        "供设定异议期W（CREDIT_OBJECTION_WINDOW_DAYS）参考。",
        "One row, over the penalty and license records decided in the window (decision_date from the first day "
        "of the window's first month to D) with an objection filed on or before D (same doc_no and category): "
        "days = the first such objection's filed_on - decision_date. Records whose first objection is dated "
        "before the decision (a data error) are counted in before_decision and left out of the rest. objected = "
        "the other records; p50_days and p90_days = nearest-rank quantiles of days (the ceil(q * objected)-th "
        "smallest value, so at least a share q were objected within that many days); max_days; within_window = "
        "records with days <= W (CREDIT_OBJECTION_WINDOW_DAYS), within_share = within_window / objected (null "
        "when objected is 0). Lets the bureau set W from its own records.",
        ("objected", "p50_days", "p90_days", "max_days", "within_window", "within_share", "before_decision"),
    )
)
_register(
    Metric(
        "objection_rate",
        "异议发生率",
        "统计期内每月、按信息类别（行政处罚、行政许可、全部）：异议数＝该类别提出日期在该月且不晚于统计日的异议数"
        "（不论所指记录何时作出、能否匹配，即当月收到的异议件数）；记录数＝该类别决定日期在该月且不晚于统计日的"
        "公示记录数（同“信用异议比例”）；异议发生率＝异议数÷记录数×1000（每千条公示信息的异议件数），记录数为0时为空。"
        "这是部分单位采用的“流量”口径：不追踪某月决定的后续异议，故无需等待异议期；与按决定月份追踪的"
        "“信用异议比例”（存量口径）含义不同，两者并列显示。",
        "The flow reading some offices report. Per month of the window and per category (行政处罚, 行政许可, "
        "全部 = both): filed = objections of the category with filed_on in the month and <= D, whatever record "
        "they name and whenever it was decided (unmatched ones included: objections received); records = "
        "records of the category with decision_date in the month and <= D (published that month, as in "
        "objection_ratio); per_1000 = filed / records * 1000 (null when records is 0). It does not follow a "
        "month's decisions, so it needs no maturity; it is not the cohort ratio objection_ratio, and both are "
        "shown, named apart.",
        ("month", "category", "filed", "records", "per_1000"),
    )
)
_register(
    Metric(
        "objections_overdue",
        "超时未办结异议",
        "提出日期不晚于统计日、处理结果为“处理中”且办理时限早于统计日的异议；超期天数＝统计日－办理时限。",
        "Objections filed on or before D whose stored result is 处理中 (open) and whose deadline is before D; "
        "days_overdue = D - deadline. Most overdue first.",
        ("objection_id", "doc_no", "category", "filed_on", "deadline", "days_overdue"),
    )
)
_register(
    Metric(
        "progress_history",
        "工作要点进展历史",
        "填报日期不晚于统计日的全部进展填报记录，用于进度随时间变化的图表。",
        "Every progress report dated on or before D, for progress-over-time charts.",
        ("point_id", "report_date", "progress", "status"),
    )
)
_register(
    Metric(
        "dataset_status",
        "数据集状态",
        "每个可上传数据集：行数；最近一次成功导入（状态为 loaded）的上传时间；主要日期列的最大值"
        "（进展：填报日期；名录：成立日期；名单：列入日期；处罚、许可：决定日期；异议：提出日期）。与统计日无关。",
        "Per uploadable dataset: rows stored; last_upload = latest uploaded_at of its uploads with status "
        "'loaded'; latest_date = max of its main date column (progress.report_date, entities.established, "
        "severe_list.listed_on, penalties/licenses.decision_date, objections.filed_on). Independent of D.",
        ("dataset", "rows", "last_upload", "latest_date"),
    )
)

_register(
    Metric(
        "weekly_penalties",
        "每周行政处罚数",
        "自统计期首月1日所在周至统计日所在周，每周（周一至周日）：处罚数＝处罚决定日期在该周且不晚于统计日的处罚记录数"
        "（统计日不是周日时末周只计到统计日）；周次按ISO周记为“2022-W51”。每周都出现（无处罚记为0）。"
        "行业、所在区筛选按名录归集（不在名录中的记为“未登记”）。用于周报的“本周新增行政处罚”及其周环比。",
        "Per week (Monday to Sunday) from the week holding the first day of the window's first month to the week "
        "holding D: penalties = penalty records with decision_date in the week and <= D (so the last week counts "
        'up to D when D is not a Sunday); week is the ISO week ("2022-W51"), week_start its Monday, week_end its '
        "Sunday. Every week appears (0 when none). Sector and district filters use the register (未登记 outside "
        "it). Feeds the weekly briefing's new penalties and their week-on-week change.",
        ("week", "week_start", "week_end", "penalties"),
    )
)

_register(
    Metric(
        "coverage",
        "数据覆盖期",
        "每个数据集被其各次成功导入（状态为 loaded，撤销的不计）所声明的覆盖期之并集，按连续时段逐行列出。"
        "每次导入的覆盖期：工作要点进展、行政处罚、行政许可、信用异议为文件中主要日期（填报日期、决定日期、提出日期）"
        "的最早至最晚一天，分析员另有声明时（ingest --covers、上传页的“覆盖期”）以声明为准，其间没有记录的日子也算已覆盖；"
        "市场主体名录和严重失信名单为快照日期（默认上传当天）。首尾相接（后一段起始日不晚于前一段截止日的次日）的覆盖期合为一段，"
        "两段之间无人覆盖的日子是缺口。某月（周、日）完全不在数据集覆盖期内时，依赖该数据集的指标取值为空（“未覆盖”），不是0。"
        "默认统计日＝行政处罚与行政许可均已覆盖到的最后一天（只有其一有数据时取其一；都没有时取其他数据集覆盖到的最后一天），"
        "不晚于今天；办结日期等次要日期列不会推后默认统计日。与统计日无关。",
        "Per dataset, the union of the periods its loaded uploads cover (undone uploads cover nothing), one row "
        "per continuous period. An upload of progress, penalties, licenses or objections covers its earliest to "
        "its latest main date (report_date, decision_date, filed_on) unless the analyst states the period "
        "(ingest --covers, the upload page's field): a stated day without records is still covered. An upload "
        "of the register or the lists covers its snapshot date (the upload day unless given). Periods that "
        "overlap or touch (the next starts at most one day after the last ends) are one; a day no upload covers "
        "is a gap. A metric value whose month, week or day lies wholly outside the coverage of the dataset it "
        "counts is null (not covered), never 0. The default as-of date is the latest date through which both "
        "penalties and licenses are covered (when only one of them holds data, that one; when neither, the "
        "latest date any other dataset covers), never after today; secondary dates such as closed_on never move "
        "it. Independent of D.",
        ("dataset", "covered_from", "covered_through"),
    )
)

# Metrics in the CLI JSON object, in order (work_points and unmatched are shaped specially).
CLI_METRICS = (
    "work_points", "severe_share", "objection_ratio", "risk_warnings", "sector_risk", "district_risk", "unmatched",
)  # fmt: skip


def months_window(as_of: date, months: int) -> list[str]:
    """The ``months`` calendar months ending with as_of's month, as "YYYY-MM", oldest first."""
    if months < 1:
        raise ValueError("months must be at least 1")
    end = as_of.year * 12 + as_of.month - 1
    return [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(end - months + 1, end + 1)]


def _as_date(value: date) -> date:
    return value.date() if isinstance(value, datetime) else value


def params_for(
    metric: Metric,
    as_of: date,
    months: int = 12,
    sector: str | None = None,
    district: str | None = None,
    settings: Settings | None = None,
) -> dict[str, Any]:
    """The named parameters to bind: only those the metric's SQL uses."""
    if months < 1:
        raise ValueError("months must be at least 1")
    wanted = metric.params
    available: dict[str, Any] = {
        "as_of": _as_date(as_of),
        "months": int(months),
        "sector": sector or None,
        "district": district or None,
    }
    if "objection_window_days" in wanted:
        settings = settings or load_settings()
        if settings.objection_window_days < 0:
            raise ValueError(f"异议期天数（CREDIT_OBJECTION_WINDOW_DAYS）不能为负数：{settings.objection_window_days}")
        available["objection_window_days"] = int(settings.objection_window_days)
    if wanted & {"warn_penalties", "warn_departments", "warn_severe_lists"}:
        settings = settings or load_settings()
        available.update(
            warn_penalties=settings.warn_penalties,
            warn_departments=settings.warn_departments,
            warn_severe_lists=settings.warn_severe_lists,
        )
    missing = wanted - available.keys()
    if missing:
        raise KeyError(f"query {metric.name} uses unknown parameters: {sorted(missing)}")
    return {k: available[k] for k in wanted}


def metric_files() -> list[Path]:
    """The metric queries in QUERIES_DIR: every .sql file but the shared macros (names starting with '_')."""
    return sorted(p for p in QUERIES_DIR.glob("*.sql") if not p.name.startswith("_"))


_macros_sql: str | None = None


# Connections that hold the macros already: they are temporary, so they last as long as the connection, and
# creating them again for every query cost ~9 ms each. Metrics never run inside a writer's transaction, whose
# rollback would drop them.
_with_macros: weakref.WeakSet = weakref.WeakSet()


def create_macros(con) -> None:
    """Create the shared macros on ``con``: temporary, so per connection, and possible on read-only ones."""
    global _macros_sql
    if con in _with_macros:
        return
    if _macros_sql is None:
        _macros_sql = MACROS_PATH.read_text(encoding="utf-8")
    con.execute(_macros_sql)
    _with_macros.add(con)


def _execute(con, metric: Metric, params: dict[str, Any]):
    create_macros(con)
    return con.execute(metric.sql, params)


def _metric(name: str) -> Metric:
    try:
        return METRICS[name]
    except KeyError:
        raise KeyError(f"unknown metric {name!r}; known: {sorted(METRICS)}") from None


def run(
    con,
    name: str,
    as_of: date,
    months: int = 12,
    sector: str | None = None,
    district: str | None = None,
    settings: Settings | None = None,
) -> pd.DataFrame:
    """Run the named metric query and return its rows as a DataFrame."""
    metric = _metric(name)
    params = params_for(metric, as_of, months, sector, district, settings)
    return _execute(con, metric, params).df()


def records(
    con,
    name: str,
    as_of: date,
    months: int = 12,
    sector: str | None = None,
    district: str | None = None,
    settings: Settings | None = None,
) -> list[dict[str, Any]]:
    """Like ``run`` but as JSON-ready dicts: dates as "YYYY-MM-DD", NaN as None, lists as lists."""
    metric = _metric(name)
    params = params_for(metric, as_of, months, sector, district, settings)
    cur = _execute(con, metric, params)
    cols = [d[0] for d in cur.description]
    rows = cur.fetchall()
    return [{c: _json_value(v) for c, v in zip(cols, row, strict=True)} for row in rows]


def _json_value(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    return value


def summarize_work_points(points: list[dict[str, Any]]) -> dict[str, Any]:
    """Totals over the work_points rows (21 at most): counts per status, overdue, mean progress."""
    statuses = [p["status"] for p in points]
    total = len(points)
    mean = round(sum(float(p["progress"] or 0) for p in points) / total, 1) if total else None
    return {
        "total": total,
        "completed": statuses.count("已完成"),
        "in_progress": statuses.count("推进中"),
        "lagging": statuses.count("滞后"),
        "not_started": statuses.count("未启动"),
        "overdue": sum(1 for p in points if p["overdue"]),
        "mean_progress": mean,
    }


def section_rollup(points: pd.DataFrame) -> pd.DataFrame:
    """Per section of the work_points rows: mean progress, completed, overdue and total points (the
    work-points page and the briefing)."""
    if points.empty:
        import pandas as pd  # here: the caller has it loaded, the CLI starts without it (see the imports)

        return pd.DataFrame(columns=["section", "section_title", "progress", "completed", "overdue", "total"])
    return (
        points.groupby(["section", "section_title"], as_index=False)
        .agg(
            progress=("progress", "mean"),
            completed=("status", lambda s: int((s == "已完成").sum())),
            overdue=("overdue", "sum"),
            total=("id", "count"),
        )
        .astype({"overdue": int})
    )


def compute_all(con, as_of: date, months: int = 12, settings: Settings | None = None) -> dict[str, Any]:
    """The JSON object of the command line's ``metrics`` command."""
    as_of = _as_date(as_of)
    settings = settings or load_settings()
    out: dict[str, Any] = {"as_of": as_of.isoformat(), "months": months_window(as_of, months)}
    cov = coverage.load(con)
    first_day = date.fromisoformat(out["months"][0] + "-01")
    for name in CLI_METRICS:
        # Values of a period the data does not cover are null, not 0 (coverage.mask_records).
        rows = coverage.mask_records(cov, name, records(con, name, as_of, months, settings=settings), as_of, first_day)
        if name == "work_points":
            out[name] = {**summarize_work_points(rows), "points": rows}
        elif name == "unmatched":
            out[name] = rows[0]
        else:
            keep = METRICS[name].json_columns
            if keep is not None and coverage.STATE_COLUMN in (rows[0] if rows else {}):
                keep = (*keep, coverage.STATE_COLUMN)
            out[name] = rows if keep is None else [{k: r[k] for k in keep} for r in rows]
    out["coverage"] = cov.as_json()
    return out


def run_rows(con, name: str) -> list[tuple]:
    """A parameterless metric's rows as tuples (coverage, dataset_status): no pandas needed."""
    metric = _metric(name)
    return _execute(con, metric, params_for(metric, date.today())).fetchall()


def default_as_of(con, today: date | None = None) -> date:
    """The latest date the activity data covers (coverage.default_as_of): through which both penalties and
    licences are covered, never after today; today when there is no data."""
    today = _as_date(today) if today is not None else date.today()
    return coverage.default_as_of(coverage.load(con), today)


_MACRO = re.compile(r"((?:^--.*\n)+)CREATE OR REPLACE TEMP MACRO (\w+)", re.M)


def macro_docs() -> list[tuple[str, str]]:
    """(name, its comment) of each macro in _macros.sql, in file order: the comment above it, as one line."""
    text = MACROS_PATH.read_text(encoding="utf-8")
    docs = []
    for comment, name in _MACRO.findall(text):
        body = " ".join(line.removeprefix("--").strip() for line in comment.splitlines())
        label, _, rest = body.partition(": ")  # "a / b / c: …" documents several macros at once
        docs.append((label, rest) if name in label else (name, body))
    return docs


def render_docs() -> str:
    """docs/metrics.md, generated from the registry."""
    lines = [
        "# 指标口径 / Metric definitions",
        "",
        "本文件由 `analytics/compute/metrics.py` 的指标注册表生成（`python -m analytics.compute.metrics`），请勿手工修改。",
        "Generated from the registry in `analytics/compute/metrics.py` (`python -m analytics docs`); do not edit by hand.",
        "",
        "Every metric is one SQL file in `analytics/compute/queries/<name>.sql` with DuckDB named parameters. "
        "D is the as-of date; the window is the N calendar months ending with D's month; a month's end E is its "
        "last day, or D for D's own month. An entity is active at day X if established <= X and (deregistered "
        "is null or deregistered > X); a list record is in force at X if listed_on <= X and (removed_on is null "
        "or removed_on > X).",
        "",
        "Definitions shared by several queries are DuckDB macros in `analytics/compute/queries/_macros.sql`, created on "
        "the connection before each query and used by name:",
        "",
        *(f"- {' / '.join(f'`{n}`' for n in label.split(' / '))}: {text}" for label, text in macro_docs()),
        "",
        "### 主体与名录的匹配 / How a record's subject is matched to the register",
        "",
        "Every query that joins a list, penalty or licence record to the register reads `list_subjects()`, "
        "`penalty_subjects()` or `license_subjects()`: the record's credit code is the register's when any "
        "method below matched it (`analytics/intake/matching.py`).",
        "",
        *matching.__doc__.split("\n\n", 1)[1].strip().splitlines(),
        "",
    ]
    for metric in METRICS.values():
        params = ", ".join(f"`${p}`" for p in sorted(metric.params)) or "—"
        lines += [
            f"## {metric.name} — {metric.title_zh}",
            "",
            f"- 查询 / query: `analytics/compute/queries/{metric.name}.sql`",
            f"- 参数 / parameters: {params}",
            f"- 输出列 / columns: {', '.join(f'`{c}`' for c in metric.columns)}",
            "",
            f"**口径**：{metric.definition_zh}",
            "",
            f"**Definition**: {metric.definition_en}",
            "",
        ]
    return "\n".join(lines)


def write_docs(path: Path = DOCS_PATH) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_docs(), encoding="utf-8")
    return path


if __name__ == "__main__":
    print(write_docs())
