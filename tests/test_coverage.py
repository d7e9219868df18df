"""Coverage per upload: stated and derived periods, the union and its gaps, snapshots, the default as-of
date, and "not covered" as null (never 0) in the metrics."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date as D
from pathlib import Path

import pytest

from analytics.compute import coverage, metrics
from analytics.compute.coverage import Coverage
from analytics.intake import ingest, periods, undo
from analytics.storage import store
from tests.helpers import (
    ENTITY_HEADERS,
    LICENSE_HEADERS,
    OBJECTION_HEADERS,
    PENALTY_HEADERS,
    credit_code,
    csv_bytes,
    license_row,
    penalty_row,
)

ROOT = Path(__file__).resolve().parent.parent


def penalties_csv(*days: str, prefix: str = "P") -> bytes:
    return csv_bytes([PENALTY_HEADERS] + [penalty_row(f"{prefix}{i}", decision_date=d) for i, d in enumerate(days)])


def licenses_csv(*days: str, prefix: str = "L") -> bytes:
    return csv_bytes([LICENSE_HEADERS] + [license_row(f"{prefix}{i}", decision_date=d) for i, d in enumerate(days)])


def objections_csv(*rows: tuple[str, str, str, str]) -> bytes:
    """(objection id, doc no, filed_on, closed_on) rows of 行政处罚 objections, upheld."""
    return csv_bytes([OBJECTION_HEADERS] + [[o, doc, "行政处罚", f, "异议成立", c] for o, doc, f, c in rows])


def load(db, data: bytes, name: str = "f.csv", covers=None) -> ingest.IngestResult:
    result = ingest.ingest_bytes(str(db), data, name, covers=covers)
    assert result.ok, result.message
    return result


def cov_of(db) -> Coverage:
    with store.connect(str(db)) as con:
        return coverage.load(con)


# --------------------------------------------------------------------------- parsing and union


def test_parse_covers():
    today = D(2023, 6, 1)
    assert periods.parse_covers("2022-01-01..2022-12-31", today) == (D(2022, 1, 1), D(2022, 12, 31))
    assert periods.parse_covers(" 2022-12-31 ", today) == (D(2022, 12, 31), D(2022, 12, 31))  # a snapshot
    for bad, words in (
        ("2022-13-01..2022-12-31", "覆盖期格式应为"),
        ("2022/01/01", "覆盖期格式应为"),
        ("", "覆盖期格式应为"),
        ("2022-12-31..2022-01-01", "起始日期晚于截止日期"),
        ("2022-01-01..2023-06-02", "不能晚于今天"),
    ):
        with pytest.raises(periods.CoversError, match=words):
            periods.parse_covers(bad, today)


def test_merge_joins_touching_and_overlapping_periods_and_keeps_gaps():
    got = coverage.merge(
        [
            (D(2022, 3, 1), D(2022, 3, 31)),
            (D(2022, 1, 1), D(2022, 1, 31)),
            (D(2022, 2, 1), D(2022, 2, 10)),  # starts the day after Jan 31: touches, joins
            (D(2022, 1, 15), D(2022, 1, 20)),  # inside January
            (D(2022, 2, 12), D(2022, 2, 12)),  # Feb 11 uncovered: a gap
        ]
    )
    assert got == [
        (D(2022, 1, 1), D(2022, 2, 10)),
        (D(2022, 2, 12), D(2022, 2, 12)),
        (D(2022, 3, 1), D(2022, 3, 31)),
    ]


def test_states_of_a_period():
    cov = Coverage({"penalties": ((D(2022, 1, 1), D(2022, 1, 31)), (D(2022, 3, 1), D(2022, 12, 31)))})
    assert cov.state("penalties", D(2022, 1, 1), D(2022, 1, 31)) == "full"
    assert cov.state("penalties", D(2022, 2, 1), D(2022, 2, 28)) == "none"  # the gap
    assert cov.state("penalties", D(2022, 1, 25), D(2022, 3, 5)) == "partial"
    # 7 days of Jan (25..31) + 5 of March (1..5) = 12 covered days.
    assert cov.covered_days("penalties", D(2022, 1, 25), D(2022, 3, 5)) == 12
    assert cov.state("licenses", D(2022, 1, 1), D(2022, 1, 31)) == "none"  # never loaded
    assert cov.span("penalties") == (D(2022, 1, 1), D(2022, 12, 31))
    assert cov.through("licenses") is None


# --------------------------------------------------------------------------- recorded at every load


def test_a_load_records_its_own_dates(tmp_path):
    db = tmp_path / "c.duckdb"
    result = load(db, penalties_csv("2022-03-05", "2022-01-10", "2022-02-01"))
    assert result.coverage == {"penalties": (D(2022, 1, 10), D(2022, 3, 5))}
    with store.connect(str(db)) as con:
        assert con.execute("SELECT dataset, covers_from, covers_through, stated FROM upload_coverage").fetchall() == [
            ("penalties", D(2022, 1, 10), D(2022, 3, 5), False)
        ]
        assert metrics.run_rows(con, "coverage") == [("penalties", D(2022, 1, 10), D(2022, 3, 5))]


def test_a_stated_period_covers_weeks_without_records(tmp_path):
    db = tmp_path / "c.duckdb"
    load(db, penalties_csv("2022-03-05"), covers=(D(2022, 1, 1), D(2022, 12, 31)))
    cov = cov_of(db)
    assert cov.periods["penalties"] == ((D(2022, 1, 1), D(2022, 12, 31)),)
    assert cov.state("penalties", D(2022, 11, 7), D(2022, 11, 13)) == "full"  # no penalty that week: covered


def test_union_of_uploads_with_a_gap_and_undo(tmp_path):
    db = tmp_path / "c.duckdb"
    load(db, penalties_csv("2022-01-03", "2022-03-31", prefix="A"))
    load(db, penalties_csv("2022-06-01", "2022-06-30", prefix="B"))
    last = load(db, penalties_csv("2022-04-01", "2022-04-10", prefix="C"))  # touches the first: joins it
    cov = cov_of(db)
    assert cov.periods["penalties"] == ((D(2022, 1, 3), D(2022, 4, 10)), (D(2022, 6, 1), D(2022, 6, 30)))
    assert cov.state("penalties", D(2022, 5, 1), D(2022, 5, 31)) == "none"  # May: a gap, not zero
    assert undo.undo_upload(str(db), last.upload_id, user="t").ok
    # An undone upload covers nothing: April is uncovered again.
    assert cov_of(db).periods["penalties"] == ((D(2022, 1, 3), D(2022, 3, 31)), (D(2022, 6, 1), D(2022, 6, 30)))


def test_snapshots_cover_their_date(tmp_path):
    db = tmp_path / "c.duckdb"
    register = csv_bytes([ENTITY_HEADERS, [credit_code(1), "甲公司", "道路运输", "思明区", "2020-01-01"]])
    load(db, register)
    assert cov_of(db).periods["entities"] == ((D.today(), D.today()),)  # the upload day
    load(db, register, covers=(D(2022, 12, 31), D(2022, 12, 31)))
    assert cov_of(db).periods["entities"] == ((D(2022, 12, 31), D(2022, 12, 31)), (D.today(), D.today()))


def test_migration_backfills_uploads_made_before_it(tmp_path):
    db = tmp_path / "c.duckdb"
    load(db, penalties_csv("2022-01-03", "2022-02-01"))
    with store.connect(str(db)) as con:  # as a store from before migration 0006
        con.execute("DROP TABLE upload_coverage")
        con.execute("DELETE FROM schema_version WHERE version >= 6")
    with store.connect(str(db)) as con:
        assert metrics.run_rows(con, "coverage") == [("penalties", D(2022, 1, 3), D(2022, 2, 1))]


# --------------------------------------------------------------------------- default as-of


def test_default_as_of_rule():
    today = D(2024, 1, 1)
    pen = ((D(2022, 1, 1), D(2022, 12, 31)),)
    lic = ((D(2022, 1, 1), D(2022, 11, 30)),)
    obj = ((D(2022, 1, 5), D(2023, 4, 18)),)
    assert coverage.default_as_of(Coverage({}), today) == today  # no data
    both = Coverage({"penalties": pen, "licenses": lic, "objections": obj})
    assert coverage.default_as_of(both, today) == D(2022, 11, 30)  # both covered through Nov 30
    assert coverage.default_as_of(Coverage({"penalties": pen, "objections": obj}), today) == D(2022, 12, 31)
    assert coverage.default_as_of(Coverage({"objections": obj}), today) == D(2023, 4, 18)  # the latest of others
    assert coverage.default_as_of(Coverage({"penalties": pen}), D(2022, 6, 30)) == D(2022, 6, 30)  # never after today


@pytest.fixture
def bureau(tmp_path):
    """The issue's mix: penalties and licences to 2022-12-31, objections handled (closed) up to 2023-04-18."""
    db = tmp_path / "bureau.duckdb"
    load(db, penalties_csv("2022-01-04", "2022-06-15", "2022-12-31"), "pen.csv")
    load(db, licenses_csv("2022-01-05", "2022-12-30"), "lic.csv", covers=(D(2022, 1, 1), D(2022, 12, 31)))
    load(db, objections_csv(("O1", "P1", "2022-07-01", "2023-04-18"), ("O2", "P2", "2023-03-01", "2023-04-18")))
    return db


def test_the_app_opens_at_the_activity_coverage_not_at_a_closing_date(bureau):
    with store.connect(str(bureau)) as con:
        assert metrics.default_as_of(con, today=D(2026, 1, 1)) == D(2022, 12, 31)


def test_metrics_json_nulls_what_is_not_covered(bureau):
    with store.connect(str(bureau)) as con:
        got = metrics.compute_all(con, D(2023, 4, 18), months=6)
    assert got["coverage"]["penalties"] == {"from": "2022-01-04", "through": "2022-12-31"}
    assert got["coverage"]["licenses"] == {"from": "2022-01-01", "through": "2022-12-31"}
    assert got["coverage"]["objections"] == {"from": "2022-07-01", "through": "2023-03-01"}
    assert got["coverage"]["entities"] is None
    sector = {(r["month"], r["sector"]): r for r in got["sector_risk"]}
    # The window 2022-11..2023-04; no register, so every penalty counts under 未登记 in the months that have some.
    assert sector[("2022-12", "未登记")]["penalties"] == 1
    for row in got["sector_risk"]:
        if row["month"] >= "2023-01":
            assert row["penalties"] is None and row["coverage"] == "none"
    ratio = {(r["month"], r["category"]): r for r in got["objection_ratio"]}
    assert ratio[("2022-12", "行政处罚")]["records"] == 1 and ratio[("2022-12", "行政处罚")]["coverage"] == "full"
    for month in ("2023-01", "2023-02", "2023-03", "2023-04"):
        for category in ("行政处罚", "行政许可", "全部"):
            row = ratio[(month, category)]
            assert (row["records"], row["ratio"], row["coverage"]) == (None, None, "none"), row
    (district,) = got["district_risk"]  # the window is partly covered: the count of what is covered stands
    assert (district["penalties"], district["coverage"]) == (1, "partial")


def test_metrics_command_defaults_to_the_coverage(bureau):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CREDIT_")}
    proc = subprocess.run(
        [sys.executable, "-m", "analytics", "metrics", "--db", str(bureau)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["as_of"] == "2022-12-31"
    assert out["coverage"]["penalties"]["through"] == "2022-12-31"


def test_cli_covers_option(tmp_path):
    db, path = tmp_path / "c.duckdb", tmp_path / "pen.csv"
    path.write_bytes(penalties_csv("2022-03-05"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("CREDIT_")}
    argv = [sys.executable, "-m", "analytics", "ingest", str(path), "--db", str(db)]
    bad = subprocess.run([*argv, "--covers", "2022-12-31..2022-01-01"], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=120)  # fmt: skip
    assert bad.returncode != 0 and "起始日期晚于截止日期" in bad.stderr
    ok = subprocess.run([*argv, "--covers", "2022-01-01..2022-12-31"], cwd=ROOT, env=env, capture_output=True,
                        text=True, timeout=120)  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert cov_of(db).periods["penalties"] == ((D(2022, 1, 1), D(2022, 12, 31)),)


# --------------------------------------------------------------------------- pages and the briefing


def test_briefing_names_the_uncovered_data_and_computes_no_change(bureau):
    from analytics.output import briefing

    with store.connect(str(bureau)) as con:
        b = briefing.compute(con, briefing.parse_week("2023-W02"))  # 9–15 January 2023
    assert b.kpis.penalties is None and b.kpis.penalties_prev is None
    assert "本周无数据：行政处罚数据截至 2022-12-31；行政许可数据截至 2022-12-31，不计变化" in b.summary
    assert "0 件" not in b.summary and "持平" not in b.summary.split("；")[0]
    assert "覆盖至 2022-12-31" in briefing.footer_html(b)


def test_heatmap_leaves_uncovered_months_empty_with_a_hover_note():
    import pandas as pd

    from analytics.output import charts

    df = pd.DataFrame(
        {
            "month": ["2022-12", "2023-01"],
            "sector": ["道路运输", "道路运输"],
            "value": [3.0, float("nan")],
            "coverage": ["full", "none"],
        }
    )
    fig = charts.sector_heatmap(df, "penalties", D(2023, 1, 31))
    (heat,) = fig.data
    assert list(heat.z[0][:1]) == [3.0] and pd.isna(heat.z[0][1])  # empty, not 0
    assert list(heat.customdata[0]) == ["3", "未覆盖（无数据）"]


def test_masked_frame_for_the_pages(bureau):
    from analytics.compute import coverage as c

    with store.connect(str(bureau)) as con:
        frame = metrics.run(con, "weekly_penalties", D(2023, 1, 15), months=1)
        masked = c.mask_frame(c.load(con), "weekly_penalties", frame, D(2023, 1, 15), D(2023, 1, 1))
    # The weeks of 2023 up to the 15th: 2022-W52 (26 Dec–1 Jan) is partly covered, the two after not at all.
    assert list(masked["coverage"]) == ["partial", "none", "none"]
    assert masked["penalties"].isna().tolist() == [False, True, True]


def test_pages_open_at_the_coverage_and_say_not_covered(monkeypatch, bureau):
    """The done-when: the app opens at 2022-12-31; set to 2023-04-18, no card or heatmap cell shows a 0."""
    from tests.test_app import assert_clean, metric, open_page

    at = open_page(monkeypatch, str(bureau), "overview")
    assert_clean(at, "交通信用看板 · 总览")
    assert at.date_input(key="f_as_of").value == D(2022, 12, 31)
    assert metric(at, "风险预警主体") == "0 户"  # covered: a real 0

    at = open_page(monkeypatch, str(bureau), "overview", {"as_of": "2023-04-18"})
    assert_clean(at, "交通信用看板 · 总览")
    assert metric(at, "风险预警主体") == "行政处罚数据截至 2022-12-31"
    status = at.table[0].value
    assert list(status["覆盖至"])[3:5] == ["2022-12-31", "2022-12-31"]  # penalties, licences

    # With a register, its sector appears every month: 2022-11 and 2022-12 counted (0), 2023 not covered.
    load(bureau, csv_bytes([ENTITY_HEADERS, [credit_code(9), "甲公司", "道路运输", "思明区", "2020-01-01"]]))
    at = open_page(monkeypatch, str(bureau), "sector_risk", {"as_of": "2023-04-18", "months": "6"})
    assert not at.exception, [e.value for e in at.exception]
    heat = json.loads(at.get("plotly_chart")[0].proto.spec)["data"][0]
    hover = [cell for row in heat["customdata"] for cell in row]
    assert heat["y"] == ["道路运输", "未登记"]
    assert hover[:6] == ["0", "0"] + ["未覆盖（无数据）"] * 4  # 道路运输: Nov, Dec 2022 covered, Jan–Apr 2023 not
