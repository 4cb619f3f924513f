"""Recurrent stacks: LSTM or GRU layers, each but the last passing its whole sequence on,
and a Dense head. One-step forecasters (horizon 1)."""

from __future__ import annotations

from dataclasses import dataclass

from core.models.family import Architecture, ShapeRow, dropout_setting, units_setting
from core.spec import Settings, setting


@dataclass
class RecurrentSettings(Settings):
    layers: int = setting(
        1, "Recurrent layers", "Stacked; each passes its whole sequence to the next.", lo=1, hi=3
    )
    units: int = units_setting()
    dropout: float = dropout_setting()


def _build(cell: str):
    def build(config, n_features: int):
        """Stacked recurrent layers (return_sequences between them) and a Dense head over the
        horizon; `cell` is a Keras recurrent layer's name (LSTM, GRU)."""
        import keras
        from keras import layers

        knobs = config.model_settings
        inputs = keras.Input((config.window, n_features), name="inputs")
        x = inputs
        for i in range(knobs.layers):
            x = getattr(layers, cell)(
                knobs.units,
                return_sequences=i < knobs.layers - 1,
                dropout=knobs.dropout,
                name=f"{cell.lower()}_{i + 1}",
            )(x)
        outputs = layers.Dense(config.horizon, name="forecast")(x)
        return keras.Model(inputs, outputs, name=cell.lower()), None

    return build


def _shapes(cell: str):
    def shapes(config, n_features: int) -> list[ShapeRow]:
        knobs = config.model_settings
        rows = [("inputs", (None, config.window, n_features), "a window of every input")]
        for i in range(knobs.layers):
            last = i == knobs.layers - 1
            rows.append(
                (
                    f"{cell.lower()}_{i + 1}",
                    (None, knobs.units) if last else (None, config.window, knobs.units),
                    "return_sequences=False: only the last state goes on"
                    if last
                    else "return_sequences=True: the whole sequence goes on to the next layer",
                )
            )
        rows.append(("forecast", (None, config.horizon), "Dense: the horizon's values"))
        return rows

    return shapes


ARCHITECTURES = tuple(
    Architecture(cell.lower(), cell, RecurrentSettings, _build(cell), _shapes(cell))
    for cell in ("LSTM", "GRU")
)
