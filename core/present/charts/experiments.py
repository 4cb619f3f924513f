"""Plotly figure builders for the Experiments page. Pure functions: data in, go.Figure out."""

from __future__ import annotations

import plotly.graph_objects as go

from core.present.charts.common import NAIVE_COLOR, PALETTE


def paired_chart(points: list[dict], tried: str, reference: str, title: str = "") -> go.Figure:
    """One point per pair: the reference's relative MAE (x) against the tried setting's (y).
    Below the diagonal, the tried setting did better."""
    xs = [p[reference] for p in points]
    ys = [p[tried] for p in points]
    lo, hi = min(xs + ys), max(xs + ys)
    pad = 0.05 * (hi - lo or 1)
    fig = go.Figure(
        [
            go.Scatter(
                x=[lo - pad, hi + pad],
                y=[lo - pad, hi + pad],
                mode="lines",
                name="no difference",
                line=dict(color=NAIVE_COLOR, dash="dash"),
            ),
            go.Scatter(
                x=xs,
                y=ys,
                mode="markers",
                name="pair",
                text=[p["pair"] for p in points],
                marker=dict(color=PALETTE[0], size=9),
            ),
        ]
    )
    fig.update_layout(
        title=title,
        height=380,
        xaxis_title=f"{reference}: relative MAE",
        yaxis_title=f"{tried}: relative MAE",
        margin=dict(l=50, r=20, t=50, b=40),
        showlegend=False,
    )
    return fig
