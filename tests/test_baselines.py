"""Classical baselines: one interface, no look-ahead, statsmodels underneath, scored like
models and saved with every run."""

import numpy as np
import pytest

from core.forecasting.baselines import BASELINES, Arima, Drift, Ets, Naive, forecast_baselines
from core.forecasting.evaluation import score_paths
from core.pipeline.forecast import train_forecaster
from core.present.labels import runs_table
from core.store.runs import RunStore
from tests.helpers import last_json, run_cli, tiny_config, tiny_dataset


def ar1(phi=0.6, n=2000, mean=5.0, seed=0):
    rng = np.random.default_rng(seed)
    x = np.full(n, mean)
    noise = rng.normal(size=n)
    for t in range(1, n):
        x[t] = mean + phi * (x[t - 1] - mean) + noise[t]
    return x


def random_walk_prices(n=1500, seed=0):
    rng = np.random.default_rng(seed)
    return 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))


def test_arima_recovers_an_ar1_coefficient():
    arima = Arima().fit(ar1(phi=0.6)[:1500])
    assert arima.describe() == "ARIMA(1, 0, 0)"  # the ADF test says stationary: d = 0
    params = dict(zip(arima.result.param_names, arima.result.params, strict=True))
    assert params["ar.L1"] == pytest.approx(0.6, abs=0.05)
    assert params["const"] == pytest.approx(5.0, abs=0.2)


def test_arima_takes_a_difference_on_a_random_walk():
    arima = Arima().fit(random_walk_prices()[:1000])
    assert arima.result.model.order[1] == 1


@pytest.mark.parametrize("horizon", [1, 3])
@pytest.mark.parametrize("name", list(BASELINES))
def test_no_baseline_reads_past_its_origin(name, horizon):
    """Perturb every value after day 1100: forecasts made at origins up to day 1100 are the
    same to the last bit; later ones move."""
    levels = random_walk_prices()
    origins = np.arange(1050, 1150)
    before = BASELINES[name]().fit(levels[:1000]).forecast(levels, origins, horizon)
    changed = levels.copy()
    changed[1101:] *= np.random.default_rng(1).uniform(0.8, 1.2, len(levels) - 1101)
    after = BASELINES[name]().fit(changed[:1000]).forecast(changed, origins, horizon)
    known = origins <= 1100
    assert before.shape == (len(origins), horizon)
    np.testing.assert_array_equal(before[known], after[known])
    assert not np.allclose(before[~known], after[~known])


@pytest.mark.parametrize("cls", [Arima, Ets])
@pytest.mark.parametrize("series", ["ar1", "random_walk"])
def test_state_space_paths_equal_statsmodels_own_forecast_at_each_origin(cls, series):
    levels = ar1() if series == "ar1" else random_walk_prices()
    baseline = cls().fit(levels[:1000])
    origins = np.arange(1200, 1300)
    paths = baseline.forecast(levels, origins, 4)
    for i in (0, 37, 99):
        own = baseline.result.apply(levels[: origins[i] + 1], refit=False).forecast(4)
        np.testing.assert_allclose(paths[i], own, rtol=1e-9)


def test_drift_is_naive_plus_the_mean_training_change_per_step():
    levels = np.array([10.0, 11, 12, 14, 13, 15, 16])
    drift = Drift().fit(levels[:4])  # (14 - 10) / 3 per day
    paths = drift.forecast(levels, np.array([4, 5]), 2)
    np.testing.assert_allclose(paths, [[13 + 4 / 3, 13 + 8 / 3], [15 + 4 / 3, 15 + 8 / 3]])
    np.testing.assert_array_equal(
        Naive().forecast(levels, np.array([4, 5]), 2), [[13, 13], [15, 15]]
    )


def test_always_up_scores_the_share_of_up_days():
    import pandas as pd

    levels = random_walk_prices(400)
    origins = np.arange(299, 399)
    paths = BASELINES["always_up"]().forecast(levels, origins, 1)
    actual = levels[origins + 1][:, None]
    previous = levels[origins]
    dates = pd.bdate_range("2020-01-01", periods=len(levels))
    m = score_paths(pd.Series(levels, dates), dates[origins + 1], actual, paths, previous, 1.0)
    assert m["up_share"] == 1.0
    assert m["directional_accuracy"] == pytest.approx(np.mean(actual[:, 0] > previous))


def test_on_a_random_walk_every_baseline_is_close_to_naive():
    levels = random_walk_prices(2000, seed=3)
    origins = np.arange(1700, 1999)
    paths, fitted = forecast_baselines(levels, 1400, origins, 1)
    naive_mae = np.mean(np.abs(paths["naive"][:, 0] - levels[origins + 1]))
    for name in ("drift", "arima", "ets"):
        rel = np.mean(np.abs(paths[name][:, 0] - levels[origins + 1])) / naive_mae
        assert 0.97 < rel < 1.05, (name, fitted[name], rel)


def test_a_run_saves_every_baseline_scored_on_its_test_days(workspace):
    ds = tiny_dataset()
    config = tiny_config(model="seq2seq", horizon=3)
    result = train_forecaster(ds.frame, ds.describe(), config, RunStore())
    run = RunStore().get(result["run_id"])
    assert set(run.record.baselines) == set(BASELINES)
    for name, scores in run.record.baselines.items():
        assert {"rmse", "mae", "mase", "directional_accuracy", "rel_mae", "dm_pvalue"} <= set(
            scores
        )
        assert run.paths.baselines[name].shape == run.paths.forecast_paths.shape
    naive = run.record.baselines["naive"]
    assert naive["rel_mae"] == 1.0 and naive["mae"] == pytest.approx(run.naive["mae"])
    assert [row["step"] for row in run.record.by_step] == [1, 2, 3]
    step1 = run.record.by_step[0]
    assert step1["mae"] == pytest.approx(run.metrics["mae"])
    assert step1["naive_mae"] == pytest.approx(run.naive["mae"])
    assert run.record.baselines["always_up"]["verdict"] == ""  # direction only
    assert np.isnan(run.record.baselines["always_up"]["move_pvalue"])  # a nudge, no view
    assert run.record.intervals["level"] == 90 and 0 < run.record.intervals["coverage"] <= 1
    table = runs_table(RunStore().runs("forecast"))
    best = min(s["rel_mae"] for n, s in run.record.baselines.items() if n != "always_up")
    assert table.loc[0, "its rel. MAE"] == pytest.approx(best)


def test_cli_json_carries_baselines_by_step_and_the_interval(workspace):
    args = ["--sample", "AAPL", "--start", "2010-01-01", "--epochs", "1", "--window", "10"]
    args += ["--units", "8", "--model", "seq2seq", "--horizon", "3", "--interval-level", "80"]
    result = last_json(run_cli("train", *args, workspace=workspace))
    assert set(result["baselines"]) == set(BASELINES)
    assert {"rmse", "mae", "mase", "rel_mae", "dm_pvalue"} <= set(result["baselines"]["arima"])
    assert [row["step"] for row in result["by_step"]] == [1, 2, 3]
    assert {"mae", "naive_mae", "drift_mae", "arima_mae", "ets_mae"} <= set(result["by_step"][0])
    intervals = result["intervals"]
    assert set(intervals) == {"level", "method", "coverage", "mean_width", "score", "naive_score"}
    assert intervals["level"] == 80 and intervals["method"] == "adaptive"
    assert 0 < intervals["mean_width"] < intervals["score"] * 10  # in dollars; MSIS in naive's MAE
    assert intervals["naive_score"] > 0
    # Baselines say their scale; the returns view sits beside the dollars.
    assert result["baselines"]["arima"]["fitted"].endswith(" on log price")
    assert result["baselines"]["naive"]["fitted"] == "naive (tomorrow = today)"
    assert set(result["moves"]) == {"predicted_sd", "actual_sd", "ratio"}
    assert result["moves"]["ratio"] == pytest.approx(
        result["moves"]["predicted_sd"] / result["moves"]["actual_sd"]
    )
    returns = result["returns"]
    assert set(returns) >= {"mae", "naive_mae", "hit_rate", "hit_rate_ci", "strategy_return"}
    run = RunStore(workspace).get(result["run_id"])
    first, last = run.predictions["naive"].iloc[0], run.predictions["actual"].iloc[-1]
    held = (last / first) * (1 - 5e-4) - 1  # the test days' price change after one trade
    assert returns["buy_hold_return"] == pytest.approx(held, abs=1e-6)
    listing = run_cli("runs", workspace=workspace, timeout=120)
    assert "best baseline" in listing.stdout and "its rel. MAE" in listing.stdout
