"""The chart builders: titles, axes with units, traces, from small frames; no Streamlit involved."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from analytics.output import charts
from dashboard import exporting
from tests.helpers import section_rollup_frame

ROOT = Path(__file__).resolve().parent.parent
AS_OF = date(2022, 12, 31)
MONTHS = ["2022-10", "2022-11", "2022-12"]


def title(fig) -> str:
    return fig.layout.title.text


def subtitle(fig) -> str:
    return fig.layout.title.subtitle.text


def test_charts_module_does_not_import_streamlit():
    source = Path(charts.__file__).read_text(encoding="utf-8")
    assert "import streamlit" not in source


def test_subtitle_carries_as_of_and_source():
    assert charts.subtitle(AS_OF, "行政处罚") == "截至 2022年12月31日 · 数据来源：行政处罚"
    assert charts.subtitle(None, None) == ""


def test_severe_share_trend():
    df = pd.DataFrame(
        {
            "month": MONTHS * 2,
            "sector": ["全部"] * 3 + ["道路货运"] * 3,
            "entities": [100, 100, 100, 40, 40, 40],
            "severe": [2, 3, 4, 1, 1, 2],
            "share": [0.02, 0.03, 0.04, 0.025, 0.025, 0.05],
        }
    )
    fig = charts.severe_share_trend(df, target=0.03, as_of=AS_OF, source="严重失信主体名单")
    assert title(fig) == "严重失信主体占比（%）"
    assert "截至 2022年12月31日" in subtitle(fig) and "严重失信主体名单" in subtitle(fig)
    assert fig.layout.yaxis.title.text == "占比（%）"
    assert fig.layout.yaxis.tickformat == ".1%"
    assert fig.layout.xaxis.title.text == "月份"
    assert [t.name for t in fig.data] == ["全部", "道路货运"]
    total = fig.data[0]
    assert list(total.y) == [0.02, 0.03, 0.04]
    assert total.line.color == charts.TOTAL_COLOUR
    assert [list(c) for c in total.customdata] == [[2, 100], [3, 100], [4, 100]]  # counts behind each point
    assert fig.data[1].line.dash != total.line.dash or fig.data[1].marker.symbol != total.marker.symbol
    assert len(fig.layout.shapes) == 1 and fig.layout.shapes[0].y0 == 0.03  # the target line


def test_objection_charts():
    df = pd.DataFrame(
        {
            "month": MONTHS * 3,
            "category": ["行政处罚"] * 3 + ["行政许可"] * 3 + ["全部"] * 3,
            "records": [10, 10, 10, 5, 5, 5, 15, 15, 15],
            "objected": [1, 0, 2, 0, 1, 0, 1, 1, 2],
            "upheld": [1, 0, 1, 0, 0, 0, 1, 0, 1],
            "subjective": [0, 0, 1, 0, 0, 0, 0, 0, 1],
            "ratio": [0.1, 0, 0.2, 0, 0.2, 0, 1 / 15, 1 / 15, 2 / 15],
            "upheld_ratio": [0.1, 0, 0.1, 0, 0, 0, 1 / 15, 0, 1 / 15],
            "subjective_ratio": [0, 0, 0.1, 0, 0, 0, 0, 0, 1 / 15],
        }
    )
    fig = charts.objection_trend(df, AS_OF, "异议")
    assert title(fig) == "双公示信息异议占比（%）"
    assert [t.name for t in fig.data] == ["全部", "行政处罚", "行政许可"]
    assert fig.layout.yaxis.title.text == "异议占比（%）"
    quality = charts.objection_quality(df, AS_OF, "异议")
    assert [t.name for t in quality.data] == ["异议成立率", "主观失误率"]
    assert list(quality.data[0].y) == pytest.approx([1 / 15, 0, 1 / 15])  # the 全部 category only
    assert quality.data[0].marker.pattern.shape != quality.data[1].marker.pattern.shape


def test_department_ranking_sorted_and_capped():
    df = pd.DataFrame(
        {
            "authority": [f"部门{i}" for i in range(20)],
            "records": [100] * 20,
            "objected": list(range(20)),
            "upheld": [0] * 20,
            "ratio": [i / 100 for i in range(20)],
        }
    )
    fig = charts.department_ranking(df, top=5, as_of=AS_OF)
    assert title(fig) == "各部门异议占比排名（前5，%）"
    bar = fig.data[0]
    assert list(bar.y) == ["部门19", "部门18", "部门17", "部门16", "部门15"]
    assert list(fig.layout.yaxis.categoryarray) == ["部门15", "部门16", "部门17", "部门18", "部门19"]  # top at top


def test_work_points_progress_colours_status_and_flags_overdue():
    df = pd.DataFrame(
        {
            "id": [1, 2, 3],
            "title": ["严格落实考核指标任务", "全面贯彻落实信用制度", "规范失信约束措施及应用"],
            "section": [1, 1, 1],
            "section_title": ["推进信用制度落实"] * 3,
            "progress": [100.0, 40.0, 10.0],
            "status": ["已完成", "滞后", "推进中"],
            "planned_date": [date(2022, 12, 31), date(2022, 6, 30), None],
            "overdue": [False, True, False],
        }
    )
    fig = charts.work_points_progress(df, AS_OF, "台账")
    assert title(fig) == "工作要点完成进度（%）"
    assert fig.layout.xaxis.title.text == "完成进度（%）"
    by_name = {t.name: t for t in fig.data}
    assert set(by_name) == {"已完成", "滞后", "推进中"}
    assert by_name["已完成"].marker.color == charts.STATUS_COLOURS["已完成"]
    assert by_name["滞后"].marker.pattern.shape == "x"  # readable in greyscale
    assert list(by_name["滞后"].text) == ["40%  逾期"]
    assert list(fig.layout.yaxis.categoryarray)[-1] == "1. 严格落实考核指标任务"  # point 1 at the top


def test_section_rollup_and_progress_trend():
    rollup = section_rollup_frame()
    fig = charts.section_rollup(rollup, AS_OF)
    assert list(fig.data[0].y) == ["一、推进信用制度落实", "二、加强信用数据归集应用"]
    assert list(fig.data[0].text) == ["50%（完成 1/3，逾期 0）", "20%（完成 0/5，逾期 2）"]
    trend = pd.DataFrame(
        {
            "report_date": [date(2022, 3, 31), date(2022, 6, 30)] * 2,
            "series": ["全部", "全部", "一、推进信用制度落实", "一、推进信用制度落实"],
            "progress": [10.0, 30.0, 20.0, 50.0],
        }
    )
    fig = charts.progress_trend(trend, "series", AS_OF)
    assert [t.name for t in fig.data] == ["全部", "一、推进信用制度落实"]
    assert fig.layout.yaxis.title.text == "完成进度（%）"


@pytest.mark.parametrize("measure", list(charts.MEASURES))
def test_sector_heatmap(measure):
    sectors = ["道路货运", "出租汽车", "网络预约出租汽车", "机动车维修"]
    months = [f"2022-{m:02d}" for m in range(1, 13)]
    rows = [{"month": m, "sector": s, "value": i + j} for i, s in enumerate(sectors) for j, m in enumerate(months)]
    rows.append({"month": "2022-12", "sector": "全部", "value": 999})  # never drawn as a row
    fig = charts.sector_heatmap(pd.DataFrame(rows), measure, AS_OF, "处罚")
    label, unit, _ = charts.MEASURES[measure]
    assert title(fig) == f"行业风险热力图：{label}（{unit}）"
    heat = fig.data[0]
    assert list(heat.y) == sorted(sectors)
    assert list(heat.x) == months
    assert fig.layout.xaxis.tickangle == -45  # 12 month labels: tilted, no overlap
    assert fig.layout.yaxis.automargin is True  # long sector names get their room
    assert fig.layout.height >= 170 + 40 * len(sectors)


def test_district_bar_and_deck():
    risk = pd.DataFrame(
        {"district": ["思明区", "湖里区"], "penalties": [30, 10], "entities": [100, 50], "per_100": [30.0, 20.0]}
    )
    fig = charts.district_bar(risk, AS_OF)
    assert title(fig) == "各区每百户市场主体处罚数（件/百户）"
    assert list(fig.data[0].x) == ["思明区", "湖里区"]
    assert fig.layout.yaxis.title.text == "每百户处罚（件/百户）"
    geo = pd.read_csv(ROOT / "data" / "xiamen_districts.csv")
    deck = charts.district_deck(risk, geo, "app/static/blank_style.json")
    assert deck.map_style == "app/static/blank_style.json"
    spec = deck.to_json()
    assert "ScatterplotLayer" in spec and "TextLayer" in spec and "basemaps" not in spec
    assert "思明区" in json.dumps(json.loads(spec), ensure_ascii=False)
    scatter = deck.layers[0]
    assert len(scatter.data) == 6  # every district drawn, missing ones at 0
    assert "每百户处罚" in deck._tooltip["html"]


def test_empty_frames_give_a_message_not_an_error():
    empty = pd.DataFrame(columns=["month", "sector", "entities", "severe", "share"])
    fig = charts.severe_share_trend(empty, as_of=AS_OF)
    assert fig.layout.annotations[0].text == "所选条件下没有数据"
    assert charts.sector_heatmap(pd.DataFrame(columns=["month", "sector", "value"]), "penalties").layout.annotations


def test_figures_do_not_share_the_template():
    """The template is validated once per process and copied into each figure: editing one figure's
    template (or layout) leaves the other figures, the cached template and Plotly's registry alone."""
    import plotly.io as pio

    registry = pio.templates["plotly_white"].to_plotly_json()
    empty = pd.DataFrame(columns=["month", "sector", "entities", "severe", "share"])
    first = charts.severe_share_trend(empty, as_of=AS_OF)
    second = charts.severe_share_trend(empty, as_of=AS_OF)
    assert first.layout.template.to_plotly_json() == registry  # the same look as template="plotly_white"
    first.layout.template.layout.paper_bgcolor = "#ff0000"
    first.layout.template.data.bar = [{"marker": {"color": "#00ff00"}}]
    first.update_layout(title_text="改过的标题", height=999)
    assert second.layout.template.layout.paper_bgcolor == "white"
    assert second.layout.template.to_plotly_json() == registry
    assert second.layout.title.text == "严重失信主体占比（%）" and second.layout.height == 460
    assert charts.severe_share_trend(empty, as_of=AS_OF).layout.template.to_plotly_json() == registry
    assert pio.templates["plotly_white"].to_plotly_json() == registry
    assert second.layout.template.layout.paper_bgcolor == "white"
    with pytest.raises(ValueError):  # the figure's layout still validates what is set on it afterwards
        second.update_layout(height="tall")


def test_exports_round_trip():
    df = pd.DataFrame({"行业": ["道路货运"], "预警原因": [["penalties_60", "departments_3"]], "占比": [0.25]})
    csv = exporting.to_csv_bytes(df)
    assert csv.startswith(b"\xef\xbb\xbf") and "道路货运".encode() in csv
    xlsx = exporting.to_xlsx_bytes(df, "预警")
    back = pd.read_excel(io.BytesIO(xlsx), sheet_name="预警", engine="calamine")
    assert list(back.columns) == ["行业", "预警原因", "占比"]
    assert back["预警原因"].iloc[0] == "penalties_60、departments_3"
