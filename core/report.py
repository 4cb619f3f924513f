"""What the Predictions page shows about saved forecast runs, computed from the run store.

Pure metrics live in core/evaluation.py; this module reads saved runs and hands the page
ready series and tables, so the page only draws them.
"""

from __future__ import annotations

import pandas as pd

from core.config import MODELS, TRANSFORM_LABELS
from core.evaluation import (
    METRIC_NAMES,
    best_lag,
    change_skill,
    forecast_metrics,
    in_sample_scale,
    lag_diagnostic,
    metrics_table,
    shift_prediction,
)
from core.runs import Run

NAIVE_ROW = "naive (tomorrow = today)"
MASE_NOTE = (
    "**MASE** = the model's mean absolute error / the naive forecast's in-sample error. "
    "Below 1 beats naive; about 1 is what daily stock prices usually give."
)
DIRECTION_NOTE = (
    "Directional accuracy compares the sign of the predicted and actual move from yesterday; "
    "naive predicts no move, so it has none."
)
CHANGES_NOTE = (
    "This model predicts changes. Its price line is yesterday's actual price plus a small "
    "predicted change, which is why it hugs the actual so closely: judge it by the change "
    "correlation and direction above, not by the price chart."
)
METRIC_LABELS = {
    "rmse": "RMSE",
    "mae": "MAE",
    "mape": "MAPE %",
    "mase": "MASE",
    "directional_accuracy": "directional accuracy",
    "best_lag": "best lag",
    "change_corr": "change corr",
}


def run_series(run: Run) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(actual target over the whole dataset, test predictions, y_{t-1} on the test days)."""
    levels = run.dataset[run.config.target].astype(float)
    return levels, run.predictions["predicted"], run.predictions["naive"]


def run_scale(run: Run) -> float:
    """MASE's denominator of a saved run (the same function its training used)."""
    return in_sample_scale(run.dataset[run.config.target].astype(float), run.train_dates)


def shifted_metrics(run: Run, k: int = 0) -> pd.DataFrame:
    """The metrics table of a run with its prediction shifted k days (k=0: as saved)."""
    levels, pred, previous = run_series(run)
    return metrics_table(levels, shift_prediction(pred, k), previous, run_scale(run))


def labelled(table: pd.DataFrame) -> pd.DataFrame:
    """Metric columns under the names people read."""
    return table.rename(columns=METRIC_LABELS)


def describe_run(run: Run) -> str:
    """One line: ticker, target, model, transform, inputs, window, horizon, epochs, status."""
    cfg = run.config
    inputs = "multivariate: " + ", ".join(cfg.inputs) if cfg.multivariate else "univariate"
    return (
        f"{run.record.data.get('ticker')} {cfg.target}, {MODELS[cfg.model]}, "
        f"{TRANSFORM_LABELS[cfg.transform]}, {inputs}, window {cfg.window}, "
        f"horizon {cfg.horizon}, {run.record.epochs_run} epochs ({run.status})"
    )


def comparison_table(runs: list[Run]) -> pd.DataFrame:
    """Naive (on the first run's test days) and every run: the same metrics, each computed
    the same way from the saved predictions."""
    rows = {}
    for i, run in enumerate(runs):
        levels, pred, previous = run_series(run)
        y = run.predictions["actual"].to_numpy()
        scale = run_scale(run)
        if i == 0:
            naive = forecast_metrics(y, previous.to_numpy(), previous.to_numpy(), scale)
            rows[NAIVE_ROW] = {**naive, "best_lag": best_lag(lag_diagnostic(levels, previous))}
        row = forecast_metrics(y, pred.to_numpy(), previous.to_numpy(), scale)
        row["best_lag"] = best_lag(lag_diagnostic(levels, pred))
        row["change_corr"] = change_skill(y, pred.to_numpy(), previous.to_numpy())["change_corr"]
        rows[run.name] = row
    columns = [*METRIC_NAMES, "best_lag", "change_corr"]
    return labelled(pd.DataFrame.from_dict(rows, orient="index").reindex(columns=columns))


def same_test_days(runs: list[Run]) -> bool:
    return len({tuple(run.predictions.index) for run in runs}) == 1


def origin_view(run: Run, origin: str) -> dict:
    """For a multi-step run and one forecast origin (a date in arrays['origin_dates']): the
    recent history, the forecast and actual paths on their dates, and the input dates."""
    arrays = run.arrays
    levels = run_series(run)[0]
    horizon, window = run.config.horizon, run.config.window
    i = list(arrays["origin_dates"]).index(origin)
    at = levels.index.get_loc(pd.Timestamp(origin))
    target_dates = levels.index[at + 1 : at + 1 + horizon]
    return {
        "history": levels.iloc[max(at + 1 - 3 * horizon, 0) : at + 1],
        "forecast": pd.Series(arrays["forecast_paths"][i], index=target_dates),
        "actual": pd.Series(arrays["actual_paths"][i], index=target_dates),
        "input_dates": [str(d.date()) for d in levels.index[at + 1 - window : at + 1]],
        "attention": arrays["attention"][i] if "attention" in arrays else None,
    }


def future_forecast(run: Run) -> pd.Series:
    """The forecast beyond the data's last date, on business days."""
    arrays = run.arrays
    return pd.Series(arrays["future"], index=pd.to_datetime(arrays["future_dates"]))
