"""The architecture table: every forecaster a user can pick, and its Keras builder.

One entry per architecture says its key (saved in run.json), its label, its horizon rule
and which settings of its own it reads; the Train page, the CLI's choices and help, the
sweep grid and the settings' validation all read this table. Adding an architecture is one
entry here and its builder.

Every forecaster maps inputs (batch, window, features) to targets (batch, horizon). Keras
is imported inside the builders only, so the Streamlit process can read the table without
it (the functional API, named layers, as in the Keras examples).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# The horizon a multi-step model starts with on the Train page and in a sweep.
SEQ2SEQ_HORIZON = 5


@dataclass(frozen=True)
class Architecture:
    key: str
    label: str
    one_step: bool  # predicts one day ahead (horizon 1) rather than a whole horizon
    settings: tuple[str, ...]  # the settings it reads beyond the ones every model shares
    build: Callable[[Any, int], tuple[Any, Any]]  # (settings, n_features) -> (model, attention)
    help: str = ""

    @property
    def default_horizon(self) -> int:
        return 1 if self.one_step else SEQ2SEQ_HORIZON


def _stacked(cell: str, config, n_features: int):
    """Stacked recurrent layers (return_sequences between them) and a Dense head over the
    horizon; `cell` is a Keras recurrent layer's name (LSTM, GRU)."""
    import keras
    from keras import layers

    inputs = keras.Input((config.window, n_features), name="inputs")
    x = inputs
    for i in range(config.layers):
        x = getattr(layers, cell)(
            config.units,
            return_sequences=i < config.layers - 1,
            dropout=config.dropout,
            name=f"{cell.lower()}_{i + 1}",
        )(x)
    outputs = layers.Dense(config.horizon, name="forecast")(x)
    return keras.Model(inputs, outputs, name=cell.lower()), None


def build_lstm(config, n_features: int):
    return _stacked("LSTM", config, n_features)


def build_gru(config, n_features: int):
    return _stacked("GRU", config, n_features)


def _encoder(inputs, units: int, dropout: float, return_sequences: bool):
    from keras import layers

    return layers.LSTM(
        units, return_sequences=return_sequences, return_state=True, dropout=dropout, name="encoder"
    )(inputs)


def _decoder(encoder_summary, states, horizon: int, units: int, dropout: float):
    """A decoder that runs over the horizon, initialized with the encoder's final states."""
    from keras import layers

    repeated = layers.RepeatVector(horizon, name="repeat_context")(encoder_summary)
    return layers.LSTM(units, return_sequences=True, dropout=dropout, name="decoder")(
        repeated, initial_state=states
    )


def build_seq2seq(config, n_features: int):
    """Encoder-decoder: encoder LSTM -> final states -> decoder LSTM over H steps."""
    import keras
    from keras import layers

    inputs = keras.Input((config.window, n_features), name="inputs")
    enc_out, h, c = _encoder(inputs, config.units, config.dropout, return_sequences=False)
    dec = _decoder(enc_out, [h, c], config.horizon, config.units, config.dropout)
    steps = layers.TimeDistributed(layers.Dense(1), name="step_head")(dec)
    outputs = layers.Reshape((config.horizon,), name="forecast")(steps)
    return keras.Model(inputs, outputs, name="seq2seq"), None


def build_seq2seq_attention(config, n_features: int):
    """Encoder-decoder with attention over the encoder outputs: "luong" (dot product,
    keras.layers.Attention) or "bahdanau" (additive, keras.layers.AdditiveAttention).
    The second model maps the same inputs to the weights (batch, horizon, window)."""
    import keras
    from keras import layers

    inputs = keras.Input((config.window, n_features), name="inputs")
    enc_seq, h, c = _encoder(inputs, config.units, config.dropout, return_sequences=True)
    dec = _decoder(h, [h, c], config.horizon, config.units, config.dropout)
    attn_layer = (
        layers.AdditiveAttention(name="attention")
        if config.attention == "bahdanau"
        else layers.Attention(name="attention")
    )
    context, scores = attn_layer([dec, enc_seq], return_attention_scores=True)
    merged = layers.Concatenate(name="decoder_and_context")([dec, context])
    steps = layers.TimeDistributed(layers.Dense(1), name="step_head")(merged)
    outputs = layers.Reshape((config.horizon,), name="forecast")(steps)
    model = keras.Model(inputs, outputs, name="seq2seq_attention")
    return model, keras.Model(inputs, scores, name="attention_weights")


def _stacked_shapes(cell: str, config, n_features: int) -> list[tuple[str, tuple, str]]:
    rows = [("inputs", (None, config.window, n_features), "a window of every input")]
    for i in range(config.layers):
        last = i == config.layers - 1
        rows.append(
            (
                f"{cell.lower()}_{i + 1}",
                (None, config.units) if last else (None, config.window, config.units),
                "return_sequences=False: only the last state goes on"
                if last
                else "return_sequences=True: the whole sequence goes on to the next layer",
            )
        )
    rows.append(("forecast", (None, config.horizon), "Dense: the horizon's values"))
    return rows


def _seq2seq_shapes(config, n_features: int, attention: bool) -> list[tuple[str, tuple, str]]:
    units, h, w = config.units, config.horizon, config.window
    encoder = (
        ((None, w, units), "return_sequences=True: every step's state, for attention")
        if attention
        else ((None, units), "return_sequences=False: only the last state (and h, c) go on")
    )
    rows = [
        ("inputs", (None, w, n_features), "a window of every input"),
        ("encoder", *encoder),
        ("repeat_context", (None, h, units), "the last state repeated once per horizon step"),
        ("decoder", (None, h, units), "return_sequences=True, started from the encoder's h, c"),
    ]
    if attention:
        rows += [
            ("attention", (None, h, units), f"each decoder step reads the {w} encoder steps"),
            ("decoder_and_context", (None, h, 2 * units), "decoder state beside its context"),
        ]
    rows += [
        ("step_head", (None, h, 1), "TimeDistributed Dense: one value per step"),
        ("forecast", (None, h), "Reshape: the horizon's values"),
    ]
    return rows


def layer_shapes(config, n_features: int) -> list[tuple[str, tuple, str]]:
    """The configured model as (layer, output shape with None for the batch, what it passes
    on), computed from the settings alone (no Keras: the Train page shows it before anything
    is built); a test checks it against the Keras model of every architecture."""
    if config.model in ("lstm", "gru"):
        return _stacked_shapes(config.model.upper(), config, n_features)
    return _seq2seq_shapes(config, n_features, attention=config.model == "seq2seq_attention")


ARCHITECTURES: dict[str, Architecture] = {
    a.key: a
    for a in (
        Architecture("lstm", "LSTM", True, ("layers",), build_lstm),
        Architecture("gru", "GRU", True, ("layers",), build_gru),
        Architecture("seq2seq", "seq2seq", False, (), build_seq2seq),
        Architecture(
            "seq2seq_attention",
            "seq2seq + attention",
            False,
            ("attention",),
            build_seq2seq_attention,
        ),
    )
}


def build_forecaster(config, n_features: int):
    """The model a TrainConfig names, and its attention sub-model if it has one."""
    return ARCHITECTURES[config.model].build(config, n_features)


def build_autoencoder(window: int, n_features: int, *, units: int = 32):
    """LSTM autoencoder: encoder LSTM -> RepeatVector -> decoder LSTM -> TimeDistributed Dense."""
    import keras
    from keras import layers

    inputs = keras.Input((window, n_features), name="inputs")
    code = layers.LSTM(units, name="encoder")(inputs)
    repeated = layers.RepeatVector(window, name="repeat_code")(code)
    dec = layers.LSTM(units, return_sequences=True, name="decoder")(repeated)
    outputs = layers.TimeDistributed(layers.Dense(n_features), name="reconstruction")(dec)
    return keras.Model(inputs, outputs, name="lstm_autoencoder")
