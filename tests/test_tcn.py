"""The TCN, the proof that a model family is one module and one table line: trainable from
the page and the CLI, uni- and multivariate, its receptive field checked against the window
and true of the built network, its shapes taught like the others'."""

import json
import time

import numpy as np
import pandas as pd
import pytest

from core.config import TrainConfig
from core.errors import UserError
from core.models import build_forecaster
from core.models.tcn import receptive_field
from core.pipeline.forecast import repredict, train_forecaster
from core.store.runs import RunStore
from tests.helpers import TINY_SAMPLE_FLAGS, last_json, run_cli, tiny_dataset
from tests.test_pages_train import open_train_page, set_number


def test_the_receptive_field_is_the_networks(workspace):
    """Blocks 2, kernel 2: the last output sees 1 + 2 x 1 x (1 + 2) = 7 days; a change 7 days
    back moves the forecast, one 8 days back does not."""
    config = TrainConfig(model="tcn", window=12, blocks=2, kernel_size=2, filters=4, horizon=2)
    assert receptive_field(2, 2) == 7
    model, _ = build_forecaster(config, 2)
    # positive weights and inputs: no ReLU is dead, so every day within reach moves the output
    model.set_weights([np.full(w.shape, 0.1, "float32") for w in model.get_weights()])
    x = np.random.default_rng(0).uniform(0.5, 1.0, size=(1, 12, 2)).astype("float32")
    base = model.predict(x, verbose=0)
    for back, moves in ((7, True), (8, False), (12, False)):
        changed = x.copy()
        changed[0, 12 - back, :] += 5.0
        out = model.predict(changed, verbose=0)
        assert (not np.allclose(out, base, atol=1e-6)) == moves, back


def test_a_window_wider_than_the_receptive_field_is_refused():
    with pytest.raises(UserError, match="see 7 days back, less than the 12-day window"):
        TrainConfig(model="tcn", window=12, blocks=2, kernel_size=2).validate(["close"])
    TrainConfig(model="tcn", window=12).validate(["close"])  # blocks 0: enough for the window
    with pytest.raises(UserError, match="The TCN has no setting layers"):
        TrainConfig(model="tcn", layers=2)


def test_a_tcn_trains_saves_reloads_and_repredicts_univariate(workspace):
    data = tiny_dataset()
    store = RunStore()
    config = TrainConfig(
        model="tcn", window=10, epochs=2, filters=4, horizon=3, seed=1, early_stopping=False
    )
    result = train_forecaster(data.frame, data.describe(), config, store)
    run = store.get(result["run_id"])
    assert run.config == config and run.record.verdict
    names = [layer.name for layer in run.load_model().layers]
    assert {"block_1", "block_2", "last_day", "forecast"} <= set(names)
    saved = json.loads((run.path / "run.json").read_text())["config"]
    assert saved["model_settings"] == {"filters": 4, "kernel_size": 3, "blocks": 0, "dropout": 0}
    assert "units" not in saved and "layers" not in saved  # only its own knobs
    pd.testing.assert_frame_equal(repredict(run.id, store), run.predictions)
    assert run.paths.forecast_paths.shape[-1] == 3  # a horizon of 3 from every origin


def test_cli_trains_a_multivariate_tcn_from_a_downloaded_csv(tmp_path):
    frame = tiny_dataset().frame
    path = tmp_path / "aapl_2011_2012.csv"
    frame.rename(columns=str.title).rename_axis("Date").to_csv(path)
    out = run_cli(
        "train",
        "--csv",
        path,
        "--with",
        "MSFT",
        "--model",
        "tcn",
        "--epochs",
        2,
        "--window",
        10,
        "--filters",
        4,
        workspace=tmp_path / "ws",
    )
    result = last_json(out)
    run = json.loads((tmp_path / "ws" / "runs" / result["run_id"] / "run.json").read_text())
    assert run["config"]["model"] == "tcn" and run["config"]["features"][-1] == "MSFT_close"
    assert run["config"]["model_settings"]["filters"] == 4 and result["verdict"]
    refused = run_cli("train", *TINY_SAMPLE_FLAGS, "--model", "tcn", "--layers", "2")
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "The TCN has no setting layers" in refused.stderr


def test_the_train_page_trains_a_tcn(workspace):
    at = open_train_page()
    next(s for s in at.selectbox if s.label == "Architecture").set_value("tcn").run()
    labels = {w.label for w in at.number_input}
    assert {"Filters per convolution", "Kernel size", "Residual blocks"} <= labels
    assert "Units per layer" not in labels and "Recurrent layers" not in labels
    shapes = next(df.value for df in at.dataframe if "output shape" in df.value.columns)
    assert list(shapes["layer"])[:2] == ["inputs", "block_1"]
    set_number(at, "Window (lookback days)", 10)
    set_number(at, "Filters per convolution", 4)
    set_number(at, "Epochs", 1)
    at.run()
    next(b for b in at.button if b.label == "Start training").click().run()
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and not any("Saved run" in s.value for s in at.success):
        at.run()
        time.sleep(0.3)
    assert not at.exception
    (run,) = RunStore().runs()
    assert run.config.model == "tcn" and run.config.model_settings.filters == 4
    assert "TCN" in run.name
