"""A sweep's grid and its trials: SweepSpec (datasets x inputs x transforms x models x
seeds), each trial's settings and data, and `run_trial`, what one Ray task runs inside a
worker (pinned to a core of its own when the sweep has several workers on this machine).
The driver that sends the trials to Ray and keeps the sweep on disk is
core/experiments/sweeps.py.
"""

from __future__ import annotations

import itertools
import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from core.errors import UserError
from core.jobs.worker import claim_core
from core.store.people import SINGLE_USER

INPUTS = ("uni", "multi")
# The grid a new sweep starts with and the short trials it trains, on the Experiments page
# and in `core.cli sweep` alike (the one place they are written).
GRID = {"inputs": ["uni", "multi"], "transforms": ["raw"], "models": ["lstm"], "seeds": [0]}
TRIAL_SETTINGS = {"epochs": 3, "window": 20}


@dataclass
class SweepSpec:
    """The grid, and the settings every trial shares."""

    datasets: list[str]  # "sample:AAPL", "csv:/path/file.csv" or "ticker:MSFT"
    inputs: list[str] = field(default_factory=lambda: list(GRID["inputs"]))
    transforms: list[str] = field(default_factory=lambda: list(GRID["transforms"]))
    models: list[str] = field(default_factory=lambda: list(GRID["models"]))
    seeds: list[int] = field(default_factory=lambda: list(GRID["seeds"]))
    folds: int = 0  # 0 or 1: one train per trial; >= 2: a walk-forward backtest
    multi_features: list[str] = field(default_factory=lambda: ["close", "volume"])
    extra_tickers: list[str] = field(default_factory=list)  # added to "multi" inputs
    settings: dict = field(default_factory=dict)  # TrainConfig fields: epochs, window, ...
    start: str | None = None
    end: str | None = None
    person: str = SINGLE_USER  # whose sweep: its trials' runs are theirs

    def trials(self) -> list[dict]:
        grid = itertools.product(
            self.datasets, self.inputs, self.transforms, self.models, self.seeds
        )
        return [
            {"dataset": d, "inputs": i, "transform": t, "model": m, "seed": s}
            for d, i, t, m, s in grid
        ]

    def check(self) -> None:
        from core.config import TrainConfig

        if not self.datasets:
            raise UserError("Pick at least one dataset for the sweep.")
        for dataset in self.datasets:
            source, _, name = dataset.partition(":")
            if source not in ("sample", "csv", "ticker") or not name:
                raise UserError(
                    f"'{dataset}' is not a dataset; write sample:AAPL, csv:PATH or ticker:MSFT."
                )
        if bad := set(self.inputs) - set(INPUTS):
            raise UserError(f"Unknown inputs {', '.join(bad)}; choose uni and/or multi.")
        from core.models import model_specs

        if (
            unknown := set(self.settings)
            - {s.name for s in TrainConfig.specs()}
            - set(model_specs())
        ):
            raise UserError(f"Unknown settings: {', '.join(sorted(unknown))}.")
        if not self.trials():
            raise UserError("The grid is empty: pick inputs, transforms, models and seeds.")
        for trial in self.trials():
            trial_config(self, trial).check_bounds()


def trial_key(trial: dict) -> str:
    return "|".join(str(trial[k]) for k in ("dataset", "inputs", "transform", "model", "seed"))


def trial_config(spec: SweepSpec, trial: dict, columns=None):
    """The TrainConfig of one trial. Multivariate: the spec's feature columns present in the
    data, plus the extra tickers' closes."""
    from core.config import TrainConfig
    from core.data import extra_column
    from core.models import ARCHITECTURES, model_specs

    settings = dict(spec.settings)
    architecture = ARCHITECTURES.get(trial["model"])  # an unknown key is refused by the config
    if architecture is not None:
        settings.setdefault("horizon", architecture.default_horizon)
        # the grid's shared knobs that this trial's model has (units: not for a TCN)
        own = {s.name for s in architecture.settings.specs()}
        settings = {k: v for k, v in settings.items() if k not in model_specs() or k in own}
    features = ["close"]
    if trial["inputs"] == "multi":
        features = [c for c in spec.multi_features if columns is None or c in columns]
        features += [extra_column(t) for t in spec.extra_tickers]
    return TrainConfig(
        **{
            **settings,
            "transform": trial["transform"],
            "model": trial["model"],
            "seed": int(trial["seed"]),
            "features": features,
        }
    )


def load_trial_dataset(spec: SweepSpec, dataset: str):
    from core.data import load_dataset
    from core.data.datasets import csv_label

    source, _, name = dataset.partition(":")
    extras = list(spec.extra_tickers)
    if source == "csv":  # a file's name is a label, not a ticker: googl_2009_2018.csv
        label = csv_label(name)
        data = load_dataset("csv", label, spec.start, spec.end, extras, csv_file=name)
        data.ticker = label
        return data
    kind = "sample" if source == "sample" else "yahoo"
    return load_dataset(kind, name, spec.start, spec.end, extras)


def run_trial(spec_dict: dict, trial: dict, root: str, sweep_id: str, cores_dir: str = "") -> dict:
    """One trial, inside a Ray worker: train (or backtest), save, summarize. Never raises:
    a failure comes back with its message. `import_seconds`: what its imports took (a Ray
    worker imports Keras in its first trial only: workers stay warm across trials)."""
    entered = time.monotonic()
    core = claim_core(Path(cores_dir)) if cores_dir else None  # before any library's threads
    import keras
    import ray

    from core.experiments.backtest import backtest
    from core.pipeline.forecast import train_forecaster
    from core.present.labels import default_run_name
    from core.store.runs import RunStore

    if keras.config.backend() == "tensorflow":  # JAX reads its threads from XLA_FLAGS
        import tensorflow as tf

        try:  # one core per trial (only possible before TensorFlow's first op in this worker)
            tf.config.threading.set_intra_op_parallelism_threads(1)
            tf.config.threading.set_inter_op_parallelism_threads(1)
        except RuntimeError:
            pass
    started, cpu = time.monotonic(), time.process_time()
    context = ray.get_runtime_context()
    out = {"node": context.get_node_id()[:8], "ip": ray.util.get_node_ip_address()}
    out["import_seconds"], out["pid"] = round(started - entered, 2), os.getpid()
    out["core"] = core
    try:
        spec = SweepSpec(**spec_dict)
        data = load_trial_dataset(spec, trial["dataset"])
        config = trial_config(spec, trial, data.frame.columns)
        # its own name in the run lists: which trial, which seed, which sweep
        label = f"{default_run_name(config, data.describe())}, seed {config.seed}"
        config = replace(config, name=f"{label} (sweep {sweep_id[:8]})")
        store, tags = RunStore(root), {"sweep": sweep_id, "trial": trial_key(trial)}
        if spec.folds >= 2:
            result = backtest(
                data.frame, data.describe(), config, spec.folds, store, tags=tags, owner=spec.person
            )
            pooled = result["pooled"]
            run_ids = [f["run_id"] for f in result["folds"]]
            metrics = {k: pooled[k] for k in ("rel_mae", "dm_pvalue", "verdict")}
            out["folds"] = result["folds"]
        else:
            result = train_forecaster(
                data.frame, data.describe(), config, store, tags=tags, owner=spec.person
            )
            run_ids = [result["run_id"]]
            metrics = {k: result["metrics"][k] for k in ("rel_mae", "dm_pvalue")}
            metrics["verdict"] = result["verdict"]
        out.update(status="finished", run_ids=run_ids, metrics=metrics)
    except Exception as exc:  # noqa: BLE001 (a trial's failure is data, not a crash of the sweep)
        out.update(status="failed", message=str(exc) or type(exc).__name__)
    out["seconds"] = round(time.monotonic() - started, 2)
    out["cpu_seconds"] = round(time.process_time() - cpu, 2)
    return out
