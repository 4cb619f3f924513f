"""Conformal prediction intervals on synthetic series where the right coverage is known."""

import numpy as np
import pytest

from core.forecasting.intervals import conformal_quantile, half_widths, prediction_intervals
from core.forecasting.paths import ForecastPaths


def synthetic_run(n_val=500, n_test=1000, test_noise=1.0, horizon=1, seed=0):
    """The arrays of a run whose forecast is the exact mean of a random walk's next days,
    so its errors are known: Gaussian, sd 1 on validation, `test_noise` on test."""
    rng = np.random.default_rng(seed)
    n = n_val + n_test + horizon + 1
    sd = np.r_[np.ones(n_val + 1), np.full(n - n_val - 1, test_noise)]
    levels = 1000 + np.cumsum(rng.normal(size=n) * sd)
    origins = np.arange(n_val + n_test)
    steps = np.arange(1, horizon + 1)
    actual = levels[origins[:, None] + steps]
    forecast = np.repeat(levels[origins][:, None], horizon, axis=1)  # the mean path
    val, test = slice(0, n_val), slice(n_val, None)
    paths = ForecastPaths(
        origin_dates=origins[test],
        forecast_paths=forecast[test],
        actual_paths=actual[test],
        val_origin_dates=origins[val],
        val_forecast_paths=forecast[val],
        val_actual_paths=actual[val],
    )
    return paths, {"val": origins[val], "test": origins[test]}


def test_conformal_quantile_takes_the_finite_sample_rank():
    scores = np.arange(1, 20)  # n = 19: ceil(20 * 0.9) = 18th smallest
    assert conformal_quantile(scores, 0.9) == 18
    assert conformal_quantile(scores[:5], 0.95) == 5  # too few scores: the largest
    assert conformal_quantile(scores, 0.0) == 1  # an adaptive level at 0: the smallest
    assert conformal_quantile(scores, 1.0) == 19  # at 1: the largest


@pytest.mark.parametrize("level", [80, 90, 95])
def test_a_band_covers_its_level_on_gaussian_noise(level):
    arrays, positions = synthetic_run(seed=level)
    band = prediction_intervals(arrays, positions, level)
    assert band["coverage"] == pytest.approx(level / 100, abs=0.03)
    assert band["mean_width"] > 0


def test_after_volatility_doubles_the_rolling_band_holds_and_split_does_not():
    arrays, positions = synthetic_run(test_noise=2.0, seed=5)
    rolling = prediction_intervals(arrays, positions, 90, "rolling")
    split = prediction_intervals(arrays, positions, 90, "split")
    assert rolling["coverage"] == pytest.approx(0.90, abs=0.05)
    assert split["coverage"] < 0.80  # calibrated on the calm validation part only
    assert rolling["mean_width"] > 1.5 * split["mean_width"]


def test_multi_step_bands_widen_with_the_horizon_and_cover_each_step():
    arrays, positions = synthetic_run(horizon=5, seed=2)
    band = prediction_intervals(arrays, positions, 90)
    widths = band["width_by_step"]
    assert all(a < b for a, b in zip(widths[:-1], widths[1:], strict=True))
    assert widths[4] == pytest.approx(np.sqrt(5) * widths[0], rel=0.25)  # sd grows as sqrt(h)
    for cov in band["coverage_by_step"]:
        assert cov == pytest.approx(0.90, abs=0.04)


def test_a_band_uses_only_residuals_known_at_its_origin():
    """A step-h residual is known h days after its origin. Blow up every residual whose
    target day is after origin 700: bands at origins up to 700 do not move."""
    rng = np.random.default_rng(0)
    horizon = 3
    residuals = rng.normal(size=(1000, horizon))
    origins = np.arange(1000)
    test = origins[600:]
    before = half_widths(residuals, origins, test, 0.9)
    targets = origins[:, None] + np.arange(1, horizon + 1)
    changed = np.where(targets > 700, residuals * 100, residuals)
    after = half_widths(changed, origins, test, 0.9)
    np.testing.assert_array_equal(before[test <= 700], after[test <= 700])
    assert np.all(after[test > 710] > before[test > 710])
