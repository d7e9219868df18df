"""Documentation generated from the code, so the two cannot drift apart.

``python -m analytics docs`` rewrites docs/datasets.md; a test fails when the
file in the repository differs from what the code says.
"""

from __future__ import annotations

from analytics.intake.datasets import ANY_ID, DATASETS, DOC, ORG_CODE, REG_NO, ROW_COUNTER, SUBJECT_CODE, Dataset
from analytics.settings import PROJECT_ROOT

DATASETS_MD = PROJECT_ROOT / "docs" / "datasets.md"

KIND_ZH = {
    "text": "文本",
    "name": "名称（全角/空格规范化）",
    "credit_code": "统一社会信用代码（GB 32100-2015 校验）",
    DOC: "编号（去空格、大写）",
    "date": "日期",
    "amount": "金额（万元）",
    "percent": "百分比 0–100",
    "point_id": "要点编号 1–21",
    "choice": "枚举",
    "bool": "是/否",
    "deadline": "日期或天数",
    "id_no": "证件号码（仅存脱敏值）",
    SUBJECT_CODE: "统一社会信用代码，可为打码形式（如 91230199744****927K）",
    ORG_CODE: "组织机构代码（GB 11714 校验，可带连字符）",
    REG_NO: "工商注册号（15 位，MOD 11,10 校验）",
    ANY_ID: "统一社会信用代码、组织机构代码、工商注册号或身份证号码（按形状识别）",
}


# Key parts the loader computes rather than reads.
KEY_LABELS = {
    "subject_key": "主体（统一社会信用代码，否则组织机构代码、工商注册号；打码代码或证件号码连同名称；否则名称）",
}


def _dataset_section(dataset: Dataset) -> str:
    key = " + ".join(KEY_LABELS.get(k) or dataset.column(k).label for k in dataset.key)
    lines = [
        f"## `{dataset.name}` — {dataset.title}",
        "",
        dataset.description,
        "",
        f"- Key (upsert): {key}",
        f"- Uploadable: {'yes' if dataset.uploadable else 'no (reference data shipped in data/)'}",
    ]
    if dataset.subject_rule:
        lines.append("- 统一社会信用代码 is required unless 行政相对人类别 is 自然人; ID numbers are stored masked.")
    lines += [f"- {note}" for note in dataset.notes]
    lines += ["", "| column | required | kind | accepted headers |", "|---|---|---|---|"]
    for col in dataset.columns:
        kind = KIND_ZH[col.kind] + (f"：{'/'.join(col.choices)}" if col.choices else "")
        headers = "、".join(col.headers)
        kind += "；可整个文件统一填写（--set）" if col.one_per_file else ""
        lines.append(f"| `{col.name}` | {'yes' if col.required else ''} | {kind} | {headers} |")
    return "\n".join(lines)


def render_datasets_md() -> str:
    intro = (
        "# Datasets\n\n"
        "Generated from `analytics/intake/datasets.py` by `python -m analytics docs`; do not edit by hand.\n\n"
        "Headers are matched after NFKC normalisation (full-width brackets and spaces), case-folding and "
        "trimming. Columns not listed here are kept in each row's `extra` JSON and named in the upload log, "
        f"except a {ROW_COUNTER} column (the export's row counter), which is dropped.\n"
    )
    return intro + "\n" + "\n\n".join(_dataset_section(d) for d in DATASETS.values()) + "\n"


def write_docs() -> list[str]:
    DATASETS_MD.parent.mkdir(exist_ok=True)
    DATASETS_MD.write_text(render_datasets_md(), encoding="utf-8")
    return [str(DATASETS_MD)]
