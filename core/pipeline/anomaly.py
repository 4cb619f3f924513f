"""The anomaly entry of the run-kind table: an LSTM autoencoder over windows of daily log
returns, and every day's score.

The autoencoder learns to reconstruct ordinary W-day windows of log returns (optionally
with the log change of volume), trained on the training part only. A day's score is the
squared reconstruction error of that day's values, averaged over its features and over
every window that contains the day (core/forecasting/detectors.py). The threshold is a
percentile of the training days' scores, so it can move without retraining.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.forecasting.detectors import (
    day_scores,
    recon_ratio,
    threshold_for,
    window_mean_errors,
)
from core.forecasting.paths import WindowErrors
from core.forecasting.windows import ModelData
from core.kinds.anomaly import AnomalyConfig
from core.pipeline.prepare import prepare_anomaly
from core.pipeline.runner import Outcome, RunKind, RunRequest, run
from core.present.labels import default_detector_name
from core.store.runs import Run, RunRecord, RunStore

VALUE_NAMES = {"close": "log_return", "volume": "volume_change"}  # the scores' columns


def _build(config: AnomalyConfig, data: ModelData):
    from core.models.autoencoder import build_autoencoder

    return build_autoencoder(config.window, data.values.shape[1], units=config.units), None


def _finish(data: ModelData, model, _extra, _alongside, config: AnomalyConfig) -> Outcome:
    """Score every day; the reconstruction ratio on the training and the later windows."""
    windows = data.window_inputs(data.all_rows())  # every W-day window, in order
    recon = model.predict(windows, batch_size=512, verbose=0)
    errors = (recon - windows) ** 2
    train_end = data.bounds[1][1]  # the training part: fit + validation rows
    mean_error = window_mean_errors(windows)
    in_training = np.arange(len(windows)) + config.window - 1 < train_end  # by last day
    scores = pd.DataFrame(
        data.scaler.inverse_transform(data.values, col=None),
        index=data.index,
        columns=[VALUE_NAMES[c] for c in config.inputs],
    ).assign(
        score=day_scores(errors),
        split=np.where(np.arange(len(data.index)) < train_end, "train", "test"),
        close=data.levels.loc[data.index],
    )
    dates = data.split_dates()
    fields = dict(
        split_dates={"train": [dates["train"][0], dates["val"][1]], "test": dates["test"]},
        threshold=threshold_for(scores, config.percentile),
        metrics={
            f"recon_ratio_{part}": recon_ratio(errors[rows], mean_error[rows])
            for part, rows in (("train", in_training), ("test", ~in_training))
        },
    )
    artifacts = WindowErrors(
        window_error=errors.mean(axis=(1, 2)).astype("float64"),
        window_mean_error=mean_error.astype("float64"),
        window_end_dates=data.index[config.window - 1 :]
        .strftime("%Y-%m-%d")
        .to_numpy()
        .astype(str),
    )
    return Outcome({"scores": scores}, artifacts, fields)


def _summary(record: RunRecord) -> dict:
    return {
        "threshold": record.threshold,
        **record.metrics,
    }


ANOMALY = RunKind(
    "anomaly",
    prepare=lambda frame, config, _bounds: prepare_anomaly(frame, config),
    build=_build,
    finish=_finish,
    default_name=default_detector_name,
    summary=_summary,
)


def train_anomaly_detector(
    frame: pd.DataFrame, data_desc: dict, config: AnomalyConfig, store: RunStore, **options
) -> dict:
    """Train the autoencoder on the training part, score every day, save the run.
    `options` are RunRequest's (emit, should_stop, checkpoint, run_id, name)."""
    return run(ANOMALY, RunRequest(frame, data_desc, config, store, **options))


def top_anomalies(run: Run, percentile: float | None = None, limit: int = 20) -> pd.DataFrame:
    """The most anomalous days above the threshold, highest score first."""
    scores = run.scores
    threshold = threshold_for(scores, percentile or run.config.percentile)
    flagged = scores[scores["score"] > threshold].sort_values("score", ascending=False)
    return flagged.head(limit)
