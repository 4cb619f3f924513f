"""What the Predictions page shows about saved forecast runs, computed from the run store.

Pure metrics live in core/forecasting/evaluation.py; this module reads saved runs and hands the page
ready series and tables, so the page only draws them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core import fmt
from core.config import MODELS
from core.forecasting.baselines import ALL_BASELINES, BASELINE_LABELS
from core.forecasting.evaluation import (
    METRIC_NAMES,
    SIGNIFICANCE,
    best_lag,
    change_skill,
    forecast_metrics,
    horizon_errors,
    in_sample_scale,
    lag_diagnostic,
    metrics_table,
    relative_mae,
    run_positions,
    shift_prediction,
)
from core.forecasting.intervals import METHODS, prediction_intervals
from core.forecasting.intervals import future_band as band_beyond
from core.present.charts import attention_ratio
from core.present.labels import transform_label
from core.present.sentences import (
    band_score_sentence,
    moves_sentence,
    returns_sentence,
    seeds_sentence,
    verdict_sentence,
)
from core.store.runs import Run

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
    "fitted": "fitted (scale)",
    "rel_mae": "rel. MAE",
    "rmse": "RMSE",
    "mae": "MAE",
    "mape": "MAPE %",
    "mase": "MASE",
    "directional_accuracy": "directional accuracy",
    "best_lag": "best lag",
    "change_corr": "change corr",
    "dm_pvalue": "DM p-value",
    "move_pvalue": "moves p-value",
    "detectable_rel_mae": "detectable",
    "up_share": "says up",
}
# How each metric column reads on screen (downloads keep the full numbers).
METRIC_FORMATS = {
    "rel. MAE": fmt.num,
    "RMSE": fmt.num,
    "MAE": fmt.num,
    "MAPE %": lambda v: fmt.num(v, 2),
    "MASE": fmt.num,
    "directional accuracy": fmt.pct,
    "best lag": lambda v: fmt.text(v if fmt.missing(v) else int(v)),
    "change corr": fmt.num,
    "DM p-value": fmt.pvalue,
    "moves p-value": fmt.pvalue,
    "detectable": fmt.pct,
    "MAE ratio": fmt.num,
    "says up": fmt.pct,
    "model MAE": fmt.num,
    "coverage": fmt.pct,
    "band width": fmt.num,
}
# What the ranked table can be ranked by, and which way is better.
RANK_BY = {"rel_mae": True, "rmse": True, "mae": True, "mase": True, "directional_accuracy": False}
RANKED_COLUMNS = [
    "verdict",
    "rel_mae",
    "dm_pvalue",
    "move_pvalue",
    "rmse",
    "mae",
    "mape",
    "mase",
    "directional_accuracy",
    "up_share",
    "best_lag",
    "fitted",
]
RANKED_NOTE = (
    "rel. MAE and the DM p-value (against naive) count every step of every forecast path; the "
    "other columns are one day ahead. **moves p-value**: do the predicted moves (forecast "
    "minus yesterday's price) follow the actual moves? The larger p of two one-sided tests on moves "
    "scaled by the volatility before each day (a HAC regression and a weighted sign test), so a "
    "few wild days cannot decide it; an echo's carry nothing. **says up**: the share of days the forecast was above "
    "yesterday's price. A directional accuracy no higher than always-up's is no skill."
)


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


def run_metrics(run: Run) -> tuple[dict, str]:
    """(metrics, verdict) as saved (runs saved before verdicts are scored when read:
    core/store/migrate.py)."""
    return run.metrics, run.record.verdict


def same_test_days_as(run: Run, runs: list[Run]) -> list[Run]:
    """The runs (this one included) forecasting the same series over the same test part
    (its first and last day, from run.json: no table is read)."""

    def key(r: Run) -> tuple:
        return r.record.data.get("ticker"), r.config.target, r.record.split_dates.get("test")

    return [r for r in runs if key(r) == key(run)]


def tries_note(run: Run, runs: list[Run]) -> str:
    """How many runs were tried on these test days, and what that does to a best one."""
    alike = same_test_days_as(run, runs)
    n = len(alike)
    if n < 2:
        return ""
    sweeps = {r.record.tags["sweep"] for r in alike if r.record.tags.get("sweep")}
    trials = sum(bool(r.record.tags.get("sweep")) for r in alike)
    of_sweeps = (
        f" ({trials} of them the trials of {fmt.count(len(sweeps), 'sweep')}: each counts as a try)"
        if trials
        else ""
    )
    return (
        f"This run is one of {n} saved runs of {run.record.data.get('ticker')} on these test "
        f"days{of_sweeps}. The best of {n} tries looks good by chance: among {n} runs without skill one "
        f"is called better than naive now and then. To stand for all {n}, a p-value would "
        f"need to be below {fmt.pvalue(SIGNIFICANCE / n)} (Bonferroni); a sweep tests its "
        "settings as a whole (SPA) on the Experiments page."
    )


def seeds_note(run: Run) -> str:
    """How many seeds the verdict rests on, and how many agree with it."""
    return seeds_sentence(run.record.seeds, run.record.seeds_agreeing, run.record.verdict)


def noun(run: Run) -> str:
    """What a run forecasts, in one word: "price", or "spread" for a spread run."""
    return "spread" if run.kind == "spread" else "price"


def moves_note(run: Run) -> str:
    """The forecast split into yesterday's price and a move: the moves' size."""
    return moves_sentence(run.record.moves, run.record.verdict, noun(run))


def returns_note(run: Run) -> str:
    """The run on log returns: errors against naive's zero return, hit rate, long/flat."""
    return returns_sentence(run.record.returns)


def verdict_of(run: Run) -> tuple[str, str]:
    """(verdict, its sentence)."""
    metrics, verdict = run_metrics(run)
    return verdict, verdict_sentence({**metrics, "verdict": verdict}, noun(run))


def ranked_table(run: Run, shift: int = 0, rank_by: str = "rel_mae") -> pd.DataFrame:
    """The model and every baseline on the same test days, ranked by one metric (best
    first), each with its verdict. With k != 0 the shifted model joins as a look-ahead
    row. Runs saved before baselines existed show naive only."""
    metrics, verdict = run_metrics(run)
    rows = {"model": {**metrics, "verdict": verdict, "fitted": ""}}
    if shift:
        shifted = shifted_metrics(run, shift).iloc[0].to_dict()
        rows[shift_label(shift)] = {**shifted, "verdict": "look-ahead", "fitted": ""}
    for name, scores in run.record.baselines.items():
        label = BASELINE_LABELS.get(name, name)
        rows[label] = {**scores, "verdict": scores.get("verdict") or "direction only"}
    if not run.record.baselines:
        rows[NAIVE_ROW] = {**shifted_metrics(run).loc[NAIVE_ROW].to_dict(), "verdict": ""}
    table = pd.DataFrame.from_dict(rows, orient="index").reindex(columns=RANKED_COLUMNS)
    table = table.sort_values(rank_by, ascending=RANK_BY[rank_by], na_position="last")
    return labelled(table)


def baseline_lines(run: Run) -> dict[str, pd.Series]:
    """Each baseline's one-day-ahead forecast on the test days, by label (naive has its own
    line; a direction-only baseline draws no price line)."""
    index = run.predictions.index
    return {
        cls.label: pd.Series(run.paths.baselines[name][:, 0], index=index)
        for name, cls in ALL_BASELINES.items()
        if name != "naive" and not cls.direction_only and name in run.paths.baselines
    }


def run_band(run: Run, level: int) -> dict | None:
    """The model's conformal band at `level` % on the test days, with its coverage; None
    for runs saved before intervals existed (no validation forecasts kept)."""
    if not run.paths.has_validation:
        return None
    levels = run_series(run)[0]
    method = run.record.intervals.get("method", "rolling")  # as the run was scored
    return prediction_intervals(run.paths, run_positions(levels, run.paths), level, method)


def band_series(band: dict, step: int = 0, row: int | None = None, index=None):
    """(lower, upper) of one horizon step over the test days, or of one origin's path."""
    lower, upper = band["lower"], band["upper"]
    if row is None:
        return pd.Series(lower[:, step], index=index), pd.Series(upper[:, step], index=index)
    return pd.Series(lower[row], index=index), pd.Series(upper[row], index=index)


def band_caption(band: dict, scores: dict | None = None) -> str:
    """The band's method, coverage and width, and (as saved) its interval score beside
    naive's own band's."""
    method = METHODS.get(band.get("method", "rolling"), band.get("method", ""))
    scale = ", on the log scale" if band.get("scale") == "log" else ""
    text = (
        f"{band['level']} % prediction interval ({method}{scale}): it held the "
        f"actual price on {fmt.pct(band['coverage'])} of test days (target {band['level']} %), "
        f"mean width {fmt.num(band['mean_width'], 2)}."
    )
    if scores and not fmt.missing(scores.get("score")) and scores.get("level") == band["level"]:
        text += " " + band_score_sentence(scores)
    return text


def future_band(run: Run, level: int) -> tuple[pd.Series, pd.Series] | None:
    if not run.paths.has_validation:
        return None
    future = future_forecast(run)
    lower, upper = band_beyond(run.paths, future.to_numpy(), level)
    return pd.Series(lower, index=future.index), pd.Series(upper, index=future.index)


def by_step_table(run: Run) -> pd.DataFrame:
    """Errors by horizon step: the model, naive and each baseline (MAE), and the band."""
    table = pd.DataFrame(run.record.by_step).set_index("step")
    names = {"mae": "model MAE"}
    for name, cls in ALL_BASELINES.items():
        if not cls.direction_only:
            names[f"{name}_mae"] = f"{cls.label.split(' (')[0]} MAE"
    names.update(coverage="coverage", width="band width")
    return table[[c for c in names if c in table.columns]].rename(columns=names)


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


RECENT_DAYS = 5  # "the last days" when attention and attribution are compared


def attention_against_attribution(weights, shares) -> str:
    """Attention says where the decoder looks; the attribution says what moves the forecast.
    Their shares on the last RECENT_DAYS window days, and whether they disagree."""
    if weights is None or shares is None:
        return ""
    looked = np.asarray(weights, float).mean(axis=(0, 1))  # per window day
    looked = looked / looked.sum()
    moved = np.asarray(shares, float).sum(axis=1)
    k = min(RECENT_DAYS, len(looked))
    a, b = float(looked[-k:].sum()), float(moved[-k:].sum())
    words = (
        f"Attention puts {fmt.pct(a, 0)} of its weight on the last {k} days; the attribution "
        f"puts {fmt.pct(b, 0)} of the predicted move there."
    )
    if abs(a - b) > 0.2:
        return words + (
            " They disagree: attention shows where the decoder looks, the attribution what "
            "changes its forecast; read the attribution for 'what mattered'."
        )
    return words + " They agree."


def naive_horizon_errors(run: Run) -> pd.DataFrame:
    """Naive's errors by horizon step from the same origins (every step = the origin's price)."""
    actual = run.paths.actual_paths
    origin_price = run.predictions["naive"].to_numpy()[:, None]
    return horizon_errors(actual, np.repeat(origin_price, actual.shape[1], axis=1))


def labelled(table: pd.DataFrame) -> pd.DataFrame:
    """Metric columns under the names people read."""
    return table.rename(columns=METRIC_LABELS)


def shown(table: pd.DataFrame) -> pd.DataFrame:
    """A labelled metrics table as text, each column formatted as people read it (core/fmt.py);
    baseline MAE columns of the by-step table read like the model's."""
    formats = {c: fmt.num for c in table.columns if c.endswith(" MAE")} | METRIC_FORMATS
    return fmt.table(table, formats)


def describe_run(run: Run) -> str:
    """One line: ticker, target, model, transform, inputs, window, horizon, epochs, status."""
    cfg = run.config
    inputs = "multivariate: " + ", ".join(cfg.inputs) if cfg.multivariate else "univariate"
    return (
        f"{run.record.data.get('ticker')} {cfg.target}, {MODELS[cfg.model]}, "
        f"{transform_label(cfg)}, {inputs}, window {cfg.window}, "
        f"horizon {cfg.horizon}, {fmt.count(run.record.epochs_run, 'epoch')} ({run.status})"
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
        row["dm_pvalue"] = run.metrics.get("dm_pvalue")
        rows[run.name] = row
    columns = ["verdict", *METRIC_NAMES, "dm_pvalue", "best_lag", "change_corr"]
    return labelled(pd.DataFrame.from_dict(rows, orient="index").reindex(columns=columns))


def same_test_days(runs: list[Run]) -> bool:
    return len({tuple(run.predictions.index) for run in runs}) == 1


def origin_view(run: Run, origin: str) -> dict:
    """For a multi-step run and one forecast origin (a date of its paths' origin_dates): the
    recent history, the forecast and actual paths on their dates, and the input dates."""
    paths = run.paths
    levels = run_series(run)[0]
    horizon, window = run.config.horizon, run.config.window
    i = list(paths.origin_dates).index(origin)
    at = levels.index.get_loc(pd.Timestamp(origin))
    target_dates = levels.index[at + 1 : at + 1 + horizon]
    return {
        "history": levels.iloc[max(at + 1 - 3 * horizon, 0) : at + 1],
        "forecast": pd.Series(paths.forecast_paths[i], index=target_dates),
        "actual": pd.Series(paths.actual_paths[i], index=target_dates),
        "input_dates": [str(d.date()) for d in levels.index[at + 1 - window : at + 1]],
        "attention": paths.attention[i] if paths.attention is not None else None,
    }


def future_forecast(run: Run) -> pd.Series:
    """The forecast beyond the data's last date, on business days."""
    paths = run.paths
    return pd.Series(paths.future, index=pd.to_datetime(paths.future_dates))
