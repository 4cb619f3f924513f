"""Conformal prediction intervals in price space, from the model's own residuals.

The band at an origin is the forecast plus or minus a conformal quantile of absolute
residuals, one per horizon step: no assumption that errors are normal. Which residuals:

- "rolling" (the default): the ROLLING_WINDOW most recent residuals known at that origin.
  The validation part's residuals come first, then the test part's as their target days
  pass (a step-h residual is known h days after its origin, so step 1 is one day late).
  When volatility changes, the band follows within about a window.
- "split": every validation residual, fixed for the whole test period. Kept as the
  textbook comparison; it misses its level when test volatility differs from validation's.

Residuals are addressed by positions in the target series: an origin is the position of
its last known day, and its step-h target is at origin + h.
"""

from __future__ import annotations

import math

import numpy as np

from core.forecasting.paths import ForecastPaths

METHODS = {"rolling": "rolling window of recent residuals", "split": "validation residuals only"}
# About three months of trading days: long enough for a 95 % quantile, short enough to follow
# a change in volatility.
ROLLING_WINDOW = 60


def conformal_quantile(scores: np.ndarray, level: float) -> float:
    """The ceil((n + 1) * level)-th smallest score (level in (0, 1)): the split-conformal
    quantile that covers a new exchangeable score with probability >= level. With too few
    scores it is the largest one."""
    scores = np.sort(np.asarray(scores, float))
    n = len(scores)
    if n == 0:
        return float("nan")
    rank = min(math.ceil((n + 1) * level), n)
    return float(scores[rank - 1])


def half_widths(
    residuals: np.ndarray,
    residual_origins: np.ndarray,
    origins: np.ndarray,
    level: float,
    method: str = "rolling",
    window: int = ROLLING_WINDOW,
    calibration_end: int | None = None,
) -> np.ndarray:
    """Band half-widths (origins x H) for forecasts made at `origins`.

    `residuals` (n x H) are forecast - actual of earlier forecasts made at
    `residual_origins` (sorted). "rolling": for each origin o and step h, the last `window`
    step-h residuals whose target day (residual origin + h) is at most o. "split": the
    step-h residuals of origins before `calibration_end` (the validation part).
    """
    scores = np.abs(np.asarray(residuals, float))
    residual_origins = np.asarray(residual_origins)
    origins = np.asarray(origins)
    out = np.empty((len(origins), scores.shape[1]))
    for h in range(scores.shape[1]):
        if method == "split":
            known = residual_origins < (calibration_end if calibration_end is not None else 0)
            out[:, h] = conformal_quantile(scores[known, h], level)
            continue
        ends = np.searchsorted(residual_origins + h + 1, origins, side="right")
        for i, end in enumerate(ends):
            out[i, h] = conformal_quantile(scores[max(end - window, 0) : end, h], level)
    return out


def coverage(actual: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Per horizon step: the share of targets inside [lower, upper]."""
    inside = (np.asarray(actual) >= lower) & (np.asarray(actual) <= upper)
    return inside.mean(axis=0)


def prediction_intervals(
    paths: ForecastPaths,
    positions: dict[str, np.ndarray],
    level: int,
    method: str = "rolling",
) -> dict:
    """The band of a run's test forecasts at `level` %, and how it did on the test days.

    `paths` holds the run's validation and test paths; `positions` the origins' positions in the target
    series ({"val": ..., "test": ...}). Test residuals join the calibration set only once
    known. Returns lower/upper (origins x H), coverage and mean width overall and by step.
    """
    forecast, actual = paths.forecast_paths, paths.actual_paths
    residuals = np.concatenate(
        [paths.val_forecast_paths - paths.val_actual_paths, forecast - actual]
    )
    origins = np.concatenate([positions["val"], positions["test"]])
    width = half_widths(
        residuals,
        origins,
        positions["test"],
        level / 100,
        method,
        calibration_end=int(positions["val"][-1]) + 1,
    )
    lower, upper = forecast - width, forecast + width
    by_step = coverage(actual, lower, upper)
    return {
        "level": level,
        "method": method,
        "lower": lower,
        "upper": upper,
        "coverage": float(by_step.mean()),
        "mean_width": float(np.mean(2 * width)),
        "coverage_by_step": by_step.tolist(),
        "width_by_step": np.mean(2 * width, axis=0).tolist(),
    }


def future_half_widths(paths: ForecastPaths, level: int) -> np.ndarray:
    """Half-widths for the forecast beyond the data: the last ROLLING_WINDOW residuals of
    each step (all known by then)."""
    residuals = np.concatenate(
        [
            paths.val_forecast_paths - paths.val_actual_paths,
            paths.forecast_paths - paths.actual_paths,
        ]
    )
    scores = np.abs(residuals[-ROLLING_WINDOW:])
    return np.array([conformal_quantile(scores[:, h], level / 100) for h in range(scores.shape[1])])
