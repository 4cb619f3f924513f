"""Plotly figure builders for the Predictions page: prices, lags, changes, horizons, attention. Pure functions: data in, go.Figure out."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.charts.common import ACTUAL_COLOR, LEGEND_BELOW, NAIVE_COLOR, PALETTE


def predictions_chart(
    actual: pd.Series,
    predictions: dict[str, pd.Series],
    naive: pd.Series | None = None,
    title: str = "",
) -> go.Figure:
    """Actual prices, one line per model, and (optionally) naive persistence."""
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(x=actual.index, y=actual, name="actual", line=dict(color=ACTUAL_COLOR, width=2))
    )
    if naive is not None:
        fig.add_trace(
            go.Scatter(
                x=naive.index,
                y=naive,
                name="naive (tomorrow = today)",
                line=dict(color=NAIVE_COLOR, dash="dot"),
            )
        )
    for i, (name, series) in enumerate(predictions.items()):
        fig.add_trace(
            go.Scatter(
                x=series.index,
                y=series,
                name=name,
                line=dict(color=PALETTE[i % len(PALETTE)], width=1.5),
            )
        )
    fig.update_layout(
        title=title,
        height=430,
        margin=dict(l=40, r=20, t=50, b=30),
        yaxis_title="price",
        legend=LEGEND_BELOW,
        hovermode="x unified",
    )
    return fig


def lag_correlogram(diagnostic: pd.DataFrame) -> go.Figure:
    """Bars of corr(prediction's moves, actual moves k days earlier), peak marked; RMSE by lag."""
    corr = diagnostic["move_corr"]
    peak = int(corr.idxmax()) if corr.notna().any() else 0
    best = int(diagnostic["rmse"].idxmin())
    colors = [PALETTE[1] if k == peak else PALETTE[0] for k in diagnostic.index]
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=(
            "corr(predicted move, actual move k days earlier)",
            "RMSE of prediction vs actual k days earlier",
        ),
    )
    fig.add_trace(
        go.Bar(x=list(diagnostic.index), y=corr, marker_color=colors, name="move correlation"), 1, 1
    )
    fig.add_trace(
        go.Scatter(
            x=list(diagnostic.index),
            y=diagnostic["rmse"],
            mode="lines+markers",
            name="RMSE",
            line_color=PALETTE[0],
        ),
        1,
        2,
    )
    fig.add_trace(
        go.Scatter(
            x=[best],
            y=[diagnostic.loc[best, "rmse"]],
            mode="markers",
            name="best lag",
            marker=dict(color=PALETTE[1], size=12, symbol="star"),
        ),
        1,
        2,
    )
    fig.add_annotation(
        x=peak,
        y=corr.loc[peak] if corr.notna().any() else 0,
        text=f"peak k={peak}",
        showarrow=True,
        row=1,
        col=1,
    )
    fig.update_xaxes(title_text="k (days)", dtick=1)
    fig.update_layout(height=330, showlegend=False, margin=dict(l=40, r=20, t=50, b=40))
    return fig


def change_series_chart(actual_change: pd.Series, predicted_change: pd.Series) -> go.Figure:
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=actual_change.index,
            y=actual_change,
            name="actual change",
            line=dict(color=ACTUAL_COLOR, width=1),
        )
    )
    fig.add_trace(
        go.Scatter(
            x=predicted_change.index,
            y=predicted_change,
            name="predicted change",
            line=dict(color=PALETTE[0], width=1.5),
        )
    )
    fig.update_layout(
        height=330,
        margin=dict(l=40, r=20, t=40, b=30),
        yaxis_title="price change",
        title="Day-over-day change: predicted vs actual",
        legend=LEGEND_BELOW,
    )
    return fig


def change_scatter(actual_change: pd.Series, predicted_change: pd.Series) -> go.Figure:
    corr = (
        float(np.corrcoef(actual_change, predicted_change)[0, 1])
        if predicted_change.std() > 0
        else float("nan")
    )
    fig = go.Figure(
        go.Scatter(
            x=actual_change,
            y=predicted_change,
            mode="markers",
            name="days",
            marker=dict(size=5, color=PALETTE[0], opacity=0.6),
        )
    )
    fig.update_layout(
        title=f"Predicted vs actual change (corr = {corr:.3f})",
        height=330,
        xaxis_title="actual change",
        yaxis_title="predicted change",
        margin=dict(l=40, r=20, t=40, b=40),
    )
    return fig


def horizon_forecast_chart(
    history: pd.Series, forecast: pd.Series, actual_path: pd.Series | None = None, title: str = ""
) -> go.Figure:
    """Recent actual prices, the H-step forecast from one origin, and what happened."""
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=history.index, y=history, name="actual before origin", line=dict(color=ACTUAL_COLOR)
        )
    )
    if actual_path is not None:
        fig.add_trace(
            go.Scatter(
                x=actual_path.index,
                y=actual_path,
                name="actual path",
                line=dict(color=ACTUAL_COLOR, dash="dot"),
            )
        )
    fig.add_trace(
        go.Scatter(
            x=forecast.index,
            y=forecast,
            name="forecast",
            mode="lines+markers",
            line=dict(color=PALETTE[1]),
        )
    )
    fig.update_layout(
        title=title,
        height=360,
        margin=dict(l=40, r=20, t=40, b=30),
        yaxis_title="price",
        legend=LEGEND_BELOW,
    )
    return fig


def horizon_error_chart(errors: pd.DataFrame) -> go.Figure:
    fig = go.Figure(
        go.Bar(x=list(errors.index), y=errors["rmse"], name="RMSE", marker_color=PALETTE[0])
    )
    fig.update_layout(
        title="Error by horizon step (test period)",
        height=300,
        xaxis_title="step (days ahead)",
        yaxis_title="RMSE",
        margin=dict(l=40, r=20, t=40, b=40),
    )
    return fig


def attention_heatmap(weights: np.ndarray, input_dates: list[str] | None = None) -> go.Figure:
    """Attention weights: decoder step (rows) x encoder time step (columns)."""
    weights = np.asarray(weights)
    x = input_dates or [f"t-{weights.shape[1] - i}" for i in range(weights.shape[1])]
    fig = go.Figure(
        go.Heatmap(
            z=weights,
            x=x,
            y=[f"step {i + 1}" for i in range(weights.shape[0])],
            colorscale="Blues",
            name="attention",
        )
    )
    fig.update_layout(
        title="Attention weights (decoder step x encoder time step)",
        height=320,
        margin=dict(l=60, r=20, t=40, b=40),
        xaxis_title="input day",
    )
    return fig
