"""Plotly figure builders for the Predictions page: prices, lags, changes, horizons, attention. Pure functions: data in, go.Figure out."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.forecasting.evaluation import best_lag
from core.present.charts.common import (
    ACTUAL_COLOR,
    BAND_COLOR,
    LEGEND_BELOW,
    MODEBAR,
    NAIVE_COLOR,
    PALETTE,
)


def band_traces(lower: pd.Series, upper: pd.Series, name: str) -> list[go.Scatter]:
    """A shaded band between two lines (the prediction interval), one legend entry."""
    edge = dict(width=0, color=BAND_COLOR)
    return [
        go.Scatter(
            x=upper.index,
            y=upper,
            line=edge,
            showlegend=False,
            hoverinfo="skip",
            legendgroup=name,
            name=name,
        ),
        go.Scatter(
            x=lower.index,
            y=lower,
            line=edge,
            fill="tonexty",
            fillcolor=BAND_COLOR,
            name=name,
            legendgroup=name,
            hoverinfo="skip",
        ),
    ]


# Each model line has its own colour and dash, so lines that nearly coincide (a differenced
# model hugs naive) stay apart; the actual price is drawn last, on top of them all.
DASHES = ["solid", "dash", "dashdot", "longdash", "longdashdot", "dot"]


def predictions_chart(
    actual: pd.Series,
    predictions: dict[str, pd.Series],
    naive: pd.Series | None = None,
    title: str = "",
    baselines: dict[str, pd.Series] | None = None,
    band: tuple[pd.Series, pd.Series, str] | None = None,
    y_title: str = "price",
) -> go.Figure:
    """Actual prices (or a spread: y_title), one line per model, naive persistence (optional), the prediction
    interval (optional: lower, upper, name) and baseline lines that start hidden: click a
    name in the legend to show one. The legend lists actual first; the actual line is
    drawn last, so no model line hides it."""
    fig = go.Figure()
    if band is not None:
        fig.add_traces(band_traces(*band))
    if naive is not None:
        fig.add_trace(
            go.Scatter(
                x=naive.index,
                y=naive,
                name="naive (tomorrow = today)",
                line=dict(color=NAIVE_COLOR, dash="dot", width=2),
                legendrank=2,
            )
        )
    for i, (name, series) in enumerate((baselines or {}).items()):
        fig.add_trace(
            go.Scatter(
                x=series.index,
                y=series,
                name=name,
                visible="legendonly",
                line=dict(color=PALETTE[(i + 2) % len(PALETTE)], dash="dash", width=1),
                legendrank=3,
            )
        )
    for i, (name, series) in enumerate(predictions.items()):
        fig.add_trace(
            go.Scatter(
                x=series.index,
                y=series,
                name=name,
                line=dict(color=PALETTE[i % len(PALETTE)], dash=DASHES[i % len(DASHES)], width=1.5),
                opacity=0.9,
                legendrank=4,
            )
        )
    fig.add_trace(
        go.Scatter(
            x=actual.index,
            y=actual,
            name="actual",
            line=dict(color=ACTUAL_COLOR, width=2),
            legendrank=1,
        )
    )
    fig.update_layout(
        modebar_orientation=MODEBAR,
        title=title,
        height=430,
        margin=dict(l=40, r=20, t=50, b=30),
        yaxis_title=y_title,
        legend=LEGEND_BELOW,
        hovermode="x unified",
    )
    return fig


def lag_correlogram(diagnostic: pd.DataFrame) -> go.Figure:
    """Two views of one question, k > 0 = the actual price k days before: bars of
    corr(prediction's moves, actual moves k days before) and the RMSE against the actual k
    days before. Both mark the one best lag (core.forecasting.evaluation.best_lag)."""
    corr = diagnostic["move_corr"]
    best = best_lag(diagnostic)
    colors = [PALETTE[1] if k == best else PALETTE[0] for k in diagnostic.index]
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=(
            "corr(predicted move, actual move k days before)",
            "RMSE of prediction vs actual k days before",
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
        x=best,
        y=corr.loc[best] if np.isfinite(corr.loc[best]) else 0,
        text=f"best lag k={best}",
        showarrow=True,
        row=1,
        col=1,
    )
    fig.update_xaxes(title_text="k (days before the target day)", dtick=1)
    fig.update_layout(
        modebar_orientation=MODEBAR,
        height=330,
        showlegend=False,
        margin=dict(l=40, r=20, t=50, b=40),
    )
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
        modebar_orientation=MODEBAR,
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
    # One scale on both axes and the diagonal drawn: an echo's predicted moves, a few percent
    # of the actual ones, lie flat along y = 0 instead of filling the plot like a real cloud.
    reach = float(np.nanmax(np.abs(np.r_[actual_change, predicted_change, 1e-12]))) * 1.05
    fig.add_trace(
        go.Scatter(
            x=[-reach, reach],
            y=[-reach, reach],
            mode="lines",
            name="predicted = actual",
            line=dict(color="#888", dash="dot", width=1),
        )
    )
    fig.update_layout(
        modebar_orientation=MODEBAR,
        title=f"Predicted vs actual change (corr = {corr:.3f})",
        height=330,
        xaxis=dict(title="actual change", range=[-reach, reach]),
        yaxis=dict(title="predicted change", range=[-reach, reach], scaleanchor="x"),
        margin=dict(l=40, r=20, t=40, b=40),
    )
    return fig


def horizon_forecast_chart(
    history: pd.Series,
    forecast: pd.Series,
    actual_path: pd.Series | None = None,
    title: str = "",
    band: tuple[pd.Series, pd.Series, str] | None = None,
) -> go.Figure:
    """Recent actual prices, the H-step forecast from one origin with its band (optional),
    and what happened."""
    fig = go.Figure()
    if band is not None:
        fig.add_traces(band_traces(*band))
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
        modebar_orientation=MODEBAR,
        title=title,
        height=360,
        margin=dict(l=40, r=20, t=40, b=30),
        yaxis_title="price",
        legend=LEGEND_BELOW,
    )
    return fig


def horizon_error_chart(errors: pd.DataFrame, naive: pd.DataFrame | None = None) -> go.Figure:
    """MAE by horizon step (the by-step table's unit), the model's bars beside naive's from
    the same origins."""
    fig = go.Figure(
        go.Bar(x=list(errors.index), y=errors["mae"], name="model", marker_color=PALETTE[0])
    )
    if naive is not None:
        fig.add_trace(
            go.Bar(
                x=list(naive.index),
                y=naive["mae"],
                name="naive (tomorrow = today)",
                marker_color=NAIVE_COLOR,
            )
        )
    fig.update_layout(
        modebar_orientation=MODEBAR,
        barmode="group",
        legend=LEGEND_BELOW,
        title="Error by horizon step (test period)",
        height=300,
        xaxis_title="step (days ahead)",
        yaxis_title="MAE",
        margin=dict(l=40, r=20, t=40, b=40),
    )
    return fig


def attention_ratio(weights: np.ndarray) -> np.ndarray:
    """Attention weights as a ratio to uniform attention (1 / window): 1 = no preference."""
    weights = np.asarray(weights, dtype=float)
    return weights * weights.shape[-1]


def attention_heatmap(weights: np.ndarray, input_dates: list[str] | None = None) -> go.Figure:
    """Attention, decoder step (rows) x input day (columns), as a ratio to uniform on a
    diverging scale centred at 1 and at least 0.5..1.5 wide, so near-uniform attention
    looks near-uniform instead of being stretched to full contrast."""
    ratio = attention_ratio(weights)
    x = input_dates or [f"t-{ratio.shape[1] - i}" for i in range(ratio.shape[1])]
    spread = max(float(np.max(np.abs(ratio - 1))), 0.5)
    fig = go.Figure(
        go.Heatmap(
            z=ratio,
            x=x,
            y=[f"step {i + 1}" for i in range(ratio.shape[0])],
            colorscale="RdBu_r",
            zmin=1 - spread,
            zmax=1 + spread,
            colorbar=dict(title="x uniform"),
            name="attention",
        )
    )
    fig.update_layout(
        modebar_orientation=MODEBAR,
        title="Attention weight / uniform weight (decoder step x input day)",
        height=320,
        margin=dict(l=60, r=20, t=40, b=40),
        xaxis_title="input day",
    )
    return fig


def attribution_heatmap(shares: np.ndarray, inputs: list[str]) -> go.Figure:
    """Each window day's (columns, oldest first) and input's (rows) share of the predicted
    move's attribution, in percent."""
    shares = np.asarray(shares, float)
    days = [f"t-{shares.shape[0] - i}" for i in range(shares.shape[0])]
    names = [c.removesuffix("_close") if c.endswith("_close") else c for c in inputs]
    fig = go.Figure(
        go.Heatmap(
            z=100 * shares.T,
            x=days,
            y=names,
            colorscale="Blues",
            zmin=0,
            colorbar=dict(title="% of move"),
            name="attribution",
        )
    )
    fig.update_layout(
        modebar_orientation=MODEBAR,
        title="What the predicted move depends on (integrated gradients, % by day and input)",
        height=max(220, 90 + 40 * len(names)),
        margin=dict(l=60, r=20, t=40, b=40),
        xaxis_title="window day (t-1 = the last day before the forecast)",
    )
    return fig
