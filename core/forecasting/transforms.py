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
        rules = {"price": self._price, "volume": self._volume, "level": self._level}
        out = {col: rules[kind](frame[col].astype(float)) for col, kind in self.kinds_.items()}
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

    def _level(self, x: pd.Series) -> pd.Series:
        """A spread: its change when differenced (it has no log return), else itself."""
        return x.diff() if self.differenced else x


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
    relative: ClassVar[bool] = False  # True: windows.py makes each window relative to its end

    def __init__(self, offset=None, scale=None, **_) -> None:
        self.offset = None if offset is None else np.asarray(offset, dtype=float)
        self.scale = None if scale is None else np.asarray(scale, dtype=float)

    def fit(self, train: np.ndarray, kinds: list[str] | None = None) -> Scaler:
        """Fit on the training rows; `kinds` ('price' / 'volume' per column) if it matters."""
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

    def to_levels(self, transformed: np.ndarray, last_level: np.ndarray) -> np.ndarray:
        """Only relative scalers turn values into levels themselves (see WindowRelative)."""
        raise NotImplementedError

    def to_dict(self) -> dict:
        return {"kind": self.kind, "offset": self.offset.tolist(), "scale": self.scale.tolist()}

    @staticmethod
    def from_dict(data: dict) -> Scaler:
        return SCALERS[data["kind"]](**{k: v for k, v in data.items() if k != "kind"})


class StandardScaler(Scaler):
    kind, label = "standard", "standard (z-score)"

    def _fit(self, train):
        return train.mean(axis=0), train.std(axis=0)


class MinMaxScaler(Scaler):
    kind, label = "minmax", "min-max (0..1)"

    def _fit(self, train):
        lo, hi = train.min(axis=0), train.max(axis=0)
        return lo, hi - lo


class WindowRelative(Scaler):
    """Each window relative to its own last observed day: log(x / x_last) for a price,
    log1p(v) - log1p(v_last) for volume, the target likewise, mapped back with that same
    last value. Leak-free and level-free: a window uses nothing after its last day, so a
    model trained on 2009 prices works on 2018 prices.

    `transform` gives log levels in units of the training part's daily log change (so that
    values are of order 1; the only thing fit on the training rows); ModelData.windows
    subtracts each window's last row.
    """

    kind, label = "window", "window-relative (each window / its last value)"
    relative = True

    def __init__(self, offset=None, scale=None, log1p=None) -> None:
        super().__init__(offset, scale)
        self.log1p = None if log1p is None else np.asarray(log1p, dtype=bool)

    def fit(self, train: np.ndarray, kinds: list[str] | None = None) -> Scaler:
        train = np.asarray(train, dtype=float)
        kinds = kinds or ["price"] * train.shape[1]
        self.log1p = np.array([k == "volume" for k in kinds])
        self.offset, self.scale = np.zeros(train.shape[1]), np.ones(train.shape[1])
        unit = np.std(np.diff(self._log(train), axis=0), axis=0)
        self.scale = np.where(unit > 0, unit, 1.0)
        return self

    def _log(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        return np.where(self.log1p, np.log1p(np.abs(x)), np.log(np.where(x > 0, x, np.nan)))

    def transform(self, x: np.ndarray) -> np.ndarray:
        return self._log(x) / self.scale

    def to_levels(self, transformed: np.ndarray, last_level: np.ndarray) -> np.ndarray:
        """Levels from log ratios to each origin's last actual value (origins x steps)."""
        last = np.asarray(last_level, dtype=float).reshape(-1, 1)
        ratio = np.asarray(transformed, dtype=float)
        if self.log1p[0]:
            return np.expm1(np.log1p(last) + ratio)
        return last * np.exp(ratio)

    def to_dict(self) -> dict:
        return {**super().to_dict(), "log1p": self.log1p.tolist()}


SCALERS: dict[str, type[Scaler]] = {
    s.kind: s for s in (WindowRelative, StandardScaler, MinMaxScaler)
}


def fit_scaler_on_train(train: np.ndarray, kind: str, kinds: list[str] | None = None) -> Scaler:
    return SCALERS[kind]().fit(train, kinds)
