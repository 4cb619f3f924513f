"""Pure forecast metrics: errors beside naive, the Diebold-Mariano test, the lag
diagnostic and the verdict.

Every metric of a model is meant to be shown beside the same metric of naive persistence
(y_hat_t = y_{t-1}) on the same days. One sign convention for lags everywhere: k > 0 means
"the prediction matches the actual price of k days before".
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from core.forecasting.paths import ForecastPaths

METRIC_NAMES = ["rel_mae", "rmse", "mae", "mape", "mase", "directional_accuracy"]
LAGS = list(range(-5, 6))
# Shifted RMSEs within this share of the lowest are a tie (noise, not a different lag).
LAG_TIE_TOLERANCE = 0.01
# A move correlation this high is a peak worth naming (see best_lag).
MIN_PEAK_CORR = 0.1
SIGNIFICANCE = 0.05
# A predicted move smaller than this share of the price is no move (rounding, not a view).
MOVE_TOLERANCE = 1e-10
# "no better than naive" is what runs saved before the move test were called when they did not
# echo by the lag rule; new runs get "moves carry signal" instead (see verdict()).
VERDICTS = (
    "beats naive",
    "moves carry signal",
    "echoes yesterday",
    "no better than naive",
    "worse than naive",
)
POWER = 0.8  # the power at which detectable_rel_mae is stated


# ---------------------------------------------------------------- forecast metrics


def naive_scale(train_actual: np.ndarray) -> float:
    """In-sample MAE of the naive one-step forecast on the training part (MASE's denominator)."""
    train = np.asarray(train_actual, dtype=float)
    scale = float(np.mean(np.abs(np.diff(train))))
    return scale if scale > 0 else float("nan")


def in_sample_scale(levels: pd.Series, train_dates: tuple[str, str]) -> float:
    """MASE's denominator of a run: naive_scale of the target over its training dates."""
    start, end = train_dates
    return naive_scale(levels.loc[start:end].to_numpy())


def moves(predicted: np.ndarray, previous: np.ndarray) -> np.ndarray:
    """The sign of each predicted move from y_{t-1}; moves within rounding of zero (a
    random-walk ARIMA's 1e-14) count as no move."""
    change = np.asarray(predicted, float) - np.asarray(previous, float)
    tolerance = MOVE_TOLERANCE * np.abs(np.asarray(previous, float))
    return np.where(np.abs(change) <= tolerance, 0.0, np.sign(change))


def forecast_metrics(
    actual: np.ndarray, predicted: np.ndarray, previous: np.ndarray, scale: float
) -> dict:
    """rmse, mae, mape (%), mase (MAE / `scale`) and directional accuracy.

    `previous` is y_{t-1} for every target day; directional accuracy compares the sign of
    y_hat_t - y_{t-1} with the sign of y_t - y_{t-1}; a forecast of no change has no
    direction, so a forecast that never moves gets NaN rather than a misleading 0.
    """
    y = np.asarray(actual, dtype=float)
    p = np.asarray(predicted, dtype=float)
    err = p - y
    mae = float(np.mean(np.abs(err)))
    pred_move = moves(p, previous)
    directional = (
        float(np.mean(pred_move == np.sign(y - np.asarray(previous, float))))
        if np.any(pred_move != 0)
        else float("nan")
    )
    return {
        "rmse": float(np.sqrt(np.mean(err**2))),
        "mae": mae,
        "mape": float(np.mean(np.abs(err / y)) * 100.0),
        "mase": mae / scale,
        "directional_accuracy": directional,
        "up_share": float(np.mean(pred_move > 0)),
    }


# The move test's volatility estimate: RiskMetrics' EWMA of squared actual moves, from
# earlier days only, started on the first MOVE_BURN_IN days' mean square (those days are
# left out of the test).
EWMA_LAMBDA = 0.94
MOVE_BURN_IN = 20


def prior_volatility(moves: np.ndarray, burn_in: int) -> np.ndarray:
    """Each day's volatility estimate from the days before it only (NaN in the burn-in)."""
    moves = np.asarray(moves, float)
    out = np.full(len(moves), np.nan)
    variance = float(np.mean(moves[:burn_in] ** 2))
    for t in range(burn_in, len(moves)):
        out[t] = np.sqrt(variance)
        variance = EWMA_LAMBDA * variance + (1 - EWMA_LAMBDA) * moves[t] ** 2
    return out


def move_test(actual: np.ndarray, predicted: np.ndarray, previous: np.ndarray) -> dict:
    """Do the predicted moves (y_hat_t - y_{t-1}) carry information about the actual moves
    (y_t - y_{t-1})? Two one-sided tests on moves scaled by a volatility estimate made from
    earlier days only (so a crash's few days cannot decide), both required at 5 %:
    - the regression of scaled actual on scaled predicted moves, its slope's t statistic
      with Newey-West (HAC) standard errors (statsmodels), robust to the volatility
      clustering and the dependence a forecast built from past prices carries;
    - the weighted sign test: sum of w_t sign(actual move) with w_t the scaled predicted
      move, over the root of sum w_t^2; exact in variance whenever a move's sign is a fair
      coin given the past, however fat its tails.
    move_pvalue is the larger of the two p-values; move_corr is the plain correlation of the
    moves (a description, not the test). A forecast that never moves carries none (NaN);
    so does a test part too short for the burn-in (benchmarks/bench_calibration.py measures
    the rates on GARCH-t walks with and without a volatility burst)."""
    pred = np.asarray(predicted, float) - np.asarray(previous, float)
    actual_move = np.asarray(actual, float) - np.asarray(previous, float)
    n = len(pred)
    none = {
        "move_corr": float("nan"),
        "move_pvalue": float("nan"),
        "move_hac_pvalue": float("nan"),
        "move_sign_pvalue": float("nan"),
    }
    burn_in = min(MOVE_BURN_IN, max(5, n // 10))
    if (
        n - burn_in < 10
        or not np.any(moves(predicted, previous))
        or min(np.std(pred), np.std(actual_move)) == 0
    ):
        return none
    r = float(np.clip(np.corrcoef(pred, actual_move)[0, 1], -1.0, 1.0))
    sigma = prior_volatility(actual_move, burn_in)[burn_in:]
    if not np.all(sigma > 0):
        return none | {"move_corr": r}
    y, x = actual_move[burn_in:] / sigma, pred[burn_in:] / sigma
    if np.std(x) == 0:
        return none | {"move_corr": r}
    hac = _hac_slope_pvalue(y, x)
    signs = np.sign(y)
    weight = np.sum(x[signs != 0] ** 2)
    z = np.sum(x * signs) / np.sqrt(weight) if weight > 0 else float("nan")
    sign_p = float(special.ndtr(-z)) if np.isfinite(z) else float("nan")
    return {
        "move_corr": r,
        "move_pvalue": float(max(hac, sign_p)),
        "move_hac_pvalue": hac,
        "move_sign_pvalue": sign_p,
    }


def _hac_slope_pvalue(y: np.ndarray, x: np.ndarray) -> float:
    """One-sided p-value of a positive slope of y on x, Newey-West standard errors with
    floor(4 (n / 100)^(2/9)) lags."""
    import statsmodels.api as sm

    lags = int(np.floor(4 * (len(y) / 100) ** (2 / 9)))
    fit = sm.OLS(y, sm.add_constant(x)).fit(cov_type="HAC", cov_kwds={"maxlags": lags})
    return float(special.ndtr(-fit.tvalues[1]))


def move_sizes(actual: np.ndarray, predicted: np.ndarray, previous: np.ndarray) -> dict:
    """The forecast split into yesterday's price and a move: how large its predicted moves
    (y_hat_t - y_{t-1}) are beside the actual moves (standard deviations, and their ratio).
    An echo's moves are a few percent of the real ones."""
    pred = np.asarray(predicted, float) - np.asarray(previous, float)
    real = np.asarray(actual, float) - np.asarray(previous, float)
    predicted_sd, actual_sd = float(np.std(pred)), float(np.std(real))
    ratio = predicted_sd / actual_sd if actual_sd > 0 else float("nan")
    return {"predicted_sd": predicted_sd, "actual_sd": actual_sd, "ratio": ratio}


TRADE_COST_BP = 5.0  # the long/flat illustration's cost per trade, in basis points


def return_scores(
    actual: np.ndarray, predicted: np.ndarray, previous: np.ndarray, cost_bp: float = TRADE_COST_BP
) -> dict:
    """The forecast on the scale a trader reads, log returns (prices must be positive; {}
    otherwise): the MAE of the predicted return log(y_hat / y_prev) against the actual one,
    beside naive's (a zero return); the hit rate on the days it predicts a move, with its
    Wilson 95 % interval; and, as an illustration, a long/flat rule (long the next day when
    it predicts a rise) after `cost_bp` a trade against buying and holding."""
    from statsmodels.stats.proportion import proportion_confint

    y, p, prev = (np.asarray(a, float) for a in (actual, predicted, previous))
    if len(y) == 0 or not (np.all(y > 0) and np.all(p > 0) and np.all(prev > 0)):
        return {}
    actual_r, predicted_r = np.log(y / prev), np.log(p / prev)
    says = moves(p, prev)
    days = int(np.count_nonzero(says))
    hits = int(np.count_nonzero((says != 0) & (says == np.sign(actual_r))))
    low, high = proportion_confint(hits, days, 0.05, "wilson") if days else (np.nan, np.nan)
    position = (says > 0).astype(float)
    trades = np.abs(np.diff(np.r_[0.0, position])).sum()
    strategy = float(np.sum(position * actual_r) - trades * cost_bp / 1e4)
    buy_hold = float(np.sum(actual_r) - cost_bp / 1e4)
    return {
        "mae": float(np.mean(np.abs(predicted_r - actual_r))),
        "naive_mae": float(np.mean(np.abs(actual_r))),
        "hit_rate": hits / days if days else float("nan"),
        "hit_rate_ci": [float(low), float(high)],
        "hit_days": days,
        "strategy_return": float(np.expm1(strategy)),
        "buy_hold_return": float(np.expm1(buy_hold)),
        "trades": int(trades),
        "cost_bp": cost_bp,
    }


def change_skill(actual: np.ndarray, predicted: np.ndarray, previous: np.ndarray) -> dict:
    """In change space: corr(predicted change, actual change) and directional accuracy."""
    pred_change = np.asarray(predicted, float) - np.asarray(previous, float)
    actual_change = np.asarray(actual, float) - np.asarray(previous, float)
    if (
        not np.any(moves(predicted, previous))
        or min(np.std(pred_change), np.std(actual_change)) == 0
    ):
        corr = float("nan")
    else:
        corr = float(np.corrcoef(pred_change, actual_change)[0, 1])
    return {
        "change_corr": corr,
        "change_directional_accuracy": forecast_metrics(actual, predicted, previous, 1.0)[
            "directional_accuracy"
        ],
    }


# ---------------------------------------------------------------- lag diagnostics


def lag_diagnostic(actual: pd.Series, predicted: pd.Series, lags=LAGS) -> pd.DataFrame:
    """For k in lags: corr(y_hat_t - y_hat_{t-1}, y_{t-k} - y_{t-k-1}) and RMSE(y_hat_t, y_{t-k}).

    `actual` is the whole date-indexed series (so y_{t-k} exists around the test period),
    `predicted` the predictions indexed by their target dates. A model that echoes
    yesterday's price is best at k = 1, one with real skill at k = 0.
    """
    actual = actual.astype(float)
    pred = predicted.astype(float)
    pred_moves = pred.diff()
    actual_moves = actual.diff()
    rows = []
    for k in lags:
        shifted = actual.shift(k).reindex(pred.index)
        shifted_moves = actual_moves.shift(k).reindex(pred.index)
        both = pd.concat([pred_moves, shifted_moves], axis=1).dropna()
        corr = both.iloc[:, 0].corr(both.iloc[:, 1]) if len(both) > 2 else float("nan")
        ok = shifted.notna()
        rmse = float(np.sqrt(np.mean((pred[ok] - shifted[ok]) ** 2))) if ok.any() else float("nan")
        rows.append({"lag": k, "move_corr": float(corr), "rmse": rmse})
    return pd.DataFrame(rows).set_index("lag")


def best_lag(diagnostic: pd.DataFrame) -> int:
    """The one best lag: the k whose shifted RMSE of y_hat_t against y_{t-k} is lowest,
    robust to ties and edges.

    - A flat curve (every lag within LAG_TIE_TOLERANCE of the lowest) identifies no lag:
      0, and lag_sentence says that no day lines up.
    - A lowest RMSE at the edge of the range (|k| = 5) means the curve is still falling
      there: a level bias in a trend, not a 5-day lag. The peak of the move correlation,
      which a level bias does not move, decides instead if it is a real peak (at least
      MIN_PEAK_CORR); if not, the tie rule below does.
    - Otherwise lags within LAG_TIE_TOLERANCE of the lowest RMSE are tied and the tied lag
      nearest 0 wins, so an echo within noise of k = 1 is called 1.
    """
    rmse = diagnostic["rmse"].dropna()
    if rmse.empty:
        return 0
    tied = rmse[rmse <= rmse.min() * (1 + LAG_TIE_TOLERANCE)]
    if len(tied) == len(rmse):
        return 0
    corr = diagnostic["move_corr"].dropna()
    at_edge = abs(rmse.idxmin()) == max(abs(k) for k in rmse.index)
    if at_edge and not corr.empty and corr.max() >= MIN_PEAK_CORR:
        return int(corr.idxmax())
    return int(min(tied.index, key=lambda k: (abs(k), -k)))


def shift_prediction(predicted: pd.Series, k: int) -> pd.Series:
    """The prediction lined up with the actual price k trading days before its target day
    (each value moved k days earlier). An echo of yesterday (y_hat_t = y_{t-1}) lines up
    exactly at k = 1. For k != 0 this is look-ahead, not a forecast."""
    return predicted.shift(-k).dropna()


def relative_mae(actual, predicted, naive) -> float:
    """MAE of the prediction / MAE of naive on the same days (naive: 1 by construction)."""
    y = np.asarray(actual, float)
    naive_mae = np.mean(np.abs(np.asarray(naive, float) - y))
    return float(np.mean(np.abs(np.asarray(predicted, float) - y)) / naive_mae)


def metrics_table(
    actual: pd.Series,
    predicted: pd.Series,
    previous: pd.Series,
    scale: float,
    label: str = "model",
) -> pd.DataFrame:
    """The prediction beside naive persistence on the same days, one row each."""
    common = predicted.index.intersection(actual.index).intersection(previous.index)
    y, p, prev = actual[common], predicted[common], previous[common]
    rows = {
        label: {**forecast_metrics(y, p, prev, scale), "rel_mae": relative_mae(y, p, prev)},
        "naive (tomorrow = today)": {**forecast_metrics(y, prev, prev, scale), "rel_mae": 1.0},
    }
    return pd.DataFrame(rows).T[METRIC_NAMES]


# ---------------------------------------------------------------- against naive: the verdict


def diebold_mariano(
    errors_a: np.ndarray, errors_b: np.ndarray, h: int = 1, loss: str = "absolute"
) -> dict:
    """Diebold-Mariano test of equal accuracy, with the Harvey-Leybourne-Newbold
    small-sample correction. d_t = L(e_a,t) - L(e_b,t); its variance allows for the
    autocorrelation of h-step forecast errors (lags < h). `stat` < 0: a is more accurate.
    Two-sided p-value from Student's t with n - 1 degrees of freedom."""
    ea, eb = np.asarray(errors_a, float), np.asarray(errors_b, float)
    fn = np.abs if loss == "absolute" else np.square
    d = fn(ea) - fn(eb)
    if d.ndim > 1:  # several steps per origin: the origin's mean loss
        d = d.mean(axis=1)
    return diebold_mariano_losses(d, h, scale=float(np.mean(fn(eb))))


def diebold_mariano_losses(d: np.ndarray, h: int = 1, scale: float | None = None) -> dict:
    """The Diebold-Mariano test on loss differences d_t = L_a,t - L_b,t, whatever the loss
    (QLIKE for volatility: core/forecasting/volatility.py). `scale`: the reference's mean
    loss, below which (1e-12 of it) every difference counts as none: the same forecasts."""
    d = np.asarray(d, float)
    n = len(d)
    scale = float(np.mean(np.abs(d))) if scale is None else scale
    if n >= 3 and np.all(np.abs(d) <= 1e-12 * scale):  # the same forecasts
        return {"stat": 0.0, "pvalue": 1.0, "se": float("nan")}
    centred = d - d.mean()
    gamma = [np.sum(centred[k:] * centred[: n - k]) / n for k in range(min(h, n))]
    variance = (gamma[0] + 2 * sum(gamma[1:])) / n
    if n < 3 or not variance > 0:
        return {"stat": float("nan"), "pvalue": float("nan"), "se": float("nan")}
    correction = np.sqrt((n + 1 - 2 * h + h * (h - 1) / n) / n)
    se = float(np.sqrt(variance) / correction)  # the standard error the statistic divides by
    stat = float(d.mean() / se)
    # Student's t CDF from scipy.special: scipy.stats' t.sf, without its 0.5-1 s import.
    return {"stat": stat, "pvalue": float(2 * special.stdtr(n - 1, -abs(stat))), "se": se}


def detectable_difference(se: float, n: int, power: float = POWER) -> float:
    """The smallest mean loss difference the two-sided DM test at 5 % finds with `power`
    on these days: (t_0.975 + t_power) x its standard error."""
    if not np.isfinite(se) or n < 3:
        return float("nan")
    return float(
        (special.stdtrit(n - 1, 1 - SIGNIFICANCE / 2) + special.stdtrit(n - 1, power)) * se
    )


def skill_against_naive(actual_paths, forecast_paths, naive_paths) -> dict:
    """rel_mae and the DM test of a forecast against naive on the same targets (origins x
    H steps; H = 1 for one-step models): every step of every path counts."""
    y = np.asarray(actual_paths, float)
    model_err = np.asarray(forecast_paths, float) - y
    naive_err = np.asarray(naive_paths, float) - y
    dm = diebold_mariano(model_err, naive_err, h=y.shape[1] if y.ndim > 1 else 1)
    naive_mae = float(np.mean(np.abs(naive_err)))
    rel = float(np.mean(np.abs(model_err)) / naive_mae)
    detectable = detectable_difference(dm["se"], len(y)) / naive_mae
    return {
        "rel_mae": rel,
        "dm_stat": dm["stat"],
        "dm_pvalue": dm["pvalue"],
        "detectable_rel_mae": detectable,  # the smallest |rel_mae - 1| found at 80 % power
        "test_days": int(len(y)),
    }


def verdict(rel_mae: float, dm_stat: float, dm_pvalue: float, move_pvalue: float) -> str:
    """One of VERDICTS. "Beats naive" needs the DM test at 5 % and a relative MAE below 1;
    significantly larger errors are "worse than naive". Otherwise the predicted moves decide,
    not the lag peak (which every forecast anchored on yesterday's price has, an echo or weak
    skill alike): moves that carry information about the actual moves (move_test at 5 %) are
    "moves carry signal", moves that carry none "echoes yesterday"."""
    significant = bool(np.isfinite(dm_pvalue) and dm_pvalue < SIGNIFICANCE)
    if significant and dm_stat < 0 and rel_mae < 1:
        return "beats naive"
    if significant and dm_stat > 0:
        return "worse than naive"
    informative = bool(np.isfinite(move_pvalue) and move_pvalue < SIGNIFICANCE)
    return "moves carry signal" if informative else "echoes yesterday"


def horizon_errors(actual_paths: np.ndarray, forecast_paths: np.ndarray) -> pd.DataFrame:
    """RMSE and MAE by horizon step for multi-step forecasts (origins x steps)."""
    err = np.asarray(forecast_paths, float) - np.asarray(actual_paths, float)
    steps = np.arange(1, err.shape[1] + 1)
    return pd.DataFrame(
        {"rmse": np.sqrt(np.nanmean(err**2, axis=0)), "mae": np.nanmean(np.abs(err), axis=0)},
        index=pd.Index(steps, name="step"),
    )


def score_paths(
    levels: pd.Series,
    target_dates: pd.Index,
    actual_paths: np.ndarray,
    paths: np.ndarray,
    previous: np.ndarray,
    scale: float,
) -> dict:
    """Every metric of one forecaster, model or baseline, on the test days: step-1 errors
    (MASE against the training part's naive scale), its best lag, its change skill, the
    share of days it says "up", relative MAE and the DM test against naive over every step
    of every path, and its verdict."""
    y, p = np.asarray(actual_paths, float)[:, 0], np.asarray(paths, float)[:, 0]
    metrics = forecast_metrics(y, p, previous, scale)
    metrics["best_lag"] = best_lag(lag_diagnostic(levels, pd.Series(p, index=target_dates)))
    metrics.update(change_skill(y, p, previous))
    metrics.update(move_test(y, p, previous))
    naive_paths = np.repeat(np.asarray(previous, float)[:, None], np.shape(paths)[1], axis=1)
    metrics.update(skill_against_naive(actual_paths, paths, naive_paths))
    metrics["verdict"] = verdict(
        metrics["rel_mae"], metrics["dm_stat"], metrics["dm_pvalue"], metrics["move_pvalue"]
    )
    return metrics


def score_forecast(
    levels: pd.Series,
    predictions: pd.DataFrame,
    paths: ForecastPaths,
    train_dates: tuple[str, str],
) -> tuple[dict, dict, str]:
    """Metrics of the model and of naive persistence on the same test days, and the model's
    verdict against naive (relative MAE and the DM test over every step of every path)."""
    scale = in_sample_scale(levels, train_dates)
    prev = predictions["naive"].to_numpy()
    metrics = score_paths(
        levels, predictions.index, paths.actual_paths, paths.forecast_paths, prev, scale
    )
    run_verdict = metrics.pop("verdict")
    y = predictions["actual"].to_numpy()
    naive = forecast_metrics(y, prev, prev, scale)
    naive["rel_mae"] = 1.0
    naive["best_lag"] = best_lag(lag_diagnostic(levels, predictions["naive"]))
    return metrics, naive, run_verdict


def origin_positions(levels: pd.Series, origin_dates) -> np.ndarray:
    """Positions in the target series of forecast origins (their last known day)."""
    return levels.index.get_indexer(pd.to_datetime(np.asarray(origin_dates)))


def run_positions(levels: pd.Series, paths: ForecastPaths) -> dict[str, np.ndarray]:
    """Where a run's validation and test origins sit in its target series."""
    return {
        "val": origin_positions(levels, paths.val_origin_dates),
        "test": origin_positions(levels, paths.origin_dates),
    }


# Below this many pairs even a unanimous result cannot reach p < 0.05 (two-sided Wilcoxon).
MIN_PAIRS = 6
