"""Registers without 行业/所在区 (issue 11 items 5, 6): derived district and sector, the sector vocabulary,
placeholders in text. Files are built in the test in the shape of a real provincial registration export
(kinginsun/Enterprise-Registration-Data-of-Chinese-Mainland csv/2019/福建.csv: 企业名称, 统一社会信用代码, 注册日期,
企业类型, 法人代表, 注册资金, 经营范围, 所在省份, 地区, 注册地址; 地区 = the city without 市)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from analytics import demo
from analytics.intake import derive, ingest
from tests.helpers import REAL_EXPORTS, credit_code, csv_bytes, query

ROOT = Path(__file__).resolve().parent.parent
REAL_1980 = REAL_EXPORTS / "fujian_register_1980.csv"

HEADERS = [
    "企业名称",
    "统一社会信用代码",
    "注册日期",
    "企业类型",
    "法人代表",
    "注册资金",
    "经营范围",
    "所在省份",
    "地区",
    "注册地址",
]


def row(name, code, scope="日用百货零售", city="厦门", address="厦门市", capital="100万元人民币"):
    return [name, code, "2019-03-01", "有限责任公司(自然人独资)", "张三", capital, scope, "福建", city, address]


@pytest.fixture
def db(tmp_path) -> str:
    return str(tmp_path / "credit.duckdb")


def load(db, rows, headers=HEADERS):
    result = ingest.ingest_bytes(db, csv_bytes([headers, *rows]), "register.csv")
    assert result.ok, result.message
    return result


def by_name(db, column):
    return dict(query(db, f"SELECT name, {column} FROM entities"))


def test_district_from_code_address_or_unknown(db):
    rows = [
        row("甲", credit_code(1, "350206")),  # 湖里区 by its division
        row("乙", credit_code(2, "350202")),  # legacy 鼓浪屿区 → 思明区
        row("丙", credit_code(3, "350200"), address="厦门市集美区杏林湾路1号"),  # city-level code: the address
        row("丁", credit_code(4, "350200"), address="厦门市思明区与湖里区交界"),  # two districts: not unique
        row("戊", credit_code(5, "350200"), address="厦门市火炬园"),  # none
    ]
    result = load(db, rows)
    assert by_name(db, "district") == {"甲": "湖里区", "乙": "思明区", "丙": "集美区", "丁": "未知", "戊": "未知"}
    assert result.derived["district"] == {"信用代码": 2, "注册地址": 1, "未知": 2}
    assert result.to_dict()["derived"]["district"]["注册地址"] == 1


def test_another_city_is_never_a_xiamen_district(db):
    rows = [
        # A Fuzhou division, though the address names a Xiamen district.
        row("福州甲", credit_code(6, "350102"), city="", address="厦门市思明区某路"),
        # 地区 names another city although the code's division is Xiamen's.
        row("泉州乙", credit_code(7, "350203"), city="泉州", address="泉州市丰泽区"),
        row("泉州丙", credit_code(8, "350500"), city="泉州", address="湖里区"),
    ]
    load(db, rows)
    assert set(by_name(db, "district").values()) == {"未知"}


def test_own_district_column_wins(db):
    load(db, [row("甲", credit_code(9, "350206")) + ["海沧区"]], HEADERS + ["所在区"])
    assert by_name(db, "district") == {"甲": "海沧区"}


def test_sector_from_business_scope_first_keyword_else_unclassified(db):
    rows = [
        row("甲", credit_code(10), scope="道路货物运输（不含危险货物运输）；仓储服务"),  # the exclusion is not a match
        row("乙", credit_code(11), scope="网络预约出租汽车客运；出租汽车客运"),  # first keyword in table order
        row("丙", credit_code(12), scope="日用百货；服装鞋帽"),
        row("丁", credit_code(13), scope="N/A"),
    ]
    result = load(db, rows)
    assert by_name(db, "sector") == {"甲": "道路货物运输", "乙": "网络预约出租汽车", "丙": "未分类", "丁": "未分类"}
    assert result.derived["sector"] == {"经营范围": 2, "未分类": 2}
    assert result.warnings == []


def test_sector_vocabulary_warns_with_counts(db):
    headers = ["统一社会信用代码", "企业名称", "行业", "所在区", "成立日期"]
    rows = [
        [credit_code(20), "甲", "出租车", "思明区", "2019-01-01"],  # alias → 出租汽车
        [credit_code(21), "乙", "有限责任公司", "思明区", "2019-01-01"],
        [credit_code(22), "丙", "有限责任公司", "思明区", "2019-01-01"],
        [credit_code(23), "丁", "100万元人民币", "思明区", "2019-01-01"],
        [credit_code(24), "戊", "N/A", "思明区", "2019-01-01"],  # a placeholder: empty, so 未分类, not a warning
    ]
    result = load(db, rows, headers)
    assert by_name(db, "sector") == {"甲": "出租汽车", "乙": "未分类", "丙": "未分类", "丁": "未分类", "戊": "未分类"}
    assert result.warnings == [
        "行业“有限责任公司”不在行业词表（data/sectors.csv）中，2 行按“未分类”载入",
        "行业“100万元人民币”不在行业词表（data/sectors.csv）中，1 行按“未分类”载入",
    ]
    assert result.derived["sector"] == {"未分类": 4, "行业": 1}
    assert result.to_dict()["warnings"] == result.warnings


def test_placeholders_are_empty_in_text_columns(db):
    rows = [row("甲", credit_code(30), capital="N/A", scope="—"), row("乙", credit_code(31), capital="无")]
    rows[1][4] = "/"  # 法人代表
    load(db, rows)
    assert sorted(query(db, "SELECT name, registered_capital, legal_rep, business_scope FROM entities")) == [
        ("乙", None, None, "日用百货零售"),
        ("甲", None, "张三", None),
    ]


def test_blank_placeholders_keeps_real_text():
    import pyarrow as pa

    values = pa.array(["N/A", "无", "/", "—", "-", "空", "null", "NONE", "无锡", "A-1", None])
    assert derive.blank_placeholders(values).to_pylist() == [None] * 8 + ["无锡", "A-1", None]


def test_demo_sectors_are_in_the_vocabulary():
    with open(ROOT / "data" / "sectors.csv", encoding="utf-8") as f:
        names = {r["sector"] for r in csv.DictReader(f)}
    assert {s.name for s in demo.SECTORS} <= names
    assert {sector for _, sector in derive.sector_keywords()} <= names


def test_shared_1980_register_loads_with_no_edit(db):
    [result] = ingest.ingest_paths(db, [REAL_1980])
    assert (result.dataset, result.loaded, result.rejected) == ("entities", 112, 0)
    xiamen = query(db, "SELECT substr(credit_code, 3, 6), district FROM entities WHERE city = '厦门'")
    assert sorted(xiamen) == [("350203", "思明区")] * 3
    assert query(db, "SELECT count(*) FROM entities WHERE city <> '厦门' AND district <> '未知'") == [(0,)]
    assert result.derived["district"] == {"未知": 109, "信用代码": 3}
    sectors = {s for (s,) in query(db, "SELECT DISTINCT sector FROM entities")}
    vocabulary = set(derive.sector_vocabulary().values())
    assert sectors <= vocabulary  # never N/A, a company type or an amount
    # Loading it again changes nothing.
    [again] = ingest.ingest_paths(db, [REAL_1980])
    assert (again.loaded, again.unchanged) == (0, 112)
