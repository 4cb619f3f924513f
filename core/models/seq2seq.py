"""Encoder-decoder forecasters: an encoder LSTM's final states start a decoder LSTM that
runs over the horizon, with or without attention over the encoder's steps. Multi-step."""

from __future__ import annotations

from dataclasses import dataclass

from core.models.family import Architecture, ShapeRow, dropout_setting, units_setting
from core.spec import Settings, setting

HORIZON = 5  # the horizon a seq2seq model starts with on the Train page and in a sweep
ATTENTIONS = {"luong": "Luong (dot product)", "bahdanau": "Bahdanau (additive)"}


@dataclass
class Seq2SeqSettings(Settings):
    units: int = units_setting()
    dropout: float = dropout_setting()


@dataclass
class AttentionSettings(Seq2SeqSettings):
    attention: str = setting("luong", "Attention", choices=ATTENTIONS)


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
    """Encoder LSTM -> final states -> decoder LSTM over H steps."""
    import keras
    from keras import layers

    knobs = config.model_settings
    inputs = keras.Input((config.window, n_features), name="inputs")
    enc_out, h, c = _encoder(inputs, knobs.units, knobs.dropout, return_sequences=False)
    dec = _decoder(enc_out, [h, c], config.horizon, knobs.units, knobs.dropout)
    steps = layers.TimeDistributed(layers.Dense(1), name="step_head")(dec)
    outputs = layers.Reshape((config.horizon,), name="forecast")(steps)
    return keras.Model(inputs, outputs, name="seq2seq"), None


def build_seq2seq_attention(config, n_features: int):
    """With attention over the encoder outputs: "luong" (dot product,
    keras.layers.Attention) or "bahdanau" (additive, keras.layers.AdditiveAttention). The
    second model maps the same inputs to the weights (batch, horizon, window)."""
    import keras
    from keras import layers

    knobs = config.model_settings
    inputs = keras.Input((config.window, n_features), name="inputs")
    enc_seq, h, c = _encoder(inputs, knobs.units, knobs.dropout, return_sequences=True)
    dec = _decoder(h, [h, c], config.horizon, knobs.units, knobs.dropout)
    attn_layer = (
        layers.AdditiveAttention(name="attention")
        if knobs.attention == "bahdanau"
        else layers.Attention(name="attention")
    )
    context, scores = attn_layer([dec, enc_seq], return_attention_scores=True)
    merged = layers.Concatenate(name="decoder_and_context")([dec, context])
    steps = layers.TimeDistributed(layers.Dense(1), name="step_head")(merged)
    outputs = layers.Reshape((config.horizon,), name="forecast")(steps)
    model = keras.Model(inputs, outputs, name="seq2seq_attention")
    return model, keras.Model(inputs, scores, name="attention_weights")


def _shapes(attention: bool):
    def shapes(config, n_features: int) -> list[ShapeRow]:
        units, h, w = config.model_settings.units, config.horizon, config.window
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

    return shapes


def _attention_name(config) -> str:
    return f"seq2seq + {ATTENTIONS[config.model_settings.attention].split(' (')[0]} attention"


ARCHITECTURES = (
    Architecture(
        "seq2seq",
        "seq2seq",
        Seq2SeqSettings,
        build_seq2seq,
        _shapes(attention=False),
        multi_step=True,
        default_horizon=HORIZON,
    ),
    Architecture(
        "seq2seq_attention",
        "seq2seq + attention",
        AttentionSettings,
        build_seq2seq_attention,
        _shapes(attention=True),
        multi_step=True,
        default_horizon=HORIZON,
        describe=_attention_name,
    ),
)
