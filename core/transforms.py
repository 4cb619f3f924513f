"""Invertible transforms of a price frame, and scalers fit on the training rows only.

A transform turns every input column into what the model sees (price columns: the level,
its first difference or its log return; volume: its level, or its log change when the
prices are differenced) and turns predicted target values back into prices from the last
actual price before them (DESIGN.md: one-step p_t = p_{t-1} + d_t; multi-step: cumulative
from the forecast origin). Modelled on Darts' `Diff`: fit learns what inversion needs.

A scaler is fit on the training rows only and inverts one column (the target).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd

from core.data.frames import column_kind, log_returns, log_volume_change
from core.errors import UserError


class Transform:
    """What the model sees instead of the raw columns, and the way back to prices."""

    key: ClassVar[str]
    label: ClassVar[str]
    differenced: ClassVar[bool]  # drops the first row, predicts changes

    def fit(self, frame: pd.DataFrame) -> Transform:
        """Learn each column's kind (price or volume); the frame's values are not kept."""
        self.kinds_ = {col: column_kind(col) for col in frame.columns}
        return self

    def transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        out = {
            col: self._price(frame[col].astype(float))
            if kind == "price"
            else self._volume(frame[col].astype(float))
            for col, kind in self.kinds_.items()
        }
        result = pd.DataFrame(out, index=frame.index)
        return result.iloc[1:] if self.differenced else result

    def fit_transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        return self.fit(frame).transform(frame)

    def inverse_transform(self, values: np.ndarray, last_price: np.ndarray) -> np.ndarray:
        """Prices from predicted target values (origins x steps) and the actual price at
        each origin (the last known day)."""
        raise NotImplementedError

    # per-column rules
    def _price(self, x: pd.Series) -> pd.Series:
        raise NotImplementedError

    def _volume(self, x: pd.Series) -> pd.Series:
        return log_volume_change(x) if self.differenced else x


class RawPrice(Transform):
    key, label, differenced = "raw", "raw price", False

    def _price(self, x: pd.Series) -> pd.Series:
        return x

    def inverse_transform(self, values: np.ndarray, last_price: np.ndarray) -> np.ndarray:
        return np.asarray(values, dtype=float)


class Difference(Transform):
    key, label, differenced = "diff", "first difference", True

    def _price(self, x: pd.Series) -> pd.Series:
        return x.diff()

    def inverse_transform(self, values: np.ndarray, last_price: np.ndarray) -> np.ndarray:
        last = np.asarray(last_price, dtype=float).reshape(-1, 1)
        return last + np.cumsum(np.asarray(values, dtype=float), axis=1)


class LogReturn(Transform):
    key, label, differenced = "log_return", "log return", True

    def _price(self, x: pd.Series) -> pd.Series:
        return log_returns(x)

    def inverse_transform(self, values: np.ndarray, last_price: np.ndarray) -> np.ndarray:
        last = np.asarray(last_price, dtype=float).reshape(-1, 1)
        return last * np.exp(np.cumsum(np.asarray(values, dtype=float), axis=1))


TRANSFORMS: dict[str, type[Transform]] = {t.key: t for t in (RawPrice, Difference, LogReturn)}


def make_transform(key: str) -> Transform:
    try:
        return TRANSFORMS[key]()
    except KeyError:
        raise UserError(
            f"Unknown transform '{key}'; choose one of {', '.join(TRANSFORMS)}."
        ) from None


# ---------------------------------------------------------------- scalers


class Scaler:
    """Per-column affine scaling (x - offset) / scale, fit on the training rows only."""

    kind: ClassVar[str]
    label: ClassVar[str]

    def __init__(self, offset=None, scale=None) -> None:
        self.offset = None if offset is None else np.asarray(offset, dtype=float)
        self.scale = None if scale is None else np.asarray(scale, dtype=float)

    def fit(self, train: np.ndarray) -> Scaler:
        offset, scale = self._fit(np.asarray(train, dtype=float))
        self.offset, self.scale = offset, np.where(scale > 0, scale, 1.0)
        return self

    def _fit(self, train: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def transform(self, x: np.ndarray) -> np.ndarray:
        return (np.asarray(x, dtype=float) - self.offset) / self.scale

    def inverse_transform(self, values: np.ndarray, col: int | None = 0) -> np.ndarray:
        """Values of one column (the target is column 0), or of all columns (col=None),
        back in transformed units."""
        if col is None:
            return np.asarray(values, dtype=float) * self.scale + self.offset
        return np.asarray(values, dtype=float) * self.scale[col] + self.offset[col]

    def to_dict(self) -> dict:
        return {"kind": self.kind, "offset": self.offset.tolist(), "scale": self.scale.tolist()}

    @staticmethod
    def from_dict(data: dict) -> Scaler:
        return SCALERS[data["kind"]](data["offset"], data["scale"])


class StandardScaler(Scaler):
    kind, label = "standard", "standard (z-score)"

    def _fit(self, train):
        return train.mean(axis=0), train.std(axis=0)


class MinMaxScaler(Scaler):
    kind, label = "minmax", "min-max (0..1)"

    def _fit(self, train):
        lo, hi = train.min(axis=0), train.max(axis=0)
        return lo, hi - lo


SCALERS: dict[str, type[Scaler]] = {s.kind: s for s in (StandardScaler, MinMaxScaler)}


def fit_scaler_on_train(train: np.ndarray, kind: str) -> Scaler:
    return SCALERS[kind]().fit(train)
