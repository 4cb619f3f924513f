"""The LSTM autoencoder finds injected shocks; the page and CLI show them."""

import time

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core.anomaly import (
    day_scores,
    threshold_for,
    top_anomalies,
    train_anomaly_detector,
)
from core.config import AnomalyConfig
from core.errors import UserError
from core.runs import RunStore
from core.windows import validate_config
from tests.conftest import ROOT
from tests.helpers import figure_of, last_json, run_cli, tiny_dataset


def shocked_series(n=2000, sigma=0.01, seed=5):
    """Gaussian daily returns and volume, with 20 shocks of 8 sigma on known days."""
    rng = np.random.default_rng(seed)
    returns = rng.normal(0, sigma, n)
    shock_pos = np.sort(
        np.concatenate(
            [
                rng.choice(np.arange(100, 1300), 6, replace=False),
                rng.choice(np.arange(1450, n - 10), 14, replace=False),
            ]
        )
    )
    returns[shock_pos] = 8 * sigma * rng.choice([-1, 1], len(shock_pos))
    index = pd.bdate_range("2005-01-03", periods=n + 1, name="date")
    close = 100 * np.exp(np.concatenate([[0], np.cumsum(returns)]))
    volume = 1e6 * np.exp(rng.normal(0, 0.2, n + 1))
    frame = pd.DataFrame(
        {"open": close, "high": close, "low": close, "close": close, "volume": volume}, index=index
    )
    return frame, index[shock_pos + 1]


def test_default_settings_find_injected_shocks(workspace):
    frame, shock_days = shocked_series()
    result = train_anomaly_detector(frame, {"ticker": "SYN"}, AnomalyConfig(), RunStore())
    scores = RunStore().get(result["run_id"]).scores
    flagged = scores.index[scores["score"] > result["threshold"]]
    found = shock_days.isin(flagged).mean()
    ordinary = scores.index.difference(shock_days)
    false_rate = ordinary.isin(flagged).mean()
    assert found >= 0.8, f"found {found:.0%} of the shocks"
    assert false_rate <= 0.01, f"flagged {false_rate:.2%} of ordinary days"


def test_day_score_averages_every_window_containing_the_day():
    errors = np.zeros((3, 2, 1))  # 3 windows of 2 days over 4 days
    errors[0, 1, 0] = 4.0  # day 1 in window 0
    errors[1, 0, 0] = 2.0  # day 1 in window 1
    np.testing.assert_allclose(day_scores(errors), [0.0, 3.0, 0.0, 0.0])


def test_threshold_moves_without_retraining(workspace):
    data = tiny_dataset(start="2008-01-01")
    result = train_anomaly_detector(
        data.frame, data.describe(), AnomalyConfig(epochs=1, units=8), RunStore()
    )
    run = RunStore().get(result["run_id"])
    assert (
        threshold_for(run.scores, 95)
        < threshold_for(run.scores, 99)
        == pytest.approx(result["threshold"])
    )
    assert len(top_anomalies(run, 95, limit=1000)) > len(top_anomalies(run, 99, limit=1000))


def test_too_short_for_the_window_is_refused():
    with pytest.raises(UserError, match="needs at least"):
        validate_config(AnomalyConfig(window=120), tiny_dataset(start="2012-06-01").frame)


def test_cli_anomalies_prints_sorted_days(workspace):
    result = last_json(
        run_cli(
            "anomalies",
            *("--sample", "AAPL", "--start", "2000-03-01", "--end", "2002-12-31", "--epochs", 3),
            workspace=workspace,
        )
    )
    scores = [d["score"] for d in result["top"]]
    assert scores == sorted(scores, reverse=True) and scores[0] > result["threshold"]
    assert result["top"][0]["date"] == "2000-09-29"  # AAPL's 52 % fall
    bad = run_cli("anomalies", "--sample", "NOPE", timeout=60)
    assert (
        bad.returncode == 2 and "Traceback" not in bad.stderr and "no bundled sample" in bad.stderr
    )


def test_page_trains_a_tiny_autoencoder_and_shows_chart_and_table(workspace):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state["dataset"] = tiny_dataset(start="2008-01-01")
    at.run()
    at.switch_page("pages/anomalies.py").run()
    at.number_input(key="ae_epochs").set_value(2)
    at.number_input(key="ae_units").set_value(8)
    at.run()
    next(b for b in at.button if b.label == "Train autoencoder").click().run()

    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and not RunStore().runs(kind="anomaly"):
        time.sleep(0.5)
        at.run()
    at.run()
    assert not at.exception
    keys = [c.proto.id for c in at.get("plotly_chart")]
    assert any("anomaly_price" in k for k in keys) and any("anomaly_score" in k for k in keys)
    price = figure_of(next(c for c in at.get("plotly_chart") if "anomaly_price" in c.proto.id))
    assert [t["name"] for t in price["data"]] == ["close", "anomalous day"]
    table = at.dataframe[-1].value
    assert list(table.columns) == ["log return", "volume change (log)", "score"]
    assert table["score"].is_monotonic_decreasing and len(table) > 0
    before = len(table)
    at.slider(key="ae_percentile").set_value(95.0).run()
    assert len(at.dataframe[-1].value) > before
