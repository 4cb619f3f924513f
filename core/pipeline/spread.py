"""The spread entry of the run-kind table: a forecaster whose target is the spread of two
series, log A - beta x log B, beta fitted by least squares on the training part only.

Everything after the spread column is a forecast run's (core/pipeline/forecast.py): the
same windows, model, predictions and scores, on the spread's own scale, with a
mean-reverting AR(1) among the baselines. A spread is where a model can beat naive for the
right reason: it reverts to a level.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd

from core.forecasting.baselines import SPREAD_BASELINES
from core.forecasting.windows import ModelData
from core.kinds.spread import SpreadConfig
from core.pipeline.forecast import FORECAST, origin_dates
from core.pipeline.prepare import prepare_forecast, with_spread
from core.pipeline.scoring import BASELINE_CACHE, baseline_forecasts
from core.present.labels import default_run_name


def _prepare(frame: pd.DataFrame, config: SpreadConfig, bounds) -> ModelData:
    if "spread" not in frame.columns:
        frame = with_spread(frame, config)
    return prepare_forecast(frame, config, bounds)


def _baselines(data: ModelData, workspace: Path) -> tuple:
    """Every price baseline and the AR(1), fitted alongside the model."""
    train_end = data.split_dates()["train"][1]
    return (
        baseline_forecasts,
        data.levels,
        train_end,
        origin_dates(data),
        data.horizon,
        workspace / BASELINE_CACHE,
        tuple(SPREAD_BASELINES),
        False,  # a spread can be 0 or negative: its baselines in its own units
    )


def spread_run_name(config: SpreadConfig, data_desc: dict) -> str:
    """'AAPL/MSFT spread, LSTM, raw, univariate, window 60'."""
    legs = [c.removesuffix("_close") for c in (config.long, config.partner)]
    a = data_desc.get("ticker", "?") if legs[0] == "close" else legs[0]
    return f"{a}/{legs[1]} spread: " + default_run_name(config, data_desc).split(" ", 1)[1]


SPREAD = replace(
    FORECAST,
    key="spread",
    prepare=_prepare,
    alongside=_baselines,
    default_name=spread_run_name,
    frame_for=with_spread,
)
