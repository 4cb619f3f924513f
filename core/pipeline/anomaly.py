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

import numpy as np
import pandas as pd

from core.config import AnomalyConfig
from core.pipeline.fitting import fit_model, record_of_fit, seed_everything, use_backend
from core.pipeline.prepare import prepare_anomaly
from core.present.labels import default_detector_name
from core.store.runs import Run, RunStore


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
    checkpoint=None,
    run_id: str = "",
    name: str = "",
) -> dict:
    """Train the autoencoder on the training part, score every day, save the run (a job
    passes its own id and name)."""
    use_backend(config.backend, store.root)
    from core.forecasting.architectures import build_autoencoder

    started = time.monotonic()
    data = prepare_anomaly(frame, config)
    seed_everything(config.seed)
    model = build_autoencoder(config.window, data.values.shape[1], units=config.units)
    fitted = fit_model(model, data, config, emit, should_stop, checkpoint)
    windows = data.window_inputs(data.all_rows())  # every W-day window, in order
    recon = model.predict(windows, batch_size=512, verbose=0)
    errors = (recon - windows) ** 2
    train_end = data.bounds[1][1]  # the training part: fit + validation rows
    mean_error = window_mean_errors(windows)
    in_training = np.arange(len(windows)) + config.window - 1 < train_end  # by last day
    names = {"close": "log_return", "volume": "volume_change"}
    scores = pd.DataFrame(
        data.scaler.inverse_transform(data.values, col=None),
        index=data.index,
        columns=[names[c] for c in config.inputs],
    ).assign(
        score=day_scores(errors),
        split=np.where(np.arange(len(data.index)) < train_end, "train", "test"),
        close=frame["close"].loc[data.index],
    )
    dates = data.split_dates()
    name = name or default_detector_name(config, data_desc)
    training_part = [dates["train"][0], dates["val"][1]]
    record = record_of_fit(
        "anomaly",
        name,
        config,
        data_desc,
        data,
        fitted,
        started,
        split_dates={"train": training_part, "test": dates["test"]},
        threshold=threshold_for(scores, config.percentile),
        metrics={
            f"recon_ratio_{part}": recon_ratio(errors[rows], mean_error[rows])
            for part, rows in (("train", in_training), ("test", ~in_training))
        },
        id=run_id,
    )
    arrays = {
        "window_error": errors.mean(axis=(1, 2)).astype("float64"),
        "window_mean_error": mean_error.astype("float64"),
        "window_end_dates": data.index[config.window - 1 :]
        .strftime("%Y-%m-%d")
        .to_numpy()
        .astype(str),
    }
    store.save(record, {"scores": scores}, frame, arrays, model=model)
    return {
        "run_id": record.id,
        "status": record.status,
        "epochs_run": record.epochs_run,
        "seconds": round(time.monotonic() - started, 2),
        "threshold": record.threshold,
        **record.metrics,
    }


def window_mean_errors(windows: np.ndarray) -> np.ndarray:
    """The trivial reconstruction's error per window: every day of a window replaced by the
    window's own mean (per feature), squared error averaged over days and features."""
    return ((windows - windows.mean(axis=1, keepdims=True)) ** 2).mean(axis=(1, 2))


def recon_ratio(errors: np.ndarray, mean_error: np.ndarray) -> float:
    """The autoencoder's mean reconstruction error over the trivial one's: below 1 means it
    learned structure beyond each window's mean; about 1, that it learned nothing."""
    if len(mean_error) == 0:
        return float("nan")
    return float(np.mean(errors) / max(float(np.mean(mean_error)), 1e-12))


def top_anomalies(run: Run, percentile: float | None = None, limit: int = 20) -> pd.DataFrame:
    """The most anomalous days above the threshold, highest score first."""
    scores = run.scores
    threshold = threshold_for(scores, percentile or run.config.percentile)
    flagged = scores[scores["score"] > threshold].sort_values("score", ascending=False)
    return flagged.head(limit)
