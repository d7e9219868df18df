"""Text from exports is text: every chart builder escapes the names it is given (analytics.output.escaping)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from analytics.output import charts, escaping
from tests.helpers import section_rollup_frame

ROOT = Path(__file__).resolve().parents[1]
AS_OF = date(2022, 12, 31)
MONTHS = ["2022-10", "2022-11", "2022-12"]
LINK = '<a href="http://evil.example/login">执法支队</a>'
HOSTILE = [LINK, "<b>粗体</b>", "<img src=x onerror=alert(1)>", "[点我](http://evil.example)", "甲%{y}乙"]


def _strings(node):
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list | tuple):
        for value in node:
            yield from _strings(value)


def assert_inert(fig, label: str) -> None:
    """No markup of ``label`` survives anywhere in the figure, and no hover template takes its %{…}."""
    spec = json.loads(fig.to_json())
    texts = list(_strings(spec["data"])) + list(_strings(spec["layout"]))
    for text in texts:
        assert "<a " not in text and "<b>粗" not in text and "<img" not in text, text
    for trace in spec["data"]:
        assert "甲%{y}乙" not in trace.get("hovertemplate", ""), trace["hovertemplate"]
    assert any(escaping.plotly_text(label) in text for text in texts), "the label is shown, escaped"


def series_frame(column: str, label: str, value: str) -> pd.DataFrame:
    return pd.DataFrame({"month": MONTHS * 2, column: ["全部"] * 3 + [label] * 3, value: [0.1, 0.2, 0.3] * 2})


BUILDERS = {
    "severe_share_trend": lambda label: charts.severe_share_trend(
        series_frame("sector", label, "share").assign(severe=1, entities=10), None, AS_OF
    ),
    "objection_trend": lambda label: charts.objection_trend(
        series_frame("category", label, "ratio").assign(records=10, objected=1), AS_OF
    ),
    "objection_rate_trend": lambda label: charts.objection_rate_trend(
        series_frame("category", label, "per_1000").assign(filed=1, records=10), AS_OF
    ),
    "department_ranking": lambda label: charts.department_ranking(
        pd.DataFrame(
            {"authority": [label, "乙"], "records": [10, 10], "objected": [2, 1], "upheld": [1, 0], "ratio": [0.2, 0.1]}
        ),
        top=5,
        as_of=AS_OF,
    ),
    "sector_heatmap": lambda label: charts.sector_heatmap(
        pd.DataFrame({"month": MONTHS, "sector": [label] * 3, "value": [1, 2, 3]}), "penalties", AS_OF
    ),
    "district_bar": lambda label: charts.district_bar(
        pd.DataFrame({"district": [label], "penalties": [3], "entities": [10], "per_100": [30.0]}), AS_OF
    ),
    "progress_trend": lambda label: charts.progress_trend(
        pd.DataFrame(
            {"report_date": [date(2022, 3, 31), date(2022, 6, 30)], "series": [label] * 2, "progress": [1.0, 2.0]}
        ),
        "series",
        AS_OF,
    ),
    "work_points_progress": lambda label: charts.work_points_progress(
        pd.DataFrame(
            {
                "id": [1],
                "title": [label],
                "section": [1],
                "section_title": [label],
                "progress": [50.0],
                "status": ["推进中"],
                "planned_date": [date(2022, 12, 31)],
                "overdue": [False],
            }
        ),
        AS_OF,
    ),
    "section_rollup": lambda label: charts.section_rollup(section_rollup_frame().assign(section_title=label), AS_OF),
}


@pytest.mark.parametrize("builder", list(BUILDERS))
@pytest.mark.parametrize("label", HOSTILE, ids=["link", "bold", "img", "markdown", "template"])
def test_every_builder_shows_a_hostile_name_as_text(builder, label):
    assert_inert(BUILDERS[builder](label), label)


def test_a_category_order_matches_its_escaped_values():
    fig = BUILDERS["department_ranking"](LINK)
    assert set(fig.layout.yaxis.categoryarray) == set(fig.data[0].y)
    assert escaping.plotly_text(LINK) in fig.data[0].y


def test_a_figure_is_escaped_once():
    fig = BUILDERS["sector_heatmap"]("A&B")
    assert list(fig.data[0].y) == ["A&amp;B"]
    escaping.escape_figure(fig)
    assert list(fig.data[0].y) == ["A&amp;B"]  # not A&amp;amp;B


def test_the_map_tooltip_escapes_the_district():
    geo = pd.read_csv(ROOT / "data" / "xiamen_districts.csv")
    geo.loc[0, "district"] = LINK
    risk = pd.DataFrame({"district": [LINK], "penalties": [3], "entities": [10], "per_100": [30.0]})
    deck = charts.district_deck(risk, geo, "app/static/blank_style.json")
    assert deck.layers[0].data[0]["district_html"] == escaping.html_text(LINK)
    assert "{district_html}" in deck._tooltip["html"]


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("[点我](http://evil.example)", r"\[点我\]\(http\://evil\.example\)"),
        ("**粗**", r"\*\*粗\*\*"),
        ("<b>x</b>", r"\<b\>x\</b\>"),
    ],
)
def test_markdown_specials_are_escaped(text, shown):
    assert escaping.markdown_text(text) == shown
