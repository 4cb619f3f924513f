"""Plotly figure builders for the Train page and the compare view: loss curves. Pure functions: data in, go.Figure out."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.present.charts.common import LEGEND_BELOW, MODEBAR, PALETTE


def loss_curves(
    history: list[dict] | pd.DataFrame,
    log_y: bool = False,
    title: str = "",
    batch_losses: list[tuple[float, float]] | None = None,
) -> go.Figure:
    """Train and validation loss per epoch; optionally the running batch loss (throttled)
    on the same axis, so the curve moves from the first batches on. A seed set's rows also
    carry each member's losses: its curves (the mean's above) are drawn thin beside them,
    "seed k" for the set's k-th seed."""
    frame = pd.DataFrame(history, columns=["epoch", "loss", "val_loss"])
    fig = go.Figure()
    if batch_losses:
        x, y = zip(*batch_losses, strict=True)
        fig.add_trace(
            go.Scatter(
                x=x,
                y=y,
                name="train (batches)",
                mode="lines",
                line=dict(color=PALETTE[0], width=1),
                opacity=0.35,
            )
        )
    fig.add_trace(
        go.Scatter(
            x=frame["epoch"],
            y=frame["loss"],
            name="train",
            mode="lines+markers",
            line_color=PALETTE[0],
        )
    )
    fig.add_trace(
        go.Scatter(
            x=frame["epoch"],
            y=frame["val_loss"],
            name="validation",
            mode="lines+markers",
            line_color=PALETTE[1],
        )
    )
    rows = list(history.to_dict("records") if isinstance(history, pd.DataFrame) else history)
    kept = [r for r in rows if isinstance(r.get("member_val_losses"), list)]
    for key, label, color in (("member_losses", "train", 0), ("member_val_losses", "val.", 1)):
        for k in range(len(kept[0][key]) if kept else 0):
            fig.add_trace(
                go.Scatter(
                    x=[r["epoch"] for r in kept],
                    y=[r[key][k] if k < len(r[key]) else None for r in kept],
                    name=f"seed {k + 1} ({label})",
                    mode="lines",
                    line=dict(color=PALETTE[color], width=1, dash="dot"),
                    legendgroup=f"members {label}",
                )
            )
    fig.update_layout(
        modebar_orientation=MODEBAR,
        title=title,
        height=340,
        margin=dict(l=40, r=20, t=40, b=30),
        xaxis_title="epoch",
        yaxis_title="loss (scaled units)",
        yaxis_type="log" if log_y else "linear",
        legend=LEGEND_BELOW,
    )
    return fig


def loss_curves_side_by_side(histories: dict[str, pd.DataFrame]) -> go.Figure:
    """One panel per run, train and validation loss each divided by the run's first-epoch
    training loss: runs with different transforms or scalings have losses in different
    units, so only the shape (how far each fell) compares."""
    fig = make_subplots(
        rows=1, cols=max(len(histories), 1), subplot_titles=list(histories), shared_yaxes=True
    )
    for i, frame in enumerate(histories.values()):
        first = frame["loss"].iloc[0] if len(frame) else 1.0
        first = first if first and np.isfinite(first) else 1.0
        for column, label, color in (
            ("loss", "train", PALETTE[0]),
            ("val_loss", "validation", PALETTE[1]),
        ):
            fig.add_trace(
                go.Scatter(
                    x=frame["epoch"],
                    y=frame[column] / first,
                    name=label,
                    line_color=color,
                    showlegend=i == 0,
                    legendgroup=label,
                ),
                1,
                i + 1,
            )
    fig.update_layout(
        modebar_orientation=MODEBAR,
        height=320,
        margin=dict(l=40, r=20, t=50, b=30),
        yaxis_title="loss ÷ first-epoch train loss",
        legend=LEGEND_BELOW,
    )
    return fig
