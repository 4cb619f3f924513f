"""Plotly figure builders for the Data page: prices, volume, what differencing does. Pure functions: data in, go.Figure out."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.data.frames import log_returns
from core.present.charts.common import NAIVE_COLOR, display_candles, thin


def candlestick_with_volume(frame: pd.DataFrame, title: str = "") -> go.Figure:
    """Candlestick (adjusted prices) over a volume bar chart; drag to zoom, double-click for
    all. Long ranges are drawn as weekly or monthly candles (the title says which). No range
    slider: it draws every candle a second time, and a fresh session's first chart is the
    page's largest cost (bench_ui)."""
    frame, period = display_candles(frame)
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
            name=f"price ({period})",
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Bar(x=frame.index, y=frame["volume"], name="volume", marker_color=NAIVE_COLOR),
        row=2,
        col=1,
    )
    if period == "daily":  # no empty weekends between trading days
        fig.update_xaxes(rangebreaks=[dict(bounds=["sat", "mon"])])
    span = f"{period} candles, {len(frame):,} of them"
    fig.update_layout(
        title=f"{title}: {span}" if title else span.capitalize(),
        height=520,
        showlegend=False,
        margin=dict(l=40, r=20, t=40, b=20),
        xaxis_rangeslider_visible=False,  # a candlestick's own slider is on by default
        yaxis_title="price (adjusted)",
        yaxis2_title="volume",
    )
    return fig


def differencing_figure(close: pd.Series) -> go.Figure:
    """The price beside its first difference and log return: what differencing does (each
    line thinned for display, spikes kept)."""
    fig = make_subplots(
        rows=3,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.05,
        subplot_titles=("price", "first difference (p_t - p_t-1)", "log return"),
    )
    lines = {"price": close, "first difference": close.diff(), "log return": log_returns(close)}
    for row, (name, series) in enumerate(lines.items(), start=1):
        shown = thin(series)
        fig.add_trace(go.Scatter(x=shown.index, y=shown, name=name, line_width=1), row, 1)
    fig.update_layout(height=560, showlegend=False, margin=dict(l=40, r=20, t=40, b=20))
    return fig
