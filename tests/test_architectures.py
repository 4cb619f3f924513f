"""The architecture table: every reader takes its choices from it, and an architecture
added as one entry (GRU) trains, saves, reloads and is scored like the LSTM."""

import json

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core.config import MODELS, TrainConfig
from core.errors import UserError
from core.experiments.trials import SweepSpec, trial_config
from core.models import ARCHITECTURES, model_specs
from core.pipeline.forecast import repredict, train_forecaster
from core.present.labels import runs_table
from core.store.runs import RunStore
from tests.conftest import ROOT
from tests.helpers import (
    TINY_FLAGS,
    TINY_SAMPLE_FLAGS,
    last_json,
    run_cli,
    tiny_config,
    tiny_dataset,
)


def test_every_reader_takes_its_choices_from_the_table():
    assert MODELS == {key: a.label for key, a in ARCHITECTURES.items()}
    assert TrainConfig.spec("model").choices == MODELS
    assert "gru" in MODELS
    # the horizon rule: one-step architectures refuse a horizon, naming themselves
    for key, arch in ARCHITECTURES.items():
        if not arch.multi_step:
            with pytest.raises(UserError, match=f"The {arch.label} predicts one day ahead"):
                TrainConfig(model=key, horizon=3).validate(["close"])
        else:
            TrainConfig(model=key, horizon=3).validate(["close"])
    # a sweep's multi-step trial starts at the table's horizon, a one-step one at 1
    spec = SweepSpec(datasets=["sample:AAPL"], models=list(MODELS))
    for key, arch in ARCHITECTURES.items():
        trial = {"dataset": "sample:AAPL", "inputs": "uni", "transform": "raw", "model": key}
        assert trial_config(spec, {**trial, "seed": 0}).horizon == arch.default_horizon


def test_cli_help_and_an_unknown_model_name_the_table():
    out = run_cli("sweep", "--help")
    assert ", ".join(MODELS) in " ".join(out.stdout.split())
    out = run_cli("train", *TINY_SAMPLE_FLAGS, "--model", "transformer")
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "gru" in out.stderr


def test_train_page_shows_each_architectures_own_settings(workspace):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state["dataset"] = tiny_dataset()
    at.run()
    at.switch_page("views/train.py").run()
    select = next(s for s in at.selectbox if s.label == "Architecture")
    assert set(select.options) == set(MODELS.values())
    for key, arch in ARCHITECTURES.items():
        select = next(s for s in at.selectbox if s.label == "Architecture")
        select.set_value(key).run()
        shown = {w.label for w in [*at.number_input, *at.selectbox]}
        for spec in model_specs().values():
            own = spec in arch.settings.specs()
            assert (spec.label in shown) == own, (key, spec.name)
        horizon = next(w for w in at.number_input if w.label == TrainConfig.spec("horizon").label)
        assert horizon.value == arch.default_horizon and horizon.disabled != arch.multi_step


def test_a_gru_trains_saves_reloads_and_is_scored_like_the_lstm(workspace):
    data = tiny_dataset()
    store = RunStore()
    results = {
        model: train_forecaster(
            data.frame, data.describe(), tiny_config(model=model, layers=2), store
        )
        for model in ("lstm", "gru")
    }
    lstm, gru = (store.get(results[m]["run_id"]) for m in ("lstm", "gru"))
    assert [layer.name for layer in gru.load_model().layers if "gru" in layer.name] == [
        "gru_1",
        "gru_2",
    ]
    pd.testing.assert_frame_equal(repredict(gru.id, store), gru.predictions)
    assert gru.record.verdict and set(gru.record.baselines) == set(lstm.record.baselines)
    assert set(gru.metrics) == set(lstm.metrics)
    pd.testing.assert_index_equal(gru.predictions.index, lstm.predictions.index)  # same days
    assert gru.record.baselines["arima"] == lstm.record.baselines["arima"]
    assert not np.allclose(gru.predictions["predicted"], lstm.predictions["predicted"])
    table = runs_table(store.runs("forecast")).set_index("id")
    assert table.loc[gru.id, "model"] == "GRU" and table.loc[lstm.id, "model"] == "LSTM"


def test_cli_trains_a_gru(tmp_path):
    out = run_cli("train", *TINY_SAMPLE_FLAGS, *TINY_FLAGS, "--model", "gru", workspace=tmp_path)
    result = last_json(out)
    run = json.loads((tmp_path / "runs" / result["run_id"] / "run.json").read_text())
    assert run["config"]["model"] == "gru" and result["verdict"]


@pytest.mark.parametrize("model", list(ARCHITECTURES))
def test_the_shapes_the_train_page_shows_are_the_keras_models(model):
    """The Train page draws the layers and shapes from the settings alone (no Keras in the
    Streamlit process); every row equals the built Keras layer's output shape."""
    from core.models import build_forecaster, layer_shapes

    arch = ARCHITECTURES[model]
    variants = (
        [{"layers": n} for n in (1, 2)]
        if "layers" in model_specs() and any(s.name == "layers" for s in arch.settings.specs())
        else [{}]
    )
    if model == "tcn":
        variants = [{"blocks": 0}, {"blocks": 3, "kernel_size": 2, "filters": 3}]
    for knobs in variants:
        config = TrainConfig(model=model, horizon=4 if arch.multi_step else 1, window=12, **knobs)
        keras_model, _ = build_forecaster(config, 3)
        rows = layer_shapes(config, 3)
        assert rows[0][1] == (None, 12, 3) and rows[-1][1] == (None, config.horizon)
        for name, shape, _ in rows:
            out = keras_model.get_layer(name).output
            out = out[0] if isinstance(out, (list, tuple)) else out
            assert tuple(out.shape) == shape, name
    notes = " ".join(note for _, _, note in layer_shapes(TrainConfig(model=model), 1))
    assert ("return_sequences=" in notes) != (model == "tcn")
