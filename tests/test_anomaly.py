"""The LSTM autoencoder finds injected shocks; the page and CLI show them."""

import time

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core.errors import UserError
from core.forecasting.detectors import (
    compare_detectors,
    day_scores,
    recon_ratio,
    threshold_for,
    window_mean_errors,
    zscore_scores,
)
from core.kinds.anomaly import AnomalyConfig
from core.pipeline.anomaly import top_anomalies, train_anomaly_detector
from core.pipeline.kinds import validate_config
from core.present.sentences import detector_sentence
from core.store.runs import RunStore
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
    run = RunStore().get(result["run_id"])
    assert 0 < run.metrics["recon_ratio_train"] < 2 and 0 < run.metrics["recon_ratio_test"] < 2
    assert len(run.window_errors.window_mean_error) == len(run.window_errors.window_error)


def test_the_zscore_detector_ranks_the_planted_shocks_first_and_uses_only_the_past():
    frame, shock_days = shocked_series()
    values = pd.DataFrame(
        {"log_return": np.log(frame["close"]).diff(), "volume_change": 0.0}, index=frame.index
    ).iloc[1:]
    values["volume_change"] = np.random.default_rng(1).normal(0, 0.2, len(values))
    z = zscore_scores(values, 30)
    assert z.iloc[:30].isna().all() and z.iloc[30:].notna().all()
    late_shocks = shock_days[shock_days > values.index[30]]
    top = z.sort_values(ascending=False).head(len(late_shocks)).index
    assert set(top) == set(late_shocks)  # every 8-sigma day, and nothing else, on top
    changed = values.copy()
    changed.iloc[500:, 0] *= 3  # the future changes ...
    assert zscore_scores(changed, 30).iloc[:500].equals(z.iloc[:500])  # ... the past does not


def test_the_reconstruction_ratio_is_one_for_the_window_mean_and_zero_for_a_copy():
    windows = np.random.default_rng(0).normal(size=(50, 10, 2))
    trivial = window_mean_errors(windows)
    as_mean = (windows - windows.mean(axis=1, keepdims=True)) ** 2
    assert recon_ratio(as_mean, trivial) == pytest.approx(1.0)
    assert recon_ratio(np.zeros_like(windows), trivial) == 0.0
    half = (0.5 * (windows - windows.mean(axis=1, keepdims=True))) ** 2
    assert recon_ratio(half, trivial) == pytest.approx(0.25)


def test_the_comparison_and_its_sentence_follow_the_ground_truth():
    frame, shock_days = shocked_series()
    scores = pd.DataFrame({"log_return": np.log(frame["close"]).diff()}).iloc[1:]
    z = zscore_scores(scores, 30)
    # an autoencoder that scores exactly like the z-score: same days, adds nothing
    same = scores.assign(score=z.fillna(0.0), split="train")
    threshold = float(z.sort_values(ascending=False).iloc[12])
    comparison = compare_detectors(same, threshold, 30)
    assert comparison["n"] == 12 and len(comparison["common"]) == 12
    assert comparison["only_ae"].empty and comparison["chance"] < 0.1
    assert detector_sentence(comparison, 0.98).startswith("It adds nothing on this series")
    # one that learned structure and flags 12 quiet days the z-score ranks low
    quiet = z.dropna().sort_values().index[:12]
    other = scores.assign(score=0.0, split="train")
    other.loc[quiet, "score"] = 1.0
    comparison = compare_detectors(other, 0.5, 30)
    assert set(comparison["only_ae"]) == set(quiet) and comparison["common"].empty
    sentence = detector_sentence(comparison, 0.5)
    assert (
        "learned some structure" in sentence and "flags 12 day(s) the z-score does not" in sentence
    )
    assert "0 of its 12 flagged days" in sentence


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
    # what the page shows beside the days, in the JSON too
    assert 0 < result["recon_ratio_test"] < 10
    overlap = result["zscore_overlap"]
    assert 0 <= overlap["also_zscore_top"] <= overlap["flagged"] and overlap["chance"] >= 0
    assert overlap["sentence"]
    bad = run_cli("anomalies", "--sample", "NOPE", timeout=60)
    assert (
        bad.returncode == 2 and "Traceback" not in bad.stderr and "no bundled sample" in bad.stderr
    )


def test_page_trains_a_tiny_autoencoder_and_shows_chart_and_table(workspace):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state["dataset"] = tiny_dataset(start="2008-01-01")
    at.run()
    at.switch_page("views/anomalies.py").run()
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
    names = ["close", "anomalous day (both detectors)", "only the autoencoder", "only the z-score"]
    assert [t["name"] for t in price["data"]] == names
    table = at.dataframe[-1].value
    assert list(table.columns)[:4] == [
        "log return",
        "volume change (log)",
        "score",
        "z-score (mean z²)",
    ]
    assert list(table.columns)[4].startswith("in the z-score's top ")
    scores = [float(v.replace(",", "")) for v in table["score"]]
    assert scores == sorted(scores, reverse=True) and len(scores) > 0
    assert set(table.iloc[:, 4]) <= {"yes", "no"} and "None" not in table.to_numpy()
    metrics = {m.label: m.value for m in at.metric}
    run = RunStore().runs(kind="anomaly")[0]
    assert metrics["Reconstruction ratio (test)"] == f"{run.metrics['recon_ratio_test']:.2f}"
    common, n = map(int, metrics["Also in the z-score's top days"].split(" of "))
    assert common <= n <= len(table)  # flagged days after the z-score's first window
    assert any("window's mean" in i.value for i in at.info)  # what the autoencoder adds
    before = len(table)
    at.slider(key="ae_percentile").set_value(95.0).run()
    assert len(at.dataframe[-1].value) > before


def test_the_days_the_z_score_cannot_score_are_explained():
    """Issue 41, item 9: "Anomalous days 25" stood next to "15 of its 24 flagged days" with
    no word on the difference: the rolling z-score cannot score the first window's days."""
    from core.forecasting.detectors import compare_detectors
    from core.present.sentences import compared_days_note

    days = pd.bdate_range("2020-01-01", periods=200)
    returns = np.random.default_rng(0).normal(0, 0.01, 200)
    scores = pd.DataFrame({"score": np.r_[[9.0], np.ones(199)], "log_return": returns}, days)
    scores.iloc[100, 0] = 8.0  # a second flagged day, after the window
    compared = compare_detectors(scores, threshold=5.0, window=30)
    note = compared_days_note(2, compared["n"], 30)
    assert compared["n"] == 1
    assert note.startswith("1 flagged day of the 2 fall in the first 30 days")
    assert "the comparison counts 1" in note
    assert compared_days_note(2, 2, 30) == ""
