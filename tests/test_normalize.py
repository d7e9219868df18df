"""Cell parsers: each written rule on single values, as real exports write them."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from analytics import normalize as nz
from tests.helpers import bad_check_code, credit_code

MAY_27 = date(2022, 5, 27)


@pytest.mark.parametrize(
    "text",
    ["2022-05-27", "2022/5/27", "2022.5.27", "2022年5月27日", "2022 年 5 月 27 日", "20220527", "44708", "44708.0",
     "2022-05-27 00:00:00", "2022/05/27 14:30", "２０２２－０５－２７", " 2022-05-27 "],
)  # fmt: skip
def test_every_date_spelling_gives_the_same_day(text):
    assert nz.parse_date(text) == MAY_27


def test_date_and_datetime_objects_pass_through():
    assert nz.parse_date(datetime(2022, 5, 27, 10, 30)) == MAY_27
    assert nz.parse_date(MAY_27) == MAY_27


def test_excel_serial_44708_is_2022_05_27():
    assert nz.EXCEL_EPOCH.toordinal() + 44708 == MAY_27.toordinal()


@pytest.mark.parametrize("text", [None, "", "   ", "\u3000"])
def test_empty_date_is_none(text):
    assert nz.parse_date(text) is None


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2022-02-30", "日期不存在"),
        ("2022年2月30日", "日期不存在"),
        ("20221301", "日期不存在"),
        ("19000101", "日期不合理"),
        ("1900-01-01", "日期不合理"),
        ("12", "日期不合理"),
        ("明天", "无法识别的日期"),
        ("2022-05", "无法识别的日期"),
        ("44708.5.1", "无法识别的日期"),
    ],
)
def test_impossible_dates_are_refused_in_chinese(text, reason):
    with pytest.raises(nz.Invalid, match=reason):
        nz.parse_date(text)


@pytest.mark.parametrize(
    ("text", "wan"),
    [
        ("1,200.5", 1200.5),
        ("1，200.5", 1200.5),
        ("0.2万元", 0.2),
        ("0.2 万元", 0.2),
        ("0.2万", 0.2),
        ("2,000元", 0.2),
        ("2000 元", 0.2),
        ("￥2,000元", 0.2),
        ("２，０００元", 0.2),
        ("0", 0.0),
        ("3", 3.0),
    ],
)
def test_amounts_are_in_wan_yuan(text, wan):
    assert nz.parse_amount(text) == pytest.approx(wan)


@pytest.mark.parametrize("text", ["-1", "abc", "1e999", "nan", "inf", "1.2.3万元"])
def test_bad_amounts_are_refused(text):
    with pytest.raises(nz.Invalid, match="金额"):
        nz.parse_amount(text)


def test_empty_amount_is_none():
    assert nz.parse_amount(" ") is None


@pytest.mark.parametrize(
    ("text", "value"), [("60%", 60.0), ("60", 60.0), ("60.5 %", 60.5), ("６０％", 60.0), ("0", 0.0)]
)
def test_percent(text, value):
    assert nz.parse_percent(text) == value


@pytest.mark.parametrize("text", ["101", "-1", "百分之六十", "nan", "120%"])
def test_bad_percent_is_refused(text):
    with pytest.raises(nz.Invalid, match="完成进度"):
        nz.parse_percent(text)


@pytest.mark.parametrize(
    ("value", "number"),
    [(1, 1), ("1", 1), ("1.0", 1), ("一", 1), ("（一）", 1), ("(一)", 1), ("( 一 )", 1), ("一、", 1), ("第一项", 1),
     ("十", 10), ("十五", 15), ("二十一", 21), ("21", 21), ("２１", 21)],
)  # fmt: skip
def test_point_ids(value, number):
    assert nz.parse_point_id(value) == number


@pytest.mark.parametrize(
    "text",
    [
        "0",
        "22",
        "二十二",
        "1.5",
        "甲",
        pytest.param("1" * 400, id="400-digits"),
        pytest.param("9" * 5000, id="5000-digits"),
    ],
)
def test_bad_point_ids_are_refused(text):
    with pytest.raises(nz.Invalid, match="要点编号"):
        nz.parse_point_id(text)


def test_full_width_and_edge_spaces_fold_to_one_department():
    names = {
        nz.clean_text(s)
        for s in ("厦门市交通运输局\u3000", " 厦门市交通运输局", "厦门市交通运输局", "\t厦门市交通运输局 ")
    }
    assert names == {"厦门市交通运输局"}


def test_inner_spaces_fold_to_one():
    assert nz.clean_text("厦门  市\u3000\u3000交通") == "厦门 市 交通"


def test_codes_lose_spaces_and_full_width_and_case():
    assert nz.clean_code("９１３５０２ ａｂ\u3000cd") == "913502ABCD"


def test_check_character_matches_gb32100_example():
    # Worked example: weights 3^(i-1) mod 31 over the first 17 characters.
    first17 = "91350200MA2Y0000"[:16] + "0"
    total = sum(nz.CODE_ALPHABET.index(ch) * w for ch, w in zip(first17, nz.CODE_WEIGHTS, strict=True))
    assert nz.credit_code_check_char(first17) == nz.CODE_ALPHABET[(31 - total % 31) % 31]
    assert tuple(pow(3, i, 31) for i in range(17)) == nz.CODE_WEIGHTS


def test_valid_credit_code_is_upper_cased_and_full_width_normalised():
    code = credit_code(7)
    full_width = "".join(chr(ord(ch) + 0xFEE0) for ch in code.lower())
    assert nz.parse_credit_code(code.lower()) == code
    assert nz.parse_credit_code(full_width) == code
    assert nz.parse_credit_code(f" {code[:9]} {code[9:]} ") == code


def test_bad_check_digit_is_refused_with_the_right_one():
    code = bad_check_code(3)
    with pytest.raises(nz.Invalid, match=f"校验位错误（应为 {credit_code(3)[-1]}）"):
        nz.parse_credit_code(code)


@pytest.mark.parametrize("letter", list("IOSVZ"))
def test_letters_outside_the_code_alphabet_are_refused(letter):
    code = credit_code(4)
    with pytest.raises(nz.Invalid, match=f"非法字符：{letter}"):
        nz.parse_credit_code(code[:10] + letter + code[11:])


@pytest.mark.parametrize("length", [15, 17, 19])
def test_wrong_length_is_refused(length):
    code = (credit_code(5) * 2)[:length]
    with pytest.raises(nz.Invalid, match=f"应为18位，实为{length}位"):
        nz.parse_credit_code(code)


def test_empty_credit_code_is_none():
    assert nz.parse_credit_code("\u3000") is None


@pytest.mark.parametrize(("text", "value"), [("是", True), ("否", False), ("Y", True), ("no", False), ("√", True)])
def test_bool(text, value):
    assert nz.parse_bool(text) is value


def test_bad_bool_is_refused():
    with pytest.raises(nz.Invalid, match=r"是.*否"):
        nz.parse_bool("也许")


def test_choice_folds_spaces_and_refuses_others():
    assert nz.parse_choice(" 推进 中 ", ("未启动", "推进中")) == "推进中"
    with pytest.raises(nz.Invalid, match="取值应为未启动/推进中之一"):
        nz.parse_choice("完成", ("未启动", "推进中"))


def test_deadline_in_days_and_working_days():
    friday = date(2022, 5, 27)
    assert nz.parse_deadline("3天", friday) == date(2022, 5, 30)
    assert nz.parse_deadline("3个工作日", friday) == date(2022, 6, 1)
    assert nz.parse_deadline("2022-06-10", friday) == date(2022, 6, 10)
    assert nz.parse_deadline("20220610", friday) == date(2022, 6, 10)
    with pytest.raises(nz.Invalid, match="需要异议提出日期"):
        nz.parse_deadline("5天", None)


@pytest.mark.parametrize("text", ["5天", "999个工作日"])
def test_deadline_past_the_calendar_end_is_refused_not_a_crash(text):
    with pytest.raises(nz.Invalid, match="办理时限"):
        nz.parse_deadline(text, date(9999, 12, 30))


def test_id_numbers_are_masked_keeping_three_and_two():
    assert nz.mask_id_number("350203199001011234") == "350*************34"
    assert nz.mask_id_number("３５０２０３１９９００１０１１２３x") == "350*************3X"
    assert nz.mask_id_number("12345") == "*****"
    # Masking twice changes nothing: a masked number reloaded stays as it was.
    assert nz.mask_id_number(nz.mask_id_number("350203199001011234")) == "350*************34"


def test_header_key_folds_width_case_spaces_and_stars():
    assert nz.header_key("罚款金额（万元）") == nz.header_key("罚款金额(万元)")
    assert nz.header_key(" *处罚决定日期 ") == "处罚决定日期"
    assert nz.header_key("ＡＢＣ") == nz.header_key("abc")
