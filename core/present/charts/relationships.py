"""The relationships view's charts: every series rebased to 100, the cross-correlograms of
returns with their bands (the sign convention stated on the chart), and a spread's z-score."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from core.present.charts.common import LEGEND_BELOW, NAIVE_COLOR, PALETTE, thin


def rebased_chart(rebased: pd.DataFrame, names: dict[str, str], log_y: bool = False) -> go.Figure:
    """Every series on one chart, 100 on the first day (on a log axis, a series that grew
    20-fold does not flatten the others)."""
    fig = go.Figure()
    for i, column in enumerate(rebased.columns):
        series = thin(rebased[column])
        fig.add_trace(
            go.Scatter(
                x=series.index,
                y=series,
                name=names.get(column, column),
                line_color=PALETTE[i % len(PALETTE)],
            )
        )
    fig.update_layout(
        title="Every series rebased to 100 on the first day",
        yaxis_title="rebased price",
        height=360,
        legend=LEGEND_BELOW,
        hovermode="x unified",
        margin=dict(l=50, r=20, t=50, b=40),
        yaxis_type="log" if log_y else "linear",
    )
    return fig


def cross_correlogram_chart(
    correlograms: dict[str, pd.Series], band: float, corrected: float, target: str
) -> go.Figure:
    """corr(extra's return k days before, target's return) for each extra series, with the
    95 % band of one lag and the band corrected for every lag looked at."""
    fig = go.Figure()
    for i, (name, gram) in enumerate(correlograms.items()):
        fig.add_trace(
            go.Bar(x=list(gram.index), y=gram, name=name, marker_color=PALETTE[i % len(PALETTE)])
        )
    # each label on a line of its own (the upper band's, the lower corrected one's): the two
    # bands are close, and two labels on the upper lines overlapped
    fig.add_hline(y=band, line=dict(color=NAIVE_COLOR, dash="dot"), annotation_text="95 % band")
    fig.add_hline(y=-band, line=dict(color=NAIVE_COLOR, dash="dot"))
    fig.add_hline(y=corrected, line=dict(color=NAIVE_COLOR, dash="dash"))
    fig.add_hline(
        y=-corrected,
        line=dict(color=NAIVE_COLOR, dash="dash"),
        annotation_text="band for all lags",
        annotation_position="bottom right",
    )
    fig.update_xaxes(
        title_text=f"k: k > 0 = the extra series moves k days before {target}", dtick=1
    )
    fig.update_layout(
        title=f"Cross-correlation of daily log returns with {target}'s, training days",
        yaxis_title="correlation",
        barmode="group",
        height=360,
        legend=LEGEND_BELOW,
        margin=dict(l=50, r=20, t=50, b=40),
    )
    return fig


def spread_zscore_chart(z: pd.Series, train_end, title: str) -> go.Figure:
    """A spread's z-score (standardized on the training days) with +-2 bands."""
    z = thin(z)
    fig = go.Figure(go.Scatter(x=z.index, y=z, name="z-score", line_color=PALETTE[0]))
    for level in (2, -2):
        fig.add_hline(
            y=level, line=dict(color=NAIVE_COLOR, dash="dot"), annotation_text=f"{level:+d}"
        )
    fig.add_vline(x=pd.Timestamp(train_end), line=dict(color=NAIVE_COLOR, dash="dash"))
    fig.update_layout(
        title=title,
        yaxis_title="z-score",
        height=320,
        showlegend=False,
        margin=dict(l=50, r=20, t=50, b=40),
    )
    return fig
