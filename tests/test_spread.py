"""The spread as a forecasting target: one entry of the run-kind table, scored like every
run on the spread's own scale, with a mean-reverting AR(1) baseline."""

import json

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core.config import TrainConfig
from core.errors import UserError
from core.forecasting.baselines import BASELINES, SPREAD_BASELINES
from core.forecasting.relationships import fit_spread
from core.kinds.spread import SpreadConfig
from core.pipeline.forecast import repredict
from core.pipeline.kinds import RUN_KINDS, validate_config
from core.pipeline.runner import RunRequest, run
from core.pipeline.spread import with_spread
from core.store.runs import RunStore
from tests.conftest import ROOT
from tests.helpers import (
    TINY_FLAGS,
    TINY_SAMPLE_FLAGS,
    figure_of,
    last_json,
    run_cli,
    tiny_dataset,
    tiny_train_page,
)


def reverting_pair(phi: float = 0.7, days: int = 3000, seed: int = 0) -> pd.DataFrame:
    """B a random walk in logs; log A = log B + AR(1) noise: a cointegrated pair whose spread
    reverts with coefficient phi."""
    rng = np.random.default_rng(seed)
    log_b = np.cumsum(rng.normal(0, 0.01, days))
    noise = np.zeros(days)
    for t in range(1, days):
        noise[t] = phi * noise[t - 1] + rng.normal(0, 0.01)
    a, b = 100 * np.exp(log_b + noise), 100 * np.exp(log_b)
    index = pd.bdate_range("2001-01-01", periods=days, name="date")
    return pd.DataFrame(
        {"open": a, "high": a, "low": a, "close": a, "volume": 1e6, "B_close": b}, index=index
    )


def test_a_reverting_spread_is_beaten_by_ar1_and_by_the_lstm(workspace):
    frame = reverting_pair()
    config = SpreadConfig(  # raw: a spread that reverts to a level (its help says so)
        partner="B_close", transform="raw", window=10, units=16, epochs=8, seed=0, patience=3
    )
    store = RunStore()
    result = run(RUN_KINDS["spread"], RunRequest(frame, {"ticker": "A"}, config, store))
    assert set(result["baselines"]) == set(SPREAD_BASELINES) == set(BASELINES) | {"ar1"}
    ar1 = result["baselines"]["ar1"]
    assert ar1["verdict"] == "beats naive" and ar1["dm_pvalue"] < 0.05, ar1
    assert ar1["fitted"].startswith("AR(1), phi = 0.6") or ar1["fitted"].startswith(
        "AR(1), phi = 0.7"
    )
    assert result["verdict"] == "beats naive" and result["metrics"]["dm_pvalue"] < 0.05
    saved = store.get(result["run_id"])
    assert saved.kind == "spread" and saved.config.partner == "B_close"
    assert "spread" in saved.dataset.columns  # the spread it was trained on is kept
    pd.testing.assert_frame_equal(repredict(saved.id, store), saved.predictions)
    assert saved.name.startswith("A/B spread: LSTM")


def test_beta_comes_from_the_training_part_only():
    frame = reverting_pair(days=800)
    config = SpreadConfig(partner="B_close", window=10)
    before = with_spread(frame, config)["spread"]
    later = frame.copy()
    later.iloc[600:, :4] *= 1.5  # only the validation and test parts change
    after = with_spread(later, config)["spread"]
    pd.testing.assert_series_equal(before.iloc[:560], after.iloc[:560])


@pytest.mark.parametrize(
    "settings, message",
    [
        (dict(partner=""), "Choose the series"),
        (dict(partner="close"), "with itself"),
        (dict(partner="B_close", transform="log_return"), "no log return"),
        (dict(partner="B_close", scaling="window"), "Window-relative scaling"),
        (dict(partner="NOPE_close"), "no column"),
    ],
)
def test_impossible_spreads_are_refused(settings, message):
    with pytest.raises(UserError, match=message):
        validate_config(SpreadConfig(window=10, **settings), reverting_pair(days=300))


def test_cli_trains_a_spread_and_refuses_a_series_with_itself(tmp_path):
    out = run_cli(
        "train", *TINY_SAMPLE_FLAGS, *TINY_FLAGS, "--spread-with", "MSFT", workspace=tmp_path
    )
    result = last_json(out)
    assert "ar1" in result["baselines"] and result["verdict"]
    saved = json.loads((tmp_path / "runs" / result["run_id"] / "run.json").read_text())
    assert saved["kind"] == "spread" and saved["config"]["partner"] == "MSFT_close"
    assert saved["config"]["scaling"] == "standard"
    assert saved["config"]["transform"] == "diff"  # a spread's default, not a price's raw
    assert saved["name"] == "AAPL/MSFT spread: LSTM, first difference, univariate, window 10"
    raw = run_cli(
        "train",
        *TINY_SAMPLE_FLAGS,
        *TINY_FLAGS,
        "--spread-with",
        "MSFT",
        "--transform",
        "raw",
        workspace=tmp_path,
    )
    kept = json.loads((tmp_path / "runs" / last_json(raw)["run_id"] / "run.json").read_text())
    assert kept["config"]["transform"] == "raw" and "raw spread" in kept["name"]  # given: kept
    listing = run_cli("runs", workspace=tmp_path)
    assert result["run_id"] in listing.stdout
    same = run_cli("train", *TINY_SAMPLE_FLAGS, "--spread-with", "aapl", workspace=tmp_path)
    assert same.returncode == 2 and "with itself" in same.stderr and "Traceback" not in same.stderr


def test_train_page_trains_a_spread_and_predictions_shows_it(workspace):
    at = tiny_train_page(tiny_dataset(["MSFT"]))
    next(t for t in at.toggle if t.label.startswith("Forecast a spread")).set_value(True).run()
    scaling = next(r for r in at.radio if r.label == TrainConfig.spec("scaling").label)
    assert scaling.value == "standard"
    transform = next(r for r in at.radio if r.label == TrainConfig.spec("transform").label)
    assert transform.value == "diff" and transform.options == ["raw spread", "first difference"]
    assert next(s for s in at.selectbox if s.label == "Spread with").value == "MSFT_close"
    next(b for b in at.button if b.label == "Start training").click().run()
    assert not at.exception and not at.error
    from ui import manager

    jobs = manager().jobs()
    assert [j.kind for j in jobs] == ["spread"]
    assert manager().wait(jobs[0].id, timeout=300).status == "finished"
    at.switch_page("views/predictions.py").run()
    assert not at.exception
    table = at.dataframe[0].value
    assert "AR(1), mean-reverting" in list(table.index)
    # labelled as what it forecasts: a spread, not a price
    chart = figure_of(next(c for c in at.get("plotly_chart") if "pred_chart" in c.proto.id))
    assert chart["layout"]["title"]["text"] == "Test period: actual vs predicted spread"
    assert chart["layout"]["yaxis"]["title"]["text"] == "spread"
    assert any(
        s.value.startswith("Lag diagnostic: is the prediction just yesterday's spread")
        for s in at.subheader
    )
    assert not any("price" in i.value for i in at.info), [i.value for i in at.info]


def test_a_spread_can_be_an_input_of_a_multivariate_run(workspace):
    frame = reverting_pair(days=900)
    config = TrainConfig(
        features=["close", "spread_with_B_close"],
        transform="log_return",
        window=10,
        units=8,
        epochs=2,
    )
    store = RunStore()
    result = run(RUN_KINDS["forecast"], RunRequest(frame, {"ticker": "A"}, config, store))
    saved = store.get(result["run_id"])
    assert saved.kind == "forecast" and "spread_with_B_close" in saved.dataset.columns
    beta = fit_spread(frame["close"].iloc[:630], frame["B_close"].iloc[:630]).beta  # train rows
    expected = np.log(frame["close"]) - beta * np.log(frame["B_close"])
    np.testing.assert_allclose(saved.dataset["spread_with_B_close"], expected)
    pd.testing.assert_frame_equal(repredict(saved.id, store), saved.predictions)
    with pytest.raises(UserError, match="window-relative scaling divides by it"):
        validate_config(TrainConfig(features=["close", "spread_with_B_close"], window=10), frame)
    with pytest.raises(UserError, match="no other series"):
        validate_config(TrainConfig(features=["close", "spread_with_NOPE"], window=10), frame)


def test_train_page_offers_a_spread_as_an_input(workspace):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state["dataset"] = tiny_dataset(["MSFT"])
    at.run()
    at.switch_page("views/train.py").run()
    next(t for t in at.toggle if t.label.startswith("Multivariate")).set_value(True).run()
    extra = next(m for m in at.multiselect if m.label == "Extra input columns")
    assert "spread with MSFT (log target - beta x log MSFT)" in extra.options
    assert "spread_with_MSFT_close" not in extra.value  # offered, not picked by default
