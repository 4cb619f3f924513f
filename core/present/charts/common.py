"""Colours, layout and display thinning shared by every chart."""

from __future__ import annotations

import pandas as pd

ACTUAL_COLOR = "#1f2937"
NAIVE_COLOR = "#9ca3af"
BAND_COLOR = "rgba(37, 99, 235, 0.15)"  # the prediction interval, under the lines
PALETTE = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2"]
# Horizontal legends sit under the x axis, where they never cover the title.
LEGEND_BELOW = dict(orientation="h", yanchor="top", y=-0.22, x=0)
# Plotly's toolbar stands upright at the right edge: lying across the top it covered the
# titles of half-width charts on hover.
MODEBAR = "v"

# A chart about 1,300 px wide cannot show more points than this; longer lines are thinned
# for display only (every number on the page is computed from the full series).
DISPLAY_POINTS = 1200
# Candles: daily up to this many, else weekly, else monthly.
DISPLAY_CANDLES = 700


def thin(series: pd.Series, n_out: int = DISPLAY_POINTS) -> pd.Series:
    """At most n_out points of a line for display: the lowest and the highest point of each
    of n_out / 2 equal buckets (tsdownsample's MinMax), so every spike stays visible.
    Missing values are dropped; a short series is returned whole."""
    series = series.dropna()
    if len(series) <= n_out:
        return series
    from tsdownsample import MinMaxDownsampler

    keep = MinMaxDownsampler().downsample(series.to_numpy(dtype="float64"), n_out=n_out)
    return series.iloc[keep]


def display_candles(frame: pd.DataFrame, most: int = DISPLAY_CANDLES) -> tuple[pd.DataFrame, str]:
    """(OHLCV, period): daily candles if there are at most `most` days, else the first of
    weekly or monthly candles that fits (open first, high max, low min, close last, volume
    summed)."""
    agg = {"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"}
    agg = {c: how for c, how in agg.items() if c in frame.columns}
    candles, period = frame[list(agg)], "daily"
    for coarser, rule in (("weekly", "W-FRI"), ("monthly", "ME")):
        if len(candles) <= most:
            break
        candles, period = frame[list(agg)].resample(rule).agg(agg).dropna(), coarser
    return candles, period
