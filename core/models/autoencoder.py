"""The LSTM autoencoder of anomaly runs: encoder LSTM -> RepeatVector -> decoder LSTM ->
TimeDistributed Dense, reconstructing its input window."""

from __future__ import annotations

from core.models.family import units_setting


def units(default: int = 32):
    """The autoencoder's one knob, as a field of AnomalyConfig."""
    return units_setting(default)


def build_autoencoder(window: int, n_features: int, *, units: int = 32):
    import keras
    from keras import layers

    inputs = keras.Input((window, n_features), name="inputs")
    code = layers.LSTM(units, name="encoder")(inputs)
    repeated = layers.RepeatVector(window, name="repeat_code")(code)
    dec = layers.LSTM(units, return_sequences=True, name="decoder")(repeated)
    outputs = layers.TimeDistributed(layers.Dense(n_features), name="reconstruction")(dec)
    return keras.Model(inputs, outputs, name="lstm_autoencoder")
