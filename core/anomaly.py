"""Anomalous days from an LSTM autoencoder over windows of daily log returns.

The autoencoder learns to reconstruct ordinary W-day windows of log returns (optionally
with the log change of volume), trained on the training part only. A day's score is the
squared reconstruction error of that day's values, averaged over its features and over
every window that contains the day. The threshold is a percentile of the training days'
scores, so it can move without retraining.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.data.errors import DataError
from core.features import JsonConfig, Scaler
from core.runs import Run, RunStore

SCORE_EXPLANATION = (
    "A day's score is the squared reconstruction error of that day's values (log return"
    "{volume}, standardized), averaged over every {window}-day window that contains the day. "
    "Days scoring above the {percentile:g}th percentile of the training days' scores are anomalous."
)


@dataclass
class AnomalyConfig(JsonConfig):
    window: int = 30
    use_volume: bool = True
    units: int = 32
    epochs: int = 20
    batch_size: int = 32
    learning_rate: float = 1e-3
    train_frac: float = 0.7
    percentile: float = 99.0
    seed: int = 0
    # the shared training loop's settings
    loss: str = "mse"
    early_stopping: bool = True
    patience: int = 5
    restore_best: bool = True

    def validate(self, frame: pd.DataFrame) -> None:
        if self.window < 2:
            raise DataError("The window must be at least 2 days.")
        if not 50 <= self.percentile < 100:
            raise DataError("The threshold percentile must be between 50 and 100.")
        if self.epochs < 1 or self.units < 1 or self.batch_size < 1:
            raise DataError("Epochs, units and batch size must be positive.")
        train_days = int(round((len(frame) - 1) * self.train_frac))
        if train_days < 3 * self.window:
            raise DataError(
                f"The training part has {train_days} day(s); the autoencoder needs at least "
                f"{3 * self.window} (3 windows of {self.window}). Use a longer range or a shorter window."
            )


def anomaly_features(frame: pd.DataFrame, use_volume: bool) -> pd.DataFrame:
    """Daily log returns and (optionally) the log change of volume."""
    out = pd.DataFrame({"log_return": np.log(frame["close"]).diff()}, index=frame.index)
    if use_volume:
        out["volume_change"] = np.log1p(frame["volume"]).diff()
    out = out.iloc[1:]
    if not np.isfinite(out.to_numpy()).all():
        raise DataError("The returns contain infinite or missing values (zero prices?).")
    return out


def _windows(values: np.ndarray, window: int, batch_size: int, shuffle: bool, seed: int):
    import keras

    ds = keras.utils.timeseries_dataset_from_array(
        values.astype("float32"),
        None,
        sequence_length=window,
        batch_size=batch_size,
        shuffle=shuffle,
        seed=seed,
    )
    return ds.map(lambda x: (x, x))


def day_scores(window_errors: np.ndarray) -> np.ndarray:
    """(windows, W, features) squared errors -> one score per day, averaged over the windows
    containing the day and over features."""
    n_windows, window, _ = window_errors.shape
    per_position = window_errors.mean(axis=2)
    total = np.zeros(n_windows + window - 1)
    count = np.zeros_like(total)
    for j in range(window):
        total[j : j + n_windows] += per_position[:, j]
        count[j : j + n_windows] += 1
    return total / count


def threshold_for(scores: pd.DataFrame, percentile: float) -> float:
    """The percentile of the training days' scores."""
    return float(np.percentile(scores.loc[scores["split"] == "train", "score"], percentile))


def train_anomaly_detector(
    frame: pd.DataFrame,
    data_desc: dict,
    config: AnomalyConfig,
    store: RunStore,
    emit: Callable[[dict], None] = lambda event: None,
    should_stop: Callable[[], bool] = lambda: False,
) -> dict:
    """Train the autoencoder on the training part, score every day, save the run."""
    from core.models import build_autoencoder
    from core.training import fit_model, seed_everything

    started = time.monotonic()
    config.validate(frame)
    seed_everything(config.seed)
    feats = anomaly_features(frame, config.use_volume)
    raw = feats.to_numpy(dtype=float)
    n_train = int(round(len(raw) * config.train_frac))
    scaler = Scaler.fit_on_train(raw[:n_train], "standard")
    values = scaler.transform(raw)
    n_fit = int(round(n_train * 0.85))  # the last 15 % of the training part validates
    train_ds = _windows(values[:n_fit], config.window, config.batch_size, True, config.seed)
    val_ds = _windows(
        values[n_fit - config.window + 1 : n_train], config.window, config.batch_size, False, 0
    )
    model = build_autoencoder(config.window, values.shape[1], units=config.units)
    rows, stopped = fit_model(
        model, train_ds, val_ds, n_fit - config.window + 1, config, emit, should_stop
    )

    # every W-day window, in order: (windows, W, features)
    all_windows = np.lib.stride_tricks.sliding_window_view(values, config.window, axis=0).transpose(
        0, 2, 1
    )
    recon = model.predict(all_windows.astype("float32"), batch_size=512, verbose=0)
    errors = (recon - all_windows) ** 2
    window_error = errors.mean(axis=(1, 2))
    scores = pd.DataFrame(feats).assign(
        score=day_scores(errors),
        split=np.where(np.arange(len(feats)) < n_train, "train", "test"),
        close=frame["close"].loc[feats.index],
    )
    threshold = threshold_for(scores, config.percentile)
    status = "stopped" if stopped else "finished"
    run_id = store.new_id()
    meta = {
        "kind": "anomaly",
        "name": f"{data_desc.get('ticker', '?')} autoencoder w{config.window}",
        "created": pd.Timestamp.now().isoformat(timespec="seconds"),
        "status": status,
        "config": config.to_dict(),
        "data": data_desc,
        "scaler": scaler.to_dict(),
        "history": rows,
        "epochs_run": len(rows),
        "seconds": time.monotonic() - started,
        "threshold": threshold,
        "train_end": str(feats.index[n_train - 1].date()),
    }
    arrays = {
        "window_error": window_error.astype("float64"),
        "window_end_dates": feats.index[config.window - 1 :]
        .strftime("%Y-%m-%d")
        .to_numpy()
        .astype(str),
    }
    store.save(run_id, meta, scores, frame, arrays, model=model)
    return {
        "run_id": run_id,
        "status": status,
        "epochs_run": len(rows),
        "seconds": round(time.monotonic() - started, 2),
        "threshold": threshold,
    }


def top_anomalies(run: Run, percentile: float | None = None, limit: int = 20) -> pd.DataFrame:
    """The most anomalous days above the threshold, highest score first."""
    scores = run.predictions
    threshold = threshold_for(scores, percentile or run.config["percentile"])
    flagged = scores[scores["score"] > threshold].sort_values("score", ascending=False)
    return flagged.head(limit)
