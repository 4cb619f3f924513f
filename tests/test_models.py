"""Every builder's output shape, univariate and multivariate."""

import numpy as np
import pytest

from core.config import TrainConfig
from core.models import build_forecaster
from core.models.autoencoder import build_autoencoder


@pytest.mark.parametrize("n_features", [1, 4])
@pytest.mark.parametrize(
    "model, horizon, extra",
    [
        ("lstm", 1, {"layers": 1}),
        ("lstm", 1, {"layers": 3, "dropout": 0.1}),
        ("gru", 1, {"layers": 2}),
        ("seq2seq", 5, {}),
        ("seq2seq_attention", 7, {"attention": "luong"}),
        ("seq2seq_attention", 3, {"attention": "bahdanau"}),
    ],
)
def test_forecaster_output_shapes(model, horizon, extra, n_features):
    config = TrainConfig(model=model, horizon=horizon, window=12, units=8, **extra)
    net, attention = build_forecaster(config, n_features)
    x = np.random.default_rng(0).normal(size=(3, 12, n_features)).astype("float32")
    assert net.predict(x, verbose=0).shape == (3, horizon)
    if model == "seq2seq_attention":
        weights = attention.predict(x, verbose=0)
        assert weights.shape == (3, horizon, 12)
        np.testing.assert_allclose(weights.sum(axis=-1), 1.0, rtol=1e-5)  # a distribution per step
    else:
        assert attention is None
    if extra.get("layers", 1) == 3:
        assert [layer.name for layer in net.layers if "lstm" in layer.name] == [
            "lstm_1",
            "lstm_2",
            "lstm_3",
        ]


def test_autoencoder_reconstructs_its_input_shape():
    net = build_autoencoder(30, 2, units=8)
    assert net.predict(np.zeros((2, 30, 2), "float32"), verbose=0).shape == (2, 30, 2)
