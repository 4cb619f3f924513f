"""Runs saved by older versions, upgraded when they are read: the one place that knows
what earlier versions wrote.

Schema versions (run.json's "schema"):
1. Everything saved before the key existed. An anomaly run kept the end of its training
   part as `train_end` and its day scores as predictions.parquet; a run saved before the
   backend setting has none (it trained on TensorFlow); a forecast run saved before
   verdicts has none (nor the metrics the verdict needs).
2. Split dates for every kind, the backend always set, a verdict on every forecast run. An
   anomaly run's scores are scores.parquet.
3. The current shape (RunRecord): a forecaster's own knobs (layers, units, dropout,
   attention ...) in config["model_settings"], only those its architecture has; before,
   every forecast run's config held every architecture's knobs beside the other settings.

An upgraded run.json is written back (atomically) so the work is done once; where it
cannot be written the upgrade still holds for this reading.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from core.forecasting.evaluation import score_forecast
from core.forecasting.paths import ForecastPaths
from core.store.people import SINGLE_USER
from core.workspace import atomic_write_bytes

SCHEMA_VERSION = 4
# Each table's file, the current name first and older names after it.
TABLE_FILES = {"scores": ("scores.parquet", "predictions.parquet")}


def table_files(name: str) -> tuple[str, ...]:
    return TABLE_FILES.get(name, (f"{name}.parquet",))


def table_path(folder: Path, name: str) -> Path:
    """The file holding a run's table `name`, under whichever name its version used."""
    choices = table_files(name)
    return next((folder / f for f in choices if (folder / f).is_file()), folder / choices[0])


def upgrade(data: dict, folder: Path) -> dict:
    """run.json as any version saved it -> the current shape (SCHEMA_VERSION)."""
    schema = int(data.get("schema", 1))
    if schema >= SCHEMA_VERSION:
        return data
    data = dict(data)
    if schema < 2:
        # Runs saved before the backend setting trained on TensorFlow.
        data["config"] = {"backend": "tensorflow", **data["config"]}
        if not data.get("split_dates") and data.get("train_end"):
            data["split_dates"] = {"train": [data["data"].get("start", ""), data["train_end"]]}
        if data["kind"] == "forecast" and not data.get("verdict"):
            data["metrics"], data["verdict"] = _scored(data, folder)
    if schema < 3 and "model" in data["config"]:  # a forecaster's (not an autoencoder's)
        data["config"] = _model_settings_apart(data["config"])
    if schema < 4:  # runs saved before people: the single user's (core/store/people.py)
        data.setdefault("owner", SINGLE_USER)
    data["schema"] = SCHEMA_VERSION
    return data


def _model_settings_apart(config: dict) -> dict:
    """A flat forecaster config -> its architecture's knobs in "model_settings", the other
    architectures' knobs dropped."""
    from core.models import ARCHITECTURES, model_specs

    own = {s.name for s in ARCHITECTURES[config["model"]].settings.specs()}
    knobs = {k: config[k] for k in own if k in config}
    rest = {k: v for k, v in config.items() if k not in model_specs()}
    return {**rest, "model_settings": knobs}


def _scored(data: dict, folder: Path) -> tuple[dict, str]:
    """A forecast run saved before verdicts, scored from its saved predictions the way a
    run is scored when it is saved."""
    levels = pd.read_parquet(folder / "dataset.parquet")[data["config"]["target"]].astype(float)
    predictions = pd.read_parquet(folder / "predictions.parquet")
    with np.load(folder / "arrays.npz", allow_pickle=False) as arrays:
        paths = ForecastPaths.from_arrays({k: arrays[k] for k in arrays.files})
    train = tuple(data["split_dates"]["train"])
    metrics, _, verdict = score_forecast(levels, predictions, paths, train)
    return metrics, verdict


def write_back(path: Path, data: dict) -> None:
    """Keep an upgraded run.json (best effort: a read-only workspace still reads)."""
    try:
        atomic_write_bytes(path, json.dumps(data, indent=1, default=_plain).encode())
    except OSError:
        pass


def _plain(value):
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    raise TypeError(f"not JSON serializable: {type(value)}")
