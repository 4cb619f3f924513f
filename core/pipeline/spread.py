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

import numpy as np
import pandas as pd

from core.config import SpreadConfig
from core.forecasting.baselines import SPREAD_BASELINES
from core.forecasting.relationships import fit_spread
from core.forecasting.windows import ModelData, split_bounds
from core.pipeline.forecast import FORECAST, origin_dates
from core.pipeline.prepare import prepare_forecast
from core.pipeline.scoring import BASELINE_CACHE, baseline_forecasts
from core.present.labels import default_run_name


def with_spread(frame: pd.DataFrame, config: SpreadConfig) -> pd.DataFrame:
    """The frame with its `spread` column: log A - beta x log B, beta from the training rows
    of the run's split (the same rows its scaler is fit on)."""
    config.validate(frame.columns)
    train_rows = split_bounds(len(frame), config.train_frac, config.val_frac)[0][1]
    a, b = frame[config.long].astype(float), frame[config.partner].astype(float)
    spread = fit_spread(a.iloc[:train_rows], b.iloc[:train_rows])
    return frame.assign(spread=np.log(a) - spread.beta * np.log(b))


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
