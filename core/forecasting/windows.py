"""One preparation and one windowing path for every model (forecasters and the autoencoder).

Rules (DESIGN.md): splits are chronological; the transform's and the scaler's fitted state
comes from the training rows only; inputs of a validation or test window may reach back
into earlier rows, targets never cross their split. `arrays` gives the windows as NumPy
arrays; the same windows as a tf.data pipeline (keras.utils.timeseries_dataset_from_array)
are core/models/windows.py's, so this module needs no Keras.

A sample is anchored at row t: its inputs are rows [t - W, t) and its targets the target
column of rows [t, t + H). With H = 0 (the autoencoder) the target is the input window.
With window-relative scaling every input and target is taken relative to row t - 1, the
window's last observed day.

Splits are fixed on the dataset's dates, before any transform, so every run of a dataset
is scored on the same test days whatever its transform (a differenced series only loses
its first day, from the training part).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.errors import UserError
from core.forecasting.transforms import Scaler, Transform, fit_scaler_on_train, make_transform

SPLITS = ("train", "val", "test")
# The autoencoder validates on the last 15 % of its training part.
AUTOENCODER_VAL_SHARE = 0.15


def split_bounds(rows: int, train_frac: float, val_frac: float) -> list[tuple[int, int]]:
    """Row ranges [start, end) of train, validation and test, in time order."""
    n_train = int(round(rows * train_frac))
    n_val = int(round(rows * val_frac))
    return [(0, n_train), (n_train, n_train + n_val), (n_train + n_val, rows)]


@dataclass
class ModelData:
    """Model-ready data: scaled values and how each row maps back to prices."""

    index: pd.DatetimeIndex  # dates of the rows of `values`
    values: np.ndarray  # (rows, features) scaled; the target is column 0
    bounds: list[tuple[int, int]]  # train, val, test
    window: int
    horizon: int  # 0: autoencoder windows
    transform: Transform
    scaler: Scaler
    levels: pd.Series  # the target column's original values on the full frame's dates
    batch_size: int = 32
    seed: int = 0
    warnings: list[str] = field(default_factory=list)  # shown before training, kept with the run

    # ------------------------------------------------------------ which samples

    def rows_between(self, start: int, end: int) -> np.ndarray:
        """Anchors t of the samples whose targets lie in rows [start, end)."""
        return np.arange(max(start, self.window), end - self.horizon + 1)

    def target_rows(self, split: str) -> np.ndarray:
        return self.rows_between(*self.bounds[SPLITS.index(split)])

    def all_rows(self) -> np.ndarray:
        return self.rows_between(0, len(self.values))

    def split_dates(self) -> dict[str, list[str]]:
        """First and last date of each split."""
        return {
            split: [str(self.index[s].date()), str(self.index[e - 1].date())]
            for split, (s, e) in zip(SPLITS, self.bounds, strict=True)
        }

    # ------------------------------------------------------------ windows

    def arrays(self, split_or_rows: str | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The samples of windows() as NumPy arrays (inputs (n, W, F), targets (n, H), or
        (n, W, F) if H = 0), float32, in anchor order: the same values without tf.data, so
        a run on JAX never imports TensorFlow and an epoch does not pay tf.data's hand-over
        to JAX (benchmarks/bench_speed.py). A test checks both give the same numbers."""
        rows = (
            self.target_rows(split_or_rows)
            if isinstance(split_or_rows, str)
            else np.asarray(split_or_rows)
        )
        w, h = self.window, self.horizon
        values = self.values[rows[0] - w : rows[-1] + h].astype("float32")
        seqs = np.lib.stride_tricks.sliding_window_view(values, w + h, axis=0)  # (n, F, W + H)
        seqs = seqs.transpose(0, 2, 1)  # (n, W + H, F)
        if h == 0:
            seqs = np.ascontiguousarray(seqs)
            return seqs, seqs
        if self.scaler.relative:  # everything relative to the window's last observed day
            last = seqs[:, w - 1 : w, :]
            return seqs[:, :w, :] - last, seqs[:, w:, 0] - last[:, :, 0]
        return np.ascontiguousarray(seqs[:, :w, :]), np.ascontiguousarray(seqs[:, w:, 0])

    def window_inputs(self, rows: np.ndarray) -> np.ndarray:
        """The input windows of these anchors as one array (samples, W, F)."""
        return self.arrays(rows)[0]

    def last_window(self) -> np.ndarray:
        """The final W rows: the input of the forecast beyond the data's last date."""
        last = self.values[-self.window :]
        if self.scaler.relative:
            last = last - last[-1]
        return last[None].astype("float32")

    # ------------------------------------------------------------ back to prices

    def previous_level(self, rows: np.ndarray) -> np.ndarray:
        """The actual target value on the day before each anchor's date (the naive forecast)."""
        positions = self.levels.index.get_indexer(self.index[rows]) - 1
        return self.levels.to_numpy()[positions]

    def actual_paths(self, rows: np.ndarray) -> np.ndarray:
        """The actual target values of each anchor's H target days (samples x H)."""
        positions = self.levels.index.get_indexer(self.index[rows])
        steps = np.arange(self.horizon)
        return self.levels.to_numpy()[positions[:, None] + steps[None, :]]

    def to_transformed(self, scaled: np.ndarray) -> np.ndarray:
        """Model outputs (samples x H, scaled) in the transform's units."""
        return self.scaler.inverse_transform(scaled, 0)

    def to_prices(self, scaled: np.ndarray, last_level: np.ndarray) -> np.ndarray:
        """Model outputs (samples x H, scaled) as price paths from each origin's last price."""
        if self.scaler.relative:
            return self.scaler.to_levels(self.to_transformed(scaled), last_level)
        return self.transform.inverse_transform(self.to_transformed(scaled), last_level)


def prepare(
    frame: pd.DataFrame,
    inputs: list[str],
    transform: str,
    scaling: str,
    bounds_for,
    window: int,
    horizon: int,
    batch_size: int = 32,
    seed: int = 0,
) -> ModelData:
    """Transform the input columns (target first), split, fit the scaler on the training
    rows only. `bounds_for(rows)` gives the split bounds for the frame's rows (its dates);
    a differenced transform's missing first row comes off the training part.

    Window-relative scaling applies to levels; a differenced transform is already level-free,
    so its values are standardized on the training part instead (the run's scaler says so).
    """
    if frame[inputs].isna().any().any():
        raise UserError("The chosen columns contain missing values (NaN); reload the data.")
    target = frame[inputs[0]].astype(float)
    if len(target) and target.nunique() == 1:
        raise UserError(
            f"The {inputs[0]} column is {target.iloc[0]:g} on every one of its {len(target)} "
            "days: a series that never moves has nothing to learn or forecast."
        )
    transformer = make_transform(transform)
    transformed = transformer.fit_transform(frame[inputs])
    if not np.isfinite(transformed.to_numpy()).all():
        raise UserError(
            "The transformed data has infinite or missing values (zero prices or volume?)."
        )
    dropped = len(frame) - len(transformed)
    bounds = [(max(s - dropped, 0), e - dropped) for s, e in bounds_for(len(frame))]
    need = window + horizon
    for split, (start, end) in zip(SPLITS, bounds, strict=True):
        if end - max(start, window) - horizon + 1 < 1:
            raise UserError(
                f"The {split} split has {end - start} day(s), too few for a window of "
                f"{window} plus a horizon of {horizon} ({need} days). Use a longer date "
                "range, a shorter window, or a larger share for that split."
            )
    raw = transformed.to_numpy(dtype=float)
    if scaling == "window" and transformer.differenced:
        scaling = "standard"
    kinds = list(transformer.kinds_.values())
    scaler = fit_scaler_on_train(raw[bounds[0][0] : bounds[0][1]], scaling, kinds)
    values = scaler.transform(raw)
    if not np.isfinite(values).all():
        raise UserError("The scaled data has infinite or missing values (zero prices?).")
    return ModelData(
        index=transformed.index,
        values=values,
        bounds=bounds,
        window=window,
        horizon=horizon,
        transform=transformer,
        scaler=scaler,
        levels=frame[inputs[0]].astype(float),
        batch_size=batch_size,
        seed=seed,
    )


# A fitted scaler is "asked to extrapolate" when later targets leave its training range by
# more than this share of that range.
EXTRAPOLATION_MARGIN = 0.10


def extrapolation(data: ModelData) -> dict | None:
    """When a scaler fit on the training part must map validation or test price levels far
    outside the range it saw (a bounded network then saturates): the later levels' range,
    the training range and the share of later days outside it; else None."""
    if data.scaler.relative or data.transform.differenced:
        return None
    target = data.values[:, 0] * data.scaler.scale[0] + data.scaler.offset[0]
    (t0, t1), (v0, _), (_, e1) = data.bounds
    lo, hi = target[t0:t1].min(), target[t0:t1].max()
    later = target[v0:e1]
    margin = EXTRAPOLATION_MARGIN * (hi - lo)
    outside = (later > hi + margin) | (later < lo - margin)
    if not outside.any():
        return None
    return {
        "later": (float(later.min()), float(later.max())),
        "train": (float(lo), float(hi)),
        "share_outside": float(outside.mean()),
    }


def autoencoder_bounds(rows: int, train_frac: float) -> list[tuple[int, int]]:
    """Fit on the training part less its last 15 %, validate on that 15 %, score the rest."""
    n_train = int(round(rows * train_frac))
    n_fit = int(round(n_train * (1 - AUTOENCODER_VAL_SHARE)))
    return [(0, n_fit), (n_fit, n_train), (n_train, rows)]
