"""Plotly figure builders for the Data page: prices, volume, what differencing does. Pure functions: data in, go.Figure out."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.charts.common import NAIVE_COLOR
from core.data.frames import log_returns


def candlestick_with_volume(frame: pd.DataFrame, title: str = "") -> go.Figure:
    """Candlestick (adjusted prices) over a volume bar chart, with a range slider."""
    fig = make_subplots(
        rows=2, cols=1, shared_xaxes=True, row_heights=[0.75, 0.25], vertical_spacing=0.03
    )
    fig.add_trace(
        go.Candlestick(
            x=frame.index,
            open=frame["open"],
            high=frame["high"],
            low=frame["low"],
            close=frame["close"],
            name="price",
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Bar(x=frame.index, y=frame["volume"], name="volume", marker_color=NAIVE_COLOR),
        row=2,
        col=1,
    )
    fig.update_layout(
        title=title,
        height=520,
        showlegend=False,
        margin=dict(l=40, r=20, t=40, b=20),
        xaxis_rangeslider_visible=False,
        xaxis2_rangeslider=dict(visible=True, thickness=0.06),
        yaxis_title="price (adjusted)",
        yaxis2_title="volume",
    )
    return fig


def differencing_figure(close: pd.Series) -> go.Figure:
    """The price beside its first difference and log return: what differencing does."""
    fig = make_subplots(
        rows=3,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.05,
        subplot_titles=("price", "first difference (p_t - p_t-1)", "log return"),
    )
    fig.add_trace(go.Scatter(x=close.index, y=close, name="price", line_width=1), 1, 1)
    fig.add_trace(
        go.Scatter(x=close.index, y=close.diff(), name="first difference", line_width=1), 2, 1
    )
    fig.add_trace(
        go.Scatter(x=close.index, y=log_returns(close), name="log return", line_width=1), 3, 1
    )
    fig.update_layout(height=560, showlegend=False, margin=dict(l=40, r=20, t=40, b=20))
    return fig
