"""Every page through Streamlit's AppTest: on a hand-made fixture (exact KPI values), on the demo
database and on an empty one. No page may raise, and each shows its heading and its numbers."""

from __future__ import annotations

import base64
import json
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from analytics import normalize
from analytics.output import charts
from analytics.storage import store
from analytics.storage.users import User
from dashboard import auth, data, labels, privacy, ui
from dashboard.nav import PAGES
from dashboard.uploads import handle_upload
from tests.helpers import section_rollup_frame

APP = str(Path(__file__).resolve().parent.parent / "app.py")
TIMEOUT = 120

HEADINGS = {
    "overview": "交通信用看板 · 总览",
    "work_points": "2022年工作要点进展",
    "severe_share": "严重失信主体占比",
    "objections": "双公示信息异议占比",
    "sector_risk": "行业风险热力图",
    "briefing": "交通信用周报",
    "upload": "数据上传",
    "audit": "审计日志",
}
# The pages of the demo mode (CREDIT_AUTH=none, an analyst's rights): all but the admin's.
DEMO_PAGES = [key for key, p in PAGES.items() if auth.allowed(auth.DEMO_USER, p.permission)]

# Credit codes of the fixture (shape only; the metrics do not check them).
A, B, C, D_ = "91350203MA0000001A", "91350206MA0000002B", "91350203MA0000003C", "91350211MA0000004D"


def build_fixture(path: str) -> None:
    """A tiny store whose numbers at 2022-06-30 (its latest date) are worked out by hand:

    - work points: 1 completed (point 1), 1 overdue (point 2, planned 2022-06-01), point 3 滞后;
    - severe share 全部: May 2/4 = 50% (A, C), June 1/4 = 25% (C removed 2022-06-20);
    - objection ratio 全部, June: 6 records (4 penalties, 2 licenses), 2 objected = 33.33%;
      May: 1 record, 0 objected;
    - risk warnings: A (two lists in force), B (3 departments) = 2; at 2022-05-31 only A... and
      B's penalties are all in June, so 1 then;
    - one objection still 处理中 past its deadline; one objection whose doc_no matches nothing.
    """
    with store.connect(path) as con:
        con.executemany(
            "INSERT INTO entities (credit_code, name, sector, district, established) VALUES (?, ?, ?, ?, ?)",
            [
                [A, "厦门甲货运有限公司", "道路货运", "思明区", date(2020, 1, 1)],
                [B, "厦门乙货运有限公司", "道路货运", "湖里区", date(2020, 1, 1)],
                [C, "厦门丙出租汽车有限公司", "出租汽车", "思明区", date(2020, 1, 1)],
                [D_, "厦门丁出租汽车有限公司", "出租汽车", "集美区", date(2020, 1, 1)],
            ],
        )
        con.executemany(
            "INSERT INTO severe_list (credit_code, name, list_name, listed_on, removed_on, department, reason)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                [A, "厦门甲货运有限公司", "失信被执行人", date(2022, 3, 10), None, "市中级人民法院", "拒不履行"],
                [A, "厦门甲货运有限公司", "重大税收违法失信主体", date(2022, 5, 1), None, "市税务局", "偷税"],
                [
                    C,
                    "厦门丙出租汽车有限公司",
                    "失信被执行人",
                    date(2022, 5, 20),
                    date(2022, 6, 20),
                    "市中级人民法院",
                    "拒不履行",
                ],
            ],
        )
        con.executemany(
            "INSERT INTO penalties (doc_no, subject_name, subject_type, credit_code, decision_date, authority)"
            " VALUES (?, ?, '法人及非法人组织', ?, ?, ?)",
            [
                ["厦交罚〔2022〕1号", "厦门乙货运有限公司", B, date(2022, 6, 2), "厦门市交通运输局"],
                ["厦交罚〔2022〕2号", "厦门乙货运有限公司", B, date(2022, 6, 3), "厦门市交通综合执法支队"],
                ["厦交罚〔2022〕3号", "厦门乙货运有限公司", B, date(2022, 6, 4), "厦门市港口管理局"],
                ["厦交罚〔2022〕4号", "厦门丁出租汽车有限公司", D_, date(2022, 6, 5), "厦门市交通运输局"],
                ["厦交罚〔2022〕5号", "厦门丁出租汽车有限公司", D_, date(2022, 5, 5), "厦门市交通运输局"],
            ],
        )
        con.executemany(
            "INSERT INTO licenses (doc_no, subject_name, credit_code, decision_date, authority)"
            " VALUES (?, ?, ?, ?, '厦门市交通运输局')",
            [
                ["厦交许〔2022〕1号", "厦门甲货运有限公司", A, date(2022, 6, 10)],
                ["厦交许〔2022〕2号", "厦门丙出租汽车有限公司", C, date(2022, 6, 11)],
            ],
        )
        con.executemany(
            "INSERT INTO objections (objection_id, doc_no, category, filed_on, result, subjective, closed_on, deadline)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                [
                    "YY001",
                    "厦交罚〔2022〕1号",
                    "行政处罚",
                    date(2022, 6, 15),
                    "异议成立",
                    True,
                    date(2022, 6, 18),
                    date(2022, 6, 22),
                ],
                ["YY002", "厦交许〔2022〕1号", "行政许可", date(2022, 6, 12), "处理中", None, None, date(2022, 6, 20)],
                [
                    "YY003",
                    "厦交罚〔2099〕9号",
                    "行政处罚",
                    date(2022, 6, 1),
                    "异议不成立",
                    False,
                    date(2022, 6, 5),
                    date(2022, 6, 10),
                ],
            ],
        )
        con.executemany(
            "INSERT INTO progress (point_id, report_date, progress, status, planned_date, unit, note)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                [1, date(2022, 3, 31), 60, "推进中", date(2022, 12, 31), "局法规处", "已分解任务"],
                [1, date(2022, 6, 30), 100, "已完成", date(2022, 12, 31), "局法规处", "全部指标已落实"],
                [2, date(2022, 6, 30), 50, "推进中", date(2022, 6, 1), "局法规处", "配套办法学习中"],
                [3, date(2022, 6, 30), 20, "滞后", date(2022, 12, 31), "局法规处", "待上级文件"],
            ],
        )
        # Issue 12: the exports are stated to cover the first half of 2022, so the app opens at 30 June. The log
        # entry names no dataset: the rows above were written here, so it is not an upload that can be undone.
        con.execute(
            "INSERT INTO uploads (id, uploaded_at, file_name, sha256, dataset, status)"
            " VALUES (1, TIMESTAMP '2022-07-01 09:00', 'exports.xlsx', '', '', 'loaded')"
        )
        con.execute(
            "INSERT INTO upload_coverage VALUES (1, 'penalties', DATE '2022-01-01', DATE '2022-06-30', true),"
            " (1, 'licenses', DATE '2022-01-01', DATE '2022-06-30', true)"
        )


@pytest.fixture(scope="session")
def fixture_db(tmp_path_factory) -> str:
    path = str(tmp_path_factory.mktemp("fixture") / "fixture.duckdb")
    build_fixture(path)
    return path


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory) -> str:
    from analytics import demo

    path = str(tmp_path_factory.mktemp("demo") / "demo.duckdb")
    demo.build(path, seed=2022, scale=0.1)
    return path


@pytest.fixture
def empty_db(tmp_path) -> str:
    path = str(tmp_path / "empty.duckdb")
    with store.connect(path):
        pass
    return path


def open_page(monkeypatch, db: str, page: str, query: dict | None = None) -> AppTest:
    monkeypatch.setenv("CREDIT_DB", db)
    monkeypatch.delenv("CREDIT_AUTH", raising=False)  # the demo mode: no sign-in
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    if query:
        at.query_params.update(query)
    at.run()
    if page != "overview":
        at.switch_page(PAGES[page].path).run()
    return at


def assert_clean(at: AppTest, heading: str) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert not [w.value for w in at.warning if "计算失败" in w.value]
    assert heading in [t.value for t in at.title]


def metric(at: AppTest, label: str) -> str:
    found = [m for m in at.metric if m.label == label]
    assert found, f"no metric {label!r}; have {[m.label for m in at.metric]}"
    return found[0].value


def metric_el(at: AppTest, label: str):
    return next(m for m in at.metric if m.label == label)


def plotly_array(value) -> np.ndarray:
    """A Plotly figure's array as sent to the browser: a list, or base64 bytes with a dtype and a shape."""
    if isinstance(value, list):
        return np.array(value)
    shape = [int(n) for n in str(value["shape"]).split(",")]
    return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"]).reshape(shape)


# --------------------------------------------------------------------------- fixture: exact numbers


def test_overview_kpis_on_fixture(monkeypatch, fixture_db):
    at = open_page(monkeypatch, fixture_db, "overview")
    assert_clean(at, HEADINGS["overview"])
    assert at.date_input(key="f_as_of").value == date(2022, 6, 30)  # latest date in the data
    assert metric(at, "工作要点已完成") == "1 / 21 项"
    assert metric(at, "逾期要点") == "1 项"
    assert metric(at, "严重失信主体占比（全部）") == "25.00%"
    assert metric_el(at, "严重失信主体占比（全部）").delta == "-25.00 个百分点"
    # Issue 16: the card shows the latest mature month, April (30 June - 30 April = 61 >= 60 days), which has
    # no decision: absent, not 0%. June's 2 of 6 = 33.33% is only provisional, in the caption.
    assert metric(at, "双公示异议占比") == "—"
    assert any(c.value.startswith("2022年4月（已过异议期）；3月 —") for c in at.caption)
    assert any("本月暂计 33.33%（异议期内，数据未成熟）" in c.value for c in at.caption)
    assert metric(at, "风险预警主体") == "2 户"
    assert metric_el(at, "风险预警主体").delta == "+1 户"
    status = at.table[0].value
    assert status.loc["行政处罚（双公示）", "记录数(条)"] == "5"
    links = [p.proto.page for p in at.get("page_link")]
    assert any("severe_share" in link for link in links)


def test_url_state_is_read_and_written(monkeypatch, fixture_db):
    at = open_page(monkeypatch, fixture_db, "overview", {"as_of": "2022-05-31", "months": "6", "sector": "道路货运"})
    assert_clean(at, HEADINGS["overview"])
    assert at.date_input(key="f_as_of").value == date(2022, 5, 31)
    assert at.selectbox(key="f_months").value == 6
    assert at.selectbox(key="f_sector").value == "道路货运"
    assert at.query_params["as_of"] == ["2022-05-31"] or at.query_params["as_of"] == "2022-05-31"
    # 道路货运 in May: A of A, B on a list = 50%.
    assert metric(at, "严重失信主体占比（道路货运）") == "50.00%"
    at.selectbox(key="f_district").select("湖里区").run()
    assert str(at.query_params.get("district")).strip("[]'") == "湖里区"
    # Switching pages keeps the filters (they live in the session and are written back to the URL).
    at.switch_page(PAGES["severe_share"].path).run()
    assert_clean(at, HEADINGS["severe_share"])
    assert at.selectbox(key="f_district").value == "湖里区"
    assert str(at.query_params.get("as_of")).strip("[]'") == "2022-05-31"


def test_bad_url_values_fall_back(monkeypatch, fixture_db):
    at = open_page(monkeypatch, fixture_db, "overview", {"as_of": "not-a-date", "months": "999", "sector": "火星"})
    assert_clean(at, HEADINGS["overview"])
    assert at.date_input(key="f_as_of").value == date(2022, 6, 30)
    assert at.selectbox(key="f_months").value == 12
    assert at.selectbox(key="f_sector").value == "全部"


def test_work_points_page_on_fixture(monkeypatch, fixture_db):
    at = open_page(monkeypatch, fixture_db, "work_points")
    assert_clean(at, HEADINGS["work_points"])
    assert metric(at, "已完成") == "1 项"
    assert metric(at, "滞后") == "1 项"
    assert metric(at, "逾期") == "1 项"
    assert metric(at, "未启动") == "18 项"
    assert len(at.get("plotly_chart")) == 3
    at.multiselect(key="wp_status").select("滞后").run()
    assert metric(at, "要点数") == "1 项"
    detail = at.dataframe[-1].value
    assert list(detail["编号"]) == [3]


def test_a_chart_is_rebuilt_when_its_numbers_change_and_reused_when_not(monkeypatch, fixture_db):
    at = open_page(monkeypatch, fixture_db, "work_points")
    first = [c.proto.spec for c in at.get("plotly_chart")]
    at.multiselect(key="wp_status").select("滞后").run()
    progress = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert [t["name"] for t in progress["data"]] == ["滞后"]  # the filtered points, not a cached chart of all 21
    at.multiselect(key="wp_status").unselect("滞后").run()
    assert [c.proto.spec for c in at.get("plotly_chart")] == first  # back to the same, unchanged figures


def test_figure_cache_keys_on_the_numbers_and_arguments():
    frame = section_rollup_frame()
    as_of = date(2022, 6, 30)
    fig = ui.figure(charts.section_rollup, frame, as_of, "台账")
    assert fig.to_json() == charts.section_rollup(frame, as_of, "台账").to_json()
    assert ui.figure(charts.section_rollup, frame.copy(), as_of, "台账") is fig  # equal numbers: reused
    changed = ui.figure(charts.section_rollup, frame.assign(progress=[60.0, 20.0]), as_of, "台账")
    assert changed is not fig and list(changed.data[0].x) == [60.0, 20.0] and list(fig.data[0].x) == [50.0, 20.0]
    renamed = frame.rename(columns={"overdue": "late"}).assign(overdue=frame["overdue"])
    assert ui.figure(charts.section_rollup, renamed, as_of, "台账") is not fig  # other columns: another key
    assert ui.figure(charts.section_rollup, frame, date(2022, 5, 31), "台账") is not fig
    assert ui.figure(charts.section_rollup, frame, as_of, "其他来源") is not fig
    empty = pd.DataFrame(columns=["month", "category"])
    trend = ui.figure(charts.objection_trend, empty, as_of, "异议")
    quality = ui.figure(charts.objection_quality, empty, as_of, "异议")  # same arguments, another builder
    assert trend.layout.title.text == "双公示信息异议占比（%）"
    assert quality.layout.title.text == "异议成立率与主观失误率（%）"


def test_severe_share_page_lists_entities(monkeypatch, fixture_db):
    at = open_page(monkeypatch, fixture_db, "severe_share")
    assert_clean(at, HEADINGS["severe_share"])
    assert metric(at, "2022-06 占比（全部）") == "25.00%"
    at.selectbox(key="ss_month").select("2022-05").run()
    detail = at.dataframe[-1].value
    # In force at 2022-05-31: A's two lists and C's. Demo mode has an analyst's rights: full codes
    # (a viewer's masked codes are in test_access.py).
    assert sorted(detail["统一社会信用代码"]) == sorted([A, A, C])
    at.number_input(key="ss_target").set_value(20.0).run()
    assert str(at.query_params.get("target")).strip("[]'") == "20"


def test_objections_page_on_fixture(monkeypatch, fixture_db):
    at = open_page(monkeypatch, fixture_db, "objections")
    assert_clean(at, HEADINGS["objections"])
    # Issue 16: April is the latest mature month (no decision: "—"); June (2 of 6, 1 upheld) is provisional.
    assert metric(at, "2022年4月异议占比（已过异议期）") == "—"
    assert metric(at, "2022年4月异议成立率") == "—"
    assert any("本月（2022年6月）暂计异议占比 33.33%（异议 2 / 公示 6 条）" in c.value for c in at.caption)
    assert any("2022年5月、2022年6月仍在异议期内" in c.value for c in at.caption)
    overdue = at.dataframe[0].value
    assert list(overdue["异议编号"]) == ["YY002"]
    assert list(overdue["超期天数"]) == [10]
    assert any("1 件异议的决定文书号" in w.value for w in at.warning)


def test_sector_risk_page_on_fixture(monkeypatch, fixture_db):
    at = open_page(monkeypatch, fixture_db, "sector_risk")
    assert_clean(at, HEADINGS["sector_risk"])
    assert metric(at, "预警主体") == "2 户"
    table = at.dataframe[-1].value
    assert set(table["预警原因"]) == {"列入多个严重失信名单", "3个及以上部门处罚"}
    assert len(at.get("deck_gl_json_chart")) == 1
    for measure in ("per_100", "severe_share", "warnings"):
        at.radio(key="sr_measure").set_value(measure).run()
        assert_clean(at, HEADINGS["sector_risk"])
    # Warnings at each month end, July 2021 .. June 2022: A from May (its second list, 2022-05-01),
    # B in June (its three departments); C's one list never warns.
    heatmap = json.loads(at.get("plotly_chart")[0].proto.spec)["data"][0]
    assert heatmap["y"] == ["出租汽车", "道路货运"] and heatmap["x"][-2:] == ["2022-05", "2022-06"]
    # Issue 12: July–December 2021 lie before the stated coverage (from 2022-01-01): empty cells (-1 here), not 0.
    z = np.nan_to_num(plotly_array(heatmap["z"]).astype(float), nan=-1).tolist()
    assert z == [[-1] * 6 + [0] * 6, [-1] * 6 + [0] * 4 + [1, 2]]


@pytest.mark.parametrize("page", ["overview", "sector_risk", "upload"])
def test_a_rerun_reads_the_data_version_once(monkeypatch, fixture_db, page):
    at = open_page(monkeypatch, fixture_db, page)
    read = []
    version = data.version
    monkeypatch.setattr(data, "version", lambda db: read.append(db) or version(db))
    at.run()
    assert_clean(at, HEADINGS[page])
    assert read == [fixture_db]


def test_large_tables_and_every_entity_table_build_their_csv_only_when_clicked(monkeypatch, fixture_db):
    at = open_page(monkeypatch, fixture_db, "sector_risk")
    inline = {b.proto.id: b.proto for b in at.get("download_button")}
    district = next(b for b in inline.values() if b.id.endswith("dl_csv_sr_district"))
    assert district.url and not district.deferred_file_id  # six aggregate rows: the CSV is in the page
    # Entity-level rows (issue 24): never in the page, even 2 of them; built on click, expiring seconds later.
    warnings = next(b for b in inline.values() if b.id.endswith("dl_csv_sr_warnings"))
    assert warnings.deferred_file_id and not warnings.url
    xlsx = next(b for b in inline.values() if b.id.endswith("dl_xlsx_sr_warnings"))
    assert xlsx.deferred_file_id and not xlsx.url  # every XLSX is built on click
    monkeypatch.setattr(ui, "LAZY_CSV_ROWS", 2)
    at.run()
    large = next(b.proto for b in at.get("download_button") if b.proto.id.endswith("dl_csv_sr_district"))
    assert large.deferred_file_id and not large.url


def test_a_download_is_masked_for_the_role_it_was_built_for():
    frame = pd.DataFrame({"credit_code": [A], "name": ["厦门甲货运有限公司"], "penalties_12m": [3]})
    viewer = ui.download_table(frame, User("v", "viewer"))
    assert list(viewer.columns) == ["统一社会信用代码", "主体名称", "近一年处罚数(件)"]
    assert viewer.iloc[0, 0] == privacy.mask_code(A) != A
    assert ui.download_table(frame, auth.DEMO_USER).iloc[0, 0] == A  # an analyst's rights


def test_upload_page_loads_a_file(monkeypatch, tmp_path):
    db = str(tmp_path / "up.duckdb")
    build_fixture(db)
    at = open_page(monkeypatch, db, "upload")
    assert_clean(at, HEADINGS["upload"])
    code = "91350203MA2Y4G0P7" + normalize.credit_code_check_char("91350203MA2Y4G0P7")
    csv = (
        "统一社会信用代码,名称,行业,所在区,成立日期\n"
        f"{code},厦门新上传运输有限公司,道路货运,思明区,2021-03-01\n"
        "BADCODE,坏行,道路货运,思明区,2021-03-01\n"
    ).encode()
    at.file_uploader(key="up_files").set_value(("名录.csv", csv, "text/csv")).run()
    assert not at.exception, [e.value for e in at.exception]
    assert metric(at, "读取行数") == "2"
    assert metric(at, "拒收") == "1"
    history = at.dataframe[-1].value
    assert history["文件名"].iloc[0] == "名录.csv"
    # The overview sees the new data at once (cache keyed on the data version).
    at.switch_page(PAGES["overview"].path).run()
    status = at.table[0].value
    assert status.loc["市场主体名录", "记录数(条)"] == "5"


def test_upload_page_fills_a_lists_missing_columns(monkeypatch, tmp_path):
    """A list as platforms publish it lacks 名单名称 and 列入日期: refused, the page asks for both, and the
    same file loads once they are filled in."""
    db = str(tmp_path / "fill.duckdb")
    build_fixture(db)
    at = open_page(monkeypatch, db, "upload")
    csv = "序号,企业名称,组织机构代码\n1,厦门某某物流有限公司,74419092-7\n2,厦门另一运输有限公司,15494005-4\n".encode()
    at.file_uploader(key="up_files").set_value(("黑名单.csv", csv, "text/csv")).run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("名单名称" in e.value and "列入日期" in e.value for e in at.error)
    assert "读取行数" not in [m.label for m in at.metric]  # refused unread: no row of zero counts
    assert at.dataframe[-1].value["数据集"].iloc[0] == "未识别"  # the history's row, not "nan"
    at.text_input(key="up_fill_0_名单名称").set_value("交通运输严重失信名单")
    at.text_input(key="up_fill_0_列入日期").set_value("2022-05-01")
    at.button[[b.label for b in at.button].index("填写后重新导入")].click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert metric(at, "读取行数") == "2" and metric(at, "拒收") == "0"
    assert any("名单名称＝交通运输严重失信名单，列入日期＝2022\\-05\\-01" in c.value for c in at.caption)
    with store.connect(db, read_only=True) as con:
        rows = con.execute(
            "SELECT org_code, list_name, listed_on FROM severe_list WHERE name = '厦门某某物流有限公司'"
        ).fetchall()
    assert [(code, name, str(day)) for code, name, day in rows] == [("744190927", "交通运输严重失信名单", "2022-05-01")]


def test_upload_handler_directly(tmp_path):
    db = str(tmp_path / "h.duckdb")
    with store.connect(db):
        pass
    bad = handle_upload(db, [("空.csv", b"")])
    assert len(bad) == 1 and not bad[0].ok and bad[0].message


# --------------------------------------------------------------------------- demo and empty databases


@pytest.mark.parametrize("page", DEMO_PAGES)
def test_every_page_on_demo(monkeypatch, demo_db, page):
    at = open_page(monkeypatch, demo_db, page)
    assert_clean(at, HEADINGS[page])
    assert at.date_input(key="f_as_of").value.year == 2022  # opens on the demo's last month, not today
    if page != "upload":
        assert at.metric, "no metric cards"
    if page in ("work_points", "severe_share", "objections", "sector_risk"):
        assert at.get("plotly_chart"), "no chart"
    assert not [i.value for i in at.info if "数据库中还没有任何数据" in i.value]


@pytest.mark.parametrize("page", DEMO_PAGES)
def test_every_page_on_empty_db(monkeypatch, empty_db, page):
    at = open_page(monkeypatch, empty_db, page)
    assert_clean(at, HEADINGS[page])
    if page != "upload":
        assert at.info or at.success, "an empty store must explain itself"
        links = [p.proto.page for p in at.get("page_link")]
        assert any("upload" in link for link in links), links


def test_missing_db_builds_demo(monkeypatch, tmp_path):
    db = tmp_path / "fresh" / "credit.duckdb"
    calls = []

    def fake_build(path, seed=2022, scale=1):
        calls.append(path)
        build_fixture(path)

    import analytics.demo

    monkeypatch.setattr(analytics.demo, "build", fake_build)
    at = open_page(monkeypatch, str(db), "overview")
    assert_clean(at, HEADINGS["overview"])
    assert calls == [str(db)]
    assert metric(at, "风险预警主体") == "2 户"


# --------------------------------------------------------------------------- pure helpers


def test_mask_code():
    assert privacy.mask_code("91350203MA2Y4G0P7H") == "913502**********7H"
    assert privacy.mask_code(None) is None
    assert privacy.mask_code("") == ""
    assert privacy.mask_code("1234") == "****"


def test_reason_labels():
    assert labels.reasons_text(["penalties_60", "departments_3", "severe_lists_2"]) == (
        "一年内处罚60次以上；3个及以上部门处罚；列入多个严重失信名单"
    )
    assert labels.reason_label("penalties_80") == "一年内处罚80次以上"


def test_upload_while_another_session_reads(tmp_path):
    """The server's sessions are threads of one process: reads must not lock uploads out."""
    import threading

    from dashboard import data

    db = str(tmp_path / "busy.duckdb")
    build_fixture(db)
    stop = threading.Event()
    failures: list[str] = []

    def keep_reading() -> None:
        while not stop.is_set():
            try:
                with data.connect(db) as con:
                    con.execute("SELECT count(*) FROM penalties").fetchall()
            except Exception as exc:  # pragma: no cover - the failure being guarded against
                failures.append(repr(exc))

    reader = threading.Thread(target=keep_reading)
    reader.start()
    try:
        results = [
            handle_upload(
                db,
                [(f"进展{i}.csv", f"要点编号,填报日期,完成进度,状态\n4,2022-0{i + 1}-15,{10 * i},推进中\n".encode())],
            )[0]
            for i in range(5)
        ]
    finally:
        stop.set()
        reader.join()
    assert [r.ok for r in results] == [True] * 5, [r.message for r in results]
    assert not failures
