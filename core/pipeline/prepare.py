"""Prepare a run's data from its settings: the first step of every run's pipeline.

The maths of windows, splits and scaling is core/forecasting/windows.py; this module only
reads a run's settings and hands them to it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.config import SPREAD_INPUT, TrainConfig
from core.errors import UserError
from core.forecasting.relationships import fit_spread
from core.forecasting.transforms import make_transform
from core.forecasting.windows import (
    ModelData,
    autoencoder_bounds,
    extrapolation,
    prepare,
    split_bounds,
)
from core.kinds.anomaly import AnomalyConfig
from core.kinds.spread import SpreadConfig
from core.present.sentences import extrapolation_warning


def prepare_forecast(
    frame: pd.DataFrame, config: TrainConfig, bounds: list[tuple[int, int]] | None = None
) -> ModelData:
    """The forecaster's data: the config's inputs, transform, scaling and split (or given
    row bounds of train, validation and test: a backtest fold's)."""
    config.validate(frame.columns)
    data = prepare(
        frame,
        config.inputs,
        config.transform,
        config.scaling,
        lambda rows: bounds or split_bounds(rows, config.train_frac, config.val_frac),
        config.window,
        config.horizon,
        config.batch_size,
        config.seed,
    )
    data.warnings = extrapolation_warning(extrapolation(data))
    return data


def prepare_anomaly(frame: pd.DataFrame, config: AnomalyConfig) -> ModelData:
    """The autoencoder's data: log returns (and log volume changes), standardized."""
    config.validate(frame.columns)
    train_days = int(round((len(frame) - 1) * config.train_frac))
    if train_days < 3 * config.window:
        raise UserError(
            f"The training part has {train_days} day(s); the autoencoder needs at least "
            f"{3 * config.window} (3 windows of {config.window}). Use a longer range or a "
            "shorter window."
        )
    return prepare(
        frame,
        config.inputs,
        "log_return",
        "standard",
        lambda rows: autoencoder_bounds(rows, config.train_frac),
        config.window,
        0,
        config.batch_size,
        config.seed,
    )


def with_spread(frame: pd.DataFrame, config: SpreadConfig) -> pd.DataFrame:
    """The frame with its `spread` column: log A - beta x log B, beta from the training rows
    of the run's split (the same rows its scaler is fit on)."""
    config.validate(frame.columns)
    return frame.assign(spread=_spread_column(frame, config.long, config.partner, config))


def _spread_column(frame: pd.DataFrame, long: str, partner: str, config) -> pd.Series:
    """log long - beta x log partner, beta by least squares on the run's training rows."""
    train_rows = split_bounds(len(frame), config.train_frac, config.val_frac)[0][1]
    a, b = frame[long].astype(float), frame[partner].astype(float)
    beta = fit_spread(a.iloc[:train_rows], b.iloc[:train_rows]).beta
    return np.log(a) - beta * np.log(b)


def with_spread_inputs(frame: pd.DataFrame, config: TrainConfig) -> pd.DataFrame:
    """The frame with a column for every spread input (spread_with_<partner>: the target's
    spread with that series), so a multivariate run can take a spread as an input."""
    added = {}
    for name in config.features:
        partner = name.removeprefix(SPREAD_INPUT)
        if name.startswith(SPREAD_INPUT) and name not in frame.columns:
            if partner not in frame.columns or partner == config.target:
                raise UserError(f"Input {name}: the dataset has no other series {partner}.")
            if config.scaling == "window" and not make_transform(config.transform).differenced:
                raise UserError(
                    f"Input {name} is a spread, which can be 0 or negative: window-relative "
                    "scaling divides by it. Use standard or min-max scaling, or a differenced "
                    "transform."
                )
            added[name] = _spread_column(frame, config.target, partner, config)
    return frame.assign(**added) if added else frame
