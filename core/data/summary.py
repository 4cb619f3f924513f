"""What the Data page says about a price series: summary statistics and stationarity."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.data.frames import log_returns


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


def kpss_test(series: pd.Series) -> dict:
    """KPSS test of level stationarity (statsmodels); its null is the opposite of ADF's:
    p < 0.05 says NOT stationary. statsmodels reads p from a table: 0.01 to 0.1 at most."""
    import warnings

    from statsmodels.tsa.stattools import kpss

    values = pd.Series(series).replace([np.inf, -np.inf], np.nan).dropna().to_numpy(dtype=float)
    if len(values) < 10 or np.ptp(values) == 0:
        return {"statistic": float("nan"), "pvalue": float("nan")}
    with warnings.catch_warnings():  # "p-value is outside the table": it is clipped, as said
        warnings.simplefilter("ignore")
        statistic, pvalue, *_ = kpss(values, regression="c", nlags="auto")
    return {"statistic": float(statistic), "pvalue": float(pvalue)}


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


def one_blas_thread():
    """A context in which numpy's BLAS uses one thread. statsmodels' tests (ADF, KPSS,
    Granger, ARIMA) run many small SVDs; with BLAS's threads fighting Streamlit's, Keras's or
    a browser's for two cores, each SVD waits on the others: on an 8,000-day series the
    stationarity table took 6-20 s on a busy 2-core machine, 0.8 s on one thread
    (bench_ui)."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(1, user_api="blas")


def stationarity_table(close: pd.Series) -> pd.DataFrame:
    """ADF results for the price, its first difference and its log return."""
    series = {
        "price": close,
        "first difference": close.diff(),
        "log return": log_returns(close),
    }
    rows = []
    with one_blas_thread():  # once for the table, not once per series
        results = {name: adf_test(values) for name, values in series.items()}
    for name, result in results.items():
        rows.append(
            {
                "series": name,
                "ADF statistic": result["statistic"],
                "p-value": result["pvalue"],
                "stationary (p < 0.05)": result["pvalue"] < 0.05,
            }
        )
    return pd.DataFrame(rows).set_index("series")
