"""The synthetic demo data: deterministic, valid codes, realistic volumes and shapes, planted messy rows."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analytics import demo
from analytics.intake.datasets import DATASETS

ROOT = Path(__file__).resolve().parent.parent
SMALL = 0.05

# National 双公示 order (../shared/README.md), with 当前状态 where our dataset has it.
PENALTY_HEADERS = [
    "行政相对人名称", "行政相对人类别", "行政相对人代码_1(统一社会信用代码)", "法定代表人", "法定代表人证件类型",
    "法定代表人证件号码", "证件类型", "证件号码", "行政处罚决定书文号", "违法行为类型", "违法事实", "处罚依据",
    "处罚类别", "处罚内容", "罚款金额(万元)", "没收违法所得、没收非法财物的金额(万元)", "暂扣或吊销证照名称及编号",
    "处罚决定日期", "处罚有效期", "公示截止期", "处罚机关", "处罚机关统一社会信用代码", "当前状态", "数据来源单位",
    "数据来源单位统一社会信用代码", "备注",
]  # fmt: skip
LICENSE_HEADERS = [
    "行政相对人名称", "行政相对人类别", "行政相对人代码_1(统一社会信用代码)", "法定代表人", "法定代表人证件类型",
    "法定代表人证件号码", "证件类型", "证件号码", "行政许可决定文书名称", "行政许可决定文书号", "许可类别",
    "许可证书名称", "许可编号", "许可内容", "许可决定日期", "有效期自", "有效期至", "许可机关",
    "许可机关统一社会信用代码", "当前状态", "数据来源单位", "数据来源单位统一社会信用代码", "备注",
]  # fmt: skip


@pytest.fixture(scope="module")
def full() -> demo.Demo:
    return demo.generate(2022, 1)


@pytest.fixture(scope="module")
def small_exports(tmp_path_factory) -> dict[str, Path]:
    paths = demo.write_exports(tmp_path_factory.mktemp("small"), seed=2022, scale=SMALL)
    return {p.name: p for p in paths}


def valid_code(code: str) -> bool:
    return (
        len(code) == 18
        and all(ch in demo.CODE_ALPHABET for ch in code)
        and demo.credit_code_check_char(code[:17]) == code[17]
    )


def valid_id(number: str) -> bool:
    weights = demo.ID_WEIGHTS
    return (
        len(number) == 18
        and number[:17].isdigit()
        and (demo.ID_CHECK[sum(int(d) * w for d, w in zip(number[:17], weights, strict=True)) % 11] == number[17])
    )


def read_csv(path: Path, encoding: str, skip: int = 0) -> pd.DataFrame:
    return pd.read_csv(path, encoding=encoding, dtype=str, keep_default_na=False, skiprows=skip)


def read_xlsx(path: Path, sheet=0, skip: int = 0) -> pd.DataFrame:
    return pd.read_excel(path, sheet_name=sheet, engine="calamine", skiprows=skip, dtype=object)


def bad_codes(values) -> int:
    return sum(1 for v in values if isinstance(v, str) and v and not valid_code(v))


# --- codes --------------------------------------------------------------------


def test_check_char_matches_known_codes():
    # GB 32100-2015's own example and two published codes.
    for code in ("91350100M000100Y43", "91110000600037341L", "914403001922038216"):
        assert demo.credit_code_check_char(code[:17]) == code[17]


def test_districts_match_shipped_reference():
    # data/xiamen_districts.csv is the project's copy of ../shared/data/xiamen_districts.csv.
    with open(ROOT / "data" / "xiamen_districts.csv", encoding="utf-8") as f:
        reference = {row["district"]: row["adcode"] for row in csv.DictReader(f)}
    assert {d: a for d, a, _ in demo.DISTRICTS} == reference


def test_entity_codes_valid_and_carry_their_district(full):
    entities = full.entities
    assert entities["credit_code"].is_unique
    assert all(valid_code(c) for c in entities["credit_code"])
    adcode = dict((d, a) for d, a, _ in demo.DISTRICTS)
    assert (entities["credit_code"].str[2:8] == entities["district"].map(adcode)).all()
    prefix = entities["credit_code"].str[:2]
    assert set(prefix) == {"91", "92"}
    assert (prefix == "92").mean() == pytest.approx(entities["_individual"].mean())
    assert 0.03 < (prefix == "92").mean() < 0.15
    # Organisation codes: 8 digits before 2016, MA… after, each with its GB 11714 check character.
    org = entities["credit_code"].str[8:17]
    recent = entities["established"] >= pd.Timestamp("2016-01-01")
    assert org[recent].str.startswith("MA").all() and org[~recent].str[:8].str.isdigit().all()


def test_codes_in_other_tables_are_valid(full):
    register = set(full.entities["credit_code"])  # all valid (test above)
    for table in (full.penalties, full.licenses):
        assert set(table["credit_code"].dropna()) <= register
        assert all(valid_code(c) for c in table["authority_code"].unique())
        persons = table[table["subject_type"] == demo.PERSON]
        assert persons["credit_code"].isna().all() and all(valid_id(i) for i in persons["id_no"].unique())
        assert all(valid_id(i) for i in table["legal_rep_id_no"].dropna().unique())
    listed = full.severe_list["credit_code"]
    assert all(valid_code(c) for c in listed)
    assert 1 <= (~listed.isin(register)).sum() <= demo.UNKNOWN_LISTED


# --- volumes and shape --------------------------------------------------------


def test_volumes_at_scale_1(full):
    assert 2_900 <= len(full.entities) <= 3_100
    assert 29_000 <= len(full.penalties) <= 31_000
    assert 7_800 <= len(full.licenses) <= 8_200
    assert 0.03 * len(full.entities) <= len(full.severe_list) <= 0.06 * len(full.entities)
    assert 550 <= len(full.objections) <= 650
    assert 21 * 5 <= len(full.progress) <= 21 * 7
    assert full.entities["sector"].nunique() >= 12
    assert set(demo.TWO_PASSENGERS_ONE_DANGER) <= set(full.entities["sector"])
    assert full.entities.groupby("sector").size().between(30, 600).all()
    assert set(full.entities["district"]) == {d for d, _, _ in demo.DISTRICTS}


def test_volumes_at_small_scale():
    small = demo.generate(2022, SMALL)
    assert 140 <= len(small.entities) <= 170
    assert 1_400 <= len(small.penalties) <= 1_600
    assert 380 <= len(small.licenses) <= 420
    assert 5 <= len(small.severe_list) <= 12
    assert 25 <= len(small.objections) <= 40
    assert len(small.progress) == len(demo.generate(2022, 1).progress)  # work points are not scaled


def test_entities_realistic(full):
    entities = full.entities
    assert entities["established"].between("2000-01-01", "2022-12-31").all()
    gone = entities["deregistered"].dropna()
    assert 0.03 < len(gone) / len(entities) < 0.07
    assert gone.between("2021-01-01", "2022-12-31").all()
    assert (gone > entities.loc[gone.index, "established"]).all()
    assert entities["name"].is_unique


def test_penalties_realistic(full):
    p = full.penalties
    assert p["doc_no"].is_unique
    assert p["decision_date"].between("2021-01-01", "2022-12-31").all()
    assert 0.08 < (p["subject_type"] == demo.PERSON).mean() < 0.12
    assert p["fine_wan"].between(0, 10).all() and 0.1 < p["fine_wan"].median() < 1
    # Heavy tail: several entities with 60+ penalties in 2022, some punished by 3+ departments.
    in_2022 = p[(p["decision_date"] >= "2022-01-01") & p["credit_code"].notna()]
    assert 5 <= (in_2022.groupby("credit_code").size() >= 60).sum() <= 30
    departments = in_2022.assign(a=in_2022["authority"].str.strip()).groupby("credit_code")["a"].nunique()
    assert 10 <= (departments >= 3).sum() <= 100
    assert p["authority"].str.endswith("\u3000").any()
    # Dates fall while the entity existed.
    e = full.entities.set_index("credit_code")
    coded = p[p["credit_code"].notna()]
    assert (coded["decision_date"].to_numpy() >= e.loc[coded["credit_code"], "established"].to_numpy()).all()


def test_severe_share_falls_during_2022(full):
    s, e = full.severe_list, full.entities

    def share(day: str) -> float:
        on = s[(s["listed_on"] <= day) & (s["removed_on"].isna() | (s["removed_on"] > day))]
        alive = e[(e["established"] <= day) & (e["deregistered"].isna() | (e["deregistered"] > day))]
        return on["credit_code"].isin(alive["credit_code"]).sum() / len(alive)

    shares = [share(f"2022-{m:02d}-28") for m in range(1, 13)]
    assert shares[-1] < 0.75 * shares[0]
    assert s["removed_on"].notna().any() and s["removed_on"].isna().any()
    assert set(s["list_name"]) == {lst[0] for lst in demo.SEVERE_LISTS}
    on_now = s[s["removed_on"].isna()].groupby("credit_code")["list_name"].nunique()
    assert (on_now >= 2).sum() >= 2
    assert (s["removed_on"].dropna() > s.loc[s["removed_on"].notna(), "listed_on"]).all()


def test_objections_realistic(full):
    o = full.objections
    assert o["objection_id"].is_unique
    assert ((o["deadline"] - o["filed_on"]).dt.days == demo.OBJECTION_DAYS).all()
    assert set(o["result"]) == set(demo.OBJECTION_RESULTS)
    assert o.loc[o["result"] == "异议成立", "subjective"].isin(["是", "否"]).all()
    assert o.loc[o["result"] != "异议成立", "subjective"].isna().all()
    overdue = o[(o["result"] == "处理中") & (o["deadline"] < pd.Timestamp(demo.AS_OF))]
    assert len(overdue) == demo.OVERDUE_OBJECTIONS
    known = set(full.penalties["doc_no"]) | set(full.licenses["doc_no"])
    assert (~o["doc_no"].isin(known)).sum() == demo.UNKNOWN_OBJECTIONS
    assert o["closed_on"].notna().sum() == (o["result"] != "处理中").sum()


def test_progress_realistic(full):
    p = full.progress
    assert set(p["point_id"]) == set(range(1, 22))
    assert set(p["status"]) == set(demo.PROGRESS_STATUSES)
    assert p["report_date"].between("2022-06-01", "2022-12-31").all()
    assert {type(v) for v in p["progress"]} == {int, str}
    assert all(v.endswith("%") for v in p["progress"] if isinstance(v, str))
    planned = p.groupby("point_id")["planned_date"].first()
    assert (planned == pd.Timestamp("2022-12-31")).sum() == 21 - len(demo.EARLY_PLANNED)
    last = p.sort_values("report_date").groupby("point_id").last()
    overdue = last[(last["planned_date"] < last["report_date"]) & (last["status"] != "已完成")]
    assert len(overdue) == len(demo.EARLY_PLANNED)


# --- the exports ----------------------------------------------------------------


def test_exports_are_deterministic(tmp_path, small_exports):
    again = demo.write_exports(tmp_path / "again", seed=2022, scale=SMALL)
    for path in again:
        assert path.read_bytes() == small_exports[path.name].read_bytes(), path.name
    other = demo.write_exports(tmp_path / "other", seed=7, scale=SMALL)
    assert other[2].read_bytes() != small_exports[other[2].name].read_bytes()


def test_export_files_in_load_order(small_exports):
    assert list(small_exports) == [
        "市场主体名录.xlsx", "严重失信主体名单.csv", "行政处罚_双公示_2021.csv", "行政处罚_双公示_2022.csv",
        "行政许可_双公示.xlsx", "信用异议.csv", "工作要点进展台账.xlsx",
    ]  # fmt: skip


def test_export_shapes(small_exports):
    files = small_exports
    entities = read_xlsx(files["市场主体名录.xlsx"], skip=1)
    # The demo register has the first seven columns; issue 11 added the real registers' columns after them.
    assert list(entities.columns) == [c.label for c in DATASETS["entities"].columns][:7]
    assert read_xlsx(files["市场主体名录.xlsx"]).columns[0].startswith("厦门市交通运输行业市场主体名录")
    assert all(isinstance(v, datetime) for v in entities["成立日期"])  # Excel date cells

    severe_bytes = files["严重失信主体名单.csv"].read_bytes()
    with pytest.raises(UnicodeDecodeError):
        severe_bytes.decode("utf-8")
    severe = read_csv(files["严重失信主体名单.csv"], "gbk")
    assert severe["列入日期"].str.fullmatch(r"\d{4}年\d{1,2}月\d{1,2}日").all()

    raw_2021 = files["行政处罚_双公示_2021.csv"].read_bytes()
    assert raw_2021.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw_2021
    lines = raw_2021.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("厦门市交通运输局行政处罚信息（双公示）2021年度")
    assert lines[1].split(",") == PENALTY_HEADERS
    assert lines[-2].startswith("合计,") and lines[-1].startswith("制表单位")
    body = read_csv(files["行政处罚_双公示_2021.csv"], "utf-8-sig", skip=1).iloc[:-2]
    assert body["处罚决定日期"].str.fullmatch(r"2021/\d{1,2}/\d{1,2}").all()

    pen_2022 = read_csv(files["行政处罚_双公示_2022.csv"], "utf-8-sig")
    assert list(pen_2022.columns) == PENALTY_HEADERS
    dated = pen_2022["处罚决定日期"] != ""
    assert pen_2022.loc[dated, "处罚决定日期"].str.fullmatch(r"2022-\d\d-\d\d").all()

    licenses = pd.read_excel(files["行政许可_双公示.xlsx"], sheet_name=None, engine="calamine", dtype=object)
    assert list(licenses) == ["2021年", "2022年"]
    for sheet in licenses.values():
        assert list(sheet.columns) == LICENSE_HEADERS
        assert all(isinstance(v, datetime) for v in sheet["许可决定日期"])

    objections = read_csv(files["信用异议.csv"], "utf-8")
    assert list(objections.columns) == [c.label for c in DATASETS["objections"].columns]
    progress = read_xlsx(files["工作要点进展台账.xlsx"])
    assert list(progress.columns) == [c.label for c in DATASETS["progress"].columns]


def test_planted_messy_rows(small_exports):
    files = small_exports
    found = {
        "市场主体名录.xlsx": bad_codes(read_xlsx(files["市场主体名录.xlsx"], skip=1)["统一社会信用代码"]),
        "严重失信主体名单.csv": bad_codes(read_csv(files["严重失信主体名单.csv"], "gbk")["统一社会信用代码"]),
        "行政处罚_双公示_2021.csv": bad_codes(
            read_csv(files["行政处罚_双公示_2021.csv"], "utf-8-sig", skip=1)[PENALTY_HEADERS[2]]
        ),
        "行政处罚_双公示_2022.csv": bad_codes(
            read_csv(files["行政处罚_双公示_2022.csv"], "utf-8-sig")[PENALTY_HEADERS[2]]
        ),
        "行政许可_双公示.xlsx": sum(
            bad_codes(sheet[LICENSE_HEADERS[2]])
            for sheet in pd.read_excel(files["行政许可_双公示.xlsx"], sheet_name=None, engine="calamine").values()
        ),
    }
    assert found == {name: messy["bad_check_char"] for name, messy in demo.MESSY_ROWS.items()}
    pen_2022 = read_csv(files["行政处罚_双公示_2022.csv"], "utf-8-sig")
    assert (pen_2022["处罚决定日期"] == "").sum() == 1
    assert pen_2022["行政处罚决定书文号"].is_unique
    assert demo.REJECTED_ROWS == 6


def test_build_loads_through_ingestion(tmp_path):
    results = demo.build(str(tmp_path / "demo.duckdb"), seed=2022, scale=SMALL)
    assert [r.dataset for r in results] == [
        "entities", "severe_list", "penalties", "penalties", "licenses", "objections", "progress",
    ]  # fmt: skip
    assert sum(r.rejected for r in results) == demo.REJECTED_ROWS
    assert all(r.ok for r in results)
    generated = demo.generate(2022, SMALL)
    loaded = dict.fromkeys(("entities", "severe_list", "penalties", "licenses", "objections", "progress"), 0)
    for r in results:
        loaded[r.dataset] += r.loaded
    assert loaded == {name: len(getattr(generated, name)) for name in loaded}


# --- work points ----------------------------------------------------------------


def test_work_points_csv():
    points = pd.read_csv(ROOT / "data" / "work_points.csv", dtype=str, encoding="utf-8")
    assert list(points.columns) == [c.label for c in DATASETS["work_points"].columns]
    assert points["编号"].astype(int).tolist() == list(range(1, 22))
    assert points["部分"].nunique() == 5 and points["部分"].iloc[0] == "一、推进信用制度落实"
    assert points["标题"].iloc[0] == "严格落实考核指标任务"
    assert not points["标题"].str.endswith("。").any()
    assert not points["内容"].str.contains("牵头单位").any()
    assert (points["牵头单位"] == "局法规处").all()
    assert (points["责任单位"] == "局机关相关处室、局属相关单位").all()
    assert np.array_equal(points.groupby("部分", sort=False).size().to_numpy(), [3, 5, 5, 6, 2])
