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


JAX_SHARES = """
import json, os, sys
os.environ["KERAS_BACKEND"] = "jax"
from core.models.attribution import attribution_shares
from core.pipeline.forecast import test_inputs
from core.pipeline.prepare import prepare_forecast
from core.store.runs import RunStore
run = RunStore(sys.argv[1]).get(sys.argv[2])
data = prepare_forecast(run.dataset, run.config)
import keras
assert keras.config.backend() == "jax"
print(json.dumps(attribution_shares(run.load_model(), test_inputs(data)).tolist()))
"""


def test_the_move_is_attributed_to_the_input_that_leads_it_on_tensorflow_and_jax(workspace):
    """Y's daily move is 0.9 x X's move the day before (plus a little noise): the model's
    predicted move is attributed to X's last day, and the same saved model gives the same
    shares on JAX."""
    import json
    import subprocess
    import sys

    rng = np.random.default_rng(0)
    rx = rng.normal(0, 0.01, 700)
    ry = np.r_[0, 0.9 * rx[:-1]] + rng.normal(0, 0.002, 700)
    x, y = 100 * np.exp(np.cumsum(rx)), 100 * np.exp(np.cumsum(ry))
    frame = pd.DataFrame(
        {"open": y, "high": y, "low": y, "close": y, "volume": 1e6, "X_close": x},
        index=pd.bdate_range("2015-01-01", periods=700),
    )
    config = tiny_config(
        window=5,
        units=16,
        epochs=25,
        learning_rate=0.005,
        seed=0,
        early_stopping=True,
        transform="log_return",
        features=["close", "X_close"],
    )
    result = train_forecaster(frame, {"ticker": "Y"}, config, RunStore())
    attribution = result["attribution"]
    assert attribution["top_input"] == "X_close" and attribution["top_days"] == 1
    assert attribution["top_share"] >= 0.6  # measured: 0.84
    assert attribution["sentence"].startswith(f"{round(100 * attribution['top_share'])} % of")
    assert "falls on X's last day" in attribution["sentence"]
    assert attribution["top"][0] == {
        "input": "X_close",
        "day": "t-1",
        "share": pytest.approx(attribution["top_share"]),
    }
    shares = RunStore().get(result["run_id"]).paths.attribution
    assert shares.shape == (5, 2) and abs(shares.sum() - 1) < 1e-5

    out = subprocess.run(
        [sys.executable, "-c", JAX_SHARES, str(workspace), result["run_id"]],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-1500:]
    on_jax = np.array(json.loads(out.stdout.strip().splitlines()[-1]))
    assert np.abs(on_jax - shares).max() <= 0.05


def test_small_moves_are_worded_with_the_verdict_never_against_it():
    """One run never carries two contradicting labels: small moves the move test found
    informative are not called an echo beside "moves carry signal"."""
    small = {"predicted_sd": 0.02, "actual_sd": 1.0, "ratio": 0.02}
    echo = moves_sentence(small, "echoes yesterday")
    assert echo.endswith("an echo. Nearly all of each forecast is yesterday's price.")
    for verdict in ("moves carry signal", "beats naive"):
        text = moves_sentence(small, verdict)
        assert "an echo" not in text and "more often than chance" in text, verdict
    assert "an echo" not in moves_sentence({**small, "ratio": 0.5}, "echoes yesterday")
