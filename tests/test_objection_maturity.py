"""Issue 16: the objection ratio's cohort maturity, the measured delay, the flow rate and the headline.

Hand-made stores in tmp_path; the comments show the arithmetic behind each expected value.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from analytics.compute import metrics, objections
from analytics.output import charts
from analytics.settings import Settings
from analytics.storage import store
from tests.test_metrics import add_license, add_objection, add_penalty, by, rows

D = date
W60 = Settings(objection_window_days=60)


@pytest.fixture
def con(tmp_path):
    with store.connect(str(tmp_path / "t.duckdb")) as c:
        yield c


def ratio_rows(con, as_of, months=3, settings=W60):
    return by(rows(con, "objection_ratio", as_of, months=months, settings=settings), "month", "category")


@pytest.fixture
def october(con):
    # October 2022's last decision on 31 October; with W = 60 October is mature from 30 December:
    # 30 Dec - 31 Oct = 30 (Nov) + 30 (1..30 Dec) = 60 days.
    add_penalty(con, "P1", "E1", D(2022, 10, 3))
    add_penalty(con, "P2", "E1", D(2022, 10, 31))
    add_license(con, "L1", "E1", D(2022, 11, 15))
    add_penalty(con, "P3", "E1", D(2022, 12, 20))
    add_objection(con, "O1", "P1", "行政处罚", D(2022, 10, 20), "异议不成立")  # 17 days after P1
    add_objection(con, "O2", "P2", "行政处罚", D(2022, 12, 31), "异议成立", True)  # 61 days after P2
    return con


def test_a_month_whose_last_day_is_exactly_w_days_old_is_mature_and_w_minus_1_is_not(october):
    # 30 Dec - 31 Oct = 60 = W: mature.
    assert ratio_rows(october, D(2022, 12, 30))[("2022-10", "全部")]["mature"] is True
    # 29 Dec - 31 Oct = 59 = W - 1: not yet.
    assert ratio_rows(october, D(2022, 12, 29))[("2022-10", "全部")]["mature"] is False
    # The same with W = 45: 15 Dec - 31 Oct = 45 → mature, 14 Dec → 44 → not.
    w45 = Settings(objection_window_days=45)
    assert ratio_rows(october, D(2022, 12, 15), settings=w45)[("2022-10", "行政处罚")]["mature"] is True
    assert ratio_rows(october, D(2022, 12, 14), settings=w45)[("2022-10", "行政处罚")]["mature"] is False


def test_maturity_of_every_month_and_category_and_the_date_it_matures(october):
    got = ratio_rows(october, D(2022, 12, 31))
    # 31 Dec: October 61 days → mature; November 31 Dec - 30 Nov = 31 < 60; December's own month never.
    for category in ("行政处罚", "行政许可", "全部"):
        assert [got[(m, category)]["mature"] for m in ("2022-10", "2022-11", "2022-12")] == [True, False, False]
    frame = metrics.run(october, "objection_ratio", D(2022, 12, 31), months=3, settings=W60)
    # mature_on = last day + 60: 31 Oct + 60 = 30 Dec; 30 Nov + 60 = 29 Jan; 31 Dec + 60 = 1 Mar 2023.
    ends = frame[frame["category"] == "全部"]["mature_on"].dt.date.tolist()
    assert ends == [D(2022, 12, 30), D(2023, 1, 29), D(2023, 3, 1)]


def test_an_objection_filed_after_the_as_of_date_is_not_counted(october):
    # At 30 Dec October is mature (60 days) yet O2 (filed 31 Dec) is after D: 1 objected of 2 records.
    oct_30 = ratio_rows(october, D(2022, 12, 30))[("2022-10", "行政处罚")]
    assert (oct_30["records"], oct_30["objected"], oct_30["upheld"], oct_30["ratio"]) == (2, 1, 0, 0.5)
    # At 31 Dec O2 counts: 2 of 2, one upheld and subjective.
    oct_31 = ratio_rows(october, D(2022, 12, 31))[("2022-10", "行政处罚")]
    assert (oct_31["records"], oct_31["objected"], oct_31["upheld"], oct_31["ratio"]) == (2, 2, 1, 1.0)


def test_window_zero_and_the_last_day_of_the_month(october):
    # W = 0: a month is mature once its last day is reached (31 Dec - 31 Dec = 0 >= 0); the day before it is not.
    w0 = Settings(objection_window_days=0)
    assert ratio_rows(october, D(2022, 12, 31), settings=w0)[("2022-12", "全部")]["mature"] is True
    assert ratio_rows(october, D(2022, 12, 30), settings=w0)[("2022-12", "全部")]["mature"] is False


def test_a_negative_window_is_refused_in_chinese(october):
    with pytest.raises(ValueError, match="异议期天数"):
        rows(october, "objection_ratio", D(2022, 12, 31), settings=Settings(objection_window_days=-1))


def test_the_window_setting_comes_from_the_environment(monkeypatch, october):
    monkeypatch.setenv("CREDIT_OBJECTION_WINDOW_DAYS", "31")
    # 31 Dec - 30 Nov = 31 >= 31: November is mature with W = 31 (the default 60 would not make it so).
    got = by(metrics.records(october, "objection_ratio", D(2022, 12, 31), months=3), "month", "category")
    assert got[("2022-11", "全部")]["mature"] is True


def test_objection_departments_counts_mature_months_only(october):
    add_penalty(october, "P9", "E1", D(2022, 11, 2), authority="港口局")
    add_objection(october, "O9", "P9", "行政处罚", D(2022, 11, 20), "异议成立")
    got = rows(october, "objection_departments", D(2022, 12, 31), months=3, settings=W60)
    # Only October is mature: 市交通执法支队 P1, P2, both objected by 31 Dec → 2/2. November's P9 (港口局, objected)
    # and L1, and December's P3 are inside the window W: no row for 港口局 or 行政审批处.
    assert [(r["authority"], r["records"], r["objected"], r["ratio"]) for r in got] == [("市交通执法支队", 2, 2, 1.0)]
    # W = 31: November is mature too (31 Dec - 30 Nov = 31): 港口局 P9 → 1/1 ties with 市交通执法支队's 2/2 and
    # ranks after it (more records first), 行政审批处 L1 → 0/1 last.
    got = rows(october, "objection_departments", D(2022, 12, 31), months=3, settings=Settings(objection_window_days=31))
    assert [(r["authority"], r["records"], r["objected"]) for r in got] == [
        ("市交通执法支队", 2, 2),
        ("港口局", 1, 1),
        ("行政审批处", 1, 0),
    ]


# --------------------------------------------------------------------------- delay


def test_objection_delay_quantiles_are_nearest_rank(con):
    # Five objected records with first-objection delays 0, 5, 10, 20 and 70 days, one with its objection
    # dated before the decision (left out), one never objected, one objected only after D (not counted).
    for i, (decided, filed) in enumerate(
        [
            (D(2022, 11, 1), D(2022, 11, 1)),  # 0
            (D(2022, 11, 1), D(2022, 11, 6)),  # 5
            (D(2022, 11, 10), D(2022, 11, 20)),  # 10
            (D(2022, 11, 10), D(2022, 11, 30)),  # 20
            (D(2022, 10, 1), D(2022, 12, 10)),  # 30 (Oct) + 30 (Nov) + 10 = 70
            (D(2022, 12, 5), D(2022, 12, 1)),  # -4: before the decision
            (D(2022, 12, 1), D(2023, 1, 5)),  # filed after D
        ]
    ):
        add_penalty(con, f"P{i}", "E1", decided)
        add_objection(con, f"O{i}", f"P{i}", "行政处罚", filed, "处理中")
    add_objection(con, "O1b", "P1", "行政处罚", D(2022, 12, 20), "处理中")  # a second objection: the first counts
    add_penalty(con, "P99", "E1", D(2022, 11, 3))  # never objected
    (got,) = rows(con, "objection_delay", D(2022, 12, 31), months=3, settings=W60)
    # n = 5; p50 at rank ceil(2.5) = 3 → 10 days; p90 at rank ceil(4.5) = 5 → 70; within 60 days: 4 of 5.
    assert got == {
        "objected": 5,
        "p50_days": 10,
        "p90_days": 70,
        "max_days": 70,
        "within_window": 4,
        "within_share": 0.8,
        "before_decision": 1,
    }
    (empty,) = rows(con, "objection_delay", D(2022, 9, 30), months=3, settings=W60)
    assert empty["objected"] == 0 and empty["p50_days"] is None and empty["within_share"] is None


# --------------------------------------------------------------------------- flow rate


def test_objection_rate_is_objections_filed_per_1000_records_published(con):
    # November: 4 penalties and 1 license published; 2 penalty objections filed in November (one about an
    # October decision, one naming no stored record) and 1 license objection; December: 1 penalty, no objection
    # filed before D... one filed on 31 Dec, after D = 30 Dec, so not counted.
    for i, day in enumerate([D(2022, 11, 1), D(2022, 11, 2), D(2022, 11, 3), D(2022, 11, 30)]):
        add_penalty(con, f"N{i}", "E1", day)
    add_penalty(con, "O0", "E1", D(2022, 10, 15))
    add_penalty(con, "DEC", "E1", D(2022, 12, 5))
    add_license(con, "L1", "E1", D(2022, 11, 9))
    add_objection(con, "Y1", "O0", "行政处罚", D(2022, 11, 2), "处理中")
    add_objection(con, "Y2", "NOPE", "行政处罚", D(2022, 11, 28), "处理中")  # unmatched: still received
    add_objection(con, "Y3", "L1", "行政许可", D(2022, 11, 29), "异议成立")
    add_objection(con, "Y4", "DEC", "行政处罚", D(2022, 12, 31), "处理中")  # after D
    got = by(rows(con, "objection_rate", D(2022, 12, 30), months=3), "month", "category")
    cols = ("filed", "records", "per_1000")
    assert {k: tuple(r[c] for c in cols) for k, r in got.items()} == pytest.approx(
        {
            # October: 1 penalty published, no objection filed in October → 0 / 1 × 1000 = 0.
            ("2022-10", "行政处罚"): (0, 1, 0.0),
            ("2022-10", "行政许可"): (0, 0, None),  # no record published: no rate, not zero
            ("2022-10", "全部"): (0, 1, 0.0),
            # November 处罚: 2 filed / 4 published × 1000 = 500; 许可: 1 / 1 × 1000 = 1000; 全部: 3 / 5 × 1000 = 600.
            ("2022-11", "行政处罚"): (2, 4, 500.0),
            ("2022-11", "行政许可"): (1, 1, 1000.0),
            ("2022-11", "全部"): (3, 5, 600.0),
            # December: 1 penalty published, Y4 filed after D → 0 / 1.
            ("2022-12", "行政处罚"): (0, 1, 0.0),
            ("2022-12", "行政许可"): (0, 0, None),
            ("2022-12", "全部"): (0, 1, 0.0),
        }
    )


# --------------------------------------------------------------------------- headline


def ratio_frame(months, ratios, mature, category="全部"):
    return pd.DataFrame(
        {
            "month": months,
            "category": category,
            "records": [100] * len(months),
            "objected": [round(r * 100) for r in ratios],
            "upheld": 0,
            "subjective": 0,
            "ratio": ratios,
            "upheld_ratio": 0.0,
            "subjective_ratio": 0.0,
            "mature": mature,
        }
    )


def test_the_headline_skips_immature_months():
    df = ratio_frame(["2022-09", "2022-10", "2022-11", "2022-12"], [0.02, 0.03, 0.01, 0.0], [True, True, False, False])
    h = objections.headline(df)
    # October (3%) is the latest mature month, compared with September (2%); November's 1% is ignored and
    # December's 0% is only provisional.
    assert (h.month, h.ratio, h.prev_month, h.prev_ratio) == ("2022-10", 0.03, "2022-09", 0.02)
    assert (h.provisional_month, h.provisional_ratio, h.provisional_objected) == ("2022-12", 0.0, 0)
    assert h.label == "2022年10月（已过异议期）"


def test_the_headline_without_a_mature_month_or_an_earlier_one():
    none = objections.headline(ratio_frame(["2022-11", "2022-12"], [0.01, 0.0], [False, False]))
    assert none.month is None and none.ratio is None and none.provisional_month == "2022-12"
    first = objections.headline(ratio_frame(["2022-10", "2022-11"], [0.02, 0.01], [True, False]))
    assert (first.month, first.prev_month, first.prev_ratio) == ("2022-10", None, None)
    assert objections.headline(None) == objections.Headline()


def test_headline_months_reach_back_to_two_mature_months():
    # 31 Dec, W = 60: cut = 1 Nov, the latest month end on or before it is 31 Oct → Sep..Dec = 4 months.
    assert objections.latest_mature_month_end(D(2022, 12, 31), 60) == D(2022, 10, 31)
    assert objections.headline_months(D(2022, 12, 31), 60) == 4
    # 30 Dec: cut = 31 Oct, itself a month end → October still (exactly W).
    assert objections.latest_mature_month_end(D(2022, 12, 30), 60) == D(2022, 10, 31)
    # 29 Dec: cut = 30 Oct → September → Aug..Dec = 5 months; a longer page window wins.
    assert objections.latest_mature_month_end(D(2022, 12, 29), 60) == D(2022, 9, 30)
    assert objections.headline_months(D(2022, 12, 29), 60) == 5
    assert objections.headline_months(D(2022, 12, 29), 60, months=12) == 12


# --------------------------------------------------------------------------- charts and downloads


def test_the_trend_draws_immature_months_dotted_and_labelled():
    df = pd.concat(
        [
            ratio_frame(["2022-10", "2022-11", "2022-12"], [0.03, 0.01, 0.0], [True, False, False]),
            ratio_frame(["2022-10", "2022-11", "2022-12"], [0.02, 0.01, 0.0], [True, False, False], "行政处罚"),
        ],
        ignore_index=True,
    )
    fig = charts.objection_trend(df, D(2022, 12, 31), "异议")
    solid, dotted = fig.data[0], fig.data[1]
    assert (solid.name, list(solid.x)) == ("全部", ["2022-10"])
    # The dotted tail starts at October so the line continues, and says why on hover.
    assert list(dotted.x) == ["2022-10", "2022-11", "2022-12"] and dotted.line.dash == "dot"
    assert dotted.showlegend is False and dotted.legendgroup == "全部" and dotted.opacity < 1
    assert [c[2] for c in dotted.customdata] == ["已过异议期", charts.IMMATURE_TEXT, charts.IMMATURE_TEXT]
    assert "customdata[2]" in dotted.hovertemplate
    # The immature months are shaded (category positions 1 and 2 → 0.5 to 2.5) and named.
    (shade,) = fig.layout.shapes
    assert (shade.x0, shade.x1) == (0.5, 2.5)
    assert any(a.text == "异议期内，数据未成熟" for a in fig.layout.annotations)
    quality = charts.objection_quality(df, D(2022, 12, 31), "异议")
    assert list(quality.data[0].marker.opacity) == [1.0, charts.IMMATURE_OPACITY, charts.IMMATURE_OPACITY]
    assert list(quality.data[0].customdata) == ["已过异议期", charts.IMMATURE_TEXT, charts.IMMATURE_TEXT]


def test_downloads_carry_the_flag_in_words():
    df = ratio_frame(["2022-10", "2022-11"], [0.03, 0.01], [True, False])
    assert objections.flag_frame(df)["mature"].tolist() == ["是", "否（异议期内，数据未成熟）"]


# --------------------------------------------------------------------------- briefing


@pytest.fixture
def falling_tail(tmp_path):
    """Decision months whose newest ratios fall only because their objections have not arrived yet:

    - August: 2 penalties, none objected → 0%;   September: 4, 1 objected → 25%;
    - October: 5, 2 objected → 40%;              November: 4, none yet → 0%;   December: 2, none yet → 0%.
    """
    path = str(tmp_path / "tail.duckdb")
    months = {8: (2, 0), 9: (4, 1), 10: (5, 2), 11: (4, 0), 12: (2, 0)}
    with store.connect(path) as c:
        for month, (n, objected) in months.items():
            for i in range(n):
                add_penalty(c, f"P{month}-{i}", "E1", D(2022, month, 1 + i))
                if i < objected:
                    add_objection(c, f"O{month}-{i}", f"P{month}-{i}", "行政处罚", D(2022, month, 20), "异议不成立")
    return path


def objection_clause(summary: str) -> str:
    (clause,) = [part for part in summary.split("；") if "双公示" in part]
    return clause


def test_the_briefing_headline_is_the_latest_mature_month(falling_tail):
    from analytics.output import briefing

    with store.connect(falling_tail, read_only=True) as c:
        b = briefing.compute(c, briefing.Week(2022, 52), settings=W60)
    # 2022-W52 ends on Sunday 1 January 2023: 1 Jan - 31 Oct = 62 >= 60 → October mature, November (32) not.
    k = b.kpis
    assert (k.objection_month, k.objection_ratio, k.objected, k.records) == ("2022-10", 0.4, 2, 5)
    assert (k.objection_prev_month, k.objection_ratio_prev_month) == ("2022-09", 0.25)
    # 40% - 25% = +15.00 points, October against September; January has no decision yet.
    assert objection_clause(b.summary) == (
        "2022年10月（已过异议期）双公示异议占比 40.00%，较9月上升 15.00 个百分点（本月暂无双公示决定）"
    )
    card = {c.key: c for c in briefing.cards(k, b.week)}["objection_ratio"]
    assert card.label == "双公示异议占比 · 2022年10月（已过异议期）"
    assert (card.value, card.delta, card.against, card.tone) == ("40.00%", "+15.00 个百分点", "较9月", "bad")
    # The chart's numbers carry the flag: November and December are marked immature.
    numbers = {s.key: s.numbers for s in briefing.chart_specs(b)}["chart_objection"]
    flags = numbers[numbers["信息类别"] == "全部"].set_index("月份")["已过异议期"]
    assert (flags["2022-10"], flags["2022-11"], flags["2022-12"]) == (
        "是",
        "否（异议期内，数据未成熟）",
        "否（异议期内，数据未成熟）",
    )


def test_the_briefing_summary_never_calls_an_immature_change_a_rise_or_a_fall(falling_tail):
    from analytics.output import briefing

    # Sunday 18 December 2022 (2022-W50): 18 Dec - 30 Sep = 79 → September mature; 18 Dec - 31 Oct = 48 → not.
    with store.connect(falling_tail, read_only=True) as c:
        b = briefing.compute(c, briefing.Week(2022, 50), settings=W60)
    clause = objection_clause(b.summary)
    # September 25% against August 0%: +25.00 points; October's 40% and the fall to December's 0% (0 of 2 so
    # far) are not compared: December is only provisional, November and October not mentioned.
    assert clause == (
        "2022年9月（已过异议期）双公示异议占比 25.00%，较8月上升 25.00 个百分点（本月暂计 0.00%，异议期内，数据未成熟）"
    )
    _compared, provisional = clause.split("（本月暂计")
    assert "下降" not in clause and "上升" not in provisional and "10月" not in clause and "11月" not in clause
    # Sunday 11 September: 11 Sep - 30 Jun = 73 → June is the latest mature month, and it has no decision: its
    # ratio is absent, not 0%, and nothing is compared; September so far is 0 of 4 (objected on the 20th).
    with store.connect(falling_tail, read_only=True) as c:
        early = briefing.compute(c, briefing.Week(2022, 36), settings=W60)
    assert objection_clause(early.summary) == (
        "2022年6月（已过异议期）无双公示决定，异议占比无法计算（本月暂计 0.00%，异议期内，数据未成熟）"
    )
