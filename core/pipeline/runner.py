"""One run of any kind: prepare -> fit -> predict and score -> save.

Every kind of run goes through `run`, the same steps in the same order; what differs
between kinds is an entry of the run-kind table (core/pipeline/kinds.py): how it prepares
its data, builds its model, turns the fitted model into tables and scores, and sums itself
up. Runs in the worker process (Keras is imported by the steps that need it).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from core.config import Settings
from core.forecasting.paths import ForecastPaths, WindowErrors
from core.forecasting.windows import ModelData
from core.kinds import CONFIGS
from core.pipeline.alongside import Alongside
from core.pipeline.fitting import fit_model, record_of_fit, seed_everything, use_backend
from core.store.checkpoint import Checkpointer
from core.store.people import SINGLE_USER
from core.store.runs import RunRecord, RunStore, unique_name


def _no_event(event: dict) -> None:
    return None


def _never() -> bool:
    return False


@dataclass
class RunRequest:
    """One run to make: its data, its config (settings), where it is saved and how it reports."""

    frame: pd.DataFrame
    data_desc: dict  # Dataset.describe()
    config: Settings  # the kind's settings dataclass (core.kinds.CONFIGS[kind])
    store: RunStore
    emit: Callable[[dict], None] = _no_event  # live events (start, batch, epoch)
    should_stop: Callable[[], bool] = _never  # checked after every batch
    checkpoint: Checkpointer | None = None  # keeps each epoch; resumes from kept ones
    bounds: list[tuple[int, int]] | None = None  # a fixed split (a backtest fold)
    tags: dict = field(default_factory=dict)  # kept with the run (sweep, fold)
    owner: str = SINGLE_USER  # who the run belongs to (core/store/people.py)
    run_id: str = ""  # a job's id: one id from submit to saved run
    name: str = ""  # a job's label


@dataclass
class Outcome:
    """What a kind's last step hands back to be saved."""

    tables: dict[str, pd.DataFrame]  # NAME.parquet
    artifacts: ForecastPaths | WindowErrors  # arrays.npz
    fields: dict  # the record's own fields for this kind (metrics, verdict, threshold ...)


@dataclass(frozen=True)
class RunKind:
    """One entry of the run-kind table: the steps that make a run of this kind."""

    key: str  # saved as the run's kind; its settings class is core.kinds.CONFIGS[key]
    prepare: Callable[[pd.DataFrame, Any, Any], ModelData]  # (frame, config, bounds)
    build: Callable[[Any, ModelData], tuple[Any, Any]]  # -> (model, what else it built)
    finish: Callable[..., Outcome]  # (data, model, extra, alongside's answer, config)
    default_name: Callable[[Any, dict], str]  # (config, data description)
    summary: Callable[[RunRecord], dict]  # its results for the CLI's JSON and the job
    # Work that needs no model, as (function, *args) from the prepared data: run in a
    # process of its own while the model trains (core/pipeline/alongside.py).
    alongside: Callable[[ModelData, Path], tuple] | None = None  # (data, workspace)
    # The frame a run of this kind trains on and keeps, from the one it was given (a spread
    # run adds its spread column); None: the frame as given.
    frame_for: Callable[[pd.DataFrame, Any], pd.DataFrame] | None = None

    @property
    def config_class(self) -> type[Settings]:
        return CONFIGS[self.key]


def run(kind: RunKind, request: RunRequest) -> dict:
    """Make one run of `kind` and save it; its summary (what the CLI prints)."""
    config, store = request.config, request.store
    frame = kind.frame_for(request.frame, config) if kind.frame_for else request.frame
    data = kind.prepare(frame, config, request.bounds)
    side = Alongside(*kind.alongside(data, store.root)) if kind.alongside else nullcontext()
    with side:
        use_backend(config.backend, store.root)
        started = time.monotonic()  # the run's seconds: after the import, as in the app
        seed_everything(config.seed)
        model, extra = kind.build(config, data)
        fitted = fit_model(
            model, data, config, request.emit, request.should_stop, request.checkpoint
        )
        answer = side.result() if kind.alongside else None
        outcome = kind.finish(data, model, extra, answer, config)
    name = unique_name(  # a job's name is unique already; a sweep's or a script's may not be
        request.name or getattr(config, "name", "") or kind.default_name(config, request.data_desc),
        store.names(),
    )
    record = record_of_fit(
        kind.key,
        name,
        config,
        request.data_desc,
        data,
        fitted,
        started,
        tags=request.tags,
        owner=request.owner,
        id=request.run_id,
        **outcome.fields,
    )
    store.save(record, outcome.tables, frame, outcome.artifacts, model=model)
    return {
        "run_id": record.id,
        "status": record.status,
        "epochs_run": record.epochs_run,
        "seconds": round(record.seconds, 2),
        **kind.summary(record),
    }
