"""Metrics by hand, lag diagnostics on constructed series, chart builders' traces."""

import numpy as np
import pandas as pd
import pytest

from core.data.summary import summarize_prices
from core.forecasting.evaluation import (
    best_lag,
    change_skill,
    forecast_metrics,
    horizon_errors,
    lag_diagnostic,
    metrics_table,
    naive_scale,
    shift_prediction,
)
from core.present import charts
from core.present.sentences import lag_sentence


def test_forecast_metrics_by_hand():
    actual = np.array([10.0, 12.0, 11.0, 13.0])
    previous = np.array([9.0, 10.0, 12.0, 11.0])
    predicted = np.array([11.0, 11.0, 12.0, 12.0])
    m = forecast_metrics(actual, predicted, previous, scale=2.0)
    # errors: 1, -1, 1, -1
    assert m["rmse"] == pytest.approx(1.0)
    assert m["mae"] == pytest.approx(1.0)
    assert m["mape"] == pytest.approx(100 * np.mean([1 / 10, 1 / 12, 1 / 11, 1 / 13]))
    assert m["mase"] == pytest.approx(0.5)
    # predicted moves: +2, +1, 0, +1 ; actual moves: +1, +2, -1, +2 -> signs agree on 1, 2, 4
    assert m["directional_accuracy"] == pytest.approx(0.75)


def test_naive_has_no_direction_and_mase_scale_is_train_naive_mae():
    actual, previous = np.array([2.0, 3.0]), np.array([1.0, 2.0])
    assert np.isnan(forecast_metrics(actual, previous, previous, 1.0)["directional_accuracy"])
    assert naive_scale(np.array([1.0, 3.0, 2.0, 6.0])) == pytest.approx((2 + 1 + 4) / 3)


def test_change_skill_by_hand():
    s = change_skill(
        np.array([11.0, 9.0, 12.0]), np.array([10.5, 9.5, 11.0]), np.array([10.0, 10.0, 10.0])
    )
    assert s["change_directional_accuracy"] == pytest.approx(1.0)
    assert s["change_corr"] == pytest.approx(np.corrcoef([0.5, -0.5, 1.0], [1.0, -1.0, 2.0])[0, 1])


@pytest.fixture
def walk() -> pd.Series:
    rng = np.random.default_rng(3)
    index = pd.bdate_range("2020-01-01", periods=400)
    return pd.Series(100 + np.cumsum(rng.normal(size=400)), index=index)


@pytest.mark.parametrize("k", [0, 1, 2])
def test_lag_diagnostic_finds_the_constructed_lag(walk, k):
    test = walk.index[300:380]
    predicted = walk.shift(k).loc[test]
    diag = lag_diagnostic(walk, predicted)
    assert best_lag(diag) == k
    assert diag.loc[k, "rmse"] == pytest.approx(0.0, abs=1e-12)
    assert int(diag["move_corr"].idxmax()) == k
    assert diag.loc[k, "move_corr"] == pytest.approx(1.0)
    assert list(diag.index) == list(range(-5, 6))


def test_lag_sentence_names_the_echo_and_leaves_the_verdict_to_the_moves():
    one = lag_sentence(1, pd.DataFrame({"rmse": [0.5, 0.1]}, index=[0, 1]))
    assert "closest to the actual price of the day before" in one
    assert "a forecast that echoes yesterday and one with some skill alike" in one
    assert "not simply yesterday" in lag_sentence(
        0, pd.DataFrame({"rmse": [0.1, 0.5]}, index=[0, 1])
    )


def test_shift_lines_an_echo_up_at_plus_one(walk):
    """One sign convention: k > 0 = the actual price k days before; an echo lines up at +1."""
    test = walk.index[300:380]
    echo = walk.shift(1).loc[test]
    table0 = metrics_table(walk, echo, walk.shift(1), 1.0)
    table_m1 = metrics_table(walk, shift_prediction(echo, 1), walk.shift(1), 1.0)
    assert table_m1.loc["model", "rmse"] == pytest.approx(0.0, abs=1e-12)
    assert table0.loc["model", "rmse"] == pytest.approx(
        table0.loc["naive (tomorrow = today)", "rmse"]
    )


def test_horizon_errors_by_step():
    actual = np.array([[1.0, 2.0], [3.0, 4.0]])
    forecast = np.array([[1.0, 4.0], [3.0, 2.0]])
    errors = horizon_errors(actual, forecast)
    assert list(errors["rmse"]) == [0.0, 2.0] and list(errors.index) == [1, 2]


def test_summary_drawdown(walk):
    frame = pd.DataFrame(
        {"close": [100.0, 120.0, 60.0, 90.0]}, index=pd.bdate_range("2020-01-01", periods=4)
    )
    s = summarize_prices(frame)
    assert s["max_drawdown"] == pytest.approx(-0.5) and s["rows"] == 4


def test_chart_builders_name_their_traces(walk):
    test = walk.index[300:380]
    fig = charts.predictions_chart(
        walk.loc[test], {"run A": walk.shift(1).loc[test]}, walk.shift(1).loc[test]
    )
    assert [t.name for t in fig.data] == ["naive (tomorrow = today)", "run A", "actual"]  # on top
    assert all(len(t.x) == 80 for t in fig.data)
    diag = lag_diagnostic(walk, walk.shift(1).loc[test])
    lag = charts.lag_correlogram(diag)
    assert [t.name for t in lag.data] == ["move correlation", "RMSE", "best lag"]
    assert list(lag.data[2].x) == [1] and len(lag.data[0].x) == 11
    heat = charts.attention_heatmap(np.full((3, 5), 0.2))
    assert heat.data[0].z.shape == (3, 5) and list(heat.data[0].y) == ["step 1", "step 2", "step 3"]
    loss = charts.loss_curves([{"epoch": 1, "loss": 1.0, "val_loss": 2.0}], log_y=True)
    assert [t.name for t in loss.data] == [
        "train",
        "validation",
    ] and loss.layout.yaxis.type == "log"
    candle = charts.candlestick_with_volume(
        pd.DataFrame(
            {
                "open": [1.0, 2.0],
                "high": [2.0, 3.0],
                "low": [0.5, 1.5],
                "close": [1.5, 2.5],
                "volume": [10.0, 20.0],
            },
            index=pd.bdate_range("2020-01-01", periods=2),
        )
    )
    assert [t.type for t in candle.data] == ["candlestick", "bar"]
