"""Plotly figure builders for the Anomalies page: marked days and scores. Pure functions: data in, go.Figure out."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from core.present.charts.common import ACTUAL_COLOR, LEGEND_BELOW, NAIVE_COLOR, PALETTE, thin


def anomaly_price_chart(
    close: pd.Series,
    anomalous: pd.DatetimeIndex,
    only_autoencoder: pd.DatetimeIndex,
    only_zscore: pd.DatetimeIndex,
) -> go.Figure:
    """The price (thinned for display) with the autoencoder's anomalous days marked: the
    days the rolling z-score flags too, the days only the autoencoder flags, and the
    z-score's own top days that the autoencoder missed."""
    fig = go.Figure()
    shown = thin(close)
    fig.add_trace(
        go.Scatter(x=shown.index, y=shown, name="close", line=dict(color=ACTUAL_COLOR, width=1))
    )
    groups = [
        ("anomalous day (both detectors)", anomalous.difference(only_autoencoder), 1, "x"),
        ("only the autoencoder", only_autoencoder, 3, "diamond"),
        ("only the z-score", only_zscore, 4, "circle-open"),
    ]
    for name, days, color, symbol in groups:
        marked = close.reindex(days)
        fig.add_trace(
            go.Scatter(
                x=marked.index,
                y=marked,
                name=name,
                mode="markers",
                marker=dict(color=PALETTE[color], size=9, symbol=symbol),
            )
        )
    fig.update_layout(
        title="Price with anomalous days",
        height=380,
        yaxis_title="price (adjusted)",
        margin=dict(l=40, r=20, t=40, b=30),
        legend=LEGEND_BELOW,
    )
    return fig


def anomaly_score_chart(
    score: pd.Series, threshold: float, train_end: str | None = None
) -> go.Figure:
    """The day scores over time with the threshold line (log scale: scores span decades)."""
    fig = go.Figure()
    shown = thin(score)
    fig.add_trace(
        go.Scatter(x=shown.index, y=shown, name="score", line=dict(color=PALETTE[0], width=1))
    )
    fig.add_trace(
        go.Scatter(
            x=[score.index[0], score.index[-1]],
            y=[threshold, threshold],
            name="threshold",
            mode="lines",
            line=dict(color=PALETTE[1], dash="dash"),
        )
    )
    if train_end:
        fig.add_vline(x=pd.Timestamp(train_end), line_dash="dot", line_color=NAIVE_COLOR)
        fig.add_annotation(
            x=pd.Timestamp(train_end),
            y=1,
            yref="paper",
            text="end of training part",
            showarrow=False,
            xanchor="right",
        )
    fig.update_layout(
        title="Reconstruction error per day",
        height=320,
        yaxis_type="log",
        yaxis_title="score",
        margin=dict(l=40, r=20, t=40, b=30),
        legend=LEGEND_BELOW,
    )
    return fig
