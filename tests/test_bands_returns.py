"""Bands and baselines on the scale prices move in: adaptive conformal bands through a
volatility jump, scores for a band, where a band broke, log-price baselines, and the
returns view; each on synthetic ground truth, rates over many simulations."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from core.data.summary import adf_test
from core.forecasting.baselines import Drift, differences, forecast_baselines
from core.forecasting.evaluation import return_scores
from core.forecasting.intervals import (
    broken_stretch,
    interval_score,
    pinball_loss,
    prediction_intervals,
)
from core.forecasting.paths import ForecastPaths
from core.pipeline.scoring import scored_band
from core.present.sentences import band_warning, returns_sentence


def jump_run(seed, jump=300, factor=3.0, n_val=500, n_test=600):
    """A geometric random walk (1 % daily sd) whose volatility multiplies by `factor` on
    test day `jump`, and the exact forecast (the last price): its errors are the shocks."""
    rng = np.random.default_rng(seed)
    n = n_val + n_test + 2
    sd = np.full(n, 0.01)
    sd[n_val + jump + 1 :] *= factor
    levels = 100 * np.exp(np.cumsum(rng.normal(size=n) * sd))
    origins = np.arange(n_val + n_test)
    actual, forecast = levels[origins + 1][:, None], levels[origins][:, None]
    val, test = slice(0, n_val), slice(n_val, None)
    paths = ForecastPaths(
        origins[test], forecast[test], actual[test], origins[val], forecast[val], actual[val]
    )
    return levels, paths, {"val": origins[val], "test": origins[test]}


def inside(paths, band):
    actual = paths.actual_paths[:, 0]
    return (actual >= band["lower"][:, 0]) & (actual <= band["upper"][:, 0])


def recovery_day(covered: np.ndarray, jump: int, level=0.90, slack=0.02, span=20):
    """The first day after the jump from which the next `span` days' coverage (averaged over
    the simulations) is back within `slack` of the level; None if never."""
    after = covered[:, jump:].mean(axis=0)
    running = np.convolve(after, np.ones(span) / span, mode="valid")
    return next((d for d, c in enumerate(running) if c >= level - slack), None)


def test_after_volatility_triples_the_adaptive_band_recovers_within_60_days():
    sims = [jump_run(seed) for seed in range(60)]
    covered = {
        method: np.array(
            [inside(p, prediction_intervals(p, pos, 90, method)) for _, p, pos in sims]
        )
        for method in ("adaptive", "rolling", "split")
    }
    for method in covered:  # before the jump every method holds its level
        assert covered[method][:, :300].mean() == pytest.approx(0.90, abs=0.02), method
    adaptive, rolling = (recovery_day(covered[m], 300) for m in ("adaptive", "rolling"))
    assert adaptive is not None and adaptive <= 60
    assert rolling is not None and rolling > adaptive  # the rolling window lags behind it
    assert recovery_day(covered["split"], 300) is None  # calibrated on the calm part only
    assert covered["adaptive"][:, 300:].mean() > covered["rolling"][:, 300:].mean()


def test_the_band_scales_with_the_price():
    """On the log scale a band is a share of the price: with a fixed quantile (split), its
    width is the same share of the forecast at any price; a dollar band's is not."""
    _, paths, positions = jump_run(1, factor=1.0)
    for log, spread in ((True, 1e-9), (False, None)):
        band = prediction_intervals(paths, positions, 90, "split", log=log)
        ratio = (band["upper"][:, 0] - band["lower"][:, 0]) / paths.forecast_paths[:, 0]
        variation = ratio.std() / ratio.mean()
        if log:
            assert band["scale"] == "log" and variation < spread
        else:  # the same dollars at every price: a smaller share where the price is higher
            assert band["scale"] == "price" and variation > 0.05


def test_interval_score_and_pinball_by_hand():
    y = np.array([[10.0], [10.0], [10.0]])
    lower, upper = np.array([[9.0], [11.0], [8.0]]), np.array([[11.0], [12.0], [9.0]])
    # widths 2, 1, 1; misses: 1 below (11 - 10), 1 above (10 - 9); alpha = 0.2 -> 2 / alpha = 10
    assert interval_score(y, lower, upper, 80) == pytest.approx((2 + 1 + 10 + 1 + 10) / 3)
    assert interval_score(y, lower, upper, 80, scale=2.0) == pytest.approx(24 / 3 / 2)
    # pinball: lower ends at tau = 0.1, y - q = 1, -1, 2 -> 0.1, 0.9, 0.2 (mean 0.4); upper
    # ends at tau = 0.9, y - q = -1, -2, 1 -> 0.1, 0.2, 0.9 (mean 0.4)
    assert pinball_loss(y, lower, upper, 80) == pytest.approx(0.4)


def test_a_band_that_misses_says_where_it_broke():
    outside = np.zeros(400, bool)
    outside[::10] = True  # the allowed 10 % all along
    outside[200:240] = np.arange(40) % 3 != 0  # a crash: 26 of 40 days outside
    first, last = broken_stretch(outside, 90)
    assert abs(first - 200) <= 2 and abs(last - 239) <= 2
    assert broken_stretch(np.zeros(400, bool), 90) is None  # no miss, no stretch

    # A model that goes wrong for 50 test days (each day further off than any day before):
    # even the adaptive band cannot keep up, and the warning names that stretch.
    levels, paths, positions = jump_run(3, factor=1.0)
    off = paths.forecast_paths.copy()
    off[400:450, 0] *= 1 + 0.02 * np.arange(1, 51)
    paths = replace(paths, forecast_paths=off)
    series = pd.Series(levels, index=pd.bdate_range("2019-01-01", periods=len(levels)))
    summary, broke = scored_band(series, paths, positions, 90, scale=1.0)
    assert broke is not None and summary["coverage"] < 0.87
    days = series.index[positions["test"] + 1]  # each test origin's target day
    first, last = (days.get_loc(pd.Timestamp(broke[k])) for k in ("first", "last"))
    assert 385 <= first <= 400 and 445 <= last <= 460  # the planted stretch, a few days either side
    assert broke["outside"] >= 45
    sentence = band_warning(**broke)
    assert sentence.startswith("The 90 % band covered ")
    assert f"from {broke['first']} to {broke['last']}, {broke['outside']} of {broke['days']}" in (
        sentence
    )
    # the model's band against naive's own on the same days: the model's is worse here, and
    # a model that is naive scores the same as naive
    assert summary["score"] > summary["naive_score"]
    levels, paths, positions = jump_run(4, factor=1.0)
    series = pd.Series(levels, index=pd.bdate_range("2019-01-01", periods=len(levels)))
    summary, _ = scored_band(series, paths, positions, 90, scale=1.0)
    assert summary["score"] == pytest.approx(summary["naive_score"])


def test_arima_picks_no_false_mean_on_random_walks_and_keeps_it_on_stationary_series():
    """d from ADF alone is 0 on about 5 % of pure random walks; with KPSS beside it, (almost)
    never. A stationary AR(1) keeps d = 0 most of the time."""
    adf_alone = both = 0
    for seed in range(200):
        walk = np.log(100) + np.cumsum(np.random.default_rng(seed).normal(0, 0.01, 700))
        adf_alone += adf_test(walk)["pvalue"] < 0.05
        both += differences(walk) == 0
    assert adf_alone >= 4 and both <= 2  # measured: 8 and 0 of 200
    stationary = 0
    for seed in range(30):
        shocks, x = np.random.default_rng(1000 + seed).normal(size=700), np.zeros(700)
        for i in range(1, 700):
            x[i] = 0.9 * x[i - 1] + shocks[i]
        stationary += differences(x) == 0
    assert stationary >= 22  # measured: 43 of 50


def test_drift_on_log_price_follows_compound_growth():
    """Prices that grow 0.1 % a day for years: drift on the log price forecasts them exactly;
    drift in dollars (the training part's mean dollar change) falls behind as prices rise."""
    levels = 20 * np.exp(0.001 * np.arange(2000))
    origins = np.arange(1400, 1999)
    paths, fitted = forecast_baselines(levels, 1400, origins, 1, names=("drift",))
    np.testing.assert_allclose(paths["drift"][:, 0], levels[origins + 1], rtol=1e-9)
    assert fitted["drift"].endswith("on log price")
    dollars = Drift().fit(levels[:1400]).forecast(levels, origins, 1)
    assert np.mean(np.abs(dollars[:, 0] - levels[origins + 1])) > 0.01
    spread = levels - 60  # negative values: in its own units
    _, fitted = forecast_baselines(spread, 1400, origins, 1, names=("drift", "arima"))
    assert not any("log" in words for words in fitted.values())


def test_returns_view_on_known_forecasts():
    rng = np.random.default_rng(0)
    prev = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, 500)))
    actual = prev * np.exp(rng.normal(0, 0.01, 500))
    oracle = return_scores(actual, prev * (actual / prev) ** 0.5, prev)  # right direction
    assert oracle["hit_rate"] == 1.0 and oracle["hit_days"] == 500
    assert oracle["mae"] < oracle["naive_mae"]
    assert oracle["strategy_return"] > oracle["buy_hold_return"]
    still = return_scores(actual, prev, prev)  # naive: no move predicted, never long
    assert still["hit_days"] == 0 and still["strategy_return"] == 0.0 and still["trades"] == 0
    assert still["mae"] == pytest.approx(still["naive_mae"])
    assert "never predicted a move" in returns_sentence(still)
    assert "Illustration only" in returns_sentence(oracle)
    assert return_scores(actual - 200, prev - 200, prev - 200) == {}  # not prices: no returns


def test_the_hit_rate_interval_covers_a_coin_flip_95_percent_of_the_time():
    """400 coin-flip forecasters on 250 days: the Wilson interval holds 0.5 in about 95 %."""
    held = 0
    for seed in range(400):
        rng = np.random.default_rng(seed)
        prev = np.full(250, 100.0)
        actual = prev * np.exp(rng.normal(0, 0.01, 250))
        guess = prev * np.exp(0.001 * rng.choice([-1, 1], 250))
        low, high = return_scores(actual, guess, prev)["hit_rate_ci"]
        held += low <= 0.5 <= high
    assert 0.92 <= held / 400 <= 0.98


def test_a_degenerate_candidate_is_skipped_and_a_baseline_that_cannot_fit_is_naive():
    """A straight-line stretch makes some ARIMA candidates singular on the log scale (a
    40-day test file did): those are skipped; when none fits, the baseline is naive and
    says so, and the run goes on."""
    from core.forecasting.baselines import Arima

    line = 10.5 + np.arange(60.0)
    for train_end in (23, 27, 42):  # each failed with LinAlgError before
        paths, fitted = forecast_baselines(line, train_end, np.arange(train_end + 2, 59), 1)
        assert np.isfinite(paths["arima"]).all() and fitted["arima"].startswith("ARIMA(")

    class Broken(Arima):
        def candidates(self, train):
            class Fails:
                def fit(self, **options):
                    raise np.linalg.LinAlgError("LU decomposition error.")

            return [Fails()]

    broken = Broken().fit(line[:40])
    np.testing.assert_array_equal(broken.forecast(line, np.arange(41, 59), 2)[:, 1], line[41:59])
    assert broken.describe() == "ARIMA: no candidate could be fitted (naive used)"
