"""The lagging lesson: window-relative scaling, the extrapolation warning, the DM test, the one
best lag and the verdict, on synthetic series where the right answer is known."""

import numpy as np
import pandas as pd
import pytest

from core.config import TrainConfig
from core.forecasting.evaluation import (
    best_lag,
    diebold_mariano,
    move_test,
    skill_against_naive,
    verdict,
)
from core.forecasting.simulate import FAT_TAILED, NO_SKILL, PROCESSES, judged, move_alarm, share
from core.models.windows import tf_windows
from core.pipeline.forecast import train_forecaster
from core.pipeline.prepare import prepare_forecast
from core.present.sentences import lag_sentence
from core.store.runs import RunStore


def price_frame(close, **extra) -> pd.DataFrame:
    index = pd.bdate_range("2001-01-01", periods=len(close), name="date")
    c = pd.Series(np.asarray(close, float), index=index)
    return pd.DataFrame(
        {"open": c, "high": c, "low": c, "close": c, "volume": 1e6, **extra}, index=index
    )


def random_walk(n=1500, seed=0, start=500.0):
    return start + np.cumsum(np.random.default_rng(seed).normal(0, 1, n))


def leading_indicator(n=1500, seed=1):
    """The target's change follows an input's change one day earlier, plus small noise."""
    rng = np.random.default_rng(seed)
    lead = 500 + np.cumsum(rng.normal(0, 1, n))
    moves = np.concatenate([[0.0], 0.8 * np.diff(lead)]) + rng.normal(0, 0.3, n)
    target = 500 + np.cumsum(np.concatenate([[0.0], moves[:-1]]))  # y_t - y_t-1 = 0.8 dx_t-1 + e
    return price_frame(target, LEAD_close=lead)


# ---------------------------------------------------------------- the Diebold-Mariano test


def test_dm_statistic_matches_the_value_worked_out_by_hand():
    # absolute loss: d = |e_a| - |e_b| = [-1, 0, -2, 0, -1]; mean -0.8
    # gamma_0 = sum((d - mean)^2) / 5 = 2.8 / 5 = 0.56; var(mean) = 0.56 / 5 = 0.112
    # DM = -0.8 / sqrt(0.112) = -2.39046; HLN factor sqrt((5 + 1 - 2) / 5) = 0.894427
    # statistic -2.13809; two-sided p from t with 4 df = 0.09930
    result = diebold_mariano(np.array([1, 2, 1, 3, 1.0]), np.array([2, 2, 3, 3, 2.0]))
    assert result["stat"] == pytest.approx(-2.13809, abs=1e-5)
    assert result["pvalue"] == pytest.approx(0.09930, abs=1e-5)
    flipped = diebold_mariano(np.array([2, 2, 3, 3, 2.0]), np.array([1, 2, 1, 3, 1.0]))
    assert flipped["stat"] == pytest.approx(2.13809, abs=1e-5)
    # Identical losses (or within rounding): no difference at all, p = 1.
    assert diebold_mariano(np.ones(5), -np.ones(5))["pvalue"] == 1.0
    assert diebold_mariano(np.ones(5) + 1e-15, np.ones(5))["pvalue"] == 1.0


def test_dm_rejects_a_clearly_better_forecast_and_not_an_equal_one():
    rng = np.random.default_rng(0)
    truth = rng.normal(0, 1, 500)
    assert diebold_mariano(0.3 * truth, truth)["pvalue"] < 1e-6
    same = diebold_mariano(rng.normal(0, 1, 500), rng.normal(0, 1, 500))
    assert same["pvalue"] > 0.05


@pytest.mark.parametrize(
    "rel, stat, p, move_p, expected",
    [
        (0.8, -3.0, 0.001, 0.001, "beats naive"),
        (0.97, -1.0, 0.3, 0.01, "moves carry signal"),  # informative moves, not significant
        (0.97, -1.0, 0.3, 0.4, "echoes yesterday"),  # better by chance, moves carry nothing
        (1.0, 0.2, 0.8, float("nan"), "echoes yesterday"),  # never moves: naive itself
        (1.5, 4.0, 0.0001, 0.001, "worse than naive"),
        (0.9, -2.0, 0.06, 0.2, "echoes yesterday"),
    ],
)
def test_verdict_rules(rel, stat, p, move_p, expected):
    assert verdict(rel, stat, p, move_p) == expected


def test_the_move_test_recomputed_by_hand():
    """Moves scaled by an EWMA volatility of the days before (lambda 0.94, started on the
    burn-in's mean square); a HAC regression and a weighted sign test, the larger p decides."""
    import statsmodels.api as sm
    from scipy import stats

    rng = np.random.default_rng(3)
    previous = 100 + np.cumsum(rng.normal(0, 1, 300))
    actual = previous + rng.normal(0, 1, 300)
    predicted = previous + 0.1 * (actual - previous) + rng.normal(0, 0.5, 300)
    result = move_test(actual, predicted, previous)
    a, p = actual - previous, predicted - previous
    variance, sigma = np.mean(a[:20] ** 2), []
    for t in range(20, 300):
        sigma.append(np.sqrt(variance))
        variance = 0.94 * variance + 0.06 * a[t] ** 2
    y, x = a[20:] / np.array(sigma), p[20:] / np.array(sigma)
    fit = sm.OLS(y, sm.add_constant(x)).fit(cov_type="HAC", cov_kwds={"maxlags": 5})
    hac = stats.norm.sf(fit.tvalues[1])
    sign = stats.norm.sf(np.sum(x * np.sign(y)) / np.sqrt(np.sum(x**2)))
    assert result["move_hac_pvalue"] == pytest.approx(hac, rel=1e-8)
    assert result["move_sign_pvalue"] == pytest.approx(sign, rel=1e-8)
    assert result["move_pvalue"] == max(result["move_hac_pvalue"], result["move_sign_pvalue"])
    assert result["move_corr"] == pytest.approx(np.corrcoef(p, a)[0, 1])
    assert np.isnan(move_test(actual, previous, previous)["move_pvalue"])  # naive: no moves


def test_a_few_wild_days_cannot_decide_the_move_test():
    """The S&P 500 pattern: tiny, uninformative predicted moves on calm days, and a crash's
    few days where the predicted and actual moves are both large. Pearson's test on dollar
    moves calls that signal; the scaled, robust test does not."""
    from scipy import stats

    rng = np.random.default_rng(4)
    n = 765
    actual_move = rng.normal(0, 1, n)
    predicted_move = rng.normal(0, 0.05, n)
    crash = slice(700, 712)
    actual_move[crash] = rng.normal(0, 1, 12) * 12
    predicted_move[crash] = 0.02 * actual_move[crash]  # follows the crash, after the fact
    previous = 1000 + np.cumsum(rng.normal(0, 1, n))
    actual, predicted = previous + actual_move, previous + predicted_move
    pearson = stats.pearsonr(predicted_move, actual_move, alternative="greater").pvalue
    assert pearson < 0.01  # the old test: "moves carry signal"
    assert move_test(actual, predicted, previous)["move_pvalue"] > 0.05


def test_the_move_test_holds_its_size_on_fat_tails_and_a_volatility_burst():
    """The fast version of benchmarks/bench_calibration.py (150 draws a cell, not 1,000):
    GARCH(1,1)-t(4) walks with and without a 4x volatility burst, 250 test days, every
    forecaster without skill: the move test alone says "signal" in at most 5 % plus two
    standard errors of each cell, and in under 5 % of all of them together."""
    rng = np.random.default_rng(27)
    alarms = []
    for process in FAT_TAILED:
        for forecaster in NO_SKILL:
            cell = [move_alarm(process, forecaster, 250, rng) for _ in range(150)]
            rate = float(np.mean(cell))
            assert rate <= 0.05 + 2 * np.sqrt(0.05 * 0.95 / 150), (process, forecaster, rate)
            alarms += cell
    assert np.mean(alarms) < 0.05, np.mean(alarms)


def test_the_move_test_finds_the_oracle_on_fat_tails():
    """Power kept: the AR(1) phi = 0.3 oracle on 750 GARCH-t(4) days is "moves carry signal"
    or "beats naive" in at least 80 % of draws."""
    rng = np.random.default_rng(28)
    verdicts = [judged("garch_t4_burst", "oracle", 750, rng, 0.3) for _ in range(60)]
    found = np.mean([v in ("moves carry signal", "beats naive") for v in verdicts])
    assert found >= 0.8, found


def test_the_verdict_is_calibrated_on_random_walks_and_finds_planted_signal():
    """The fast version of benchmarks/bench_calibration.py (150 draws a cell, not 1,000):
    on random walks (Gaussian, and GARCH(1,1) with t shocks) no forecaster without skill is
    called "beats naive" more often than 5 % plus two standard errors; a true echo is
    "echoes yesterday" at least 80 % of the time (the move test's 5 % false alarms and the
    DM test's 2.5 % one way aside); the AR(1) oracle with phi >= 0.2 over 1,000 test days
    is never "echoes yesterday" (the lag peak at k = 1, which it has too, no longer decides)."""
    rng = np.random.default_rng(26)
    for process in PROCESSES:
        for forecaster in ("echo", "drift", "stale"):
            verdicts = [judged(process, forecaster, 250, rng) for _ in range(150)]
            beats, se = share(verdicts, "beats naive")
            assert beats <= 0.05 + 2 * se, (process, forecaster, beats)
            if forecaster == "echo":
                assert share(verdicts, "echoes yesterday")[0] >= 0.80, (process, verdicts)
    for phi in (0.2, 0.3):
        oracle = [judged("gaussian", "oracle", 1000, rng, phi) for _ in range(60)]
        assert "echoes yesterday" not in oracle, (phi, oracle.count("echoes yesterday"))
        assert share(oracle, "beats naive")[0] >= (0.5 if phi == 0.2 else 0.85)


def test_detectable_difference_is_what_the_test_finds_four_times_in_five():
    """Power, measured: the samples state the smallest relative-MAE difference their DM test
    finds at 80 % power (the median over 200 samples of 400 days); plant a forecast that
    much better than naive and count how often the test finds it over 400 new samples."""
    rng = np.random.default_rng(7)
    n = 400

    def errors(delta, size=n):
        naive_err = rng.standard_t(5, size)
        return (1 - delta) * naive_err + 0.3 * rng.normal(0, 1, size), naive_err

    def stated(delta):
        model, naive = errors(delta)
        return skill_against_naive(np.zeros((n, 1)), model[:, None], naive[:, None])[
            "detectable_rel_mae"
        ]

    detectable = float(np.median([stated(0.1) for _ in range(200)]))
    assert 0.01 < detectable < 0.2
    big_model, big_naive = errors(0.0, 400_000)
    lo, hi = 0.0, 0.9  # the delta whose true relative MAE is 1 - detectable
    for _ in range(40):
        mid = (lo + hi) / 2
        model = big_model - mid * big_naive
        rel = np.mean(np.abs(model)) / np.mean(np.abs(big_naive))
        lo, hi = (mid, hi) if rel > 1 - detectable else (lo, mid)
    found = 0
    for _ in range(400):
        model, naive = errors(lo)
        dm = diebold_mariano(model, naive)
        found += dm["pvalue"] < 0.05 and dm["stat"] < 0
    assert 0.72 <= found / 400 <= 0.88, found / 400


# ---------------------------------------------------------------- one best lag, one sign


def _diagnostic(rmse, corr) -> pd.DataFrame:
    return pd.DataFrame({"move_corr": corr, "rmse": rmse}, index=pd.Index(range(-5, 6)))


def test_a_minimum_at_the_edge_is_not_a_five_day_lag():
    # a level bias in an uptrend: RMSE falls all the way to k = 5; moves follow k = 1
    rmse = np.linspace(31.0, 30.19, 11)
    corr = np.where(np.arange(-5, 6) == 1, 0.51, 0.02)
    assert best_lag(_diagnostic(rmse, corr)) == 1


def test_a_tie_within_noise_of_one_is_called_one():
    rmse = np.array([35, 34, 33, 32, 31, 30.9, 30.26, 30.3, 30.25, 30.22, 30.19])
    assert best_lag(_diagnostic(rmse, np.zeros(11))) == 1
    flat = _diagnostic(np.full(11, 30.0) + np.linspace(0, 0.2, 11), np.zeros(11))
    assert "no day in particular" in lag_sentence(best_lag(flat), flat)


# ---------------------------------------------------------------- window-relative scaling


def test_window_relative_scaling_round_trips_exactly_and_reads_no_later_value():
    frame = price_frame(np.exp(np.linspace(3, 6, 600)) * (1 + 0.01 * np.sin(np.arange(600))))
    config = TrainConfig(window=20, horizon=3, model="seq2seq", scaling="window")
    data = prepare_forecast(frame, config)
    rows = data.target_rows("test")
    x, y = (
        np.concatenate(a) for a in zip(*tf_windows(data, rows).as_numpy_iterator(), strict=True)
    )
    assert np.allclose(x[:, -1, :], 0.0)  # every window relative to its own last day
    rebuilt = data.to_prices(y, data.previous_level(rows))  # targets mapped back: exact
    np.testing.assert_allclose(rebuilt, data.actual_paths(rows), rtol=1e-5)
    # change everything from the first target day on: that sample's inputs do not move
    later = frame.copy()
    later.iloc[rows[0] :, :4] *= 3.0
    x_later = next(
        data_later for data_later, _ in tf_windows(prepare_forecast(later, config), rows)
    )
    np.testing.assert_allclose(x_later.numpy()[0], x[0], atol=1e-6)


def test_extrapolation_warning_for_a_fitted_scaler_only():
    trend = price_frame(100 * np.exp(np.linspace(0, 2.5, 800)))  # test prices far above training
    standard = prepare_forecast(trend, TrainConfig(window=20, scaling="standard"))
    assert len(standard.warnings) == 1 and "saturate" in standard.warnings[0]
    assert "window-relative" in standard.warnings[0]
    assert prepare_forecast(trend, TrainConfig(window=20)).warnings == []  # the default
    assert prepare_forecast(trend, TrainConfig(window=20, transform="diff")).warnings == []
    steady = price_frame(1000 + np.random.default_rng(0).normal(0, 5, 800))
    assert prepare_forecast(steady, TrainConfig(window=20, scaling="standard")).warnings == []


def test_every_transform_scores_on_the_same_test_days():
    frame = price_frame(random_walk(700))
    days = {
        t: prepare_forecast(frame, TrainConfig(window=20, transform=t)).target_rows("test")
        for t in ("raw", "diff", "log_return")
    }
    dates = {
        t: prepare_forecast(frame, TrainConfig(window=20, transform=t)).index[rows]
        for t, rows in days.items()
    }
    assert dates["raw"].equals(dates["diff"]) and dates["raw"].equals(dates["log_return"])


# ---------------------------------------------------------------- ground truth, trained


def test_a_predictable_multivariate_series_beats_naive_with_best_lag_0(workspace):
    config = TrainConfig(
        features=["close", "LEAD_close"], window=10, units=16, epochs=12, seed=0, patience=4
    )
    result = train_forecaster(leading_indicator(), {"ticker": "LEAD"}, config, RunStore())
    m = result["metrics"]
    assert result["verdict"] == "beats naive", m
    assert m["best_lag"] == 0 and m["rel_mae"] < 0.8 and m["dm_pvalue"] < 0.05


@pytest.mark.parametrize("seed", [0, 1])
def test_a_random_walk_never_beats_naive(workspace, seed):
    config = TrainConfig(window=10, units=16, epochs=3, seed=seed)
    result = train_forecaster(price_frame(random_walk(seed=seed)), {}, config, RunStore())
    assert result["verdict"] != "beats naive"
    assert 0.9 < result["metrics"]["rel_mae"] < 1.3


def test_cli_json_and_runs_table_carry_the_verdict_and_the_warning(workspace):
    from tests.helpers import last_json, run_cli

    args = ["--sample", "AAPL", "--epochs", "1", "--window", "10", "--units", "8"]
    result = last_json(run_cli("train", *args, "--scaling", "standard", workspace=workspace))
    assert result["verdict"] in ("worse than naive", "moves carry signal", "echoes yesterday")
    saturate = [w for w in result["warnings"] if "saturate" in w]
    assert len(saturate) == 1
    # a saturated model's band breaks too, and says where (the only other warning)
    assert all("band covered" in w for w in result["warnings"] if w not in saturate)
    assert {"rel_mae", "dm_pvalue", "best_lag"} <= set(result["metrics"])
    moves = {"move_corr", "move_pvalue", "detectable_rel_mae", "test_days"}
    assert moves <= set(result["metrics"]), result["metrics"]
    assert 0 < result["metrics"]["detectable_rel_mae"] < 10  # large: its errors vary wildly
    assert result["metrics"]["rel_mae"] > 2  # saturated far below the test prices
    listing = run_cli("runs", workspace=workspace, timeout=120)
    assert "verdict" in listing.stdout and result["verdict"] in listing.stdout


@pytest.mark.integration
def test_the_bundled_sp500_example_is_decided_by_the_robust_move_test(tmp_path):
    """The default raw-price LSTM on the S&P 500 sample (1999-2018; window 30, 32 units, 4
    epochs, seed 0, on JAX as the app runs it): Pearson's test on its dollar moves said
    "moves carry signal" (p = 0.036); the robust test finds no evidence (regression p 0.19,
    sign test p 0.051), so the verdict is "echoes yesterday". Its ETS baseline on the same
    days is decided by the same test."""
    import json
    import os
    import subprocess
    import sys

    from scipy import stats

    from tests.conftest import ROOT

    env = {k: v for k, v in os.environ.items() if k != "LAGLENS_BACKEND"}  # the app's default
    flags = ["--sample", "^GSPC", "--window", "30", "--units", "32", "--epochs", "4"]
    out = subprocess.run(
        [sys.executable, "-m", "core.cli", "train", *flags, "--seed", "0"]
        + ["--workspace", str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    run = pd.read_parquet(tmp_path / "runs" / result["run_id"] / "predictions.parquet")
    moves, actual = run["predicted"] - run["naive"], run["actual"] - run["naive"]
    pearson = stats.pearsonr(moves, actual, alternative="greater").pvalue
    m = result["metrics"]
    assert pearson < 0.05 < m["move_pvalue"], (pearson, m)
    assert result["verdict"] == "echoes yesterday"
    ets = result["baselines"]["ets"]
    assert ets["verdict"] == verdict(
        ets["rel_mae"], ets["dm_stat"], ets["dm_pvalue"], ets["move_pvalue"]
    )
    assert ets["move_pvalue"] == max(ets["move_hac_pvalue"], ets["move_sign_pvalue"])


def test_the_verdict_sentences_say_what_was_tested():
    """Absence of evidence is worded as such, and a significant result as unlikely to be
    chance, not as proof."""
    from core.present.sentences import verdict_sentence

    base = dict(rel_mae=0.97, dm_pvalue=0.01, best_lag=0, move_corr=0.2, move_pvalue=0.01)
    base |= dict(move_hac_pvalue=0.01, move_sign_pvalue=0.004)
    beats = verdict_sentence({**base, "verdict": "beats naive"})
    assert "unlikely to be chance at the 5 % level" in beats and "luck" not in beats
    echo = verdict_sentence(
        {**base, "verdict": "echoes yesterday", "dm_pvalue": 0.7, "move_pvalue": 0.45}
        | {"move_hac_pvalue": 0.45, "move_sign_pvalue": 0.2}
    )
    assert "no evidence that its predicted moves carry information" in echo
    assert "regression p = 0.45 and sign test p = 0.2, one-sided, both needed" in echo
    assert "carry no information" not in echo and "not significantly" not in echo
    signal = verdict_sentence({**base, "verdict": "moves carry signal", "dm_pvalue": 0.3})
    assert "no evidence that its errors are smaller" in signal
