"""Prepare a run's data from its settings: the first step of every run's pipeline.

The maths of windows, splits and scaling is core/forecasting/windows.py; this module only
reads a run's settings and hands them to it.
"""

from __future__ import annotations

import pandas as pd

from core.config import AnomalyConfig, TrainConfig
from core.errors import UserError
from core.forecasting.windows import (
    ModelData,
    autoencoder_bounds,
    extrapolation_warnings,
    prepare,
    split_bounds,
)


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
    data.warnings = extrapolation_warnings(data)
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
