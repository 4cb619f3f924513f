"""The run store: every finished or stopped run, saved atomically under <workspace>/runs/.

A run is a directory written in full under a hidden temporary name and then renamed into
place (a directory rename is atomic), so a crash never leaves a run that looks complete.
Reading runs never imports TensorFlow; only load_model does. run.json holds a RunRecord.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import uuid
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from core.errors import UserError
from core.forecasting.paths import ForecastPaths, WindowErrors
from core.kinds import CONFIGS, KINDS
from core.store.damage import META, run_damage
from core.store.migrate import SCHEMA_VERSION, table_path, upgrade, write_back
from core.store.people import SINGLE_USER, SOLO, Person
from core.workspace import atomic_write_bytes, make_dir, workspace_dir

_ID = re.compile(r"^[0-9]{8}-[0-9]{6}-[0-9a-f]{6}$")


def _now() -> str:
    return pd.Timestamp.now().isoformat(timespec="seconds")


@dataclass
class RunRecord:
    """What run.json holds: one typed shape for every kind of run."""

    kind: str  # a key of core.kinds.CONFIGS
    name: str
    status: str  # finished, stopped (by the user) or interrupted (saved from a checkpoint)
    config: dict
    data: dict  # Dataset.describe()
    history: list[dict]  # {epoch, loss, val_loss}
    seconds: float
    created: str = field(default_factory=_now)
    scaler: dict = field(default_factory=dict)
    split_dates: dict[str, list[str]] = field(default_factory=dict)  # split -> [first, last]
    metrics: dict = field(default_factory=dict)
    naive: dict = field(default_factory=dict)
    verdict: str = ""  # forecast runs: one of core.forecasting.evaluation.VERDICTS
    baselines: dict = field(default_factory=dict)  # name -> metrics (core/pipeline/scoring.py)
    by_step: list[dict] = field(default_factory=list)  # errors by horizon step
    intervals: dict = field(default_factory=dict)  # the band's level, coverage, width, scores
    returns: dict = field(default_factory=dict)  # forecast runs: log-return errors, hit rate
    moves: dict = field(default_factory=dict)  # forecast runs: predicted vs actual move sizes
    attribution: dict = field(default_factory=dict)  # forecast runs: what the move depends on
    warnings: list[str] = field(default_factory=list)
    threshold: float | None = None  # anomaly runs
    tags: dict = field(default_factory=dict)  # e.g. {"sweep": id, "backtest": id, "fold": k}
    # Forecast runs: each seed's {seed, rel_mae, dm_pvalue, verdict} (a seed set's members,
    # or the one seed) and how many of their verdicts agree with the run's; older runs: none.
    seeds: list[dict] = field(default_factory=list)
    seeds_agreeing: int | None = None
    owner: str = SINGLE_USER  # who trained it (core/store/people.py)
    node: str | None = None  # the Ray node it trained on (core/jobs/onray.py); None: here
    id: str = ""
    schema: int = SCHEMA_VERSION  # run.json's shape (core/store/migrate.py)

    @property
    def epochs_run(self) -> int:
        return len(self.history)

    @property
    def n_seeds(self) -> int:
        """How many seeds the run trained side by side (1 for runs before seed sets)."""
        return max(1, len(self.seeds))

    def to_dict(self) -> dict:
        return {**asdict(self), "epochs_run": self.epochs_run, "n_seeds": self.n_seeds}

    @classmethod
    def from_dict(cls, data: dict) -> RunRecord:
        """run.json in the current shape (older ones pass through migrate.upgrade first);
        keys this version does not know are ignored. A run.json of the wrong shape (valid
        JSON, wrong types, an unknown kind, settings that do not read) is a ValueError
        naming what is wrong, so the run is listed as damaged, never half-read."""
        if not isinstance(data, dict):
            raise ValueError("run.json is not an object")
        known = {f.name: f.type for f in fields(cls)}
        record = cls(**{k: v for k, v in data.items() if k in known})
        for name, annotation in known.items():
            value = getattr(record, name)
            expected = _SHAPES.get(str(annotation)) or _SHAPES.get(str(annotation).split("[")[0])
            if expected and not isinstance(value, expected):
                raise ValueError(f"run.json's {name!r} is {type(value).__name__}, not {annotation}")
        for name, item in _ITEMS.items():  # what every item of a container must be
            values = getattr(record, name)
            values = values.values() if isinstance(values, dict) else values
            bad = next((v for v in values if not isinstance(v, item)), _OK)
            if bad is not _OK:
                raise ValueError(
                    f"run.json's {name!r} holds {json.dumps(bad)}, not a {item.__name__}"
                )
        if record.kind not in CONFIGS:
            raise ValueError(f"run.json's kind {record.kind!r} is not one LagLens knows")
        if KINDS[record.kind].forecast:  # what every reader of a forecast run reads first
            missing = [k for k in FORECAST_METRICS if k not in record.metrics]
            if missing:
                raise ValueError(f"run.json's metrics lack {', '.join(missing)}")
            bad = next((k for k in FORECAST_METRICS if not _number(record.metrics[k])), None)
            if bad:
                raise ValueError(f"run.json's metric {bad!r} is not a number")
        try:
            CONFIGS[record.kind].from_dict(record.config)
        except (TypeError, ValueError, KeyError, UserError) as exc:
            raise ValueError(f"run.json's settings do not read ({exc})") from exc
        return record


# The type of every item of RunRecord's containers (a list's items, a dict's values).
_ITEMS = {
    "history": dict,
    "by_step": dict,
    "seeds": dict,
    "warnings": str,
    "baselines": dict,
    "split_dates": list,
}
_OK = object()
# The metrics every forecast run holds (a verdict reads them; null stands for NaN).
FORECAST_METRICS = ("rel_mae", "dm_pvalue", "best_lag", "rmse", "mae")


def _number(value) -> bool:
    return value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))


# The JSON types each annotation of RunRecord admits (as in JSON, true passes for a number).
_SHAPES = {
    "str": str,
    "dict": dict,
    "list": list,
    "float": (int, float),
    "int": int,
    "float | None": (int, float, type(None)),
    "int | None": (int, type(None)),
    "str | None": (str, type(None)),
}


@dataclass
class Run:
    """One saved run. Heavy parts (tables, arrays, dataset) load on first use."""

    id: str
    path: Path
    record: RunRecord

    @property
    def meta(self) -> dict:
        """run.json as saved."""
        return self.record.to_dict()

    @property
    def name(self) -> str:
        return self.record.name or self.id

    @property
    def kind(self) -> str:
        return self.record.kind

    @property
    def status(self) -> str:
        return self.record.status

    @property
    def config(self):
        """The run's settings as their dataclass (TrainConfig or AnomalyConfig)."""
        return CONFIGS[self.kind].from_dict(self.record.config)

    @property
    def metrics(self) -> dict:
        return self.record.metrics

    @property
    def naive(self) -> dict:
        return self.record.naive

    @property
    def train_dates(self) -> tuple[str, str]:
        """First and last date of the training part."""
        start, end = self.record.split_dates["train"]
        return start, end

    @property
    def history(self) -> pd.DataFrame:
        return pd.DataFrame(self.record.history, columns=["epoch", "loss", "val_loss"])

    @cached_property
    def predictions(self) -> pd.DataFrame:
        """A forecast run's test predictions, one row per target day."""
        return pd.read_parquet(self.path / "predictions.parquet")

    @cached_property
    def scores(self) -> pd.DataFrame:
        """An anomaly run's day scores."""
        return pd.read_parquet(table_path(self.path, "scores"))

    @cached_property
    def _arrays(self) -> dict[str, np.ndarray]:
        path = self.path / "arrays.npz"
        if not path.exists():
            return {}
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}

    @cached_property
    def paths(self) -> ForecastPaths:
        """A forecast run's paths from every origin, and its baselines' beside them."""
        return ForecastPaths.from_arrays(self._arrays)

    @cached_property
    def window_errors(self) -> WindowErrors | None:
        """An anomaly run's errors per window (None: saved before they were kept)."""
        return WindowErrors.from_arrays(self._arrays)

    @cached_property
    def dataset(self) -> pd.DataFrame:
        return pd.read_parquet(self.path / "dataset.parquet")

    def load_model(self):
        """The trained Keras model (imports TensorFlow)."""
        import keras

        try:
            return keras.saving.load_model(self.path / "model.keras", compile=False)
        except Exception as exc:  # noqa: BLE001 - Keras raises many kinds for a bad file
            raise UserError(f"Run {self.id}: model.keras could not be loaded ({exc}).") from exc


class RunStore:
    def __init__(self, root: str | Path | None = None) -> None:
        self.root = workspace_dir(root)
        self.dir = make_dir(self.root / "runs")

    @staticmethod
    def new_id() -> str:
        return f"{datetime.now():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:6]}"

    @staticmethod
    def is_id(text: str) -> bool:
        """Has the shape of a run (or job) id: a date, a time and six hex digits."""
        return bool(_ID.match(str(text)))

    @staticmethod
    def _owner(path: Path) -> str:
        """Who owns the run in `path`, read from its run.json alone (a damaged run's too:
        deleting it is still only its owner's or an instructor's)."""
        try:
            return str(json.loads((path / META).read_text()).get("owner") or SINGLE_USER)
        except (OSError, ValueError):
            return SINGLE_USER  # no readable record: it was nobody's in particular

    def _path(self, run_id: str) -> Path:
        if not _ID.match(str(run_id)):
            raise UserError(f"'{run_id}' is not a run id.")
        return self.dir / run_id

    def save(
        self,
        record: RunRecord,
        tables: dict[str, pd.DataFrame],
        dataset: pd.DataFrame,
        artifacts: ForecastPaths | WindowErrors | None = None,
        model=None,
    ) -> Run:
        """Write every part into a hidden temp directory, then rename it into place.
        `tables` become NAME.parquet (predictions, scores), `artifacts` arrays.npz."""
        record.id = record.id or self.new_id()
        run_id = record.id
        final = self._path(run_id)
        tmp = self.dir / f".tmp-{run_id}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        try:
            if model is not None:
                model.save(tmp / "model.keras")
            for table_name, table in tables.items():
                table.to_parquet(tmp / f"{table_name}.parquet")
            dataset.to_parquet(tmp / "dataset.parquet")
            if artifacts is not None:
                buffer = io.BytesIO()
                np.savez_compressed(buffer, **artifacts.to_arrays())
                (tmp / "arrays.npz").write_bytes(buffer.getvalue())
            (tmp / META).write_text(_dump(record))
            for child in tmp.iterdir():
                with open(child, "rb") as fh:
                    os.fsync(fh.fileno())
            os.rename(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return Run(run_id, final, record)

    def get(self, run_id: str) -> Run:
        """The run, checked whole as the listing checks it (every reader opens runs here):
        a damaged one is a UserError with the reason, never a half-read run."""
        path = self._path(run_id)
        if path.is_symlink():
            raise UserError(
                f"Run {run_id} is a link to a folder outside the workspace; LagLens does not "
                "follow links. Delete it from the damaged runs, or move the folder in."
            )
        if path.is_dir() and (why := run_damage(path)):
            if why == "run.json is missing":
                raise UserError(f"Run {run_id} does not exist.")
            raise UserError(f"Run {run_id} is damaged: {why}.")
        return self._record(run_id, path)

    def _record(self, run_id: str, path: Path) -> Run:
        try:
            saved = json.loads((path / META).read_text())
        except FileNotFoundError as exc:
            raise UserError(f"Run {run_id} does not exist.") from exc
        except (OSError, ValueError) as exc:
            raise UserError(
                f"Run {run_id} is damaged: run.json is truncated or unreadable."
            ) from exc
        try:
            data = upgrade(saved, path)
            record = RunRecord.from_dict(data)
        except ValueError as exc:
            raise UserError(f"Run {run_id} is damaged: {exc}.") from exc
        except (OSError, TypeError, KeyError, AttributeError) as exc:
            raise UserError(
                f"Run {run_id} is damaged: run.json has the wrong shape "
                f"({type(exc).__name__}: {exc})."
            ) from exc
        if data is not saved:
            write_back(path / META, data)
        return Run(run_id, path, record)

    def _folders(self) -> list[Path]:
        """Run folders (never the hidden temp and trash directories). A link is listed (as
        damaged) but never followed."""
        return [
            p for p in self.dir.iterdir() if _ID.match(p.name) and (p.is_symlink() or p.is_dir())
        ]

    def _read(self, path: Path) -> tuple[Run | None, str]:
        """(the run, "") when the folder is whole, else (None, why it is damaged)."""
        if path.is_symlink():
            return None, "is a link to a folder outside the workspace (not followed)"
        why = run_damage(path)
        if why:
            return None, why
        try:
            return self._record(path.name, path), ""
        except UserError as exc:
            why = str(exc).removeprefix(f"Run {path.name} is damaged: ")
            return None, why.removeprefix(f"Run {path.name}: ").rstrip(".")

    def scan(self) -> tuple[list[Run], list[tuple[str, str]]]:
        """Every run folder read once: (whole runs newest first, [(id, why damaged)])."""
        whole, damaged = [], []
        for path in self._folders():
            run, why = self._read(path)
            if run is None:
                damaged.append((path.name, why))
            else:
                whole.append(run)
        whole.sort(key=lambda r: r.record.created, reverse=True)
        return whole, sorted(damaged, reverse=True)

    def damaged(self) -> list[tuple[str, str]]:
        """(run id, why) for every damaged run folder (core/store/damage.py and a run.json
        of the wrong shape); runs() skips them."""
        return self.scan()[1]

    def runs(self, kind: str | tuple[str, ...] | None = None) -> list[Run]:
        """Whole runs of a kind (or of any of several), newest first; damaged ones are
        listed by damaged() instead."""
        kinds = (kind,) if isinstance(kind, str) else kind
        return [r for r in self.scan()[0] if kinds is None or r.kind in kinds]

    def names(self) -> set[str]:
        """The names of every listed run (each kind)."""
        return {run.name for run in self.runs()}

    def rename(self, run_id: str, name: str, by: Person = SOLO) -> Run:
        name = str(name).strip()
        if not name:
            raise UserError("A run name cannot be empty.")
        run = self.get(run_id)
        by.check_may_change(run.record.owner, f"Run {run_id}")
        run.record.name = name[:100]
        atomic_write_bytes(run.path / META, _dump(run.record).encode())
        return run

    def delete(self, run_id: str, by: Person = SOLO) -> None:
        path = self._path(run_id)
        if path.is_symlink():  # remove the link only, never what it points to
            path.unlink()
            return
        if not path.exists():
            raise UserError(
                f"Run {run_id} no longer exists (deleted in another session?); nothing was deleted."
            )
        by.check_may_change(self._owner(path), f"Run {run_id}")
        trash = self.dir / f".trash-{run_id}"
        os.rename(path, trash)  # gone from listings at once, even if the removal is cut short
        shutil.rmtree(trash, ignore_errors=True)


def _dump(record: RunRecord) -> str:
    return json.dumps(record.to_dict(), indent=1, default=_json_default)


def _json_default(value):
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (pd.Timestamp, datetime)):
        return value.isoformat()
    raise TypeError(f"not JSON serializable: {type(value)}")


def unique_name(base: str, taken: set[str]) -> str:
    """`base`, or `base (2)`, `base (3)`, ... : the first that no run or job has yet."""
    base = base.strip()[:100]
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base} ({n})"
    return name
