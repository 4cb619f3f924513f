"""Transforms, leakage-free scaling and splits, windows, differencing round trips."""

import numpy as np
import pandas as pd
import pytest

from core.config import TrainConfig
from core.errors import UserError
from core.forecasting.transforms import make_transform
from core.forecasting.windows import split_bounds
from core.models.windows import tf_windows
from core.pipeline.kinds import validate_config
from core.pipeline.prepare import prepare_forecast
from tests.helpers import tiny_config, tiny_dataset


def test_split_is_chronological_70_15_15():
    assert split_bounds(1000, 0.7, 0.15) == [(0, 700), (700, 850), (850, 1000)]


@pytest.mark.parametrize("transform", ["raw", "diff", "log_return"])
def test_scaler_is_fit_on_the_training_rows_only(transform):
    frame = tiny_dataset(["MSFT"]).frame
    config = tiny_config(
        transform=transform, scaling="standard", features=["close", "volume", "MSFT_close"]
    )
    prepared = prepare_forecast(frame, config)
    raw = make_transform(transform).fit_transform(frame[config.inputs]).to_numpy()
    start, end = prepared.bounds[0]
    np.testing.assert_allclose(prepared.scaler.offset, raw[start:end].mean(axis=0))
    np.testing.assert_allclose(prepared.scaler.scale, raw[start:end].std(axis=0))
    assert not np.allclose(prepared.scaler.offset, raw.mean(axis=0))  # the full data differs


def _train_inputs(prepared):
    xs, ys = zip(*[(x.numpy(), y.numpy()) for x, y in tf_windows(prepared, "train")], strict=True)
    return np.concatenate(xs), np.concatenate(ys)


@pytest.mark.parametrize("transform", ["raw", "diff"])
def test_changing_a_test_value_changes_no_training_input_or_scaler(transform):
    frame = tiny_dataset().frame
    config = tiny_config(transform=transform)
    before = prepare_forecast(frame, config)
    test_start = before.bounds[2][0]
    changed = frame.copy()
    changed.iloc[test_start + 5, changed.columns.get_loc("close")] *= 1.5
    after = prepare_forecast(changed, config)
    assert before.scaler.to_dict() == after.scaler.to_dict()
    x0, y0 = _train_inputs(before)
    x1, y1 = _train_inputs(after)
    np.testing.assert_array_equal(x0, x1)
    np.testing.assert_array_equal(y0, y1)
    assert not np.array_equal(before.values, after.values)  # the change did land in test rows


def test_targets_never_cross_their_split():
    prepared = prepare_forecast(tiny_dataset().frame, tiny_config(model="seq2seq", horizon=5))
    for split, (start, end) in zip(("train", "val", "test"), prepared.bounds, strict=True):
        rows = prepared.target_rows(split)
        assert rows[0] >= start and rows[-1] + 5 <= end


def test_windows_pair_inputs_with_the_following_targets():
    config = tiny_config(model="seq2seq", horizon=3, scaling="standard")
    prepared = prepare_forecast(tiny_dataset().frame, config)
    x, y = next(iter(tf_windows(prepared, "test", batch_size=4)))
    rows = prepared.target_rows("test")
    np.testing.assert_allclose(
        x.numpy()[1, :, 0], prepared.values[rows[1] - 10 : rows[1], 0], rtol=1e-6
    )
    np.testing.assert_allclose(y.numpy()[1], prepared.values[rows[1] : rows[1] + 3, 0], rtol=1e-6)
    assert x.shape == (4, 10, 1)


@pytest.mark.parametrize("transform", ["diff", "log_return"])
def test_differencing_round_trip_reconstructs_prices(transform):
    close = tiny_dataset().frame["close"]
    transformer = make_transform(transform)
    changes = transformer.fit_transform(close.to_frame())["close"].to_numpy()
    prices = close.to_numpy()
    # one step: p_t = p_{t-1} + change_t
    one_step = transformer.inverse_transform(changes[:, None], prices[:-1])[:, 0]
    np.testing.assert_allclose(one_step, prices[1:], rtol=1e-10)
    # multi-step: cumulative from the forecast origin
    h = 5
    paths = np.stack([changes[i : i + h] for i in range(len(changes) - h)])
    rebuilt = transformer.inverse_transform(paths, prices[: len(paths)])
    expected = np.stack([prices[i + 1 : i + 1 + h] for i in range(len(paths))])
    np.testing.assert_allclose(rebuilt, expected, rtol=1e-10)


@pytest.mark.parametrize(
    "overrides, message",
    [
        (dict(window=400), "too few for a window of 400"),
        (dict(model="lstm", horizon=5), "horizon to 1"),
        (dict(model="seq2seq", horizon=40), "between 1 and 30"),
        (dict(target=""), "Choose a target"),
        (dict(features=["close", "nope"]), "no column\\(s\\) nope"),
        (dict(train_frac=0.9, val_frac=0.1), "each get a share"),
        (dict(layers=4), "1 to 3"),
    ],
)
def test_impossible_settings_are_refused_before_training(overrides, message):
    with pytest.raises(UserError, match=message):
        validate_config(tiny_config(**overrides), tiny_dataset().frame)


def test_univariate_vs_multivariate_inputs():
    assert TrainConfig(features=["close"]).multivariate is False
    cfg = TrainConfig(target="close", features=["volume", "close", "MSFT_close"])
    assert cfg.inputs == ["close", "volume", "MSFT_close"] and cfg.multivariate


def test_volume_becomes_log_change_when_differenced():
    frame = pd.DataFrame(
        {"close": [1.0, 2.0, 4.0], "volume": [9.0, 99.0, 999.0]},
        index=pd.date_range("2024-01-01", periods=3),
    )
    out = make_transform("diff").fit_transform(frame[["close", "volume"]])
    np.testing.assert_allclose(out["close"], [1.0, 2.0])
    np.testing.assert_allclose(out["volume"], np.log([100 / 10, 1000 / 100]))
