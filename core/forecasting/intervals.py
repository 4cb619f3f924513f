"""Conformal prediction intervals from the model's own errors, on the scale prices move in.

The band at an origin is the forecast times exp(-q) to exp(+q), where q is a conformal
quantile of earlier absolute log errors |log actual - log forecast|, one per horizon step:
no assumption that errors are normal, and a band that scales with the price (a series that
can be 0 or negative, a spread, uses its own units: forecast -/+ q). Which errors:

- "adaptive" (the default): adaptive conformal inference (Gibbs & Candes 2021). The
  ROLLING_WINDOW most recent errors known at the origin, at a level that is updated online:
  after each day whose outcome is known, the miss rate alpha_t moves by ACI_STEP x (target
  miss rate - missed), so a run of misses widens the band quickly and a calm stretch narrows
  it again. It runs over the validation origins first, so the test part starts warm.
- "rolling": the same recent errors at the fixed level.
- "split": every validation error, fixed for the whole test period: the textbook method,
  kept for comparison; it misses its level when test volatility differs from validation's.

A step-h error is known h days after its origin (step 1 is one day late). Errors are
addressed by positions in the target series: an origin is the position of its last known
day, and its step-h target is at origin + h.

A band is judged by its coverage and mean width, and by scores that weigh both: the
interval score (Winkler; scaled by the training part's naive error like MASE, so MSIS) and
the pinball loss at the band's two quantiles, beside naive's own band on the same days.
"""

from __future__ import annotations

import math

import numpy as np

from core.forecasting.paths import ForecastPaths

METHODS = {
    "adaptive": "adaptive conformal: recent errors at a level updated each day",
    "rolling": "conformal, rolling window of recent errors",
    "split": "split conformal, validation errors only",
}
DEFAULT_METHOD = "adaptive"
# About three months of trading days: long enough for a 95 % quantile, short enough to follow
# a change in volatility.
ROLLING_WINDOW = 60
# Adaptive conformal's step (Gibbs & Candes' gamma): each missed day lowers the miss rate
# aimed at by ACI_STEP x (1 - target), each covered day raises it by ACI_STEP x target.
ACI_STEP = 0.01
# A band whose test coverage is further than this below its level carries a warning.
COVERAGE_SLACK = 0.03


def conformal_quantile(scores: np.ndarray, level: float) -> float:
    """The ceil((n + 1) * level)-th smallest score (level in (0, 1)): the split-conformal
    quantile that covers a new exchangeable score with probability >= level. With too few
    scores it is the largest one."""
    scores = np.sort(np.asarray(scores, float))
    n = len(scores)
    if n == 0:
        return float("nan")
    rank = min(max(math.ceil((n + 1) * level), 1), n)  # adaptive levels can reach 0 or 1
    return float(scores[rank - 1])


def half_widths(
    residuals: np.ndarray,
    residual_origins: np.ndarray,
    origins: np.ndarray,
    level: float,
    method: str = DEFAULT_METHOD,
    window: int = ROLLING_WINDOW,
    calibration_end: int | None = None,
) -> np.ndarray:
    """Band half-widths (origins x H) for forecasts made at `origins`, in the residuals' units.

    `residuals` (n x H) are forecast - actual of earlier forecasts made at
    `residual_origins` (sorted). "rolling": for each origin o and step h, the last `window`
    step-h residuals whose target day (residual origin + h) is at most o. "adaptive": the
    same residuals at a level updated online (`origins` must be among `residual_origins`).
    "split": the step-h residuals of origins before `calibration_end` (the validation part).
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
        if method == "adaptive":
            every = _adaptive(scores[:, h], residual_origins, h, level, window)
            out[:, h] = every[np.searchsorted(residual_origins, origins)]
            continue
        ends = np.searchsorted(residual_origins + h + 1, origins, side="right")
        for i, end in enumerate(ends):
            out[i, h] = conformal_quantile(scores[max(end - window, 0) : end, h], level)
    return out


def _adaptive(scores: np.ndarray, origins: np.ndarray, h: int, level: float, window: int):
    """Adaptive conformal over one horizon step: at each origin in turn, the conformal
    quantile of the last `window` known scores at level 1 - alpha_t; each outcome, once its
    target day has passed, moves alpha_t by ACI_STEP x (1 - level - missed). alpha_t stays
    in [0, 1] (at 0 the band is the largest recent error)."""
    target, alpha = 1.0 - level, 1.0 - level
    known_until = origins + h + 1  # the day each score becomes known
    q = np.full(len(origins), np.nan)
    updated = 0  # scores [0, updated) have moved alpha already
    for i, origin in enumerate(origins):
        end = int(np.searchsorted(known_until, origin, side="right"))
        while updated < end:  # outcomes known by this origin, in order
            if np.isfinite(q[updated]):
                missed = float(scores[updated] > q[updated])
                alpha = min(max(alpha + ACI_STEP * (target - missed), 0.0), 1.0)
            updated += 1
        q[i] = conformal_quantile(scores[max(end - window, 0) : end], 1.0 - alpha)
    return q


def coverage(actual: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Per horizon step: the share of targets inside [lower, upper]."""
    inside = (np.asarray(actual) >= lower) & (np.asarray(actual) <= upper)
    return inside.mean(axis=0)


def log_scale(*arrays) -> bool:
    """Errors are taken on the log scale when every price involved is positive."""
    return all(np.all(np.asarray(a, float) > 0) for a in arrays if a is not None)


def _errors(forecast: np.ndarray, actual: np.ndarray, log: bool) -> np.ndarray:
    return np.log(forecast) - np.log(actual) if log else forecast - actual


def _band(forecast: np.ndarray, width: np.ndarray, log: bool) -> tuple[np.ndarray, np.ndarray]:
    if log:
        return forecast * np.exp(-width), forecast * np.exp(width)
    return forecast - width, forecast + width


def prediction_intervals(
    paths: ForecastPaths,
    positions: dict[str, np.ndarray],
    level: int,
    method: str = DEFAULT_METHOD,
    log: bool | None = None,
) -> dict:
    """The band of a run's test forecasts at `level` %, and how it did on the test days.
    `log`: errors on the log scale (None: whenever every price is positive; a spread's band
    is in its own units).

    `paths` holds the run's validation and test paths; `positions` the origins' positions in
    the target series ({"val": ..., "test": ...}). Test errors join the calibration set only
    once known. Returns lower/upper (origins x H), the scale, coverage and mean width overall
    and by step, and which test days (step 1) fell outside.
    """
    forecast, actual = paths.forecast_paths, paths.actual_paths
    if log is None:
        log = log_scale(forecast, actual, paths.val_forecast_paths, paths.val_actual_paths)
    residuals = np.concatenate(
        [
            _errors(paths.val_forecast_paths, paths.val_actual_paths, log),
            _errors(forecast, actual, log),
        ]
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
    lower, upper = _band(forecast, width, log)
    by_step = coverage(actual, lower, upper)
    return {
        "level": level,
        "method": method,
        "scale": "log" if log else "price",
        "lower": lower,
        "upper": upper,
        "coverage": float(by_step.mean()),
        "mean_width": float(np.mean(upper - lower)),
        "coverage_by_step": by_step.tolist(),
        "width_by_step": np.mean(upper - lower, axis=0).tolist(),
    }


def interval_score(actual, lower, upper, level: int, scale: float = 1.0) -> float:
    """The interval (Winkler) score, mean over origins and steps, divided by `scale` (the
    training part's naive MAE: MSIS): the width plus 2 / alpha times each miss's distance.
    Lower is better; a band that covers by being wide and one that is narrow but misses are
    both penalised."""
    y, lo, hi = (np.asarray(a, float) for a in (actual, lower, upper))
    alpha = 1 - level / 100
    score = (hi - lo) + (2 / alpha) * ((lo - y) * (y < lo) + (y - hi) * (y > hi))
    return float(np.mean(score) / scale)


def pinball_loss(actual, lower, upper, level: int, scale: float = 1.0) -> float:
    """The pinball (quantile) loss of the band's ends as the alpha/2 and 1 - alpha/2
    quantiles, averaged over both, divided by `scale`."""
    y = np.asarray(actual, float)
    alpha = 1 - level / 100

    def loss(q, tau):
        diff = y - np.asarray(q, float)
        return np.maximum(tau * diff, (tau - 1) * diff)

    return float(
        (np.mean(loss(lower, alpha / 2)) + np.mean(loss(upper, 1 - alpha / 2))) / 2 / scale
    )


def broken_stretch(outside: np.ndarray, level: int) -> tuple[int, int] | None:
    """Where a band broke: the stretch of consecutive days (first, last index) with the most
    misses beyond the rate the level allows (the largest sum of missed - (1 - level), by
    Kadane's scan). None when no stretch has more misses than allowed."""
    excess = np.asarray(outside, float) - (1 - level / 100)
    best, best_span, running, start = 0.0, None, 0.0, 0
    for i, x in enumerate(excess):
        if running <= 0:
            running, start = x, i
        else:
            running += x
        if running > best:
            best, best_span = running, (start, i)
    return best_span


def future_half_widths(paths: ForecastPaths, level: int, log: bool) -> np.ndarray:
    """Half-widths for the forecast beyond the data (log or price units): the last
    ROLLING_WINDOW errors of each step (all known by then)."""
    residuals = np.concatenate(
        [
            _errors(paths.val_forecast_paths, paths.val_actual_paths, log),
            _errors(paths.forecast_paths, paths.actual_paths, log),
        ]
    )
    scores = np.abs(residuals[-ROLLING_WINDOW:])
    return np.array([conformal_quantile(scores[:, h], level / 100) for h in range(scores.shape[1])])


def future_band(paths: ForecastPaths, future: np.ndarray, level: int):
    """(lower, upper) around the forecast beyond the data."""
    future = np.asarray(future, float)
    log = log_scale(paths.forecast_paths, paths.actual_paths, paths.val_forecast_paths, future)
    return _band(future, future_half_widths(paths, level, log), log)
