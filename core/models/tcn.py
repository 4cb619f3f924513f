"""A Temporal Convolutional Network (Bai, Kolter and Koltun 2018; as Darts' TCNModel):
residual blocks of two dilated causal Conv1D layers, block b dilated by 2**b, so the last
day's output sees 1 + 2 (k - 1) (2**B - 1) days back (its receptive field); a Dense head
reads that day's features and forecasts the horizon at once."""

from __future__ import annotations

import math
from dataclasses import dataclass

from core.errors import UserError
from core.models.family import Architecture, ShapeRow, dropout_setting
from core.spec import Settings, setting


@dataclass
class TCNSettings(Settings):
    filters: int = setting(32, "Filters per convolution", lo=1, hi=512, step=4)
    kernel_size: int = setting(
        3, "Kernel size", "Days each causal convolution reads, spaced by its dilation.", lo=2, hi=16
    )
    blocks: int = setting(
        0,
        "Residual blocks",
        "Block b is dilated by 2^b. 0: as few as make the receptive field cover the window.",
        lo=0,
        hi=12,
    )
    dropout: float = dropout_setting()


def receptive_field(kernel_size: int, blocks: int) -> int:
    """Days the last output sees: two convolutions a block, dilations 1, 2, 4, ..."""
    return 1 + 2 * (kernel_size - 1) * (2**blocks - 1)


def blocks_of(config) -> int:
    """The configured blocks, or the fewest whose receptive field covers the window."""
    knobs = config.model_settings
    if knobs.blocks:
        return knobs.blocks
    needed = (config.window - 1) / (2 * (knobs.kernel_size - 1)) + 1
    return max(1, math.ceil(math.log2(needed)))


def check(config) -> None:
    blocks = blocks_of(config)
    field = receptive_field(config.model_settings.kernel_size, blocks)
    if field < config.window:
        raise UserError(
            f"The TCN's {blocks} blocks see {field} days back, less than the {config.window}-day "
            "window, so the window's first days would never be read: add blocks, widen the "
            "kernel, shorten the window, or set blocks to 0 (enough for the window)."
        )


def build(config, n_features: int):
    import keras
    from keras import layers

    knobs = config.model_settings
    inputs = keras.Input((config.window, n_features), name="inputs")
    x = inputs
    for b in range(blocks_of(config)):
        y = x
        for j in (1, 2):
            y = layers.Conv1D(
                knobs.filters,
                knobs.kernel_size,
                dilation_rate=2**b,
                padding="causal",
                activation="relu",
                name=f"block_{b + 1}_conv_{j}",
            )(y)
            if knobs.dropout:
                y = layers.SpatialDropout1D(knobs.dropout, name=f"block_{b + 1}_dropout_{j}")(y)
        if x.shape[-1] != knobs.filters:  # a 1x1 convolution matches the residual's width
            x = layers.Conv1D(knobs.filters, 1, name=f"block_{b + 1}_match")(x)
        x = layers.Add(name=f"block_{b + 1}")([x, y])
    last = layers.Cropping1D((config.window - 1, 0), name="last_day")(x)
    flat = layers.Flatten(name="last_day_features")(last)
    outputs = layers.Dense(config.horizon, name="forecast")(flat)
    return keras.Model(inputs, outputs, name="tcn"), None


def shapes(config, n_features: int) -> list[ShapeRow]:
    knobs, w = config.model_settings, config.window
    rows = [("inputs", (None, w, n_features), "a window of every input")]
    blocks = blocks_of(config)
    for b in range(blocks):
        seen = receptive_field(knobs.kernel_size, b + 1)
        rows.append(
            (
                f"block_{b + 1}",
                (None, w, knobs.filters),
                f"two causal convolutions dilated by {2**b}, plus the block's input: "
                f"each day now sees {seen} days back",
            )
        )
    field = receptive_field(knobs.kernel_size, blocks)
    rows += [
        ("last_day", (None, 1, knobs.filters), f"the last day only: it saw {field} days"),
        ("last_day_features", (None, knobs.filters), "its features"),
        ("forecast", (None, config.horizon), "Dense: the horizon's values"),
    ]
    return rows


TCN = Architecture(
    "tcn", "TCN", TCNSettings, build, shapes, multi_step=True, default_horizon=1, check=check
)
