"""The echo explained: every forecast split into yesterday's price and a predicted move, and
how large those moves are beside the real ones (issue 30)."""

import numpy as np
import pandas as pd
import pytest

from core.forecasting.evaluation import move_sizes
from core.pipeline.forecast import train_forecaster
from core.present.sentences import moves_sentence
from core.store.runs import RunStore
from tests.helpers import tiny_config


def test_on_a_random_walk_the_model_is_yesterday_plus_almost_nothing(workspace):
    rng = np.random.default_rng(0)
    price = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, 900)))
    frame = pd.DataFrame(
        {"open": price, "high": price, "low": price, "close": price, "volume": 1e6},
        index=pd.bdate_range("2015-01-01", periods=900),
    )
    config = tiny_config(window=20, units=16, epochs=5, seed=0)
    result = train_forecaster(frame, {"ticker": "RW"}, config, RunStore())
    moves = result["moves"]
    assert moves["ratio"] <= 0.2  # measured: 0.04
    run = RunStore().get(result["run_id"])
    predicted = run.predictions["predicted"] - run.predictions["naive"]
    assert moves["predicted_sd"] == pytest.approx(predicted.std(ddof=0))
    sentence = moves_sentence(run.record.moves)
    assert sentence.startswith("Forecast = yesterday's price + a predicted move")
    assert sentence.endswith("an echo. Nearly all of each forecast is yesterday's price.")


def test_move_sizes_by_hand():
    previous = np.array([10.0, 11.0, 12.0, 13.0])
    actual = previous + np.array([1.0, -1.0, 1.0, -1.0])  # sd 1
    half = move_sizes(actual, previous + np.array([0.5, -0.5, 0.5, -0.5]), previous)
    assert half == {"predicted_sd": 0.5, "actual_sd": 1.0, "ratio": 0.5}
    assert "an echo" not in moves_sentence(half) and "(50.0 % of them)" in moves_sentence(half)
    assert move_sizes(actual, previous, previous)["ratio"] == 0.0  # naive: no move at all
