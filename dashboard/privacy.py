"""Who sees identifiers: the one place that masks entity-level data for viewers.

Every table, download and hover that carries entity-level data goes through
``mask_frame(df, user)``. A user who may see identifiers (analysts, admins and
the demo mode's user) gets the frame unchanged; anybody else (viewers, or no
user at all) gets a copy where

- 统一社会信用代码 columns keep their first 6 and last 2 characters;
- personal ID numbers (证件号码, stored masked already) keep the first 3 and last 2;
- phone numbers keep the first 3 and last 4 digits;
- natural persons' names keep their first character: 法定代表人 always, and the
  subject's name on rows whose 行政相对人类别 is 自然人;
- any other text cell has 18-character codes, ID numbers and mobile numbers
  inside it masked the same way (free text such as 列入事由 can quote them).

Columns are recognised by their canonical names (``credit_code``, ``id_no``,
``legal_rep_id_no`` …) and by every Chinese header the datasets accept, so a
frame already relabelled for display is masked as well. Charts are built from
aggregated numbers; a chart drawn from entity-level rows must take them from
``mask_frame`` first, so its hovers are masked too.

Pure: no streamlit import.
"""

from __future__ import annotations

import re

import pandas as pd

from analytics import normalize
from analytics.intake.datasets import DATASETS

NATURAL_PERSON = "自然人"

# Canonical column names by what they hold.
CODE_COLUMNS = frozenset({"credit_code", "authority_code", "source_unit_code"})
ID_COLUMNS = frozenset({"id_no", "legal_rep_id_no"})
PHONE_COLUMNS = frozenset({"phone", "mobile", "telephone", "contact_phone"})
PERSON_COLUMNS = frozenset({"legal_rep"})  # always a natural person's name
SUBJECT_NAME_COLUMNS = frozenset({"subject_name", "name"})  # a person's name when the subject is 自然人
SUBJECT_TYPE_COLUMNS = frozenset({"subject_type"})

# Chinese headers that hold phone numbers (no dataset declares one; unknown columns can).
_PHONE_HEADERS = ("联系电话", "电话", "电话号码", "手机", "手机号", "手机号码", "联系方式", "联系人电话")
# Display labels of dashboard tables (dashboard.labels) that are not dataset headers.
_LABELS = {"统一社会信用代码": "credit_code", "主体名称": "name"}

# Inside free text (列入事由, 违法事实 …) identifiers are written every which way: an ID number as
# 350203 19900101 1234, IDNO350203199001011234 or with a lower-case x; a phone as +8613812345678,
# 138-1234-5678, (+86) 138 1234 5678 or 0592-1234567. A letter before a number is no boundary.
_SEP = r"[ \t\u3000-]?"
_ID_PATTERN = re.compile(
    rf"(?<!\d)\d{{6}}{_SEP}(?:19|20)\d{{2}}{_SEP}\d{{4}}{_SEP}\d{{3}}[\dXx](?!\d)|(?<!\d)\d{{15}}(?!\d)"
)
_CODE_PATTERN = re.compile(r"(?<![0-9A-Z])(?=[0-9A-Z]*\d)[0-9A-Z]{18}(?![0-9A-Z])")
_PHONE_PATTERN = re.compile(
    r"(?<![\d+])(?:[(（]\s*\+?\s*86\s*[)）]\s*|\+?\s*86[ \t\u3000-]?)?1[3-9]\d(?:[ \t\u3000-]?\d){8}(?!\d)"
    r"|(?<!\d)(?:[(（]0\d{2,3}[)）]\s*|0\d{2,3}[ \t\u3000-])\d{7,8}(?!\d)"
)


def _kinds() -> dict[str, str]:
    """header_key of every name a column can have → its canonical name."""
    out: dict[str, str] = {}
    wanted = CODE_COLUMNS | ID_COLUMNS | PHONE_COLUMNS | PERSON_COLUMNS | SUBJECT_NAME_COLUMNS | SUBJECT_TYPE_COLUMNS
    for ds in DATASETS.values():
        for col in ds.columns:
            if col.name in wanted:
                for header in (col.name, *col.headers):
                    out.setdefault(normalize.header_key(header), col.name)
    for name in wanted:
        out.setdefault(normalize.header_key(name), name)
    for header in _PHONE_HEADERS:
        out.setdefault(normalize.header_key(header), "phone")
    for header, name in _LABELS.items():
        out.setdefault(normalize.header_key(header), name)
    return out


_KINDS = _kinds()


def column_kind(column: object) -> str | None:
    """The canonical name of a column (``credit_code``, ``id_no`` …) when it holds identifiers or names."""
    return _KINDS.get(normalize.header_key(column))


def _missing(value: object) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def mask_code(code: object, keep_start: int = 6, keep_end: int = 2) -> object:
    """统一社会信用代码 with the middle hidden: first 6 and last 2 characters kept.

    ``91350200MA2XXXXX12`` → ``913502**********12``. Empty values pass through;
    codes too short to hide anything are masked whole but keep their length.
    """
    if _missing(code):
        return code
    text = str(code).strip()
    if not text:
        return text
    if len(text) <= keep_start + keep_end:
        return "*" * len(text)
    return text[:keep_start] + "*" * (len(text) - keep_start - keep_end) + text[-keep_end:]


def mask_id(value: object) -> object:
    """A personal ID number: first 3 and last 2 characters kept (as it is stored)."""
    if _missing(value) or not str(value).strip():
        return value
    return normalize.mask_id_number(value)


def mask_phone(value: object) -> object:
    """138****5678: the first 3 and last 4 digits kept; other text is masked whole."""
    if _missing(value):
        return value
    text = str(value).strip()
    if not text:
        return text
    digits = re.sub(r"\D", "", text)
    if len(digits) >= 7:
        return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]
    return "*" * len(text)


def mask_name(value: object) -> object:
    """A natural person's name: 张三丰 → 张**."""
    if _missing(value) or not str(value).strip():
        return value
    return normalize.mask_person_name(value)


def mask_text(value: object) -> object:
    """Free text with any ID number, 18-character code or phone number inside it masked, in whatever
    form it is written (spaces, dashes, brackets, +86, a letter prefix, a lower-case x)."""
    if not isinstance(value, str) or not value:
        return value
    text = _ID_PATTERN.sub(lambda m: mask_id(re.sub(r"[^0-9Xx]", "", m.group(0))), value)
    text = _CODE_PATTERN.sub(lambda m: mask_code(m.group(0)), text)
    return _PHONE_PATTERN.sub(lambda m: _mask_phone_in_text(m.group(0)), text)


def _mask_phone_in_text(found: str) -> str:
    """A phone number found in text, as mask_phone shows it; a +86 country code is dropped first."""
    digits = re.sub(r"\D", "", found)
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return mask_phone(digits)


_MASKERS = {
    **dict.fromkeys(CODE_COLUMNS, mask_code),
    **dict.fromkeys(ID_COLUMNS, mask_id),
    **dict.fromkeys(PHONE_COLUMNS, mask_phone),
    **dict.fromkeys(PERSON_COLUMNS, mask_name),
}


def sees_identifiers(user) -> bool:
    """Whether ``user`` (a ``users.User`` or None) may see identifiers unmasked; no user never does."""
    return bool(user is not None and getattr(user, "can_see_identifiers", False))


def is_entity_level(df: pd.DataFrame) -> bool:
    """Whether the frame identifies entities or persons (an identifier or a subject's name column)."""
    return any(column_kind(c) not in (None, "subject_type") for c in df.columns)


def mask_frame(df: pd.DataFrame, user) -> pd.DataFrame:
    """``df`` as ``user`` may see it: unchanged for those who see identifiers, else a masked copy."""
    if sees_identifiers(user) or df is None:
        return df
    out = df.copy()
    kinds = [column_kind(c) for c in out.columns]
    person_rows = None
    for position, kind in enumerate(kinds):
        if kind in SUBJECT_TYPE_COLUMNS:
            is_person = out.iloc[:, position].astype(object).map(lambda v: str(v).strip() == NATURAL_PERSON)
            person_rows = is_person if person_rows is None else (person_rows | is_person)
    for position, kind in enumerate(kinds):
        column = out.iloc[:, position]
        if kind in _MASKERS:
            out.isetitem(position, column.astype(object).map(_MASKERS[kind]))
        elif kind in SUBJECT_NAME_COLUMNS and person_rows is not None and person_rows.any():
            values = column.astype(object)
            out.isetitem(position, values.where(~person_rows, values.map(mask_name)))
        elif column.dtype == object or pd.api.types.is_string_dtype(column.dtype):
            out.isetitem(position, column.astype(object).map(mask_text))
    return out


def mask_column(df: pd.DataFrame, column: str = "credit_code") -> pd.DataFrame:
    """Deprecated: ``mask_frame(df, user)`` decides by role. Masks one column as for a viewer."""
    if column not in df.columns:
        return df
    out = df.copy()
    out[column] = out[column].map(_MASKERS.get(column_kind(column) or "", mask_code))
    return out


def masked_note(user) -> str:
    """The caption under a table of entities: whether its identifiers are masked."""
    if sees_identifiers(user):
        return "统一社会信用代码完整显示（当前角色可查看）。"
    return "统一社会信用代码已脱敏显示（保留前6位和后2位），自然人姓名、证件号码和电话已隐去。"
