"""A forecast run's scores: the model and every baseline on the same test days and
horizon, errors by horizon step, and the model's prediction interval.

Everything here is numpy, pandas and statsmodels (no Keras), computed once when the run is
saved and kept with it, so showing it again costs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.baselines import BASELINES, forecast_baselines
from core.evaluation import horizon_errors, in_sample_scale, score_forecast, score_paths
from core.intervals import prediction_intervals


@dataclass
class RunScores:
    metrics: dict
    naive: dict
    verdict: str
    baselines: dict[str, dict]  # name -> metrics, verdict and what was fitted
    by_step: list[dict]  # one row per horizon step
    intervals: dict  # level, method, coverage, mean_width, ... (no band arrays)


def origin_positions(levels: pd.Series, origin_dates) -> np.ndarray:
    """Positions in the target series of forecast origins (their last known day)."""
    return levels.index.get_indexer(pd.to_datetime(np.asarray(origin_dates)))


def run_positions(levels: pd.Series, arrays: dict) -> dict[str, np.ndarray]:
    return {
        "val": origin_positions(levels, arrays["val_origin_dates"]),
        "test": origin_positions(levels, arrays["origin_dates"]),
    }


def by_step_rows(
    actual_paths: np.ndarray, forecasts: dict[str, np.ndarray], intervals: dict | None = None
) -> list[dict]:
    """Per horizon step: the model's MAE and RMSE ("model" in `forecasts`), every
    baseline's as NAME_mae / NAME_rmse, and the band's coverage and width."""
    rows = [{"step": step} for step in range(1, np.shape(actual_paths)[1] + 1)]
    for name, paths in forecasts.items():
        errors = horizon_errors(actual_paths, paths)
        prefix = "" if name == "model" else f"{name}_"
        for row, (_, err) in zip(rows, errors.iterrows(), strict=True):
            row[f"{prefix}mae"], row[f"{prefix}rmse"] = float(err["mae"]), float(err["rmse"])
    if intervals:
        for row, cov, width in zip(
            rows, intervals["coverage_by_step"], intervals["width_by_step"], strict=True
        ):
            row["coverage"], row["width"] = cov, width
    return rows


def interval_summary(intervals: dict) -> dict:
    """What a run keeps of its interval: no band arrays (they are recomputed from paths)."""
    return {k: v for k, v in intervals.items() if k not in ("lower", "upper")}


def score_run(
    levels: pd.Series,
    predictions: pd.DataFrame,
    arrays: dict,
    train_dates: tuple[str, str],
    level: int,
) -> RunScores:
    """Fit every baseline on the training part, forecast the model's test origins and
    horizon, score everything the same way, and calibrate the model's band. Adds each
    baseline's paths to `arrays` as baseline_NAME."""
    positions = run_positions(levels, arrays)
    train_end = levels.index.get_loc(pd.Timestamp(train_dates[1])) + 1
    actual = arrays["actual_paths"]
    paths, fitted = forecast_baselines(
        levels.to_numpy(float), train_end, positions["test"], actual.shape[1]
    )
    arrays.update({f"baseline_{name}": p for name, p in paths.items()})
    metrics, naive, verdict = score_forecast(levels, predictions, arrays, train_dates)
    scale = in_sample_scale(levels, train_dates)
    previous = predictions["naive"].to_numpy()
    baselines = {
        name: {
            **score_paths(levels, predictions.index, actual, p, previous, scale),
            "fitted": fitted[name],
        }
        for name, p in paths.items()
    }
    for name, scores in baselines.items():
        if BASELINES[name].direction_only:  # its price errors are naive's by design
            scores.update(rel_mae=1.0, dm_stat=float("nan"), dm_pvalue=float("nan"), verdict="")
    intervals = interval_summary(prediction_intervals(arrays, positions, level))
    forecasts = {"model": arrays["forecast_paths"], **paths}
    return RunScores(
        metrics, naive, verdict, baselines, by_step_rows(actual, forecasts, intervals), intervals
    )
