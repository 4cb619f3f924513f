"""What the Predictions page shows about saved forecast runs, computed from the run store.

Pure metrics live in core/evaluation.py; this module reads saved runs and hands the page
ready series and tables, so the page only draws them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.charts import attention_ratio
from core.config import MODELS, TRANSFORM_LABELS
from core.evaluation import (
    METRIC_NAMES,
    best_lag,
    change_skill,
    forecast_metrics,
    horizon_errors,
    in_sample_scale,
    lag_diagnostic,
    metrics_table,
    relative_mae,
    score_forecast,
    shift_prediction,
    verdict_sentence,
)
from core.runs import Run

NAIVE_ROW = "naive (tomorrow = today)"
MASE_NOTE = (
    "**rel. MAE** = the MAE divided by naive's MAE on the same test days: naive is 1 by "
    "construction, below 1 is better than naive. **MASE** divides by naive's error on the "
    "training part instead, so when the test period is more volatile than the training part "
    "even naive scores far above 1: read it against naive's own row."
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
    "rel_mae": "rel. MAE",
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


def shift_label(k: int) -> str:
    """The metrics row of a prediction lined up with the price k days before its target."""
    if k == 0:
        return "model"
    return f"model shifted k = {k:+d} (look-ahead, not a forecast)"


def shift_note(k: int) -> str:
    """What a shifted row means, said plainly (empty for k = 0)."""
    if k > 0:
        return (
            f"Shifted by k = {k:+d}: each prediction is compared with the price {k} day(s) "
            "before its target day, a day it was made on or after. It uses that day's price, "
            "so it is not a forecast; the verdict uses k = 0 only."
        )
    if k < 0:
        return (
            f"Shifted by k = {k:+d}: each prediction is compared with the price {-k} day(s) "
            "after its target day, which it was never made for. The verdict uses k = 0 only."
        )
    return ""


def shifted_metrics(run: Run, k: int = 0) -> pd.DataFrame:
    """The metrics table of a run with its prediction lined up with the actual price k days
    before (k = 0: as saved; k = 1 lines an echo of yesterday up)."""
    levels, pred, previous = run_series(run)
    return metrics_table(
        levels, shift_prediction(pred, k), previous, run_scale(run), label=shift_label(k)
    )


def verdict_of(run: Run) -> tuple[str, str]:
    """(verdict, its sentence). Runs saved before verdicts existed are scored now, from
    their saved predictions, the same way."""
    metrics, verdict = run.metrics, run.record.verdict
    if not verdict:
        levels = run_series(run)[0]
        metrics, _, verdict = score_forecast(levels, run.predictions, run.arrays, run.train_dates)
    return verdict, verdict_sentence({**metrics, "verdict": verdict})


def attention_note(weights) -> str:
    """Whether the attention singles out any input day, in one sentence."""
    ratio = attention_ratio(weights)
    top = float(ratio.max())
    if np.max(np.abs(ratio - 1)) < 0.1:
        return (
            f"Attention is near uniform: every input day gets within 10 % of 1/{ratio.shape[-1]} "
            "of the weight, so the model singles out no day."
        )
    return f"The most attended input day gets {top:.1f} x the uniform weight (1 = uniform)."


def naive_horizon_errors(run: Run) -> pd.DataFrame:
    """Naive's errors by horizon step from the same origins (every step = the origin's price)."""
    arrays = run.arrays
    origin_price = run.predictions["naive"].to_numpy()[:, None]
    naive_paths = np.repeat(origin_price, arrays["actual_paths"].shape[1], axis=1)
    return horizon_errors(arrays["actual_paths"], naive_paths)


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
            naive_lag = best_lag(lag_diagnostic(levels, previous))
            rows[NAIVE_ROW] = {**naive, "rel_mae": 1.0, "best_lag": naive_lag}
        row = forecast_metrics(y, pred.to_numpy(), previous.to_numpy(), scale)
        row["rel_mae"] = relative_mae(y, pred, previous)
        row["best_lag"] = best_lag(lag_diagnostic(levels, pred))
        row["change_corr"] = change_skill(y, pred.to_numpy(), previous.to_numpy())["change_corr"]
        row["verdict"] = run.record.verdict
        rows[run.name] = row
    columns = ["verdict", *METRIC_NAMES, "best_lag", "change_corr"]
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
