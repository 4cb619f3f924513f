"""A sweep's grid and its trials: SweepSpec (datasets x inputs x transforms x models x
seeds), each trial's settings and data, and `run_trials`, what one Ray task runs inside a
worker (pinned to a core of its own when the sweep has several workers on this machine).
The driver that sends the trials to Ray and keeps the sweep on disk is
core/experiments/sweeps.py.

A task is one trial, or (`seed_sets`, the default) a configuration's consecutive seeds
trained together as one seed set (core/forecasting/seedset.py): one program for all of
them, each seed still a trial of its own with its own scores (`trial_batches`).
"""

from __future__ import annotations

import itertools
import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from core.errors import UserError

INPUTS = ("uni", "multi")


@dataclass
class SweepSpec:
    """The grid, and the settings every trial shares."""

    datasets: list[str]  # "sample:AAPL", "csv:/path/file.csv" or "ticker:MSFT"
    inputs: list[str] = field(default_factory=lambda: ["uni", "multi"])
    transforms: list[str] = field(default_factory=lambda: ["raw"])
    models: list[str] = field(default_factory=lambda: ["lstm"])
    seeds: list[int] = field(default_factory=lambda: [0])
    folds: int = 0  # 0 or 1: one train per trial; >= 2: a walk-forward backtest
    multi_features: list[str] = field(default_factory=lambda: ["close", "volume"])
    extra_tickers: list[str] = field(default_factory=list)  # added to "multi" inputs
    settings: dict = field(default_factory=dict)  # TrainConfig fields: epochs, window, ...
    start: str | None = None
    end: str | None = None
    seed_sets: bool = True  # a configuration's consecutive seeds train together (one task)

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
        if unknown := set(self.settings) - {s.name for s in TrainConfig.specs()}:
            raise UserError(f"Unknown settings: {', '.join(sorted(unknown))}.")
        if not self.trials():
            raise UserError("The grid is empty: pick inputs, transforms, models and seeds.")
        for trial in self.trials():
            trial_config(self, trial).check_bounds()


def trial_key(trial: dict) -> str:
    return "|".join(str(trial[k]) for k in ("dataset", "inputs", "transform", "model", "seed"))


def trial_batches(spec: SweepSpec, keys: list[str], in_flight: int = 1) -> list[list[str]]:
    """The tasks of a sweep's trials `keys` (in their order): each trial alone, or with
    `spec.seed_sets` the trials of one configuration whose seeds follow on (seed, seed + 1,
    ...: a seed set's seeds) as one task, at most MAX_SEEDS a task. A configuration's seeds
    are cut into as many tasks as it takes to give `in_flight` workers a task each. Not for
    backtests (folds >= 2) nor for trials that are seed sets already (`n_seeds` > 1)."""
    from core.config import TrainConfig

    most = TrainConfig.spec("n_seeds").hi
    if not spec.seed_sets or spec.folds >= 2 or int(spec.settings.get("n_seeds", 1)) > 1:
        return [[k] for k in keys]
    groups: dict[str, list[str]] = {}
    for key in keys:
        groups.setdefault(key.rsplit("|", 1)[0], []).append(key)
    runs = []  # each configuration's seeds that follow on
    for group in groups.values():
        group = sorted(group, key=lambda k: int(k.rsplit("|", 1)[1]))
        run = [group[0]]
        for key in group[1:]:
            if int(key.rsplit("|", 1)[1]) == int(run[-1].rsplit("|", 1)[1]) + 1:
                run.append(key)
            else:
                runs.append(run)
                run = [key]
        runs.append(run)
    cuts = max(1, -(-in_flight // len(runs)))  # tasks a run is cut into, when it can be
    batches = []
    for run in runs:
        pieces = max(min(len(run), cuts), -(-len(run) // most))
        size, more = divmod(len(run), pieces)  # sizes that differ by one at most
        ends = list(itertools.accumulate(size + (i < more) for i in range(pieces)))
        batches += [run[end - size - (i < more) : end] for i, end in enumerate(ends)]
    order = {key: i for i, key in enumerate(keys)}
    return sorted(batches, key=lambda batch: order[batch[0]])


def trial_config(spec: SweepSpec, trial: dict, columns=None):
    """The TrainConfig of one trial. Multivariate: the spec's feature columns present in the
    data, plus the extra tickers' closes."""
    from core.config import TrainConfig
    from core.data import extra_column
    from core.forecasting.architectures import ARCHITECTURES

    settings = dict(spec.settings)
    architecture = ARCHITECTURES.get(trial["model"])  # an unknown key is refused by the config
    if architecture is not None:
        settings.setdefault("horizon", architecture.default_horizon)
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


_CLAIMED: list = []  # the lock file this worker process holds on its core


def claim_core(folder: Path) -> int | None:
    """Pin this process (a Ray worker, once: workers stay for the whole sweep) to a core no
    other worker of the sweep holds, by an exclusive lock on folder/CORE.lock that lasts as
    long as the process; the core, or None when every core is held."""
    import fcntl

    if _CLAIMED:
        return _CLAIMED[0][0]
    folder.mkdir(parents=True, exist_ok=True)
    for core in sorted(os.sched_getaffinity(0)):
        handle = open(folder / f"{core}.lock", "w")  # held for the process's life
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            continue
        os.sched_setaffinity(0, {core})
        _CLAIMED.append((core, handle))
        return core
    return None


def run_trials(
    spec_dict: dict, trials: list[dict], root: str, sweep_id: str, cores_dir: str = ""
) -> list[dict]:
    """One task inside a Ray worker: its trials (one, or a configuration's seeds as one seed
    set: `trial_batches`) trained (or backtested), saved and summarized, a result for each.
    Never raises: a failure comes back with its message. `import_seconds`: what its imports
    took (a Ray worker imports Keras in its first task only: workers stay warm). A seed
    set's trials share its run and each gets its share of the set's time."""
    entered = time.monotonic()
    core = claim_core(Path(cores_dir)) if cores_dir else None  # before any library's threads
    import keras
    import ray

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
        outcomes = _train_trials(spec, trials, root, sweep_id)
    except Exception as exc:  # noqa: BLE001 (a trial's failure is data, not a crash of the sweep)
        outcomes = [{"status": "failed", "message": str(exc) or type(exc).__name__}] * len(trials)
    seconds, cpu = time.monotonic() - started, time.process_time() - cpu
    share = {"seconds": round(seconds / len(trials), 2), "cpu_seconds": round(cpu / len(trials), 2)}
    if len(trials) > 1:
        share["seed_set"] = [int(t["seed"]) for t in trials]
    return [{**out, **outcome, **share} for outcome in outcomes]


def _train_trials(spec: SweepSpec, trials: list[dict], root: str, sweep_id: str) -> list[dict]:
    """Train the trials (several: seeds that follow on, as one seed set) and return each
    one's status, run ids and metrics."""
    from core.experiments.backtest import backtest
    from core.pipeline.forecast import train_forecaster
    from core.present.labels import default_run_name
    from core.store.runs import RunStore

    first = trials[0]
    data = load_trial_dataset(spec, first["dataset"])
    config = trial_config(spec, first, data.frame.columns)
    seeds = [int(t["seed"]) for t in trials]
    if len(trials) > 1:
        config = replace(config, n_seeds=len(trials))
    # its own name in the run lists: which trial, which seed(s), which sweep
    said = f"seed {seeds[0]}" if len(seeds) == 1 else f"seeds {seeds[0]}-{seeds[-1]}"
    config = replace(
        config, name=f"{default_run_name(config, data.describe())}, {said} (sweep {sweep_id[:8]})"
    )
    store = RunStore(root)
    tags = {"sweep": sweep_id, "trial": trial_key(first)}
    if len(trials) > 1:
        tags["trials"] = [trial_key(t) for t in trials]
    if spec.folds >= 2:
        result = backtest(data.frame, data.describe(), config, spec.folds, store, tags=tags)
        pooled = result["pooled"]
        metrics = {k: pooled[k] for k in ("rel_mae", "dm_pvalue", "verdict")}
        run_ids = [f["run_id"] for f in result["folds"]]
        return [dict(status="finished", run_ids=run_ids, metrics=metrics, folds=result["folds"])]
    result = train_forecaster(data.frame, data.describe(), config, store, tags=tags)
    own = {row["seed"]: row for row in result["seeds"]}  # each seed's own scores
    return [
        {
            "status": "finished",
            "run_ids": [result["run_id"]],
            "metrics": {k: own[seed][k] for k in ("rel_mae", "dm_pvalue", "verdict")},
        }
        for seed in seeds
    ]
