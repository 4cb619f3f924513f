"""Metrics, the naive baseline, lag diagnostics, stationarity tests and summary statistics.

Every metric of a model is meant to be shown beside the same metric of naive persistence
(y_hat_t = y_{t-1}) on the same days.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.data.frames import log_returns

METRIC_NAMES = ["rmse", "mae", "mape", "mase", "directional_accuracy"]
LAGS = list(range(-5, 6))


# ---------------------------------------------------------------- data summaries


def summarize_prices(frame: pd.DataFrame) -> dict:
    """First/last date, rows, mean and sd of daily log returns, largest drawdown."""
    close = frame["close"]
    log_ret = log_returns(close).dropna()
    drawdown = close / close.cummax() - 1.0
    trough = drawdown.idxmin()
    return {
        "first_date": close.index[0].date(),
        "last_date": close.index[-1].date(),
        "rows": int(len(close)),
        "mean_log_return": float(log_ret.mean()),
        "std_log_return": float(log_ret.std()),
        "max_drawdown": float(drawdown.min()),
        "max_drawdown_date": trough.date(),
    }


def adf_test(series: pd.Series) -> dict:
    """Augmented Dickey-Fuller test (statsmodels); p < 0.05 suggests stationarity."""
    from statsmodels.tsa.stattools import adfuller

    values = pd.Series(series).replace([np.inf, -np.inf], np.nan).dropna().to_numpy(dtype=float)
    if len(values) < 10 or np.ptp(values) == 0:
        # A constant or tiny series has no defined test; say so rather than fail.
        return {"statistic": float("nan"), "pvalue": float("nan"), "lags": 0, "nobs": len(values)}
    result = adfuller(values, autolag="AIC", result_object=True)
    return {
        "statistic": float(result.statistic),
        "pvalue": float(result.pvalue),
        "lags": int(result.lags),
        "nobs": int(result.nobs),
    }


def stationarity_table(close: pd.Series) -> pd.DataFrame:
    """ADF results for the price, its first difference and its log return."""
    series = {
        "price": close,
        "first difference": close.diff(),
        "log return": log_returns(close),
    }
    rows = []
    for name, values in series.items():
        result = adf_test(values)
        rows.append(
            {
                "series": name,
                "ADF statistic": result["statistic"],
                "p-value": result["pvalue"],
                "stationary (p < 0.05)": result["pvalue"] < 0.05,
            }
        )
    return pd.DataFrame(rows).set_index("series")


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
    prev = np.asarray(previous, dtype=float)
    err = p - y
    mae = float(np.mean(np.abs(err)))
    pred_move = np.sign(p - prev)
    actual_move = np.sign(y - prev)
    directional = (
        float(np.mean(pred_move == actual_move)) if np.any(pred_move != 0) else float("nan")
    )
    return {
        "rmse": float(np.sqrt(np.mean(err**2))),
        "mae": mae,
        "mape": float(np.mean(np.abs(err / y)) * 100.0),
        "mase": mae / scale,
        "directional_accuracy": directional,
    }


def change_skill(actual: np.ndarray, predicted: np.ndarray, previous: np.ndarray) -> dict:
    """In change space: corr(predicted change, actual change) and directional accuracy."""
    pred_change = np.asarray(predicted, float) - np.asarray(previous, float)
    actual_change = np.asarray(actual, float) - np.asarray(previous, float)
    if np.std(pred_change) == 0 or np.std(actual_change) == 0:
        corr = float("nan")
    else:
        corr = float(np.corrcoef(pred_change, actual_change)[0, 1])
    return {
        "change_corr": corr,
        "change_directional_accuracy": float(
            np.mean(np.sign(pred_change) == np.sign(actual_change))
        ),
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
    """The lag k with the lowest RMSE of y_hat_t against y_{t-k}."""
    return int(diagnostic["rmse"].idxmin())


def shift_prediction(predicted: pd.Series, k: int) -> pd.Series:
    """The prediction moved k trading days along its own index (k = -1: one day earlier).

    A model that echoes yesterday (y_hat_t = y_{t-1}) lines up with the actual at k = -1.
    """
    return predicted.shift(k).dropna()


def metrics_table(
    actual: pd.Series, predicted: pd.Series, previous: pd.Series, scale: float
) -> pd.DataFrame:
    """Model beside naive persistence on the same days, one row each."""
    common = predicted.index.intersection(actual.index).intersection(previous.index)
    y, p, prev = actual[common], predicted[common], previous[common]
    rows = {
        "model": forecast_metrics(y, p, prev, scale),
        "naive (tomorrow = today)": forecast_metrics(y, prev, prev, scale),
    }
    return pd.DataFrame(rows).T[METRIC_NAMES]


def horizon_errors(actual_paths: np.ndarray, forecast_paths: np.ndarray) -> pd.DataFrame:
    """RMSE and MAE by horizon step for multi-step forecasts (origins x steps)."""
    err = np.asarray(forecast_paths, float) - np.asarray(actual_paths, float)
    steps = np.arange(1, err.shape[1] + 1)
    return pd.DataFrame(
        {"rmse": np.sqrt(np.nanmean(err**2, axis=0)), "mae": np.nanmean(np.abs(err), axis=0)},
        index=pd.Index(steps, name="step"),
    )


def lag_sentence(lag: int, diagnostic: pd.DataFrame) -> str:
    """One plain sentence on what the lag diagnostic says."""
    rmse0, rmse_best = diagnostic.loc[0, "rmse"], diagnostic.loc[lag, "rmse"]
    if lag == 0:
        return (
            f"The prediction is closest to the same day's actual price (RMSE {rmse0:.3f} at k = 0): "
            "it is not simply yesterday's price. Compare its MASE with naive to see if it adds skill."
        )
    if lag == 1:
        return (
            f"The prediction is closest to the actual price of the day before (RMSE {rmse_best:.3f} "
            f"at k = 1 vs {rmse0:.3f} at k = 0): the model mostly echoes yesterday's price. (A very "
            "smooth forecast of a noisy series can do this too; MASE and the change correlation tell.)"
        )
    direction = "earlier: it trails the market" if lag > 0 else "later"
    return f"The prediction lines up best with the actual price {abs(lag)} day(s) {direction} (k = {lag})."
