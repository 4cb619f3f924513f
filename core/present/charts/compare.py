"""The compare view's charts: skill curves against naive, rolling relative MAE, a price
close-up where lines can be told apart, and the runs' lag correlograms side by side."""

from __future__ import annotations

import textwrap

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.forecasting.evaluation import best_lag
from core.present.charts.common import LEGEND_BELOW, MODEBAR, NAIVE_COLOR, PALETTE
from core.present.charts.predictions import predictions_chart

DASHES = ["solid", "dash", "dot", "dashdot", "longdash", "longdashdot"]
CLOSE_UP_DAYS = 60  # the price close-up's default window: the last test days


def _style(i: int) -> dict:
    return dict(color=PALETTE[i % len(PALETTE)], dash=DASHES[(i // len(PALETTE)) % len(DASHES)])


def _layout(fig: go.Figure, title: str, y_title: str, height: int = 380) -> go.Figure:
    fig.update_layout(
        modebar_orientation=MODEBAR,
        title=title,
        yaxis_title=y_title,
        height=height,
        legend=LEGEND_BELOW,
        hovermode="x unified",
        margin=dict(l=60, r=20, t=50, b=40),
    )
    return fig


def skill_curves(curves: dict[str, pd.Series]) -> go.Figure:
    """Each run's cumulative (naive's absolute error - its own): naive is the zero line;
    a curve rises where its run beats naive and falls where it loses."""
    fig = go.Figure()
    first = next(iter(curves.values()))
    fig.add_trace(
        go.Scatter(
            x=first.index,
            y=[0.0] * len(first),
            name="naive (tomorrow = today)",
            line=dict(color=NAIVE_COLOR, dash="dot"),
        )
    )
    for i, (name, curve) in enumerate(curves.items()):
        fig.add_trace(go.Scatter(x=curve.index, y=curve, name=name, line=_style(i)))
    return _layout(
        fig,
        "Skill against naive: cumulative error saved (up = beating naive)",
        "error saved (price units)",
    )


def rolling_rel_mae_chart(rolling: dict[str, pd.Series], days: int) -> go.Figure:
    """Each run's relative MAE over the trailing `days` days; 1 = naive's error."""
    fig = go.Figure()
    for i, (name, series) in enumerate(rolling.items()):
        fig.add_trace(go.Scatter(x=series.index, y=series, name=name, line=_style(i)))
    fig.add_hline(y=1.0, line=dict(color=NAIVE_COLOR, dash="dot"), annotation_text="naive = 1")
    return _layout(
        fig, f"Relative MAE over the last {days} days (below 1: better than naive)", "rel. MAE"
    )


def price_close_up(
    actual: pd.Series,
    naive: pd.Series,
    predicted: dict[str, pd.Series],
    days: int = CLOSE_UP_DAYS,
    noun: str = "price",
) -> go.Figure:
    """The prices of every run beside the actual price and naive, zoomed to the last `days`
    test days, where the lines can be told apart (zoom out for the whole test period)."""
    shown = min(days, len(actual))
    fig = predictions_chart(
        actual,
        predicted,
        naive,
        title=f"{noun.capitalize()}s, the last {shown} test days (double-click the chart for all)",
        y_title=noun,
    )
    start = actual.index[-shown]
    shown_values = [s.loc[start:] for s in (actual, naive, *predicted.values())]
    low = min(float(s.min()) for s in shown_values)
    high = max(float(s.max()) for s in shown_values)
    pad = 0.05 * (high - low) or 1.0
    fig.update_xaxes(range=[start, actual.index[-1]])
    fig.update_yaxes(range=[low - pad, high + pad])
    return fig


def short_titles(names: list[str], width: int | None = None) -> list[str]:
    """Names without the words they all start with, wrapped to fit a small multiple (the
    fewer multiples, the wider each line)."""
    width = width or max(22, 100 // max(len(names), 1))
    words = [n.split(" ") for n in names]
    common = 0
    while (
        len(names) > 1
        and all(len(w) > common + 1 for w in words)
        and (len({tuple(w[: common + 1]) for w in words}) == 1)
    ):
        common += 1
    return ["<br>".join(textwrap.wrap(" ".join(w[common:]), width)) for w in words]


def correlograms_side_by_side(diagnostics: dict[str, pd.DataFrame]) -> go.Figure:
    """Each run's corr(predicted move, actual move k days before), small multiples on one
    scale, its best lag marked (k > 0 = the actual k days before)."""
    names = list(diagnostics)
    fig = make_subplots(
        rows=1, cols=len(names), shared_yaxes=True, subplot_titles=short_titles(names)
    )
    fig.update_annotations(font_size=11)
    for i, name in enumerate(names, start=1):
        diag = diagnostics[name]
        best = best_lag(diag)
        colors = [PALETTE[1] if k == best else PALETTE[0] for k in diag.index]
        fig.add_trace(
            go.Bar(x=list(diag.index), y=diag["move_corr"], marker_color=colors, name=name), 1, i
        )
    fig.update_xaxes(title_text="k (days before)", dtick=1)
    fig.update_layout(
        modebar_orientation=MODEBAR,
        height=300,
        showlegend=False,
        title="corr(predicted move, actual move k days before); red = best lag",
        margin=dict(l=40, r=20, t=110, b=40),
    )
    return fig
