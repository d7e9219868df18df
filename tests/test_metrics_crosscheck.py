"""The SQL metrics against a second, plain-Python reading of the definitions.

The hand-made fixtures of test_metrics.py pin the boundaries; this test runs
the whole demo data set (thousands of rows, every sector, deregistered
entities, removed list records) through both and asks for the same numbers.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from datetime import date

import pytest

from analytics import demo
from analytics.compute import metrics
from analytics.settings import Settings
from analytics.storage import store

AS_OF = date(2022, 11, 20)  # mid-month: the last month ends at D, not on its last day
MONTHS = 4


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("crosscheck") / "demo.duckdb")
    demo.build(path, seed=7, scale=0.1)
    with store.connect(path) as connection:
        yield connection


def rows(con, sql):
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def month_ends(months=MONTHS):
    out = []
    year, month = AS_OF.year, AS_OF.month
    for _ in range(months):
        last = date(year, month, calendar.monthrange(year, month)[1])
        out.append((f"{year}-{month:02d}", date(year, month, 1), min(last, AS_OF)))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out[::-1]


def active(entity, day):
    return entity["established"] <= day and (entity["deregistered"] is None or entity["deregistered"] > day)


def in_force(record, day):
    return record["listed_on"] <= day and (record["removed_on"] is None or record["removed_on"] > day)


def test_severe_share_matches_the_definition(con):
    entities = rows(con, "SELECT credit_code, sector, established, deregistered FROM entities")
    lists = rows(con, "SELECT credit_code, listed_on, removed_on FROM severe_list")
    expected = {}
    for month, _, end in month_ends():
        listed = {r["credit_code"] for r in lists if in_force(r, end)}
        counts = defaultdict(lambda: [0, 0])
        for e in entities:
            if active(e, end):
                for sector in (e["sector"], "全部"):
                    counts[sector][0] += 1
                    counts[sector][1] += e["credit_code"] in listed
        for sector, (n, severe) in counts.items():
            expected[(month, sector)] = (n, severe)
    got = metrics.run(con, "severe_share", AS_OF, MONTHS)
    got = {(r.month, r.sector): (r.entities, r.severe) for r in got.itertuples() if r.entities}
    assert got == expected
    assert any(severe for _, severe in expected.values())


def test_objection_ratio_matches_the_definition(con):
    records = rows(con, "SELECT '行政处罚' AS category, doc_no, decision_date FROM penalties") + rows(
        con, "SELECT '行政许可' AS category, doc_no, decision_date FROM licenses"
    )
    objections = rows(con, "SELECT doc_no, category, filed_on, result, subjective FROM objections")
    by_record = defaultdict(list)
    for o in objections:
        if o["filed_on"] <= AS_OF:
            by_record[(o["category"], o["doc_no"])].append(o)
    expected = {}
    for month, start, end in month_ends():
        for category in ("行政处罚", "行政许可", "全部"):
            chosen = [r for r in records if start <= r["decision_date"] <= end and category in (r["category"], "全部")]
            found = [by_record[(r["category"], r["doc_no"])] for r in chosen]
            expected[(month, category)] = (
                len(chosen),
                sum(bool(f) for f in found),
                sum(any(o["result"] == "异议成立" for o in f) for f in found),
                sum(any(o["result"] == "异议成立" and o["subjective"] for o in f) for f in found),
            )
    got = metrics.run(con, "objection_ratio", AS_OF, MONTHS)
    got = {(r.month, r.category): (r.records, r.objected, r.upheld, r.subjective) for r in got.itertuples()}
    assert got == expected
    assert sum(v[1] for v in expected.values()) > 0


def test_risk_warnings_match_the_definition(con):
    year_before = date(AS_OF.year - 1, AS_OF.month, AS_OF.day)
    penalties = rows(con, "SELECT credit_code, authority, decision_date FROM penalties WHERE credit_code IS NOT NULL")
    lists = rows(con, "SELECT credit_code, list_name, listed_on, removed_on FROM severe_list")
    count, departments, list_names = defaultdict(int), defaultdict(set), defaultdict(set)
    for p in penalties:
        if year_before < p["decision_date"] <= AS_OF:
            count[p["credit_code"]] += 1
            departments[p["credit_code"]].add(p["authority"])
    for r in lists:
        if in_force(r, AS_OF):
            list_names[r["credit_code"]].add(r["list_name"])
    expected = {}
    for code in set(count) | set(list_names):
        reasons = [
            reason
            for reason, hit in (
                ("penalties_60", count[code] >= 60),
                ("departments_3", len(departments[code]) >= 3),
                ("severe_lists_2", len(list_names[code]) >= 2),
            )
            if hit
        ]
        if reasons:
            expected[code] = (count[code], len(departments[code]), len(list_names[code]), reasons)
    got = metrics.run(con, "risk_warnings", AS_OF, MONTHS)
    got = {
        r.credit_code: (r.penalties_12m, r.departments_12m, r.severe_lists, list(r.reasons)) for r in got.itertuples()
    }
    assert got == expected
    assert expected, "the demo data should raise some warnings"


def test_sector_risk_matches_the_definition(con):
    entities = {e["credit_code"]: e for e in rows(con, "SELECT * FROM entities")}
    penalties = rows(con, "SELECT credit_code, decision_date FROM penalties")
    expected = {}
    for month, start, end in month_ends():
        for sector in {e["sector"] for e in entities.values()}:
            expected[(month, sector)] = [0, sum(active(e, end) and e["sector"] == sector for e in entities.values())]
        for p in penalties:
            if start <= p["decision_date"] <= end:
                entity = entities.get(p["credit_code"])
                key = (month, entity["sector"] if entity else "未登记")
                expected.setdefault(key, [0, 0])[0] += 1
    got = metrics.run(con, "sector_risk", AS_OF, MONTHS)
    got = {(r.month, r.sector): [r.penalties, r.entities] for r in got.itertuples()}
    assert got == expected


# The demo's own thresholds warn a handful of codes; lower ones warn some 150 a month, crossing mid-window.
LOW = Settings(warn_penalties=3, warn_departments=2, warn_severe_lists=1)


@pytest.mark.parametrize(
    ("settings", "where"),
    [(Settings(), {}), (LOW, {}), (LOW, {"district": "思明区"}), (LOW, {"sector": "未登记"})],
    ids=["defaults", "low", "low_district", "low_unregistered"],
)
def test_sector_warnings_is_risk_warnings_at_each_month_end(con, settings, where):
    """sector_warnings in one query = risk_warnings (held to plain Python above) at each month end, by sector."""
    ends = month_ends(12)
    expected = defaultdict(int)
    for month, _, end in ends:
        for r in metrics.run(con, "risk_warnings", end, settings=settings, **where).itertuples():
            expected[(month, r.sector)] += 1
    got = metrics.run(con, "sector_warnings", AS_OF, 12, settings=settings, **where)
    assert {(r.month, r.sector): r.value for r in got.itertuples() if r.value} == dict(expected)
    # Every month of the window for every sector shown, 0 when nobody is warned.
    assert sorted(set(got["month"])) == [month for month, _, _ in ends]
    assert len(got) == len(ends) * got["sector"].nunique()
    assert expected, "the demo data should raise some warnings"
    if not where:
        by_sector = defaultdict(set)
        for (_, sector), n in expected.items():
            by_sector[sector].add(n)
        assert any(len(counts) > 1 for counts in by_sector.values()), "some sector's count should move"
