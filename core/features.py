"""Training settings, transforms, scaling fit on train only, chronological splits, windows.

Rules (DESIGN.md): splits are chronological; scalers are fit on the training rows only;
inputs of a validation or test window may reach back into earlier rows, targets never cross
their split. Differenced targets are turned back into prices from the last actual price.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

import numpy as np
import pandas as pd

from core.data.errors import DataError

TRANSFORMS = {"raw": "raw price", "diff": "first difference", "log_return": "log return"}
SCALINGS = {"standard": "standard (z-score)", "minmax": "min-max (0..1)"}
MODELS = {"lstm": "LSTM", "seq2seq": "seq2seq", "seq2seq_attention": "seq2seq + attention"}
ATTENTIONS = {"luong": "Luong (dot product)", "bahdanau": "Bahdanau (additive)"}
LOSSES = {"mse": "MSE", "huber": "Huber"}
SPLITS = ("train", "val", "test")


class JsonConfig:
    """Settings saved with a run as JSON; unknown keys (from older runs) are ignored."""

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict):
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class TrainConfig(JsonConfig):
    """Everything that defines a run besides the data. Saved with the run as JSON."""

    target: str = "close"
    features: list[str] = field(default_factory=lambda: ["close"])
    transform: str = "raw"
    scaling: str = "standard"
    train_frac: float = 0.70
    val_frac: float = 0.15
    window: int = 60
    horizon: int = 1
    model: str = "lstm"
    layers: int = 1
    units: int = 64
    dropout: float = 0.0
    attention: str = "luong"
    epochs: int = 20
    batch_size: int = 32
    learning_rate: float = 1e-3
    loss: str = "mse"
    early_stopping: bool = True
    patience: int = 5
    restore_best: bool = True
    seed: int = 0
    name: str = ""

    @property
    def inputs(self) -> list[str]:
        """Input columns, the target first (univariate: the target alone)."""
        return [self.target] + [c for c in self.features if c != self.target]

    @property
    def multivariate(self) -> bool:
        return len(self.inputs) > 1


def validate_config(config: TrainConfig, frame: pd.DataFrame) -> None:
    """Refuse impossible settings with a message, before anything trains."""
    choices = [
        ("transform", TRANSFORMS),
        ("scaling", SCALINGS),
        ("model", MODELS),
        ("attention", ATTENTIONS),
        ("loss", LOSSES),
    ]
    for name, allowed in choices:
        if getattr(config, name) not in allowed:
            raise DataError(
                f"Unknown {name} '{getattr(config, name)}'; choose one of {', '.join(allowed)}."
            )
    if not config.target:
        raise DataError("Choose a target column.")
    missing = [c for c in config.inputs if c not in frame.columns]
    if missing:
        raise DataError(
            f"The dataset has no column(s) {', '.join(missing)}. Columns: {', '.join(frame.columns)}."
        )
    if config.window < 2:
        raise DataError("The window (lookback) must be at least 2 days.")
    if config.model == "lstm" and config.horizon != 1:
        raise DataError(
            "The LSTM predicts one day ahead: set the horizon to 1, or pick a seq2seq model."
        )
    if not 1 <= config.horizon <= 30:
        raise DataError("The horizon must be between 1 and 30 days.")
    if not 1 <= config.layers <= 3:
        raise DataError("Use 1 to 3 LSTM layers.")
    if config.units < 1 or config.epochs < 1 or config.batch_size < 1:
        raise DataError("Units, epochs and batch size must be positive.")
    if not 0 <= config.dropout < 1:
        raise DataError("Dropout must be in [0, 1).")
    if not config.learning_rate > 0:
        raise DataError("The learning rate must be positive.")
    test_frac = 1 - config.train_frac - config.val_frac
    if config.train_frac <= 0 or config.val_frac <= 0 or test_frac <= 1e-9:
        raise DataError("Train, validation and test must each get a share of the data.")
    if frame[config.inputs].isna().any().any():
        raise DataError("The chosen columns contain missing values (NaN); reload the data.")
    rows = len(frame) - (0 if config.transform == "raw" else 1)
    bounds = split_bounds(rows, config.train_frac, config.val_frac)
    need = config.window + config.horizon
    for split, (start, end) in zip(SPLITS, bounds, strict=True):
        first_target = max(start, config.window)
        samples = end - config.horizon - first_target + 1
        if samples < 1:
            raise DataError(
                f"The {split} split has {end - start} day(s), too few for a window of "
                f"{config.window} plus a horizon of {config.horizon} ({need} days). Use a "
                "longer date range, a shorter window, or a larger share for that split."
            )


# ---------------------------------------------------------------- transforms


def is_price_column(name: str) -> bool:
    return name in {"open", "high", "low", "close"} or name.endswith("_close")


def transform_frame(frame: pd.DataFrame, columns: list[str], transform: str) -> pd.DataFrame:
    """Apply the transform to price columns; volume becomes its log change when differenced."""
    out = {}
    for col in columns:
        x = frame[col].astype(float)
        if not is_price_column(col):
            out[col] = x if transform == "raw" else np.log1p(x).diff()
        elif transform == "raw":
            out[col] = x
        elif transform == "diff":
            out[col] = x.diff()
        else:
            out[col] = np.log(x).diff()
    result = pd.DataFrame(out, index=frame.index)
    return result if transform == "raw" else result.iloc[1:]


def reconstruct_prices(
    transformed_paths: np.ndarray, last_price: np.ndarray, transform: str
) -> np.ndarray:
    """Prices from predicted target values (origins x steps), from the last actual price.

    raw: the values are prices; diff: p_{t-1} + cumulative sum; log return:
    p_{t-1} * exp(cumulative sum).
    """
    paths = np.asarray(transformed_paths, dtype=float)
    last = np.asarray(last_price, dtype=float).reshape(-1, 1)
    if transform == "raw":
        return paths
    if transform == "diff":
        return last + np.cumsum(paths, axis=1)
    return last * np.exp(np.cumsum(paths, axis=1))


# ---------------------------------------------------------------- scaling


@dataclass
class Scaler:
    """Per-column affine scaling: (x - offset) / scale, fit on the training rows only."""

    kind: str
    offset: np.ndarray
    scale: np.ndarray

    @classmethod
    def fit_on_train(cls, train: np.ndarray, kind: str) -> Scaler:
        if kind == "minmax":
            lo, hi = train.min(axis=0), train.max(axis=0)
            offset, scale = lo, hi - lo
        else:
            offset, scale = train.mean(axis=0), train.std(axis=0)
        scale = np.where(scale > 0, scale, 1.0)
        return cls(kind, offset.astype(float), scale.astype(float))

    def transform(self, x: np.ndarray) -> np.ndarray:
        return (x - self.offset) / self.scale

    def inverse_column(self, values: np.ndarray, col: int) -> np.ndarray:
        return np.asarray(values) * self.scale[col] + self.offset[col]

    def to_dict(self) -> dict:
        return {"kind": self.kind, "offset": self.offset.tolist(), "scale": self.scale.tolist()}

    @classmethod
    def from_dict(cls, data: dict) -> Scaler:
        return cls(
            data["kind"], np.asarray(data["offset"], float), np.asarray(data["scale"], float)
        )


# ---------------------------------------------------------------- splits and windows


def split_bounds(rows: int, train_frac: float, val_frac: float) -> list[tuple[int, int]]:
    """Row ranges [start, end) of train, validation and test, in time order."""
    n_train = int(round(rows * train_frac))
    n_val = int(round(rows * val_frac))
    return [(0, n_train), (n_train, n_train + n_val), (n_train + n_val, rows)]


@dataclass
class Prepared:
    """The model-ready data of one run: scaled inputs and how each row maps back to prices."""

    config: TrainConfig
    index: pd.DatetimeIndex  # dates of the rows of `values`
    values: np.ndarray  # (rows, features) scaled, target in column 0
    scaler: Scaler
    bounds: list[tuple[int, int]]
    price: pd.Series  # the target column's original values, on the full frame's dates

    def target_rows(self, split: str) -> np.ndarray:
        """Row indices t of the first target day of every sample whose targets stay in split."""
        start, end = self.bounds[SPLITS.index(split)]
        first = max(start, self.config.window)
        return np.arange(first, end - self.config.horizon + 1)

    def windows(self, split: str, shuffle: bool = False, batch_size: int | None = None):
        """A tf.data.Dataset of (inputs (W, F), targets (H,)) via keras' window utility."""
        import keras

        w, h = self.config.window, self.config.horizon
        rows = self.target_rows(split)
        # Rows [first input, last target] only: nothing outside the split's reach is read.
        ds = keras.utils.timeseries_dataset_from_array(
            self.values[rows[0] - w : rows[-1] + h].astype("float32"),
            None,
            sequence_length=w + h,
            batch_size=batch_size or self.config.batch_size,
            shuffle=shuffle,
            seed=self.config.seed,
        )
        return ds.map(lambda seq: (seq[:, :w, :], seq[:, w:, 0]))

    def last_window(self) -> np.ndarray:
        """The final W rows: the input of the forecast beyond the data's last date."""
        return self.values[-self.config.window :][None].astype("float32")

    def previous_price(self, rows: np.ndarray) -> np.ndarray:
        """The actual target value on the day before each row's date (the naive forecast)."""
        positions = self.price.index.get_indexer(self.index[rows]) - 1
        return self.price.to_numpy()[positions]

    def actual_paths(self, rows: np.ndarray) -> np.ndarray:
        positions = self.price.index.get_indexer(self.index[rows])
        steps = np.arange(self.config.horizon)
        return self.price.to_numpy()[positions[:, None] + steps[None, :]]


def prepare(frame: pd.DataFrame, config: TrainConfig) -> Prepared:
    """Transform, split and scale (fit on the training rows only)."""
    validate_config(config, frame)
    transformed = transform_frame(frame, config.inputs, config.transform)
    if not np.isfinite(transformed.to_numpy()).all():
        raise DataError(
            "The transformed data has infinite or missing values (zero prices or volume?)."
        )
    bounds = split_bounds(len(transformed), config.train_frac, config.val_frac)
    raw = transformed.to_numpy(dtype=float)
    scaler = Scaler.fit_on_train(raw[bounds[0][0] : bounds[0][1]], config.scaling)
    return Prepared(
        config=config,
        index=transformed.index,
        values=scaler.transform(raw),
        scaler=scaler,
        bounds=bounds,
        price=frame[config.target].astype(float),
    )
