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
                mode="markers+text",
                name="pair",
                text=[p["pair"] for p in points],  # each pair's dataset (and fold) by name
                textposition="top center",
                textfont=dict(size=10),
                marker=dict(color=PALETTE[0], size=9),
            ),
        ]
    )
    # which side of the diagonal is which, written on the chart itself
    for x, y, words, anchor in (
        (hi + pad, lo - pad, f"below the line: {tried} better", "right"),
        (lo - pad, hi + pad, f"above the line: {reference} better", "left"),
    ):
        fig.add_annotation(
            x=x, y=y, text=words, showarrow=False, xanchor=anchor, font=dict(color=NAIVE_COLOR)
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
