"""The metric layer: every metric checked against numbers worked out by hand.

Each test builds a tiny DuckDB store in tmp_path and inserts hand-made rows
with SQL; the comments next to the expectations show the arithmetic.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import duckdb
import pytest

from analytics.compute import metrics
from analytics.settings import Settings
from analytics.storage import store

D = date  # short alias for the many dates below


# --------------------------------------------------------------------------- helpers


@pytest.fixture
def con(tmp_path):
    with store.connect(str(tmp_path / "t.duckdb")) as c:
        yield c


def add_entity(con, code, sector, district, established, deregistered=None, name=None):
    con.execute(
        "INSERT INTO entities (credit_code, name, sector, district, established, deregistered) VALUES (?, ?, ?, ?, ?, ?)",
        [code, name or f"{code}公司", sector, district, established, deregistered],
    )


def add_list(con, code, list_name, listed_on, removed_on=None, name=None, department="市交通运输局", reason="失信"):
    con.execute(
        "INSERT INTO severe_list (credit_code, name, list_name, listed_on, removed_on, department, reason)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        [code, name or f"{code}名单名称", list_name, listed_on, removed_on, department, reason],
    )


def add_penalty(con, doc_no, code, decision_date, authority="市交通执法支队", subject=None):
    con.execute(
        "INSERT INTO penalties (doc_no, subject_name, credit_code, decision_date, authority) VALUES (?, ?, ?, ?, ?)",
        [doc_no, subject or f"{code}当事人", code, decision_date, authority],
    )


def add_penalties(con, prefix, code, n, first_day, authority="市交通执法支队"):
    """n penalty records for code, dated first_day, first_day + 1, ... (one per day)."""
    con.execute(
        "INSERT INTO penalties (doc_no, subject_name, credit_code, decision_date, authority)"
        " SELECT ? || i, '批量当事人', ?, ?::DATE + i::INTEGER, ? FROM range(?) AS t(i)",
        [prefix, code, first_day, authority, n],
    )


def add_license(con, doc_no, code, decision_date, authority="行政审批处"):
    con.execute(
        "INSERT INTO licenses (doc_no, subject_name, credit_code, decision_date, authority) VALUES (?, ?, ?, ?, ?)",
        [doc_no, f"{code}当事人", code, decision_date, authority],
    )


def add_objection(con, oid, doc_no, category, filed_on, result, subjective=None, deadline=None, closed_on=None):
    con.execute(
        "INSERT INTO objections (objection_id, doc_no, category, filed_on, result, subjective, closed_on, deadline)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [oid, doc_no, category, filed_on, result, subjective, closed_on, deadline],
    )


def add_point(con, pid, title=None):
    con.execute(
        "INSERT INTO work_points (id, section, section_title, title, lead_unit, responsible_units)"
        " VALUES (?, 1, '推进信用制度落实', ?, '市交通运输局', '各处室')",
        [pid, title or f"要点{pid}"],
    )


def add_progress(con, pid, report_date, progress, status, planned_date=None, note=None):
    con.execute(
        "INSERT INTO progress (point_id, report_date, progress, status, planned_date, note) VALUES (?, ?, ?, ?, ?, ?)",
        [pid, report_date, progress, status, planned_date, note],
    )


def rows(con, name, as_of, **kw):
    return metrics.records(con, name, as_of, **kw)


def by(rows_, *keys):
    return {tuple(r[k] for k in keys) if len(keys) > 1 else r[keys[0]]: r for r in rows_}


DEFAULTS = Settings()  # 60 / 3 / 2, independent of CREDIT_* environment variables


# --------------------------------------------------------------------------- registry and docs


def test_every_sql_file_is_registered_and_every_metric_has_a_file():
    files = {p.stem for p in metrics.metric_files()}
    assert files == set(metrics.METRICS), "每个 .sql 查询都必须在 METRICS 中登记，反之亦然"
    assert metrics.MACROS_PATH.exists() and metrics.MACROS_PATH not in metrics.metric_files()


def test_shared_definitions_live_only_in_the_macros_file():
    """The month window, the week series and objections per record are written once, in _macros.sql."""
    macros = metrics.MACROS_PATH.read_text(encoding="utf-8")
    for fragment in ("generate_series", "to_months", "bool_or(result"):
        assert fragment in macros, fragment
        for path in metrics.metric_files():
            assert fragment not in path.read_text(encoding="utf-8"), f"{path.name} spells out {fragment} again"


def test_macros_are_created_on_read_only_connections(tmp_path):
    db = str(tmp_path / "ro.duckdb")
    with store.connect(db) as c:
        add_entity(c, "C1", "道路货物运输", "思明区", D(2020, 1, 1))
    ro = duckdb.connect(db, read_only=True)
    try:
        df = metrics.run(ro, "severe_share", D(2024, 2, 29), months=2)
        assert list(df["month"].unique()) == ["2024-01", "2024-02"]
        assert metrics.run(ro, "objection_ratio", D(2024, 2, 29), months=1)["records"].tolist() == [0, 0, 0]
    finally:
        ro.close()


def test_every_metric_has_definitions_and_a_docs_entry():
    docs = metrics.DOCS_PATH.read_text(encoding="utf-8")
    for name, m in metrics.METRICS.items():
        assert m.name == name
        assert m.title_zh.strip() and m.definition_zh.strip() and m.definition_en.strip(), name
        assert f"## {name} " in docs, f"docs/metrics.md has no entry for {name}"
        assert m.definition_zh in docs and m.definition_en in docs, f"docs/metrics.md is stale for {name}"
    assert docs == metrics.render_docs(), "docs/metrics.md is stale: run python -m analytics docs"


def test_columns_match_registry_on_empty_database(con):
    for name, m in metrics.METRICS.items():
        df = metrics.run(con, name, D(2024, 2, 29), months=3)
        assert tuple(df.columns) == m.columns, name
        if m.json_columns:
            assert set(m.json_columns) <= set(m.columns), name


def test_sql_params_ignore_comments_and_strings():
    assert metrics.sql_params("-- $nope\nSELECT '$not' AS x, $as_of, $months + $months") == {"as_of", "months"}


def test_unknown_metric_and_bad_months(con):
    with pytest.raises(KeyError):
        metrics.run(con, "no_such_metric", D(2024, 1, 1))
    with pytest.raises(ValueError):
        metrics.run(con, "severe_share", D(2024, 1, 1), months=0)


def test_no_streamlit_in_metric_layer():
    src = (metrics.QUERIES_DIR.parent / "metrics.py").read_text(encoding="utf-8")
    assert "streamlit" not in src


# --------------------------------------------------------------------------- months_window


def test_months_window():
    assert metrics.months_window(D(2024, 2, 29), 3) == ["2023-12", "2024-01", "2024-02"]
    assert metrics.months_window(D(2024, 1, 15), 1) == ["2024-01"]
    w = metrics.months_window(D(2024, 6, 30), 12)
    assert len(w) == 12 and w[0] == "2023-07" and w[-1] == "2024-06"
    with pytest.raises(ValueError):
        metrics.months_window(D(2024, 6, 30), 0)


# --------------------------------------------------------------------------- work_points


def test_work_points(con):
    as_of = D(2024, 6, 30)
    # The store seeds the 21 shipped points; replace them by 5 hand-made ones to keep the arithmetic small.
    con.execute("DELETE FROM work_points")
    for pid in range(1, 6):
        add_point(con, pid)
    # 1: latest report dated exactly D counts → 50, 推进中; planned 06-29 < D → overdue.
    add_progress(con, 1, D(2024, 5, 1), 30, "推进中")
    add_progress(con, 1, D(2024, 6, 30), 50, "推进中", D(2024, 6, 29), note="按计划推进")
    # 2: the report after D is ignored → 20.65, 滞后; planned date == D → not overdue.
    add_progress(con, 2, D(2024, 6, 1), 20.65, "滞后", D(2024, 6, 30))
    add_progress(con, 2, D(2024, 7, 1), 100, "已完成")
    # 3: progress 100 while status says 推进中 → 已完成; planned long ago but completed → not overdue.
    add_progress(con, 3, D(2024, 6, 10), 100, "推进中", D(2024, 1, 1))
    # 4: no report → 0, 未启动, not overdue.
    # 5: status 已完成 at 90% → 已完成 (progress stays 90), planned before D but not overdue.
    add_progress(con, 5, D(2024, 3, 1), 90, "已完成", D(2024, 2, 1))

    pts = by(rows(con, "work_points", as_of), "id")
    assert (pts[1]["progress"], pts[1]["status"], pts[1]["overdue"]) == (50, "推进中", True)
    assert pts[1]["report_date"] == "2024-06-30" and pts[1]["planned_date"] == "2024-06-29"
    assert pts[1]["note"] == "按计划推进" and pts[1]["section_title"] == "推进信用制度落实"
    assert (pts[2]["progress"], pts[2]["status"], pts[2]["overdue"]) == (20.65, "滞后", False)
    assert (pts[3]["progress"], pts[3]["status"], pts[3]["overdue"]) == (100, "已完成", False)
    assert (pts[4]["progress"], pts[4]["status"], pts[4]["overdue"]) == (0, "未启动", False)
    assert pts[4]["report_date"] is None and pts[4]["planned_date"] is None
    assert (pts[5]["progress"], pts[5]["status"], pts[5]["overdue"]) == (90, "已完成", False)

    wp = metrics.compute_all(con, as_of, settings=DEFAULTS)["work_points"]
    # mean = (50 + 20.65 + 100 + 0 + 90) / 5 = 260.65 / 5 = 52.13 → 52.1
    assert {k: v for k, v in wp.items() if k != "points"} == {
        "total": 5, "completed": 2, "in_progress": 1, "lagging": 1, "not_started": 1, "overdue": 1,
        "mean_progress": 52.1,
    }  # fmt: skip
    assert [p["id"] for p in wp["points"]] == [1, 2, 3, 4, 5]
    assert {"id", "title", "progress", "status", "planned_date", "overdue"} <= set(wp["points"][0])

    # Before any report: everything 未启动.
    early = metrics.compute_all(con, D(2024, 1, 1), settings=DEFAULTS)["work_points"]
    assert (early["not_started"], early["mean_progress"], early["overdue"]) == (5, 0.0, 0)


# --------------------------------------------------------------------------- severe_share


@pytest.fixture
def severe_db(con):
    # D = 2024-03-15, 3 months: 2024-01 (E = 01-31), 2024-02 (E = 02-29), 2024-03 (E = D = 03-15).
    add_entity(con, "A1", "道路运输", "思明区", D(2020, 1, 1))
    add_entity(con, "A2", "道路运输", "思明区", D(2024, 2, 10))  # active from Feb
    add_entity(con, "A3", "道路运输", "思明区", D(2020, 1, 1), D(2024, 2, 29))  # deregistered on Feb's E
    add_entity(con, "B1", "水路运输", "湖里区", D(2020, 1, 1))
    add_entity(con, "C1", "城市公交", "集美区", D(2025, 1, 1))  # never active in the window
    add_list(con, "A1", "L1", D(2023, 6, 1), D(2024, 2, 29))  # removed exactly on Feb's E
    add_list(con, "A1", "L2", D(2024, 3, 15))  # listed exactly on March's E = D
    add_list(con, "A2", "L1", D(2024, 1, 1), D(2024, 3, 1))
    add_list(con, "A3", "L1", D(2023, 1, 1))
    add_list(con, "B1", "L1", D(2024, 3, 16))  # after D
    add_list(con, "X9", "L1", D(2023, 1, 1))  # not in the register: unmatched
    return con


def test_severe_share(severe_db):
    got = by(rows(severe_db, "severe_share", D(2024, 3, 15), months=3), "month", "sector")
    expected = {
        # Jan: 道路 active A1, A3 (A2 not yet); severe A1 (L1 in force), A3 → 2/2.
        ("2024-01", "道路运输"): (2, 2, 1.0),
        ("2024-01", "水路运输"): (1, 0, 0.0),
        ("2024-01", "城市公交"): (0, 0, None),
        ("2024-01", "全部"): (3, 2, 2 / 3),
        # Feb (E = 02-29): A3 deregistered on E → not active; A1's L1 removed on E → not in force;
        # A2's L1 in force → 道路 1/2.
        ("2024-02", "道路运输"): (2, 1, 0.5),
        ("2024-02", "水路运输"): (1, 0, 0.0),
        ("2024-02", "城市公交"): (0, 0, None),
        ("2024-02", "全部"): (3, 1, 1 / 3),
        # Mar (E = 03-15): A1's L2 listed on E → in force; A2's L1 removed 03-01 → 道路 1/2; B1 listed after D.
        ("2024-03", "道路运输"): (2, 1, 0.5),
        ("2024-03", "水路运输"): (1, 0, 0.0),
        ("2024-03", "城市公交"): (0, 0, None),
        ("2024-03", "全部"): (3, 1, 1 / 3),
    }
    assert {k: (r["entities"], r["severe"], r["share"]) for k, r in got.items()} == pytest.approx(expected)
    assert rows(severe_db, "unmatched", D(2024, 3, 15))[0]["severe_list"] == 1  # X9


def test_severe_share_filters(severe_db):
    water = rows(severe_db, "severe_share", D(2024, 3, 15), months=3, sector="水路运输")
    assert [(r["month"], r["sector"], r["entities"]) for r in water] == [
        ("2024-01", "水路运输", 1), ("2024-02", "水路运输", 1), ("2024-03", "水路运输", 1),
    ]  # fmt: skip
    huli = rows(severe_db, "severe_share", D(2024, 1, 31), months=1, district="湖里区")
    # Only B1 is in 湖里区: 全部 = 水路运输 = 1 entity, 0 severe.
    assert [(r["sector"], r["entities"], r["severe"]) for r in huli] == [("全部", 1, 0), ("水路运输", 1, 0)]


def test_severe_entities(severe_db):
    # At Feb's E = 2024-02-29: A2/L1, A3/L1, X9/L1 in force; A1/L1 removed exactly on E → out.
    got = rows(severe_db, "severe_entities", D(2024, 2, 29))
    assert sorted((r["credit_code"], r["list_name"]) for r in got) == [("A2", "L1"), ("A3", "L1"), ("X9", "L1")]
    x9 = by(got, "credit_code")["X9"]
    assert (x9["name"], x9["sector"], x9["district"], x9["in_register"]) == ("X9名单名称", "未登记", "未登记", False)
    a2 = by(got, "credit_code")["A2"]
    assert (a2["name"], a2["sector"], a2["district"], a2["listed_on"]) == ("A2公司", "道路运输", "思明区", "2024-01-01")
    assert [r["credit_code"] for r in rows(severe_db, "severe_entities", D(2024, 2, 29), sector="未登记")] == ["X9"]


# --------------------------------------------------------------------------- objections


@pytest.fixture
def objection_db(con):
    # D = 2024-03-15, 2 months: Feb and Mar.
    add_penalty(con, "P1", "E1", D(2024, 2, 1))
    add_penalty(con, "P2", "E1", D(2024, 2, 29))
    add_penalty(con, "P3", "E1", D(2024, 3, 15), authority="港口局")  # decided exactly on D: counts
    add_penalty(con, "P4", "E1", D(2024, 3, 16))  # after D
    add_penalty(con, "P5", "E1", D(2024, 1, 31))  # before the window
    add_license(con, "L1", "E1", D(2024, 3, 1))
    add_license(con, "L2", "E1", D(2024, 3, 10))
    add_objection(con, "O1", "P1", "行政处罚", D(2024, 2, 5), "异议成立", True)
    add_objection(con, "O2", "P1", "行政处罚", D(2024, 2, 6), "异议不成立")  # P1 still counted once
    add_objection(con, "O3", "P2", "行政处罚", D(2024, 3, 16), "异议成立", True)  # filed after D: ignored
    add_objection(con, "O4", "P3", "行政处罚", D(2024, 3, 15), "异议成立", False)
    add_objection(con, "O5", "L1", "行政许可", D(2024, 3, 5), "处理中")
    add_objection(con, "O6", "L2", "行政处罚", D(2024, 3, 6), "异议成立", True)  # wrong category: no match
    add_objection(con, "O7", "P4", "行政处罚", D(2024, 3, 14), "异议成立")  # its record is after D
    return con


def test_objection_ratio(objection_db):
    got = by(rows(objection_db, "objection_ratio", D(2024, 3, 15), months=2), "month", "category")
    cols = ("records", "objected", "upheld", "subjective", "ratio", "upheld_ratio", "subjective_ratio")
    expected = {
        # Feb 处罚: P1, P2 → 2 records; P1 objected (O1 成立 + 主观), P2's O3 filed after D.
        ("2024-02", "行政处罚"): (2, 1, 1, 1, 0.5, 0.5, 0.5),
        ("2024-02", "行政许可"): (0, 0, 0, 0, None, None, None),
        ("2024-02", "全部"): (2, 1, 1, 1, 0.5, 0.5, 0.5),
        # Mar 处罚: P3 (on D) objected and upheld, not subjective; P4 after D.
        ("2024-03", "行政处罚"): (1, 1, 1, 0, 1.0, 1.0, 0.0),
        # Mar 许可: L1, L2; L1 objected (处理中); O6 names L2 but as 行政处罚 → no match.
        ("2024-03", "行政许可"): (2, 1, 0, 0, 0.5, 0.0, 0.0),
        # Mar 全部: 3 records, 2 objected, 1 upheld → 2/3, 1/3.
        ("2024-03", "全部"): (3, 2, 1, 0, 2 / 3, 1 / 3, 0.0),
    }
    assert {k: tuple(r[c] for c in cols) for k, r in got.items()} == pytest.approx(expected)
    # Unmatched objections: only O6 (O3 and O7 name stored records, whatever their dates).
    assert rows(objection_db, "unmatched", D(2024, 3, 15))[0]["objections"] == 1


def test_objection_departments(objection_db):
    # Issue 16 changed this metric: only mature decision months count. At D = 2024-03-15 February's last day
    # is 15 days old (15 March - 29 February), March's is in the future: with W = 15 February is mature.
    got = rows(
        objection_db, "objection_departments", D(2024, 3, 15), months=2, settings=Settings(objection_window_days=15)
    )
    # 市交通执法支队: P1, P2 → 1/2 (P1 upheld); March's P3 (港口局) and L1, L2 (行政审批处) are not counted yet.
    assert {r["authority"]: (r["records"], r["objected"], r["upheld"], r["ratio"]) for r in got} == {
        "市交通执法支队": (2, 1, 1, 0.5),
    }
    # With the default W = 60 no month of the window is mature at D: no department to rank.
    assert rows(objection_db, "objection_departments", D(2024, 3, 15), months=2, settings=DEFAULTS) == []


def test_objections_overdue(con):
    as_of = D(2024, 3, 15)
    add_objection(con, "K1", "P1", "行政处罚", D(2024, 3, 1), "处理中", deadline=D(2024, 3, 10))  # 5 days
    add_objection(con, "K2", "P1", "行政处罚", D(2024, 3, 1), "处理中", deadline=D(2024, 3, 15))  # due on D: not yet
    add_objection(con, "K3", "P1", "行政处罚", D(2024, 3, 16), "处理中", deadline=D(2024, 3, 1))  # filed after D
    add_objection(con, "K4", "P1", "行政处罚", D(2024, 2, 1), "异议成立", deadline=D(2024, 3, 1))  # closed
    add_objection(con, "K5", "L1", "行政许可", D(2024, 1, 1), "处理中", deadline=D(2024, 1, 15))  # 60 days
    got = rows(con, "objections_overdue", as_of)
    # 2024-03-15 − 2024-01-15 = 16 (Jan) + 29 (Feb) + 15 = 60 days; 03-15 − 03-10 = 5 days.
    assert [(r["objection_id"], r["days_overdue"]) for r in got] == [("K5", 60), ("K1", 5)]
    assert got[0]["deadline"] == "2024-01-15" and got[0]["category"] == "行政许可"


# --------------------------------------------------------------------------- risk_warnings


@pytest.fixture
def risk_db(con):
    # D = 2024-02-29 → window (2023-02-28, 2024-02-29].
    add_entity(con, "C60", "道路运输", "思明区", D(2020, 1, 1), name="鹭岛运输有限公司")
    add_penalties(con, "C60-", "C60", 59, D(2024, 1, 1))  # 59 penalties, 2024-01-01 .. 2024-02-28
    add_penalty(con, "C60-in", "C60", D(2023, 3, 1))  # a day after the bound: in → 60
    add_penalty(con, "C60-out", "C60", D(2023, 2, 28))  # exactly on the bound: out
    add_penalty(con, "C60-late", "C60", D(2024, 3, 1))  # after D: out
    add_entity(con, "C59", "水路运输", "湖里区", D(2020, 1, 1))
    add_penalties(con, "C59-", "C59", 58, D(2023, 12, 1))
    add_penalty(con, "C59-a", "C59", D(2024, 2, 29), authority="港口局")  # on D: in → 59, 2 departments
    add_penalty(con, "C59-out", "C59", D(2023, 2, 28))  # on the bound: out
    # CD3: unregistered, 3 departments; name from its latest penalty.
    add_penalty(con, "CD3-1", "CD3", D(2023, 5, 1), "市交通执法支队", subject="旧名称物流")
    add_penalty(con, "CD3-2", "CD3", D(2024, 1, 1), "港口局", subject="新名称物流")
    add_penalty(con, "CD3-3", "CD3", D(2023, 8, 1), "海事局", subject="旧名称物流")
    # CD2: 4 penalties, only 2 distinct departments.
    for i, auth in enumerate(["市交通执法支队", "港口局", "港口局", "港口局"]):
        add_penalty(con, f"CD2-{i}", "CD2", D(2023, 6, 1 + i), auth)
    # CD2x: 3 departments but one of them exactly on the bound → 2.
    add_penalty(con, "CD2x-1", "CD2x", D(2023, 2, 28), "海事局")
    add_penalty(con, "CD2x-2", "CD2x", D(2023, 3, 1), "港口局")
    add_penalty(con, "CD2x-3", "CD2x", D(2024, 2, 29), "市交通执法支队")
    # CL2: two lists in force (one listed exactly on D), unregistered.
    add_list(con, "CL2", "L1", D(2023, 1, 1), name="名单上的名称")
    add_list(con, "CL2", "L2", D(2024, 2, 29), name="名单上的名称")
    # CL1: L1 twice (distinct list_name = 1) and L2 removed exactly on D → 1 list.
    add_list(con, "CL1", "L1", D(2022, 1, 1))
    add_list(con, "CL1", "L1", D(2023, 1, 1))
    add_list(con, "CL1", "L2", D(2023, 1, 1), D(2024, 2, 29))
    # CMIX: 3 departments and 2 lists → both reasons.
    add_entity(con, "CMIX", "道路运输", "集美区", D(2020, 1, 1), name="混合公司")
    for i, auth in enumerate(["市交通执法支队", "港口局", "海事局"]):
        add_penalty(con, f"CMIX-{i}", "CMIX", D(2023, 9, 1 + i), auth)
    add_list(con, "CMIX", "L1", D(2023, 1, 1))
    add_list(con, "CMIX", "L3", D(2023, 1, 1))
    # Natural person: 70 penalties without a code → never a warning row.
    add_penalties(con, "NP-", None, 70, D(2023, 12, 1))
    return con


def test_risk_warnings_default_thresholds(risk_db):
    got = rows(risk_db, "risk_warnings", D(2024, 2, 29), settings=DEFAULTS)
    cols = ("name", "sector", "penalties_12m", "departments_12m", "severe_lists", "reasons")
    assert {r["credit_code"]: tuple(r[c] for c in cols) for r in got} == {
        # 59 + 1 (2023-03-01) = 60 ≥ 60; 2023-02-28 and 2024-03-01 excluded.
        "C60": ("鹭岛运输有限公司", "道路运输", 60, 1, 0, ["penalties_60"]),
        "CD3": ("新名称物流", "未登记", 3, 3, 0, ["departments_3"]),
        "CL2": ("名单上的名称", "未登记", 0, 0, 2, ["severe_lists_2"]),
        "CMIX": ("混合公司", "道路运输", 3, 3, 2, ["departments_3", "severe_lists_2"]),
    }
    # Not warned: C59 (58 + 1 = 59 < 60, 2 departments), CD2 (2 departments), CD2x (2 in window),
    # CL1 (1 list), natural persons.
    assert got[0]["credit_code"] == "CMIX"  # most reasons first


def test_risk_warnings_counts_below_threshold(risk_db):
    # With every threshold at 1 all coded subjects show, so their counts can be checked.
    low = Settings(warn_penalties=1, warn_departments=1, warn_severe_lists=1)
    got = by(rows(risk_db, "risk_warnings", D(2024, 2, 29), settings=low), "credit_code")
    assert (got["C59"]["penalties_12m"], got["C59"]["departments_12m"]) == (59, 2)
    assert (got["CD2"]["penalties_12m"], got["CD2"]["departments_12m"]) == (4, 2)
    assert (got["CD2x"]["penalties_12m"], got["CD2x"]["departments_12m"]) == (2, 2)
    assert got["CL1"]["severe_lists"] == 1
    assert None not in got and len(got) == 8


def test_risk_warnings_thresholds_from_settings(risk_db):
    got = rows(risk_db, "risk_warnings", D(2024, 2, 29), settings=Settings(warn_penalties=59))
    assert by(got, "credit_code")["C59"]["reasons"] == ["penalties_60"]  # the code names the seed rule


def test_risk_warnings_filters(risk_db):
    as_of = D(2024, 2, 29)
    assert [r["credit_code"] for r in rows(risk_db, "risk_warnings", as_of, sector="道路运输", settings=DEFAULTS)] == [
        "CMIX", "C60",
    ]  # fmt: skip
    unreg = rows(risk_db, "risk_warnings", as_of, sector="未登记", settings=DEFAULTS)
    assert sorted(r["credit_code"] for r in unreg) == ["CD3", "CL2"]
    assert [r["credit_code"] for r in rows(risk_db, "risk_warnings", as_of, district="集美区")] == ["CMIX"]


def test_risk_warnings_one_year_boundary_on_ordinary_day(con):
    low = Settings(warn_penalties=1, warn_departments=99, warn_severe_lists=99)
    add_penalty(con, "K-1", "K", D(2023, 3, 15))  # exactly one year before D: out
    add_penalty(con, "K-2", "K", D(2023, 3, 16))  # a day later: in
    add_penalty(con, "K-3", "K", D(2024, 3, 15))  # on D: in
    add_penalty(con, "K-4", "K", D(2024, 3, 16))  # after D: out
    got = rows(con, "risk_warnings", D(2024, 3, 15), settings=low)
    assert [(r["credit_code"], r["penalties_12m"]) for r in got] == [("K", 2)]


def test_risk_warnings_leap_day_lower_bound(con):
    low = Settings(warn_penalties=1, warn_departments=99, warn_severe_lists=99)
    add_penalty(con, "K-1", "K", D(2023, 2, 28))  # D = 2024-02-29 → bound 2023-02-28, exclusive: out
    add_penalty(con, "K-2", "K", D(2023, 3, 1))  # in
    got = rows(con, "risk_warnings", D(2024, 2, 29), settings=low)
    assert [(r["credit_code"], r["penalties_12m"]) for r in got] == [("K", 1)]


def test_risk_warnings_exact_thresholds(con):
    # Exactly 60 / 3 / 2 warn; 59 / 2 / 1 do not.
    as_of = D(2024, 6, 30)
    add_penalties(con, "A-", "AT60", 60, D(2024, 1, 1))
    add_penalties(con, "B-", "BE59", 59, D(2024, 1, 1))
    for i, auth in enumerate(["甲", "乙", "丙"]):
        add_penalty(con, f"T3-{i}", "AT3", D(2024, 1, 1), auth)
    for i, auth in enumerate(["甲", "乙"]):
        add_penalty(con, f"T2-{i}", "BE2", D(2024, 1, 1), auth)
    add_list(con, "AT2L", "L1", D(2024, 1, 1))
    add_list(con, "AT2L", "L2", D(2024, 1, 1))
    add_list(con, "BE1L", "L1", D(2024, 1, 1))
    got = rows(con, "risk_warnings", as_of, settings=DEFAULTS)
    assert sorted((r["credit_code"], tuple(r["reasons"])) for r in got) == [
        ("AT2L", ("severe_lists_2",)), ("AT3", ("departments_3",)), ("AT60", ("penalties_60",)),
    ]  # fmt: skip


# --------------------------------------------------------------------------- sector_warnings


@pytest.fixture
def warnings_db(con):
    # D = 2024-03-15, 4 months. Month ends E and the one-year bounds (exclusive) of their windows:
    #   2023-12: E = 12-31, bound 2022-12-31    2024-01: E = 01-31, bound 2023-01-31
    #   2024-02: E = 02-29, bound 2023-02-28    2024-03: E = D = 03-15, bound 2023-03-15
    # ROAD1: 59 penalties (2023-10-01 .. 11-28), the 60th on 2024-01-20 → warned from January on.
    add_entity(con, "ROAD1", "道路运输", "思明区", D(2020, 1, 1))
    add_penalties(con, "R1-", "ROAD1", 59, D(2023, 10, 1))
    add_penalty(con, "R1-60", "ROAD1", D(2024, 1, 20))
    add_penalty(con, "R1-late", "ROAD1", D(2024, 3, 16))  # after D: never counts
    # MAR: its third department exactly on D → March only; MARX: the third a day after D → never.
    for code, third in (("MAR", D(2024, 3, 15)), ("MARX", D(2024, 3, 16))):
        add_entity(con, code, "道路运输", "集美区", D(2020, 1, 1))
        add_penalty(con, f"{code}-1", code, D(2024, 1, 5), "甲")
        add_penalty(con, f"{code}-2", code, D(2024, 1, 6), "乙")
        add_penalty(con, f"{code}-3", code, third, "丙")
    # Three departments, the earliest (甲) dated: exactly on January's bound (DEP: out from January),
    # a day later (DEP2: in for January, out in February), exactly on February's leap-year bound (LEAPX:
    # out from February), a day later (LEAP: in for February, out at D's bound).
    for code, first in (
        ("DEP", D(2023, 1, 31)), ("DEP2", D(2023, 2, 1)), ("LEAPX", D(2023, 2, 28)), ("LEAP", D(2023, 3, 1)),
    ):  # fmt: skip
        add_entity(con, code, "水路运输", "湖里区", D(2020, 1, 1))
        add_penalty(con, f"{code}-1", code, first, "甲")
        add_penalty(con, f"{code}-2", code, D(2023, 6, 1), "乙")
        add_penalty(con, f"{code}-3", code, D(2023, 6, 2), "丙")
    # LIST: its second list listed exactly on January's E (in force), its first removed exactly on
    # February's E (no longer in force) → January only.
    add_entity(con, "LIST", "出租汽车", "思明区", D(2020, 1, 1))
    add_list(con, "LIST", "L1", D(2023, 1, 1), D(2024, 2, 29))
    add_list(con, "LIST", "L2", D(2024, 1, 31))
    # UNREG: not in the register, two lists in force at February's E only → 未登记, every month.
    add_list(con, "UNREG", "L1", D(2024, 2, 1))
    add_list(con, "UNREG", "L2", D(2024, 2, 1), D(2024, 3, 10))
    # QUIET: a register sector without warnings → 0 every month. Natural persons: never.
    add_entity(con, "QUIET", "公交", "同安区", D(2020, 1, 1))
    add_penalty(con, "Q-1", "QUIET", D(2024, 1, 1))
    add_penalties(con, "NP-", None, 70, D(2023, 12, 1))
    return con


def sector_months(rows_):
    """{sector: [value per month, oldest first]}, checking every sector has every month once."""
    out: dict[str, list[int]] = {}
    for r in rows_:
        out.setdefault(r["sector"], []).append(r["value"])
    months = sorted({r["month"] for r in rows_})
    assert all(len(v) == len(months) for v in out.values()), out
    return out


def test_sector_warnings(warnings_db):
    got = rows(warnings_db, "sector_warnings", D(2024, 3, 15), months=4, settings=DEFAULTS)
    assert [r["month"] for r in got[:: len(got) // 4]] == ["2023-12", "2024-01", "2024-02", "2024-03"]
    assert [r["sector"] for r in got[:5]] == ["公交", "出租汽车", "水路运输", "道路运输", "未登记"]  # 未登记 last
    assert sector_months(got) == {
        #              Dec Jan Feb Mar
        "道路运输": [0, 1, 1, 2],  # ROAD1 from January; MAR in March (MARX never)
        "水路运输": [4, 3, 1, 0],  # DEP, DEP2, LEAPX, LEAP / DEP2, LEAPX, LEAP / LEAP / -
        "出租汽车": [0, 1, 0, 0],  # LIST
        "公交": [0, 0, 0, 0],
        "未登记": [0, 0, 1, 0],  # UNREG
    }


def test_sector_warnings_thresholds_and_filters(warnings_db):
    as_of = D(2024, 3, 15)
    # 59 penalties are enough: ROAD1 is warned in December too.
    got = rows(warnings_db, "sector_warnings", as_of, months=4, settings=Settings(warn_penalties=59))
    assert sector_months(got)["道路运输"] == [1, 1, 1, 2]
    water = rows(warnings_db, "sector_warnings", as_of, months=4, sector="水路运输", settings=DEFAULTS)
    assert sector_months(water) == {"水路运输": [4, 3, 1, 0]}
    unreg = rows(warnings_db, "sector_warnings", as_of, months=4, sector="未登记", settings=DEFAULTS)
    assert sector_months(unreg) == {"未登记": [0, 0, 1, 0]}
    jimei = rows(warnings_db, "sector_warnings", as_of, months=4, district="集美区", settings=DEFAULTS)
    assert sector_months(jimei) == {"道路运输": [0, 0, 0, 1]}  # MAR; ROAD1 is in 思明区
    # One month: March only, E = D.
    march = rows(warnings_db, "sector_warnings", as_of, months=1, settings=DEFAULTS)
    assert {r["sector"]: r["value"] for r in march} == {"公交": 0, "出租汽车": 0, "水路运输": 0, "道路运输": 2}


@pytest.mark.parametrize(
    "settings",
    [DEFAULTS, Settings(warn_penalties=1, warn_departments=1, warn_severe_lists=1), Settings(warn_penalties=59)],
    ids=["defaults", "all_codes", "penalties_59"],
)
@pytest.mark.parametrize("where", [{}, {"sector": "水路运输"}, {"sector": "未登记"}, {"district": "集美区"}])
def test_sector_warnings_is_risk_warnings_at_each_month_end(warnings_db, settings, where):
    as_of = D(2024, 3, 15)
    expected: dict[tuple[str, str], int] = {}
    for month, end in (("2023-12", D(2023, 12, 31)), ("2024-01", D(2024, 1, 31)), ("2024-02", D(2024, 2, 29)),
                       ("2024-03", as_of)):  # fmt: skip
        for r in rows(warnings_db, "risk_warnings", end, settings=settings, **where):
            expected[(month, r["sector"])] = expected.get((month, r["sector"]), 0) + 1
    got = rows(warnings_db, "sector_warnings", as_of, months=4, settings=settings, **where)
    assert {(r["month"], r["sector"]): r["value"] for r in got if r["value"]} == expected
    assert expected, "every case warns some code in some month"


# --------------------------------------------------------------------------- risk_warnings_week


@pytest.fixture
def week_db(con):
    # D = Sunday 2024-03-17, the Sunday before W = 2024-03-10. One-year bounds (exclusive): D's 2023-03-17,
    # W's 2023-03-10. Default thresholds 60 / 3 / 2.
    def three_departments(code, third, first=None, sector="道路运输", subject=None):
        first = first or D(2024, 1, 5)
        if sector:
            add_entity(con, code, sector, "思明区", D(2020, 1, 1))
        add_penalty(con, f"{code}-1", code, first, "甲", subject=subject)
        add_penalty(con, f"{code}-2", code, D(2024, 1, 6), "乙", subject=subject)
        add_penalty(con, f"{code}-3", code, third, "丙", subject=subject)

    three_departments("SUN", D(2024, 3, 17))  # third department exactly on D: new this week
    three_departments("MON", D(2024, 3, 18))  # a day after D: never
    three_departments("PSUN", D(2024, 3, 10))  # exactly on W: warned at both, not new
    three_departments("PMON", D(2024, 3, 11))  # the day after W: new
    # The first department exactly on D's bound: out at D, in at W → lifted. A day later: in at both.
    three_departments("LIFT", D(2024, 1, 7), first=D(2023, 3, 17))
    three_departments("STAY", D(2024, 1, 7), first=D(2023, 3, 18))
    # The first department exactly on W's bound: out at both → never. A day later: in at W only → lifted.
    three_departments("WOUT", D(2024, 1, 7), first=D(2023, 3, 10))
    three_departments("WIN", D(2024, 1, 7), first=D(2023, 3, 11))
    # Unregistered: the name is its latest penalty's at D (not the one after D).
    three_departments("UNREG", D(2024, 3, 12), sector=None, subject="旧名称物流")
    add_penalty(con, "UNREG-4", "UNREG", D(2024, 3, 14), "甲", subject="新名称物流")
    add_penalty(con, "UNREG-5", "UNREG", D(2024, 3, 18), "甲", subject="更新名称物流")
    # Lists: the second listed exactly on D (new), a day after D (never); the second removed exactly on D
    # (lifted), exactly on W (never); the second listed exactly on W (at both).
    add_entity(con, "LSUN", "出租汽车", "湖里区", D(2020, 1, 1))
    add_list(con, "LSUN", "L1", D(2023, 1, 1))
    add_list(con, "LSUN", "L2", D(2024, 3, 17))
    add_entity(con, "LOFF", "出租汽车", "湖里区", D(2020, 1, 1))
    add_list(con, "LOFF", "L1", D(2023, 1, 1))
    add_list(con, "LOFF", "L2", D(2023, 1, 1), D(2024, 3, 17))
    add_entity(con, "LMON", "出租汽车", "湖里区", D(2020, 1, 1))
    add_list(con, "LMON", "L1", D(2023, 1, 1))
    add_list(con, "LMON", "L2", D(2024, 3, 18))
    add_entity(con, "LWOFF", "出租汽车", "湖里区", D(2020, 1, 1))
    add_list(con, "LWOFF", "L1", D(2023, 1, 1))
    add_list(con, "LWOFF", "L2", D(2023, 1, 1), D(2024, 3, 10))
    add_entity(con, "LPSUN", "出租汽车", "集美区", D(2020, 1, 1))
    add_list(con, "LPSUN", "L1", D(2024, 3, 10))
    add_list(con, "LPSUN", "L2", D(2024, 3, 10))
    # 58 penalties in the middle of both windows, one exactly on W's bound (out at W), one exactly on D's (in
    # at W, out at D), one between W and D (in at D) → 59 at W and 59 at D, never 60.
    add_entity(con, "P59", "公交", "同安区", D(2020, 1, 1))
    add_penalties(con, "P59-", "P59", 58, D(2023, 6, 1))
    add_penalty(con, "P59-w", "P59", D(2023, 3, 10))
    add_penalty(con, "P59-d", "P59", D(2023, 3, 17))  # in at W (59), out at D (58 + 0)
    add_penalty(con, "P59-n", "P59", D(2024, 3, 15))  # in at D only → 59 at D
    add_penalties(con, "NP-", None, 70, D(2023, 12, 1))  # natural persons: never
    return con


WEEK_D = D(2024, 3, 17)


def test_risk_warnings_week(week_db):
    got = rows(week_db, "risk_warnings_week", WEEK_D, settings=DEFAULTS)
    flags = {r["credit_code"]: (r["warned"], r["warned_week_before"]) for r in got}
    assert flags == {
        "SUN": (True, False), "PMON": (True, False), "LSUN": (True, False), "UNREG": (True, False),
        "PSUN": (True, True), "STAY": (True, True), "LPSUN": (True, True),
        "LIFT": (False, True), "WIN": (False, True), "LOFF": (False, True),
    }  # fmt: skip
    # MON, WOUT, LMON, LWOFF, P59 (59 at either date) and natural persons never appear.
    assert [r["warned"] for r in got] == [True] * 7 + [False] * 3  # warned at D first
    by_code = by(got, "credit_code")
    assert by_code["UNREG"]["name"] == "新名称物流" and by_code["UNREG"]["sector"] == "未登记"
    assert (by_code["LIFT"]["departments_12m"], by_code["LIFT"]["reasons"]) == (2, [])  # the values at D
    assert (by_code["LOFF"]["severe_lists"], by_code["LSUN"]["severe_lists"]) == (1, 2)
    assert by_code["LSUN"]["reasons"] == ["severe_lists_2"]


def test_risk_warnings_week_thresholds_and_filters(week_db):
    # 59 penalties warn: P59 has 59 at both dates (a different 59).
    got = by(rows(week_db, "risk_warnings_week", WEEK_D, settings=Settings(warn_penalties=59)), "credit_code")
    assert (got["P59"]["warned"], got["P59"]["warned_week_before"], got["P59"]["penalties_12m"]) == (True, True, 59)
    taxi = rows(week_db, "risk_warnings_week", WEEK_D, sector="出租汽车", settings=DEFAULTS)
    assert [r["credit_code"] for r in taxi] == ["LPSUN", "LSUN", "LOFF"]
    assert [r["credit_code"] for r in rows(week_db, "risk_warnings_week", WEEK_D, district="集美区")] == ["LPSUN"]


def week_cases():
    return [
        ("week_db", WEEK_D), ("risk_db", D(2024, 2, 29)), ("risk_db", D(2024, 3, 7)),
        ("warnings_db", D(2024, 3, 15)), ("warnings_db", D(2024, 3, 22)),
    ]  # fmt: skip


@pytest.mark.parametrize(("fixture", "as_of"), week_cases())
@pytest.mark.parametrize(
    "settings",
    [DEFAULTS, Settings(warn_penalties=1, warn_departments=1, warn_severe_lists=1), Settings(warn_penalties=59)],
    ids=["defaults", "all_codes", "penalties_59"],
)
@pytest.mark.parametrize("where", [{}, {"sector": "道路运输"}, {"sector": "未登记"}, {"district": "思明区"}])
def test_risk_warnings_week_is_risk_warnings_at_both_dates(request, fixture, as_of, settings, where):
    """Its warned rows are risk_warnings' at D, column for column and in order; warned_week_before its codes at D - 7."""
    con = request.getfixturevalue(fixture)
    got = rows(con, "risk_warnings_week", as_of, settings=settings, **where)
    now = rows(con, "risk_warnings", as_of, settings=settings, **where)
    before = rows(con, "risk_warnings", as_of - timedelta(days=7), settings=settings, **where)
    extra = ("warned", "warned_week_before")
    assert [{k: v for k, v in r.items() if k not in extra} for r in got if r["warned"]] == now
    assert {r["credit_code"] for r in got if r["warned_week_before"]} == {r["credit_code"] for r in before}
    assert all(r["warned"] or r["warned_week_before"] for r in got)


def test_risk_warnings_week_frame_matches_risk_warnings(week_db):
    """As a DataFrame too (the briefing's b.warnings): the same dtypes, e.g. counts stay integers."""
    import pandas as pd

    df = metrics.run(week_db, "risk_warnings_week", WEEK_D, settings=DEFAULTS)
    now = metrics.run(week_db, "risk_warnings", WEEK_D, settings=DEFAULTS)
    got = df[df["warned"]].drop(columns=["warned", "warned_week_before"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, now)


# --------------------------------------------------------------------------- sector_risk and district_risk


@pytest.fixture
def sector_db(con):
    # D = 2024-03-15, 2 months: Feb (E = 02-29) and Mar (E = 03-15); window from 2024-02-01.
    add_entity(con, "S1", "道路运输", "思明区", D(2020, 1, 1))
    add_entity(con, "S2", "道路运输", "思明区", D(2024, 3, 1))  # active in March only
    add_entity(con, "S4", "道路运输", "湖里区", D(2020, 1, 1))
    add_entity(con, "S3", "水路运输", "湖里区", D(2020, 1, 1), D(2024, 2, 29))  # deregistered on Feb's E
    add_entity(con, "J1", "道路运输", "集美区", D(2025, 1, 1))  # never active
    add_penalty(con, "p1", "S1", D(2024, 2, 10))
    add_penalty(con, "p2", "S1", D(2024, 3, 15))  # on D: in
    add_penalty(con, "p3", "S1", D(2024, 3, 16))  # after D: out
    add_penalty(con, "p4", "S1", D(2024, 1, 31))  # before the window: out
    add_penalty(con, "p5", "S2", D(2024, 3, 1))
    add_penalty(con, "p6", "S3", D(2024, 2, 20))
    add_penalty(con, "p7", "ZZ", D(2024, 2, 5))  # code not in the register → 未登记
    add_penalty(con, "p8", None, D(2024, 2, 6))  # natural person → 未登记
    return con


def test_sector_risk(sector_db):
    got = rows(sector_db, "sector_risk", D(2024, 3, 15), months=2)
    assert {(r["month"], r["sector"]): (r["penalties"], r["entities"], r["per_100"]) for r in got} == pytest.approx(
        {
            # Feb: 道路 p1 / active S1, S4 → 1 / 2 × 100 = 50
            ("2024-02", "道路运输"): (1, 2, 50.0),
            # Feb: 水路 p6, but S3 deregistered on E → 0 entities → null
            ("2024-02", "水路运输"): (1, 0, None),
            ("2024-02", "未登记"): (2, 0, None),  # p7 + p8
            # Mar: 道路 p2 (on D) + p5 / active S1, S2, S4 → 2 / 3 × 100
            ("2024-03", "道路运输"): (2, 3, 200 / 3),
            ("2024-03", "水路运输"): (0, 0, None),  # every register sector every month; no 未登记 in March
        }
    )
    water = rows(sector_db, "sector_risk", D(2024, 3, 15), months=2, sector="水路运输")
    assert [(r["month"], r["penalties"]) for r in water] == [("2024-02", 1), ("2024-03", 0)]
    unreg = rows(sector_db, "sector_risk", D(2024, 3, 15), months=2, sector="未登记")
    assert [(r["month"], r["penalties"]) for r in unreg] == [("2024-02", 2)]


def test_district_risk(sector_db):
    got = rows(sector_db, "district_risk", D(2024, 3, 15), months=2)
    assert {r["district"]: (r["penalties"], r["entities"], r["per_100"]) for r in got} == pytest.approx(
        {
            "思明区": (3, 2, 150.0),  # p1, p2, p5 / active at D: S1, S2 → 3 / 2 × 100
            "湖里区": (1, 1, 100.0),  # p6 / active at D: S4 (S3 deregistered) → 1 / 1 × 100
            "集美区": (0, 0, None),  # J1 not yet established
            "未登记": (2, 0, None),  # p7 + p8
        }
    )
    assert got[-1]["district"] == "未登记"
    road = rows(sector_db, "district_risk", D(2024, 3, 15), months=2, sector="道路运输")
    # 湖里区 keeps S4 (0 penalties); p6 belongs to 水路运输.
    assert {r["district"]: (r["penalties"], r["entities"]) for r in road} == {
        "思明区": (3, 2), "湖里区": (0, 1), "集美区": (0, 0),
    }  # fmt: skip
    # One month only (March): p2, p5 → 思明区 2.
    march = by(rows(sector_db, "district_risk", D(2024, 3, 15), months=1), "district")
    assert march["思明区"]["penalties"] == 2 and "未登记" not in march


# --------------------------------------------------------------------------- unmatched


def test_unmatched_whatever_the_dates(con):
    add_entity(con, "E1", "道路运输", "思明区", D(2020, 1, 1))
    add_list(con, "E1", "L1", D(2030, 1, 1))
    add_list(con, "X1", "L1", D(2030, 1, 1))  # unmatched
    add_list(con, "X1", "L2", D(2001, 1, 1), D(2002, 1, 1))  # unmatched
    add_penalty(con, "P1", "E1", D(2030, 1, 1))
    add_penalty(con, "P2", "X2", D(2030, 1, 1))  # unmatched
    add_penalty(con, "P3", None, D(2030, 1, 1))  # natural person: not counted
    add_penalty(con, "P4", "X2", D(2001, 1, 1))  # unmatched
    add_license(con, "L1", "X3", D(2030, 1, 1))
    add_objection(con, "O1", "P1", "行政处罚", D(2030, 1, 1), "处理中")
    add_objection(con, "O2", "L1", "行政处罚", D(2030, 1, 1), "处理中")  # L1 is a license: unmatched
    add_objection(con, "O3", "L1", "行政许可", D(2030, 1, 1), "处理中")
    add_objection(con, "O4", "P9", "行政处罚", D(2001, 1, 1), "处理中")  # no such record: unmatched
    out = metrics.compute_all(con, D(2024, 1, 1), settings=DEFAULTS)["unmatched"]
    assert out == {"severe_list": 2, "objections": 2, "penalties": 2}


# --------------------------------------------------------------------------- progress_history, dataset_status


def test_progress_history(con):
    add_progress(con, 2, D(2024, 2, 1), 10, "推进中")
    add_progress(con, 1, D(2024, 3, 1), 40, "推进中")
    add_progress(con, 1, D(2024, 1, 1), 20, "推进中")
    add_progress(con, 1, D(2024, 3, 2), 50, "推进中")  # after D
    got = rows(con, "progress_history", D(2024, 3, 1))
    assert [(r["point_id"], r["report_date"], r["progress"]) for r in got] == [
        (1, "2024-01-01", 20), (1, "2024-03-01", 40), (2, "2024-02-01", 10),
    ]  # fmt: skip


def test_dataset_status(con):
    add_penalty(con, "P1", "E1", D(2024, 1, 5))
    add_penalty(con, "P2", "E1", D(2024, 2, 5))
    add_entity(con, "E1", "道路运输", "思明区", D(2019, 5, 1))
    for i, (at, ds, status) in enumerate(
        [
            ("2024-02-01 10:00:00", "penalties", "loaded"),
            ("2024-03-01 09:00:00", "penalties", "loaded"),
            ("2024-04-01 09:00:00", "penalties", "undone"),  # undone: not the last upload
            ("2024-05-01 09:00:00", None, "refused"),
        ],
        start=1,
    ):
        con.execute(
            "INSERT INTO uploads (id, uploaded_at, file_name, sha256, dataset, status) VALUES (?, ?, 'f.xlsx', 'x', ?, ?)",
            [i, at, ds, status],
        )
    got = by(rows(con, "dataset_status", D(2024, 6, 1)), "dataset")
    assert list(got) == ["progress", "entities", "severe_list", "penalties", "licenses", "objections"]
    assert (got["penalties"]["rows"], got["penalties"]["latest_date"]) == (2, "2024-02-05")
    assert got["penalties"]["last_upload"] == "2024-03-01T09:00:00"
    assert (got["entities"]["rows"], got["entities"]["last_upload"], got["entities"]["latest_date"]) == (
        1, None, "2019-05-01",
    )  # fmt: skip
    assert (got["objections"]["rows"], got["objections"]["latest_date"]) == (0, None)


# --------------------------------------------------------------------------- default_as_of


def test_default_as_of(con):
    assert metrics.default_as_of(con, today=D(2024, 7, 1)) == D(2024, 7, 1)  # no data → today
    add_entity(con, "E1", "道路运输", "思明区", D(2020, 1, 1))
    add_penalty(con, "P1", "E1", D(2024, 3, 1))
    add_objection(con, "O1", "P1", "行政处罚", D(2024, 3, 2), "异议成立", closed_on=D(2024, 5, 1))
    # Issue 12: the activity data's coverage decides, a 办结日期 or a 移出日期 never moves it forward.
    # Rows written here, not by a load, count as covered from their first to their last main date.
    assert metrics.default_as_of(con, today=D(2024, 12, 31)) == D(2024, 3, 1)  # the penalties' last day
    add_list(con, "E1", "L1", D(2023, 1, 1), D(2024, 6, 1))
    assert metrics.default_as_of(con, today=D(2024, 12, 31)) == D(2024, 3, 1)
    add_license(con, "X1", "E1", D(2024, 2, 1))
    assert metrics.default_as_of(con, today=D(2024, 12, 31)) == D(2024, 2, 1)  # both covered through Feb 1
    assert metrics.default_as_of(con, today=D(2024, 1, 1)) == D(2024, 1, 1)  # never past today


# --------------------------------------------------------------------------- compute_all


JSON_FIELDS = {
    "severe_share": {"month", "sector", "entities", "severe", "share"},
    # mature: added by issue 16 (cohort maturity).
    # coverage: added by issue 12 (full / partial / none: how much of the row's period the data covers).
    "objection_ratio": {"month", "category", "records", "objected", "upheld", "subjective", "ratio"}
    | {"mature", "coverage"},
    "risk_warnings": {"credit_code", "name", "sector", "penalties_12m", "departments_12m", "severe_lists", "reasons"},
    "sector_risk": {"month", "sector", "penalties", "entities", "per_100", "coverage"},
    "district_risk": {"district", "penalties", "entities", "per_100", "coverage"},
}


def test_compute_all_empty_database(con):
    out = metrics.compute_all(con, D(2024, 2, 29), months=2, settings=DEFAULTS)
    json.dumps(out)
    # coverage: added by issue 12.
    assert list(out) == [
        "as_of", "months", "work_points", "severe_share", "objection_ratio", "risk_warnings", "sector_risk",
        "district_risk", "unmatched", "coverage",
    ]  # fmt: skip
    assert out["as_of"] == "2024-02-29" and out["months"] == ["2024-01", "2024-02"]
    # The shipped work points (seeded by the store) are all 未启动 at 0% without progress reports.
    seeded = con.execute("SELECT count(*) FROM work_points").fetchall()[0][0]
    wp = out["work_points"]
    assert (wp["total"], wp["not_started"], len(wp["points"])) == (seeded, seeded, seeded)
    assert (wp["completed"], wp["in_progress"], wp["lagging"], wp["overdue"]) == (0, 0, 0, 0)
    assert wp["mean_progress"] == (0.0 if seeded else None)
    assert all(p["progress"] == 0 and p["status"] == "未启动" and p["overdue"] is False for p in wp["points"])
    con.execute("DELETE FROM work_points")
    assert metrics.compute_all(con, D(2024, 2, 29), months=2)["work_points"] == {
        "total": 0, "completed": 0, "in_progress": 0, "lagging": 0, "not_started": 0, "overdue": 0,
        "mean_progress": None, "points": [],
    }  # fmt: skip
    assert out["severe_share"] == [
        {"month": "2024-01", "sector": "全部", "entities": 0, "severe": 0, "share": None},
        {"month": "2024-02", "sector": "全部", "entities": 0, "severe": 0, "share": None},
    ]
    assert len(out["objection_ratio"]) == 6
    # Issue 12: nothing loaded is "not covered", null, not 0 records.
    assert all(r["records"] is None and r["ratio"] is None and r["coverage"] == "none" for r in out["objection_ratio"])
    assert set(out["coverage"].values()) == {None}
    assert out["risk_warnings"] == [] and out["sector_risk"] == [] and out["district_risk"] == []
    assert out["unmatched"] == {"severe_list": 0, "objections": 0, "penalties": 0}


def test_compute_all_shapes(risk_db, severe_db, sector_db, objection_db):
    # All four fixtures share one connection: the combined data only checks shapes and JSON.
    con = risk_db
    out = metrics.compute_all(con, D(2024, 3, 15), months=3, settings=DEFAULTS)
    text = json.dumps(out, ensure_ascii=False)
    assert "NaN" not in text
    for name, fields in JSON_FIELDS.items():
        assert out[name], name
        assert all(set(r) == fields for r in out[name]), name
    assert all(isinstance(r["reasons"], list) for r in out["risk_warnings"])
    assert out["severe_share"][0]["sector"] == "全部"
    # The SQL month series and months_window agree.
    assert [r["month"] for r in out["severe_share"] if r["sector"] == "全部"] == out["months"]
    assert sorted({r["month"] for r in out["objection_ratio"]}) == out["months"]


def test_run_returns_dataframe(risk_db):
    df = metrics.run(risk_db, "risk_warnings", D(2024, 2, 29), settings=DEFAULTS)
    assert len(df) == 4 and df["credit_code"].iloc[0] == "CMIX"
    assert list(df.loc[df["credit_code"] == "CMIX", "reasons"].iloc[0]) == ["departments_3", "severe_lists_2"]


def test_section_rollup_counts_per_section_and_keeps_its_columns_when_empty():
    import pandas as pd

    points = pd.DataFrame(
        {
            "id": [1, 2, 3],
            "section": ["一", "一", "二"],
            "section_title": ["推进信用制度落实", "推进信用制度落实", "加强信用数据归集应用"],
            "progress": [100.0, 50.0, 20.0],
            "status": ["已完成", "滞后", "推进中"],
            "overdue": [False, True, False],
        }
    )
    rolled = metrics.section_rollup(points)
    assert rolled.to_dict("records") == [
        {
            "section": "一",
            "section_title": "推进信用制度落实",
            "progress": 75.0,
            "completed": 1,
            "overdue": 1,
            "total": 2,
        },
        {
            "section": "二",
            "section_title": "加强信用数据归集应用",
            "progress": 20.0,
            "completed": 0,
            "overdue": 0,
            "total": 1,
        },
    ]
    empty = metrics.section_rollup(points.iloc[0:0])
    assert list(empty.columns) == ["section", "section_title", "progress", "completed", "overdue", "total"]
    assert empty.empty
