"""Forecasts compared with each other on the same target days: skill curves against naive,
rolling relative MAE, and a head-to-head Diebold-Mariano test with seeds averaged.

A side is one setting's forecasts, one per seed, on the same origins. A head-to-head test on
one seed measures that seed's luck as much as the setting: the test is made on the
seed-averaged forecasts, and each seed's own result is kept beside it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.forecasting.evaluation import SIGNIFICANCE, diebold_mariano

ROLLING_DAYS = 20  # the rolling relative MAE's window


def common_origins(origin_lists: list[np.ndarray]) -> np.ndarray:
    """The forecast origins every forecast has, in time order."""
    common = set(map(str, origin_lists[0]))
    for origins in origin_lists[1:]:
        common &= set(map(str, origins))
    return np.array(sorted(common), dtype=str)


def on_origins(paths: np.ndarray, origins: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """The rows of `paths` (one per origin in `origins`) at the origins in `keep`."""
    where = pd.Index(np.asarray(origins, str)).get_indexer(np.asarray(keep, str))
    if (where < 0).any():
        raise ValueError("an origin to keep is missing")
    return np.asarray(paths, float)[where]


def skill_curve(actual: np.ndarray, forecast: np.ndarray, naive: np.ndarray) -> np.ndarray:
    """Cumulative (naive's absolute error - the forecast's) over the target days, step 1:
    rises where the forecast beats naive, falls where it loses; naive itself is 0."""
    y = np.asarray(actual, float)
    gain = np.abs(np.asarray(naive, float) - y) - np.abs(np.asarray(forecast, float) - y)
    return np.cumsum(gain)


def rolling_rel_mae(
    actual: np.ndarray, forecast: np.ndarray, naive: np.ndarray, days: int = ROLLING_DAYS
) -> np.ndarray:
    """The relative MAE (forecast / naive) over each trailing window of `days` days (NaN
    before the first full window, or where naive made no error in it)."""
    y = np.asarray(actual, float)
    model = pd.Series(np.abs(np.asarray(forecast, float) - y)).rolling(days).mean()
    base = pd.Series(np.abs(np.asarray(naive, float) - y)).rolling(days).mean()
    return (model / base.where(base > 0)).to_numpy()


def _mae(actual: np.ndarray, forecast: np.ndarray) -> float:
    return float(np.mean(np.abs(np.asarray(forecast, float) - actual)))


def head_to_head(
    actual_paths: np.ndarray, tried: list[np.ndarray], reference: list[np.ndarray]
) -> dict:
    """`tried` against `reference` (each a list of per-seed paths, origins x H, on the same
    origins as `actual_paths`): the MAE ratio and the DM test (HLN-corrected, horizon H)
    of the seed-averaged forecasts, and the same for each seed pair (seed i with seed i).

    rel_mae_ratio < 1: tried is more accurate. seeds_agreeing counts the seed pairs whose
    ratio points the same way as the averaged one; significant_seeds those whose own test
    is below 5 %."""
    y = np.asarray(actual_paths, float)
    h = y.shape[1] if y.ndim > 1 else 1
    a, b = np.mean(tried, axis=0), np.mean(reference, axis=0)
    dm = diebold_mariano(a - y, b - y, h=h)
    ratio = _mae(y, a) / _mae(y, b)
    per_seed = []
    for ai, bi in zip(tried, reference, strict=False):
        seed_dm = diebold_mariano(np.asarray(ai) - y, np.asarray(bi) - y, h=h)
        per_seed.append(
            {
                "rel_mae_ratio": _mae(y, ai) / _mae(y, bi),
                "dm_stat": seed_dm["stat"],
                "dm_pvalue": seed_dm["pvalue"],
            }
        )
    direction = np.sign(ratio - 1)
    return {
        "rel_mae_ratio": ratio,
        "dm_stat": dm["stat"],
        "dm_pvalue": dm["pvalue"],
        "seeds": len(per_seed),
        "seeds_agreeing": int(sum(np.sign(s["rel_mae_ratio"] - 1) == direction for s in per_seed)),
        "significant_seeds": int(
            sum(np.isfinite(s["dm_pvalue"]) and s["dm_pvalue"] < SIGNIFICANCE for s in per_seed)
        ),
        "per_seed": per_seed,
        "common_days": int(y.shape[0]),
    }


def better(answer: dict) -> str:
    """ "tried", "reference", or "" (not distinguishable at 5 %)."""
    p = answer["dm_pvalue"]
    if not (np.isfinite(p) and p < SIGNIFICANCE):
        return ""
    return "tried" if answer["dm_stat"] < 0 else "reference"
