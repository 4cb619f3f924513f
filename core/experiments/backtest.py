"""Walk-forward backtests: K contiguous test folds at the end of the series.

Fold k's test part is as long as a single run's (the config's test share of the rows); the
folds sit end to end at the end of the series and never overlap. Each fold trains on the
rows before it, validates (early stopping) on the validation share just before it, and
sees nothing after its own end: its frame is cut there. Every fold is saved as a run,
tagged with the backtest's id and its fold number, and scored like any run (verdict and
baselines included). Pooled metrics put the folds' errors together.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pandas as pd

from core.config import TrainConfig
from core.errors import UserError
from core.forecasting.evaluation import move_test, skill_against_naive, verdict
from core.pipeline.forecast import train_forecaster
from core.pipeline.scoring import direction_only
from core.present.labels import default_run_name
from core.store.people import SINGLE_USER
from core.store.runs import Run, RunStore


def fold_bounds(rows: int, folds: int, val_frac: float, test_frac: float) -> list[list]:
    """Per fold: (train, validation, test) row ranges within the frame cut at the fold's
    end. The folds' test parts are contiguous, equal and at the end of the series."""
    if folds < 1:
        raise UserError("A backtest needs at least one fold.")
    fold_len, n_val = int(round(rows * test_frac)), int(round(rows * val_frac))
    first = rows - folds * fold_len
    if first - n_val < 2 * n_val:
        raise UserError(
            f"{folds} folds of {fold_len} days each leave {max(first - n_val, 0)} training "
            f"days before the first fold. Use fewer folds, a smaller test share or more data."
        )
    out = []
    for k in range(folds):
        start = first + k * fold_len
        out.append([(0, start - n_val), (start - n_val, start), (start, start + fold_len)])
    return out


def fold_frames(
    frame: pd.DataFrame, config: TrainConfig, folds: int
) -> list[tuple[pd.DataFrame, list]]:
    """Each fold's frame (cut at the fold's end) with its split bounds."""
    bounds = fold_bounds(len(frame), folds, config.val_frac, config.test_frac)
    return [(frame.iloc[: b[2][1]], b) for b in bounds]


def backtest(
    frame: pd.DataFrame,
    data_desc: dict,
    config: TrainConfig,
    folds: int,
    store: RunStore,
    emit: Callable[[dict], None] = lambda event: None,
    tags: dict | None = None,
    owner: str = SINGLE_USER,
) -> dict:
    """Train and score every fold (each run `owner`'s); the CLI's JSON: folds with their dates and metrics, and
    the pooled metrics of the model and each baseline."""
    backtest_id = uuid.uuid4().hex[:8]
    base = config.name or default_run_name(config, data_desc)
    runs = []
    for k, (part, bounds) in enumerate(fold_frames(frame, config, folds), start=1):
        emit({"type": "fold", "fold": k, "folds": folds})
        summary = train_forecaster(
            part,
            data_desc,
            replace(config, name=f"{base} fold {k}/{folds}"),
            store,
            emit=emit,
            bounds=bounds,
            tags={**(tags or {}), "backtest": backtest_id, "fold": k},
            owner=owner,
        )
        runs.append(store.get(summary["run_id"]))
    return {
        "backtest_id": backtest_id,
        "folds": [fold_summary(k, run) for k, run in enumerate(runs, start=1)],
        "pooled": pooled_scores(runs),
    }


def fold_summary(k: int, run: Run) -> dict:
    dates = run.record.split_dates
    return {
        "fold": k,
        "run_id": run.id,
        "train_end": dates["train"][1],
        "test_start": dates["test"][0],
        "test_end": dates["test"][1],
        "metrics": {**run.metrics, "verdict": run.record.verdict},
        "baselines": {name: s["rel_mae"] for name, s in run.record.baselines.items()},
    }


def pooled_paths(runs: list[Run]) -> dict[str, np.ndarray]:
    """Every fold's test paths, end to end: actual, model, naive and each baseline (as
    baseline_NAME)."""
    arrays = [
        {"actual_paths": r.paths.actual_paths, "forecast_paths": r.paths.forecast_paths}
        | {f"baseline_{name}": p for name, p in r.paths.baselines.items()}
        for r in runs
    ]
    return {key: np.concatenate([a[key] for a in arrays]) for key in arrays[0]}


def pooled_scores(runs: list[Run]) -> dict:
    """Relative MAE and the DM test on the pooled errors of all folds, for the model and
    each baseline against naive, and the model's pooled verdict."""
    paths = pooled_paths(runs)
    actual, naive = paths["actual_paths"], paths["baseline_naive"]
    model = skill_against_naive(actual, paths["forecast_paths"], naive)
    model |= move_test(actual[:, 0], paths["forecast_paths"][:, 0], naive[:, 0])
    model["verdict"] = verdict(
        model["rel_mae"], model["dm_stat"], model["dm_pvalue"], model["move_pvalue"]
    )
    model["days"] = int(actual.shape[0])
    model["mae"] = float(np.mean(np.abs(paths["forecast_paths"][:, 0] - actual[:, 0])))
    model["baselines"] = {}
    for key, p in paths.items():
        name = key.removeprefix("baseline_")
        if key.startswith("baseline_") and name != "naive":
            model["baselines"][name] = direction_only(name, skill_against_naive(actual, p, naive))
    return model
