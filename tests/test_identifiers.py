"""Subjects as real lists name them: every identifier kind (normalize), the match to the register
(analytics/intake/matching.py) in its documented order, and real published files loaded as they are."""

from __future__ import annotations

import json
from datetime import date

import duckdb
import pytest

from analytics import normalize as nz
from analytics.compute import metrics
from analytics.intake import ingest
from analytics.storage import store
from tests.helpers import REAL_EXPORTS, csv_bytes, query
from tests.test_cli_ingest import run as run_cli

# Valid identifiers of one company, worked out with the GB check characters:
ORG = "744190927"  # 组织机构代码 74419092-7 (the court export's own)
USCC = "91350203744190927M"  # 91 + 350203 + ORG + check M: the same company's credit code
REG_NO = "350200200000012"  # 工商注册号, MOD 11,10 check digit 2
MASKED = "91350203744****927M"  # USCC as courts publish it: ends kept, middle starred


@pytest.fixture
def db(tmp_path) -> str:
    path = str(tmp_path / "credit.duckdb")
    with store.connect(path):
        pass
    return path


# --------------------------------------------------------------------------- each identifier kind


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        (USCC, ("credit_code", USCC)),
        ("74419092-7", ("org_code", ORG)),  # hyphenated, as printed
        (ORG, ("org_code", ORG)),
        (REG_NO, ("reg_no", REG_NO)),
        (MASKED, ("masked_code", MASKED)),
        ("91230199744＊＊＊＊927K", ("masked_code", "91230199744****927K")),  # full-width stars
        ("350203199001011234", ("id_no", "350*************34")),  # an ID number, kept masked only
    ],
)
def test_each_identifier_kind_is_recognised(cell, expected):
    assert nz.classify_identifier(cell, "厦门某某物流有限公司" if expected[0] != "id_no" else "张三") == expected


@pytest.mark.parametrize(
    ("cell", "why"),
    [
        ("74419092-8", "组织机构代码校验位错误"),
        ("350200200000013", "工商注册号校验位错误"),
        ("9135****", "打码的统一社会信用代码"),  # 4 + 0 visible characters: too little to compare
        ("ABC", "无法识别的代码"),
    ],
)
def test_a_bad_identifier_says_what_is_wrong(cell, why):
    with pytest.raises(nz.Invalid, match=why):
        nz.classify_identifier(cell, "厦门某某物流有限公司")


def test_a_credit_code_with_a_wrong_check_character_is_refused():
    with pytest.raises(nz.Invalid):
        nz.parse_credit_code(USCC[:-1] + "N")
    with pytest.raises(nz.Invalid):
        nz.parse_org_code("74419092-0")


# --------------------------------------------------------------------------- the match order


def _register(db: str, rows: list[tuple[str, str, str | None]]) -> None:
    """(credit code, name, 工商注册号) rows into the register."""
    payload = csv_bytes([["统一社会信用代码", "名称", "工商注册号", "成立日期"], *[[*r, "2010-01-01"] for r in rows]])
    result = ingest.ingest_bytes(db, payload, "名录.csv", dataset="entities")
    assert result.ok and result.loaded == len(rows), result.message


def _severe(db: str, rows: list[list[str]], name: str = "名单.csv") -> ingest.IngestResult:
    """[主体名称, 统一社会信用代码, 组织机构代码, 工商注册号] rows of one list."""
    header = ["主体名称", "统一社会信用代码", "组织机构代码", "工商注册号", "名单名称", "列入日期"]
    payload = csv_bytes([header, *[[*r, "运输失信名单", "2022-03-01"] for r in rows]])
    return ingest.ingest_bytes(db, payload, name, dataset="severe_list")


def test_each_row_matches_by_the_first_method_that_finds_one_entity(db):
    a, b, c, d, e, twin1, twin2 = (_code(i) for i in range(7))
    _register(
        db,
        [
            (a, "甲运输有限公司", None),
            (b, "乙运输有限公司", None),
            (c, "丙运输有限公司", REG_NO),
            (d, "丁运输有限公司", None),
            (e, "戊运输有限公司", None),
            (twin1, "同名运输有限公司", None),
            (twin2, "同名运输有限公司", None),
        ],
    )
    masked_d = d[:6] + "*****" + d[-4:]
    result = _severe(
        db,
        [
            ["甲运输有限公司", a, _org(b), ""],  # uscc wins over the org code of another entity
            ["乙运输", "", _org(b)[:8] + "-" + _org(b)[8], ""],  # org_code, whatever the name
            ["丙运输有限公司", "", "", REG_NO],  # reg_no
            ["丁运输 有限公司", masked_d, "", ""],  # masked_name: ends agree, names agree after removing spaces
            ["某某运输有限公司", masked_d, "", ""],  # masked code with another name: no match
            ["戊运输有限公司", "", "", ""],  # name alone
            ["同名运输有限公司", "", "", ""],  # the name of two entities: matches neither
            ["戊运输有限公司", "", _org(_code(99)), ""],  # a full code the register lacks: not matched by name
        ],
    )
    assert result.ok and result.loaded == 8, result.message
    got = query(db, "SELECT name, match_method, entity_code FROM severe_list ORDER BY name, match_method NULLS LAST")
    assert sorted(got, key=str) == sorted(
        [
            ("甲运输有限公司", "uscc", a),
            ("乙运输", "org_code", b),
            ("丙运输有限公司", "reg_no", c),
            ("丁运输 有限公司", "masked_name", d),
            ("某某运输有限公司", None, None),
            ("戊运输有限公司", "name", e),
            ("同名运输有限公司", None, None),
            ("戊运输有限公司", None, None),
        ],
        key=str,
    )


def _code(seed: int) -> str:
    """A valid credit code whose characters 9–17 are a valid 组织机构代码."""
    org8 = f"{seed:08d}"
    first17 = "91350203" + org8 + nz.org_code_check_char(org8)
    return first17 + nz.credit_code_check_char(first17)


def _org(code: str) -> str:
    return code[8:17]


def test_a_register_found_later_matches_the_list_loaded_before(db):
    """The register loaded after the list: its rows are matched then, not only at the list's own load."""
    a = _code(1)
    _severe(db, [["甲运输有限公司", "", _org(a), ""]])
    assert query(db, "SELECT match_method FROM severe_list") == [(None,)]
    _register(db, [(a, "甲运输有限公司", None)])
    assert query(db, "SELECT match_method, entity_code FROM severe_list") == [("org_code", a)]


def test_thirty_companies_named_by_organisation_code_count_as_by_credit_code(db):
    codes = [_code(i) for i in range(100, 130)]
    _register(db, [(code, f"第{i}运输有限公司", None) for i, code in enumerate(codes)])
    as_of = date(2022, 12, 31)
    with store.connect(db, read_only=True) as con:
        before = len(metrics.run(con, "severe_entities", as_of))
        unmatched_before = int(metrics.run(con, "unmatched", as_of)["severe_list"].iloc[0])
    rows = [[f"第{i}运输有限公司", "", _org(c)[:8] + "-" + _org(c)[8], ""] for i, c in enumerate(codes)]
    result = _severe(db, rows)
    assert result.ok and result.loaded == 30 and result.identified_by == {"org_code": 30}
    with store.connect(db, read_only=True) as con:
        listed = metrics.run(con, "severe_entities", as_of)
        unmatched = int(metrics.run(con, "unmatched", as_of)["severe_list"].iloc[0])
    assert (before, len(listed)) == (0, 30)
    assert sorted(listed["credit_code"]) == sorted(codes)  # counted under the register's credit codes
    assert listed["in_register"].all()
    assert unmatched == unmatched_before == 0


# --------------------------------------------------------------------------- lists as platforms publish them

BLACKLIST_HEADER = ["序号", "企业名称", "工商注册号", "组织机构代码", "统一信用代码", "所在省份"]


def _blacklist() -> bytes:
    """Shaped as a provincial 信用中国 transport blacklist: most rows without a USCC, no list name, no date."""
    return csv_bytes(
        [
            BLACKLIST_HEADER,
            ["1", "甲物流有限公司", REG_NO, "", "", "福建"],
            ["2", "乙物流有限公司", "", "74419092-7", "", "福建"],
            ["3", "丙物流有限公司", "", "", _code(3), "福建"],
        ]
    )


def test_a_published_blacklist_is_refused_with_what_to_fill_in(db, tmp_path):
    result = ingest.ingest_bytes(db, _blacklist(), "交通运输黑名单.csv")
    assert not result.ok
    assert "名单名称" in result.message and "列入日期" in result.message and "--set" in result.message
    assert result.missing == {"severe_list": ["名单名称", "列入日期"]}
    assert query(db, "SELECT count(*) FROM severe_list") == [(0,)]


def test_a_published_blacklist_loads_with_set_values(db, tmp_path):
    path = tmp_path / "交通运输黑名单.csv"
    path.write_bytes(_blacklist())
    done = run_cli("ingest", str(path), "--set", "名单名称=交通运输严重失信名单", "--set", "列入日期=2021-06-30", db=db)
    assert done.returncode == 0, done.stderr
    [report] = json.loads(done.stdout)
    assert report["loaded"] == 3 and report["rejected"] == 0
    assert report["set_values"] == {"list_name": "交通运输严重失信名单", "listed_on": "2021-06-30"}
    assert report["identified_by"] == {"credit_code": 1, "org_code": 1, "reg_no": 1}
    assert query(db, "SELECT DISTINCT list_name, listed_on FROM severe_list") == [
        ("交通运输严重失信名单", date(2021, 6, 30))
    ]


def test_a_per_row_column_cannot_be_set_for_the_whole_file(db, tmp_path):
    path = tmp_path / "黑名单.csv"
    path.write_bytes(_blacklist())
    done = run_cli("ingest", str(path), "--set", "统一社会信用代码=" + USCC, db=db)
    assert done.returncode != 0
    [report] = json.loads(done.stdout)
    assert report["loaded"] == 0 and "不能整个文件统一填写：统一社会信用代码" in report["message"]


def test_the_list_name_is_taken_from_a_title_row(db):
    payload = csv_bytes(
        [
            ["厦门市交通运输领域严重失信主体名单"],
            ["企业名称", "统一社会信用代码", "列入日期"],
            ["甲物流有限公司", _code(5), "2022-01-05"],
        ]
    )
    result = ingest.ingest_bytes(db, payload, "名单.csv")
    assert result.ok, result.message
    assert result.notes == ["名单名称取自标题行：厦门市交通运输领域严重失信主体名单"]
    assert query(db, "SELECT list_name FROM severe_list") == [("厦门市交通运输领域严重失信主体名单",)]


def test_a_refusal_shows_the_header_row_it_read(db):
    payload = csv_bytes([["编号", "单位", "备注甲"], ["1", "某单位", "x"]])
    result = ingest.ingest_bytes(db, payload, "不明.csv")
    assert not result.ok
    assert "读作表头的是第 1 行：编号、单位、备注甲" in result.message


# --------------------------------------------------------------------------- real published files, unchanged


def test_the_real_court_export_is_refused_only_for_its_list_name(db):
    [result] = ingest.ingest_paths(db, [REAL_EXPORTS / "court_shixin_export_gbk.csv"])
    assert not result.ok
    assert result.missing == {"severe_list": ["名单名称"]}  # 发布时间 gives 列入日期


def test_the_real_court_export_loads_with_its_list_name(db, tmp_path):
    path = REAL_EXPORTS / "court_shixin_export_gbk.csv"
    done = run_cli("ingest", str(path), "--dataset", "severe_list", "--set", "名单名称=失信被执行人名单", db=db)
    assert done.returncode == 0, done.stderr
    [report] = json.loads(done.stdout)
    assert (report["encoding"], report["loaded"], report["rejected"]) == ("GBK", 29, 0)
    assert report["identified_by"] == {"masked_code": 1, "org_code": 28}
    # One company per case: 28 rows by its 组织机构代码, one by its masked credit code.
    assert query(db, "SELECT org_code, masked_code, count(*) FROM severe_list GROUP BY ALL ORDER BY 3") == [
        (None, "91230199744****927K", 1),
        (ORG, None, 28),
    ]
    again = run_cli("ingest", str(path), "--dataset", "severe_list", "--set", "名单名称=失信被执行人名单", db=db)
    [report] = json.loads(again.stdout)
    assert (report["loaded"], report["unchanged"]) == (0, 29)


def test_penalties_naming_a_company_by_organisation_code_count_in_its_register_sector(db):
    """The match serves every table that names a subject: a penalty by 组织机构代码 counts in the register's
    sector and district as one by credit code does."""
    code = _code(7)
    payload = csv_bytes(
        [
            ["统一社会信用代码", "名称", "行业", "所在区", "成立日期"],
            [code, "甲运输有限公司", "道路货运", "湖里区", "2010-01-01"],
        ]
    )
    assert ingest.ingest_bytes(db, payload, "名录.csv").ok
    rows = [
        [
            "行政相对人名称",
            "行政相对人类别",
            "行政相对人代码_3(组织机构代码)",
            "行政处罚决定书文号",
            "处罚决定日期",
            "处罚机关",
        ],
        [
            "甲运输有限公司",
            "法人及非法人组织",
            _org(code)[:8] + "-" + _org(code)[8],
            "厦交罚〔2022〕1号",
            "2022-05-27",
            "厦门市交通运输局",
        ],
    ]
    result = ingest.ingest_bytes(db, csv_bytes(rows), "处罚.csv")
    assert result.ok and result.identified_by == {"org_code": 1}, result.message
    with store.connect(db, read_only=True) as con:
        sector = metrics.run(con, "sector_risk", date(2022, 5, 31), months=1)
        district = metrics.run(con, "district_risk", date(2022, 5, 31), months=1)
    assert sector[["sector", "penalties", "entities"]].values.tolist() == [
        ["道路货物运输", 1, 1]
    ]  # 道路货运 is its alias in data/sectors.csv
    assert district[["district", "penalties"]].values.tolist() == [["湖里区", 1]]


def test_migrations_rerun_over_the_new_shape_keep_every_identifier(db):
    """A restored file whose schema_version was rolled back re-runs 0007: rows named by 组织机构代码 stay so."""
    [result] = ingest.ingest_paths(
        db,
        [REAL_EXPORTS / "court_shixin_export_gbk.csv"],
        dataset="severe_list",
        fills={"名单名称": "失信被执行人名单"},
    )
    assert result.loaded == 29
    columns = "subject_key, credit_code, org_code, masked_code, identified_by, case_no, subject_code"
    before = query(db, f"SELECT {columns} FROM severe_list ORDER BY case_no")
    with duckdb.connect(db) as con:
        con.execute("DELETE FROM schema_version WHERE version >= 7")
    with store.connect(db):
        pass
    assert query(db, f"SELECT {columns} FROM severe_list ORDER BY case_no") == before
