"""The windows of core/forecasting/windows.py's ModelData as a tf.data pipeline, made by
`keras.utils.timeseries_dataset_from_array`: what TensorFlow runs train on (JAX runs read
ModelData.arrays, the same values; a test checks both)."""

from __future__ import annotations

import os

import numpy as np

from core.forecasting.windows import ModelData


def tf_windows(
    data: ModelData,
    split_or_rows: str | np.ndarray,
    shuffle: bool = False,
    batch_size: int | None = None,
):
    """A tf.data.Dataset of (inputs (W, F), targets) for a split or for anchor rows
    (contiguous). Targets: (H,) of the target column, or the input window if H = 0."""
    import keras

    rows = (
        data.target_rows(split_or_rows)
        if isinstance(split_or_rows, str)
        else np.asarray(split_or_rows)
    )
    w, h = data.window, data.horizon
    # Rows [first input, last target] only: nothing outside the samples' reach is read.
    ds = keras.utils.timeseries_dataset_from_array(
        data.values[rows[0] - w : rows[-1] + h].astype("float32"),
        None,
        sequence_length=w + h,
        batch_size=batch_size or data.batch_size,
        shuffle=shuffle,
        seed=data.seed,
    )
    if os.environ.get("LAGLENS_ONE_THREAD"):  # a sweep trial: tf.data on its thread too
        import tensorflow as tf

        options = tf.data.Options()
        options.threading.private_threadpool_size = 1
        options.threading.max_intra_op_parallelism = 1
        ds = ds.with_options(options)
    if h == 0:
        return ds.map(lambda seq: (seq, seq))
    if data.scaler.relative:  # everything relative to the window's last observed day
        return ds.map(
            lambda seq: (
                seq[:, :w, :] - seq[:, w - 1 : w, :],
                seq[:, w:, 0] - seq[:, w - 1 : w, 0],
            )
        )
    return ds.map(lambda seq: (seq[:, :w, :], seq[:, w:, 0]))
