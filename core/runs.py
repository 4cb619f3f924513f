"""The run store: every finished or stopped run, saved atomically under <workspace>/runs/.

A run is a directory written in full under a hidden temporary name and then renamed into
place (a directory rename is atomic), so a crash never leaves a run that looks complete.
Reading runs never imports TensorFlow; only load_model does.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from core.data.errors import DataError
from core.workspace import atomic_write_bytes, workspace_dir

META = "run.json"
_ID = re.compile(r"^[0-9]{8}-[0-9]{6}-[0-9a-f]{6}$")


@dataclass
class Run:
    """One saved run. Heavy parts (predictions, arrays, dataset) load on first use."""

    id: str
    path: Path
    meta: dict

    @property
    def name(self) -> str:
        return self.meta.get("name") or self.id

    @property
    def kind(self) -> str:
        return self.meta.get("kind", "forecast")

    @property
    def config(self) -> dict:
        return self.meta["config"]

    @property
    def metrics(self) -> dict:
        return self.meta.get("metrics", {})

    @property
    def naive(self) -> dict:
        return self.meta.get("naive", {})

    @property
    def history(self) -> pd.DataFrame:
        return pd.DataFrame(self.meta.get("history", []), columns=["epoch", "loss", "val_loss"])

    @cached_property
    def predictions(self) -> pd.DataFrame:
        return pd.read_parquet(self.path / "predictions.parquet")

    @cached_property
    def arrays(self) -> dict[str, np.ndarray]:
        path = self.path / "arrays.npz"
        if not path.exists():
            return {}
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}

    @cached_property
    def dataset(self) -> pd.DataFrame:
        return pd.read_parquet(self.path / "dataset.parquet")

    def load_model(self):
        """The trained Keras model (imports TensorFlow)."""
        import keras

        return keras.saving.load_model(self.path / "model.keras", compile=False)


class RunStore:
    def __init__(self, root: str | Path | None = None) -> None:
        self.dir = workspace_dir(root) / "runs"
        self.dir.mkdir(parents=True, exist_ok=True)

    @staticmethod
    def new_id() -> str:
        return f"{datetime.now():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:6]}"

    def _path(self, run_id: str) -> Path:
        if not _ID.match(str(run_id)):
            raise DataError(f"'{run_id}' is not a run id.")
        return self.dir / run_id

    def save(
        self,
        run_id: str,
        meta: dict,
        predictions: pd.DataFrame,
        dataset: pd.DataFrame,
        arrays: dict[str, np.ndarray] | None = None,
        model=None,
    ) -> Run:
        """Write every part into a hidden temp directory, then rename it into place."""
        final = self._path(run_id)
        tmp = self.dir / f".tmp-{run_id}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        try:
            if model is not None:
                model.save(tmp / "model.keras")
            predictions.to_parquet(tmp / "predictions.parquet")
            dataset.to_parquet(tmp / "dataset.parquet")
            if arrays:
                buffer = io.BytesIO()
                np.savez_compressed(buffer, **arrays)
                (tmp / "arrays.npz").write_bytes(buffer.getvalue())
            meta = {**meta, "id": run_id}
            (tmp / META).write_text(json.dumps(meta, indent=1, default=_json_default))
            for child in tmp.iterdir():
                with open(child, "rb") as fh:
                    os.fsync(fh.fileno())
            os.rename(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return Run(run_id, final, meta)

    def get(self, run_id: str) -> Run:
        path = self._path(run_id)
        try:
            meta = json.loads((path / META).read_text())
        except (OSError, ValueError) as exc:
            raise DataError(f"Run {run_id} does not exist or is unreadable.") from exc
        return Run(run_id, path, meta)

    def runs(self, kind: str | None = None) -> list[Run]:
        """Complete runs, newest first (hidden temp directories are never listed)."""
        found = []
        for path in self.dir.iterdir():
            if path.name.startswith(".") or not (path / META).is_file():
                continue
            try:
                run = self.get(path.name)
            except DataError:
                continue
            if kind is None or run.kind == kind:
                found.append(run)
        return sorted(found, key=lambda r: r.meta.get("created", ""), reverse=True)

    def table(self, kind: str | None = "forecast") -> pd.DataFrame:
        """Name, date, ticker, uni/multi, transform, model, status, test RMSE and MASE."""
        rows = []
        for run in self.runs(kind):
            cfg, data = run.config, run.meta.get("data", {})
            rows.append(
                {
                    "id": run.id,
                    "name": run.name,
                    "date": run.meta.get("created", "")[:16].replace("T", " "),
                    "ticker": data.get("ticker", ""),
                    "inputs": "multivariate" if len(cfg.get("features", [])) > 1 else "univariate",
                    "transform": cfg.get("transform", ""),
                    "model": cfg.get("model", ""),
                    "status": run.meta.get("status", ""),
                    "test RMSE": run.metrics.get("rmse"),
                    "MASE": run.metrics.get("mase"),
                }
            )
        columns = [
            "id",
            "name",
            "date",
            "ticker",
            "inputs",
            "transform",
            "model",
            "status",
            "test RMSE",
            "MASE",
        ]
        return pd.DataFrame(rows, columns=columns)

    def rename(self, run_id: str, name: str) -> Run:
        name = str(name).strip()
        if not name:
            raise DataError("A run name cannot be empty.")
        run = self.get(run_id)
        run.meta["name"] = name[:100]
        atomic_write_bytes(run.path / META, json.dumps(run.meta, indent=1).encode())
        return run

    def delete(self, run_id: str) -> None:
        path = self._path(run_id)
        if not path.exists():
            raise DataError(f"Run {run_id} does not exist.")
        trash = self.dir / f".trash-{run_id}"
        os.rename(path, trash)  # gone from listings at once, even if the removal is cut short
        shutil.rmtree(trash, ignore_errors=True)


def _json_default(value):
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (pd.Timestamp, datetime)):
        return value.isoformat()
    raise TypeError(f"not JSON serializable: {type(value)}")
