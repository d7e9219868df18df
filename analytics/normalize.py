"""Cleaning and parsing of single cell values, as real exports write them.

Every parser takes the cell as text (the reader turns Excel cells into text
first) and returns the parsed value, or raises ``Invalid`` with the reason in
Chinese. ``None`` means an empty cell.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta

CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_CODE_VALUE = {ch: i for i, ch in enumerate(CODE_ALPHABET)}

# Event dates before this are typos (19000101 and the like), not history.
EARLIEST_DATE = date(1949, 10, 1)
EXCEL_EPOCH = date(1899, 12, 30)

_SPACES = re.compile(r"\s+")
# The characters Python calls whitespace (str.isspace, what \s matches), spelled out for pyarrow's regexes.
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680"
    + "".join(map(chr, range(0x2000, 0x200B)))
    + "\u2028\u2029\u202f\u205f\u3000"
)


# Unicode category Cf, as columns.FORMAT_CHARACTERS removes it at ingestion: every value cleaned one by
# one drops them too (planes 0–1 and the tag characters of plane 14 hold all of them).
_FORMAT = re.compile(
    "["
    + "".join(
        re.escape(chr(c)) for c in (*range(0x20000), *range(0xE0000, 0xE1000)) if unicodedata.category(chr(c)) == "Cf"
    )
    + "]"
)


def without_format_characters(text: str) -> str:
    """``text`` without invisible format characters (bidi overrides, zero-width spaces, the BOM …)."""
    return _FORMAT.sub("", text)


class Invalid(ValueError):
    """A cell that breaks a rule; the message is shown to analysts as is."""


def header_key(header: object) -> str:
    """How headers are compared: NFKC, case-folded, no spaces or required-field stars."""
    text = unicodedata.normalize("NFKC", str(header)).casefold()
    return _SPACES.sub("", text).strip("*")


def clean_text(value: object) -> str | None:
    """NFKC (full-width letters, digits, brackets and spaces), trimmed, inner spaces folded."""
    if value is None:
        return None
    text = _SPACES.sub(" ", unicodedata.normalize("NFKC", without_format_characters(str(value)))).strip()
    return text or None


# What exports write in an empty date or number cell ("not applicable"), after clean_text.
PLACEHOLDERS = frozenset({"/", "-", "--", "—", "——", "无", "空", "暂无", "n/a", "na", "null", "none"})


def is_placeholder(value: object) -> bool:
    text = clean_text(value)
    return text is not None and text.casefold() in PLACEHOLDERS


def clean_code(value: object) -> str | None:
    """Codes and document numbers: like text, with no spaces at all and upper-cased."""
    text = clean_text(value)
    return text.replace(" ", "").upper() if text else None


def credit_code_check_char(first17: str) -> str:
    total = sum(_CODE_VALUE[ch] * w for ch, w in zip(first17, CODE_WEIGHTS, strict=True))
    return CODE_ALPHABET[(31 - total % 31) % 31]


def parse_credit_code(value: object) -> str | None:
    code = clean_code(value)
    if code is None:
        return None
    if len(code) != 18:
        raise Invalid(f"统一社会信用代码应为18位，实为{len(code)}位")
    bad = sorted({ch for ch in code if ch not in _CODE_VALUE})
    if bad:
        raise Invalid(f"统一社会信用代码含非法字符：{''.join(bad)}（不得使用 I、O、S、V、Z）")
    if credit_code_check_char(code[:17]) != code[17]:
        raise Invalid(f"统一社会信用代码校验位错误（应为 {credit_code_check_char(code[:17])}）")
    return code


_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_CODE = re.compile(r"^([0-9A-Z]{8})-?([0-9X])$")


def org_code_check_char(first8: str) -> str:
    """GB 11714: digits count as themselves, letters A=10 … Z=35; C = 11 − (Σ mod 11), 10 → X, 11 → 0."""
    total = sum(int(ch, 36) * w for ch, w in zip(first8, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)


def parse_org_code(value: object) -> str | None:
    """组织机构代码, as 9 characters without the hyphen real lists often print before the last one."""
    code = clean_code(value)
    if code is None:
        return None
    m = _ORG_CODE.match(code)
    if not m:
        raise Invalid(f"组织机构代码应为8位数字或大写字母加1位校验码（如 74419092-7）：{code}")
    if org_code_check_char(m.group(1)) != m.group(2):
        raise Invalid(f"组织机构代码校验位错误（应为 {org_code_check_char(m.group(1))}）")
    return m.group(1) + m.group(2)


def reg_no_valid(digits: str) -> bool:
    """工商注册号 (GS15-2006): ISO 7064 MOD 11,10 over 15 digits."""
    p = 10
    for ch in digits[:14]:
        s = (p + int(ch)) % 10 or 10
        p = (2 * s) % 11
    return (p + int(digits[14])) % 10 == 1


def parse_reg_no(value: object) -> str | None:
    code = clean_code(value)
    if code is None:
        return None
    if not re.fullmatch(r"\d{15}", code):
        raise Invalid(f"工商注册号应为15位数字，实为{len(code)}位")
    if not reg_no_valid(code):
        raise Invalid("工商注册号校验位错误")
    return code


_MASKED = re.compile(r"^([0-9A-Z]*)\*+([0-9A-Z]*)$")


def parse_masked_code(value: object) -> str | None:
    """A published list's masked 统一社会信用代码 (``91230199744****927K``): visible characters at the start
    and the end, ``*`` for the hidden middle. Courts do not keep one star per character (that example has 19
    characters in all), so only the visible ends are compared: they must be allowed in a credit code and
    together leave something hidden. With nothing hidden it is a full code."""
    code = clean_code(value)
    if code is None:
        return None
    code = code.replace("＊", "*")
    if "*" not in code:
        return parse_credit_code(code)
    m = _MASKED.match(code)
    visible = m.group(1) + m.group(2) if m else ""
    if not m or len(visible) >= 18 or len(visible) < 6 or any(ch not in _CODE_VALUE for ch in visible):
        raise Invalid(f"打码的统一社会信用代码应保留首尾字符、中间用 * 隐藏：{code}")
    return code


def masked_code_pattern(masked: str) -> str:
    """The SQL LIKE pattern a full code must fit to agree with ``masked``'s visible characters."""
    m = _MASKED.match(masked)
    return f"{m.group(1)}%{m.group(2)}"


# Characters of an organisation's name; a natural person's name (2–4 characters) has none of them.
_ORG_WORDS = re.compile(r"公司|厂|店|中心|社|局|院|所|部|合作|集团|协会|站|行|馆|场|处|委员会|学校|银行|事务")


def classify_identifier(value: object, name: object = None) -> tuple[str, str] | None:
    """What a column such as 身份证号码/组织机构代码 holds: (kind, value) with kind one of credit_code,
    org_code, reg_no, masked_code or id_no (a natural person's ID number, returned masked). Raises
    ``Invalid`` when the cell fits none of them or fails its check."""
    code = clean_code(value)
    if code is None:
        return None
    code = code.replace("＊", "*")
    if "*" in code:
        person = re.fullmatch(r"[0-9*]{17}[0-9X*]", code) and not _ORG_WORDS.search(clean_text(name) or "")
        if person and len(clean_text(name) or "") <= 6:
            return "id_no", mask_id_number(code)
        return "masked_code", parse_masked_code(code)
    if len(code) == 18 and re.fullmatch(r"\d{17}[\dX]", code) and credit_code_check_char_or_none(code) != code[17]:
        return "id_no", mask_id_number(code)  # a resident ID number, stored masked
    if len(code) == 18:
        return "credit_code", parse_credit_code(code)
    if len(code) == 15 and code.isdigit():
        return "reg_no", parse_reg_no(code)
    if _ORG_CODE.match(code):
        return "org_code", parse_org_code(code)
    raise Invalid(f"无法识别的代码（应为统一社会信用代码、组织机构代码、工商注册号或身份证号码）：{code}")


def credit_code_check_char_or_none(code: str) -> str | None:
    try:
        return credit_code_check_char(code[:17])
    except KeyError:
        return None


def name_key(name: object) -> str | None:
    """How subjects' names are compared across files: cleaned (NFKC, so full-width brackets are ASCII), no
    spaces, case-folded. SQL does the same on stored names (cleaned at ingestion) with the name_key macro."""
    text = clean_text(name)
    return text.replace(" ", "").casefold() if text else None


_YMD = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
)
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_SERIAL = re.compile(r"^\d{1,5}(?:\.0+)?$")


def parse_date(value: object) -> date | None:
    """2022-05-27, 2022/5/27, 2022.5.27, 2022年5月27日, 20220527, Excel serials and cells."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = clean_text(value)
    if text is None:
        return None
    if m := _YMD.match(text) or _COMPACT.match(text):
        y, mo, d = (int(g) for g in m.groups())
        try:
            parsed = date(y, mo, d)
        except ValueError:
            raise Invalid(f"日期不存在：{text}") from None
    elif _SERIAL.match(text):
        # Excel serial day number (a date cell exported as a number).
        parsed = EXCEL_EPOCH + timedelta(days=int(float(text)))
    else:
        raise Invalid(f"无法识别的日期：{text}")
    if parsed < EARLIEST_DATE:
        raise Invalid(f"日期不合理：{text}")
    return parsed


_NUMBER_NOISE = re.compile(r"[,，\s¥￥]|人民币")


def parse_amount(value: object) -> float | None:
    """An amount in 万元: '1,200.5', '0.2万元' stay in 万元; '2,000元' becomes 0.2."""
    text = clean_text(value)
    if text is None:
        return None
    text = _NUMBER_NOISE.sub("", text)
    divisor = 1.0
    if text.endswith("万元") or text.endswith("万"):
        text = text.removesuffix("元").removesuffix("万")
    elif text.endswith("元"):
        text, divisor = text.removesuffix("元"), 10000.0
    try:
        amount = float(text) / divisor
    except ValueError:
        raise Invalid(f"金额不是数字：{value}") from None
    if amount < 0 or amount != amount or amount == float("inf"):
        raise Invalid(f"金额不合理：{value}")
    return amount


def parse_percent(value: object) -> float | None:
    """完成进度 0–100: '60', '60%', '60.5 %'."""
    text = clean_text(value)
    if text is None:
        return None
    try:
        number = float(text.replace(" ", "").removesuffix("%"))
    except ValueError:
        raise Invalid(f"完成进度不是数字：{text}") from None
    if not 0 <= number <= 100:
        raise Invalid(f"完成进度应在0到100之间：{text}")
    return number


_CN_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


def chinese_number(text: str) -> int | None:
    """一 … 九十九 (enough for work-point numbers)."""
    if not text or any(ch not in _CN_DIGITS and ch != "十" for ch in text):
        return None
    if "十" not in text:
        return _CN_DIGITS[text] if len(text) == 1 else None
    tens, _, ones = text.partition("十")
    if len(tens) > 1 or len(ones) > 1:
        return None
    return (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[ones] if ones else 0)


def parse_point_id(value: object, highest: int = 21) -> int | None:
    """1, '1', '1.0', 一, （一）, (一), 第一项 → 1."""
    text = clean_text(value)
    if text is None:
        return None
    core = text.replace(" ", "").strip("()、.").removeprefix("第").removesuffix("项").removesuffix("条")
    # At most a few digits: a long run of digits is no work point (and int(float()) of it overflows).
    number = int(core.split(".")[0]) if re.fullmatch(r"\d{1,6}(?:\.0+)?", core) else chinese_number(core)
    if number is None or not 1 <= number <= highest:
        raise Invalid(f"要点编号应为1到{highest}：{text}")
    return number


_TRUE = {"是", "y", "yes", "true", "1", "√"}
_FALSE = {"否", "n", "no", "false", "0", "×"}


def parse_bool(value: object) -> bool | None:
    text = clean_text(value)
    if text is None:
        return None
    if text.casefold() in _TRUE:
        return True
    if text.casefold() in _FALSE:
        return False
    raise Invalid(f"应填“是”或“否”：{text}")


def parse_choice(value: object, choices: tuple[str, ...]) -> str | None:
    text = clean_text(value)
    if text is None:
        return None
    compact = text.replace(" ", "")
    if compact in choices:
        return compact
    raise Invalid(f"取值应为{'/'.join(choices)}之一：{text}")


_DAYS = re.compile(r"^(\d{1,3})\s*(个?工作日|天|日)?$")


def parse_deadline(value: object, start: date | None) -> date | None:
    """办理时限: a date, or a number of days (工作日 counted Monday to Friday) from ``start``."""
    text = clean_text(value)
    if text is None:
        return None
    if (m := _DAYS.match(text)) and len(m.group(1)) < 4 and not _COMPACT.match(text):
        if start is None:
            raise Invalid("办理时限为天数时需要异议提出日期")
        days = int(m.group(1))
        try:
            if m.group(2) and "工作日" in m.group(2):
                return add_working_days(start, days)
            return start + timedelta(days=days)
        except OverflowError:
            raise Invalid(f"办理时限超出日期范围：{text}") from None
    return parse_date(text)


def add_working_days(start: date, days: int) -> date:
    current = start
    while days > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current


def mask_id_number(value: object) -> str | None:
    """Personal ID numbers are stored only masked: first 3 and last 2 characters kept."""
    text = clean_code(value)
    if text is None:
        return None
    if len(text) <= 5:
        return "*" * len(text)
    return text[:3] + "*" * (len(text) - 5) + text[-2:]


def mask_credit_code(code: object) -> str | None:
    """For viewers: the district part stays readable, the organisation part does not."""
    text = clean_code(code)
    if text is None:
        return None
    return text[:8] + "*" * max(len(text) - 10, 0) + text[-2:] if len(text) > 10 else "*" * len(text)


def mask_person_name(name: object) -> str | None:
    text = clean_text(name)
    if text is None:
        return None
    return text[0] + "*" * (len(text) - 1) if len(text) > 1 else "*"
