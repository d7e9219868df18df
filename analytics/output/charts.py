"""Plotly chart builders: a DataFrame in, a ``go.Figure`` out.

Pure functions, testable without Streamlit. Every figure carries a Chinese
title with its unit, a subtitle with the as-of date and the data source, and
the one palette below. The palette reads in greyscale too: series differ in
lightness, and lines also differ in dash and marker, bars in fill pattern.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from datetime import date

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import pydeck as pdk

from analytics.output import escaping

_t = escaping.plotly_template_text  # a data value written into a hover template

FONT_FAMILY = '"Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", sans-serif'

# Categorical palette ordered so neighbours differ in lightness (dark, light, mid, ...).
PALETTE = (
    "#1b3a5c",  # navy
    "#e69f00",  # amber
    "#56b4e9",  # sky
    "#a6361c",  # brick
    "#7fc97f",  # sage
    "#6a3d9a",  # plum
    "#b8b8b8",  # grey
    "#00796b",  # teal
)
TOTAL_COLOUR = "#111111"  # the 全部 series: black, thick, solid
DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
SYMBOLS = ("circle", "square", "diamond", "triangle-up", "x", "star", "cross", "triangle-down")
PATTERNS = ("", "/", ".", "x", "\\", "+", "-", "|")

# Work-point status: darkest = done, light = not started, brick + hatching = late.
STATUS_COLOURS = {"已完成": "#1b3a5c", "推进中": "#56b4e9", "滞后": "#a6361c", "未启动": "#d9d9d9"}
STATUS_PATTERNS = {"已完成": "", "推进中": "", "滞后": "x", "未启动": "."}

# Sequential scale with monotone lightness: readable in greyscale.
SEQUENTIAL = [[0.0, "#f7fbff"], [0.25, "#c6dbef"], [0.5, "#6baed6"], [0.75, "#2171b5"], [1.0, "#08306b"]]

ALL = "全部"
UNREGISTERED = "未登记"

# deck.gl colours as RGBA lists.
DECK_FILL = [27, 58, 92, 200]
DECK_TEXT = [17, 17, 17, 255]
DECK_FONT = "Noto Sans CJK SC, Noto Sans SC, Microsoft YaHei, sans-serif"


def subtitle(as_of: date | None, source: str | None) -> str:
    parts = []
    if as_of is not None:
        parts.append(f"截至 {as_of:%Y年%m月%d日}")
    if source:
        parts.append(f"数据来源：{source}")
    return " · ".join(parts)


@functools.cache
def _template() -> go.layout.Template:
    """plotly_white, looked up and validated once per process (a copy; Plotly's registry is left alone)."""
    return go.layout.Template(pio.templates["plotly_white"])


def _set_template(fig: go.Figure) -> None:
    """Give ``fig`` its own copy of the template without validating it again.

    ``template="plotly_white"`` in update_layout re-validates the whole template (every trace type's
    defaults) for each figure, about 8 ms a chart on every rerun. This assigns it the way Plotly assigns
    its default template to every new figure: with the layout's validation off, which stores a deep
    copy of the template's JSON (``to_plotly_json``), so figures never share it.
    """
    layout = fig.layout
    validate, layout._validate = layout._validate, False
    try:
        layout.template = _template()
    finally:
        layout._validate = validate


def _base(fig: go.Figure, title: str, as_of: date | None, source: str | None, height: int = 420) -> go.Figure:
    _set_template(fig)
    fig.update_layout(
        title={"text": title, "subtitle": {"text": subtitle(as_of, source)}, "x": 0.01, "xanchor": "left"},
        font={"family": FONT_FAMILY, "size": 13, "color": "#222222"},
        height=height,
        margin={"l": 10, "r": 20, "t": 80, "b": 10},
        # A vertical legend right of the plot never collides with the month ticks or axis titles below it.
        legend={"orientation": "v", "yanchor": "top", "y": 1.0, "xanchor": "left", "x": 1.02},
        hoverlabel={"font": {"family": FONT_FAMILY}},
        separators=".,",
    )
    fig.update_xaxes(automargin=True)
    fig.update_yaxes(automargin=True)
    return fig


def _month_axis(fig: go.Figure, months: Sequence[str], title: str = "月份") -> None:
    """Category month axis; tilt the ticks when there are many so they never overlap."""
    many = len(months) > 8
    fig.update_xaxes(
        title_text=title,
        type="category",
        categoryorder="array",
        categoryarray=list(months),
        tickangle=-45 if many else 0,
        dtick=1 if len(months) <= 24 else 3,  # every month labelled when they fit tilted
    )


def _line_style(i: int) -> dict:
    return {
        "line": {"color": PALETTE[i % len(PALETTE)], "dash": DASHES[i % len(DASHES)], "width": 2},
        "marker": {"symbol": SYMBOLS[i % len(SYMBOLS)], "size": 7},
    }


def _total_style() -> dict:
    return {"line": {"color": TOTAL_COLOUR, "width": 3.5}, "marker": {"symbol": "circle", "size": 8}}


def _series_order(values: Sequence[str]) -> list[str]:
    """全部 first, then the rest in their given order."""
    seen = list(dict.fromkeys(values))
    return ([ALL] if ALL in seen else []) + [v for v in seen if v != ALL]


def _empty(fig: go.Figure, text: str = "所选条件下没有数据") -> go.Figure:
    fig.add_annotation(text=text, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper", font={"size": 16})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


# ---------------------------------------------------------------- work points


def _text_is_text(builder: Callable[..., go.Figure]) -> Callable[..., go.Figure]:
    """Every builder's figure leaves with its data escaped for Plotly (analytics.output.escaping): a sector,
    department or company name renders as the text it is, never as a link or markup."""

    @functools.wraps(builder)
    def build(*args, **kwargs) -> go.Figure:
        return escaping.escape_figure(builder(*args, **kwargs))

    return build


def point_label(row) -> str:
    return f"{int(row['id'])}. {row['title']}"


@_text_is_text
def work_points_progress(df: pd.DataFrame, as_of: date | None = None, source: str | None = None) -> go.Figure:
    """One horizontal bar per work point (0–100 %), coloured by status, overdue points flagged."""
    fig = go.Figure()
    n = len(df)
    _base(fig, "工作要点完成进度（%）", as_of, source, height=max(320, 120 + 30 * n))
    if df.empty:
        return _empty(fig)
    data = df.sort_values("id").copy()
    data["label"] = data.apply(point_label, axis=1)
    order = list(data["label"])
    for status, colour in STATUS_COLOURS.items():
        part = data[data["status"] == status]
        if part.empty:
            continue
        text = [
            f"{p:.0f}%" + ("  逾期" if bool(o) else "") for p, o in zip(part["progress"], part["overdue"], strict=True)
        ]
        planned = [fmt_date(d) for d in part["planned_date"]]
        fig.add_bar(
            name=status,
            x=part["progress"],
            y=part["label"],
            orientation="h",
            text=text,
            textposition="outside",
            cliponaxis=False,
            marker={
                "color": colour,
                "line": {"color": "#333333", "width": 0.5},
                "pattern": {"shape": STATUS_PATTERNS[status], "fgcolor": "#ffffff" if status == "滞后" else "#666666"},
            },
            customdata=list(zip(part["section_title"], planned, part["status"], strict=True)),
            hovertemplate="%{y}<br>所属部分：%{customdata[0]}<br>进度：%{x:.0f}%<br>状态：%{customdata[2]}"
            "<br>计划完成：%{customdata[1]}<extra></extra>",
        )
    fig.update_xaxes(title_text="完成进度（%）", range=[0, 118], ticksuffix="%", tickvals=[0, 20, 40, 60, 80, 100])
    fig.update_yaxes(title_text=None, categoryorder="array", categoryarray=order[::-1], type="category")
    fig.update_layout(
        barmode="overlay",
        bargap=0.25,
        legend={
            "title": {"text": "状态"},
            "orientation": "h",
            "y": 1.0,
            "yanchor": "bottom",
            "x": 1,
            "xanchor": "right",
        },
    )
    fig.update_layout(margin={"t": 110})
    return fig


@_text_is_text
def section_rollup(df: pd.DataFrame, as_of: date | None = None, source: str | None = None) -> go.Figure:
    """Average progress per section with completed / total as the bar text.

    ``df``: section, section_title, progress (mean %), completed, total, overdue.
    """
    fig = go.Figure()
    _base(fig, "各部分平均完成进度（%）", as_of, source, height=360)
    if df.empty:
        return _empty(fig)
    data = df.sort_values("section")
    labels = [section_label(s, t) for s, t in zip(data["section"], data["section_title"], strict=True)]
    fig.add_bar(
        x=data["progress"],
        y=labels,
        orientation="h",
        marker={"color": PALETTE[0]},
        text=[
            f"{p:.0f}%（完成 {c}/{t}，逾期 {o}）"
            for p, c, t, o in zip(data["progress"], data["completed"], data["total"], data["overdue"], strict=True)
        ],
        textposition="outside",
        cliponaxis=False,
        hovertemplate="%{y}<br>平均进度：%{x:.1f}%<extra></extra>",
        showlegend=False,
    )
    fig.update_xaxes(title_text="平均完成进度（%）", range=[0, 150], ticksuffix="%", tickvals=[0, 20, 40, 60, 80, 100])
    fig.update_yaxes(title_text=None, categoryorder="array", categoryarray=labels[::-1], type="category")
    return fig


@_text_is_text
def progress_trend(
    df: pd.DataFrame,
    series: str,
    as_of: date | None = None,
    source: str | None = None,
    title: str = "工作要点进度变化（%）",
) -> go.Figure:
    """Progress over report dates, one line per value of ``series`` (``df``: report_date, series, progress)."""
    fig = go.Figure()
    _base(fig, title, as_of, source)
    if df.empty:
        return _empty(fig)
    for i, name in enumerate(_series_order(df[series].astype(str))):
        part = df[df[series].astype(str) == name].sort_values("report_date")
        fig.add_scatter(
            x=pd.to_datetime(part["report_date"]),
            y=part["progress"],
            name=name,
            mode="lines+markers",
            hovertemplate=f"{_t(name)}<br>%{{x|%Y-%m-%d}}：%{{y:.1f}}%<extra></extra>",
            **(_total_style() if name == ALL else _line_style(i)),
        )
    fig.update_xaxes(title_text="填报日期", tickformat="%Y-%m")
    fig.update_yaxes(title_text="完成进度（%）", range=[0, 105], ticksuffix="%")
    return fig


# ---------------------------------------------------------------- severe share


@_text_is_text
def severe_share_trend(
    df: pd.DataFrame, target: float | None = None, as_of: date | None = None, source: str | None = None
) -> go.Figure:
    """Monthly share of entities on a severe list, per sector and 全部; ``share`` as a fraction.

    ``target`` (a fraction) draws a dashed horizontal target line.
    """
    fig = go.Figure()
    _base(fig, "严重失信主体占比（%）", as_of, source, height=460)
    if df.empty:
        return _empty(fig)
    months = sorted(df["month"].unique())
    for i, name in enumerate(_series_order(df["sector"])):
        part = df[df["sector"] == name].sort_values("month")
        style = _total_style() if name == ALL else _line_style(i)
        fig.add_scatter(
            x=part["month"],
            y=part["share"],
            name=name,
            mode="lines+markers",
            customdata=list(zip(part["severe"], part["entities"], strict=True)),
            hovertemplate=f"{_t(name)} %{{x}}<br>占比：%{{y:.2%}}<br>严重失信主体：%{{customdata[0]}} 户"
            "<br>主体总数：%{customdata[1]} 户<extra></extra>",
            **style,
        )
    if target is not None:
        fig.add_hline(
            y=target,
            line={"color": "#a6361c", "dash": "dash", "width": 2},
            annotation_text=f"目标 {target:.2%}",
            annotation_position="top left",
        )
    _month_axis(fig, months)
    fig.update_yaxes(title_text="占比（%）", tickformat=".1%", rangemode="tozero")
    return fig


# ---------------------------------------------------------------- objections


IMMATURE_TEXT = "异议期内，数据未成熟"
IMMATURE_OPACITY = 0.4


def _mature_mask(df: pd.DataFrame) -> pd.Series:
    """True per row whose month is past the objection window; every row when the frame has no ``mature``."""
    if "mature" not in df:
        return pd.Series(True, index=df.index)
    return df["mature"].map(lambda m: True if m is None or pd.isna(m) else bool(m)).astype(bool)


def _mark_immature(fig: go.Figure, months: Sequence[str], immature: Sequence[str]) -> None:
    """Shade the immature months (a category axis: month i spans i - 0.5 to i + 0.5) and name them."""
    if not immature:
        return
    positions = [list(months).index(m) for m in immature if m in months]
    if not positions:
        return
    fig.add_vrect(
        x0=min(positions) - 0.5,
        x1=max(positions) + 0.5,
        fillcolor="#d9d9d9",
        opacity=0.35,
        line_width=0,
        layer="below",
        annotation_text=IMMATURE_TEXT,
        annotation_position="top left",
        annotation_font={"size": 12, "color": "#4a5563"},
    )


@_text_is_text
def objection_trend(df: pd.DataFrame, as_of: date | None = None, source: str | None = None) -> go.Figure:
    """Monthly objection ratio (objections / 双公示 records) per category; ratios as fractions.

    With a ``mature`` column (objection_ratio's), months still inside the objection window are drawn
    lighter and dotted, continuing each line from its last mature month, shaded and labelled IMMATURE_TEXT.
    """
    fig = go.Figure()
    _base(fig, "双公示信息异议占比（%）", as_of, source)
    if df.empty:
        return _empty(fig)
    mature = _mature_mask(df)
    flagged = "mature" in df
    months = sorted(df["month"].unique())
    for i, name in enumerate(_series_order(df["category"])):
        part = df[df["category"] == name].sort_values("month")
        ripe = mature[part.index]
        style = _total_style() if name == ALL else _line_style(i)
        status = [("已过异议期" if r else IMMATURE_TEXT) if flagged else "" for r in ripe]
        custom = [[o, n, s] for o, n, s in zip(part["objected"], part["records"], status, strict=True)]
        tag = "（%{customdata[2]}）" if flagged else ""
        hover = (
            f"{_t(name)} %{{x}}{tag}<br>异议占比：%{{y:.2%}}<br>异议：%{{customdata[0]}} 件"
            "<br>公示信息：%{customdata[1]} 条<extra></extra>"
        )
        solid = ripe.to_numpy()
        fig.add_scatter(
            x=part["month"][solid],
            y=part["ratio"][solid],
            name=name,
            legendgroup=name,
            mode="lines+markers",
            customdata=[c for c, keep in zip(custom, solid, strict=True) if keep],
            hovertemplate=hover,
            **style,
        )
        if not solid.all():
            # The immature tail (always the newest months), joined to the last mature point: one series.
            start = max(int(solid.argmin()) - 1, 0)
            tail = part.iloc[start:]
            line = {**style["line"], "dash": "dot"}
            fig.add_scatter(
                x=tail["month"],
                y=tail["ratio"],
                name=f"{name}（{IMMATURE_TEXT}）",
                legendgroup=name,
                showlegend=False,
                mode="lines+markers",
                opacity=IMMATURE_OPACITY + 0.15,
                line=line,
                marker={**style["marker"], "symbol": "circle-open"},
                customdata=custom[start:],
                hovertemplate=hover,
            )
    _month_axis(fig, months)
    _mark_immature(fig, months, sorted(df.loc[~mature, "month"].unique()))
    fig.update_yaxes(title_text="异议占比（%）", tickformat=".2%", rangemode="tozero")
    return fig


@_text_is_text
def objection_quality(df: pd.DataFrame, as_of: date | None = None, source: str | None = None) -> go.Figure:
    """Upheld and subjective-error ratios per month (of the 全部 category when present); immature months
    (``mature`` false) lighter, shaded and labelled like objection_trend's."""
    fig = go.Figure()
    _base(fig, "异议成立率与主观失误率（%）", as_of, source)
    if df.empty:
        return _empty(fig)
    data = df[df["category"] == ALL] if (df["category"] == ALL).any() else df
    flagged = "mature" in data
    data = data.assign(mature=_mature_mask(data))
    data = (
        data.groupby("month", as_index=False)
        .agg(
            upheld_ratio=("upheld_ratio", "mean"),
            subjective_ratio=("subjective_ratio", "mean"),
            mature=("mature", "all"),
        )
        .sort_values("month")
    )
    status = [("已过异议期" if m else IMMATURE_TEXT) if flagged else "" for m in data["mature"]]
    tag = "（%{customdata}）" if flagged else ""
    opacity = [1.0 if m else IMMATURE_OPACITY for m in data["mature"]]
    for i, (col, name) in enumerate((("upheld_ratio", "异议成立率"), ("subjective_ratio", "主观失误率"))):
        fig.add_bar(
            x=data["month"],
            y=data[col],
            name=name,
            marker={
                "color": PALETTE[i],
                "pattern": {"shape": PATTERNS[i * 3], "fgcolor": "#ffffff"},
                **({"opacity": opacity} if flagged else {}),
            },
            customdata=status,
            hovertemplate=f"{_t(name)} %{{x}}{tag}：%{{y:.2%}}<extra></extra>",
        )
    fig.update_layout(barmode="group")
    months = list(data["month"])
    _month_axis(fig, months)
    _mark_immature(fig, months, [m for m, ok in zip(months, data["mature"], strict=True) if not ok])
    fig.update_yaxes(title_text="占公示信息比例（%）", tickformat=".2%", rangemode="tozero")
    return fig


@_text_is_text
def objection_rate_trend(df: pd.DataFrame, as_of: date | None = None, source: str | None = None) -> go.Figure:
    """异议发生率 per month and category: objections filed in the month per 1,000 records published in it
    (objection_rate's per_1000); a flow, complete at each month's end, so no month is marked immature."""
    fig = go.Figure()
    _base(fig, "异议发生率（件/千条）", as_of, source)
    if df.empty or df["per_1000"].isna().all():
        return _empty(fig)
    for i, name in enumerate(_series_order(df["category"])):
        part = df[df["category"] == name].sort_values("month")
        fig.add_scatter(
            x=part["month"],
            y=part["per_1000"],
            name=name,
            mode="lines+markers",
            customdata=list(zip(part["filed"], part["records"], strict=True)),
            hovertemplate=f"{_t(name)} %{{x}}<br>异议发生率：%{{y:.1f}} 件/千条<br>当月提出异议：%{{customdata[0]}} 件"
            "<br>当月公示信息：%{customdata[1]} 条<extra></extra>",
            **(_total_style() if name == ALL else _line_style(i)),
        )
    _month_axis(fig, sorted(df["month"].unique()))
    fig.update_yaxes(title_text="异议发生率（件/千条）", tickformat=".1f", rangemode="tozero")
    return fig


@_text_is_text
def department_ranking(
    df: pd.DataFrame, top: int = 15, as_of: date | None = None, source: str | None = None
) -> go.Figure:
    """Issuing departments ranked by objection ratio (highest at the top)."""
    data = df.sort_values(["ratio", "objected"], ascending=False).head(top)
    fig = go.Figure()
    heading = f"各部门异议占比排名（前{top}，%）" if len(df) > top else "各部门异议占比排名（%）"
    _base(fig, heading, as_of, source, height=max(320, 110 + 30 * len(data)))
    if data.empty:
        return _empty(fig)
    fig.add_bar(
        x=data["ratio"],
        y=data["authority"],
        orientation="h",
        marker={"color": PALETTE[0]},
        text=[f"{r:.2%}（{o}/{n}）" for r, o, n in zip(data["ratio"], data["objected"], data["records"], strict=True)],
        textposition="outside",
        cliponaxis=False,
        showlegend=False,
        customdata=list(zip(data["objected"], data["records"], data["upheld"], strict=True)),
        hovertemplate="%{y}<br>异议占比：%{x:.2%}<br>异议：%{customdata[0]} 件 / 公示：%{customdata[1]} 条"
        "<br>异议成立：%{customdata[2]} 件<extra></extra>",
    )
    top_value = float(data["ratio"].max() or 0)
    fig.update_xaxes(title_text="异议占比（%）", tickformat=".1%", range=[0, max(top_value * 1.45, 0.001)])
    fig.update_yaxes(
        title_text=None, categoryorder="array", categoryarray=list(data["authority"])[::-1], type="category"
    )
    return fig


# ---------------------------------------------------------------- sector risk

MEASURES = {
    # key: (label, unit, number format for cells and hover)
    "penalties": ("行政处罚", "件", ",.0f"),
    "per_100": ("每百户处罚", "件/百户", ".1f"),
    "severe_share": ("严重失信主体占比", "%", ".1%"),
    "warnings": ("风险预警主体", "户", ",.0f"),
}


@_text_is_text
def sector_heatmap(df: pd.DataFrame, measure: str, as_of: date | None = None, source: str | None = None) -> go.Figure:
    """Sector × month heatmap of one measure (``df``: month, sector, value)."""
    label, unit, fmt = MEASURES[measure]
    fig = go.Figure()
    data = df[df["sector"] != ALL] if not df.empty else df
    sectors = sector_order(data["sector"].unique()) if not data.empty else []
    _base(fig, f"行业风险热力图：{label}（{unit}）", as_of, source, height=max(360, 170 + 40 * len(sectors)))
    if data.empty:
        return _empty(fig)
    months = sorted(data["month"].unique())
    # min_count: an uncovered month (NaN) stays an empty cell instead of summing to 0.
    grid = data.pivot_table(
        index="sector", columns="month", values="value", aggfunc=lambda s: s.sum(min_count=1), dropna=False
    ).reindex(index=sectors, columns=months)
    uncovered = set()
    if "coverage" in data.columns:
        uncovered = set(data.loc[data["coverage"] == "none", "month"])
    # The hover text of each cell: its value, or 未覆盖 where the data does not cover the month.
    shown = [
        [
            "未覆盖（无数据）" if m in uncovered else ("—" if pd.isna(v) else format(v, fmt))
            for m, v in zip(months, row, strict=True)
        ]
        for row in grid.values
    ]
    show_text = len(months) <= 24
    fig.add_heatmap(
        z=grid.values,
        x=months,
        y=sectors,
        colorscale=SEQUENTIAL,
        colorbar={
            "title": {"text": unit, "side": "top"},
            "tickformat": fmt.replace(",", "") if "%" in fmt else None,
            "thickness": 14,
        },
        texttemplate=f"%{{z:{fmt}}}" if show_text else None,
        textfont={"size": 11},
        customdata=shown,
        hovertemplate=f"%{{y}} %{{x}}<br>{label}：%{{customdata}} {'' if unit == '%' else unit}<extra></extra>",
        hoverongaps=True,
        xgap=2,
        ygap=2,
    )
    _month_axis(fig, months)
    fig.update_yaxes(title_text="行业", type="category", autorange="reversed")
    fig.update_layout(margin={"b": 20})
    return fig


def sector_order(sectors) -> list[str]:
    """Sectors by name, the 未登记 bucket (records outside the register) last."""
    return sorted(sectors, key=lambda s: (s == UNREGISTERED, s))


@_text_is_text
def district_bar(df: pd.DataFrame, as_of: date | None = None, source: str | None = None) -> go.Figure:
    """Penalties per 100 entities per district."""
    fig = go.Figure()
    _base(fig, "各区每百户市场主体处罚数（件/百户）", as_of, source, height=420)
    data = df[(df["district"] != UNREGISTERED) & df["per_100"].notna()].sort_values("per_100", ascending=False)
    if data.empty:
        return _empty(fig)
    fig.add_bar(
        x=data["district"],
        y=data["per_100"],
        marker={"color": PALETTE[0]},
        showlegend=False,
        text=[f"{v:.1f}" for v in data["per_100"]],
        textposition="outside",
        cliponaxis=False,
        customdata=list(zip(data["penalties"], data["entities"], strict=True)),
        hovertemplate="%{x}<br>每百户处罚：%{y:.1f} 件<br>处罚：%{customdata[0]} 件<br>主体：%{customdata[1]} 户"
        "<extra></extra>",
    )
    fig.update_xaxes(title_text="行政区", type="category")
    top_value = float(data["per_100"].max() or 0)
    fig.update_yaxes(title_text="每百户处罚（件/百户）", range=[0, max(top_value * 1.2, 1)])
    return fig


def district_deck(df: pd.DataFrame, geo: pd.DataFrame, map_style: str) -> pdk.Deck:
    """District columns at the centroids, height and radius by penalties per 100 entities.

    ``df``: district, penalties, entities, per_100; ``geo``: district, centroid_lon, centroid_lat.
    ``map_style`` points at a blank style the app serves itself, so no base-map tile is fetched.
    """
    data = geo[["district", "centroid_lon", "centroid_lat"]].merge(df, on="district", how="left")
    data[["penalties", "entities"]] = data[["penalties", "entities"]].fillna(0).astype(int)
    data["per_100"] = data["per_100"].fillna(0.0).astype(float).round(1)
    top = float(data["per_100"].max() or 0) or 1.0
    data["radius"] = 600 + 2200 * data["per_100"] / top
    data["label"] = [f"{d} {v:.1f}" for d, v in zip(data["district"], data["per_100"], strict=True)]
    data["district_html"] = data["district"].map(escaping.html_text)  # the tooltip is HTML
    data["offset"] = _label_offsets(data)
    records = data.to_dict("records")
    scatter = pdk.Layer(
        "ScatterplotLayer",
        data=records,
        get_position=["centroid_lon", "centroid_lat"],
        get_radius="radius",
        get_fill_color=DECK_FILL,
        get_line_color=[255, 255, 255, 255],
        line_width_min_pixels=1,
        stroked=True,
        pickable=True,
    )
    text = pdk.Layer(
        "TextLayer",
        data=records,
        get_position=["centroid_lon", "centroid_lat"],
        get_text="label",
        get_size=15,
        get_color=DECK_TEXT,
        get_pixel_offset="offset",
        # pydeck reads a bare string as an accessor expression; a quoted one stays a string.
        character_set=_deck_string("".join(sorted(set("".join(data["label"]))))),  # the glyphs for the atlas
        font_family=_deck_string(DECK_FONT),
        font_weight=700,
        outline_width=4,
        outline_color=[255, 255, 255, 255],
        font_settings={"sdf": True},
    )
    lon = float(geo["centroid_lon"].mean())
    lat = float(geo["centroid_lat"].mean())
    view = pdk.ViewState(longitude=lon, latitude=lat, zoom=9.3, pitch=0)
    tooltip = {
        "html": "<b>{district_html}</b><br/>每百户处罚：{per_100} 件<br/>处罚：{penalties} 件<br/>市场主体：{entities} 户",
        "style": {"fontFamily": FONT_FAMILY, "fontSize": "13px"},
    }
    return pdk.Deck(
        layers=[scatter, text], initial_view_state=view, map_style=map_style, tooltip=tooltip, map_provider=None
    )


# ---------------------------------------------------------------- helpers


def _label_offsets(data: pd.DataFrame, near: float = 0.08) -> list[list[int]]:
    """Label below each point, or above it when another point sits just below (思明区 under 湖里区)."""
    offsets = []
    for lon, lat in zip(data["centroid_lon"], data["centroid_lat"], strict=True):
        crowded = any(
            0 < lat - other_lat < near and abs(lon - other_lon) < near
            for other_lon, other_lat in zip(data["centroid_lon"], data["centroid_lat"], strict=True)
        )
        offsets.append([0, -30] if crowded else [0, 24])
    return offsets


def _deck_string(text: str) -> str:
    """A literal string for a pydeck layer property (pydeck strips the quotes instead of making an accessor)."""
    return "'" + text.replace("'", "") + "'"


def fmt_date(value) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "—"
    return pd.Timestamp(value).strftime("%Y-%m-%d")


_NUMERALS = "一二三四五六七八九十"


def section_numeral(section) -> str:
    try:
        n = int(section)
    except (TypeError, ValueError):
        return str(section)
    return _NUMERALS[n - 1] if 1 <= n <= 10 else str(n)


def section_label(section, title: str) -> str:
    """一、推进信用制度落实 — how the plan itself numbers its five sections."""
    return f"{section_numeral(section)}、{title}"
