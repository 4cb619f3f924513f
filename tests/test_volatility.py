"""Volatility (issue 44, its ground work): the daily estimate from OHLC, the baselines fitted
on the training days only, QLIKE and its Diebold-Mariano test, measured on simulated GARCH(1,1)
series whose true variance is known (OHLC from a simulated intraday path)."""

import math

import numpy as np
import pandas as pd
import pytest

from core.forecasting import volatility as vol

TRAIN, TEST = 1000, 1000


def test_garman_klass_by_hand_and_a_zero_range_day_is_not_zero_volatility():
    frame = pd.DataFrame(  # split-adjusted pennies, rounded: days 3 and 4 have high = low
        {
            "open": [0.0100, 0.0101, 0.0102, 0.0103],
            "high": [0.0102, 0.0103, 0.0102, 0.0103],
            "low": [0.0099, 0.0100, 0.0102, 0.0103],
            "close": [0.0101, 0.0102, 0.0102, 0.0103],
        },
        index=pd.bdate_range("1986-03-13", periods=4),
    )
    variance, info = vol.daily_variance(frame)
    gk = 0.5 * math.log(102 / 99) ** 2 - (2 * math.log(2) - 1) * math.log(101 / 100) ** 2
    assert variance.iloc[0] == pytest.approx(gk)
    assert info == {"estimator": "Garman-Klass", "replaced_days": 2, "days": 4}
    assert variance.iloc[2] == variance.iloc[1]  # no move at all: the day before's estimate
    assert variance.iloc[3] == pytest.approx(math.log(103 / 102) ** 2)  # its own return
    assert (variance > 0).all()
    parkinson, _ = vol.daily_variance(frame, "parkinson")
    assert parkinson.iloc[0] == pytest.approx(math.log(102 / 99) ** 2 / (4 * math.log(2)))


def test_without_high_and_low_it_falls_back_to_squared_returns_and_says_so():
    frame = pd.DataFrame(
        {"close": [100.0, 101.0, 100.0]}, index=pd.bdate_range("2020-01-01", periods=3)
    )
    variance, info = vol.daily_variance(frame)
    assert info["estimator"] == "squared returns" and info["replaced_days"] == 0
    assert variance.iloc[2] == pytest.approx(math.log(100 / 101) ** 2)


def test_the_baselines_never_see_a_day_after_their_forecast():
    """Changing every price after day k leaves each baseline's forecasts up to day k as they
    were (HAR and GARCH are fitted on the training days, then filtered forward)."""
    frame, _ = vol.simulate_garch_ohlc(600, np.random.default_rng(3))
    k, train_end = 450, 400
    changed = frame.copy()
    changed.iloc[k + 1 :] *= np.linspace(1.0, 3.0, len(frame) - k - 1)[:, None]
    for a, b in [(frame, changed)]:
        va, vb = vol.daily_variance(a)[0], vol.daily_variance(b)[0]
        for name, fa, fb in [
            ("naive", vol.naive(va), vol.naive(vb)),
            ("ewma", vol.ewma(va), vol.ewma(vb)),
            ("har", vol.har(va, train_end), vol.har(vb, train_end)),
            ("garch", vol.garch(a, va, train_end), vol.garch(b, vb, train_end)),
        ]:
            np.testing.assert_allclose(fa.iloc[: k + 1], fb.iloc[: k + 1], err_msg=name)


def simulated_skill(seed: int, constant: bool = False, **process) -> dict:
    rng = np.random.default_rng(seed)
    frame, true = vol.simulate_garch_ohlc(TRAIN + TEST + 1, rng, constant=constant, **process)
    variance, _ = vol.daily_variance(frame)
    test = slice(TRAIN, TRAIN + TEST)
    actual = vol.target(variance).iloc[test].to_numpy()
    naive = vol.naive(variance).iloc[test].to_numpy()
    har = vol.har(variance, TRAIN).iloc[test].to_numpy()
    # the true variance of tomorrow, on the estimate's scale (a range sampled 78 times a
    # day is a little short of the whole path's: the scale is fitted on the training days)
    scale = variance.iloc[:TRAIN].mean() / true[:TRAIN].mean()
    oracle = scale * np.asarray(true)[TRAIN + 1 : TRAIN + TEST + 1]
    out = {
        "har": vol.skill(actual, har, naive),
        "oracle_vs_har": vol.skill(actual, oracle, har),
        # no skill by construction: yesterday's estimate one day older
        "stale": vol.skill(actual, variance.shift(1).iloc[test].to_numpy(), naive),
    }
    if not constant:
        garch = vol.garch(frame, variance, TRAIN).iloc[test].to_numpy()
        out["garch"] = vol.skill(actual, garch, naive)
        out["oracle_vs_garch"] = vol.skill(actual, oracle, garch)
    return out


@pytest.mark.parametrize(
    "process", [{}, {"shocks": "t4", "burst": True}], ids=["gaussian", "garch_t4_burst"]
)
def test_har_and_garch_beat_naive_and_the_true_variance_beats_them_on_simulated_garch(process):
    """200 simulated GARCH(1,1) series, 1,000 test days each: Gaussian shocks, and
    Student-t(4) shocks with a volatility burst."""
    results = [simulated_skill(seed, **process) for seed in range(200)]
    rate = {k: np.mean([vol.beats(r[k]) for r in results]) for k in results[0]}
    assert rate["har"] >= 0.95 and rate["garch"] >= 0.95, rate
    assert rate["oracle_vs_har"] >= 0.95, rate
    # GARCH is the true model here, its parameters estimated: the oracle is better on
    # average (in 88 % of these series), by too little to be found significant in each
    assert np.mean([r["oracle_vs_garch"]["rel_qlike"] < 1 for r in results]) >= 0.80
    assert rate["stale"] <= 0.05, rate


def test_a_forecast_without_skill_does_not_beat_naive_on_constant_volatility():
    """A constant-volatility random walk: yesterday's estimate one day older is exactly as
    good as naive, and is found to beat it in at most 5 % of 200 series. (Any average of
    past estimates does beat naive here, and rightly: naive echoes one noisy day.)"""
    results = [simulated_skill(seed, constant=True) for seed in range(1000, 1200)]
    assert np.mean([vol.beats(r["stale"]) for r in results]) <= 0.05
    assert np.mean([vol.beats(r["har"]) for r in results]) >= 0.95
