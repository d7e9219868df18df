"""Text from exports is text: one escaping rule per sink, used by every builder and page.

A company, department, sector or list name comes from outside systems and is free text. Plotly
renders a subset of HTML (a, b, i, br, span, sub, sup) in tick labels, legend names, hover text and
annotations, and fills ``%{…}`` fields in hover templates; Streamlit renders Markdown in captions,
metric labels and help; the briefing and map tooltips are HTML. Each sink gets its own escape here,
and nothing from the data reaches a sink without it.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

import numpy as np
import pandas as pd
import plotly.graph_objects as go


def plotly_text(value: object) -> str:
    """A value as literal text in a Plotly label: <, > and & as entities, which Plotly shows as the characters."""
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def plotly_template_text(value: object) -> str:
    """A value written into a hover or text template: also ``%{`` broken up (shown as typed), so a name
    cannot pull other fields of the point into its hover."""
    return plotly_text(value).replace("%{", "%&#123;")


def html_text(value: object) -> str:
    """A value inside HTML (the briefing export, st.html, a map tooltip)."""
    return html.escape(str(value), quote=True)


# Markdown's specials, and < so that no HTML tag is rendered either.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|>~<:$])")


def markdown_text(value: object) -> str:
    """A value inside Markdown (st.markdown, captions, metric labels and help): every special escaped."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(value))


# --- Plotly figures: every data-bearing property of a finished figure, escaped once ---------------------

_TRACE_TEXT_FIELDS = ("x", "y", "text", "hovertext", "labels", "ids", "locations")
_ESCAPED_MARK = "text-is-text"


def _escape_values(values):
    """Strings among ``values`` escaped; numbers, dates and None as they are."""
    if values is None or isinstance(values, str | bytes):
        return plotly_text(values) if isinstance(values, str) else values
    if isinstance(values, np.ndarray) and values.dtype.kind in "biufcmM":
        return values
    if isinstance(values, pd.Series | pd.Index):
        values = values.to_numpy(dtype=object)
    if isinstance(values, Iterable):
        return [_escape_values(v) if isinstance(v, str | list | tuple | np.ndarray) else v for v in values]
    return values


def escape_figure(fig: go.Figure) -> go.Figure:
    """Escape, in place, the data a builder put into ``fig``: trace names, categorical values, text,
    hover text, customdata and the category orders and tick texts of the axes. Hover templates and titles
    are the builder's own text; a data value written into one goes through ``plotly_template_text``.
    A figure is escaped once (its layout.meta carries a mark)."""
    meta = fig.layout.meta
    if isinstance(meta, dict) and meta.get(_ESCAPED_MARK):
        return fig
    for trace in fig.data:
        if getattr(trace, "name", None) is not None:
            trace.name = plotly_text(trace.name)
        for field in _TRACE_TEXT_FIELDS:
            value = getattr(trace, field, None) if field in trace else None
            if value is not None and not (isinstance(value, np.ndarray) and value.dtype.kind in "biufcmM"):
                trace[field] = _escape_values(value)
        if "customdata" in trace and trace.customdata is not None:
            trace.customdata = _escape_values(trace.customdata)
        if "legendgroup" in trace and trace.legendgroup:
            trace.legendgroup = plotly_text(trace.legendgroup)
    for axis in [*fig.select_xaxes(), *fig.select_yaxes()]:
        if axis.categoryarray is not None:
            axis.categoryarray = _escape_values(axis.categoryarray)
        if axis.ticktext is not None:
            axis.ticktext = _escape_values(axis.ticktext)
    fig.update_layout(meta={**(meta if isinstance(meta, dict) else {}), _ESCAPED_MARK: True})
    return fig
