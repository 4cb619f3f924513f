"""A forecast run's scores: the model and every baseline on the same test days and
horizon, errors by horizon step, and the model's prediction interval.

Everything here is numpy, pandas and statsmodels (no Keras), computed once when the run is
saved and kept with it, so showing it again costs nothing.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from core.forecasting.baselines import ALL_BASELINES, BASELINES, forecast_baselines
from core.forecasting.evaluation import (
    horizon_errors,
    in_sample_scale,
    move_sizes,
    origin_positions,
    return_scores,
    run_positions,
    score_forecast,
    score_paths,
)
from core.forecasting.intervals import (
    COVERAGE_SLACK,
    broken_stretch,
    interval_score,
    pinball_loss,
    prediction_intervals,
)
from core.forecasting.paths import ForecastPaths
from core.workspace import atomic_write_bytes

BASELINE_CACHE = "cache/baselines"  # under the workspace: baseline answers by data and split
BASELINE_FIT_VERSION = 2  # in the cache key: answers of an older fit are not reused (2: log)


@dataclass
class RunScores:
    metrics: dict
    naive: dict
    verdict: str
    baselines: dict[str, dict]  # name -> metrics, verdict and what was fitted
    by_step: list[dict]  # one row per horizon step
    intervals: dict  # level, method, coverage, mean_width, scores ... (no band arrays)
    paths: ForecastPaths  # the run's paths with every baseline's beside them
    returns: dict  # errors on log returns, hit rate, the long/flat illustration
    band_broke: dict | None  # where a band that missed its level broke
    moves: dict  # the predicted moves' size beside the actual moves'


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


def scored_band(
    levels: pd.Series,
    paths: ForecastPaths,
    positions: dict[str, np.ndarray],
    level: int,
    scale: float,
    log: bool | None = None,
) -> tuple[dict, dict | None]:
    """The model's band with its interval score and pinball loss beside naive's own band's
    (the same method on naive's errors, the same days), and where the band broke if its
    coverage missed the level by more than COVERAGE_SLACK."""
    band = prediction_intervals(paths, positions, level, log=log)
    values = levels.to_numpy(float)
    horizon = paths.horizon
    naive = replace(
        paths,
        forecast_paths=np.repeat(values[positions["test"]][:, None], horizon, axis=1),
        val_forecast_paths=np.repeat(values[positions["val"]][:, None], horizon, axis=1),
    )
    naive_band = prediction_intervals(naive, positions, level, log=band["scale"] == "log")
    actual = paths.actual_paths
    summary = interval_summary(band) | {
        "score": interval_score(actual, band["lower"], band["upper"], level, scale),
        "naive_score": interval_score(
            actual, naive_band["lower"], naive_band["upper"], level, scale
        ),
        "pinball": pinball_loss(actual, band["lower"], band["upper"], level, scale),
        "naive_pinball": pinball_loss(
            actual, naive_band["lower"], naive_band["upper"], level, scale
        ),
        "naive_coverage": naive_band["coverage"],
        "naive_mean_width": naive_band["mean_width"],
    }
    broke = None
    if band["coverage"] < level / 100 - COVERAGE_SLACK:
        outside = (actual[:, 0] < band["lower"][:, 0]) | (actual[:, 0] > band["upper"][:, 0])
        first, last = broken_stretch(outside, level) or (0, len(outside) - 1)
        dates = levels.index[positions["test"] + 1]  # step 1's target days
        broke = {
            "level": level,
            "coverage": band["coverage"],
            "first": str(dates[first].date()),
            "last": str(dates[last].date()),
            "outside": int(outside[first : last + 1].sum()),
            "days": last - first + 1,
        }
    return summary, broke


def baseline_forecasts(
    levels: pd.Series,
    train_end_date: str,
    origin_dates,
    horizon: int,
    cache_dir: str | Path | None = None,
    names: tuple[str, ...] = tuple(BASELINES),
    log: bool | None = None,
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """The part of scoring that needs no model: every baseline fit on the training part
    (up to `train_end_date`) and forecast from the test origins. A run starts it before its
    model trains and runs it alongside (core/pipeline/forecast.py); it also does scoring's slow
    import (statsmodels), so it is off the run's critical path too. Remembered per process
    (a sweep's Ray worker fits them once for all its trials on the same data and split) and,
    with `cache_dir`, on disk (the members of a compare set, each in its own worker, fit
    them once). `names`: which baselines (a spread run adds the AR(1)); `log`: fit on the log
    of the series (None: when every value is positive; a spread passes False)."""
    train_end = levels.index.get_loc(pd.Timestamp(train_end_date)) + 1
    origins = origin_positions(levels, origin_dates)
    values = levels.to_numpy(float)
    key = hashlib.sha256(
        values[: origins[-1] + 1].tobytes()
        + np.array([train_end, horizon, *origins]).tobytes()
        + ",".join(names).encode()
        + f"{BASELINE_FIT_VERSION},log={log}".encode()
    ).hexdigest()
    if key not in _FITTED:
        if len(_FITTED) >= 16:
            _FITTED.pop(next(iter(_FITTED)))
        kept = _read_cached(cache_dir, key)
        _FITTED[key] = kept or forecast_baselines(values, train_end, origins, horizon, names, log)
        if kept is None:
            _write_cached(cache_dir, key, _FITTED[key])
    paths, fitted = _FITTED[key]
    return {name: p.copy() for name, p in paths.items()}, dict(fitted)


_FITTED: dict[str, tuple[dict, dict]] = {}  # baseline_forecasts' answers, oldest first


def _read_cached(cache_dir, key: str) -> tuple[dict, dict] | None:
    """A baseline answer kept on disk, or None (none kept, or unreadable)."""
    if cache_dir is None:
        return None
    path = Path(cache_dir) / f"{key}.npz"
    try:
        with np.load(path, allow_pickle=False) as data:
            fitted = json.loads(str(data["fitted"]))
            return {name: data[f"path_{name}"] for name in fitted}, fitted
    except (OSError, KeyError, ValueError):
        return None


def _write_cached(cache_dir, key: str, answer: tuple[dict, dict]) -> None:
    """Keep a baseline answer on disk (atomically; a failed write only costs a refit)."""
    if cache_dir is None:
        return
    paths, fitted = answer
    buffer = io.BytesIO()
    arrays = {f"path_{name}": p for name, p in paths.items()}
    np.savez(buffer, fitted=np.array(json.dumps(fitted)), **arrays)
    try:
        Path(cache_dir).mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(Path(cache_dir) / f"{key}.npz", buffer.getvalue())
    except OSError:
        pass


def direction_only(name: str, scores: dict) -> dict:
    """A direction-only baseline (always up) has naive's price errors by design, nudged: it
    gets no accuracy test (its DM p-value would measure the nudge), only its direction."""
    if name in ALL_BASELINES and ALL_BASELINES[name].direction_only:
        nan = float("nan")
        scores.update(rel_mae=1.0, dm_stat=nan, dm_pvalue=nan, detectable_rel_mae=nan)
        if "move_pvalue" in scores:  # its moves are a constant nudge, not a view of size
            scores.update(move_corr=nan, move_pvalue=nan, move_hac_pvalue=nan, move_sign_pvalue=nan)
        if "verdict" in scores:
            scores["verdict"] = ""
    return scores


def score_run(
    levels: pd.Series,
    predictions: pd.DataFrame,
    paths: ForecastPaths,
    train_dates: tuple[str, str],
    level: int,
    baselines: tuple[dict, dict] | None = None,
    prices: bool = True,
) -> RunScores:
    """Score the model and every baseline the same way, and calibrate the model's band.
    `baselines` is baseline_forecasts' answer for the same run, if it was computed already;
    otherwise it is computed here. The scores carry the paths with the baselines' added.
    `prices`: the target is a price (False for a spread: its band in its own units, no
    returns)."""
    positions = run_positions(levels, paths)
    actual = paths.actual_paths
    baseline_paths, fitted = baselines or baseline_forecasts(
        levels, train_dates[1], paths.origin_dates, actual.shape[1]
    )
    paths = paths.with_baselines(baseline_paths)
    metrics, naive, verdict = score_forecast(levels, predictions, paths, train_dates)
    scale = in_sample_scale(levels, train_dates)
    previous = predictions["naive"].to_numpy()
    scored = {
        name: {
            **score_paths(levels, predictions.index, actual, p, previous, scale),
            "fitted": fitted[name],
        }
        for name, p in baseline_paths.items()
    }
    for name, scores in scored.items():
        direction_only(name, scores)
    intervals, broke = scored_band(
        levels, paths, positions, level, scale, None if prices else False
    )
    forecasts = {"model": paths.forecast_paths, **baseline_paths}
    by_step = by_step_rows(actual, forecasts, intervals)
    returns = (
        return_scores(predictions["actual"], predictions["predicted"], previous) if prices else {}
    )
    y, p = predictions["actual"].to_numpy(), predictions["predicted"].to_numpy()
    moves = move_sizes(y, p, previous)
    return RunScores(
        metrics, naive, verdict, scored, by_step, intervals, paths, returns, broke, moves
    )


def seed_scores(
    levels: pd.Series,
    predictions: pd.DataFrame,
    scores: RunScores,
    train_dates: tuple[str, str],
    seeds: list[int],
) -> dict:
    """The record's seed fields: each seed's relative MAE, DM p-value and verdict, scored
    like the run (a seed set's run is their averaged forecast), and how many seeds' own
    verdicts agree with the run's. One seed: the run itself."""
    paths = scores.paths
    if paths.seed_paths is None:
        keep = ("rel_mae", "dm_pvalue")
        rows = [{"seed": seeds[0], **{k: scores.metrics[k] for k in keep}}]
        rows[0]["verdict"] = scores.verdict
    else:
        scale = in_sample_scale(levels, train_dates)
        previous = predictions["naive"].to_numpy()
        rows = []
        for seed, member in zip(seeds, paths.seed_paths, strict=True):
            own = score_paths(
                levels, predictions.index, paths.actual_paths, member, previous, scale
            )
            rows.append({"seed": seed, **{k: own[k] for k in ("rel_mae", "dm_pvalue", "verdict")}})
    agreeing = sum(row["verdict"] == scores.verdict for row in rows)
    return {"seeds": rows, "seeds_agreeing": agreeing}
