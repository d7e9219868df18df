"""Chinese labels for the metrics' English column names and codes."""

from __future__ import annotations

import re

import pandas as pd

COLUMNS = {
    "id": "编号",
    "title": "工作要点",
    "section": "部分",
    "section_title": "所属部分",
    "progress": "完成进度(%)",
    "status": "状态",
    "planned_date": "计划完成日期",
    "overdue": "是否逾期",
    "report_date": "填报日期",
    "note": "最新进展",
    "lead_unit": "牵头单位",
    "responsible_units": "责任单位",
    "point_id": "要点编号",
    "month": "月份",
    "sector": "行业",
    "district": "所在区",
    "entities": "主体数(户)",
    "severe": "严重失信主体数(户)",
    "share": "占比",
    "category": "信息类别",
    "records": "公示信息数(条)",
    "objected": "异议数(件)",
    "upheld": "异议成立数(件)",
    "subjective": "主观失误数(件)",
    "ratio": "异议占比",
    "upheld_ratio": "异议成立率",
    "subjective_ratio": "主观失误率",
    "mature": "已过异议期",
    "mature_on": "异议期届满日",
    "filed": "当月提出异议数(件)",
    "per_1000": "异议发生率(件/千条)",
    "credit_code": "统一社会信用代码",
    "name": "主体名称",
    "penalties_12m": "近一年处罚数(件)",
    "departments_12m": "近一年处罚部门数(个)",
    "severe_lists": "严重失信名单数(个)",
    "reasons": "预警原因",
    "penalties": "处罚数(件)",
    "per_100": "每百户处罚数(件)",
    "list_name": "名单名称",
    "listed_on": "列入日期",
    "department": "认定部门",
    "reason": "列入事由",
    "authority": "处罚/许可机关",
    "objection_id": "异议编号",
    "doc_no": "决定文书号",
    "filed_on": "异议提出日期",
    "deadline": "办理时限",
    "days_overdue": "超期天数",
    "dataset": "数据集",
    "rows": "记录数(条)",
    "last_upload": "最近上传时间",
    "latest_date": "数据最新日期",
    "value": "数值",
    "change": "环比变化",
    "uploaded_at": "上传时间",
    "user_name": "上传人",
    "file_name": "文件名",
    "encoding": "编码",
    "rows_read": "读取行数",
    "loaded": "新增",
    "updated": "更新",
    "unchanged": "未变",
    "rejected": "拒收",
    "message": "说明",
    "coverage": "数据覆盖",
}
# The coverage column of a masked metric (analytics.compute.coverage): blank when fully covered.
COVERAGE_WORDS = {"full": "", "partial": "部分覆盖", "none": "未覆盖（无数据，非0）"}

UPLOAD_STATUS = {"loaded": "已入库", "refused": "已拒收", "undone": "已撤销"}

# How a list's or a record's subject was identified (ingest's identified_by, severe_list.identified_by).
IDENTIFIED_BY = {
    "credit_code": "统一社会信用代码",
    "org_code": "组织机构代码",
    "reg_no": "工商注册号",
    "masked_code": "打码的信用代码",
    "id_no": "身份证号码",
    "name": "仅名称",
}


def reason_label(code: str) -> str:
    """'penalties_60' → 一年内处罚60次以上, and so on (seed item 十五)."""
    m = re.fullmatch(r"(penalties|departments|severe_lists)_(\d+)", str(code))
    if not m:
        return str(code)
    kind, n = m.group(1), int(m.group(2))
    if kind == "penalties":
        return f"一年内处罚{n}次以上"
    if kind == "departments":
        return f"{n}个及以上部门处罚"
    return "列入多个严重失信名单"


def reasons_text(codes) -> str:
    if codes is None or isinstance(codes, float):
        return ""
    if isinstance(codes, str):
        codes = [codes]
    return "；".join(reason_label(c) for c in codes)


def chinese(df: pd.DataFrame, extra: dict[str, str] | None = None) -> pd.DataFrame:
    """A copy with Chinese column headers, for tables and downloads."""
    mapping = {**COLUMNS, **(extra or {})}
    if "coverage" in df.columns:  # downloads mark the rows the data does not cover
        df = df.assign(coverage=df["coverage"].map(lambda v: COVERAGE_WORDS.get(v, v)))
    return df.rename(columns={c: mapping.get(c, c) for c in df.columns})
