"""Keras builders, one function per architecture (functional API, named layers).

Every forecaster maps inputs (batch, window, features) to targets (batch, horizon).
"""

from __future__ import annotations

import keras
from keras import layers


def build_lstm(
    window: int,
    n_features: int,
    horizon: int = 1,
    *,
    n_layers: int = 1,
    units: int = 64,
    dropout: float = 0.0,
) -> keras.Model:
    """Stacked LSTM (return_sequences between layers) and a Dense head over the horizon."""
    inputs = keras.Input((window, n_features), name="inputs")
    x = inputs
    for i in range(n_layers):
        x = layers.LSTM(
            units, return_sequences=i < n_layers - 1, dropout=dropout, name=f"lstm_{i + 1}"
        )(x)
    outputs = layers.Dense(horizon, name="forecast")(x)
    return keras.Model(inputs, outputs, name="lstm")


def _encoder(inputs, units: int, dropout: float, return_sequences: bool):
    return layers.LSTM(
        units, return_sequences=return_sequences, return_state=True, dropout=dropout, name="encoder"
    )(inputs)


def _decoder(encoder_summary, states, horizon: int, units: int, dropout: float):
    """A decoder that runs over the horizon, initialized with the encoder's final states."""
    repeated = layers.RepeatVector(horizon, name="repeat_context")(encoder_summary)
    return layers.LSTM(units, return_sequences=True, dropout=dropout, name="decoder")(
        repeated, initial_state=states
    )


def build_seq2seq(
    window: int, n_features: int, horizon: int, *, units: int = 64, dropout: float = 0.0
) -> keras.Model:
    """Encoder-decoder: encoder LSTM -> final states -> decoder LSTM over H steps."""
    inputs = keras.Input((window, n_features), name="inputs")
    enc_out, h, c = _encoder(inputs, units, dropout, return_sequences=False)
    dec = _decoder(enc_out, [h, c], horizon, units, dropout)
    steps = layers.TimeDistributed(layers.Dense(1), name="step_head")(dec)
    outputs = layers.Reshape((horizon,), name="forecast")(steps)
    return keras.Model(inputs, outputs, name="seq2seq")


def build_seq2seq_attention(
    window: int,
    n_features: int,
    horizon: int,
    *,
    units: int = 64,
    dropout: float = 0.0,
    attention: str = "luong",
) -> tuple[keras.Model, keras.Model]:
    """Encoder-decoder with attention over the encoder outputs.

    `attention`: "luong" (dot product, keras.layers.Attention) or "bahdanau" (additive,
    keras.layers.AdditiveAttention). Returns (model, attention_model); the second maps the
    same inputs to the weights (batch, horizon, window), for display.
    """
    inputs = keras.Input((window, n_features), name="inputs")
    enc_seq, h, c = _encoder(inputs, units, dropout, return_sequences=True)
    dec = _decoder(h, [h, c], horizon, units, dropout)
    attn_layer = (
        layers.AdditiveAttention(name="attention")
        if attention == "bahdanau"
        else layers.Attention(name="attention")
    )
    context, scores = attn_layer([dec, enc_seq], return_attention_scores=True)
    merged = layers.Concatenate(name="decoder_and_context")([dec, context])
    steps = layers.TimeDistributed(layers.Dense(1), name="step_head")(merged)
    outputs = layers.Reshape((horizon,), name="forecast")(steps)
    model = keras.Model(inputs, outputs, name="seq2seq_attention")
    return model, keras.Model(inputs, scores, name="attention_weights")


def build_autoencoder(window: int, n_features: int, *, units: int = 32) -> keras.Model:
    """LSTM autoencoder: encoder LSTM -> RepeatVector -> decoder LSTM -> TimeDistributed Dense."""
    inputs = keras.Input((window, n_features), name="inputs")
    code = layers.LSTM(units, name="encoder")(inputs)
    repeated = layers.RepeatVector(window, name="repeat_code")(code)
    dec = layers.LSTM(units, return_sequences=True, name="decoder")(repeated)
    outputs = layers.TimeDistributed(layers.Dense(n_features), name="reconstruction")(dec)
    return keras.Model(inputs, outputs, name="lstm_autoencoder")


def build_forecaster(config, n_features: int) -> tuple[keras.Model, keras.Model | None]:
    """The model a TrainConfig names, and its attention sub-model if it has one."""
    if config.model == "lstm":
        model = build_lstm(
            config.window,
            n_features,
            config.horizon,
            n_layers=config.layers,
            units=config.units,
            dropout=config.dropout,
        )
        return model, None
    if config.model == "seq2seq":
        return build_seq2seq(
            config.window, n_features, config.horizon, units=config.units, dropout=config.dropout
        ), None
    return build_seq2seq_attention(
        config.window,
        n_features,
        config.horizon,
        units=config.units,
        dropout=config.dropout,
        attention=config.attention,
    )
